//! Training: the rate-distortion objective over [`FloatModel::forward_rd`],
//! Adam, checkpoints that resume exactly, validation, and export to a deployable model.
//!
//! A run lives in one folder:
//! - `checkpoint.licm`: every float parameter plus the run's configuration and state
//!   (step, seed, wall time), written atomically;
//! - `optimizer-<step>.bpk`: Adam's moments (burn's burnpack record) for that step, its
//!   CRC-32 kept in the checkpoint;
//! - `model.licm`: the deployable export of the checkpoint (integer entropy networks, CDF
//!   tables, fingerprint), refreshed with every checkpoint;
//! - `log.jsonl`: one JSON object per logged step and per validation;
//! - with `--keep-checkpoints`, `checkpoints/step-<step>.licm`: a copy of every checkpoint
//!   (its weights and state; optimizer states are not kept), for weight averaging.
//!
//! Every random choice is a function of the seed and the step number (batches, quality level,
//! quantisation noise), and parameter ids are derived from parameter names, so `--resume`
//! continues bit for bit as the uninterrupted run would have on the same backend and thread
//! count. A checkpoint's weights alone (`Trainer::from_checkpoint` with a fresh optimizer)
//! are also enough to go on, which is what a GPU round trip brings back.

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use lic_codec::internals::{
    image_tensor, load_parameters, named_parameters, planar_to_image, tensor_values,
};
use lic_codec::{Image, ModelInfo};
use lic_models::ModelFile;
use serde::{Deserialize, Serialize};

use crate::config::{TrainConfig, TrainedParts};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::export::export;
use crate::model::{FloatModel, Quantization};
use crate::warm::{self, model_lambdas};

/// `checkpoint.licm` in a run folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.licm";
/// `model.licm` in a run folder.
pub const MODEL_FILE: &str = "model.licm";
/// `log.jsonl` in a run folder.
pub const LOG_FILE: &str = "log.jsonl";
/// The folder of a run that keeps a copy of every checkpoint (`lic train
/// --keep-checkpoints`): `checkpoints/step-<step>.licm`.
pub const KEPT_CHECKPOINTS: &str = "checkpoints";
/// `kind` of a checkpoint's configuration, so a deployable model is not mistaken for one.
const CHECKPOINT_KIND: &str = "lic-checkpoint";

/// Result of [`Trainer::float_estimate`].
#[derive(Debug, Clone)]
pub struct FloatEstimate {
    /// Ideal code length of the latent and hyper-latent symbols, in bits.
    pub bits: f64,
    /// The float path's reconstruction (same size and colour format as the input).
    pub image: Image,
}

/// Where a run stands; stored in its checkpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainState {
    /// Steps done.
    pub step: u64,
    /// Crops trained on.
    pub crops: u64,
    /// Wall time spent in steps over every session of the run, in seconds.
    pub train_seconds: f64,
    /// Hardware of each session (`backend on host`), oldest first, without repeats.
    pub hardware: Vec<String>,
}

/// What one training step measured (on the noisy proxy).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepStats {
    /// Quality level trained.
    pub level: usize,
    /// `bpp + lambda * 255^2 * MSE`.
    pub loss: f32,
    /// Estimated bits per pixel.
    pub bpp: f32,
    /// Mean squared error on `[0, 1]` pixels; `None` when the entropy model is trained alone
    /// ([`TrainedParts::EntropyModel`]: the step runs no synthesis).
    pub mse: Option<f32>,
}

/// Validation result of one quality level: real rounding, rates from the likelihoods.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelStats {
    /// Quality level.
    pub level: usize,
    /// Mean estimated bpp over the validation images.
    pub bpp: f64,
    /// Mean PSNR (dB) of the clamped reconstructions.
    pub psnr: f64,
}

/// The checkpoint's JSON configuration.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckpointInfo {
    kind: String,
    name: String,
    train: TrainConfig,
    state: TrainState,
    /// File name of the optimizer state saved with this checkpoint, if any.
    pub(crate) optimizer: Option<String>,
    /// CRC-32 of that file. A damaged optimizer state still parses, and Adam's moments,
    /// unlike weights, are never looked at again, so only a checksum catches it. Checkpoints
    /// written before it was recorded have none and load unchecked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) optimizer_crc32: Option<u32>,
}

impl CheckpointInfo {
    /// The configuration of the checkpoint `file`, read from `source` (named in errors).
    pub(crate) fn from_file(file: &ModelFile, source: &Path) -> Result<Self> {
        let info: Self = serde_json::from_value(file.config.clone())
            .map_err(|e| Error::checkpoint(source, format!("not a lic checkpoint: {e}")))?;
        if info.kind != CHECKPOINT_KIND {
            return Err(Error::checkpoint(
                source,
                format!("not a lic checkpoint (its kind is `{}`)", info.kind),
            ));
        }
        Ok(info)
    }
}

/// Gives every parameter an id derived from its name (so an optimizer record saved by one
/// process applies in another) and makes it require gradients.
#[derive(Default)]
pub(crate) struct Trainable {
    path: Vec<String>,
}

impl ModuleMapper for Trainable {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_owned());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let id = self
            .path
            .join(".")
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        let (_, tensor, mapper) = param.consume();
        Param::from_mapped_value(ParamId::from(id), tensor.detach().require_grad(), mapper)
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, so a crash leaves
/// either the old file or the new one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(Error::io("writing", path))
}

/// A model being trained, its optimizer and its run state.
pub struct Trainer {
    config: TrainConfig,
    state: TrainState,
    name: String,
    model: FloatModel,
    optim: ModuleOptimizer,
    device: Device,
}

impl Trainer {
    fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
        AdamConfig::new()
            .with_epsilon(1e-8)
            .with_grad_clipping(Some(GradientClippingConfig::Norm(config.grad_clip)))
            .init()
    }

    fn with_model(
        config: TrainConfig,
        state: TrainState,
        name: String,
        model: FloatModel,
        device: &Device,
    ) -> Self {
        let model = model.map(&mut Trainable::default());
        Self {
            optim: Self::optimizer(&config),
            config,
            state,
            name,
            model,
            device: device.clone(),
        }
    }

    /// A new run: weights initialised from `config.seed`, training on `device` (the plain
    /// device; autodiff is added here).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] if the configuration is invalid.
    pub fn new(config: TrainConfig, name: &str, device: &Device) -> Result<Self> {
        config.validate()?;
        let ad = device.clone().autodiff();
        let model = FloatModel::seeded(&config.architecture, config.seed, &ad);
        Ok(Self::with_model(
            config,
            TrainState::default(),
            name.to_owned(),
            model,
            &ad,
        ))
    }

    /// A new run whose weights start from a deployable model file (`lic train --init`):
    /// the float parts as stored, the integer networks dequantised, the `z` prior refitted
    /// to its tables (`warm.rs`). `config.architecture` is the run's: the model's own, or
    /// one it grows into by appending latent channel groups ([`warm::check_growth`]),
    /// where the grown model starts out coding as the original does (`warm::grow`).
    /// The model's λ set is the one it records, else `stated_lambdas`, else the default
    /// set ([`model_lambdas`]); where `config.lambdas` differs, each level's gain vectors
    /// start where the model's interpolate (or extrapolate) to that level's λ
    /// ([`warm::remap_gains`]), so a run may move the rate range.
    ///
    /// # Errors
    /// [`Error::UnusableModel`] if the file is not a deployable lic model or cannot grow
    /// into `config.architecture`, [`Error::InvalidSetting`] if the configuration is invalid
    /// or the model's λ set cannot be settled ([`model_lambdas`]).
    pub fn from_model(
        file: &ModelFile,
        stated_lambdas: Option<&[f64]>,
        config: TrainConfig,
        name: &str,
        device: &Device,
    ) -> Result<Self> {
        let (info, mut params) = warm::model_parameters(file)?;
        let model_lambdas = model_lambdas(&info, stated_lambdas)?;
        // Growth first: an architecture the model cannot grow into is the error to report,
        // not the λ count that follows from it.
        let grows = info.architecture != config.architecture;
        if grows {
            warm::check_growth(&info, &config.architecture)?;
        }
        config.validate()?;
        if model_lambdas != config.lambdas {
            for part in ["gains.gain", "gains.inverse"] {
                if let Some((_, table)) = params.get_mut(part) {
                    *table = warm::remap_gains(table, &model_lambdas, &config.lambdas);
                }
            }
        }
        let ad = device.clone().autodiff();
        if grows {
            let fresh = named_parameters(&FloatModel::seeded(
                &config.architecture,
                config.seed,
                device,
            ));
            params = warm::grow(&params, &info.architecture, &config.architecture, fresh)?;
        }
        let model = warm::load_model(&params, &config.architecture, &ad)?;
        Ok(Self::with_model(
            config,
            TrainState::default(),
            name.to_owned(),
            model,
            &ad,
        ))
    }

    /// The run saved in `run_dir`, weights and state; the optimizer's moments too when
    /// `with_optimizer` and they were saved (otherwise Adam starts afresh).
    ///
    /// # Errors
    /// [`Error::Io`] if the checkpoint cannot be read, [`Error::Checkpoint`] if it is not
    /// one or its optimizer state is damaged.
    pub fn from_checkpoint(run_dir: &Path, with_optimizer: bool, device: &Device) -> Result<Self> {
        let path = run_dir.join(CHECKPOINT_FILE);
        let bytes = std::fs::read(&path).map_err(Error::io("reading", &path))?;
        let file = ModelFile::from_bytes(&bytes)?;
        let info = CheckpointInfo::from_file(&file, &path)?;
        info.train.validate()?;
        let ad = device.clone().autodiff();
        let model = load_parameters(
            FloatModel::new(&info.train.architecture, &ad),
            &ad,
            |name, shape| -> Result<Option<Vec<f32>>> { Ok(Some(file.f32(name, shape)?.to_vec())) },
        )?;
        let mut trainer = Self::with_model(info.train, info.state, info.name, model, &ad);
        if with_optimizer && let Some(opt) = info.optimizer {
            let opt_path = run_dir.join(&opt);
            let bytes = std::fs::read(&opt_path).map_err(Error::io("reading", &opt_path))?;
            if let Some(expected) = info.optimizer_crc32
                && crc32fast::hash(&bytes) != expected
            {
                return Err(Error::checkpoint(
                    &opt_path,
                    format!(
                        "damaged (CRC-32 {:08X}, the checkpoint says {expected:08X}); resume \
                         with --weights-only to start Adam afresh",
                        crc32fast::hash(&bytes)
                    ),
                ));
            }
            // burn materialises the moments on its default device (wgpu when it is compiled
            // in, hence the graphics driver's messages on a CPU run) and moves each one to
            // its parameter's device on the next step.
            let optim = Self::optimizer(&trainer.config)
                .from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
                .map_err(|e| Error::checkpoint(&opt_path, e.to_string()))?;
            trainer.optim = optim;
        }
        Ok(trainer)
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Where the run stands.
    pub fn state(&self) -> &TrainState {
        &self.state
    }

    /// Mutable run state (the run loop adds wall time and hardware).
    pub fn state_mut(&mut self) -> &mut TrainState {
        &mut self.state
    }

    /// Replaces the learning-rate schedule (for example to decay a resumed run).
    pub fn set_schedule(&mut self, learning_rate: f64, milestones: Vec<u64>) -> Result<()> {
        let mut c = self.config.clone();
        c.learning_rate = learning_rate;
        c.lr_milestones = milestones;
        c.validate()?;
        self.config = c;
        Ok(())
    }

    /// Renames the model (the name exported models carry).
    pub fn set_name(&mut self, name: &str) {
        name.clone_into(&mut self.name);
    }

    /// The model (on the autodiff device).
    pub fn model(&self) -> &FloatModel {
        &self.model
    }

    /// One optimisation step on `batch` (which must be the batch of the current step for
    /// the run to be reproducible).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] if the batch is not `batch` crops of a multiple of 64;
    /// [`Error::NonFiniteLoss`] if the loss is not finite (the step is not applied).
    pub fn step(&mut self, batch: &Batch) -> Result<StepStats> {
        let (b, c) = (batch.batch, batch.crop);
        if batch.data.len() != b * 3 * c * c || !c.is_multiple_of(64) || b == 0 {
            return Err(Error::setting(
                "batch",
                format!("{} values", batch.data.len()),
                format!("{b} crops of {c}x{c} (3 planes), a crop side a multiple of 64"),
            ));
        }
        let step = self.state.step;
        let level = self.config.level_at(step);
        let lambda = self.config.lambdas[level];
        let x = Tensor::<4>::from_data(
            TensorData::new(batch.data.clone(), [b, 3, c, c]),
            &self.device,
        );
        let mut rng = self.config.noise_rng(step);
        let distortion_weight = (lambda * 255.0 * 255.0) as f32;
        let (bpp, mse) = match self.config.trained {
            TrainedParts::All => {
                let out = self
                    .model
                    .forward_rd(x.clone(), level, Quantization::Noise(&mut rng));
                (out.bpp(), Some((out.x_hat - x).square().mean()))
            }
            TrainedParts::EntropyModel => {
                // The frozen analysis runs without autodiff; only the entropy model is traced.
                let y = self.model.analysis.valid().forward(x.inner()).autodiff()
                    * FloatModel::gain_row(self.model.gains.gain.val().detach(), level);
                let z = self.model.hyper_analysis.forward(y.clone());
                let bpp = self
                    .model
                    .latent_rates(y, z, Quantization::Noise(&mut rng))
                    .bpp();
                (bpp, None)
            }
            TrainedParts::Synthesis => {
                // The frozen encoder codes the latents without autodiff, rounding as the
                // codec does; only the synthesis and the inverse gains are traced.
                let encoder = self.model.valid();
                let y = encoder.analysis.forward(x.clone().inner())
                    * FloatModel::gain_row(encoder.gains.gain.val(), level);
                let z = encoder.hyper_analysis.forward(y.clone());
                let coded = encoder.latent_rates(y, z, Quantization::Round);
                let bpp = coded.bpp().autodiff();
                let inverse = FloatModel::gain_row(self.model.gains.inverse.val(), level);
                let x_hat = self
                    .model
                    .synthesis
                    .forward(coded.y_hat.autodiff() * inverse);
                (bpp, Some((x_hat - x).square().mean()))
            }
        };
        // The rate, plus the weighted distortion where the step decodes an image.
        let loss = match &mse {
            Some(mse) => bpp.clone() + mse.clone() * distortion_weight,
            None => bpp.clone(),
        };
        let stats = StepStats {
            level,
            loss: loss.clone().into_scalar::<f32>(),
            bpp: bpp.into_scalar::<f32>(),
            mse: mse.map(|m| m.into_scalar::<f32>()),
        };
        if !stats.loss.is_finite() {
            return Err(Error::NonFiniteLoss {
                step,
                loss: stats.loss,
            });
        }
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let lr = self.config.learning_rate_at(step);
        self.model = self.optim.step(lr, self.model.clone(), grads);
        self.state.step += 1;
        self.state.crops += b as u64;
        Ok(stats)
    }

    /// Estimated bpp and PSNR of every quality level on `crops` (planar RGB, `crop x crop`),
    /// with real rounding.
    pub fn evaluate(&self, crops: &[Vec<f32>], crop: usize) -> Vec<LevelStats> {
        let model = self.model.valid();
        let device = self.device.clone().inner();
        (0..self.config.lambdas.len())
            .map(|level| {
                let (mut bpp, mut psnr) = (0.0, 0.0);
                for c in crops {
                    let x = Tensor::<4>::from_data(
                        TensorData::new(c.clone(), [1, 3, crop, crop]),
                        &device,
                    );
                    let out = model.forward_rd(x.clone(), level, Quantization::Round);
                    let mse = (out.x_hat.clone().clamp(0.0, 1.0) - x).square().mean();
                    bpp += f64::from(out.bpp().into_scalar::<f32>());
                    let mse = f64::from(mse.into_scalar::<f32>()).max(1e-12);
                    psnr += -10.0 * mse.log10();
                }
                let n = crops.len().max(1) as f64;
                LevelStats {
                    level,
                    bpp: bpp / n,
                    psnr: psnr / n,
                }
            })
            .collect()
    }

    /// The float entropy path on a whole `image` at trained quality `level`: the ideal code
    /// length of its `y` and `z` symbols under the float Gaussian parameters (no integer
    /// networks, no table grid, no rANS) and the float decoder's reconstruction. Set against
    /// a real encode with the exported model, it measures what the integer entropy path
    /// costs (`lic eval --codec lic-float`).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] if `level` is not a trained level.
    pub fn float_estimate(&self, image: &Image, level: usize) -> Result<FloatEstimate> {
        let levels = self.config.lambdas.len();
        if level >= levels {
            return Err(Error::setting(
                "level",
                level,
                format!("a trained level, 0..{levels}"),
            ));
        }
        let model = self.model.valid();
        let device = self.device.clone().inner();
        let x = image_tensor(image, &device);
        let [_, _, ph, pw] = x.dims();
        let out = model.forward_rd(x, level, Quantization::Round);
        let bits = f64::from((out.latents.y_bits + out.latents.z_bits).into_scalar::<f32>());
        let rec = tensor_values(out.x_hat)?;
        Ok(FloatEstimate {
            bits,
            image: planar_to_image(&rec, (ph, pw), image.width(), image.height(), image.color())?,
        })
    }

    /// The deployable model of the current weights.
    ///
    /// # Errors
    /// From [`export`].
    pub fn export(&self) -> Result<ModelFile> {
        export(
            &self.model,
            &ModelInfo {
                name: self.name.clone(),
                architecture: self.config.architecture.clone(),
                lambdas: Some(self.config.lambdas.clone()),
            },
        )
    }

    /// The contents of `checkpoint.licm` for the current weights and state, naming the
    /// optimizer state file saved with it and its CRC-32, if any.
    pub(crate) fn checkpoint(&self, optimizer: Option<(String, u32)>) -> Result<ModelFile> {
        let (optimizer, optimizer_crc32) = optimizer.unzip();
        let info = CheckpointInfo {
            kind: CHECKPOINT_KIND.into(),
            name: self.name.clone(),
            train: self.config.clone(),
            state: self.state.clone(),
            optimizer,
            optimizer_crc32,
        };
        let config = serde_json::to_value(&info).map_err(|e| Error::Backend {
            reason: format!("the checkpoint's configuration as JSON: {e}"),
        })?;
        let mut file = ModelFile::new(config);
        for (name, shape, data) in named_parameters(&self.model) {
            file.push(&name, lic_models::Tensor::F32 { shape, data })?;
        }
        Ok(file)
    }

    /// Saves the optimizer state, then the checkpoint, then the deployable model, each
    /// atomically, into `run_dir`; removes optimizer states of older checkpoints.
    ///
    /// # Errors
    /// [`Error::Io`] if a file cannot be written.
    pub fn save(&self, run_dir: &Path) -> Result<()> {
        std::fs::create_dir_all(run_dir).map_err(Error::io("creating", run_dir))?;
        let opt_name = format!("optimizer-{:08}.bpk", self.state.step);
        let opt_bytes = self.optim.into_bytes().map_err(|e| Error::Backend {
            reason: format!("saving the optimizer state: {e}"),
        })?;
        write_atomic(&run_dir.join(&opt_name), &opt_bytes)?;

        let file = self.checkpoint(Some((opt_name.clone(), crc32fast::hash(&opt_bytes))))?;
        write_atomic(&run_dir.join(CHECKPOINT_FILE), &file.to_bytes())?;
        write_atomic(&run_dir.join(MODEL_FILE), &self.export()?.to_bytes())?;

        for old in old_optimizer_files(run_dir, &opt_name) {
            let _ = std::fs::remove_file(old);
        }
        Ok(())
    }
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn old_optimizer_files(run_dir: &Path, keep: &str) -> Vec<PathBuf> {
    std::fs::read_dir(run_dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("optimizer-") && n != keep)
                })
                .collect()
        })
        .unwrap_or_default()
}
