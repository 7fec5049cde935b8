//! The JPEG anchor, measured live with libjpeg-turbo's own `cjpeg` and `djpeg` (Debian's
//! `libjpeg-turbo-progs`): baseline, 4:2:0, the standard (Annex K) tables scaled by the usual
//! quality factor, standard Huffman tables, default integer DCT and fancy upsampling. These
//! are the settings of Pillow's `save(..., quality=q)`, which produced CompressAI's published
//! JPEG curve. (The library is driven through its programs rather than linked: the Rust
//! bindings tried first pulled a dependency feature that rebuilds the whole burn stack; see
//! docs/RESULTS.md for the check against the published curve.)

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use lic_codec::{ColorFormat, Image};

fn pipe(program: &str, args: &[&str], input: &[u8]) -> Result<Vec<u8>> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!("cannot run `{program}` (the JPEG anchor needs libjpeg-turbo's programs: apt-get install libjpeg-turbo-progs)")
        })?;
    let mut stdin = child.stdin.take().context("stdin")?;
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("{program}: writer thread"))?
        .with_context(|| format!("writing to {program}"))?;
    if !out.status.success() {
        bail!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// Checks that `cjpeg` and `djpeg` can run.
pub fn available() -> Result<()> {
    for p in ["cjpeg", "djpeg"] {
        pipe(p, &["-version"], &[]).or_else(|e| {
            // `-version` exits 0 on libjpeg-turbo; anything else means the program is missing.
            if e.to_string().contains("cannot run") {
                Err(e)
            } else {
                Ok(Vec::new())
            }
        })?;
    }
    Ok(())
}

/// Encodes `image` (RGB) at JPEG quality `q` (1..=100).
pub fn encode(image: &Image, q: u8) -> Result<Vec<u8>> {
    // Binary PPM (P6), the input cjpeg reads natively.
    let mut ppm = format!("P6\n{} {}\n255\n", image.width(), image.height()).into_bytes();
    ppm.extend_from_slice(&image.to_rgb());
    let q = q.to_string();
    pipe(
        "cjpeg",
        &["-quality", &q, "-sample", "2x2", "-baseline"],
        &ppm,
    )
}

/// Decodes JPEG bytes to RGB.
pub fn decode(bytes: &[u8]) -> Result<Image> {
    let ppm = pipe("djpeg", &["-pnm"], bytes)?;
    let image = Image::from_memory(&ppm)?;
    if image.color() != ColorFormat::Rgb8 {
        bail!("djpeg returned a non-RGB image");
    }
    Ok(image)
}
