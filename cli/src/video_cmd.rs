//! Video in `lic encode` and `lic decode`: YUV4MPEG2 in, Y4M or numbered image frames out,
//! streamed frame by frame (also through pipes).

use std::io::{BufRead, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use lic_codec::container::{Chroma, ColorMatrix, ColorRange, FrameKind, VideoInfo};
use lic_codec::video::default_intra_period;
use lic_codec::video::y4m::{Y4mHeader, Y4mReader, Y4mWriter};
use lic_codec::video::yuv::YuvFrame;
use lic_codec::{ImageFormat, Limits, Model, VideoDecoder, VideoEncoder};

use crate::io::{StreamOutput, write_output};

/// Whether a stream starts as YUV4MPEG2.
pub fn is_y4m(start: &[u8]) -> bool {
    start.starts_with(b"YUV4MPEG2 ")
}

/// `--matrix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MatrixArg {
    /// ITU-R BT.601 (standard definition).
    Bt601,
    /// ITU-R BT.709 (high definition).
    Bt709,
}

/// `--range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RangeArg {
    /// Y' 16-235, Cb/Cr 16-240.
    Limited,
    /// 0-255.
    Full,
}

/// The colour interpretation of a Y4M input: the options, else what the stream says, else
/// the usual convention (limited range; BT.709 from 720 lines up, BT.601 below), printed.
fn colours(
    h: &Y4mHeader,
    matrix: Option<MatrixArg>,
    range: Option<RangeArg>,
) -> (ColorMatrix, ColorRange) {
    let matrix = match matrix {
        Some(MatrixArg::Bt601) => ColorMatrix::Bt601,
        Some(MatrixArg::Bt709) => ColorMatrix::Bt709,
        None => {
            let m = h.assumed_matrix();
            eprintln!(
                "lic: the Y4M input does not name its matrix; assuming {m:?} for {} lines \
                 (--matrix to choose)",
                h.height
            );
            m
        }
    };
    let range = match (range, h.range) {
        (Some(RangeArg::Limited), _) => ColorRange::Limited,
        (Some(RangeArg::Full), _) => ColorRange::Full,
        (None, Some(r)) => r,
        (None, None) => {
            eprintln!(
                "lic: the Y4M input does not name its range; assuming limited (--range to \
                 choose)"
            );
            h.range_or_assumed()
        }
    };
    (matrix, range)
}

/// Encodes a Y4M stream into a `.lic` video, frame by frame.
pub fn encode_y4m(
    input: Box<dyn BufRead>,
    output: &Path,
    force: bool,
    model: &Model,
    q: f32,
    (matrix, range): (Option<MatrixArg>, Option<RangeArg>),
    intra_period: Option<u32>,
) -> Result<()> {
    let mut y4m = Y4mReader::new(input, &Limits::default()).context("cannot read the Y4M input")?;
    let h = y4m.header().clone();
    let (matrix, range) = colours(&h, matrix, range);
    let intra_period = match intra_period {
        Some(p) => p,
        None if model.temporal_fingerprint().is_some() => default_intra_period(h.frame_rate),
        None => 1,
    };
    let info = VideoInfo {
        frame_rate: h.frame_rate,
        chroma: h.chroma,
        matrix,
        range,
        intra_period,
        // Set by the encoder from the model.
        temporal: None,
    };
    let out = StreamOutput::create(output, force)?;
    let mut enc = VideoEncoder::new(model, out, (h.width, h.height), q, info)?;
    let t = Instant::now();
    let mut inter = 0;
    while let Some(frame) = y4m.next_frame().context("cannot read the Y4M input")? {
        let stats = enc
            .encode(&frame.to_image(matrix, range))
            .context("encoding failed")?;
        inter += u64::from(stats.kind == FrameKind::Inter);
    }
    let frames = enc.frames();
    let bytes = enc.bytes();
    enc.finish()?.commit()?;
    let secs = t.elapsed().as_secs_f64();
    let pixels = f64::from(h.width) * f64::from(h.height) * frames.max(1) as f64;
    eprintln!(
        "{} x {}  {frames} frames ({} intra, {inter} inter, intra period {intra_period}) at \
         {:.3} fps  q {q}  {bytes} bytes  {:.4} bpp  {:.2} frames/s",
        h.width,
        h.height,
        frames - inter,
        f64::from(h.frame_rate.0) / f64::from(h.frame_rate.1),
        8.0 * bytes as f64 / pixels,
        frames as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// Parses `--frames`: `A..B` (B excluded), `A..=B`, `A..`, `..B` or one index `A`.
pub fn parse_frames(s: &str) -> Result<Range<u64>, String> {
    let num = |t: &str| -> Result<u64, String> {
        t.trim()
            .parse()
            .map_err(|_| format!("`{t}` is not a frame index"))
    };
    let range = if let Some((a, b)) = s.split_once("..=") {
        let a = if a.is_empty() { 0 } else { num(a)? };
        a..num(b)?.saturating_add(1)
    } else if let Some((a, b)) = s.split_once("..") {
        let a = if a.is_empty() { 0 } else { num(a)? };
        a..if b.is_empty() { u64::MAX } else { num(b)? }
    } else {
        let a = num(s)?;
        a..a + 1
    };
    if range.is_empty() {
        return Err(format!("{s} selects no frame"));
    }
    Ok(range)
}

/// Where decoded frames go.
pub enum FrameSink {
    /// A Y4M stream (a file or standard output).
    Y4m(PathBuf),
    /// Numbered image files from a printf-style pattern (`frames-%04d.png`).
    Images(PathBuf, ImageFormat),
}

impl FrameSink {
    /// The sink `path` names: `.y4m` or `-`, or a pattern with `%d`/`%0Nd`.
    pub fn for_path(path: &Path) -> Result<Self> {
        let s = path.to_string_lossy();
        if s == "-" || s.ends_with(".y4m") {
            return Ok(Self::Y4m(path.to_path_buf()));
        }
        if pattern_width(&s).is_some() {
            return match ImageFormat::from_path(path) {
                Ok(
                    f
                    @ (ImageFormat::Png | ImageFormat::Pnm | ImageFormat::Bmp | ImageFormat::Tiff),
                ) => Ok(Self::Images(path.to_path_buf(), f)),
                _ => bail!("frames are written as .png, .ppm, .bmp or .tiff: {s}"),
            };
        }
        bail!(
            "a video decodes to .y4m (or `-`), or to numbered images with a pattern such as \
             frames-%04d.png; not {s}"
        )
    }
}

/// The digits of a `%d` / `%0Nd` pattern (0 for plain `%d`), if the name has one.
fn pattern_width(s: &str) -> Option<usize> {
    let i = s.find('%')?;
    let rest = &s[i + 1..];
    let d = rest.find('d')?;
    let spec = &rest[..d];
    if spec.is_empty() {
        Some(0)
    } else if spec.starts_with('0') && spec.len() <= 3 {
        spec.parse().ok()
    } else {
        None
    }
}

fn frame_path(pattern: &Path, index: u64) -> PathBuf {
    let s = pattern.to_string_lossy();
    let i = s.find('%').unwrap_or(0);
    let d = s[i..].find('d').map_or(i, |d| i + d);
    let width = pattern_width(&s).unwrap_or(0);
    PathBuf::from(format!("{}{index:0width$}{}", &s[..i], &s[d + 1..]))
}

/// Decodes frames from `*index` up to `end` (or the clip's end), handing each to `write`
/// and counting it in `*index`. A decode error stops the loop and is returned inside `Ok`,
/// after the frames before it were written; a write error is returned at once.
fn decode_into<R: Read>(
    dec: &mut VideoDecoder<'_, R>,
    index: &mut u64,
    end: u64,
    mut write: impl FnMut(u64, &lic_codec::Image) -> Result<()>,
) -> Result<Result<(), lic_codec::Error>> {
    while *index < end {
        match dec.next_frame() {
            Ok(Some(img)) => {
                write(*index, &img)?;
                *index += 1;
            }
            Ok(None) => break,
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(()))
}

/// Decodes the frames `frames` of a video to `sink`, each as soon as it is decoded. A
/// damaged frame ends the decode with an error naming it; the frames before it are written.
pub fn decode_video<R: Read>(
    mut dec: VideoDecoder<'_, R>,
    info: VideoInfo,
    sink: &FrameSink,
    frames: Range<u64>,
    force: bool,
) -> Result<()> {
    let h = dec.header().clone();
    dec.skip_to(frames.start)?;
    let mut index = frames.start;
    let t = Instant::now();
    let result = match sink {
        FrameSink::Y4m(path) => {
            let chroma = match info.chroma {
                Chroma::Rgb => Chroma::Yuv444,
                c => c,
            };
            let out = StreamOutput::create(path, force)?;
            let header = Y4mHeader {
                width: h.width,
                height: h.height,
                frame_rate: info.frame_rate,
                chroma,
                range: Some(info.range),
            };
            let mut w = Y4mWriter::new(out, header)?;
            let result = decode_into(&mut dec, &mut index, frames.end, |_, img| {
                Ok(w.write_frame(&YuvFrame::from_image(img, chroma, info.matrix, info.range)?)?)
            })?;
            // What was decoded is kept, even before an error.
            w.finish()?.commit()?;
            result
        }
        FrameSink::Images(pattern, format) => {
            decode_into(&mut dec, &mut index, frames.end, |i, img| {
                write_output(&frame_path(pattern, i), &img.to_format(*format)?, force)
            })?
        }
    };
    let written = index - frames.start.min(index);
    result.with_context(|| format!("decoding stopped after {written} frame(s)"))?;
    if written == 0 {
        bail!(
            "the clip has {} frame(s): none in {}..{}",
            dec.frames_read(),
            frames.start,
            frames.end
        );
    }
    eprintln!(
        "{written} frames decoded, {:.2} frames/s",
        written as f64 / t.elapsed().as_secs_f64().max(1e-9)
    );
    Ok(())
}
