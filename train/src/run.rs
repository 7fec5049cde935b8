//! The training loop: data, steps, logging, periodic validation and checkpoints.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::data::{Dataset, Loader, validation_crops};
use crate::error::{Error, Result};
use crate::trainer::{KEPT_CHECKPOINTS, LOG_FILE, LevelStats, StepStats, Trainer, write_atomic};

/// How long and where a run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Folders of training images (the held-out photos are taken from them).
    pub data: Vec<PathBuf>,
    /// The run folder.
    pub run_dir: PathBuf,
    /// Stop once the run has done this many steps in total.
    pub steps: Option<u64>,
    /// Stop after this much wall time in this session.
    pub duration: Option<Duration>,
    /// Wall time between checkpoints (each with a validation).
    pub checkpoint_every: Duration,
    /// Also keep a copy of every checkpoint as `checkpoints/step-<step>.licm` in the run
    /// folder (weights and state, no optimizer), for weight averaging ([`save_average`]);
    /// otherwise each checkpoint replaces the one before.
    ///
    /// [`save_average`]: super::save_average
    pub keep_checkpoints: bool,
    /// Steps between log lines (averages over them).
    pub log_every: u64,
    /// Set from outside (Ctrl-C) to stop after the current step, with a checkpoint.
    pub stop: Arc<AtomicBool>,
    /// `backend on host`, recorded in the run state.
    pub hardware: String,
}

/// What the loop reports to its caller (a progress bar, a test).
#[derive(Debug, Clone)]
pub enum Event {
    /// The data set was scanned.
    Data {
        /// Training files.
        train: usize,
        /// Their distinct source photos.
        train_sources: usize,
        /// Held-out source photos (no crop of them is trained on).
        held_out_sources: usize,
        /// Validation files (one per held-out source, at most [`VALIDATION_MAX`]).
        ///
        /// [`VALIDATION_MAX`]: crate::data::VALIDATION_MAX
        validation: usize,
        /// Files skipped (too small or unreadable).
        skipped: usize,
    },
    /// A step finished.
    Step {
        /// Steps done in the run.
        step: u64,
        /// Its statistics.
        stats: StepStats,
        /// Crops per second over the last log interval.
        crops_per_second: f64,
    },
    /// A validation finished.
    Validation {
        /// Steps done.
        step: u64,
        /// One entry per quality level.
        levels: Vec<LevelStats>,
    },
    /// A checkpoint was written.
    Checkpoint {
        /// Steps done.
        step: u64,
    },
}

fn append_log(options: &RunOptions, value: &serde_json::Value) -> Result<()> {
    let path = options.run_dir.join(LOG_FILE);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(Error::io("opening", &path))?;
    writeln!(f, "{value}").map_err(Error::io("writing", &path))
}

fn evaluate_and_save(
    trainer: &Trainer,
    options: &RunOptions,
    crops: &[Vec<f32>],
    crop: usize,
    events: &mut dyn FnMut(Event),
) -> Result<()> {
    let step = trainer.state().step;
    if !crops.is_empty() {
        let levels = trainer.evaluate(crops, crop);
        append_log(
            options,
            &json!({"validation": {"step": step, "images": crops.len(), "levels": levels}}),
        )?;
        events(Event::Validation { step, levels });
    }
    trainer.save(&options.run_dir)?;
    if options.keep_checkpoints {
        let kept = options.run_dir.join(KEPT_CHECKPOINTS);
        std::fs::create_dir_all(&kept).map_err(Error::io("creating", &kept))?;
        // Without the optimizer's name: its state is not kept, and a copy that named it
        // would not resume once the run has moved on.
        let copy = trainer.checkpoint(None)?;
        write_atomic(&kept.join(format!("step-{step:08}.licm")), &copy.to_bytes())?;
    }
    events(Event::Checkpoint { step });
    Ok(())
}

/// Trains until the step target, the time limit or a stop request, checkpointing every
/// `options.checkpoint_every` and at the end. Returns the trainer as it ended.
///
/// # Errors
/// Data, checkpoint and step errors; the last checkpoint stays valid.
pub fn run(
    mut trainer: Trainer,
    options: &RunOptions,
    events: &mut dyn FnMut(Event),
) -> Result<Trainer> {
    let (batch_size, crop, seed, augment) = {
        let c = trainer.config();
        (c.batch, c.crop, c.seed, c.augment)
    };
    std::fs::create_dir_all(&options.run_dir).map_err(Error::io("creating", &options.run_dir))?;
    let dataset = Dataset::scan(&options.data, crop)?;
    events(Event::Data {
        train: dataset.train.len(),
        train_sources: dataset.train_sources,
        held_out_sources: dataset.held_out_sources,
        validation: dataset.validation.len(),
        skipped: dataset.skipped,
    });
    let val = validation_crops(&dataset.validation, crop)?;
    if !trainer.state().hardware.contains(&options.hardware) {
        trainer.state_mut().hardware.push(options.hardware.clone());
    }
    append_log(
        options,
        &json!({"session": {"step": trainer.state().step, "hardware": options.hardware,
            "train_files": dataset.train.len(), "train_sources": dataset.train_sources,
            "held_out_sources": dataset.held_out_sources,
            "validation_files": dataset.validation.len(),
            "config": trainer.config()}}),
    )?;
    let loader = Loader::new(
        Arc::new(dataset.train.into_iter().map(|s| s.path).collect()),
        seed,
        trainer.state().step,
        batch_size,
        crop,
        augment,
    );
    let session = Instant::now();
    let mut last_checkpoint = Instant::now();
    let log_every = options.log_every.max(1);
    let (mut sum, mut count, mut interval) = ([0f64; 3], 0u64, Instant::now());
    loop {
        let done_steps = options.steps.is_some_and(|s| trainer.state().step >= s);
        let done_time = options.duration.is_some_and(|d| session.elapsed() >= d);
        if done_steps || done_time || options.stop.load(Ordering::Relaxed) {
            break;
        }
        let batch = loader.next_batch()?;
        let t = Instant::now();
        let stats = trainer.step(&batch)?;
        trainer.state_mut().train_seconds += t.elapsed().as_secs_f64();
        // Frozen transforms give no distortion: its sum stays 0 and the line has no PSNR.
        for (s, v) in sum
            .iter_mut()
            .zip([stats.loss, stats.bpp, stats.mse.unwrap_or(0.0)])
        {
            *s += f64::from(v);
        }
        count += 1;
        let step = trainer.state().step;
        let crops_per_second =
            (count * batch_size as u64) as f64 / interval.elapsed().as_secs_f64();
        events(Event::Step {
            step,
            stats,
            crops_per_second,
        });
        if count >= log_every {
            let n = count as f64;
            let mut line = json!({"step": step, "loss": sum[0] / n, "bpp": sum[1] / n,
                "lr": trainer.config().learning_rate_at(step - 1),
                "crops_per_s": crops_per_second, "train_seconds": trainer.state().train_seconds});
            if stats.mse.is_some() {
                line["psnr"] = json!(-10.0 * (sum[2] / n).max(1e-12).log10());
            }
            append_log(options, &line)?;
            (sum, count, interval) = ([0.0; 3], 0, Instant::now());
        }
        if last_checkpoint.elapsed() >= options.checkpoint_every {
            evaluate_and_save(&trainer, options, &val, crop, events)?;
            last_checkpoint = Instant::now();
        }
    }
    evaluate_and_save(&trainer, options, &val, crop, events)?;
    Ok(trainer)
}
