//! Float model -> deployable model file: float transforms as they are, entropy-parameter
//! networks quantised to integers, the `z` prior as integer CDF tables.

use lic_models::{ModelFile, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::int::{Z_TABLES, integer_layers, quantize_layer, tables_to_i32};
use crate::model::{GAIN_FLOOR, LicModel, ModelConfig, channel_table, named_parameters};

/// Prefixes of the parameters that stay in float (they never choose a table).
pub(crate) const FLOAT_PARTS: [&str; 4] = ["analysis.", "synthesis.", "hyper_analysis.", "gains."];

/// The JSON configuration stored in every model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    /// Human-readable name (`lic-default`, a run name, ...).
    pub name: String,
    /// Architecture.
    pub architecture: ModelConfig,
    /// The distortion weight λ each quality level was trained at, low to high quality.
    /// Decoding never reads it; `lic train --init` does, so that a run started from the
    /// model keeps (or knowingly moves) its levels. Absent in files exported before it was
    /// recorded, and in untrained seeded models.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::exact::opt_vec"
    )]
    pub lambdas: Option<Vec<f64>>,
}

impl ModelInfo {
    /// Checks the architecture and, when recorded, that there is one finite, positive,
    /// strictly increasing λ per quality level.
    ///
    /// # Errors
    /// What is wrong, in words.
    pub fn validate(&self) -> std::result::Result<(), String> {
        self.architecture.validate()?;
        if let Some(lambdas) = &self.lambdas {
            let levels = self.architecture.quality_levels;
            if lambdas.len() != levels || !increasing_positive(lambdas) {
                return Err(format!(
                    "lambdas {lambdas:?}: expected {levels} positive, increasing values"
                ));
            }
        }
        Ok(())
    }
}

/// Whether `lambdas` are finite, positive and strictly increasing (low to high quality).
pub(crate) fn increasing_positive(lambdas: &[f64]) -> bool {
    lambdas.iter().all(|l| l.is_finite() && *l > 0.0) && lambdas.windows(2).all(|w| w[0] < w[1])
}

/// Exports `model` (built with `info.architecture`) as a deployable model file.
///
/// # Errors
/// [`Error::InvalidModel`] if a parameter is missing or a prior table cannot be built.
pub fn export(model: &LicModel, info: &ModelInfo) -> Result<ModelFile> {
    info.validate().map_err(Error::InvalidModel)?;
    let params = named_parameters(model);
    let find = |name: &str| {
        params
            .iter()
            .find(|(n, _, _)| n == name)
            .ok_or_else(|| Error::InvalidModel(format!("parameter `{name}` is missing")))
    };
    let config = serde_json::to_value(info).map_err(|e| Error::InvalidModel(e.to_string()))?;
    let mut file = ModelFile::new(config);
    for (name, shape, values) in &params {
        if FLOAT_PARTS.iter().any(|p| name.starts_with(p)) {
            // Gains are used floored, in training as here (`forward_rd`).
            let data = if name.starts_with("gains.") {
                values.iter().map(|g| g.max(GAIN_FLOOR)).collect()
            } else {
                values.clone()
            };
            file.push(
                name,
                Tensor::F32 {
                    shape: shape.clone(),
                    data,
                },
            )?;
        }
    }
    for (name, shape, transposed, _) in integer_layers(&info.architecture) {
        let (_, wshape, w) = find(&format!("{name}.weight"))?;
        let (_, _, b) = find(&format!("{name}.bias"))?;
        if wshape[..] != shape[..] {
            return Err(Error::InvalidModel(format!(
                "{name}: weight shape {wshape:?}, expected {shape:?}"
            )));
        }
        let per_channel = shape[2] * shape[3];
        let q = if transposed {
            let cout = shape[1];
            quantize_layer(w, b, cout, |i| (i / per_channel) % cout)
        } else {
            let cout = shape[0];
            let per_out = shape[1] * per_channel;
            quantize_layer(w, b, cout, |i| i / per_out)
        };
        let cout = q.bias.len();
        file.push(
            &format!("{name}.weight"),
            Tensor::I32 {
                shape: shape.to_vec(),
                data: q.weight,
            },
        )?;
        for (suffix, data) in [("bias", q.bias), ("shift", q.shift)] {
            file.push(
                &format!("{name}.{suffix}"),
                Tensor::I32 {
                    shape: vec![cout],
                    data,
                },
            )?;
        }
    }
    let (_, _, loc) = find("prior.location")?;
    let (_, _, scale) = find("prior.log2_scale")?;
    let tables = loc
        .iter()
        .zip(scale)
        .map(|(&l, &s)| channel_table(l, s))
        .collect::<lic_entropy::Result<Vec<_>>>()
        .map_err(|e| Error::InvalidModel(format!("z prior: {e}")))?;
    let data = tables_to_i32(&tables);
    file.push(
        Z_TABLES,
        Tensor::I32 {
            shape: vec![data.len()],
            data,
        },
    )?;
    Ok(file)
}
