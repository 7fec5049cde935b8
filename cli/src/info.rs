//! `lic info`: inspect a `.lic` file without decoding it.

use std::path::PathBuf;

use anyhow::{Context, Result};

use std::io::Read;

use crate::io::open_input;
use crate::out;
use clap::Args;
use lic_codec::container::FrameReader;
use lic_codec::{ColorFormat, Limits};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The .lic file (`-` for standard input).
    input: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Info {
    file_bytes: u64,
    format_version: u8,
    model_fingerprint: String,
    width: u32,
    height: u32,
    color: &'static str,
    quality: f64,
    bits_per_pixel: f64,
    header_bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    video: Option<VideoSummary>,
    frames: Vec<FrameInfo>,
}

#[derive(Debug, Serialize)]
struct VideoSummary {
    frame_rate: String,
    fps: f64,
    chroma: String,
    matrix: String,
    range: String,
    intra_period: u32,
    /// Fingerprint of the temporal networks the inter frames need; `None`: intra only.
    temporal_model: Option<String>,
    end_bytes: u64,
}

#[derive(Debug, Serialize)]
struct FrameInfo {
    kind: String,
    bytes: usize,
    framing_bytes: usize,
    sections: Vec<SectionInfo>,
}

#[derive(Debug, Serialize)]
struct SectionInfo {
    kind: u8,
    name: &'static str,
    bytes: usize,
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

pub fn run(args: &InfoArgs) -> Result<()> {
    let what = || format!("cannot read {}", args.input.display());
    let mut input = Counted {
        inner: open_input(&args.input)?,
        count: 0,
    };
    let mut reader = FrameReader::new(&mut input, &Limits::unlimited()).with_context(what)?;
    let version = reader.version();
    let h = reader.header().clone();
    let header_bytes = reader.header_bytes();
    let mut frames = Vec::new();
    let mut frame_bytes = 0u64;
    while let Some(f) = reader
        .next_frame()
        .with_context(|| format!("{}, frame {}", what(), frames.len()))?
    {
        let bytes = reader.last_frame_bytes();
        let payload: usize = f.sections.iter().map(|s| s.data.len()).sum();
        frame_bytes += bytes as u64;
        frames.push(FrameInfo {
            kind: format!("{:?}", f.kind).to_lowercase(),
            bytes,
            framing_bytes: bytes - payload,
            sections: f
                .sections
                .iter()
                .map(|s| SectionInfo {
                    kind: s.kind.0,
                    name: s.kind.name(),
                    bytes: s.data.len(),
                })
                .collect(),
        });
    }
    let file_bytes = input.count;
    let info = Info {
        file_bytes,
        format_version: version,
        model_fingerprint: h.fingerprint.to_string(),
        width: h.width,
        height: h.height,
        color: match h.color {
            ColorFormat::Rgb8 => "rgb8",
            ColorFormat::Gray8 => "gray8",
            _ => "other",
        },
        quality: f64::from(h.quality_x100) / 100.0,
        // Whole file, header included, over all frames' pixels.
        bits_per_pixel: 8.0 * file_bytes as f64 / (h.pixels() as f64 * frames.len().max(1) as f64),
        header_bytes,
        video: h.video.map(|v| VideoSummary {
            frame_rate: format!("{}/{}", v.frame_rate.0, v.frame_rate.1),
            fps: v.fps(),
            chroma: format!("{:?}", v.chroma).to_lowercase(),
            matrix: format!("{:?}", v.matrix).to_lowercase(),
            range: format!("{:?}", v.range).to_lowercase(),
            intra_period: v.intra_period,
            temporal_model: v.temporal.map(|f| f.to_string()),
            end_bytes: file_bytes - header_bytes as u64 - frame_bytes,
        }),
        frames,
    };
    if args.json {
        writeln!(out(), "{}", serde_json::to_string_pretty(&info)?);
    } else {
        print_text(&info);
    }
    Ok(())
}

fn print_text(i: &Info) {
    writeln!(out(), "format version   {}", i.format_version);
    writeln!(out(), "model            {}", i.model_fingerprint);
    writeln!(
        out(),
        "size             {} x {} {}",
        i.width,
        i.height,
        i.color
    );
    writeln!(out(), "quality          {:.2}", i.quality);
    writeln!(
        out(),
        "file             {} bytes, {:.4} bpp",
        i.file_bytes,
        i.bits_per_pixel
    );
    writeln!(out(), "header           {} bytes", i.header_bytes);
    if let Some(v) = &i.video {
        writeln!(
            out(),
            "video            {} frames, {} fps ({:.3}), source {} {} {} range, intra every {} frame(s)",
            i.frames.len(),
            v.frame_rate,
            v.fps,
            v.chroma,
            v.matrix,
            v.range,
            v.intra_period
        );
        let inter = i.frames.iter().filter(|f| f.kind == "inter").count();
        writeln!(
            out(),
            "frame kinds      {} intra, {inter} inter; temporal model {}",
            i.frames.len() - inter,
            v.temporal_model.as_deref().unwrap_or("none")
        );
        for (n, f) in i.frames.iter().enumerate() {
            writeln!(out(), "frame {n:<6} {:<6} {:>10} bytes", f.kind, f.bytes);
        }
        writeln!(out(), "end marker       {} bytes", v.end_bytes);
        return;
    }
    for (n, f) in i.frames.iter().enumerate() {
        writeln!(
            out(),
            "frame {n} ({}), {} bytes of framing",
            f.kind,
            f.framing_bytes
        );
        for s in &f.sections {
            writeln!(
                out(),
                "  0x{:02X} {:<18} {:>10} bytes",
                s.kind,
                s.name,
                s.bytes
            );
        }
    }
}
