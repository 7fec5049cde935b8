//! What defines a training run ([`TrainConfig`], stored in its checkpoints): the model, the
//! λ of each quality level, batches, the learning-rate schedule, the seed of every random
//! choice, and which networks the steps train ([`TrainedParts`]).

use lic_codec::Architecture;
use lic_codec::internals::lambdas_increase;
use serde::{Deserialize, Serialize};

use crate::data::Augment;
use crate::error::{Error, Result};
use crate::model::SplitMix64;

/// Distortion weights `lambda` (loss = bpp + lambda * 255^2 * MSE) for `levels` quality
/// levels: log-spaced from 0.0018 to 0.0932, CompressAI's MSE range for its qualities 1..8,
/// which covers about 0.1 to 1.5 bpp on Kodak for a mean-scale hyperprior.
pub fn default_lambdas(levels: usize) -> Vec<f64> {
    let (lo, hi): (f64, f64) = (0.0018, 0.0932);
    if levels < 2 {
        return vec![(lo * hi).sqrt()];
    }
    (0..levels)
        .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (levels - 1) as f64).exp())
        .collect()
}

/// Everything that defines a run; stored in its checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// The model trained.
    pub architecture: Architecture,
    /// Distortion weight of each quality level (low to high quality).
    #[serde(with = "lic_codec::internals::exact::vec")]
    pub lambdas: Vec<f64>,
    /// Crops per step.
    pub batch: usize,
    /// Side of a square crop (a multiple of 64).
    pub crop: usize,
    /// Adam's learning rate after warm-up.
    #[serde(with = "lic_codec::internals::exact::one")]
    pub learning_rate: f64,
    /// Steps of linear warm-up.
    pub warmup_steps: u64,
    /// Steps at which the learning rate is divided by 10.
    pub lr_milestones: Vec<u64>,
    /// Largest L2 norm of each parameter's gradient.
    pub grad_clip: f32,
    /// Seed of the initial weights and of every random choice.
    pub seed: u64,
    /// Which networks the steps train ([`TrainedParts`]); the rest stay frozen. Left out of
    /// the checkpoint when all are trained, so earlier checkpoints read as before; read from
    /// `"freeze_transforms": true` too, as lic wrote the entropy-only setting before there
    /// were two.
    #[serde(
        default,
        alias = "freeze_transforms",
        deserialize_with = "TrainedParts::deserialize_stored",
        skip_serializing_if = "TrainedParts::is_all"
    )]
    pub trained: TrainedParts,
    /// How crops are varied ([`Augment`]); a checkpoint that records none used flips only.
    #[serde(default)]
    pub augment: Augment,
}

/// Which parts of the model a training step updates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainedParts {
    /// Every network and the gains, on `bpp + λ · 255² · MSE`.
    #[default]
    All,
    /// The entropy model alone (`h_a`, `h_s`, the `z` prior, the channel groups' contexts) on
    /// the rate, with the transforms `g_a`, `g_s` and the gains frozen: the rate term is the
    /// only one that depends on those networks (up to which side of a rounding boundary a
    /// latent falls), and a step skips the synthesis and every backward pass through the
    /// transforms, several times cheaper than a full step.
    EntropyModel,
    /// The synthesis `g_s` and the inverse gains alone on the distortion, with the encoder
    /// (`g_a`, the gains, the entropy model) frozen: the latents are coded as the codec codes
    /// them (real rounding around the predicted means), so an image's symbols and rate stay
    /// exactly what they were and only the decoded image changes; the step needs no
    /// backward pass through the analysis or the entropy model.
    Synthesis,
}

impl TrainedParts {
    /// Whether every part is trained (the default).
    pub fn is_all(&self) -> bool {
        *self == Self::All
    }

    /// The stored setting: a [`TrainedParts`], or the boolean of `freeze_transforms`.
    fn deserialize_stored<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Parts(TrainedParts),
            FreezeTransforms(bool),
        }
        Ok(match Stored::deserialize(d)? {
            Stored::Parts(parts) => parts,
            Stored::FreezeTransforms(true) => Self::EntropyModel,
            Stored::FreezeTransforms(false) => Self::All,
        })
    }
}

impl TrainConfig {
    /// A configuration for `architecture` with lic's defaults: one lambda per quality level,
    /// batch 8 of 256x256 crops augmented by [`Augment::ALL`], learning rate 1e-4 after 200
    /// warm-up steps.
    pub fn new(architecture: Architecture) -> Self {
        Self {
            lambdas: default_lambdas(architecture.quality_levels),
            architecture,
            batch: 8,
            crop: 256,
            learning_rate: 1e-4,
            warmup_steps: 200,
            lr_milestones: Vec::new(),
            grad_clip: 1.0,
            seed: 1,
            trained: TrainedParts::All,
            augment: Augment::ALL,
        }
    }

    /// Checks the configuration can run.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] naming the wrong value and the valid range;
    /// [`Error::Codec`] for an invalid architecture.
    pub fn validate(&self) -> Result<()> {
        self.architecture.validate()?;
        let levels = self.architecture.quality_levels;
        if self.lambdas.len() != levels {
            return Err(Error::setting(
                "lambdas",
                format!("{:?}", self.lambdas),
                format!("one per quality level ({levels})"),
            ));
        }
        // Quality levels run from low to high: `lic encode -q` and the gain interpolation
        // between levels assume it, and the exported model records the set.
        if !lambdas_increase(&self.lambdas) {
            return Err(Error::setting(
                "lambdas",
                format!("{:?}", self.lambdas),
                "positive, increasing values",
            ));
        }
        if self.crop == 0 || !self.crop.is_multiple_of(64) || self.crop > 4096 {
            return Err(Error::setting(
                "crop",
                self.crop,
                "a multiple of 64 within 64..=4096",
            ));
        }
        if !(1..=1024).contains(&self.batch) {
            return Err(Error::setting("batch", self.batch, "1..=1024"));
        }
        if !self.augment.is_valid() {
            return Err(Error::setting(
                "smallest crop scale",
                self.augment.min_scale,
                "within (0, 1]",
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate < 1.0) {
            return Err(Error::setting(
                "learning rate",
                self.learning_rate,
                "within (0, 1)",
            ));
        }
        if self.grad_clip.is_nan() || self.grad_clip <= 0.0 {
            return Err(Error::setting("gradient clip", self.grad_clip, "above 0"));
        }
        Ok(())
    }

    /// Learning rate at `step`: linear warm-up, then divided by 10 at each milestone passed.
    pub fn learning_rate_at(&self, step: u64) -> f64 {
        let warm = if self.warmup_steps == 0 {
            1.0
        } else {
            ((step + 1) as f64 / self.warmup_steps as f64).min(1.0)
        };
        let decays = self.lr_milestones.iter().filter(|&&m| step >= m).count();
        self.learning_rate * warm * 0.1f64.powi(decays as i32)
    }

    /// The quality level trained at `step`.
    pub fn level_at(&self, step: u64) -> usize {
        let mut rng = SplitMix64(self.seed ^ step.wrapping_mul(0xE703_7ED1_A0B4_28DB) ^ 0x1);
        (rng.next_u64() % self.lambdas.len() as u64) as usize
    }

    pub(crate) fn noise_rng(&self, step: u64) -> SplitMix64 {
        SplitMix64(self.seed ^ step.wrapping_mul(0x8EBC_6AF0_9C88_C6E3) ^ 0x2)
    }
}
