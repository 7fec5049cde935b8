//! Weight averaging (Izmailov et al. 2018, "stochastic weight averaging"; Wortsman et al.
//! 2022, "model soups"): the mean of every float parameter over several checkpoints of one
//! architecture. At a small learning rate the iterates wander around a minimum with the
//! gradient's noise, and models warm-started one from another stay in one basin, so their
//! mean can sit nearer its centre than any one of them. `lic-small-v22` was made this way
//! (its model card, phase 22); `lic average` runs [`save_average`] on files.

use std::path::Path;

use burn::tensor::Device;
use lic_models::{ModelFile, Tensor};

use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::trainer::{CHECKPOINT_FILE, CheckpointInfo, MODEL_FILE, Trainer, write_atomic};
use crate::warm::{self, model_lambdas};

/// How errors name a checkpoint given as bytes rather than as a file.
const INPUT: &str = "(a checkpoint to average)";

/// `file` as a checkpoint to average: a checkpoint as it is; a deployable model as
/// `lic train --init` starts from it (the float parts as stored, the integer networks
/// dequantised, the `z` prior refitted to its tables), at its own architecture and the λ
/// set it records (else the default set), at step 0 with a default training configuration.
///
/// # Errors
/// [`Error::UnusableModel`] if `file` is neither a checkpoint nor a deployable lic model.
pub fn as_checkpoint(file: &ModelFile, device: &Device) -> Result<ModelFile> {
    if CheckpointInfo::from_file(file, Path::new(INPUT)).is_ok() {
        return Ok(file.clone());
    }
    let (info, _) = warm::model_parameters(file)?;
    let mut config = TrainConfig::new(info.architecture.clone());
    config.lambdas = model_lambdas(&info, None)?;
    Trainer::from_model(file, None, config, &info.name, device)?.checkpoint(None)
}

/// Averages `inputs` (checkpoints and deployable models, entered by [`as_checkpoint`])
/// with [`average_checkpoints`] into the run folder `run_dir`: its `checkpoint.licm`
/// (weights, no optimizer state; named `name` if given) and the deployable `model.licm`,
/// each written atomically. Returns the deployable model.
///
/// # Errors
/// As [`as_checkpoint`] and [`average_checkpoints`]; [`Error::Io`] if a file cannot be
/// written.
pub fn save_average(
    inputs: &[ModelFile],
    name: Option<&str>,
    run_dir: &Path,
    device: &Device,
) -> Result<ModelFile> {
    let checkpoints = inputs
        .iter()
        .map(|f| as_checkpoint(f, device))
        .collect::<Result<Vec<_>>>()?;
    let mut averaged = average_checkpoints(&checkpoints)?;
    if let Some(name) = name {
        averaged.config["name"] = name.into();
    }
    std::fs::create_dir_all(run_dir).map_err(Error::io("creating", run_dir))?;
    write_atomic(&run_dir.join(CHECKPOINT_FILE), &averaged.to_bytes())?;
    let model = Trainer::from_checkpoint(run_dir, false, device)?.export()?;
    write_atomic(&run_dir.join(MODEL_FILE), &model.to_bytes())?;
    Ok(model)
}

/// The mean of the float parameters of `checkpoints` (the contents of `checkpoint.licm`
/// files), as a checkpoint with the configuration and run state of the last one and no
/// optimizer state: `lic export` turns it into a model, `--resume --weights-only` trains on
/// from it with a fresh Adam. The sums are taken in `f64`, in the order given.
///
/// # Errors
/// [`Error::InvalidSetting`] if `checkpoints` is empty; [`Error::Checkpoint`] if one is not
/// a lic checkpoint or their parameters differ in names or shapes.
pub fn average_checkpoints(checkpoints: &[ModelFile]) -> Result<ModelFile> {
    let (last, others) = checkpoints
        .split_last()
        .ok_or_else(|| Error::setting("checkpoints", "none", "at least one to average"))?;
    // Every file must be a checkpoint; the mean takes the last one's configuration.
    for file in others {
        CheckpointInfo::from_file(file, Path::new(INPUT))?;
    }
    let mut info = CheckpointInfo::from_file(last, Path::new(INPUT))?;
    for (k, file) in checkpoints.iter().enumerate() {
        let same = file.tensors().count() == last.tensors().count()
            && file
                .tensors()
                .all(|(name, t)| last.get(name).is_some_and(|l| l.shape() == t.shape()));
        if !same {
            return Err(Error::checkpoint(
                INPUT,
                format!("input {k} has other parameters than the last one (another architecture?)"),
            ));
        }
    }
    // The mean has no Adam moments of its own.
    info.optimizer = None;
    info.optimizer_crc32 = None;
    let config = serde_json::to_value(&info).map_err(|e| Error::Backend {
        reason: format!("the averaged checkpoint's configuration as JSON: {e}"),
    })?;
    let mut averaged = ModelFile::new(config);
    let n = checkpoints.len() as f64;
    for (name, tensor) in last.tensors() {
        let Tensor::F32 { shape, .. } = tensor else {
            return Err(Error::checkpoint(
                INPUT,
                format!("`{name}` is not a float parameter"),
            ));
        };
        let mut sum = vec![0f64; shape.iter().product()];
        for file in checkpoints {
            for (s, &v) in sum.iter_mut().zip(file.f32(name, shape)?) {
                *s += f64::from(v);
            }
        }
        let data = sum.into_iter().map(|s| (s / n) as f32).collect();
        averaged.push(
            name,
            Tensor::F32 {
                shape: shape.clone(),
                data,
            },
        )?;
    }
    Ok(averaged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lic_codec::Architecture;

    /// A tiny model's checkpoint, as `Trainer::save` writes it, and the same with every
    /// parameter multiplied by `scale`.
    fn checkpoint_and_scaled(dir: &Path, scale: f32) -> (ModelFile, ModelFile) {
        let trainer = Trainer::new(
            TrainConfig::new(Architecture::tiny()),
            "tiny",
            &Device::flex(),
        )
        .unwrap();
        trainer.save(dir).unwrap();
        let file =
            ModelFile::from_bytes(&std::fs::read(dir.join(CHECKPOINT_FILE)).unwrap()).unwrap();
        let mut scaled = ModelFile::new(file.config.clone());
        for (name, t) in file.tensors() {
            let Tensor::F32 { shape, data } = t else {
                panic!("{name} is not f32")
            };
            let data = data.iter().map(|v| v * scale).collect();
            let shape = shape.clone();
            scaled.push(name, Tensor::F32 { shape, data }).unwrap();
        }
        (file, scaled)
    }

    #[test]
    fn the_mean_of_checkpoints_is_their_elementwise_mean_and_trains_on() {
        let dir = tempfile::tempdir().unwrap();
        let (one, three) = checkpoint_and_scaled(dir.path(), 3.0);
        let mean = average_checkpoints(&[one.clone(), three]).unwrap();
        let mut compared = 0;
        for (name, t) in one.tensors() {
            let Tensor::F32 { shape, data } = t else {
                unreachable!()
            };
            for (m, v) in mean.f32(name, shape).unwrap().iter().zip(data) {
                assert!(
                    (m - 2.0 * v).abs() <= 1e-6 * v.abs().max(1.0),
                    "{name}: {m} vs {v}"
                );
                compared += 1;
            }
        }
        assert!(compared > 1000, "{compared} values compared");
        assert_eq!(mean.config["optimizer"], serde_json::Value::Null);

        // The mean is a checkpoint that a run resumes from with a fresh Adam.
        let out = tempfile::tempdir().unwrap();
        std::fs::write(out.path().join(CHECKPOINT_FILE), mean.to_bytes()).unwrap();
        let resumed = Trainer::from_checkpoint(out.path(), true, &Device::flex()).unwrap();
        assert_eq!(
            resumed.state(),
            Trainer::from_checkpoint(dir.path(), false, &Device::flex())
                .unwrap()
                .state()
        );
        resumed.export().unwrap();
    }

    #[test]
    fn models_enter_as_their_warm_start_and_the_mean_is_saved_as_a_run() {
        let dir = tempfile::tempdir().unwrap();
        let (checkpoint, _) = checkpoint_and_scaled(dir.path(), 1.0);
        assert_eq!(
            as_checkpoint(&checkpoint, &Device::flex())
                .unwrap()
                .to_bytes(),
            checkpoint.to_bytes(),
            "a checkpoint enters as it is"
        );
        let model =
            ModelFile::from_bytes(&std::fs::read(dir.path().join(MODEL_FILE)).unwrap()).unwrap();
        let entered = as_checkpoint(&model, &Device::flex()).unwrap();
        // What `lic train --init` starts from.
        let (info, _) = warm::model_parameters(&model).unwrap();
        let mut config = TrainConfig::new(info.architecture.clone());
        config.lambdas = model_lambdas(&info, None).unwrap();
        let warm = Trainer::from_model(&model, None, config, "tiny", &Device::flex()).unwrap();
        assert_eq!(
            entered.to_bytes(),
            warm.checkpoint(None).unwrap().to_bytes()
        );

        // The mean of a model with itself is its warm start, saved as a run folder whose
        // deployable model carries the new name and is what the function returned.
        let out = tempfile::tempdir().unwrap();
        let run = out.path().join("soup");
        let returned =
            save_average(&[model.clone(), model], Some("soup"), &run, &Device::flex()).unwrap();
        let saved =
            ModelFile::from_bytes(&std::fs::read(run.join(CHECKPOINT_FILE)).unwrap()).unwrap();
        for (name, t) in entered.tensors() {
            let Tensor::F32 { shape, data } = t else {
                unreachable!()
            };
            assert_eq!(saved.f32(name, shape).unwrap(), &data[..], "{name}");
        }
        assert_eq!(saved.config["name"], "soup");
        let model_bytes = std::fs::read(run.join(MODEL_FILE)).unwrap();
        assert_eq!(model_bytes, returned.to_bytes());
        let loaded = lic_codec::Model::from_bytes(&model_bytes, &Device::flex()).unwrap();
        assert_eq!(loaded.info().name, "soup");

        // Neither a checkpoint nor a model.
        let e = as_checkpoint(
            &ModelFile::new(serde_json::json!({"kind": "other"})),
            &Device::flex(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::UnusableModel { .. }), "{e}");
    }

    #[test]
    fn checkpoints_of_other_shapes_or_kinds_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (one, _) = checkpoint_and_scaled(dir.path(), 1.0);
        let e = average_checkpoints(&[]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidSetting {
                    setting: "checkpoints",
                    ..
                }
            ),
            "{e}"
        );

        let mut fewer = ModelFile::new(one.config.clone());
        if let Some((name, t)) = one.tensors().next() {
            fewer.push(name, t.clone()).unwrap();
        }
        let e = average_checkpoints(&[one.clone(), fewer])
            .unwrap_err()
            .to_string();
        assert!(e.contains("other parameters than the last one"), "{e}");

        let model =
            ModelFile::from_bytes(&std::fs::read(dir.path().join(MODEL_FILE)).unwrap()).unwrap();
        let e = average_checkpoints(&[one, model]).unwrap_err().to_string();
        assert!(e.contains("not a lic checkpoint"), "{e}");
    }
}
