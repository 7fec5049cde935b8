//! Anchor codecs measured live through their reference programs, driven as subprocesses so
//! that no codec library is linked into lic (the Rust bindings tried first for libjpeg-turbo
//! pulled a dependency feature that rebuilds the whole burn stack).
//!
//! - **JPEG**: libjpeg-turbo's `cjpeg`/`djpeg` (Debian `libjpeg-turbo-progs`): baseline, 4:2:0,
//!   the standard (Annex K) tables scaled by the usual quality factor, standard Huffman tables,
//!   integer DCT, fancy upsampling: the settings of Pillow's `save(..., quality=q)`, which
//!   produced CompressAI's published JPEG curve (docs/RESULTS.md checks the two agree).
//! - **WebP**: libwebp's `cwebp -q Q` (method 4, 4:2:0, Pillow's defaults too) and `dwebp`
//!   (Debian `webp`).
//! - **AVIF**: libavif's `avifenc --min Q --max Q` (AV1 quantiser 0..=63, lower is better; 4:2:0,
//!   8 bits, full range, speed 6, one thread per encode) and `avifdec` (Debian
//!   `libavif-bin`). Its "quality" column is that quantiser.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use lic_codec::{ColorFormat, Image};

/// A codec measured through its programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum External {
    Jpeg,
    Webp,
    Avif,
}

impl External {
    /// The encoder and decoder programs, and the Debian package that has them.
    fn programs(self) -> ([&'static str; 2], &'static str) {
        match self {
            Self::Jpeg => (["cjpeg", "djpeg"], "libjpeg-turbo-progs"),
            Self::Webp => (["cwebp", "dwebp"], "webp"),
            Self::Avif => (["avifenc", "avifdec"], "libavif-bin"),
        }
    }

    /// Curve name and description for the results.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Self::Jpeg => (
                "JPEG (libjpeg-turbo, measured)",
                "libjpeg-turbo cjpeg -quality Q -sample 2x2 -baseline, djpeg defaults",
            ),
            Self::Webp => (
                "WebP (libwebp, measured)",
                "libwebp cwebp -q Q (method 4), dwebp defaults",
            ),
            Self::Avif => (
                "AVIF (libavif, measured)",
                "libavif avifenc --min Q --max Q -s 6 -y 420 -d 8 (quality = AV1 quantiser)",
            ),
        }
    }

    /// Checks that both programs can be started.
    pub fn available(self) -> Result<()> {
        let ([enc, dec], package) = self.programs();
        for program in [enc, dec] {
            Command::new(program)
                .arg("--version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .with_context(|| {
                    format!("cannot run `{program}`: install it with apt-get install {package}")
                })?;
        }
        Ok(())
    }

    /// Encodes `image` (RGB) at quality `q` (the codec's own scale, see the module docs).
    pub fn encode(self, image: &Image, q: u8) -> Result<Vec<u8>> {
        let q = q.to_string();
        match self {
            Self::Jpeg => pipe(
                "cjpeg",
                &["-quality", &q, "-sample", "2x2", "-baseline"],
                &ppm(image),
            ),
            Self::Webp => {
                let dir = Scratch::new()?;
                let (input, output) = (dir.file("in.ppm"), dir.file("out.webp"));
                write(&input, &ppm(image))?;
                run(
                    "cwebp",
                    &["-quiet", "-q", &q, path(&input)?, "-o", path(&output)?],
                )?;
                read(&output)
            }
            Self::Avif => {
                let dir = Scratch::new()?;
                let (input, output) = (dir.file("in.png"), dir.file("out.avif"));
                image::save_buffer(
                    &input,
                    &image.to_rgb(),
                    image.width(),
                    image.height(),
                    image::ExtendedColorType::Rgb8,
                )
                .context("writing avifenc's input")?;
                let args = [
                    "-j", "1", "-s", "6", "-y", "420", "-d", "8", "--min", &q, "--max", &q,
                ];
                run(
                    "avifenc",
                    &[&args[..], &[path(&input)?, path(&output)?]].concat(),
                )?;
                read(&output)
            }
        }
    }

    /// Decodes the codec's bytes to RGB.
    pub fn decode(self, bytes: &[u8]) -> Result<Image> {
        let image = match self {
            Self::Jpeg => Image::from_memory(&pipe("djpeg", &["-pnm"], bytes)?)?,
            Self::Webp => {
                let dir = Scratch::new()?;
                let (input, output) = (dir.file("in.webp"), dir.file("out.ppm"));
                write(&input, bytes)?;
                run(
                    "dwebp",
                    &["-quiet", path(&input)?, "-ppm", "-o", path(&output)?],
                )?;
                Image::from_memory(&read(&output)?)?
            }
            Self::Avif => {
                let dir = Scratch::new()?;
                let (input, output) = (dir.file("in.avif"), dir.file("out.png"));
                write(&input, bytes)?;
                run("avifdec", &["-d", "8", path(&input)?, path(&output)?])?;
                Image::from_memory(&read(&output)?)?
            }
        };
        if image.color() != ColorFormat::Rgb8 {
            bail!("the {self:?} decoder returned a non-RGB image");
        }
        Ok(image)
    }
}

/// Binary PPM (P6) of the image's RGB samples.
fn ppm(image: &Image) -> Vec<u8> {
    let mut out = format!("P6\n{} {}\n255\n", image.width(), image.height()).into_bytes();
    out.extend_from_slice(&image.to_rgb());
    out
}

fn path(p: &Path) -> Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not valid UTF-8", p.display()))
}

fn write(p: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(p, bytes).with_context(|| format!("writing {}", p.display()))
}

fn read(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("reading {}", p.display()))
}

/// Runs `program`, failing with its stderr if it fails.
fn run(program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{program}`"))?;
    if !out.status.success() {
        bail!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Runs `program` with `input` on stdin and returns its stdout.
fn pipe(program: &str, args: &[&str], input: &[u8]) -> Result<Vec<u8>> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run `{program}`"))?;
    let mut stdin = child.stdin.take().context("stdin")?;
    let data = input.to_vec();
    // Written from another thread so a program that fills its stdout first cannot deadlock.
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

/// A private temporary folder for programs that only read and write files, removed on drop.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Result<Self> {
        Ok(Self(
            tempfile::Builder::new()
                .prefix("lic-eval-")
                .tempdir()
                .context("creating a temporary folder")?,
        ))
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}
