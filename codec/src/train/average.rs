//! Weight averaging (Izmailov et al. 2018, "stochastic weight averaging"; Wortsman et al.
//! 2022, "model soups"): the mean of every float parameter over several checkpoints of one
//! architecture. At a small learning rate the iterates wander around a minimum with the
//! gradient's noise, and models warm-started one from another stay in one basin, so their
//! mean can sit nearer its centre than any one of them. `lic-small-v22` was made this way
//! (its model card, phase 22); `codec/examples/average_checkpoints.rs` runs it on files.

use lic_models::{ModelFile, Tensor};

use super::CheckpointInfo;
use crate::error::{Error, Result};

/// The mean of the float parameters of `checkpoints` (the contents of `checkpoint.licm`
/// files), as a checkpoint with the configuration and run state of the last one and no
/// optimizer state: `lic export` turns it into a model, `--resume --weights-only` trains on
/// from it with a fresh Adam. The sums are taken in `f64`, in the order given.
///
/// # Errors
/// [`Error::InvalidArgument`] if `checkpoints` is empty or their parameters differ in
/// names or shapes; [`Error::Checkpoint`] if one is not a lic checkpoint.
pub fn average_checkpoints(checkpoints: &[ModelFile]) -> Result<ModelFile> {
    let (last, others) = checkpoints
        .split_last()
        .ok_or_else(|| Error::InvalidArgument("no checkpoint to average".into()))?;
    // Every file must be a checkpoint; the mean takes the last one's configuration.
    for file in others {
        CheckpointInfo::from_file(file, "a checkpoint to average")?;
    }
    let mut info = CheckpointInfo::from_file(last, "a checkpoint to average")?;
    for file in checkpoints {
        let same = file.tensors().count() == last.tensors().count()
            && file
                .tensors()
                .all(|(name, t)| last.get(name).is_some_and(|l| l.shape() == t.shape()));
        if !same {
            return Err(Error::InvalidArgument(
                "the checkpoints to average have different parameters (another architecture?)"
                    .into(),
            ));
        }
    }
    // The mean has no Adam moments of its own.
    info.optimizer = None;
    info.optimizer_crc32 = None;
    let config = serde_json::to_value(&info)
        .map_err(|e| Error::Checkpoint(format!("writing the averaged checkpoint: {e}")))?;
    let mut averaged = ModelFile::new(config);
    let n = checkpoints.len() as f64;
    for (name, tensor) in last.tensors() {
        let Tensor::F32 { shape, .. } = tensor else {
            return Err(Error::Checkpoint(format!(
                "`{name}` of a checkpoint is not a float parameter"
            )));
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
    use burn::tensor::Device;

    use super::*;
    use crate::model::ModelConfig;
    use crate::train::{CHECKPOINT_FILE, MODEL_FILE, TrainConfig, Trainer};

    /// A tiny model's checkpoint, as `Trainer::save` writes it, and the same with every
    /// parameter multiplied by `scale`.
    fn checkpoint_and_scaled(dir: &std::path::Path, scale: f32) -> (ModelFile, ModelFile) {
        let trainer = Trainer::new(
            TrainConfig::new(ModelConfig::tiny()),
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
    fn checkpoints_of_other_shapes_or_kinds_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (one, _) = checkpoint_and_scaled(dir.path(), 1.0);
        let e = average_checkpoints(&[]).unwrap_err().to_string();
        assert!(e.contains("no checkpoint"), "{e}");

        let mut fewer = ModelFile::new(one.config.clone());
        if let Some((name, t)) = one.tensors().next() {
            fewer.push(name, t.clone()).unwrap();
        }
        let e = average_checkpoints(&[one.clone(), fewer])
            .unwrap_err()
            .to_string();
        assert!(e.contains("different parameters"), "{e}");

        let model =
            ModelFile::from_bytes(&std::fs::read(dir.path().join(MODEL_FILE)).unwrap()).unwrap();
        let e = average_checkpoints(&[one, model]).unwrap_err().to_string();
        assert!(e.contains("not a lic checkpoint"), "{e}");
    }
}
