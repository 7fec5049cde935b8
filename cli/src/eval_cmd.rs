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
use lic_codec::video::default_intra_period;
use lic_codec::{Image, Limits, Model, encode};
use lic_eval::bdrate::Curve;
use lic_eval::video::{
    ClipRow, VideoCodecKind, bd_by_clip, code_clip, collect_clips, is_y4m, video_curve,
};
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
    /// Video: lic with every frame intra (the same model), what inter frames are measured
    /// against.
    LicIntra,
    /// Video: x264 through the ffmpeg program (medium, zerolatency, P frames, CRF sweep).
    X264,
    /// Video: x265 through the ffmpeg program (medium, zerolatency, P frames, CRF sweep).
    X265,
}

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Self::Lic => "lic",
            Self::LicFloat => "lic-float",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
            Self::Avif => "avif",
            Self::LicIntra => "lic-intra",
            Self::X264 => "x264",
            Self::X265 => "x265",
        }
    }

    /// The video codec behind this choice, if it codes clips.
    fn video(self) -> Option<VideoCodecKind> {
        match self {
            Self::Lic => Some(VideoCodecKind::Lic),
            Self::LicIntra => Some(VideoCodecKind::LicIntra),
            Self::X264 => Some(VideoCodecKind::X264),
            Self::X265 => Some(VideoCodecKind::X265),
            _ => None,
        }
    }

    /// The live anchor behind this choice, if it is one.
    fn external(self) -> Option<External> {
        match self {
            Self::Jpeg => Some(External::Jpeg),
            Self::Webp => Some(External::Webp),
            Self::Avif => Some(External::Avif),
            _ => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Folders of images (PNG, ...) and/or image files; or Y4M clips and/or folders of them
    /// (video: lic with inter frames against lic-intra, x264, x265).
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
    /// Video: x264 / x265 CRFs (0..=51, lower is better; comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "17,22,27,32,37,42")]
    crf: Vec<u8>,
    /// Video: lic's intra period (the GOP of x264 / x265 too); default: about 2 seconds of
    /// frames.
    #[arg(long, value_name = "N")]
    intra_period: Option<u32>,
    /// Training run whose checkpoint `--codec lic-float` evaluates.
    #[arg(long, value_name = "RUN_DIR")]
    checkpoint: Option<PathBuf>,
    /// Codecs to measure (default: lic,jpeg for images, lic,lic-intra for clips).
    #[arg(long, value_enum, value_delimiter = ',')]
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
    let clips = args
        .inputs
        .iter()
        .all(|p| is_y4m(p) || (p.is_dir() && collect_clips(std::slice::from_ref(p)).is_ok()));
    if clips {
        return run_video(args);
    }
    let chosen = if args.codec.is_empty() {
        vec![Codec::Lic, Codec::Jpeg]
    } else {
        args.codec.clone()
    };
    if let Some(c) = chosen
        .iter()
        .find(|c| matches!(c, Codec::LicIntra | Codec::X264 | Codec::X265))
    {
        bail!("--codec {} measures Y4M clips, not images", c.name());
    }
    let several = chosen.len() > 1;
    check_outputs(args, &chosen, several)?;
    let extra: Vec<Curve> = args
        .anchor
        .iter()
        .map(|p| Curve::from_file(p))
        .collect::<lic_eval::Result<_>>()?;
    let externals = chosen
        .iter()
        .filter_map(|&c| c.external().map(|e| (c, e)))
        .map(|(c, e)| ExternalCodec::new(e, external_qualities(args, c)))
        .collect::<lic_eval::Result<Vec<_>>>()?;
    let images = load_images(&collect_images(&args.inputs)?)?;

    let model = if chosen.contains(&Codec::Lic) {
        Some(args.model.load()?)
    } else {
        None
    };
    let encoder = match &model {
        Some(_) => Some(Encoder::new(&args.refine, &args.model)?),
        None => None,
    };
    let refine = encoder.as_ref().and_then(Encoder::options);
    let float = match chosen.contains(&Codec::LicFloat) {
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
    for c in &chosen {
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
fn check_outputs(args: &EvalArgs, codecs: &[Codec], several: bool) -> Result<()> {
    let outputs = args
        .json
        .iter()
        .flat_map(|j| codecs.iter().map(|&c| json_path(j, c.name(), several)))
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
        _ => &[],
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

/// `lic eval` on Y4M clips: every codec at each of its qualities on every clip, the
/// per-quality means, and BD-rates of lic clip by clip against the others (PSNR-YUV 6:1:1).
fn run_video(args: &EvalArgs) -> Result<()> {
    let codecs = if args.codec.is_empty() {
        vec![Codec::Lic, Codec::LicIntra]
    } else {
        args.codec.clone()
    };
    let kinds = codecs
        .iter()
        .map(|c| {
            c.video()
                .with_context(|| format!("--codec {} measures images, not clips", c.name()))
        })
        .collect::<Result<Vec<_>>>()?;
    if args.refine.options().is_some() {
        bail!("--refine applies to images; clips are coded plainly");
    }
    let several = codecs.len() > 1;
    check_outputs(args, &codecs, several)?;
    for k in &kinds {
        k.available()?;
    }
    let model = args.model.load()?;
    let clips = collect_clips(&args.inputs)?
        .iter()
        .map(|p| lic_eval::video::Clip::load(p))
        .collect::<lic_eval::Result<Vec<_>>>()?;
    let lic_qualities: Vec<f64> = match &args.quality {
        Some(q) => q.iter().map(|&q| f64::from(q)).collect(),
        None => VideoCodecKind::Lic.default_qualities(),
    };
    lic_eval::check_lic_qualities(&lic_qualities.iter().map(|&q| q as f32).collect::<Vec<_>>())?;
    let crfs: Vec<f64> = args.crf.iter().map(|&c| f64::from(c)).collect();
    if let Some(c) = args.crf.iter().find(|&&c| c > 51) {
        bail!("--crf {c} is outside 0..=51");
    }
    let jobs: usize = kinds
        .iter()
        .map(|k| match k {
            VideoCodecKind::X264 | VideoCodecKind::X265 => crfs.len(),
            _ => lic_qualities.len(),
        })
        .sum::<usize>()
        * clips.len();
    let bar = ProgressBar::new(jobs as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} clip codings, {elapsed} ({eta} left)")
            .context("progress bar template")?,
    );
    let mut rows: Vec<ClipRow> = Vec::new();
    for &kind in &kinds {
        let qualities = match kind {
            VideoCodecKind::X264 | VideoCodecKind::X265 => &crfs,
            _ => &lic_qualities,
        };
        for clip in &clips {
            let period = args
                .intra_period
                .unwrap_or_else(|| default_intra_period(clip.header.frame_rate));
            for &q in qualities {
                rows.push(
                    code_clip(&model, kind, clip, q, period)
                        .with_context(|| format!("{} on {} at {q}", kind.id(), clip.name))?,
                );
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    let description = |kind: VideoCodecKind| {
        match kind {
        VideoCodecKind::Lic => format!(
            "lic {} ({}), intra period {}",
            model.info().name,
            model.fingerprint(),
            args.intra_period
                .map_or_else(|| "2 s".to_owned(), |p| p.to_string())
        ),
        VideoCodecKind::LicIntra => format!("lic {} ({}), every frame intra", model.info().name, model.fingerprint()),
        VideoCodecKind::X264 => "x264 through ffmpeg: -preset medium -tune zerolatency, no B frames, GOP = lic's intra period, CRF sweep".into(),
        VideoCodecKind::X265 => "x265 through ffmpeg: -preset medium -tune zerolatency, no B frames, GOP = lic's intra period, CRF sweep".into(),
    }
    };
    let curves: Vec<(VideoCodecKind, Curve)> = kinds
        .iter()
        .map(|&k| {
            let r: Vec<ClipRow> = rows.iter().filter(|r| r.codec == k.id()).cloned().collect();
            (k, video_curve(&r, k.id(), &description(k)))
        })
        .collect();
    let mut text = String::new();
    for (k, c) in &curves {
        text.push_str(&format!(
            "{} ({} clips)\n  quality      bpp  PSNR-YUV  PSNR-Y  PSNR-RGB  MS-SSIM  enc fps  dec fps\n",
            k.id(),
            clips.len()
        ));
        let s = |key: &str| c.series(key).unwrap_or_default();
        let (q, b, yuv, y, rgb, enc, dec) = (
            s("quality"),
            s("bpp"),
            s("psnr-yuv"),
            s("psnr-y"),
            s("psnr-rgb"),
            s("encoding_fps"),
            s("decoding_fps"),
        );
        let ms = s("ms-ssim-rgb");
        for i in 0..q.len() {
            text.push_str(&format!(
                "  {:>7} {:>8.4} {:>9.2} {:>7.2} {:>9.2} {:>8} {:>8.2} {:>8.2}\n",
                q[i],
                b[i],
                yuv[i],
                y[i],
                rgb[i],
                ms.get(i).map_or_else(|| "-".into(), |m| format!("{m:.4}")),
                enc[i],
                dec[i]
            ));
        }
    }
    let mut bd = serde_json::Map::new();
    if kinds.contains(&VideoCodecKind::Lic) {
        for anchor in kinds.iter().filter(|&&k| k != VideoCodecKind::Lic) {
            let (per, mean) = bd_by_clip(&rows, anchor.id(), "lic", "psnr-yuv");
            text.push_str(&format!(
                "BD-rate of lic against {} (PSNR-YUV, clip by clip):\n",
                anchor.id()
            ));
            for (clip, v) in &per {
                text.push_str(&format!(
                    "  {clip:<40} {}\n",
                    v.map_or_else(|| "no overlap".into(), |v| format!("{v:+.2} %"))
                ));
            }
            text.push_str(&format!(
                "  {:<40} {}\n",
                "mean",
                mean.map_or_else(|| "-".into(), |v| format!("{v:+.2} %"))
            ));
            bd.insert(
                anchor.id().to_owned(),
                json!({
                    "metric": "psnr-yuv",
                    "per_clip": per.iter().map(|(c, v)| json!({"clip": c, "bd_rate": v})).collect::<Vec<_>>(),
                    "mean": mean,
                }),
            );
        }
    }
    write!(out(), "{text}");
    let environment = json!({
        "lic_commit": git_commit(),
        "clips": clips.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        "hardware": args.model.backend().hardware(),
    });
    if let Some(base) = &args.json {
        for (k, c) in &curves {
            let v = json!({
                "name": c.name,
                "description": c.description,
                "results": c.results,
                "rows": rows.iter().filter(|r| r.codec == k.id()).collect::<Vec<_>>(),
                "bd_rate_of_lic": if *k == VideoCodecKind::Lic { Value::Object(bd.clone()) } else { Value::Null },
                "environment": environment,
            });
            write_output(
                &json_path(base, k.id(), several),
                serde_json::to_string_pretty(&v)?.as_bytes(),
                args.force,
            )?;
        }
    }
    if let Some(p) = &args.csv {
        let mut csv = String::from(
            "clip,codec,quality,frames,bytes,bpp,psnr_y,psnr_u,psnr_v,psnr_yuv,psnr_rgb,ms_ssim_rgb,encode_fps,decode_fps\n",
        );
        for r in &rows {
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                r.clip,
                r.codec,
                r.quality,
                r.frames,
                r.bytes,
                r.bpp,
                r.psnr_y,
                r.psnr_u,
                r.psnr_v,
                r.psnr_yuv,
                r.psnr_rgb,
                r.ms_ssim_rgb.map_or_else(String::new, |m| m.to_string()),
                r.encode_fps,
                r.decode_fps
            ));
        }
        write_output(p, csv.as_bytes(), args.force)?;
    }
    if let Some(p) = &args.plot {
        let all: Vec<Curve> = curves.into_iter().map(|(_, c)| c).collect();
        write_output(p, &plot::render(&all, p)?, args.force)?;
    }
    Ok(())
}
