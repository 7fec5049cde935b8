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

use lic_codec::{ColorFormat, Image};

use crate::engine::{Codec, Coded, Role};
use crate::error::{Error, Result};

/// A codec measured through its programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum External {
    /// libjpeg-turbo's `cjpeg`/`djpeg`; quality 1..=100.
    Jpeg,
    /// libwebp's `cwebp`/`dwebp`; quality 0..=100.
    Webp,
    /// libavif's `avifenc`/`avifdec`; AV1 quantiser 0..=63, lower is better.
    Avif,
}

/// An external codec at a set of its qualities.
#[derive(Clone, Debug)]
pub struct ExternalCodec {
    codec: External,
    qualities: Vec<f64>,
}

impl ExternalCodec {
    /// `codec` at `qualities` (its own scale: [`External::quality_range`]).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a quality out of the codec's range,
    /// [`Error::Tool`] if its programs cannot be started.
    pub fn new(codec: External, qualities: &[u8]) -> Result<Self> {
        let range = codec.quality_range();
        if let Some(q) = qualities.iter().find(|q| !range.contains(q)) {
            return Err(Error::InvalidSetting {
                setting: codec.id(),
                value: format!("quality {q}"),
                expected: format!("{}..={}", range.start(), range.end()),
            });
        }
        codec.available()?;
        Ok(Self {
            codec,
            qualities: qualities.iter().map(|&q| f64::from(q)).collect(),
        })
    }
}

impl Codec for ExternalCodec {
    fn id(&self) -> &'static str {
        self.codec.id()
    }

    fn curve_name(&self) -> String {
        self.codec.describe().0.to_owned()
    }

    fn description(&self) -> String {
        self.codec.describe().1.to_owned()
    }

    fn qualities(&self) -> &[f64] {
        &self.qualities
    }

    fn role(&self) -> Role {
        Role::Anchor
    }

    fn images_in_parallel(&self) -> bool {
        true
    }

    fn prepare(&self, image: &Image) -> Result<Image> {
        as_rgb(image)
    }

    fn code(&self, image: &Image, quality: f64) -> Result<Coded> {
        // Qualities were checked against the codec's u8 range by `new`.
        let q = quality as u8;
        let t = std::time::Instant::now();
        let bytes = self.codec.encode(image, q)?;
        let encoding_time = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let decoded = self.codec.decode(&bytes)?;
        Ok(Coded {
            bytes: bytes.len(),
            decoded,
            encoding_time,
            decoding_time: t.elapsed().as_secs_f64(),
        })
    }
}

/// The image as RGB: the anchors code three channels, and their PSNR is over RGB.
fn as_rgb(image: &Image) -> Result<Image> {
    Ok(match image.color() {
        ColorFormat::Rgb8 => image.clone(),
        _ => Image::new(
            image.width(),
            image.height(),
            ColorFormat::Rgb8,
            image.to_rgb(),
        )?,
    })
}

impl External {
    /// The codec's name in results (`jpeg`, `webp`, `avif`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
            Self::Avif => "avif",
        }
    }

    /// The qualities its encoder accepts, on its own scale.
    pub fn quality_range(self) -> std::ops::RangeInclusive<u8> {
        match self {
            Self::Jpeg => 1..=100,
            Self::Webp => 0..=100,
            Self::Avif => 0..=63,
        }
    }

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
    ///
    /// # Errors
    /// [`Error::Tool`] naming the program and the Debian package to install.
    pub fn available(self) -> Result<()> {
        let ([enc, dec], package) = self.programs();
        for program in [enc, dec] {
            Command::new(program)
                .arg("--version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| {
                    tool(
                        program,
                        format!("cannot run it ({e}): install it with apt-get install {package}"),
                    )
                })?;
        }
        Ok(())
    }

    /// Encodes `image` (RGB) at quality `q` (the codec's own scale, see the module docs).
    ///
    /// # Errors
    /// [`Error::Tool`] if the encoder fails, [`Error::Io`] for its scratch files.
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
                .map_err(|e| tool("avifenc", format!("writing its input: {e}")))?;
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
    ///
    /// # Errors
    /// [`Error::Tool`] if the decoder fails or gives no RGB image.
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
            return Err(tool(
                self.programs().0[1],
                format!("returned a {:?} image, not RGB", image.color()),
            ));
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

pub(crate) fn tool(program: &str, reason: String) -> Error {
    Error::Tool {
        program: program.to_owned(),
        reason,
    }
}

pub(crate) fn path(p: &Path) -> Result<&str> {
    p.to_str().ok_or_else(|| {
        tool(
            "lic",
            format!("the scratch path {} is not valid UTF-8", p.display()),
        )
    })
}

fn write(p: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(p, bytes).map_err(|source| Error::Io {
        action: "writing",
        path: p.to_owned(),
        source,
    })
}

pub(crate) fn read(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).map_err(|source| Error::Io {
        action: "reading",
        path: p.to_owned(),
        source,
    })
}

/// Runs `program`, failing with its stderr if it fails.
pub(crate) fn run(program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| tool(program, format!("cannot run it: {e}")))?;
    if !out.status.success() {
        return Err(tool(
            program,
            format!("failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
        ));
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
        .map_err(|e| tool(program, format!("cannot run it: {e}")))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| tool(program, "no standard input".into()))?;
    let data = input.to_vec();
    // Written from another thread so a program that fills its stdout first cannot deadlock.
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child
        .wait_with_output()
        .map_err(|e| tool(program, format!("waiting for it: {e}")))?;
    writer
        .join()
        .map_err(|_| tool(program, "the thread writing its input stopped".into()))?
        .map_err(|e| tool(program, format!("writing its input: {e}")))?;
    if !out.status.success() {
        return Err(tool(
            program,
            format!("failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
        ));
    }
    Ok(out.stdout)
}

/// A private temporary folder for programs that only read and write files, removed on drop.
pub(crate) struct Scratch(tempfile::TempDir);

impl Scratch {
    pub(crate) fn new() -> Result<Self> {
        tempfile::Builder::new()
            .prefix("lic-eval-")
            .tempdir()
            .map(Self)
            .map_err(|source| Error::Io {
                action: "creating",
                path: std::env::temp_dir(),
                source,
            })
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}
