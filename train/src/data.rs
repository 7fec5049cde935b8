//! Training data: image folders, a fixed validation split, and random crops decoded in
//! parallel ahead of the training step.
//!
//! Every random choice (which file, where to crop, whether to flip) is a function of the
//! run's seed and the step number alone, so a resumed run sees exactly the batches the
//! uninterrupted run would have seen.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::model::SplitMix64;

/// File extensions read as training images.
const IMAGE_EXTENSIONS: [&str; 9] = [
    "png", "jpg", "jpeg", "webp", "tif", "tiff", "bmp", "ppm", "pnm",
];
/// One image in `VALIDATION_EVERY` (by a hash of its file name) is held out for validation.
const VALIDATION_EVERY: u64 = 20;
/// Most images a validation set keeps (the first ones in name order).
const VALIDATION_MAX: usize = 24;
/// Batches prepared ahead of the training step.
const PREFETCH: usize = 2;

/// The images of a run, split once into training and validation files.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Files crops are drawn from, sorted.
    pub train: Vec<PathBuf>,
    /// Held-out files (centre crops), sorted.
    pub validation: Vec<PathBuf>,
    /// Files skipped because they are smaller than the crop or unreadable.
    pub skipped: usize,
}

/// FNV-1a of a file name: the same split on every machine, whatever the folder's path.
fn name_hash(path: &Path) -> u64 {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    name.unwrap_or_default()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(Error::io("reading", dir))?;
    for entry in entries {
        let path = entry.map_err(Error::io("reading", dir))?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}

impl Dataset {
    /// Every image under `dirs` (recursively) at least `crop` pixels on each side, split into
    /// training and validation files by a hash of the file name.
    ///
    /// # Errors
    /// [`Error::Io`] if a folder cannot be read, [`Error::Data`] if no usable training image is
    /// found.
    pub fn scan(dirs: &[PathBuf], crop: usize) -> Result<Self> {
        let mut files = Vec::new();
        for d in dirs {
            collect(d, &mut files)?;
        }
        files.sort();
        files.dedup();
        let usable: Vec<bool> = files
            .par_iter()
            .map(|f| {
                image::image_dimensions(f)
                    .is_ok_and(|(w, h)| w as usize >= crop && h as usize >= crop)
            })
            .collect();
        let skipped = usable.iter().filter(|u| !**u).count();
        let (mut validation, train): (Vec<PathBuf>, Vec<PathBuf>) = files
            .into_iter()
            .zip(usable)
            .filter_map(|(f, u)| u.then_some(f))
            .partition(|f| name_hash(f).is_multiple_of(VALIDATION_EVERY));
        validation.truncate(VALIDATION_MAX);
        if train.is_empty() {
            return Err(Error::data(
                dirs.first().cloned().unwrap_or_default(),
                format!("no training image of at least {crop}x{crop} pixels in {dirs:?}"),
            ));
        }
        Ok(Self {
            train,
            validation,
            skipped,
        })
    }
}

/// A batch of crops, planar RGB in `[0, 1]`, `[batch, 3, crop, crop]` row-major.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The step this batch belongs to.
    pub step: u64,
    /// Pixel values.
    pub data: Vec<f32>,
    /// Crops in the batch.
    pub batch: usize,
    /// Side of each crop.
    pub crop: usize,
}

/// Decodes `path` as RGB, refusing an image smaller than `crop` on either side.
fn open_for_crop(path: &Path, crop: usize) -> Result<image::RgbImage> {
    let img = image::open(path)
        .map_err(|e| Error::data(path, e.to_string()))?
        .to_rgb8();
    if (img.width() as usize) < crop || (img.height() as usize) < crop {
        return Err(Error::data(
            path,
            format!(
                "{}x{} is smaller than the {crop}-pixel crop",
                img.width(),
                img.height()
            ),
        ));
    }
    Ok(img)
}

/// Decodes `path` and cuts the `crop x crop` square at `(fx, fy)` (fractions of the free
/// room, from random bits), mirrored horizontally if `flip`.
fn load_crop(path: &Path, crop: usize, bits: u64) -> Result<Vec<f32>> {
    let img = open_for_crop(path, crop)?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let x0 = ((bits & 0xffff_ffff) % (w - crop + 1) as u64) as usize;
    let y0 = ((bits >> 32 & 0x7fff_ffff) % (h - crop + 1) as u64) as usize;
    let flip = bits >> 63 == 1;
    Ok(planar(&img, x0, y0, crop, flip))
}

fn planar(img: &image::RgbImage, x0: usize, y0: usize, crop: usize, flip: bool) -> Vec<f32> {
    let mut out = vec![0f32; 3 * crop * crop];
    for y in 0..crop {
        for x in 0..crop {
            let sx = if flip { crop - 1 - x } else { x };
            let p = img.get_pixel((x0 + sx) as u32, (y0 + y) as u32);
            for c in 0..3 {
                out[(c * crop + y) * crop + x] = f32::from(p[c]) / 255.0;
            }
        }
    }
    out
}

/// The centre crop of each validation image, in file order.
///
/// # Errors
/// [`Error::Data`] if a file cannot be decoded or is smaller than `crop`.
pub fn validation_crops(files: &[PathBuf], crop: usize) -> Result<Vec<Vec<f32>>> {
    files
        .par_iter()
        .map(|f| {
            let img = open_for_crop(f, crop)?;
            let (w, h) = (img.width() as usize, img.height() as usize);
            Ok(planar(&img, (w - crop) / 2, (h - crop) / 2, crop, false))
        })
        .collect()
}

/// What the batch of `step` is made of: `(file index, crop bits)` per crop.
pub fn batch_plan(seed: u64, step: u64, batch: usize, files: usize) -> Vec<(usize, u64)> {
    let mut rng = SplitMix64(seed ^ step.wrapping_mul(0xA076_1D64_78BD_642F));
    (0..batch)
        .map(|_| {
            let f = (rng.next_u64() % files as u64) as usize;
            (f, rng.next_u64())
        })
        .collect()
}

/// Builds batches on a background thread (decoding each batch's files in parallel) so the
/// training step rarely waits for data.
#[derive(Debug)]
pub struct Loader {
    rx: Receiver<Result<Batch>>,
    worker: Option<JoinHandle<()>>,
}

impl Loader {
    /// Batches for steps `first_step..` of a run with `seed`.
    pub fn new(
        files: Arc<Vec<PathBuf>>,
        seed: u64,
        first_step: u64,
        batch: usize,
        crop: usize,
    ) -> Self {
        let (tx, rx) = sync_channel(PREFETCH);
        let worker =
            std::thread::spawn(move || produce(&tx, &files, seed, first_step, batch, crop));
        Self {
            rx,
            worker: Some(worker),
        }
    }

    /// The next batch.
    ///
    /// # Errors
    /// [`Error::Data`] if a file could not be decoded ([`Error::Backend`] if the loader
    /// stopped).
    pub fn next_batch(&self) -> Result<Batch> {
        self.rx.recv().map_err(|_| Error::Backend {
            reason: "the data loader stopped".into(),
        })?
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        // Unblock the producer (its send fails once the receiver is gone), then join it.
        let (_, rx) = sync_channel(1);
        drop(std::mem::replace(&mut self.rx, rx));
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

fn produce(
    tx: &SyncSender<Result<Batch>>,
    files: &[PathBuf],
    seed: u64,
    first_step: u64,
    batch: usize,
    crop: usize,
) {
    for step in first_step.. {
        let plan = batch_plan(seed, step, batch, files.len());
        let crops: Result<Vec<Vec<f32>>> = plan
            .par_iter()
            .map(|&(f, bits)| load_crop(&files[f], crop, bits))
            .collect();
        let item = crops.map(|c| Batch {
            step,
            data: c.concat(),
            batch,
            crop,
        });
        let failed = item.is_err();
        if tx.send(item).is_err() || failed {
            return;
        }
    }
}
