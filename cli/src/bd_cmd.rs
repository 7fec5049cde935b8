//! `lic bd-rate`: Bjøntegaard deltas between curves in CompressAI's results layout.

use std::path::PathBuf;

use crate::out;
use anyhow::{Result, bail};
use clap::Args;
use lic_eval::bdrate::{Curve, Fit, bd_quality, bd_rate};

#[derive(Debug, Args)]
pub struct BdRateArgs {
    /// The anchor curve (CompressAI results layout).
    anchor: PathBuf,
    /// Curves to compare with the anchor.
    #[arg(required = true)]
    tests: Vec<PathBuf>,
    /// Quality metric: a series of the files (`psnr-rgb`, `ms-ssim-rgb`, ...).
    #[arg(long, default_value = "psnr-rgb")]
    metric: String,
    /// Integrate over this quality interval only (within the curves' overlap).
    #[arg(long, num_args = 2, value_names = ["LO", "HI"])]
    range: Option<Vec<f64>>,
}

pub fn run(args: &BdRateArgs) -> Result<()> {
    let range = match args.range.as_deref() {
        Some(&[lo, hi]) if lo < hi => Some((lo, hi)),
        Some(_) => bail!("--range needs LO < HI"),
        None => None,
    };
    let anchor = Curve::from_file(&args.anchor)?;
    writeln!(
        out(),
        "anchor: {} ({}), metric {}",
        anchor.name,
        args.anchor.display(),
        args.metric
    );
    writeln!(
        out(),
        "{:<36} {:>12} {:>12} {:>22} {:>14}",
        "test",
        "BD pchip %",
        "BD cubic %",
        "interval",
        "BD-quality"
    );
    let mut failed = false;
    for path in &args.tests {
        let test = Curve::from_file(path)?;
        let result = bd_rate(&anchor, &test, &args.metric, Fit::Pchip, range).and_then(|p| {
            let c = bd_rate(&anchor, &test, &args.metric, Fit::Cubic, range)?;
            Ok((p, c))
        });
        match result {
            Ok((p, c)) => {
                let dq = bd_quality(&anchor, &test, &args.metric, Fit::Pchip)
                    .map_or_else(|e| format!("({e})"), |d| format!("{:+.4}", d.value));
                writeln!(
                    out(),
                    "{:<36} {:>+12.3} {:>+12.3} {:>22} {:>14}",
                    test.name,
                    p.value,
                    c.value,
                    format!("{:.4}..{:.4}", p.interval.0, p.interval.1),
                    dq
                );
            }
            Err(e) => {
                eprintln!("lic: {}: {e}", path.display());
                failed = true;
            }
        }
    }
    if failed {
        bail!("some curves could not be compared");
    }
    Ok(())
}
