//! `lic train-temporal`: the temporal networks of video inter frames, on a frozen model.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use lic_codec::ModelFile;
use lic_train::{
    Clip, Dataset, InterGain, MODEL_FILE, TemporalOptions, TemporalTrainer, clip_files,
    is_held_out_clip,
};
use serde_json::json;

use crate::codec_cmd::Backend;
use crate::out;

#[derive(Debug, Args)]
pub struct TemporalArgs {
    /// The deployable model whose transforms and intra entropy model stay frozen; one that
    /// already has temporal networks goes on training them (pass a run's own model.licm to
    /// resume it).
    #[arg(long, value_name = "MODEL.licm")]
    init: PathBuf,
    /// Folders of Y4M clips. The clips named in lic-train's HELD_OUT_CLIPS are never trained
    /// on: the run measures on them.
    #[arg(long, required = true, num_args = 1.., value_name = "DIR")]
    clips: Vec<PathBuf>,
    /// Folders of still training crops for synthetic motion (their held-out photos, as `lic
    /// split` lists them, are left out).
    #[arg(long, num_args = 1.., value_name = "DIR")]
    stills: Vec<PathBuf>,
    /// Run folder: model.licm (the model with its temporal networks), log.jsonl.
    #[arg(long = "run", value_name = "RUN_DIR")]
    run_dir: PathBuf,
    /// Replace the run folder's model.licm (unless it is --init itself).
    #[arg(long)]
    force: bool,
    /// Stop after this many minutes.
    #[arg(long)]
    minutes: Option<f64>,
    /// Stop after this many steps.
    #[arg(long)]
    steps: Option<u64>,
    /// Side of a pair's latent window (a multiple of 4; 16 times as many pixels).
    #[arg(long, default_value_t = lic_train::DEFAULT_CROP)]
    crop: usize,
    /// Frame pairs per step.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Width of a new temporal context.
    #[arg(long, default_value_t = lic_train::DEFAULT_WIDTH)]
    width: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 3e-4)]
    lr: f64,
    /// Share of synthetic pairs (pans and brightness changes of still crops) per batch.
    #[arg(long, default_value_t = 0.25)]
    synthetic: f64,
    /// Seed of the run's random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Steps between measurements on the held-out clips (and exports of model.licm).
    #[arg(long, default_value_t = 200)]
    eval_every: u64,
    /// Backend for training.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
}

pub fn run(args: &TemporalArgs) -> Result<()> {
    if args.steps.is_none() && args.minutes.is_none() {
        bail!("say how long to train: --steps N or --minutes M");
    }
    let output = args.run_dir.join(MODEL_FILE);
    let resuming = std::fs::canonicalize(&args.init).ok() == std::fs::canonicalize(&output).ok();
    if output.exists() && !args.force && !resuming {
        bail!(
            "{} exists (use --force to replace it, or --init it to go on training it)",
            output.display()
        );
    }
    std::fs::create_dir_all(&args.run_dir)
        .with_context(|| format!("cannot create {}", args.run_dir.display()))?;
    let bytes = std::fs::read(&args.init)
        .with_context(|| format!("cannot read {}", args.init.display()))?;
    let file = ModelFile::from_bytes(&bytes)
        .with_context(|| format!("cannot load {}", args.init.display()))?;
    let options = TemporalOptions {
        width: args.width,
        crop: args.crop,
        batch: args.batch,
        learning_rate: args.lr,
        seed: args.seed,
        synthetic: if args.stills.is_empty() {
            0.0
        } else {
            args.synthetic
        },
    };
    let device = args.backend.device()?;
    let mut trainer = TemporalTrainer::new(&file, options, &device)?;
    let (mut train, mut held_out) = (Vec::new(), Vec::new());
    for dir in &args.clips {
        for path in clip_files(dir)? {
            let clip = trainer
                .load_clip(&path)
                .with_context(|| format!("cannot read clip {}", path.display()))?;
            if is_held_out_clip(&path) {
                held_out.push(clip);
            } else {
                train.push(clip);
            }
        }
    }
    let stills: Vec<PathBuf> = if args.stills.is_empty() {
        Vec::new()
    } else {
        Dataset::scan(&args.stills, 256)?
            .train
            .into_iter()
            .map(|s| s.path)
            .collect()
    };
    let pairs = |clips: &[Clip]| clips.iter().map(Clip::pairs).sum::<usize>();
    writeln!(
        out(),
        "training on {} clips ({} frame pairs) and {} still crops; measuring on {} held-out \
         clips ({} pairs)",
        train.len(),
        pairs(&train),
        stills.len(),
        held_out.len(),
        pairs(&held_out)
    );
    let log_path = args.run_dir.join("log.jsonl");
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let levels = [1, 3, 5];
    let measure = |trainer: &TemporalTrainer, log: &mut std::fs::File| -> Result<()> {
        let gains = trainer.evaluate(&held_out, &levels)?;
        let line = json!({
            "step": trainer.steps(),
            "held_out": gains.iter().map(gain_json).collect::<Vec<_>>(),
        });
        writeln!(log, "{line}")?;
        let text: Vec<String> = gains
            .iter()
            .map(|g| {
                format!(
                    "level {}: {:.4} -> {:.4} bpp ({:+.1} %)",
                    g.level,
                    g.intra_bpp,
                    g.inter_bpp,
                    g.change_percent()
                )
            })
            .collect();
        writeln!(
            out(),
            "step {}: held-out inter vs intra latent rate: {}",
            trainer.steps(),
            text.join(", ")
        );
        Ok(())
    };
    let save = |trainer: &TemporalTrainer| -> Result<()> {
        let tmp = output.with_extension("tmp");
        std::fs::write(&tmp, trainer.export()?.to_bytes())
            .and_then(|()| std::fs::rename(&tmp, &output))
            .with_context(|| format!("cannot write {}", output.display()))
    };
    measure(&trainer, &mut log)?;
    let started = Instant::now();
    let limit = args.minutes.map(|m| Duration::from_secs_f64(m * 60.0));
    let mut recent = Vec::new();
    loop {
        if args.steps.is_some_and(|s| trainer.steps() >= s)
            || limit.is_some_and(|l| started.elapsed() >= l)
        {
            break;
        }
        recent.push(trainer.step(&train, &stills, args.lr)?);
        let step = trainer.steps();
        if step.is_multiple_of(10) {
            let mean = recent.iter().sum::<f32>() / recent.len() as f32;
            writeln!(
                log,
                "{}",
                json!({"step": step, "bpp": mean, "seconds": started.elapsed().as_secs_f64()})
            )?;
            recent.clear();
        }
        if step.is_multiple_of(args.eval_every) {
            measure(&trainer, &mut log)?;
            save(&trainer)?;
        }
    }
    measure(&trainer, &mut log)?;
    save(&trainer)?;
    writeln!(
        out(),
        "{} steps in {:.0} s; model with temporal networks: {}",
        trainer.steps(),
        started.elapsed().as_secs_f64(),
        output.display()
    );
    Ok(())
}

fn gain_json(g: &InterGain) -> serde_json::Value {
    json!({
        "level": g.level,
        "intra_bpp": g.intra_bpp,
        "inter_bpp": g.inter_bpp,
        "change_percent": g.change_percent(),
    })
}
