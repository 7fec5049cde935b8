//! `lic eval`: real encodes and decodes of a folder of images with lic and live anchors,
//! per-image rows, per-quality averages, CompressAI-layout JSON, CSV, an RD plot and the
//! BD-rate table.

mod external;
mod plot;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use lic_codec::bdrate::{Curve, Fit, bd_rate};
use lic_codec::train::Trainer;
use lic_codec::{ColorFormat, Image, Limits, Model, decode, encode, metrics};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::codec_cmd::{Encoder, ModelArgs, RefineArgs};
use crate::io::{check_output, write_output};
use crate::out;
use external::External;

/// VTM-9.1 intra curves shipped with lic (assets/anchors/README.md names their sources).
const VTM_KODAK: &str = include_str!("../../../assets/anchors/compressai/image/kodak/vtm.json");
const VTM_CLIC_PRO_VALID: &str =
    include_str!("../../../assets/anchors/lalic/clicproval-vtm91.json");
const VTM_TECNICK: &str = include_str!("../../../assets/anchors/lalic/tecnick-vtm91.json");
/// Codecs `lic eval` can measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Codec {
    /// lic with the chosen model.
    Lic,
    /// lic's float entropy path (needs --checkpoint): ideal code lengths under the float
    /// entropy parameters, plus the real file's container bytes. Set against `lic` from the
    /// same weights, it measures what the integer entropy path costs.
    LicFloat,
    /// JPEG through libjpeg-turbo's cjpeg/djpeg (4:2:0, standard tables).
    Jpeg,
    /// WebP through libwebp's cwebp/dwebp (optional: Debian package `webp`).
    Webp,
    /// AVIF through libavif's avifenc/avifdec (optional: Debian package `libavif-bin`).
    Avif,
}

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Self::Lic => "lic",
            Self::LicFloat => "lic-float",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
            Self::Avif => "avif",
        }
    }

    fn external(self) -> Option<External> {
        match self {
            Self::Jpeg => Some(External::Jpeg),
            Self::Webp => Some(External::Webp),
            Self::Avif => Some(External::Avif),
            Self::Lic | Self::LicFloat => None,
        }
    }
}

/// Which published VTM-9.1 curve is the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Reference {
    /// Pick from the folder name (kodak, clic, tecnick), or none.
    Auto,
    /// Kodak (CompressAI's results).
    Kodak,
    /// CLIC Professional Validation (LALIC repository).
    ClicProValid,
    /// Tecnick (LALIC repository).
    Tecnick,
    /// No VTM curve.
    None,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Folders of images (PNG, ...) and/or image files.
    #[arg(required = true, value_name = "DIR_OR_FILES")]
    inputs: Vec<PathBuf>,
    /// lic qualities (0..=100, comma-separated); default: the model's trained levels.
    #[arg(short, long, value_delimiter = ',')]
    quality: Option<Vec<f32>>,
    /// lic at every trained level and halfway between neighbours.
    #[arg(long, conflicts_with = "quality")]
    all_qualities: bool,
    /// JPEG qualities (1..=100, comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "5,10,15,20,30,40,50,60,70,80,90,95"
    )]
    jpeg_quality: Vec<u8>,
    /// WebP qualities (0..=100, comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "5,10,20,30,40,50,60,70,80,90,95"
    )]
    webp_quality: Vec<u8>,
    /// AVIF quantisers (0..=63, lower is better; comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "58,52,46,40,34,28,22,16,10"
    )]
    avif_quantizer: Vec<u8>,
    /// Training run whose checkpoint `--codec lic-float` evaluates.
    #[arg(long, value_name = "RUN_DIR")]
    checkpoint: Option<PathBuf>,
    /// Codecs to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "lic,jpeg")]
    codec: Vec<Codec>,
    /// Published VTM-9.1 curve to compare with.
    #[arg(long, value_enum, default_value_t = Reference::Auto)]
    reference: Reference,
    /// More curves to compare with (CompressAI results layout: BPG, WebP, a paper's points...).
    #[arg(long, value_name = "FILE.json")]
    anchor: Vec<PathBuf>,
    /// Results in CompressAI's layout. With several codecs, `-<codec>` is added to the stem.
    #[arg(long, value_name = "OUT.json")]
    json: Option<PathBuf>,
    /// Every row (image, codec, quality) as CSV.
    #[arg(long, value_name = "OUT.csv")]
    csv: Option<PathBuf>,
    /// RD plot (PSNR vs bpp), PNG or SVG by the extension.
    #[arg(long, value_name = "OUT.png|OUT.svg")]
    plot: Option<PathBuf>,
    /// Overwrite outputs that exist.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    refine: RefineArgs,
    #[command(flatten)]
    model: ModelArgs,
}

/// One encode + decode.
#[derive(Debug, Clone, Serialize)]
struct Row {
    image: String,
    codec: &'static str,
    quality: f64,
    width: u32,
    height: u32,
    bytes: usize,
    bpp: f64,
    psnr_rgb: f64,
    ms_ssim_rgb: Option<f64>,
    encoding_time: f64,
    decoding_time: f64,
}

fn collect_images(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        matches!(
                            e.to_ascii_lowercase().as_str(),
                            "png"
                                | "jpg"
                                | "jpeg"
                                | "webp"
                                | "tif"
                                | "tiff"
                                | "bmp"
                                | "ppm"
                                | "pnm"
                                | "pgm"
                        )
                    })
                })
                .collect();
            files.sort();
            out.extend(files);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{} is neither a folder nor a file", p.display());
        }
    }
    if out.is_empty() {
        bail!("no image found in {inputs:?}");
    }
    Ok(out)
}

fn row(
    name: &str,
    codec: Codec,
    quality: f64,
    original: &Image,
    bytes: usize,
    decoded: &Image,
    times: (f64, f64),
) -> Result<Row> {
    let pixels = f64::from(original.width()) * f64::from(original.height());
    Ok(Row {
        image: name.to_owned(),
        codec: codec.name(),
        quality,
        width: original.width(),
        height: original.height(),
        bytes,
        bpp: 8.0 * bytes as f64 / pixels,
        psnr_rgb: metrics::psnr(original, decoded)?,
        ms_ssim_rgb: metrics::ms_ssim(original, decoded)?,
        encoding_time: times.0,
        decoding_time: times.1,
    })
}

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

fn run_lic(model: &Model, encoder: &Encoder, name: &str, image: &Image, q: f32) -> Result<Row> {
    let t = Instant::now();
    let (bytes, _) = encoder
        .encode(model, image, q)
        .with_context(|| format!("{name}: lic encode"))?;
    let enc = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let back =
        decode(model, &bytes, &Limits::default()).with_context(|| format!("{name}: lic decode"))?;
    let dec = t.elapsed().as_secs_f64();
    row(
        name,
        Codec::Lic,
        f64::from(q),
        image,
        bytes.len(),
        &back,
        (enc, dec),
    )
}

fn run_external(codec: Codec, name: &str, image: &Image, q: u8) -> Result<Row> {
    let program = codec.external().context("not an external codec")?;
    let rgb = as_rgb(image)?;
    let t = Instant::now();
    let bytes = program
        .encode(&rgb, q)
        .with_context(|| format!("{name}: {} encode", codec.name()))?;
    let enc = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let back = program
        .decode(&bytes)
        .with_context(|| format!("{name}: {} decode", codec.name()))?;
    let dec = t.elapsed().as_secs_f64();
    row(
        name,
        codec,
        f64::from(q),
        &rgb,
        bytes.len(),
        &back,
        (enc, dec),
    )
}

/// The float entropy path at trained `level` (quality `q`): `model` is the checkpoint's own
/// export, whose real file gives the container bytes (header, framing, section lengths) that
/// the estimate is charged too, so that `lic` vs `lic-float` compares the entropy paths only.
fn run_lic_float(
    trainer: &Trainer,
    model: &Model,
    name: &str,
    image: &Image,
    (level, q): (usize, f32),
) -> Result<Row> {
    let bytes = encode(model, image, q).with_context(|| format!("{name}: lic encode"))?;
    let file = lic_codec::entropy::LicFile::parse(&bytes, &Limits::unlimited())?;
    let payload: usize = file
        .frames
        .iter()
        .flat_map(|f| &f.sections)
        .map(|s| s.data.len())
        .sum();
    let t = Instant::now();
    let estimate = trainer
        .float_estimate(image, level)
        .with_context(|| format!("{name}: float path"))?;
    let time = t.elapsed().as_secs_f64();
    let estimated_bytes = bytes.len() - payload + (estimate.bits / 8.0).ceil() as usize;
    row(
        name,
        Codec::LicFloat,
        f64::from(q),
        image,
        estimated_bytes,
        &estimate.image,
        (time, 0.0),
    )
}

/// Per-quality means of every series, in CompressAI's layout.
fn curve(rows: &[Row], name: &str, description: &str) -> Curve {
    let mut qualities: Vec<f64> = rows.iter().map(|r| r.quality).collect();
    qualities.sort_by(f64::total_cmp);
    qualities.dedup();
    let mut series: Vec<(&str, Vec<Value>)> = [
        "quality",
        "bpp",
        "psnr-rgb",
        "ms-ssim-rgb",
        "encoding_time",
        "decoding_time",
    ]
    .into_iter()
    .map(|k| (k, Vec::new()))
    .collect();
    for q in qualities {
        let at: Vec<&Row> = rows.iter().filter(|r| r.quality == q).collect();
        let n = at.len() as f64;
        let mean = |f: &dyn Fn(&Row) -> f64| at.iter().map(|r| f(r)).sum::<f64>() / n;
        let ms = at
            .iter()
            .map(|r| r.ms_ssim_rgb)
            .collect::<Option<Vec<f64>>>()
            .map(|v| v.iter().sum::<f64>() / n);
        let values = [
            json!(q),
            json!(mean(&|r| r.bpp)),
            json!(mean(&|r| r.psnr_rgb)),
            ms.map_or(Value::Null, |v| json!(v)),
            json!(mean(&|r| r.encoding_time)),
            json!(mean(&|r| r.decoding_time)),
        ];
        for ((_, s), v) in series.iter_mut().zip(values) {
            s.push(v);
        }
    }
    let mut results = Map::new();
    for (k, v) in series {
        if v.iter().all(Value::is_null) {
            continue;
        }
        results.insert(k.to_owned(), Value::Array(v));
    }
    Curve {
        name: name.to_owned(),
        description: description.to_owned(),
        results,
    }
}

fn reference_curve(reference: Reference, inputs: &[PathBuf]) -> Result<Option<Curve>> {
    let pick = match reference {
        Reference::Auto => {
            let names = inputs
                .iter()
                .map(|p| p.to_string_lossy().to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            if names.contains("kodak") {
                Reference::Kodak
            } else if names.contains("clic") {
                Reference::ClicProValid
            } else if names.contains("tecnick") {
                Reference::Tecnick
            } else {
                Reference::None
            }
        }
        r => r,
    };
    let text = match pick {
        Reference::Kodak => VTM_KODAK,
        Reference::ClicProValid => VTM_CLIC_PRO_VALID,
        Reference::Tecnick => VTM_TECNICK,
        Reference::None | Reference::Auto => return Ok(None),
    };
    let mut c: Curve = serde_json::from_str(text).context("embedded VTM curve")?;
    c.name = "VTM-9.1 (published)".into();
    Ok(Some(c))
}

fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".into(), |s| s.trim().to_owned())
}

/// The BD-rate table of `tests` against `anchors`, both fits, PSNR and MS-SSIM.
pub fn bd_table(anchors: &[Curve], tests: &[Curve]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<28} {:<28} {:>11} {:>11} {:>19} {:>13}",
        "test", "anchor", "BD pchip %", "BD cubic %", "PSNR interval dB", "MS-SSIM pchip %"
    );
    for t in tests {
        for a in anchors {
            if std::ptr::eq(a, t) || a.name == t.name {
                continue;
            }
            let p = bd_rate(a, t, "psnr-rgb", Fit::Pchip, None);
            let c = bd_rate(a, t, "psnr-rgb", Fit::Cubic, None);
            let ms = bd_rate(a, t, "ms-ssim-rgb", Fit::Pchip, None)
                .map_or_else(|_| "n/a".to_owned(), |r| format!("{:+.2}", r.value));
            match (p, c) {
                (Ok(p), Ok(c)) => {
                    let _ = writeln!(
                        out,
                        "{:<28} {:<28} {:>+11.2} {:>+11.2} {:>19} {:>13}",
                        t.name,
                        a.name,
                        p.value,
                        c.value,
                        format!("{:.2}..{:.2}", p.interval.0, p.interval.1),
                        ms
                    );
                }
                (Err(e), _) | (_, Err(e)) => {
                    let _ = writeln!(out, "{:<28} {:<28} {e}", t.name, a.name);
                }
            }
        }
    }
    out
}

fn json_path(base: &Path, codec: Codec, several: bool) -> PathBuf {
    if !several {
        return base.to_owned();
    }
    let stem = base
        .file_stem()
        .map_or_else(|| "results".into(), |s| s.to_string_lossy().into_owned());
    base.with_file_name(format!("{stem}-{}.json", codec.name()))
}

pub fn run(args: &EvalArgs) -> Result<()> {
    let several = args.codec.len() > 1;
    let outputs: Vec<PathBuf> = args
        .json
        .iter()
        .flat_map(|j| args.codec.iter().map(|&c| json_path(j, c, several)))
        .chain(args.csv.clone())
        .chain(args.plot.clone())
        .collect();
    for o in &outputs {
        check_output(o, args.force)?;
    }
    if let Some(p) = &args.plot {
        plot::check_extension(p)?;
    }
    if args.jpeg_quality.iter().any(|&q| !(1..=100).contains(&q)) {
        bail!("JPEG qualities must be within 1..=100");
    }
    let extra: Vec<Curve> = args
        .anchor
        .iter()
        .map(|p| Curve::from_file(p).map_err(anyhow::Error::from))
        .collect::<Result<_>>()?;
    for codec in &args.codec {
        if let Some(program) = codec.external() {
            program.available()?;
        }
    }
    let files = collect_images(&args.inputs)?;
    let images: Vec<(String, Image)> = files
        .par_iter()
        .map(|f| {
            let name = f
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            Image::open(f)
                .with_context(|| format!("cannot read {}", f.display()))
                .map(|i| (name, i))
        })
        .collect::<Result<_>>()?;

    let (model, encoder) = if args.codec.contains(&Codec::Lic) {
        (
            Some(args.model.load()?),
            Some(Encoder::new(&args.refine, &args.model)?),
        )
    } else {
        (None, None)
    };
    let refine = encoder.as_ref().and_then(Encoder::options);
    // The float path: the checkpoint's float weights and their own export.
    let float = if args.codec.contains(&Codec::LicFloat) {
        let run = args
            .checkpoint
            .as_ref()
            .context("--codec lic-float needs --checkpoint RUN_DIR (a `lic train` run)")?;
        let mut trainer = Trainer::from_checkpoint(run, false, &lic_codec::Device::flex())
            .with_context(|| format!("cannot load the checkpoint in {}", run.display()))?;
        // `lic export --name` may have renamed the model; the weights are what must match.
        if let Some(m) = &model {
            trainer.set_name(&m.info().name);
        }
        let exported = Model::from_file(&trainer.export()?, &args.model.device()?)?;
        if let Some(m) = &model
            && m.fingerprint() != exported.fingerprint()
        {
            bail!(
                "the model ({}) is not the export of the checkpoint in {} ({}): lic and \
                 lic-float would compare different weights",
                m.fingerprint(),
                run.display(),
                exported.fingerprint()
            );
        }
        Some((trainer, exported))
    } else {
        None
    };
    let levels = model
        .as_ref()
        .or(float.as_ref().map(|(_, m)| m))
        .map(|m| m.config().quality_levels.max(2));
    let lic_qualities: Vec<f32> = match (&args.quality, levels) {
        (Some(q), _) => q.clone(),
        (None, Some(levels)) => {
            let step = if args.all_qualities { 0.5 } else { 1.0 };
            let count = ((levels - 1) as f32 / step) as usize;
            (0..=count)
                .map(|i| i as f32 * step * 100.0 / (levels - 1) as f32)
                .collect()
        }
        (None, None) => Vec::new(),
    };
    if lic_qualities.iter().any(|q| !(0.0..=100.0).contains(q)) {
        bail!("lic qualities must be within 0..=100");
    }
    // The float path exists at the trained levels only.
    let float_levels: Vec<(usize, f32)> = match (&float, levels) {
        (Some(_), Some(levels)) => lic_qualities
            .iter()
            .filter_map(|&q| {
                let t = q / 100.0 * (levels - 1) as f32;
                (t.fract() == 0.0).then_some((t as usize, q))
            })
            .collect(),
        _ => Vec::new(),
    };
    if float.is_some() && float_levels.is_empty() {
        bail!(
            "lic-float runs at the trained levels only (qualities {:?})",
            {
                let l = levels.unwrap_or(2);
                (0..l)
                    .map(|i| i as f32 * 100.0 / (l - 1) as f32)
                    .collect::<Vec<_>>()
            }
        );
    }

    let external_qualities = |codec: Codec| -> &[u8] {
        match codec {
            Codec::Jpeg => &args.jpeg_quality,
            Codec::Webp => &args.webp_quality,
            Codec::Avif => &args.avif_quantizer,
            Codec::Lic | Codec::LicFloat => &[],
        }
    };
    for (codec, limit) in [(Codec::Jpeg, 100), (Codec::Webp, 100), (Codec::Avif, 63)] {
        if external_qualities(codec).iter().any(|&q| q > limit) {
            bail!("{} qualities must be within 0..={limit}", codec.name());
        }
    }
    let jobs: usize = args
        .codec
        .iter()
        .map(|&c| match c {
            Codec::Lic => lic_qualities.len(),
            Codec::LicFloat => float_levels.len(),
            c => external_qualities(c).len(),
        })
        .sum::<usize>()
        * images.len();
    let bar = ProgressBar::new(jobs as u64);
    bar.set_style(ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} encodes, ETA {eta} {msg}",
    )?);

    let mut curves = Vec::new();
    let mut all_rows = Vec::new();
    for &codec in &args.codec {
        bar.set_message(codec.name());
        let rows: Vec<Row> = match codec {
            // The model already uses every core for each image: images one after the other.
            Codec::Lic => {
                let model = model.as_ref().context("no model loaded")?;
                let encoder = encoder.as_ref().context("no encoder")?;
                let mut rows = Vec::new();
                for (name, image) in &images {
                    for &q in &lic_qualities {
                        rows.push(run_lic(model, encoder, name, image, q)?);
                        bar.inc(1);
                    }
                }
                rows
            }
            Codec::LicFloat => {
                let (trainer, exported) = float.as_ref().context("no checkpoint loaded")?;
                let mut rows = Vec::new();
                for (name, image) in &images {
                    for &at in &float_levels {
                        rows.push(run_lic_float(trainer, exported, name, image, at)?);
                        bar.inc(1);
                    }
                }
                rows
            }
            // One external encode per core at a time.
            _ => images
                .par_iter()
                .flat_map_iter(|(name, image)| {
                    external_qualities(codec).iter().map(|&q| {
                        let r = run_external(codec, name, image, q);
                        bar.inc(1);
                        r
                    })
                })
                .collect::<Result<_>>()?,
        };
        let (name, description) = match codec {
            Codec::Lic | Codec::LicFloat => {
                let m = match codec {
                    Codec::Lic => model.as_ref(),
                    _ => float.as_ref().map(|(_, m)| m),
                }
                .context("no model loaded")?;
                let path = match (codec, refine) {
                    (Codec::Lic, Some(o)) => format!(", refined {} steps", o.steps),
                    (Codec::Lic, None) => String::new(),
                    _ => ", float path".to_owned(),
                };
                (
                    format!("lic ({}{path})", m.info().name),
                    format!(
                        "lic {} model {} fingerprint {}{path}",
                        env!("CARGO_PKG_VERSION"),
                        m.info().name,
                        m.fingerprint()
                    ),
                )
            }
            c => {
                let (n, d) = c.external().context("external codec")?.describe();
                (n.to_owned(), d.to_owned())
            }
        };
        curves.push((codec, curve(&rows, &name, &description)));
        all_rows.extend(rows);
    }
    bar.finish_and_clear();

    let environment = json!({
        "backend": args.model.backend().hardware(),
        "threads": rayon::current_num_threads(),
        "commit": git_commit(),
        "lic_version": env!("CARGO_PKG_VERSION"),
        "model": model.as_ref().map(|m| json!({"name": m.info().name, "fingerprint": m.fingerprint().to_string()})),
        "refine": refine.map(|o| json!({"steps": o.steps, "learning_rate": o.learning_rate})),
        "images": images.len(),
        "inputs": args.inputs,
    });

    // Per-quality table.
    writeln!(
        out(),
        "{:<32} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "codec",
        "quality",
        "bpp",
        "PSNR dB",
        "MS-SSIM",
        "enc s",
        "dec s"
    );
    for (_, c) in &curves {
        let s = |k: &str| c.series(k).unwrap_or_default();
        let (q, b, p, e, d) = (
            s("quality"),
            s("bpp"),
            s("psnr-rgb"),
            s("encoding_time"),
            s("decoding_time"),
        );
        let m = s("ms-ssim-rgb");
        for i in 0..q.len() {
            let ms = m
                .get(i)
                .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.5}"));
            writeln!(
                out(),
                "{:<32} {:>8.1} {:>8.4} {:>9.3} {:>9} {:>9.3} {:>9.3}",
                c.name,
                q[i],
                b[i],
                p[i],
                ms,
                e[i],
                d[i]
            );
        }
    }

    let mut anchors: Vec<Curve> = Vec::new();
    // Measured anchors first, then the published ones.
    anchors.extend(
        curves
            .iter()
            .filter(|(c, _)| c.external().is_some())
            .map(|(_, c)| c.clone()),
    );
    anchors.extend(reference_curve(args.reference, &args.inputs)?);
    anchors.extend(extra.iter().cloned());
    let tests: Vec<Curve> = curves
        .iter()
        .filter(|(c, _)| c.external().is_none())
        .map(|(_, c)| c.clone())
        .collect();
    if !anchors.is_empty() && !tests.is_empty() {
        writeln!(
            out(),
            "\nBD-rate of lic (negative: fewer bits at equal quality)"
        );
        write!(out(), "{}", bd_table(&anchors, &tests));
    }

    if let Some(j) = &args.json {
        for (codec, c) in &curves {
            let mut v = serde_json::to_value(c)?;
            v["environment"] = environment.clone();
            v["images"] = serde_json::to_value(
                all_rows
                    .iter()
                    .filter(|r| r.codec == codec.name())
                    .collect::<Vec<_>>(),
            )?;
            let path = json_path(j, *codec, several);
            write_output(
                &path,
                serde_json::to_string_pretty(&v)?.as_bytes(),
                args.force,
            )?;
        }
    }
    if let Some(p) = &args.csv {
        let mut s = String::from(
            "image,codec,quality,width,height,bytes,bpp,psnr_rgb,ms_ssim_rgb,encoding_time,decoding_time\n",
        );
        for r in &all_rows {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{:.6},{:.4},{},{:.4},{:.4}",
                r.image.replace(',', "_"),
                r.codec,
                r.quality,
                r.width,
                r.height,
                r.bytes,
                r.bpp,
                r.psnr_rgb,
                r.ms_ssim_rgb
                    .map_or_else(String::new, |v| format!("{v:.6}")),
                r.encoding_time,
                r.decoding_time
            );
        }
        write_output(p, s.as_bytes(), args.force)?;
    }
    if let Some(p) = &args.plot {
        let mut shown: Vec<Curve> = curves.iter().map(|(_, c)| c.clone()).collect();
        shown.extend(reference_curve(args.reference, &args.inputs)?);
        shown.extend(extra);
        let bytes = plot::render(&shown, p)?;
        write_output(p, &bytes, args.force)?;
    }
    Ok(())
}
