//! Training data: image folders, a held-out split by source photo, and random augmented
//! crops decoded in parallel ahead of the training step.
//!
//! **The split.** Crops cut from one photo look alike, so files are held out by the photo
//! they come from, never by file name. A folder's `manifest.json` (a list of objects with a
//! `file` name, as `../shared/datasets/train*/` have) names each file's source: its
//! `source_id`, else the git `blob` of the source file, else `repo:path`. A file that no
//! manifest names is its own source. The sources whose [`source_hash`] is a multiple of
//! [`HELD_OUT_EVERY`] are held out: no run trains on any crop of them. On `train/` and
//! `train2/` together that is 132 of 1,094 photos (232 crops); `lic split` lists them.
//!
//! Every random choice (which file, where to crop, how to augment) is a function of the
//! run's seed and the step number alone, so a resumed run sees exactly the batches the
//! uninterrupted run would have seen.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::SplitMix64;

/// File extensions read as training images.
const IMAGE_EXTENSIONS: [&str; 9] = [
    "png", "jpg", "jpeg", "webp", "tif", "tiff", "bmp", "ppm", "pnm",
];
/// One source photo in `HELD_OUT_EVERY` (by [`source_hash`]) is held out.
pub const HELD_OUT_EVERY: u64 = 8;
/// Most held-out crops a training run validates on (one per held-out source, spread evenly
/// over them): enough for a stable figure, few enough that a validation costs a minute or
/// two on the CPU.
pub const VALIDATION_MAX: usize = 64;
/// The manifest read from each folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Batches prepared ahead of the training step.
const PREFETCH: usize = 2;

/// One image file and the photo it was cut from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sample {
    /// The image file.
    pub path: PathBuf,
    /// Its source photo (see the module's documentation).
    pub source: String,
}

/// The images of a run, split by source photo into training and held-out files.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Files crops are drawn from, sorted by path.
    pub train: Vec<Sample>,
    /// Every file of a held-out source, sorted by source then path.
    pub held_out: Vec<Sample>,
    /// The files a run validates on (centre crops): the first file of each held-out source,
    /// at most [`VALIDATION_MAX`] of them spread evenly over the sources.
    pub validation: Vec<PathBuf>,
    /// Distinct source photos of the training files.
    pub train_sources: usize,
    /// Distinct held-out source photos.
    pub held_out_sources: usize,
    /// Files skipped because they are smaller than the crop or unreadable.
    pub skipped: usize,
}

/// FNV-1a (64 bits) of a string: the same on every machine.
pub fn source_hash(source: &str) -> u64 {
    source.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether no run trains on `source`.
pub fn is_held_out(source: &str) -> bool {
    source_hash(source).is_multiple_of(HELD_OUT_EVERY)
}

/// A manifest entry: the fields that name a crop's source.
#[derive(Deserialize)]
struct ManifestEntry {
    file: String,
    source_id: Option<String>,
    blob: Option<String>,
    repo: Option<String>,
    path: Option<String>,
}

impl ManifestEntry {
    fn source(self) -> Option<String> {
        self.source_id
            .or_else(|| self.blob.map(|b| format!("blob:{b}")))
            .or_else(|| Some(format!("{}:{}", self.repo?, self.path?)))
    }
}

/// The sources a folder's manifest names, by file name (empty without a manifest).
fn read_manifest(dir: &Path) -> Result<HashMap<String, String>> {
    let path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(Error::io("reading", &path)(e)),
    };
    let entries: Vec<ManifestEntry> = serde_json::from_str(&text).map_err(|e| {
        Error::data(
            &path,
            format!("not a list of {{\"file\": ..., \"source_id\"|\"blob\"|\"repo\"+\"path\": ...}} objects: {e}"),
        )
    })?;
    Ok(entries
        .into_iter()
        .filter_map(|e| {
            let file = e.file.clone();
            e.source().map(|s| (file, s))
        })
        .collect())
}

/// The source of `path`: its manifest's, else the file itself (by name, so the split is
/// the same wherever the folder lies).
fn source_of(
    path: &Path,
    manifests: &mut HashMap<PathBuf, HashMap<String, String>>,
) -> Result<String> {
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    if !manifests.contains_key(&dir) {
        let m = read_manifest(&dir)?;
        manifests.insert(dir.clone(), m);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(manifests[&dir]
        .get(&name)
        .cloned()
        .unwrap_or_else(|| format!("file:{name}")))
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
    /// Every image under `dirs` (recursively) at least `crop` pixels on each side, split by
    /// source photo into training and held-out files (see the module's documentation).
    ///
    /// # Errors
    /// [`Error::Io`] if a folder cannot be read, [`Error::Data`] if a manifest cannot be
    /// read or no usable training image is found.
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
        let mut manifests = HashMap::new();
        let mut samples = Vec::new();
        for (path, usable) in files.into_iter().zip(usable) {
            if usable {
                let source = source_of(&path, &mut manifests)?;
                samples.push(Sample { path, source });
            }
        }
        let (mut held_out, train): (Vec<Sample>, Vec<Sample>) =
            samples.into_iter().partition(|s| is_held_out(&s.source));
        if train.is_empty() {
            return Err(Error::data(
                dirs.first().cloned().unwrap_or_default(),
                format!("no training image of at least {crop}x{crop} pixels in {dirs:?}"),
            ));
        }
        held_out.sort_by(|a, b| (&a.source, &a.path).cmp(&(&b.source, &b.path)));
        let mut firsts: Vec<&Sample> = held_out.iter().collect();
        firsts.dedup_by(|b, a| a.source == b.source);
        let held_out_sources = firsts.len();
        let keep = held_out_sources.min(VALIDATION_MAX);
        let validation = (0..keep)
            .map(|i| firsts[i * held_out_sources / keep].path.clone())
            .collect();
        let mut train_sources: Vec<&str> = train.iter().map(|s| s.source.as_str()).collect();
        train_sources.sort_unstable();
        train_sources.dedup();
        Ok(Self {
            train_sources: train_sources.len(),
            train,
            held_out,
            validation,
            held_out_sources,
            skipped,
        })
    }
}

/// How training crops are varied, beyond the random position. Stored in the run's
/// configuration, so a resumed run draws the same crops.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Augment {
    /// Mirror half of the crops left to right.
    pub flips: bool,
    /// Turn each crop by 0, 90, 180 or 270 degrees.
    pub rotations: bool,
    /// Smallest scale a crop is taken at, in `(0, 1]`: a crop at scale `s` is cut as a
    /// square of `crop / s` pixels and resized to `crop` (Catmull–Rom), where the image is
    /// that large; 1 turns rescaling off. Downscaling only: it shows the networks finer
    /// detail per pixel, never upsampling blur.
    pub min_scale: f32,
}

impl Augment {
    /// What runs used before augmentation was configurable: horizontal flips only. The
    /// setting of a checkpoint that records none.
    pub const FLIPS: Self = Self {
        flips: true,
        rotations: false,
        min_scale: 1.0,
    };

    /// No augmentation: crops at random positions only.
    pub const NONE: Self = Self {
        flips: false,
        rotations: false,
        min_scale: 1.0,
    };

    /// The default of new runs: flips, rotations and rescaling down to half size.
    pub const ALL: Self = Self {
        flips: true,
        rotations: true,
        min_scale: 0.5,
    };

    /// Whether the scale range is valid.
    pub fn is_valid(&self) -> bool {
        self.min_scale > 0.0 && self.min_scale <= 1.0
    }
}

impl Default for Augment {
    fn default() -> Self {
        Self::FLIPS
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

/// Decodes `path` and cuts a `crop x crop` square from it, placed and augmented by the
/// random `bits`.
fn load_crop(path: &Path, crop: usize, bits: u64, augment: Augment) -> Result<Vec<f32>> {
    let img = open_for_crop(path, crop)?;
    Ok(augmented_crop(&img, crop, bits, augment))
}

/// The crop that `bits` select. With [`Augment::FLIPS`] the position and the flip come from
/// `bits` as they always have (32 bits for x, 31 for y, the top bit flips); the rotation and
/// the scale come from further bits drawn from `bits`.
fn augmented_crop(img: &image::RgbImage, crop: usize, bits: u64, augment: Augment) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut more = SplitMix64(bits);
    let extra = more.next_u64();
    // The side of the square cut from the image: crop / s for a scale s drawn uniformly in
    // [max(min_scale, crop / short side), 1].
    let lowest = f64::from(augment.min_scale).max(crop as f64 / w.min(h) as f64);
    let side = if lowest < 1.0 {
        let u = (extra >> 40) as f64 / (1u64 << 24) as f64;
        let s = lowest + (1.0 - lowest) * u;
        ((crop as f64 / s).round() as usize).clamp(crop, w.min(h))
    } else {
        crop
    };
    let x0 = ((bits & 0xffff_ffff) % (w - side + 1) as u64) as usize;
    let y0 = ((bits >> 32 & 0x7fff_ffff) % (h - side + 1) as u64) as usize;
    let flip = augment.flips && bits >> 63 == 1;
    let turns = if augment.rotations { extra & 3 } else { 0 };
    if side == crop {
        return planar(img, x0, y0, crop, flip, turns);
    }
    let square = image::imageops::crop_imm(img, x0 as u32, y0 as u32, side as u32, side as u32);
    let resized = image::imageops::resize(
        &square.to_image(),
        crop as u32,
        crop as u32,
        image::imageops::FilterType::CatmullRom,
    );
    planar(&resized, 0, 0, crop, flip, turns)
}

/// The `crop x crop` square at `(x0, y0)` as planar values in `[0, 1]`, mirrored left to
/// right if `flip`, then turned `turns` quarter turns clockwise.
fn planar(
    img: &image::RgbImage,
    x0: usize,
    y0: usize,
    crop: usize,
    flip: bool,
    turns: u64,
) -> Vec<f32> {
    let last = crop - 1;
    let mut out = vec![0f32; 3 * crop * crop];
    for y in 0..crop {
        for x in 0..crop {
            // The output pixel (x, y) of a clockwise turn shows the input pixel below.
            let (tx, ty) = match turns {
                0 => (x, y),
                1 => (y, last - x),
                2 => (last - x, last - y),
                _ => (last - y, x),
            };
            let sx = if flip { last - tx } else { tx };
            let p = img.get_pixel((x0 + sx) as u32, (y0 + ty) as u32);
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
            Ok(planar(&img, (w - crop) / 2, (h - crop) / 2, crop, false, 0))
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
    /// Batches for steps `first_step..` of a run with `seed`, augmented by `augment`.
    pub fn new(
        files: Arc<Vec<PathBuf>>,
        seed: u64,
        first_step: u64,
        batch: usize,
        crop: usize,
        augment: Augment,
    ) -> Self {
        let (tx, rx) = sync_channel(PREFETCH);
        let worker = std::thread::spawn(move || {
            produce(&tx, &files, seed, first_step, (batch, crop), augment);
        });
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
    (batch, crop): (usize, usize),
    augment: Augment,
) {
    for step in first_step.. {
        let plan = batch_plan(seed, step, batch, files.len());
        let crops: Result<Vec<Vec<f32>>> = plan
            .par_iter()
            .map(|&(f, bits)| load_crop(&files[f], crop, bits, augment))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A `side x side` image whose pixel (x, y) is `(x, y, x ^ y)`.
    fn ramp(side: u32) -> image::RgbImage {
        image::RgbImage::from_fn(side, side, |x, y| {
            image::Rgb([x as u8, y as u8, (x ^ y) as u8])
        })
    }

    /// The (R, G) values of the crop's pixel (x, y): the source coordinates it shows.
    fn at(crop: &[f32], side: usize, x: usize, y: usize) -> (usize, usize) {
        let v = |c: usize| (crop[(c * side + y) * side + x] * 255.0).round() as usize;
        (v(0), v(1))
    }

    #[test]
    fn flips_only_crops_as_runs_always_did() {
        let img = ramp(40);
        // x from the low 32 bits, y from the next 31, the top bit flips.
        let bits = 5 | (7u64 << 32) | (1u64 << 63);
        let c = augmented_crop(&img, 16, bits, Augment::FLIPS);
        assert_eq!(at(&c, 16, 0, 0), (5 + 15, 7));
        assert_eq!(at(&c, 16, 15, 3), (5, 10));
        let plain = augmented_crop(&img, 16, bits, Augment::NONE);
        assert_eq!(at(&plain, 16, 0, 0), (5, 7));
    }

    #[test]
    fn rotations_turn_the_crop_clockwise() {
        let img = ramp(16);
        let rot = Augment {
            rotations: true,
            ..Augment::NONE
        };
        // Find bits for each number of turns (they come from the bits' own stream).
        let mut seen = [false; 4];
        for bits in 0..64u64 {
            let turns = (SplitMix64(bits).next_u64() & 3) as usize;
            let c = augmented_crop(&img, 16, bits, rot);
            let corner = at(&c, 16, 0, 0);
            // Clockwise: the top-left corner shows the bottom-left one after one turn.
            let expected = [(0, 0), (0, 15), (15, 15), (15, 0)][turns];
            assert_eq!(corner, expected, "{turns} turns");
            assert_eq!(
                at(&c, 16, 15, 0),
                [(15, 0), (0, 0), (0, 15), (15, 15)][turns]
            );
            seen[turns] = true;
        }
        assert_eq!(seen, [true; 4]);
    }

    #[test]
    fn rescaling_cuts_larger_squares_and_only_where_the_image_allows() {
        let img = ramp(64);
        let scale = Augment {
            min_scale: 0.5,
            ..Augment::NONE
        };
        let mut spans = Vec::new();
        for bits in 0..32u64 {
            let c = augmented_crop(&img, 32, bits, scale);
            // The crop spans more of the ramp than 32 pixels when it was cut larger.
            let (x0, y0) = at(&c, 32, 0, 0);
            let (x1, y1) = at(&c, 32, 31, 31);
            assert!(x1 > x0 && y1 > y0);
            spans.push(x1 - x0);
        }
        assert!(spans.iter().all(|&s| (31..=64).contains(&s)), "{spans:?}");
        assert!(
            spans.iter().any(|&s| s > 40),
            "some crops are downscaled: {spans:?}"
        );
        // An image exactly the crop's size has no room: the crop is the image.
        let small = ramp(32);
        let c = augmented_crop(&small, 32, 12345, scale);
        assert_eq!((at(&c, 32, 0, 0), at(&c, 32, 31, 31)), ((0, 0), (31, 31)));
    }

    #[test]
    fn the_split_keeps_each_source_photo_on_one_side() {
        let dir = tempfile::tempdir().unwrap();
        // 40 photos of 3 crops each, named so that file names alone would scatter them.
        let mut manifest = Vec::new();
        for i in 0..120 {
            let file = format!("crop_{i:04}.png");
            ramp(8).save(dir.path().join(&file)).unwrap();
            manifest
                .push(serde_json::json!({"file": file, "source_id": format!("photo-{}", i % 40)}));
        }
        // Files the manifest does not name are their own sources.
        ramp(8).save(dir.path().join("loose.png")).unwrap();
        std::fs::write(
            dir.path().join(MANIFEST_FILE),
            serde_json::to_string(&manifest).unwrap(),
        )
        .unwrap();
        let d = Dataset::scan(&[dir.path().to_path_buf()], 8).unwrap();
        assert_eq!(d.train.len() + d.held_out.len(), 121);
        let held: std::collections::HashSet<&str> =
            d.held_out.iter().map(|s| s.source.as_str()).collect();
        assert!(!held.is_empty() && d.held_out.len() == 3 * held.len());
        assert!(d.train.iter().all(|s| !held.contains(s.source.as_str())));
        assert!(d.held_out.iter().all(|s| is_held_out(&s.source)));
        assert!(d.train.iter().any(|s| s.source == "file:loose.png"));
        assert_eq!(d.held_out_sources, held.len());
        assert_eq!(
            d.validation.len(),
            held.len(),
            "one validation crop per photo"
        );
        assert_eq!(d.train_sources + d.held_out_sources, 41);
        // A manifest that is not one is refused, not ignored.
        std::fs::write(dir.path().join(MANIFEST_FILE), "{\"file\": 3}").unwrap();
        assert!(matches!(
            Dataset::scan(&[dir.path().to_path_buf()], 8),
            Err(Error::Data { .. })
        ));
    }

    #[test]
    fn the_source_hash_is_fnv1a() {
        assert_eq!(source_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(source_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
