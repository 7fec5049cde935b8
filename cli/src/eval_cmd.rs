//! `lic eval`: the command line of lic-eval's engine. It picks the codecs (lic plain, refined
//! or on its float path, and the live anchors), runs them with a progress bar, prints the
//! per-quality and BD-rate tables and writes the JSON, CSV and plot files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use lic_codec::container::LicFile;
use lic_codec::{Image, Limits, Model, encode};
use lic_eval::bdrate::Curve;
use lic_eval::{
    Coded, External, ExternalCodec, LicCodec, Measured, Role, bd_table, collect_images,
    lic_curve_label, load_images, measure, plot, quality_table, results_json, trained_qualities,
};
use lic_train::{RefineOptions, Trainer};
use serde_json::{Value, json};

use crate::codec_cmd::{Encoder, ModelArgs, RefineArgs};
use crate::io::{check_output, write_output};
use crate::out;
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

    /// The live anchor behind this choice, if it is one.
    fn external(self) -> Option<External> {
        match self {
            Self::Jpeg => Some(External::Jpeg),
            Self::Webp => Some(External::Webp),
            Self::Avif => Some(External::Avif),
            Self::Lic | Self::LicFloat => None,
        }
    }
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
    /// Published VTM-9.1 curve to compare with: auto picks it from the inputs' names (kodak,
    /// clic, tecnick), or none.
    #[arg(long, default_value = "auto",
          value_parser = PossibleValuesParser::new(lic_eval::Reference::NAMES)
              .try_map(|s| s.parse::<lic_eval::Reference>()))]
    reference: lic_eval::Reference,
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

/// lic refining each image's latents before coding (`--refine`).
struct RefinedLic<'a> {
    model: &'a Model,
    encoder: &'a Encoder,
    options: RefineOptions,
    qualities: Vec<f64>,
}

impl lic_eval::Codec for RefinedLic<'_> {
    fn id(&self) -> &'static str {
        "lic"
    }

    fn curve_name(&self) -> String {
        lic_curve_label(self.model, &self.variant()).0
    }

    fn description(&self) -> String {
        lic_curve_label(self.model, &self.variant()).1
    }

    fn qualities(&self) -> &[f64] {
        &self.qualities
    }

    fn role(&self) -> Role {
        Role::Test
    }

    fn code(&self, image: &Image, quality: f64) -> lic_eval::Result<Coded> {
        let t = Instant::now();
        let (bytes, _) = self
            .encoder
            .encode(self.model, image, quality as f32)
            .map_err(|e| measured("lic", e.into()))?;
        Coded::decode_lic(self.model, &bytes, t.elapsed().as_secs_f64())
    }
}

impl RefinedLic<'_> {
    fn variant(&self) -> String {
        format!(", refined {} steps", self.options.steps)
    }
}

/// lic's float entropy path at the trained levels (`--codec lic-float`): ideal code lengths
/// under the float entropy parameters, charged with the real file's container bytes (header,
/// framing, section lengths), so that `lic` against `lic-float` compares the entropy paths
/// only.
struct FloatLic {
    trainer: Trainer,
    /// The checkpoint's own export, whose real files give the container bytes.
    exported: Model,
    /// `(trained level, quality)` pairs.
    levels: Vec<(usize, f32)>,
    qualities: Vec<f64>,
}

impl lic_eval::Codec for FloatLic {
    fn id(&self) -> &'static str {
        "lic-float"
    }

    fn curve_name(&self) -> String {
        lic_curve_label(&self.exported, ", float path").0
    }

    fn description(&self) -> String {
        lic_curve_label(&self.exported, ", float path").1
    }

    fn qualities(&self) -> &[f64] {
        &self.qualities
    }

    fn role(&self) -> Role {
        Role::Test
    }

    fn code(&self, image: &Image, quality: f64) -> lic_eval::Result<Coded> {
        let (level, q) = self
            .levels
            .iter()
            .copied()
            .find(|&(_, q)| f64::from(q) == quality)
            .ok_or_else(|| lic_eval::Error::InvalidSetting {
                setting: "lic-float quality",
                value: quality.to_string(),
                expected: "a trained level's quality".into(),
            })?;
        let bytes = encode(&self.exported, image, q)?;
        let file = LicFile::parse(&bytes, &Limits::unlimited()).map_err(lic_codec::Error::from)?;
        let payload: usize = file
            .frames
            .iter()
            .flat_map(|f| &f.sections)
            .map(|s| s.data.len())
            .sum();
        let t = Instant::now();
        let estimate = self
            .trainer
            .float_estimate(image, level)
            .map_err(|e| measured("lic-float", e.into()))?;
        Ok(Coded {
            bytes: bytes.len() - payload + (estimate.bits / 8.0).ceil() as usize,
            decoded: estimate.image,
            encoding_time: t.elapsed().as_secs_f64(),
            decoding_time: 0.0,
        })
    }
}

fn measured(
    codec: &'static str,
    source: Box<dyn std::error::Error + Send + Sync>,
) -> lic_eval::Error {
    lic_eval::Error::Measured { codec, source }
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

fn json_path(base: &Path, codec: &str, several: bool) -> PathBuf {
    if !several {
        return base.to_owned();
    }
    let stem = base
        .file_stem()
        .map_or_else(|| "results".into(), |s| s.to_string_lossy().into_owned());
    base.with_file_name(format!("{stem}-{codec}.json"))
}

pub fn run(args: &EvalArgs) -> Result<()> {
    let several = args.codec.len() > 1;
    check_outputs(args, several)?;
    let extra: Vec<Curve> = args
        .anchor
        .iter()
        .map(|p| Curve::from_file(p))
        .collect::<lic_eval::Result<_>>()?;
    let externals = args
        .codec
        .iter()
        .filter_map(|&c| c.external().map(|e| (c, e)))
        .map(|(c, e)| ExternalCodec::new(e, external_qualities(args, c)))
        .collect::<lic_eval::Result<Vec<_>>>()?;
    let images = load_images(&collect_images(&args.inputs)?)?;

    let model = if args.codec.contains(&Codec::Lic) {
        Some(args.model.load()?)
    } else {
        None
    };
    let encoder = match &model {
        Some(_) => Some(Encoder::new(&args.refine, &args.model)?),
        None => None,
    };
    let refine = encoder.as_ref().and_then(Encoder::options);
    let float = match args.codec.contains(&Codec::LicFloat) {
        true => Some(float_lic(args, model.as_ref())?),
        false => None,
    };
    let qualities = lic_qualities(args, model.as_ref().or(float.as_ref().map(|f| &f.exported)));
    lic_eval::check_lic_qualities(&qualities)?;
    let lic = match (&model, &encoder, refine) {
        (Some(model), Some(encoder), Some(options)) => Some(Box::new(RefinedLic {
            model,
            encoder,
            options,
            qualities: qualities.iter().map(|&q| f64::from(q)).collect(),
        }) as Box<dyn lic_eval::Codec>),
        (Some(model), _, _) => {
            Some(Box::new(LicCodec::new(model, &qualities)?) as Box<dyn lic_eval::Codec>)
        }
        (None, _, _) => None,
    };
    let float = float.map(|f| f.at(&qualities)).transpose()?;

    // The codecs in the order asked for.
    let mut codecs: Vec<&dyn lic_eval::Codec> = Vec::new();
    let mut externals = externals.iter();
    for c in &args.codec {
        match c {
            Codec::Lic => codecs.extend(lic.as_deref()),
            Codec::LicFloat => codecs.extend(float.as_ref().map(|f| f as &dyn lic_eval::Codec)),
            _ => codecs.extend(externals.next().map(|e| e as &dyn lic_eval::Codec)),
        }
    }
    let measured = measure_all(&codecs, &images)?;
    report(
        args,
        &measured,
        model.as_ref(),
        refine,
        images.len(),
        &extra,
        several,
    )
}

/// Refuses outputs that exist (without `--force`) and a plot of another format, before any
/// work.
fn check_outputs(args: &EvalArgs, several: bool) -> Result<()> {
    let outputs = args
        .json
        .iter()
        .flat_map(|j| args.codec.iter().map(|&c| json_path(j, c.name(), several)))
        .chain(args.csv.clone())
        .chain(args.plot.clone());
    for o in outputs {
        check_output(&o, args.force)?;
    }
    if let Some(p) = &args.plot {
        plot::check_extension(p)?;
    }
    Ok(())
}

fn external_qualities(args: &EvalArgs, codec: Codec) -> &[u8] {
    match codec {
        Codec::Jpeg => &args.jpeg_quality,
        Codec::Webp => &args.webp_quality,
        Codec::Avif => &args.avif_quantizer,
        Codec::Lic | Codec::LicFloat => &[],
    }
}

/// lic's qualities: `--quality`, else the trained levels of `model` (and the halfway points
/// with `--all-qualities`).
fn lic_qualities(args: &EvalArgs, model: Option<&Model>) -> Vec<f32> {
    match (&args.quality, model) {
        (Some(q), _) => q.clone(),
        (None, Some(model)) => trained_qualities(model, args.all_qualities),
        (None, None) => Vec::new(),
    }
}

/// The float path's checkpoint (`--checkpoint`), checked against the model `lic` runs.
fn float_lic(args: &EvalArgs, model: Option<&Model>) -> Result<FloatLic> {
    let run = args
        .checkpoint
        .as_ref()
        .context("--codec lic-float needs --checkpoint RUN_DIR (a `lic train` run)")?;
    let mut trainer = Trainer::from_checkpoint(run, false, &lic_codec::Device::flex())
        .with_context(|| format!("cannot load the checkpoint in {}", run.display()))?;
    // `lic export --name` may have renamed the model; the weights are what must match.
    if let Some(m) = model {
        trainer.set_name(&m.info().name);
    }
    let exported = Model::from_file(&trainer.export()?, &args.model.device()?)?;
    if let Some(m) = model
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
    Ok(FloatLic {
        trainer,
        exported,
        levels: Vec::new(),
        qualities: Vec::new(),
    })
}

impl FloatLic {
    /// The float path at those of `qualities` that are trained levels (the only ones it has).
    fn at(mut self, qualities: &[f32]) -> Result<Self> {
        let levels = self.exported.architecture().quality_levels.max(2);
        self.levels = qualities
            .iter()
            .filter_map(|&q| {
                let t = q / 100.0 * (levels - 1) as f32;
                (t.fract() == 0.0).then_some((t as usize, q))
            })
            .collect();
        if self.levels.is_empty() {
            bail!(
                "lic-float runs at the trained levels only (qualities {:?})",
                trained_qualities(&self.exported, false)
            );
        }
        self.qualities = self.levels.iter().map(|&(_, q)| f64::from(q)).collect();
        Ok(self)
    }
}

/// Every codec on every image, with a progress bar.
fn measure_all(
    codecs: &[&dyn lic_eval::Codec],
    images: &[(String, Image)],
) -> Result<Vec<Measured>> {
    let bar = ProgressBar::new(lic_eval::job_count(codecs, images.len()) as u64);
    bar.set_style(ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} encodes, ETA {eta} {msg}",
    )?);
    let measured = codecs
        .iter()
        .map(|c| {
            bar.set_message(c.id());
            measure(*c, images, &|| bar.inc(1))
        })
        .collect::<lic_eval::Result<Vec<_>>>()?;
    bar.finish_and_clear();
    Ok(measured)
}

/// The tables on stdout, then the JSON, CSV and plot files.
fn report(
    args: &EvalArgs,
    measured: &[Measured],
    model: Option<&Model>,
    refine: Option<RefineOptions>,
    images: usize,
    extra: &[Curve],
    several: bool,
) -> Result<()> {
    let curves: Vec<&Curve> = measured.iter().map(|m| &m.curve).collect();
    write!(out(), "{}", quality_table(&curves));
    let reference = args.reference.curve(&args.inputs)?;
    // Measured anchors first, then the published ones.
    let anchors: Vec<Curve> = measured
        .iter()
        .filter(|m| m.role == Role::Anchor)
        .map(|m| m.curve.clone())
        .chain(reference.clone())
        .chain(extra.iter().cloned())
        .collect();
    let tests: Vec<Curve> = measured
        .iter()
        .filter(|m| m.role == Role::Test)
        .map(|m| m.curve.clone())
        .collect();
    if !anchors.is_empty() && !tests.is_empty() {
        writeln!(
            out(),
            "\nBD-rate of lic (negative: fewer bits at equal quality)"
        );
        write!(out(), "{}", bd_table(&anchors, &tests));
    }
    if let Some(j) = &args.json {
        let environment = json!({
            "backend": args.model.backend().hardware(),
            "threads": rayon::current_num_threads(),
            "commit": git_commit(),
            "lic_version": env!("CARGO_PKG_VERSION"),
            "model": model.map(|m| json!({"name": m.info().name, "fingerprint": m.fingerprint().to_string()})),
            "refine": refine.map(|o| json!({"steps": o.steps, "learning_rate": o.learning_rate})),
            "images": images,
            "inputs": args.inputs,
        });
        for m in measured {
            let v: Value = results_json(m, &environment);
            let path = json_path(j, m.id, several);
            write_output(
                &path,
                serde_json::to_string_pretty(&v)?.as_bytes(),
                args.force,
            )?;
        }
    }
    if let Some(p) = &args.csv {
        let rows: Vec<lic_eval::Row> = measured.iter().flat_map(|m| m.rows.clone()).collect();
        write_output(p, lic_eval::csv(&rows).as_bytes(), args.force)?;
    }
    if let Some(p) = &args.plot {
        let shown: Vec<Curve> = measured
            .iter()
            .map(|m| m.curve.clone())
            .chain(reference)
            .chain(extra.iter().cloned())
            .collect();
        write_output(p, &plot::render(&shown, p)?, args.force)?;
    }
    Ok(())
}
