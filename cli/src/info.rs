//! `lic info`: inspect a `.lic` file without decoding it.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::io::read_input;
use crate::out;
use clap::Args;
use lic_codec::container::LicFile;
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
    file_bytes: usize,
    format_version: u8,
    model_fingerprint: String,
    width: u32,
    height: u32,
    color: &'static str,
    quality: f64,
    bits_per_pixel: f64,
    header_bytes: usize,
    frames: Vec<FrameInfo>,
}

#[derive(Debug, Serialize)]
struct FrameInfo {
    kind: String,
    framing_bytes: usize,
    sections: Vec<SectionInfo>,
}

#[derive(Debug, Serialize)]
struct SectionInfo {
    kind: u8,
    name: &'static str,
    bytes: usize,
}

pub fn run(args: &InfoArgs) -> Result<()> {
    let bytes = read_input(&args.input)?;
    let (file, layout) = LicFile::parse_with_layout(&bytes, &Limits::unlimited())
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let h = &file.header;
    let info = Info {
        file_bytes: bytes.len(),
        format_version: lic_codec::container::FORMAT_VERSION,
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
        bits_per_pixel: 8.0 * bytes.len() as f64 / (h.pixels() as f64 * file.frames.len() as f64),
        header_bytes: layout.header_bytes,
        frames: file
            .frames
            .iter()
            .zip(&layout.frames)
            .map(|(f, (framing, sizes))| FrameInfo {
                kind: format!("{:?}", f.kind).to_lowercase(),
                framing_bytes: *framing,
                sections: f
                    .sections
                    .iter()
                    .zip(sizes)
                    .map(|(s, &n)| SectionInfo {
                        kind: s.kind.0,
                        name: s.kind.name(),
                        bytes: n,
                    })
                    .collect(),
            })
            .collect(),
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
