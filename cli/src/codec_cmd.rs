//! `lic encode` and `lic decode`.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use lic_codec::{
    Device, Image, ImageFormat, Limits, Metadata, Model, ModelFile, Target, VideoDecoder, decode,
    encode, encode_to_target,
};
use lic_eval::metrics;
use lic_train::{RefineOptions, RefineReport, Refiner, encode_refined};

use crate::io::{check_output, open_input, write_output};
use crate::video_cmd::{
    ClipReader, FrameSink, MatrixArg, RangeArg, RawFormat, decode_video, encode_clip, is_y4m,
    parse_fps, parse_frames, parse_size,
};

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

    /// The chosen model's file: `--model`, else the embedded one.
    pub fn file(&self) -> Result<ModelFile> {
        let bytes = match &self.model {
            Some(path) => std::fs::read(path)
                .with_context(|| format!("cannot read model {}", path.display()))?,
            None => lic_models::default_model_bytes().to_vec(),
        };
        ModelFile::from_bytes(&bytes).with_context(|| match &self.model {
            Some(path) => format!("cannot load model {}", path.display()),
            None => "cannot load the default model".into(),
        })
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
    /// Image to compress: PNG, JPEG, WebP, TIFF, BMP or PNM, 8-bit RGB or gray; or a video,
    /// coded frame by frame: YUV4MPEG2 (.y4m, 8-bit 4:2:0, 4:2:2 or 4:4:4), raw planes with
    /// --size, or any file FFmpeg reads (.mp4, .mkv, .webm, .avi, ...). `-` reads standard
    /// input (an image, Y4M or raw planes). Several images, or folders of them: each is
    /// coded into the output folder as NAME.lic, in parallel.
    #[arg(required = true, num_args = 1..)]
    pub(crate) inputs: Vec<PathBuf>,
    /// The .lic file to write (`-` for stdout); the folder to write into when encoding
    /// several images or a folder (created if missing).
    #[arg(short, long)]
    pub(crate) output: PathBuf,
    /// Several images: how many threads code them (images in parallel); default: the
    /// machine's cores.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) jobs: Option<u16>,
    /// Quality, 0 (smallest) to 100 (best).
    #[arg(short, long, default_value_t = 50.0, value_parser = parse_quality)]
    quality: f32,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub(crate) force: bool,
    /// Decode the result and print bpp, PSNR and MS-SSIM (to stderr; images).
    #[arg(long)]
    pub(crate) metrics: bool,
    /// Video: the Y'CbCr matrix of the input (default: BT.709 from 720 lines up, else
    /// BT.601; Y4M does not record it).
    #[arg(long, value_enum)]
    matrix: Option<MatrixArg>,
    /// Video: the input's sample range (default: the Y4M's XCOLORRANGE, else limited).
    #[arg(long, value_enum)]
    range: Option<RangeArg>,
    /// Video: an intra frame every N frames, the others inter (0: only the first). Decoding
    /// from frame i starts at the intra frame at or before it. Default: about 2 seconds of
    /// frames with a model that has temporal networks, else 1 (every frame intra).
    #[arg(long, value_name = "N")]
    intra_period: Option<u32>,
    /// Image: leave out the input's ICC profile, Exif and XMP (kept by default, and written
    /// back on decode to PNG).
    #[arg(long)]
    strip: bool,
    /// Image: the highest quality whose file is at most this size (bytes, or with a unit:
    /// 30kB, 30KiB, 1.5MB), found by a few trial encodes (printed).
    #[arg(long, value_name = "SIZE", value_parser = parse_byte_size,
          conflicts_with_all = ["quality", "target_bpp", "target_psnr"])]
    target_size: Option<u64>,
    /// Image: the highest quality whose file is at most this many bits per pixel.
    #[arg(long, value_name = "BPP", value_parser = parse_positive,
          conflicts_with_all = ["quality", "target_psnr"])]
    target_bpp: Option<f64>,
    /// Image: the lowest quality whose decoded image reaches this PSNR (dB).
    #[arg(long, value_name = "DB", value_parser = parse_positive, conflicts_with = "quality")]
    target_psnr: Option<f64>,
    /// Video: the input is raw planar Y'CbCr (.yuv) of this size, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    size: Option<(u32, u32)>,
    /// Video: the raw input's sample layout.
    #[arg(long, value_enum, default_value = "yuv420p", requires = "size")]
    pix_fmt: RawFormat,
    /// Video: frames per second (30, 29.97 or 30000/1001); default: what the input says (25
    /// for raw input).
    #[arg(long, value_parser = parse_fps)]
    fps: Option<(u32, u32)>,
    #[command(flatten)]
    refine: RefineArgs,
    #[command(flatten)]
    pub(crate) model: ModelArgs,
}

/// Encoder-side latent refinement (lic-train's `encode_refined`): slower encodes, smaller files at
/// the same quality, the same decoder.
#[derive(Debug, Args)]
pub struct RefineArgs {
    /// Gradient steps on each image's latents before coding (0: none). Each step costs
    /// about as much as two decodes; 15-30 gives most of the gain.
    #[arg(long, default_value_t = 0, value_name = "STEPS")]
    refine: usize,
    /// Learning rate of the refinement, in units of the latent before its gain (decays
    /// linearly to zero).
    #[arg(long, default_value_t = RefineOptions::default().learning_rate, value_name = "LR",
          value_parser = parse_learning_rate)]
    refine_lr: f32,
}

fn parse_learning_rate(s: &str) -> Result<f32, String> {
    let lr: f32 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if lr.is_finite() && lr > 0.0 && lr <= 10.0 {
        Ok(lr)
    } else {
        Err(format!("{lr} is outside (0, 10]"))
    }
}

impl RefineArgs {
    /// The options, or `None` for plain encodes.
    pub fn options(&self) -> Option<RefineOptions> {
        (self.refine > 0).then_some(RefineOptions {
            steps: self.refine,
            learning_rate: self.refine_lr,
        })
    }
}

/// An encoder: plain, or refining each image's latents.
pub struct Encoder {
    refiner: Option<(Refiner, RefineOptions)>,
}

impl Encoder {
    /// The encoder `refine` asks for, for the model `model` names.
    pub fn new(refine: &RefineArgs, model: &ModelArgs) -> Result<Self> {
        let refiner = match refine.options() {
            Some(options) => Some((
                Refiner::from_file(&model.file()?, &model.device()?)
                    .context("cannot prepare the model for refinement")?,
                options,
            )),
            None => None,
        };
        Ok(Self { refiner })
    }

    /// Encodes `image` at quality `q` with `model`; with refinement, what it did.
    pub fn encode(
        &self,
        model: &Model,
        image: &Image,
        q: f32,
    ) -> Result<(Vec<u8>, Option<RefineReport>)> {
        match &self.refiner {
            Some((refiner, options)) => {
                let (bytes, report) = encode_refined(model, refiner, image, q, options)?;
                Ok((bytes, Some(report)))
            }
            None => Ok((encode(model, image, q)?, None)),
        }
    }

    /// The refinement options (`None` for plain encodes).
    pub fn options(&self) -> Option<RefineOptions> {
        self.refiner.as_ref().map(|(_, o)| *o)
    }
}

/// A positive finite number.
fn parse_positive(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a positive number")),
    }
}

/// Bytes: `30000`, `30kB`/`30k` (1000), `30KiB` (1024), `1.5MB`, `1MiB`.
fn parse_byte_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit_bytes = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        _ => return Err(format!("`{s}`: the unit must be B, kB, KiB, MB or MiB")),
    };
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v * unit_bytes >= 1.0 && v * unit_bytes < 1e15 => {
            Ok((v * unit_bytes).floor() as u64)
        }
        _ => Err(format!("`{s}` is not a size in bytes")),
    }
}

fn parse_quality(s: &str) -> Result<f32, String> {
    let q: f32 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=100.0).contains(&q) {
        Ok(q)
    } else {
        Err(format!("{q} is outside 0..=100"))
    }
}

/// What kind of video an input to `lic encode` is.
#[derive(Clone, Copy)]
enum VideoInput {
    /// Raw planes (`--size`).
    Raw,
    /// YUV4MPEG2.
    Y4m,
    /// Neither an image nor Y4M: a file for FFmpeg.
    File,
}

/// A file that is neither an image lic reads nor Y4M: a raw `.yuv` without its size, or a
/// video for FFmpeg.
fn video_file(path: &Path) -> Result<ClipReader> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yuv"))
    {
        bail!(
            "{} looks like raw Y'CbCr: give its size with --size WxH (and --pix-fmt, --fps)",
            path.display()
        );
    }
    #[cfg(feature = "ffmpeg")]
    {
        ClipReader::ffmpeg(path).with_context(|| {
            format!(
                "{} is not an image lic reads (PNG, JPEG, WebP, TIFF, BMP, PNM) nor Y4M, and \
                 FFmpeg cannot read it as video",
                path.display()
            )
        })
    }
    #[cfg(not(feature = "ffmpeg"))]
    bail!(
        "{} is not an image lic reads (PNG, JPEG, WebP, TIFF, BMP, PNM) nor Y4M; this lic was \
         built without FFmpeg (cargo feature `ffmpeg`), so convert a video first: `ffmpeg -i \
         IN -pix_fmt yuv420p OUT.y4m`",
        path.display()
    )
}

pub fn run_encode(args: &EncodeArgs) -> Result<()> {
    match args.inputs.as_slice() {
        [one] if !one.is_dir() => encode_one_input(args, one),
        _ => crate::batch::encode_batch(args),
    }
}

/// What encoding one image gave.
pub struct CodedImage {
    /// The `.lic` file.
    pub bytes: Vec<u8>,
    /// The quality it was coded at.
    pub quality: f32,
    /// With refinement, what it did.
    pub report: Option<RefineReport>,
    /// With a target, how the search went: trials, and the PSNR for a PSNR target.
    pub search: Option<(u32, Option<f64>)>,
}

impl EncodeArgs {
    /// The encode target the options ask for, if any.
    fn target(&self) -> Option<Target> {
        match (self.target_size, self.target_bpp, self.target_psnr) {
            (Some(b), _, _) => Some(Target::Bytes(b)),
            (_, Some(bpp), _) => Some(Target::Bpp(bpp)),
            (_, _, Some(db)) => Some(Target::Psnr(db)),
            _ => None,
        }
    }

    /// Checks that the options can code images (a refined encode has no target).
    pub fn check_image_options(&self) -> Result<()> {
        if self.target().is_some() && self.refine.options().is_some() {
            bail!("--refine and a --target-* option cannot be combined yet");
        }
        Ok(())
    }

    /// The encoder the options ask for.
    pub fn encoder(&self) -> Result<Encoder> {
        Encoder::new(&self.refine, &self.model)
    }

    /// Codes `image` as the options say: at a target, else at the quality (refined or not).
    pub fn encode_image(
        &self,
        model: &Model,
        encoder: &Encoder,
        image: &Image,
    ) -> Result<CodedImage> {
        let stripped;
        let image = if self.strip && !image.metadata().is_empty() {
            stripped = image.clone().with_metadata(Metadata::default());
            &stripped
        } else {
            image
        };
        if let Some(target) = self.target() {
            let o = encode_to_target(model, image, target)?;
            return Ok(CodedImage {
                bytes: o.bytes,
                quality: o.quality,
                report: None,
                search: Some((o.trials, o.psnr)),
            });
        }
        let (bytes, report) = encoder.encode(model, image, self.quality)?;
        Ok(CodedImage {
            bytes,
            quality: self.quality,
            report,
            search: None,
        })
    }
}

fn encode_one_input(args: &EncodeArgs, input_path: &Path) -> Result<()> {
    check_output(&args.output, args.force)?;
    let mut stream = open_input(input_path)?;
    let start = stream.fill_buf().context("cannot read the input")?;
    let video = if args.size.is_some() {
        Some(VideoInput::Raw)
    } else if is_y4m(start) {
        Some(VideoInput::Y4m)
    } else if input_path.as_os_str() != "-" && !start.is_empty() && !Image::recognises(start) {
        Some(VideoInput::File)
    } else {
        None
    };
    if let Some(video) = video {
        let targeted =
            args.target_size.is_some() || args.target_bpp.is_some() || args.target_psnr.is_some();
        if args.refine.options().is_some() || args.metrics || targeted {
            bail!("--refine, --metrics and --target-* apply to images; a video is coded plainly");
        }
        let clip = match (video, args.size) {
            (VideoInput::Raw, Some(size)) => {
                let fps = args.fps.unwrap_or_else(|| {
                    eprintln!("lic: the raw input's frame rate is taken as 25 (--fps to choose)");
                    (25, 1)
                });
                ClipReader::raw(stream, size, args.pix_fmt, fps)?
            }
            (VideoInput::Y4m, _) => ClipReader::y4m(stream)?,
            _ => video_file(input_path)?,
        };
        let model = args.model.load()?;
        return encode_clip(
            clip,
            &args.output,
            args.force,
            &model,
            args.quality,
            (args.matrix, args.range),
            args.intra_period,
            args.fps,
        );
    }
    let mut input = Vec::new();
    stream
        .read_to_end(&mut input)
        .with_context(|| format!("cannot read {}", input_path.display()))?;
    let image = Image::from_memory(&input)
        .with_context(|| format!("cannot read image {}", input_path.display()))?;
    let model = args.model.load()?;
    args.check_image_options()?;
    let encoder = args.encoder()?;
    let t = Instant::now();
    let CodedImage {
        bytes,
        quality,
        report,
        search,
    } = args
        .encode_image(&model, &encoder, &image)
        .context("encoding failed")?;
    if let (Some(target), Some((trials, psnr))) = (args.target(), search) {
        eprintln!(
            "{}: quality {quality:.2} after {trials} trial encodes{}",
            match target {
                Target::Bytes(b) => format!("at most {b} bytes"),
                Target::Bpp(bpp) => format!("at most {bpp} bpp"),
                Target::Psnr(db) => format!("at least {db} dB"),
            },
            psnr.map_or(String::new(), |p| format!(" ({p:.3} dB)"))
        );
    }
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
            quality,
            bytes.len(),
            8.0 * bytes.len() as f64 / pixels,
            metrics::psnr(&image, &back)?,
            ms,
            encode_time.as_secs_f64(),
            decode_time.as_secs_f64()
        );
        if let Some(r) = report {
            eprintln!(
                "refinement (float estimate, lambda {:.5}): {:.4} bpp, MSE {:.6}, loss {:.4} -> \
                 {:.4} bpp, MSE {:.6}, loss {:.4} (step {}), {:.3} s",
                r.lambda,
                r.initial.bpp,
                r.initial.mse,
                r.initial.loss,
                r.coded.bpp,
                r.coded.mse,
                r.coded.loss,
                r.best_step,
                r.elapsed.as_secs_f64()
            );
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The .lic file (`-` for stdin).
    input: PathBuf,
    /// The image to write: .png, .ppm/.pgm/.pnm, .bmp or .tif/.tiff (`-` writes PNG to
    /// stdout). A video: .y4m (`-` writes Y4M to stdout), .mkv (lossless FFV1), or numbered
    /// images with a pattern such as frames-%04d.png.
    #[arg(short, long)]
    output: PathBuf,
    /// Video: the frames to decode, `A..B` (B excluded), `A..=B`, `A..`, `..B` or `A`
    /// (0-based).
    #[arg(long, value_parser = parse_frames)]
    frames: Option<std::ops::Range<u64>>,
    /// Overwrite the output if it exists.
    #[arg(long)]
    force: bool,
    /// Largest memory the decode may take, in MiB (lic estimates it from the model and the
    /// picture's size and refuses a larger picture before decoding it).
    #[arg(long, value_name = "MIB", default_value_t = Limits::DEFAULT_MAX_ALLOC >> 20)]
    max_memory: u64,
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
    let input = open_input(&args.input)?;
    let model = args.model.load()?;
    let limits = Limits::default().with_max_alloc(args.max_memory.saturating_mul(1 << 20));
    let context = |e: lic_codec::Error| {
        let hint =
            match &e {
                lic_codec::Error::Format(lic_codec::FormatError::LimitExceeded {
                    what, ..
                }) if what.starts_with("decoder memory") => " (--max-memory raises the limit)",
                _ => "",
            };
        anyhow::Error::new(e).context(format!("cannot decode {}{hint}", args.input.display()))
    };
    let mut dec = VideoDecoder::new(&model, input, &limits).map_err(context)?;
    if let Some(info) = dec.header().video {
        let sink = FrameSink::for_path(&args.output)?;
        let frames = args.frames.clone().unwrap_or(0..u64::MAX);
        return decode_video(dec, info, &sink, frames, args.force)
            .with_context(|| format!("cannot decode {}", args.input.display()));
    }
    if args.frames.is_some() {
        bail!(
            "--frames selects frames of a video; {} is an image",
            args.input.display()
        );
    }
    let format = output_format(&args.output)?;
    // An image is a one-frame stream: its errors need no frame number.
    let image = match dec.next_frame() {
        Ok(Some(image)) => image,
        Ok(None) => bail!("{} holds no frame", args.input.display()),
        Err(lic_codec::Error::Frame { error, .. }) => return Err(context(*error)),
        Err(e) => return Err(context(e)),
    };
    write_output(&args.output, &image.to_format(format)?, args.force)
}
