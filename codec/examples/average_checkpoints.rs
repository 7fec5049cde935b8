//! Weight averaging of a run's checkpoints (Izmailov et al. 2018, "stochastic weight
//! averaging"): the mean of every float parameter over several `checkpoint.licm` files of
//! one run, written as the checkpoint of a new run folder that `lic export` turns into a
//! model. At a small learning rate the iterates wander around a minimum with the gradient's
//! noise; their mean sits nearer its centre than any one of them.
//!
//! ```sh
//! cargo run --release -p lic-codec --example average_checkpoints -- \
//!     OUT_RUN_DIR CHECKPOINT.licm...
//! target/release/lic export OUT_RUN_DIR -o averaged.licm --name NAME
//! ```
//!
//! The new folder holds weights only (no optimizer state): `--resume --weights-only`
//! continues from it with a fresh Adam. Its configuration and run state are those of the
//! last checkpoint named.

use std::path::PathBuf;

use lic_codec::ModelFile;
use lic_codec::train::CHECKPOINT_FILE;
use lic_models::Tensor;

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: OUT_RUN_DIR CHECKPOINT.licm...")?);
    let paths: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if paths.len() < 2 {
        return Err("name at least two checkpoints to average".into());
    }
    let files = paths
        .iter()
        .map(|p| Ok(ModelFile::from_bytes(&std::fs::read(p)?)?))
        .collect::<Result<Vec<_>, Failure>>()?;
    let last = files.last().expect("two or more files");
    if last.config.get("kind").and_then(|k| k.as_str()) != Some("lic-checkpoint") {
        return Err(format!(
            "{} is not a lic checkpoint",
            paths[paths.len() - 1].display()
        )
        .into());
    }

    let mut config = last.config.clone();
    // The averaged weights have no Adam moments of their own.
    config["optimizer"] = serde_json::Value::Null;
    config["optimizer_crc32"] = serde_json::Value::Null;
    let mut averaged = ModelFile::new(config);
    let n = files.len() as f64;
    for (name, tensor) in last.tensors() {
        let Tensor::F32 { shape, .. } = tensor else {
            return Err(format!("`{name}` is not a float parameter").into());
        };
        let mut sum = vec![0f64; shape.iter().product()];
        for (file, path) in files.iter().zip(&paths) {
            let values = file
                .f32(name, shape)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            for (s, &v) in sum.iter_mut().zip(values) {
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
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join(CHECKPOINT_FILE), averaged.to_bytes())?;
    println!(
        "{} parameters averaged over {} checkpoints into {}",
        last.tensors().count(),
        files.len(),
        out.join(CHECKPOINT_FILE).display()
    );
    Ok(())
}
