//! `lic train`, `lic export` and `lic average`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lic_codec::{Architecture, Device, ModelFile, ModelInfo};
use lic_train::{
    Augment, CHECKPOINT_FILE, Dataset, Event, LOG_FILE, MODEL_FILE, RunOptions, TrainConfig,
    TrainedParts, Trainer, default_lambdas, model_lambdas, run, save_average,
};

use crate::codec_cmd::Backend;
use crate::io::{check_output, write_output};
use crate::out;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Folders of training images (searched recursively). The crops of 1 in 8 source photos
    /// (named by each folder's manifest.json; `lic split` lists them) are held out, never
    /// trained on; the run validates on them. Never Kodak: it is the test set.
    #[arg(long, required = true, num_args = 1.., value_name = "DIR")]
    data: Vec<PathBuf>,
    /// Run folder: checkpoint.licm, optimizer state, model.licm, log.jsonl.
    #[arg(long = "run", value_name = "RUN_DIR")]
    run_dir: PathBuf,
    /// Continue the run in RUN_DIR exactly (weights, optimizer, step, random streams).
    #[arg(long)]
    resume: bool,
    /// With --resume: take the weights and step only, with a fresh optimizer (what a GPU
    /// round trip brings back).
    #[arg(long, requires = "resume")]
    weights_only: bool,
    /// Start a new run in RUN_DIR even if it holds one (its files are replaced).
    #[arg(long, conflicts_with = "resume")]
    force: bool,
    /// Start a new run from the weights of a deployable model (e.g. the shipped one in
    /// `models/`) instead of random ones, in its own architecture, or in a wider
    /// --architecture that appends latent channel groups to it (`small` grows into
    /// `small-wide`; the grown model starts out coding as the original). The way to train a
    /// shipped model further where its run folder is gone.
    #[arg(long, value_name = "MODEL.licm", conflicts_with = "resume")]
    init: Option<PathBuf>,
    /// Backend: flex on the CPU, or wgpu (Vulkan/Metal/DX12).
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// Stop after this many minutes of this session.
    #[arg(long)]
    minutes: Option<f64>,
    /// Stop once the run has done this many steps in total.
    #[arg(long)]
    steps: Option<u64>,
    /// Architecture of a new run: `default`, `small`, `small-wide`, `tiny`, or a JSON file
    /// (default: `default`, or with --init the model's own).
    #[arg(long, value_name = "NAME|FILE")]
    architecture: Option<String>,
    /// Crops per step (new run).
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Side of the square crops, a multiple of 64 (new run).
    #[arg(long, default_value_t = 256)]
    crop: usize,
    /// Learning rate after warm-up; on --resume it replaces the run's.
    #[arg(long)]
    lr: Option<f64>,
    /// Steps at which the learning rate is divided by 10 (comma-separated); on --resume
    /// they replace the run's.
    #[arg(long, value_delimiter = ',')]
    lr_milestones: Option<Vec<u64>>,
    /// Largest L2 norm of each parameter tensor's gradient; a larger one is scaled down to it
    /// before Adam sees it (new run; default 1). The higher quality levels' gradients are the
    /// larger (`lic-train`'s `grad_norms` example prints them), so the clip also sets how much
    /// those levels weigh against the lower ones.
    #[arg(long, value_name = "NORM", conflicts_with = "resume")]
    grad_clip: Option<f32>,
    /// Warm-up steps (new run).
    #[arg(long, default_value_t = 200)]
    warmup: u64,
    /// Distortion weights, one per quality level, low to high, comma-separated (new run;
    /// default log-spaced 0.0018..0.0932, or with --init the model's own). With --init,
    /// levels whose λ differs from the model's start from its gain vectors interpolated
    /// (or extrapolated) in log λ.
    #[arg(long, value_delimiter = ',')]
    lambdas: Option<Vec<f64>>,
    /// With --init, for a model file that does not record its λ set (exported before lic
    /// 0.3): the set it was trained with (default: the default set; its model card says).
    /// A model that records its set refuses a different one.
    #[arg(long, value_delimiter = ',', requires = "init")]
    init_lambdas: Option<Vec<f64>>,
    /// How crops are varied (new run; comma-separated): `flips` (left to right), `rotations`
    /// (quarter turns), `rescale` (cut larger and downscaled, down to --min-scale, where the
    /// image allows it), `all`, or `none`.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    augment: Vec<AugmentKind>,
    /// Smallest scale of `--augment rescale`, in (0, 1] (new run).
    #[arg(long, default_value_t = Augment::ALL.min_scale)]
    min_scale: f32,
    /// Seed of the weights and of every random choice (new run).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Train the entropy model alone (h_a, h_s, the z prior, the contexts) on the rate, with
    /// the analysis, the synthesis and the gains frozen (new run, usually with --init): fewer
    /// bits for nearly the same decoded images (only where a latent rounds can move), at
    /// about five times the crops per hour.
    #[arg(long, conflicts_with_all = ["resume", "synthesis_only"])]
    freeze_transforms: bool,
    /// Train the synthesis and the inverse gains alone on the distortion, with the encoder
    /// (the analysis, the gains, the entropy model) frozen (new run, usually with --init):
    /// every image keeps its symbols and rate, only the decoded images change; about twice the
    /// crops per hour (no backward pass through the encoder).
    #[arg(long, conflicts_with = "resume")]
    synthesis_only: bool,
    /// Minutes between checkpoints (each validated).
    #[arg(long, default_value_t = 10.0)]
    checkpoint_minutes: f64,
    /// Keep a copy of every checkpoint as RUN_DIR/checkpoints/step-<step>.licm (weights and
    /// state, about the model's size each), for `lic average`.
    #[arg(long)]
    keep_checkpoints: bool,
    /// Steps between log lines.
    #[arg(long, default_value_t = 10)]
    log_every: u64,
    /// Name written into the exported model.
    #[arg(long, default_value = "lic-run")]
    name: String,
}

/// One kind of training-crop augmentation (`--augment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AugmentKind {
    /// Mirror half of the crops left to right.
    Flips,
    /// Turn crops by quarter turns.
    Rotations,
    /// Cut crops larger and downscale them.
    Rescale,
    /// All three.
    All,
    /// None.
    None,
}

fn augment(kinds: &[AugmentKind], min_scale: f32) -> Augment {
    let has = |k| kinds.contains(&k) || kinds.contains(&AugmentKind::All);
    Augment {
        flips: has(AugmentKind::Flips),
        rotations: has(AugmentKind::Rotations),
        min_scale: if has(AugmentKind::Rescale) {
            min_scale
        } else {
            1.0
        },
    }
}

fn architecture(spec: &str) -> Result<Architecture> {
    Ok(match spec {
        "default" => Architecture::default(),
        "small" => Architecture::small(),
        "small-wide" => Architecture::small_wide(),
        "tiny" => Architecture::tiny(),
        path => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read architecture {path}"))?;
            serde_json::from_str(&text).with_context(|| format!("{path} is not an architecture"))?
        }
    })
}

/// Removes the log of a run that `--force` replaces: it would describe another run.
fn remove_old_log(run_dir: &Path) -> Result<()> {
    let log = run_dir.join(LOG_FILE);
    if log.exists() {
        std::fs::remove_file(&log).context("cannot remove the old log")?;
    }
    Ok(())
}

pub fn run_train(args: &TrainArgs) -> Result<()> {
    if args.steps.is_none() && args.minutes.is_none() {
        bail!("say how long to train: --steps N (total) or --minutes M");
    }
    if let Some(m) = args.minutes
        && !(m > 0.0 && m.is_finite())
    {
        bail!("--minutes must be positive");
    }
    let device = args.backend.device()?;
    let trainer = if args.resume {
        resume(args, &device)?
    } else {
        start(args, &device)?
    };
    let options = RunOptions {
        data: args.data.clone(),
        run_dir: args.run_dir.clone(),
        steps: args.steps,
        duration: args.minutes.map(|m| Duration::from_secs_f64(m * 60.0)),
        checkpoint_every: Duration::from_secs_f64(args.checkpoint_minutes.max(0.0) * 60.0),
        keep_checkpoints: args.keep_checkpoints,
        log_every: args.log_every,
        stop: stop_on_ctrl_c()?,
        hardware: args.backend.hardware(),
    };
    let start_step = trainer.state().step;
    let bar = progress_bar(args, start_step)?;
    let by_time = args.steps.is_none();
    let started = std::time::Instant::now();
    let mut on_event = |e: Event| {
        if let Event::Step { step, .. } = e {
            bar.set_position(if by_time {
                started.elapsed().as_secs()
            } else {
                step - start_step
            });
        }
        match describe(&e, &args.run_dir) {
            Line::Status(text) => bar.set_message(text),
            Line::Print(text) => bar.println(text),
        }
    };
    let trainer = run(trainer, &options, &mut on_event)?;
    bar.finish();
    let s = trainer.state();
    writeln!(
        out(),
        "{} steps ({} crops, {:.0} s of training); deployable model: {}",
        s.step,
        s.crops,
        s.train_seconds,
        args.run_dir.join(MODEL_FILE).display()
    );
    Ok(())
}

/// `--resume`: the run in RUN_DIR, with `--lr`/`--lr-milestones` replacing its schedule.
fn resume(args: &TrainArgs, device: &Device) -> Result<Trainer> {
    let mut t = Trainer::from_checkpoint(&args.run_dir, !args.weights_only, device)
        .with_context(|| format!("cannot resume from {}", args.run_dir.display()))?;
    if args.lr.is_some() || args.lr_milestones.is_some() {
        let lr = args.lr.unwrap_or(t.config().learning_rate);
        let milestones = args
            .lr_milestones
            .clone()
            .unwrap_or_else(|| t.config().lr_milestones.clone());
        t.set_schedule(lr, milestones)?;
    }
    Ok(t)
}

/// A new run in RUN_DIR: seeded, or from `--init`'s model.
fn start(args: &TrainArgs, device: &Device) -> Result<Trainer> {
    if args.run_dir.join(CHECKPOINT_FILE).exists() && !args.force {
        bail!(
            "{} already holds a run (use --resume to continue it, or --force to start over)",
            args.run_dir.display()
        );
    }
    let init = match &args.init {
        Some(path) => Some(Init::read(path, args)?),
        None => None,
    };
    let architecture = match (&args.architecture, &init) {
        (Some(spec), _) => architecture(spec)?,
        // A wider --architecture is grown into (or refused) by `Trainer::from_model`.
        (None, Some(init)) => init.info.architecture.clone(),
        (None, None) => Architecture::default(),
    };
    let config = new_config(args, architecture, init.as_ref().map(|i| &i.lambdas[..]));
    if args.force {
        remove_old_log(&args.run_dir)?;
    }
    Ok(match &init {
        Some(init) => {
            Trainer::from_model(&init.file, Some(&init.lambdas), config, &args.name, device)
                .with_context(|| format!("cannot start from {}", init.path.display()))?
        }
        None => Trainer::new(config, &args.name, device)?,
    })
}

/// The model a run starts from (`--init`), and the λ set it was trained at.
struct Init {
    path: PathBuf,
    file: ModelFile,
    info: ModelInfo,
    lambdas: Vec<f64>,
}

impl Init {
    fn read(path: &Path, args: &TrainArgs) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let file = ModelFile::from_bytes(&bytes)
            .with_context(|| format!("{} is not a lic model file", path.display()))?;
        let info = ModelInfo::from_file(&file)
            .context("--init needs a deployable model (`lic export`), not a checkpoint")?;
        let lambdas = model_lambdas(&info, args.init_lambdas.as_deref())
            .with_context(|| format!("cannot start from {}", path.display()))?;
        if info.lambdas.is_none() && args.init_lambdas.is_none() {
            eprintln!(
                "lic: {} does not record its λ set; assuming the default {lambdas:?} \
                 (--init-lambdas says otherwise)",
                path.display()
            );
        }
        Ok(Self {
            path: path.to_owned(),
            file,
            info,
            lambdas,
        })
    }
}

/// A new run's configuration from the command line; `init_lambdas` is the λ set of the
/// model it starts from, if any.
fn new_config(
    args: &TrainArgs,
    architecture: Architecture,
    init_lambdas: Option<&[f64]>,
) -> TrainConfig {
    let mut config = TrainConfig::new(architecture);
    config.lambdas = args
        .lambdas
        .clone()
        .or_else(|| init_lambdas.map(<[f64]>::to_vec))
        .unwrap_or_else(|| default_lambdas(config.architecture.quality_levels));
    config.batch = args.batch;
    config.crop = args.crop;
    config.learning_rate = args.lr.unwrap_or(config.learning_rate);
    config.lr_milestones = args.lr_milestones.clone().unwrap_or_default();
    config.warmup_steps = args.warmup;
    config.grad_clip = args.grad_clip.unwrap_or(config.grad_clip);
    config.seed = args.seed;
    config.augment = augment(&args.augment, args.min_scale);
    config.trained = match (args.freeze_transforms, args.synthesis_only) {
        (true, _) => TrainedParts::EntropyModel,
        (false, true) => TrainedParts::Synthesis,
        (false, false) => TrainedParts::All,
    };
    config
}

/// A flag that the first Ctrl-C sets (the run stops after its step and checkpoints); a
/// second one exits at once.
fn stop_on_ctrl_c() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
        eprintln!("\nlic: stopping after this step (Ctrl-C again to abort without a checkpoint)");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(stop)
}

/// Steps to go, or seconds with `--minutes` alone.
fn progress_bar(args: &TrainArgs, start_step: u64) -> Result<ProgressBar> {
    let (len, unit) = match (args.steps, args.minutes) {
        (Some(s), _) => (s.saturating_sub(start_step), "steps"),
        (None, m) => ((m.unwrap_or(0.0) * 60.0) as u64, "s"),
    };
    let bar = ProgressBar::new(len);
    bar.set_style(ProgressStyle::with_template(&format!(
        "{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {unit}, ETA {{eta}} {{msg}}"
    ))?);
    Ok(bar)
}

/// What a training event shows: the progress bar's status, or a line above it.
enum Line {
    Status(String),
    Print(String),
}

fn describe(e: &Event, run_dir: &Path) -> Line {
    match e {
        Event::Data {
            train,
            train_sources,
            held_out_sources,
            validation,
            skipped,
        } => Line::Print(format!(
            "data: {train} training images of {train_sources} photos; {held_out_sources} \
             photos held out, {validation} validate; {skipped} skipped"
        )),
        Event::Step {
            step,
            stats,
            crops_per_second,
        } => {
            let psnr = stats.mse.map_or(String::new(), |mse| {
                format!(" PSNR {:.2} dB", -10.0 * f64::from(mse.max(1e-12)).log10())
            });
            Line::Status(format!(
                "step {step} q{} loss {:.3} bpp {:.3}{psnr}, {crops_per_second:.2} crops/s",
                stats.level, stats.loss, stats.bpp,
            ))
        }
        Event::Validation { step, levels } => {
            let line: Vec<String> = levels
                .iter()
                .map(|l| format!("q{} {:.3} bpp {:.2} dB", l.level, l.bpp, l.psnr))
                .collect();
            Line::Print(format!("validation at step {step}: {}", line.join(", ")))
        }
        Event::Checkpoint { step } => Line::Print(format!(
            "checkpoint at step {step} in {}",
            run_dir.display()
        )),
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A run folder (its checkpoint.licm).
    #[arg(value_name = "RUN_DIR")]
    run_dir: PathBuf,
    /// The deployable model file to write.
    #[arg(short, long, value_name = "FILE.licm")]
    output: PathBuf,
    /// Name written into the model (default: the run's).
    #[arg(long)]
    name: Option<String>,
    /// Overwrite the output if it exists.
    #[arg(long)]
    force: bool,
}

pub fn run_export(args: &ExportArgs) -> Result<()> {
    check_output(&args.output, args.force)?;
    let mut trainer = Trainer::from_checkpoint(Path::new(&args.run_dir), false, &Device::flex())
        .with_context(|| format!("cannot read the run in {}", args.run_dir.display()))?;
    if let Some(n) = &args.name {
        trainer.set_name(n);
    }
    let file = trainer.export()?;
    write_output(&args.output, &file.to_bytes(), args.force)?;
    writeln!(
        out(),
        "{}: step {}, fingerprint {}",
        args.output.display(),
        trainer.state().step,
        file.fingerprint()
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct AverageArgs {
    /// What to average, in equal parts: run folders (their checkpoint.licm), checkpoint
    /// files (e.g. RUN/checkpoints/step-<step>.licm from `lic train --keep-checkpoints`),
    /// and deployable models, which enter as `lic train --init` starts from them. All of
    /// one architecture; the result takes the last one's configuration and step.
    #[arg(required = true, num_args = 2.., value_name = "RUN_DIR|FILE.licm")]
    inputs: Vec<PathBuf>,
    /// Run folder to write: checkpoint.licm (weights only: `lic train --resume
    /// --weights-only` trains on from it) and model.licm (deployable).
    #[arg(long = "run", value_name = "RUN_DIR")]
    run_dir: PathBuf,
    /// Name written into the model (default: the last input's).
    #[arg(long)]
    name: Option<String>,
    /// Replace a run already in RUN_DIR.
    #[arg(long)]
    force: bool,
}

pub fn run_average(args: &AverageArgs) -> Result<()> {
    let checkpoint = args.run_dir.join(CHECKPOINT_FILE);
    if checkpoint.exists() && !args.force {
        bail!(
            "{} already holds a run (use --force to replace it)",
            args.run_dir.display()
        );
    }
    let inputs = args
        .inputs
        .iter()
        .map(|path| {
            let file = if path.is_dir() {
                path.join(CHECKPOINT_FILE)
            } else {
                path.clone()
            };
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            ModelFile::from_bytes(&bytes)
                .with_context(|| format!("{} is not a lic model file", file.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    if args.force {
        remove_old_log(&args.run_dir)?;
    }
    let model = save_average(
        &inputs,
        args.name.as_deref(),
        &args.run_dir,
        &Device::flex(),
    )
    .context("cannot average them")?;
    writeln!(
        out(),
        "{} inputs averaged into {}: {}, fingerprint {}",
        inputs.len(),
        args.run_dir.display(),
        args.run_dir.join(MODEL_FILE).display(),
        model.fingerprint()
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct SplitArgs {
    /// Folders of training images, as `lic train --data` takes them.
    #[arg(required = true, num_args = 1.., value_name = "DIR")]
    data: Vec<PathBuf>,
    /// Side of the training crops: smaller images are skipped, as `lic train` skips them.
    #[arg(long, default_value_t = 256)]
    crop: usize,
    /// Which files to list.
    #[arg(long, value_enum, default_value_t = SplitPart::HeldOut)]
    part: SplitPart,
}

/// The files `lic split` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitPart {
    /// Every crop of a held-out source photo: `<source>\t<path>`.
    HeldOut,
    /// The held-out crops a training run validates on.
    Validation,
    /// The training crops: `<source>\t<path>`.
    Train,
}

/// `lic split`: the held-out source photos of a data set, so that scripts and people can see
/// exactly which files no run trains on.
pub fn run_split(args: &SplitArgs) -> Result<()> {
    let d = Dataset::scan(&args.data, args.crop)?;
    let mut o = out();
    match args.part {
        SplitPart::HeldOut => {
            for s in &d.held_out {
                writeln!(o, "{}\t{}", s.source, s.path.display());
            }
        }
        SplitPart::Validation => {
            for p in &d.validation {
                writeln!(o, "{}", p.display());
            }
        }
        SplitPart::Train => {
            for s in &d.train {
                writeln!(o, "{}\t{}", s.source, s.path.display());
            }
        }
    }
    eprintln!(
        "{} training files of {} photos; {} held-out files of {} photos (1 in {}), {} validate; \
         {} skipped",
        d.train.len(),
        d.train_sources,
        d.held_out.len(),
        d.held_out_sources,
        lic_train::HELD_OUT_EVERY,
        d.validation.len(),
        d.skipped
    );
    Ok(())
}
