//! What a model file says about itself: its name, its architecture and the λ set it was
//! trained at (the JSON configuration of every `.licm` file).

use lic_models::ModelFile;
use serde::{Deserialize, Serialize};

use super::Architecture;
use crate::error::{Error, Result};

/// Prefixes of the tensors a model file stores in float (the transforms and the gains: they
/// never choose a probability table); every other network is stored as integers.
pub const FLOAT_PARTS: [&str; 4] = ["analysis.", "synthesis.", "hyper_analysis.", "gains."];

/// The JSON configuration stored in every model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    /// Human-readable name (`lic-small-v22`, a run name, ...).
    pub name: String,
    /// Architecture.
    pub architecture: Architecture,
    /// The distortion weight λ each quality level was trained at, low to high quality.
    /// Decoding never reads it; `lic train --init` does, so that a run started from the
    /// model keeps (or knowingly moves) its levels. Absent in files exported before it was
    /// recorded, and in untrained seeded models.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::internals::exact::opt_vec"
    )]
    pub lambdas: Option<Vec<f64>>,
}

impl ModelInfo {
    /// The description a deployable model file carries, checked ([`Self::validate`]).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] if the configuration is not a model description (a training
    /// checkpoint, say); as [`Self::validate`] if it is one but invalid.
    pub fn from_file(file: &ModelFile) -> Result<Self> {
        let info: Self = serde_json::from_value(file.config.clone()).map_err(|e| {
            Error::invalid_model(
                "configuration",
                format!("not a deployable lic model description: {e}"),
            )
        })?;
        info.validate()?;
        Ok(info)
    }

    /// Checks the architecture and, when recorded, that there is one finite, positive,
    /// strictly increasing λ per quality level.
    ///
    /// # Errors
    /// [`Error::InvalidArchitecture`] or [`Error::InvalidModel`], saying what is wrong.
    pub fn validate(&self) -> Result<()> {
        self.architecture.validate()?;
        if let Some(lambdas) = &self.lambdas {
            let levels = self.architecture.quality_levels;
            if lambdas.len() != levels || !lambdas_increase(lambdas) {
                return Err(Error::invalid_model(
                    "lambdas",
                    format!("{lambdas:?}: expected {levels} positive, increasing values"),
                ));
            }
        }
        Ok(())
    }
}

/// Whether `lambdas` are finite, positive and strictly increasing (low to high quality), as a
/// model's λ set must be.
pub fn lambdas_increase(lambdas: &[f64]) -> bool {
    lambdas.iter().all(|l| l.is_finite() && *l > 0.0) && lambdas.windows(2).all(|w| w[0] < w[1])
}
