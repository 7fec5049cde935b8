//! Weight averaging of checkpoints ([`lic_codec::train::average_checkpoints`]): the mean of
//! every float parameter over several `checkpoint.licm` files of one architecture, written
//! as the checkpoint of a new run folder that `lic export` turns into a model. How
//! `lic-small-v22` was made (its model card, phase 22).
//!
//! ```sh
//! cargo run --release -p lic-codec --example average_checkpoints -- \
//!     OUT_RUN_DIR CHECKPOINT.licm...
//! target/release/lic export OUT_RUN_DIR -o averaged.licm --name NAME
//! ```
//!
//! The new folder holds weights only (no optimizer state): `--resume --weights-only`
//! continues from it with a fresh Adam. Its configuration and run state are those of the
//! last checkpoint named. A deployable model enters through the run folder that
//! `lic train --init MODEL.licm --steps 0` makes of it.

use std::path::PathBuf;

use lic_codec::ModelFile;
use lic_codec::train::{CHECKPOINT_FILE, average_checkpoints};

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
        .map(|p| {
            let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            ModelFile::from_bytes(&bytes).map_err(|e| format!("{}: {e}", p.display()).into())
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let averaged = average_checkpoints(&files)?;
    std::fs::create_dir_all(&out)?;
    let path = out.join(CHECKPOINT_FILE);
    std::fs::write(&path, averaged.to_bytes())?;
    println!(
        "{} parameters averaged over {} checkpoints into {}",
        averaged.tensors().count(),
        files.len(),
        path.display()
    );
    Ok(())
}
