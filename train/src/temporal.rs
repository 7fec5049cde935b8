//! Training the temporal networks of video inter frames (`lic train-temporal`): the
//! transforms, the hyperprior and the intra entropy networks of a deployable model stay as
//! they are (frozen); only the temporal context and the inter aggregations
//! ([`TemporalModel`]) learn, on the rate of a frame's latent given the previous frame's.
//!
//! The data are pairs of consecutive frames: from real clips (Y4M; whole clips of
//! [`HELD_OUT_CLIPS`] are never trained on, they measure), and synthetic motion made from
//! still crops (a window panned by up to [`MAX_PAN`] pixels, a brightness change). The
//! analysis of every clip frame is computed once, at load; a step crops the same window of
//! both latents (`TemporalOptions::crop`). The previous frame's decoded latent is its intra
//! coding by the frozen model (real rounding), which is what the first inter frame after an
//! intra frame sees and close to what later ones see.
//!
//! A step's cost is the entropy networks' forward and backward on small latents, a fraction
//! of an image training step. The result is the base model file plus the quantised temporal
//! tensors ([`TemporalTrainer::export`]): the base fingerprint does not change, so the
//! images the base model wrote still decode.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use lic_codec::internals::{
    QuantizedLayer, dequantize, image_tensor, load_parameters, named_parameters, quantize,
    temporal_layers, temporal_width, tensor_values,
};
use lic_codec::video::y4m::Y4mReader;
use lic_codec::{Limits, ModelInfo};
use lic_models::{ModelFile, TEMPORAL_PREFIX, Tensor as FileTensor};

use crate::error::{Error, Result};
use crate::model::{FloatModel, Quantization, SplitMix64, TemporalModel};
use crate::trainer::Trainable;
use crate::warm::float_model;

/// Clips (file stems) that temporal training never sees: one shot each, kept whole (the
/// video dataset's README groups the Vimeo clips into shots; `00002_0004`–`0006` is one).
/// The video figures in docs/RESULTS.md are measured on them.
pub const HELD_OUT_CLIPS: &[&str] = &[
    "vimeo_00002_0004",
    "vimeo_00002_0005",
    "vimeo_00002_0006",
    "ivclab_foreman20_40",
    "libvpl_cars_320x240",
    "basicvsrpp_demo_000",
];

/// Default width of the temporal context (channels between its two convolutions).
pub const DEFAULT_WIDTH: usize = 64;
/// Default side of the latent window a step trains on (192 pixels: every training clip has
/// it, and a synthetic pair panned by `MAX_PAN` fits a 256² still crop).
pub const DEFAULT_CROP: usize = 12;
/// Largest pan of a synthetic pair, in pixels each way.
pub const MAX_PAN: usize = 16;

/// Whether the clip at `path` is one of [`HELD_OUT_CLIPS`].
pub fn is_held_out_clip(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|s| HELD_OUT_CLIPS.contains(&s))
}

/// The `.y4m` files of `dir`, sorted.
///
/// # Errors
/// [`Error::Io`] if the folder cannot be listed, [`Error::Data`] if it holds no clip.
pub fn clip_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(Error::io("reading", dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "y4m"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Data {
            path: dir.to_owned(),
            problem: "no .y4m clip".into(),
        });
    }
    Ok(files)
}

/// A clip's frames as latents `y` of the frozen analysis, before any quality's gain.
#[derive(Debug, Clone)]
pub struct Clip {
    /// File stem.
    pub name: String,
    /// `[M, h, w]` of every frame's latent.
    pub dims: [usize; 3],
    /// One latent per frame, row-major.
    pub frames: Vec<Vec<f32>>,
}

impl Clip {
    /// Consecutive pairs in the clip.
    pub fn pairs(&self) -> usize {
        self.frames.len().saturating_sub(1)
    }
}

/// Settings of a temporal training run.
#[derive(Debug, Clone)]
pub struct TemporalOptions {
    /// Width of a new temporal context (a model that has one keeps its own).
    pub width: usize,
    /// Side of the latent window of a pair (a multiple of 4; pixels: 16 times as many).
    pub crop: usize,
    /// Pairs per step.
    pub batch: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Seed of every random choice (pairs, windows, quality levels, noise).
    pub seed: u64,
    /// Share of synthetic pairs in a batch (0 ..= 1), where still crops are given.
    pub synthetic: f64,
}

impl Default for TemporalOptions {
    fn default() -> Self {
        Self {
            width: DEFAULT_WIDTH,
            crop: DEFAULT_CROP,
            batch: 8,
            learning_rate: 3e-4,
            seed: 1,
            synthetic: 0.25,
        }
    }
}

/// What inter frames cost against intra frames on held-out clips, at one quality level
/// (float estimate, real rounding).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InterGain {
    /// The trained quality level.
    pub level: usize,
    /// Latent bits per pixel of the frames after the first, coded intra.
    pub intra_bpp: f64,
    /// The same frames coded inter.
    pub inter_bpp: f64,
}

impl InterGain {
    /// Relative change of the latent rate, in percent (negative: inter saves).
    pub fn change_percent(&self) -> f64 {
        100.0 * (self.inter_bpp / self.intra_bpp - 1.0)
    }
}

/// The frozen model, the temporal networks being trained and their optimizer.
pub struct TemporalTrainer {
    info: ModelInfo,
    base_file: ModelFile,
    base: FloatModel,
    temporal: TemporalModel,
    optim: ModuleOptimizer,
    /// The plain device, for frozen work (the networks live on its autodiff twin).
    plain: Device,
    options: TemporalOptions,
    step: u64,
}

impl std::fmt::Debug for TemporalTrainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemporalTrainer")
            .field("model", &self.info.name)
            .field("width", &self.temporal.width())
            .field("options", &self.options)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl TemporalTrainer {
    /// Starts from a deployable model: its own temporal networks where it has them
    /// (dequantised, to go on training), else new ones that code as the intra model does
    /// ([`TemporalModel::start`]).
    ///
    /// # Errors
    /// [`Error::UnusableModel`] if the file is not a deployable lic model,
    /// [`Error::InvalidSetting`] for options out of range.
    pub fn new(file: &ModelFile, options: TemporalOptions, device: &Device) -> Result<Self> {
        if options.batch == 0
            || options.width == 0
            || options.crop == 0
            || !options.crop.is_multiple_of(4)
            || !(0.0..=1.0).contains(&options.synthetic)
        {
            return Err(Error::setting(
                "temporal options",
                format!("{options:?}"),
                "a batch and a width of at least 1, a crop a positive multiple of 4, a \
                 synthetic share within 0..=1",
            ));
        }
        let ad = device.clone().autodiff();
        let (info, base) = float_model(file, &ad)?;
        let arch = info.architecture.clone();
        let temporal =
            match temporal_width(file) {
                Some(width) => {
                    let mut params = HashMap::new();
                    for spec in temporal_layers(&arch, width) {
                        let (w, b) = dequantize(&spec, &QuantizedLayer::read(file, &spec)?)?;
                        let name = spec.name.trim_start_matches(TEMPORAL_PREFIX).to_owned();
                        params.insert(format!("{name}.weight"), w);
                        params.insert(format!("{name}.bias"), b);
                    }
                    load_parameters(TemporalModel::new(&arch, width, &ad), &ad, |name, _| {
                        match params.remove(name) {
                            Some(v) => Ok(Some(v)),
                            None => Err(Error::unusable(
                                &info.name,
                                format!("temporal parameter `{name}` is missing"),
                            )),
                        }
                    })?
                }
                None => TemporalModel::start(&base, &arch, options.width, options.seed, &ad),
            };
        let temporal = temporal.map(&mut Trainable::default());
        let optim = AdamConfig::new()
            .with_epsilon(1e-8)
            .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
            .init();
        Ok(Self {
            info,
            base_file: file.clone(),
            base,
            temporal,
            optim,
            plain: device.clone(),
            options,
            step: 0,
        })
    }

    /// Steps done.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The latents of every frame of the Y4M clip at `path` through the frozen analysis
    /// (colours as the header says, else lic's assumption: `Y4mHeader::assumed_matrix`).
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Codec`] for a file that cannot be read as a clip.
    pub fn load_clip(&self, path: &Path) -> Result<Clip> {
        let file = std::fs::File::open(path).map_err(Error::io("reading", path))?;
        let mut reader = Y4mReader::new(BufReader::new(file), &Limits::default())?;
        let h = reader.header().clone();
        let (matrix, range) = (h.assumed_matrix(), h.range_or_assumed());
        let analysis = self.base.analysis.valid();
        let mut frames = Vec::new();
        let mut dims = [0; 3];
        while let Some(frame) = reader.next_frame()? {
            let image = frame.to_image(matrix, range);
            let y = analysis.forward(image_tensor(&image, &self.plain));
            let [_, m, lh, lw] = y.dims();
            dims = [m, lh, lw];
            frames.push(tensor_values(y)?);
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Clip { name, dims, frames })
    }

    /// One step on `batch` pairs drawn from `clips` (and synthetic pairs from `stills`):
    /// returns the latent bits per pixel of the inter-coded frames (training noise).
    ///
    /// # Errors
    /// [`Error::Data`] if no clip has a pair and no still is given, or a still cannot be
    /// read; [`Error::NonFiniteLoss`] (the step is not applied).
    pub fn step(&mut self, clips: &[Clip], stills: &[PathBuf], learning_rate: f64) -> Result<f32> {
        let mut rng = SplitMix64(self.options.seed ^ self.step.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let levels = self.info.architecture.quality_levels;
        let level = (rng.next_u64() % levels as u64) as usize;
        let (prev, cur) = self.draw_pairs(clips, stills, &mut rng)?;
        let gain = FloatModel::gain_row(self.base.gains.gain.val().detach(), level);
        let frozen = self.base.valid();
        let y_prev = prev * gain.clone().inner();
        let prev_hat = frozen
            .latent_rates(
                y_prev.clone(),
                frozen.hyper_analysis.forward(y_prev),
                Quantization::Round,
            )
            .y_hat;
        let y_cur = cur * gain.inner();
        let z_cur = frozen.hyper_analysis.forward(y_cur.clone());
        let coded = self.base.inter_latent_rates(
            y_cur.autodiff(),
            z_cur.autodiff(),
            Quantization::Noise(&mut rng),
            &self.temporal,
            prev_hat.autodiff(),
        );
        let bpp = coded.y_bits / coded.pixels as f32;
        let value = bpp.clone().into_scalar::<f32>();
        if !value.is_finite() {
            return Err(Error::NonFiniteLoss {
                step: self.step,
                loss: value,
            });
        }
        let grads = GradientsParams::from_grads(bpp.backward(), &self.temporal);
        self.temporal = self.optim.step(learning_rate, self.temporal.clone(), grads);
        self.step += 1;
        Ok(value)
    }

    /// `[B, M, s, s]` latents (no gain) of the previous and current frames of `batch` pairs.
    fn draw_pairs(
        &self,
        clips: &[Clip],
        stills: &[PathBuf],
        rng: &mut SplitMix64,
    ) -> Result<(Tensor<4>, Tensor<4>)> {
        let usable: Vec<&Clip> = clips
            .iter()
            .filter(|c| {
                c.pairs() > 0 && c.dims[1] >= self.options.crop && c.dims[2] >= self.options.crop
            })
            .collect();
        let pairs: usize = usable.iter().map(|c| c.pairs()).sum();
        if pairs == 0 && stills.is_empty() {
            return Err(Error::Data {
                path: PathBuf::new(),
                problem: format!(
                    "no clip with two frames of at least {0}x{0} pixels, and no still crops",
                    self.options.crop * 16
                ),
            });
        }
        let b = self.options.batch;
        let m = self.info.architecture.latent_channels;
        let s = self.options.crop;
        let mut prev = Vec::with_capacity(b * m * s * s);
        let mut cur = Vec::with_capacity(b * m * s * s);
        let mut synthetic = 0;
        for _ in 0..b {
            let coin = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            if pairs == 0 || (!stills.is_empty() && coin < self.options.synthetic) {
                synthetic += 1;
                continue;
            }
            // A pair uniformly over all pairs, then a window.
            let mut pick = (rng.next_u64() % pairs as u64) as usize;
            let clip = usable
                .iter()
                .find(|c| {
                    let here = pick < c.pairs();
                    if !here {
                        pick -= c.pairs();
                    }
                    here
                })
                .expect("pick is below the pair count");
            let [_, h, w] = clip.dims;
            let oy = (rng.next_u64() % (h - s + 1) as u64) as usize;
            let ox = (rng.next_u64() % (w - s + 1) as u64) as usize;
            for (out, frame) in [(&mut prev, pick), (&mut cur, pick + 1)] {
                let y = &clip.frames[frame];
                for c in 0..m {
                    for r in oy..oy + s {
                        let row = (c * h + r) * w;
                        out.extend_from_slice(&y[row + ox..row + ox + s]);
                    }
                }
            }
        }
        let real = b - synthetic;
        let device = self.plain.clone();
        let to_tensor = |v: Vec<f32>, n: usize| {
            Tensor::<4>::from_data(TensorData::new(v, [n, m, s, s]), &device)
        };
        let mut prev_t = vec![];
        let mut cur_t = vec![];
        if real > 0 {
            prev_t.push(to_tensor(prev, real));
            cur_t.push(to_tensor(cur, real));
        }
        if synthetic > 0 {
            let (p, c) = self.synthetic_pairs(stills, synthetic, rng)?;
            prev_t.push(p);
            cur_t.push(c);
        }
        Ok((Tensor::cat(prev_t, 0), Tensor::cat(cur_t, 0)))
    }

    /// `n` synthetic pairs: a window of a still crop (the latent window's pixels) and the same
    /// window panned by up to [`MAX_PAN`] pixels each way, its brightness scaled by 0.9 ..= 1.1.
    fn synthetic_pairs(
        &self,
        stills: &[PathBuf],
        n: usize,
        rng: &mut SplitMix64,
    ) -> Result<(Tensor<4>, Tensor<4>)> {
        let side = 16 * self.options.crop;
        let mut planes = [Vec::new(), Vec::new()];
        for _ in 0..n {
            let path = &stills[(rng.next_u64() % stills.len() as u64) as usize];
            let img = image::open(path)
                .map_err(|e| Error::Data {
                    path: path.clone(),
                    problem: e.to_string(),
                })?
                .to_rgb8();
            let (w, h) = (img.width() as usize, img.height() as usize);
            if w < side + 2 * MAX_PAN || h < side + 2 * MAX_PAN {
                return Err(Error::Data {
                    path: path.clone(),
                    problem: format!(
                        "{w}x{h} is smaller than a synthetic pair needs ({0}x{0})",
                        side + 2 * MAX_PAN
                    ),
                });
            }
            let mut offset = |limit: usize| (rng.next_u64() % (limit + 1) as u64) as usize;
            let (ax, ay) = (offset(w - side), offset(h - side));
            let span = 2 * MAX_PAN;
            let pan = |a: usize, limit: usize, r: usize| (a + r).saturating_sub(MAX_PAN).min(limit);
            let bx = pan(ax, w - side, offset(span));
            let by = pan(ay, h - side, offset(span));
            let brightness = 0.9 + 0.2 * (rng.next_u64() >> 11) as f32 / (1u64 << 53) as f32;
            for (k, (x0, y0, gain)) in [(ax, ay, 1.0), (bx, by, brightness)]
                .into_iter()
                .enumerate()
            {
                for c in 0..3 {
                    for y in y0..y0 + side {
                        for x in x0..x0 + side {
                            let v = f32::from(img.get_pixel(x as u32, y as u32)[c]) / 255.0;
                            planes[k].push((v * gain).min(1.0));
                        }
                    }
                }
            }
        }
        let device = self.plain.clone();
        let analysis = self.base.analysis.valid();
        let [a, b] = planes.map(|p| {
            analysis.forward(Tensor::<4>::from_data(
                TensorData::new(p, [n, 3, side, side]),
                &device,
            ))
        });
        Ok((a, b))
    }

    /// Latent bits per pixel of every frame after the first of `clips`, coded intra and coded
    /// inter (the previous frame intra-coded, real rounding), at each of `levels`.
    ///
    /// # Errors
    /// [`Error::Codec`] if the device cannot give values back.
    pub fn evaluate(&self, clips: &[Clip], levels: &[usize]) -> Result<Vec<InterGain>> {
        let base = self.base.valid();
        let temporal = self.temporal.valid();
        let device = self.plain.clone();
        let mut out = Vec::new();
        for &level in levels {
            let gain = FloatModel::gain_row(base.gains.gain.val(), level);
            let (mut intra, mut inter, mut pixels) = (0.0f64, 0.0f64, 0usize);
            for clip in clips {
                let [m, h, w] = clip.dims;
                let latent = |i: usize| {
                    Tensor::<4>::from_data(
                        TensorData::new(clip.frames[i].clone(), [1, m, h, w]),
                        &device,
                    ) * gain.clone()
                };
                for t in 1..clip.frames.len() {
                    let y_prev = latent(t - 1);
                    let prev_hat = base
                        .latent_rates(
                            y_prev.clone(),
                            base.hyper_analysis.forward(y_prev),
                            Quantization::Round,
                        )
                        .y_hat;
                    let y = latent(t);
                    let z = base.hyper_analysis.forward(y.clone());
                    let a = base.latent_rates(y.clone(), z.clone(), Quantization::Round);
                    let b = base.inter_latent_rates(y, z, Quantization::Round, &temporal, prev_hat);
                    intra += f64::from(tensor_values(a.y_bits)?[0]);
                    inter += f64::from(tensor_values(b.y_bits)?[0]);
                    pixels += a.pixels;
                }
            }
            out.push(InterGain {
                level,
                intra_bpp: intra / pixels.max(1) as f64,
                inter_bpp: inter / pixels.max(1) as f64,
            });
        }
        Ok(out)
    }

    /// The base model file with the trained temporal networks, quantised (any temporal
    /// tensors it had are replaced): a deployable model with the base's fingerprint.
    ///
    /// # Errors
    /// [`Error::Codec`] if a layer cannot be quantised (a size mismatch: a defect).
    pub fn export(&self) -> Result<ModelFile> {
        let mut file = ModelFile::new(self.base_file.config.clone());
        for (name, tensor) in self.base_file.tensors() {
            if !name.starts_with(TEMPORAL_PREFIX) {
                file.push(name, tensor.clone())?;
            }
        }
        let params = named_parameters(&self.temporal);
        let find = |name: &str| {
            params
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, _, v)| v.as_slice())
                .ok_or_else(|| Error::unusable(&self.info.name, format!("`{name}` is missing")))
        };
        let arch = &self.info.architecture;
        for spec in temporal_layers(arch, self.temporal.width()) {
            let own = spec.name.trim_start_matches(TEMPORAL_PREFIX);
            let q = quantize(
                &spec,
                find(&format!("{own}.weight"))?,
                find(&format!("{own}.bias"))?,
            )?;
            let cout = spec.out_channels();
            file.push(
                &format!("{}.weight", spec.name),
                FileTensor::I32 {
                    shape: spec.weight_shape.to_vec(),
                    data: q.weight,
                },
            )?;
            for (suffix, data) in [("bias", q.bias), ("shift", q.shift)] {
                file.push(
                    &format!("{}.{suffix}", spec.name),
                    FileTensor::I32 {
                        shape: vec![cout],
                        data,
                    },
                )?;
            }
        }
        Ok(file)
    }
}
