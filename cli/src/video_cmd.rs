//! Video in `lic encode` and `lic decode`: YUV4MPEG2, raw planes or (feature `ffmpeg`) any
//! file FFmpeg reads in; Y4M, numbered image frames or (feature `ffmpeg`) lossless FFV1 in
//! Matroska out; streamed frame by frame (Y4M also through pipes).

use std::io::{BufRead, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use lic_codec::container::{Chroma, ColorMatrix, ColorRange, FrameKind, VideoInfo};
use lic_codec::video::y4m::{Y4mHeader, Y4mReader, Y4mWriter};
use lic_codec::video::yuv::{YuvFrame, assumed_matrix};
use lic_codec::video::{SourceInfo, default_intra_period};
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

/// `--pix-fmt` of raw `.yuv` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RawFormat {
    /// Planar 4:2:0 (FFmpeg's yuv420p, also called I420).
    Yuv420p,
    /// Planar 4:2:2.
    Yuv422p,
    /// Planar 4:4:4.
    Yuv444p,
}

/// Parses `WxH`.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("`{s}` is not WIDTHxHEIGHT"))?;
    let side = |t: &str| -> Result<u32, String> {
        match t.trim().parse() {
            Ok(v) if v > 0 => Ok(v),
            _ => Err(format!("`{t}` is not a positive number of pixels")),
        }
    };
    Ok((side(w)?, side(h)?))
}

/// Parses a frame rate: `30`, `29.97` or `30000/1001`.
pub fn parse_fps(s: &str) -> Result<(u32, u32), String> {
    let err = || format!("`{s}` is not a frame rate (30, 29.97 or 30000/1001)");
    let (num, den) = if let Some((n, d)) = s.split_once(['/', ':']) {
        (
            n.trim().parse::<u32>().map_err(|_| err())?,
            d.trim().parse::<u32>().map_err(|_| err())?,
        )
    } else {
        let v: f64 = s.trim().parse().map_err(|_| err())?;
        if !(v.is_finite() && v > 0.0 && v <= 1e6) {
            return Err(err());
        }
        // Three decimals are enough for every rate in use (29.97, 23.976, 59.94).
        let num = (v * 1000.0).round() as u32;
        (num, 1000)
    };
    if num == 0 || den == 0 {
        return Err(err());
    }
    let g = gcd(num, den);
    Ok((num / g, den / g))
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A clip being read: YUV4MPEG2, raw planes, or (with the `ffmpeg` feature) any video file
/// FFmpeg reads.
pub enum ClipReader {
    /// Y4M, or raw planes described by the options.
    Y4m {
        /// The reader.
        reader: Y4mReader<Box<dyn BufRead>>,
        /// What to call the input in messages (`Y4M`, `raw`).
        what: &'static str,
    },
    /// Through FFmpeg's libraries.
    #[cfg(feature = "ffmpeg")]
    Ffmpeg(Box<lic_codec::video::ffmpeg::FfmpegReader>),
}

impl ClipReader {
    /// A Y4M stream.
    pub fn y4m(input: Box<dyn BufRead>) -> Result<Self> {
        let reader =
            Y4mReader::new(input, &Limits::default()).context("cannot read the Y4M input")?;
        Ok(Self::Y4m {
            reader,
            what: "Y4M",
        })
    }

    /// Raw planes of `size` pixels in `format` (`fps` frames per second).
    pub fn raw(
        input: Box<dyn BufRead>,
        size: (u32, u32),
        format: RawFormat,
        fps: (u32, u32),
    ) -> Result<Self> {
        let header = Y4mHeader {
            width: size.0,
            height: size.1,
            frame_rate: fps,
            chroma: match format {
                RawFormat::Yuv420p => Chroma::Yuv420,
                RawFormat::Yuv422p => Chroma::Yuv422,
                RawFormat::Yuv444p => Chroma::Yuv444,
            },
            range: None,
        };
        let reader = Y4mReader::raw(input, header, &Limits::default())
            .context("cannot read the raw input")?;
        Ok(Self::Y4m {
            reader,
            what: "raw",
        })
    }

    /// A video file FFmpeg reads.
    #[cfg(feature = "ffmpeg")]
    pub fn ffmpeg(path: &Path) -> Result<Self> {
        let reader = lic_codec::video::ffmpeg::FfmpegReader::open(path, &Limits::default())?;
        Ok(Self::Ffmpeg(Box::new(reader)))
    }

    fn declared(&self) -> SourceInfo {
        match self {
            Self::Y4m { reader, what } => reader.header().source_info(what),
            #[cfg(feature = "ffmpeg")]
            Self::Ffmpeg(reader) => reader.info().clone(),
        }
    }

    fn next_image(
        &mut self,
        (matrix, range): (ColorMatrix, ColorRange),
    ) -> Result<Option<lic_codec::Image>> {
        match self {
            Self::Y4m { reader, what } => Ok(reader
                .next_frame()
                .with_context(|| format!("cannot read the {what} input"))?
                .map(|f| f.to_image(matrix, range))),
            #[cfg(feature = "ffmpeg")]
            Self::Ffmpeg(reader) => Ok(reader
                .next_frame()
                .context("cannot read the input")?
                .map(|f| f.to_image(matrix, range))),
        }
    }
}

/// The colour interpretation of a clip: the options, else what the input says, else the
/// usual convention (limited range; BT.709 from 720 lines up, BT.601 below), printed. RGB
/// input needs none (the values returned then only serve a Y'CbCr output).
fn colours(
    d: &SourceInfo,
    matrix: Option<MatrixArg>,
    range: Option<RangeArg>,
) -> (ColorMatrix, ColorRange) {
    let rgb = d.chroma == Chroma::Rgb;
    let matrix = match (matrix, d.matrix) {
        (Some(MatrixArg::Bt601), _) => ColorMatrix::Bt601,
        (Some(MatrixArg::Bt709), _) => ColorMatrix::Bt709,
        (None, Some(m)) => m,
        (None, None) => {
            let m = assumed_matrix(d.height);
            if !rgb {
                let said = match &d.other_matrix {
                    Some(name) => format!("declares matrix {name}, which lic does not convert"),
                    None => "does not name its matrix".into(),
                };
                eprintln!(
                    "lic: the {} input {said}; assuming {m:?} for {} lines (--matrix to choose)",
                    d.what, d.height
                );
            }
            m
        }
    };
    let range = match (range, d.range) {
        (Some(RangeArg::Limited), _) => ColorRange::Limited,
        (Some(RangeArg::Full), _) => ColorRange::Full,
        (None, Some(r)) => r,
        (None, None) => {
            if !rgb {
                eprintln!(
                    "lic: the {} input does not name its range; assuming limited (--range to \
                     choose)",
                    d.what
                );
            }
            ColorRange::Limited
        }
    };
    (matrix, range)
}

/// Encodes a clip into a `.lic` video, frame by frame.
#[allow(clippy::too_many_arguments)]
pub fn encode_clip(
    mut clip: ClipReader,
    output: &Path,
    force: bool,
    model: &Model,
    q: f32,
    (matrix, range): (Option<MatrixArg>, Option<RangeArg>),
    intra_period: Option<u32>,
    fps: Option<(u32, u32)>,
) -> Result<()> {
    let d = clip.declared();
    let colours = colours(&d, matrix, range);
    let frame_rate = fps.unwrap_or(d.frame_rate);
    let intra_period = match intra_period {
        Some(p) => p,
        None if model.temporal_fingerprint().is_some() => default_intra_period(frame_rate),
        None => 1,
    };
    let info = VideoInfo {
        frame_rate,
        chroma: d.chroma,
        matrix: colours.0,
        range: colours.1,
        intra_period,
        // Set by the encoder from the model.
        temporal: None,
    };
    let out = StreamOutput::create(output, force)?;
    let mut enc = VideoEncoder::new(model, out, (d.width, d.height), q, info)?;
    let t = Instant::now();
    let mut inter = 0;
    while let Some(image) = clip.next_image(colours)? {
        let stats = enc.encode(&image).context("encoding failed")?;
        inter += u64::from(stats.kind == FrameKind::Inter);
    }
    let frames = enc.frames();
    let bytes = enc.bytes();
    enc.finish()?.commit()?;
    let secs = t.elapsed().as_secs_f64();
    let pixels = f64::from(d.width) * f64::from(d.height) * frames.max(1) as f64;
    eprintln!(
        "{} x {}  {frames} frames ({} intra, {inter} inter, intra period {intra_period}) at \
         {:.3} fps  q {q}  {bytes} bytes  {:.4} bpp  {:.2} frames/s",
        d.width,
        d.height,
        frames - inter,
        f64::from(frame_rate.0) / f64::from(frame_rate.1),
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
    /// Lossless FFV1 in a Matroska file (`.mkv`, feature `ffmpeg`).
    #[cfg(feature = "ffmpeg")]
    Ffv1(PathBuf),
}

impl FrameSink {
    /// The sink `path` names: `.y4m` or `-`, or a pattern with `%d`/`%0Nd`.
    pub fn for_path(path: &Path) -> Result<Self> {
        let s = path.to_string_lossy();
        if s == "-" || s.ends_with(".y4m") {
            return Ok(Self::Y4m(path.to_path_buf()));
        }
        if s.ends_with(".mkv") {
            #[cfg(feature = "ffmpeg")]
            return Ok(Self::Ffv1(path.to_path_buf()));
            #[cfg(not(feature = "ffmpeg"))]
            bail!(
                "this lic was built without FFmpeg (cargo feature `ffmpeg`), so it cannot write \
                 {s}; write .y4m instead"
            );
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
            "a video decodes to .y4m (or `-`), .mkv (lossless FFV1), or numbered images with \
             a pattern such as frames-%04d.png; not {s}"
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
        #[cfg(feature = "ffmpeg")]
        FrameSink::Ffv1(path) => {
            use lic_codec::video::ffmpeg::Ffv1Writer;
            // FFmpeg writes the temporary file by its name; the rename puts it in place.
            let out = StreamOutput::create(path, force)?;
            let tmp = out
                .temp_path()
                .context("a Matroska file cannot go to standard output")?
                .to_path_buf();
            let mut w = Ffv1Writer::create(
                &tmp,
                (h.width, h.height),
                info.frame_rate,
                info.chroma,
                info.matrix,
                info.range,
            )?;
            let result = decode_into(&mut dec, &mut index, frames.end, |_, img| {
                match info.chroma {
                    Chroma::Rgb => w.write_rgb(img)?,
                    c => w.write_yuv(&YuvFrame::from_image(img, c, info.matrix, info.range)?)?,
                }
                Ok(())
            })?;
            w.finish()?;
            out.commit()?;
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
