//! `lic encode` and `lic decode`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use lic_codec::{Device, Image, ImageFormat, Limits, Model, decode, encode, metrics};

use crate::io::{check_output, read_input, write_output};

/// Where the float transforms run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// burn's flex CPU backend (all cores).
    Cpu,
    /// burn's wgpu backend: Vulkan, Metal or DX12, whichever the machine offers.
    Wgpu,
}

impl Backend {
    /// Backend, thread count and processor, as training logs and eval reports name them:
    /// `flex, 2 threads, AMD EPYC ...`.
    pub fn hardware(self) -> String {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let host = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|m| m.trim().to_owned())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
        let backend = match self {
            Self::Cpu => "flex",
            Self::Wgpu => "wgpu",
        };
        format!("{backend}, {cores} threads, {host}")
    }

    /// The burn device of this backend.
    pub fn device(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => Ok(lic_codec::wgpu_device()?),
            #[cfg(not(feature = "wgpu"))]
            Self::Wgpu => bail!("this lic was built without the wgpu feature"),
        }
    }
}

/// Options shared by the commands that run the model.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Backend for the float transforms; the entropy networks always run in integers on the CPU.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// A model file (.licm) instead of the embedded default model.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
}

impl ModelArgs {
    /// The chosen backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The device of the chosen backend.
    pub fn device(&self) -> Result<Device> {
        self.backend.device()
    }

    pub fn load(&self) -> Result<Model> {
        let device = self.backend.device()?;
        match &self.model {
            Some(path) => {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read model {}", path.display()))?;
                Model::from_bytes(&bytes, &device)
                    .with_context(|| format!("cannot load model {}", path.display()))
            }
            None => Model::default_model(&device).context("cannot load the default model"),
        }
    }
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Image to compress: PNG, JPEG, WebP, TIFF, BMP or PNM, 8-bit RGB or gray (`-` for stdin).
    input: PathBuf,
    /// The .lic file to write (`-` for stdout).
    #[arg(short, long)]
    output: PathBuf,
    /// Quality, 0 (smallest) to 100 (best).
    #[arg(short, long, default_value_t = 50.0, value_parser = parse_quality)]
    quality: f32,
    /// Overwrite the output if it exists.
    #[arg(long)]
    force: bool,
    /// Decode the result and print bpp, PSNR and MS-SSIM (to stderr).
    #[arg(long)]
    metrics: bool,
    #[command(flatten)]
    model: ModelArgs,
}

fn parse_quality(s: &str) -> Result<f32, String> {
    let q: f32 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=100.0).contains(&q) {
        Ok(q)
    } else {
        Err(format!("{q} is outside 0..=100"))
    }
}

pub fn run_encode(args: &EncodeArgs) -> Result<()> {
    check_output(&args.output, args.force)?;
    let input = read_input(&args.input)?;
    let image = Image::from_memory(&input)
        .with_context(|| format!("cannot read image {}", args.input.display()))?;
    let model = args.model.load()?;
    let t = Instant::now();
    let bytes = encode(&model, &image, args.quality).context("encoding failed")?;
    let encode_time = t.elapsed();
    write_output(&args.output, &bytes, args.force)?;
    if args.metrics {
        let t = Instant::now();
        let back = decode(&model, &bytes, &Limits::default()).context("decoding failed")?;
        let decode_time = t.elapsed();
        let pixels = f64::from(image.width()) * f64::from(image.height());
        let ms = match metrics::ms_ssim(&image, &back)? {
            Some(v) => format!("{v:.5}"),
            None => "n/a (needs 176 px per side)".into(),
        };
        eprintln!(
            "{} x {}  q {}  {} bytes  {:.4} bpp  PSNR {:.3} dB  MS-SSIM {}  encode {:.3} s  decode {:.3} s",
            image.width(),
            image.height(),
            args.quality,
            bytes.len(),
            8.0 * bytes.len() as f64 / pixels,
            metrics::psnr(&image, &back)?,
            ms,
            encode_time.as_secs_f64(),
            decode_time.as_secs_f64()
        );
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The .lic file (`-` for stdin).
    input: PathBuf,
    /// The image to write: .png, .ppm/.pgm/.pnm, .bmp or .tif/.tiff (`-` writes PNG to stdout).
    #[arg(short, long)]
    output: PathBuf,
    /// Overwrite the output if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    model: ModelArgs,
}

fn output_format(path: &Path) -> Result<ImageFormat> {
    if path.as_os_str() == "-" {
        return Ok(ImageFormat::Png);
    }
    match ImageFormat::from_path(path) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Pnm | ImageFormat::Bmp | ImageFormat::Tiff)) => {
            Ok(f)
        }
        _ => bail!(
            "cannot tell a lossless output format from {} (use .png, .ppm, .pgm, .bmp or .tiff)",
            path.display()
        ),
    }
}

pub fn run_decode(args: &DecodeArgs) -> Result<()> {
    check_output(&args.output, args.force)?;
    let format = output_format(&args.output)?;
    let bytes = read_input(&args.input)?;
    let model = args.model.load()?;
    let image = decode(&model, &bytes, &Limits::default())
        .with_context(|| format!("cannot decode {}", args.input.display()))?;
    write_output(&args.output, &image.to_format(format)?, args.force)
}
