//! Float model -> deployable model file: float transforms as they are, entropy-parameter
//! networks quantised to integers ([`quantize`]), the `z` prior as integer CDF tables.

use burn::tensor::Device;
use lic_codec::internals::{
    FLOAT_PARTS, Z_TABLES, integer_layers, named_parameters, quantize, tables_to_i32,
};
use lic_codec::{Architecture, Model, ModelInfo};
use lic_models::{ModelFile, Tensor};

use crate::error::{Error, Result};
use crate::model::{FloatModel, GAIN_FLOOR, channel_table};

/// Exports `model` (built with `info.architecture`) as a deployable model file.
///
/// # Errors
/// [`Error::Codec`] if `info` is invalid; [`Error::UnusableModel`] if a parameter is missing
/// or a prior table cannot be built.
pub fn export(model: &FloatModel, info: &ModelInfo) -> Result<ModelFile> {
    info.validate()?;
    let params = named_parameters(model);
    let find = |name: &str| {
        params
            .iter()
            .find(|(n, _, _)| n == name)
            .ok_or_else(|| Error::unusable(&info.name, format!("parameter `{name}` is missing")))
    };
    let config = serde_json::to_value(info).map_err(|e| Error::Backend {
        reason: format!("the model description as JSON: {e}"),
    })?;
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
    for spec in integer_layers(&info.architecture) {
        let (_, _, w) = find(&format!("{}.weight", spec.name))?;
        let (_, _, b) = find(&format!("{}.bias", spec.name))?;
        let q = quantize(&spec, w, b)?;
        let cout = spec.out_channels();
        file.push(
            &format!("{}.weight", spec.name),
            Tensor::I32 {
                shape: spec.weight_shape.to_vec(),
                data: q.weight,
            },
        )?;
        for (suffix, data) in [("bias", q.bias), ("shift", q.shift)] {
            file.push(
                &format!("{}.{suffix}", spec.name),
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
        .map_err(|e| Error::unusable(&info.name, format!("z prior: {e}")))?;
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

/// The untrained model of `architecture` initialised from `seed` ([`FloatModel::seeded`]),
/// exported and loaded on `device`: the same fingerprint on every machine. Tests and
/// `lic train` start from it.
///
/// # Errors
/// [`Error::Codec`] if `architecture` is invalid.
pub fn seeded_model(
    architecture: &Architecture,
    seed: u64,
    name: &str,
    device: &Device,
) -> Result<Model> {
    architecture.validate()?;
    let info = ModelInfo {
        name: name.to_owned(),
        architecture: architecture.clone(),
        lambdas: None,
    };
    let file = export(
        &FloatModel::seeded(architecture, seed, &Device::flex()),
        &info,
    )?;
    Ok(Model::from_file(&file, device)?)
}
