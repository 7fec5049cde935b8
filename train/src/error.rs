//! The one error type of lic-train.

use std::path::PathBuf;

use lic_codec::Fingerprint;

/// Everything that can go wrong while training, exporting, averaging or refining. Each variant
/// carries the values involved; the messages say what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The codec refused something (an image, a model file, a quality).
    #[error(transparent)]
    Codec(#[from] lic_codec::Error),
    /// A model or checkpoint file is malformed.
    #[error(transparent)]
    ModelFile(#[from] lic_models::Error),
    /// A training setting is out of its range or contradicts another.
    #[error("invalid training setting: {setting} is {value}, expected {expected}")]
    InvalidSetting {
        /// The setting (as `lic train` names it, or the field of the configuration).
        setting: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// A model file cannot enter training as asked (not a deployable model, a parameter
    /// missing, an architecture it cannot grow into).
    #[error("model {name}: {problem}")]
    UnusableModel {
        /// The model's name, or the file it came from.
        name: String,
        /// What stops it.
        problem: String,
    },
    /// A checkpoint or run folder is not what it should be (not a checkpoint, damaged,
    /// checkpoints of different architectures).
    #[error("checkpoint {}: {problem}", path.display())]
    Checkpoint {
        /// The file or run folder.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A file or folder could not be read, written or created.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done (`reading`, `writing`, `creating`).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// Training images could not be used.
    #[error("training data {}: {problem}", path.display())]
    Data {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A training step's loss is not finite; the step was not applied.
    #[error(
        "step {step}: the loss is not finite ({loss}); lower the learning rate or resume from \
         the last checkpoint"
    )]
    NonFiniteLoss {
        /// The step.
        step: u64,
        /// The loss.
        loss: f32,
    },
    /// A refiner built for one model was asked to refine latents of another.
    #[error("the refiner is for model {refiner}, the encoder's model is {model}")]
    RefinerMismatch {
        /// The refiner's model.
        refiner: Fingerprint,
        /// The encoder's model.
        model: Fingerprint,
    },
    /// The compute backend failed (an optimizer state it cannot write, a missing gradient).
    #[error("backend: {reason}")]
    Backend {
        /// What went wrong.
        reason: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn setting(
        setting: &'static str,
        value: impl std::fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Self::InvalidSetting {
            setting,
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    pub(crate) fn checkpoint(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Self::Checkpoint {
            path: path.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn unusable(name: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::UnusableModel {
            name: name.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }

    pub(crate) fn data(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Self::Data {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
