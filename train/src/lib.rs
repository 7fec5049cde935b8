//! # lic-train
//!
//! Training lic's models and everything that needs their float networks or autodiff: the
//! float model and its rate-distortion pass ([`FloatModel`]), [`Trainer`] (Adam, checkpoints
//! that resume exactly, validation), the training loop ([`run`]), warm starts from a
//! deployable model ([`Trainer::from_model`]), weight averaging ([`save_average`]), export to
//! a `.licm` model file ([`export`]), and encoder-side latent refinement ([`encode_refined`],
//! `lic encode --refine`).
//!
//! It builds on lic-codec's runtime (the transforms it trains are the ones the codec runs, and
//! [`lic_codec::internals`] gives it the integer layers and the coding steps) and adds
//! burn's autodiff and optimiser, which the codec leaves out.
//!
//! ```no_run
//! use lic_codec::{Architecture, Device};
//! use lic_train::{TrainConfig, Trainer};
//!
//! let trainer = Trainer::new(TrainConfig::new(Architecture::tiny()), "demo", &Device::flex())?;
//! let model_file = trainer.export()?;
//! # Ok::<(), lic_train::Error>(())
//! ```

// The README's examples (which use lic-codec, lic-train, lic-entropy and lic-models, all
// dependencies of this crate) are compiled and run as doctests here.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod average;
mod config;
mod data;
mod error;
mod export;
pub mod model;
mod refine;
mod run;
mod temporal;
mod trainer;
mod warm;

pub use average::{as_checkpoint, average_checkpoints, save_average};
pub use config::{TrainConfig, TrainedParts, default_lambdas};
pub use data::{
    Augment, Batch, Dataset, HELD_OUT_EVERY, Loader, MANIFEST_FILE, Sample, VALIDATION_MAX,
    batch_plan, is_held_out, source_hash, validation_crops,
};
pub use error::{Error, Result};
pub use export::{export, seeded_model};
pub use model::FloatModel;
pub use refine::{RdCost, RefineOptions, RefineReport, Refiner, encode_refined};
pub use run::{Event, RunOptions, run};
pub use temporal::{
    Clip, DEFAULT_CROP, DEFAULT_WIDTH, HELD_OUT_CLIPS, InterGain, TemporalOptions, TemporalTrainer,
    clip_files, is_held_out_clip,
};
pub use trainer::{
    CHECKPOINT_FILE, FloatEstimate, KEPT_CHECKPOINTS, LOG_FILE, LevelStats, MODEL_FILE, StepStats,
    TrainState, Trainer,
};
pub use warm::{float_model, model_lambdas};
