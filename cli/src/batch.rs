//! `lic encode` of several images or folders into an output folder: images in parallel, a
//! progress bar, one line per failure (the others go on), and a summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use lic_codec::Image;
use rayon::prelude::*;

use crate::codec_cmd::EncodeArgs;
use crate::io::write_output;

/// What one image gave: its file's bytes and its pixels.
struct Done {
    bytes: u64,
    pixels: f64,
}

/// Encodes every image `args.inputs` names (folders: their images, in name order) into
/// `args.output`, a folder, as `NAME.lic`.
pub fn encode_batch(args: &EncodeArgs) -> Result<()> {
    let out_dir = &args.output;
    if out_dir.as_os_str() == "-" || (out_dir.exists() && !out_dir.is_dir()) {
        bail!(
            "several images (or a folder) are coded into a folder: -o {} is not one",
            out_dir.display()
        );
    }
    if args.metrics {
        bail!("--metrics applies to one image; `lic eval` measures many");
    }
    let files = lic_eval::collect_images(&args.inputs)?;
    let jobs = outputs(&files, out_dir)?;
    args.check_image_options()?;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let model = args.model.load()?;
    let encoder = args.encoder()?;
    let threads = match args.jobs {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    let bar = ProgressBar::new(jobs.len() as u64);
    bar.set_style(ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} images, ETA {eta} {msg}",
    )?);
    let t = Instant::now();
    let results: Vec<Result<Done>> = pool.install(|| {
        jobs.par_iter()
            .map(|(input, output)| {
                let r = (|| -> Result<Done> {
                    let image = Image::open(input).context("cannot read the image")?;
                    let coded = args
                        .encode_image(&model, &encoder, &image)
                        .context("encoding failed")?;
                    write_output(output, &coded.bytes, args.force)?;
                    Ok(Done {
                        bytes: coded.bytes.len() as u64,
                        pixels: f64::from(image.width()) * f64::from(image.height()),
                    })
                })();
                if let Err(e) = &r {
                    // `println` would drop the line when the bar is hidden (not a terminal).
                    bar.suspend(|| eprintln!("lic: {}: {e:#}", input.display()));
                }
                bar.inc(1);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    let secs = t.elapsed().as_secs_f64();
    let done: Vec<&Done> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let failed = results.len() - done.len();
    let bytes: u64 = done.iter().map(|d| d.bytes).sum();
    let pixels: f64 = done.iter().map(|d| d.pixels).sum();
    eprintln!(
        "{} files, {bytes} bytes, {:.4} bpp over their pixels, {secs:.1} s ({:.2} s per file, \
         {threads} thread{}){}",
        done.len(),
        if pixels > 0.0 {
            8.0 * bytes as f64 / pixels
        } else {
            0.0
        },
        secs / results.len().max(1) as f64,
        if threads == 1 { "" } else { "s" },
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    );
    if failed > 0 {
        bail!("{failed} of {} images failed (above)", results.len());
    }
    Ok(())
}

/// Each input with its output `out_dir/NAME.lic`; two inputs that would write the same
/// output are refused before anything is coded.
fn outputs(files: &[PathBuf], out_dir: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    let mut by_output: BTreeMap<PathBuf, &PathBuf> = BTreeMap::new();
    let mut jobs = Vec::with_capacity(files.len());
    for f in files {
        let stem = f
            .file_stem()
            .with_context(|| format!("{} has no file name", f.display()))?;
        let mut name = stem.to_os_string();
        name.push(".lic");
        let out = out_dir.join(name);
        if let Some(other) = by_output.insert(out.clone(), f) {
            bail!(
                "{} and {} would both be written to {}",
                other.display(),
                f.display(),
                out.display()
            );
        }
        jobs.push((f.clone(), out));
    }
    Ok(jobs)
}
