//! Video evaluation (`lic eval` on Y4M clips): lic with inter frames, lic with intra frames
//! only, and x264 / x265 measured live through the `ffmpeg` program, on the same frames with
//! the same metrics.
//!
//! - **Rate**: bits of the whole coded stream (lic: the `.lic` file; x264/x265: the raw
//!   Annex-B bitstream, no container) over the clip's pixels (frames × width × height).
//! - **Quality**, averaged over frames: PSNR-Y, PSNR-U, PSNR-V and PSNR-YUV `(6 Y + U + V) / 8`
//!   in the source's Y'CbCr sampling (lic's RGB output converted back with the clip's matrix
//!   and range, as `lic decode` writes it), PSNR-RGB and MS-SSIM-RGB against the source
//!   converted to RGB (what lic codes).
//! - **x264 / x265**: `-preset medium -tune zerolatency`, P frames only (no B frames), an
//!   intra frame at lic's intra period, a CRF sweep; decoded by ffmpeg to 4:2:0. x265 writes
//!   no settings SEI (`info=0`); x264 always writes its own (about 700 bytes a stream, which
//!   it counts).
//!
//! BD-rates are computed clip by clip (on PSNR-YUV, as video papers report) and averaged.

use std::path::{Path, PathBuf};
use std::time::Instant;

use lic_codec::container::{ColorMatrix, ColorRange, VideoInfo};
use lic_codec::video::y4m::{Y4mHeader, Y4mReader};
use lic_codec::video::yuv::YuvFrame;
use lic_codec::{Image, Limits, Model, VideoDecoder, VideoEncoder};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::bdrate::{Curve, Fit, bd_rate};
use crate::error::{Error, Result};
use crate::external::{Scratch, path, read, run, tool};
use crate::metrics;

/// A clip under evaluation: its frames as Y'CbCr and as the RGB lic codes.
#[derive(Debug, Clone)]
pub struct Clip {
    /// File stem.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Its header.
    pub header: Y4mHeader,
    /// The matrix and range it is converted with (its own, or lic's assumption).
    pub colours: (ColorMatrix, ColorRange),
    /// The frames as stored.
    pub frames: Vec<YuvFrame>,
    /// The frames in RGB.
    pub rgb: Vec<Image>,
}

impl Clip {
    /// Reads a Y4M file (every frame; clips under evaluation are short).
    ///
    /// # Errors
    /// [`Error::Io`] for an unreadable file, [`Error::Codec`] for one that is not a Y4M clip
    /// lic reads, [`Error::InvalidSetting`] for a clip without frames.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = read(path)?;
        let mut reader = Y4mReader::new(bytes.as_slice(), &Limits::default())?;
        let header = reader.header().clone();
        let colours = (header.assumed_matrix(), header.range_or_assumed());
        let mut frames = Vec::new();
        while let Some(f) = reader.next_frame()? {
            frames.push(f);
        }
        if frames.is_empty() {
            return Err(Error::InvalidSetting {
                setting: "clip",
                value: path.display().to_string(),
                expected: "at least one frame".into(),
            });
        }
        let rgb = frames
            .iter()
            .map(|f| f.to_image(colours.0, colours.1))
            .collect();
        Ok(Self {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: path.to_owned(),
            header,
            colours,
            frames,
            rgb,
        })
    }

    fn pixels(&self) -> f64 {
        f64::from(self.header.width) * f64::from(self.header.height) * self.frames.len() as f64
    }
}

/// Y4M files named by `inputs`: files as they are, folders' `.y4m` files in name order.
///
/// # Errors
/// [`Error::Io`] for an unreadable folder, [`Error::InvalidSetting`] when none is found.
pub fn collect_clips(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|source| Error::Io {
                    action: "reading",
                    path: input.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| is_y4m(p))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(input.clone());
        }
    }
    if out.is_empty() {
        return Err(Error::InvalidSetting {
            setting: "inputs",
            value: format!("{inputs:?}"),
            expected: "Y4M clips or folders holding them".into(),
        });
    }
    Ok(out)
}

/// Whether `path` names a Y4M file (by its extension).
pub fn is_y4m(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("y4m"))
}

/// A video codec under evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VideoCodecKind {
    /// lic at its intra period: inter frames between (with a model that has temporal
    /// networks).
    Lic,
    /// lic with every frame intra.
    LicIntra,
    /// x264 through `ffmpeg`.
    X264,
    /// x265 through `ffmpeg`.
    X265,
}

impl VideoCodecKind {
    /// The id in rows and file names.
    pub fn id(self) -> &'static str {
        match self {
            Self::Lic => "lic",
            Self::LicIntra => "lic-intra",
            Self::X264 => "x264",
            Self::X265 => "x265",
        }
    }

    /// The default qualities: lic's quality scale, or the CRF of x264 / x265.
    pub fn default_qualities(self) -> Vec<f64> {
        match self {
            Self::Lic | Self::LicIntra => vec![10.0, 30.0, 50.0, 70.0, 90.0],
            Self::X264 | Self::X265 => vec![17.0, 22.0, 27.0, 32.0, 37.0, 42.0],
        }
    }

    /// Checks that the codec can run: `ffmpeg` with the encoder for x264 / x265.
    ///
    /// # Errors
    /// [`Error::Tool`] naming what is missing.
    pub fn available(self) -> Result<()> {
        let encoder = match self {
            Self::X264 => "libx264",
            Self::X265 => "libx265",
            _ => return Ok(()),
        };
        let out = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-encoders"])
            .output()
            .map_err(|e| {
                tool(
                    "ffmpeg",
                    format!("cannot run it ({e}); install it (Debian: apt-get install ffmpeg)"),
                )
            })?;
        if !String::from_utf8_lossy(&out.stdout).contains(encoder) {
            return Err(tool("ffmpeg", format!("it has no {encoder} encoder")));
        }
        Ok(())
    }
}

/// One clip coded at one quality by one codec.
#[derive(Clone, Debug, Serialize)]
pub struct ClipRow {
    /// The clip.
    pub clip: String,
    /// The codec's id.
    pub codec: &'static str,
    /// The quality on the codec's scale (lic q, or CRF).
    pub quality: f64,
    /// Frames.
    pub frames: usize,
    /// Bytes of the coded stream.
    pub bytes: u64,
    /// Bits per pixel.
    pub bpp: f64,
    /// Mean PSNR of Y', Cb, Cr and 6:1:1 (dB).
    pub psnr_y: f64,
    /// Cb.
    pub psnr_u: f64,
    /// Cr.
    pub psnr_v: f64,
    /// `(6 Y + U + V) / 8`.
    pub psnr_yuv: f64,
    /// Mean PSNR over RGB.
    pub psnr_rgb: f64,
    /// Mean MS-SSIM over RGB (`None` under 176 pixels a side).
    pub ms_ssim_rgb: Option<f64>,
    /// Encoded frames per second.
    pub encode_fps: f64,
    /// Decoded frames per second.
    pub decode_fps: f64,
}

/// What a codec gives back for a clip.
struct Coded {
    bytes: u64,
    decoded: Vec<YuvFrame>,
    encode_s: f64,
    decode_s: f64,
}

/// Codes `clip` with `kind` at `quality` and measures it. `model` codes lic; `intra_period`
/// is lic's (x264 / x265 use it as their GOP; lic-intra ignores it).
///
/// # Errors
/// Whatever the codec reports.
pub fn code_clip(
    model: &Model,
    kind: VideoCodecKind,
    clip: &Clip,
    quality: f64,
    intra_period: u32,
) -> Result<ClipRow> {
    let coded = match kind {
        VideoCodecKind::Lic => code_lic(model, clip, quality, intra_period)?,
        VideoCodecKind::LicIntra => code_lic(model, clip, quality, 1)?,
        VideoCodecKind::X264 | VideoCodecKind::X265 => {
            code_ffmpeg(kind, clip, quality, intra_period)?
        }
    };
    if coded.decoded.len() != clip.frames.len() {
        return Err(tool(
            kind.id(),
            format!(
                "decoded {} frames of {}",
                coded.decoded.len(),
                clip.frames.len()
            ),
        ));
    }
    let n = clip.frames.len() as f64;
    let (mut y, mut u, mut v, mut yuv, mut rgb) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut ms = Some(0.0);
    for ((src, dec), src_rgb) in clip.frames.iter().zip(&coded.decoded).zip(&clip.rgb) {
        let (a, b) = (src.split(), dec.split());
        let p = [
            plane_psnr(a.0, b.0),
            plane_psnr(a.1, b.1),
            plane_psnr(a.2, b.2),
        ];
        y += p[0];
        u += p[1];
        v += p[2];
        yuv += (6.0 * p[0] + p[1] + p[2]) / 8.0;
        let dec_rgb = dec.to_image(clip.colours.0, clip.colours.1);
        rgb += metrics::psnr(src_rgb, &dec_rgb)?.min(100.0);
        ms = match (ms, metrics::ms_ssim(src_rgb, &dec_rgb)?) {
            (Some(t), Some(m)) => Some(t + m),
            _ => None,
        };
    }
    Ok(ClipRow {
        clip: clip.name.clone(),
        codec: kind.id(),
        quality,
        frames: clip.frames.len(),
        bytes: coded.bytes,
        bpp: 8.0 * coded.bytes as f64 / clip.pixels(),
        psnr_y: y / n,
        psnr_u: u / n,
        psnr_v: v / n,
        psnr_yuv: yuv / n,
        psnr_rgb: rgb / n,
        ms_ssim_rgb: ms.map(|m| m / n),
        encode_fps: n / coded.encode_s.max(1e-9),
        decode_fps: n / coded.decode_s.max(1e-9),
    })
}

/// PSNR of two planes (peak 255), at most 100 dB (identical planes).
fn plane_psnr(a: &[u8], b: &[u8]) -> f64 {
    let se: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = se / a.len().max(1) as f64;
    if mse == 0.0 {
        100.0
    } else {
        (10.0 * (255.0f64 * 255.0 / mse).log10()).min(100.0)
    }
}

fn code_lic(model: &Model, clip: &Clip, quality: f64, intra_period: u32) -> Result<Coded> {
    let h = &clip.header;
    let info = VideoInfo {
        frame_rate: h.frame_rate,
        chroma: h.chroma,
        matrix: clip.colours.0,
        range: clip.colours.1,
        intra_period: if model.temporal_fingerprint().is_some() {
            intra_period
        } else {
            1
        },
        temporal: None,
    };
    let t = Instant::now();
    let mut enc = VideoEncoder::new(model, Vec::new(), (h.width, h.height), quality as f32, info)?;
    for frame in &clip.rgb {
        enc.encode(frame)?;
    }
    let bytes = enc.finish()?;
    let encode_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let decoded = VideoDecoder::new(model, bytes.as_slice(), &Limits::default())?
        .map(|f| {
            let f = f?;
            Ok(YuvFrame::from_image(
                &f,
                h.chroma,
                clip.colours.0,
                clip.colours.1,
            )?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Coded {
        bytes: bytes.len() as u64,
        decoded,
        encode_s,
        decode_s: t.elapsed().as_secs_f64(),
    })
}

fn code_ffmpeg(kind: VideoCodecKind, clip: &Clip, crf: f64, intra_period: u32) -> Result<Coded> {
    let scratch = Scratch::new()?;
    let gop = if intra_period == 0 {
        clip.frames.len().max(1) as u32
    } else {
        intra_period
    };
    let (codec, format, params_flag, params, out_name) = match kind {
        VideoCodecKind::X264 => (
            "libx264",
            "h264",
            "-x264-params",
            format!("keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"),
            "out.264",
        ),
        _ => (
            "libx265",
            "hevc",
            "-x265-params",
            // info=0: no SEI with the encoder's settings (about 2 kB a stream).
            format!("keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:info=0:log-level=error"),
            "out.265",
        ),
    };
    let input = path(&clip.path)?;
    let out = scratch.file(out_name);
    let crf = format!("{crf}");
    let t = Instant::now();
    run(
        "ffmpeg",
        &[
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            input,
            "-c:v",
            codec,
            "-preset",
            "medium",
            "-tune",
            "zerolatency",
            "-crf",
            &crf,
            params_flag,
            &params,
            "-f",
            format,
            path(&out)?,
        ],
    )?;
    let encode_s = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&out)
        .map_err(|source| Error::Io {
            action: "reading",
            path: out.clone(),
            source,
        })?
        .len();
    let decoded_path = scratch.file("decoded.y4m");
    let t = Instant::now();
    run(
        "ffmpeg",
        &[
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            path(&out)?,
            "-pix_fmt",
            "yuv420p",
            "-strict",
            "-1",
            "-f",
            "yuv4mpegpipe",
            path(&decoded_path)?,
        ],
    )?;
    let decode_s = t.elapsed().as_secs_f64();
    let data = read(&decoded_path)?;
    let decoded = Y4mReader::new(data.as_slice(), &Limits::default())?
        .collect::<lic_codec::Result<Vec<_>>>()?;
    Ok(Coded {
        bytes,
        decoded,
        encode_s,
        decode_s,
    })
}

/// Per-quality means of `rows` (one codec) over clips, in CompressAI's layout (`bpp`,
/// `psnr-yuv`, `psnr-y`, `psnr-rgb`, `ms-ssim-rgb`, `encoding_fps`, `decoding_fps`).
pub fn video_curve(rows: &[ClipRow], name: &str, description: &str) -> Curve {
    let mut qualities: Vec<f64> = rows.iter().map(|r| r.quality).collect();
    qualities.sort_by(f64::total_cmp);
    qualities.dedup();
    let keys = [
        "quality",
        "bpp",
        "psnr-yuv",
        "psnr-y",
        "psnr-rgb",
        "ms-ssim-rgb",
        "encoding_fps",
        "decoding_fps",
    ];
    let mut series: Vec<Vec<Value>> = vec![Vec::new(); keys.len()];
    for q in qualities {
        let at: Vec<&ClipRow> = rows.iter().filter(|r| r.quality == q).collect();
        let n = at.len() as f64;
        let mean = |f: &dyn Fn(&ClipRow) -> f64| at.iter().map(|r| f(r)).sum::<f64>() / n;
        let ms = at
            .iter()
            .map(|r| r.ms_ssim_rgb)
            .collect::<Option<Vec<f64>>>()
            .map(|v| v.iter().sum::<f64>() / n);
        let values = [
            json!(q),
            json!(mean(&|r| r.bpp)),
            json!(mean(&|r| r.psnr_yuv)),
            json!(mean(&|r| r.psnr_y)),
            json!(mean(&|r| r.psnr_rgb)),
            ms.map_or(Value::Null, |v| json!(v)),
            json!(mean(&|r| r.encode_fps)),
            json!(mean(&|r| r.decode_fps)),
        ];
        for (s, v) in series.iter_mut().zip(values) {
            s.push(v);
        }
    }
    let mut results = Map::new();
    for (k, v) in keys.iter().zip(series) {
        if !v.iter().all(Value::is_null) {
            results.insert((*k).to_owned(), Value::Array(v));
        }
    }
    Curve {
        name: name.to_owned(),
        description: description.to_owned(),
        results,
    }
}

/// BD-rate of `test` against `anchor` clip by clip on `metric`, and their mean (over the
/// clips where the curves overlap): `(per clip, mean)`.
pub fn bd_by_clip(
    rows: &[ClipRow],
    anchor: &str,
    test: &str,
    metric: &str,
) -> (Vec<(String, Option<f64>)>, Option<f64>) {
    let mut clips: Vec<&str> = Vec::new();
    for r in rows {
        if !clips.contains(&r.clip.as_str()) {
            clips.push(&r.clip);
        }
    }
    let curve_of = |clip: &str, codec: &str| {
        let r: Vec<ClipRow> = rows
            .iter()
            .filter(|r| r.clip == clip && r.codec == codec)
            .cloned()
            .collect();
        (!r.is_empty()).then(|| video_curve(&r, codec, ""))
    };
    let per: Vec<(String, Option<f64>)> = clips
        .iter()
        .map(|&clip| {
            let v = match (curve_of(clip, anchor), curve_of(clip, test)) {
                (Some(a), Some(t)) => bd_rate(&a, &t, metric, Fit::Pchip, None)
                    .ok()
                    .map(|b| b.value),
                _ => None,
            };
            (clip.to_owned(), v)
        })
        .collect();
    let known: Vec<f64> = per.iter().filter_map(|(_, v)| *v).collect();
    let mean = (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64);
    (per, mean)
}
