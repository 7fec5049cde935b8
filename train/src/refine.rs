//! Encoder-side latent refinement: after the analysis, the encoder improves the latents of
//! the one image it codes by gradient descent on that image's own rate-distortion cost,
//! through the decoder's networks (Campos et al. 2019, "Content adaptive optimization for
//! neural image compression"; Yang et al. 2020, "Improving inference for neural image
//! compression", who name the gap it closes the *amortization gap*).
//!
//! The decoder is untouched and the bitstream is the same format: the refined `y` and `z` are
//! coded by the same integer entropy path as the analysis' would be ([`lic_codec::encode`]), so
//! every decoder reads the file as it reads any other. Only encoding gets slower (per step,
//! one forward and backward pass of the entropy model and the synthesis, and one forward pass
//! with real rounding).
//!
//! What differs from the papers: they run hundreds to thousands of steps, Yang et al. with
//! annealed soft rounding; lic runs a few dozen. The gradient comes from the training proxy
//! (uniform noise in the rates, straight-through rounding for what the synthesis and the
//! contexts see), and every step also measures the current latents with real rounding, the
//! float model's estimate of the real cost of coding them. The encoder keeps the best iterate
//! it measured, the analysis' own latents (step 0) included: by that estimate refinement never
//! makes a file worse. The learning rate scales with the quality's gains, and Adam's ε with the
//! gradient's RMS (docs/MODEL.md says why).

use std::time::{Duration, Instant};

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use lic_codec::internals::{
    Latents, Quality, analyse, encode_latents, gains_at, image_tensor, inverse_gains_at,
    quality_position, tensor_values,
};
use lic_codec::{Fingerprint, Image, Model, ModelFile};

use crate::error::{Error, Result};
use crate::model::{FloatModel, Quantization, RdOutput, SplitMix64};
use crate::warm::{float_model, model_lambdas};

/// How hard the encoder works on each image's latents.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefineOptions {
    /// Gradient steps; 0 codes the analysis' latents as they are.
    pub steps: usize,
    /// Adam's learning rate in units of the latent before its gain: at quality `q` the
    /// step in quantisation bins is this times the geometric mean of `q`'s gains, so one
    /// rate suits every quality. It decays linearly to zero over the steps.
    pub learning_rate: f32,
}

impl RefineOptions {
    /// The learning rate measured best on held-out training files (docs/RESULTS.md).
    pub const LEARNING_RATE: f32 = 0.07;
}

impl Default for RefineOptions {
    /// 0 steps (no refinement) at [`Self::LEARNING_RATE`].
    fn default() -> Self {
        Self {
            steps: 0,
            learning_rate: Self::LEARNING_RATE,
        }
    }
}

/// The float model's estimate of what coding some latents of one image costs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RdCost {
    /// Bits per pixel of the image.
    pub bpp: f64,
    /// Mean squared error on the 0..1 scale.
    pub mse: f64,
    /// `bpp + λ · 255² · MSE`.
    pub loss: f64,
}

/// What refinement did to one image, by the float model's estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefineReport {
    /// The distortion weight of the coded quality (interpolated between trained levels).
    pub lambda: f64,
    /// The cost of the analysis' latents.
    pub initial: RdCost,
    /// The cost of the latents coded.
    pub coded: RdCost,
    /// The step whose latents were coded (0: the analysis' own).
    pub best_step: usize,
    /// Time spent refining.
    pub elapsed: Duration,
}

/// The float networks that refinement differentiates through, for one model.
#[derive(Debug)]
pub struct Refiner {
    fingerprint: Fingerprint,
    model: FloatModel,
    lambdas: Vec<f64>,
    device: Device,
}

/// One image's fixed part of the cost: its pixels, the mask of its unpadded area, the inverse
/// gains of its quality, and the weights that turn sums into bpp and the loss.
struct Target {
    x: Tensor<4>,
    mask: Tensor<4>,
    inverse: Tensor<4>,
    pixels: f64,
    distortion_weight: f64,
}

impl Target {
    fn new(model: &Model, image: &Image, q: f32, lambda: f64, device: &Device) -> Self {
        let x = image_tensor(image, device);
        let [_, _, ph, pw] = x.dims();
        let (w, h) = (image.width() as usize, image.height() as usize);
        let mask: Vec<f32> = (0..ph * pw)
            .map(|i| if i / pw < h && i % pw < w { 1.0 } else { 0.0 })
            .collect();
        let inverse = inverse_gains_at(model, q);
        let m = inverse.len();
        Self {
            x,
            mask: Tensor::from_data(TensorData::new(mask, [1, 1, ph, pw]), device),
            inverse: Tensor::from_data(TensorData::new(inverse, [1, m, 1, 1]), device),
            pixels: (w * h) as f64,
            distortion_weight: lambda * 255.0 * 255.0,
        }
    }

    /// `(bpp, mse, loss)` of a float pass, as tensors (the loss carries the gradient).
    fn cost(&self, out: RdOutput) -> [Tensor<1>; 3] {
        let squared = (out.x_hat.clamp(0.0, 1.0) - self.x.clone()).square() * self.mask.clone();
        let mse = squared.sum() / (3.0 * self.pixels) as f32;
        let bpp = (out.latents.y_bits + out.latents.z_bits) / self.pixels as f32;
        let loss = bpp.clone() + mse.clone() * self.distortion_weight as f32;
        [bpp, mse, loss]
    }
}

impl Refiner {
    /// The float networks of a deployable model file (the integer entropy networks
    /// dequantised, as `lic train --init` rebuilds them) on the autodiff form of `device`.
    ///
    /// # Errors
    /// [`Error::UnusableModel`] if the file is not a deployable lic model.
    pub fn from_file(file: &ModelFile, device: &Device) -> Result<Self> {
        let device = device.clone().autodiff();
        let (info, model) = float_model(file, &device)?;
        let lambdas = model_lambdas(&info, None)?;
        let model = model.no_grad();
        Ok(Self {
            fingerprint: file.fingerprint(),
            model,
            lambdas,
            device,
        })
    }

    /// The distortion weight at quality `q`: the trained levels' λ, interpolated
    /// geometrically as the gains are.
    pub fn lambda_at(&self, q: f32) -> f64 {
        let (i, a) = quality_position(q, self.lambdas.len());
        match self.lambdas.get(i + 1) {
            Some(&hi) => {
                (self.lambdas[i].ln() * (1.0 - f64::from(a)) + hi.ln() * f64::from(a)).exp()
            }
            None => self.lambdas[i],
        }
    }

    /// The cost of the latents `y`, `z` coded with real rounding.
    fn measure(&self, target: &Target, y: Tensor<4>, z: Tensor<4>) -> RdCost {
        let value = |t: Tensor<1>| f64::from(t.into_scalar::<f32>());
        let [bpp, mse, loss] = target.cost(self.model.forward_rd_latents(
            y,
            z,
            target.inverse.clone(),
            Quantization::Round,
        ));
        RdCost {
            bpp: value(bpp),
            mse: value(mse),
            loss: value(loss),
        }
    }

    /// The gradient of the training proxy's loss (noise for the rates, straight-through
    /// rounding for the synthesis: its rate term is smooth where rounding's is flat) with
    /// respect to `y` and `z`.
    fn gradient(
        &self,
        target: &Target,
        y: Tensor<4>,
        z: Tensor<4>,
        rng: &mut SplitMix64,
    ) -> Result<[Vec<f32>; 2]> {
        let (y, z) = (y.require_grad(), z.require_grad());
        let [_, _, loss] = target.cost(self.model.forward_rd_latents(
            y.clone(),
            z.clone(),
            target.inverse.clone(),
            Quantization::Noise(rng),
        ));
        let grads = loss.backward();
        let of = |t: &Tensor<4>| -> Result<Vec<f32>> {
            let g = t.grad(&grads).ok_or_else(|| Error::Backend {
                reason: "refinement: the latents have no gradient".into(),
            })?;
            Ok(tensor_values(g)?)
        };
        Ok([of(&y)?, of(&z)?])
    }

    /// Refines the analysis' latents of `image` at `quality`, keeping the best iterate
    /// measured (the analysis' own latents, step 0, included).
    fn refine(
        &self,
        model: &Model,
        image: &Image,
        quality: Quality,
        options: &RefineOptions,
    ) -> Result<(Latents, RefineReport)> {
        let start = Instant::now();
        let q = quality.value();
        let mut latents = analyse(model, image, quality)?;
        let lambda = self.lambda_at(q);
        let device = &self.device;
        let target = Target::new(model, image, q, lambda, device);
        let gains = gains_at(model, q);
        let mean_gain =
            (gains.iter().map(|v| f64::from(*v).ln()).sum::<f64>() / gains.len() as f64).exp();
        let shape = |d: [usize; 3]| [1, d[0], d[1], d[2]];
        let (y_shape, z_shape) = (shape(latents.y_dims), shape(latents.z_dims));

        let mut y = latents.y.clone();
        let mut z = latents.z.clone();
        let mut adam = [Adam::new(y.len()), Adam::new(z.len())];
        let mut initial = None;
        let mut coded = RdCost {
            bpp: 0.0,
            mse: 0.0,
            loss: f64::INFINITY,
        };
        let mut best_step = 0;
        let mut rng = SplitMix64(0x5245_4649_4e45); // "REFINE"
        for step in 0..=options.steps {
            let yt = Tensor::<4>::from_data(TensorData::new(y.clone(), y_shape), device);
            let zt = Tensor::<4>::from_data(TensorData::new(z.clone(), z_shape), device);
            let now = self.measure(&target, yt.clone(), zt.clone());
            if !now.loss.is_finite() {
                break;
            }
            initial.get_or_insert(now);
            if now.loss < coded.loss {
                coded = now;
                best_step = step;
                latents.y.clone_from(&y);
                latents.z.clone_from(&z);
            }
            if step == options.steps {
                break;
            }
            let [gy, gz] = self.gradient(&target, yt, zt, &mut rng)?;
            let lr = options.learning_rate
                * mean_gain as f32
                * (1.0 - step as f32 / options.steps as f32);
            adam[0].step(&mut y, &gy, lr);
            adam[1].step(&mut z, &gz, lr);
        }
        Ok((
            latents,
            RefineReport {
                lambda,
                initial: initial.unwrap_or(coded),
                coded,
                best_step,
                elapsed: start.elapsed(),
            },
        ))
    }
}

/// Adam (Kingma & Ba 2015) on one flat vector.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
}

impl Adam {
    fn new(n: usize) -> Self {
        Self {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    fn step(&mut self, x: &mut [f32], g: &[f32], lr: f32) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        self.t += 1;
        let (c1, c2) = (1.0 - B1.powi(self.t), 1.0 - B2.powi(self.t));
        // Adam's ε at the gradient's RMS over the whole tensor, not a tiny constant: an
        // element whose gradient is far below its peers' barely moves, where plain Adam would
        // step every element by about the learning rate (and at low rates flip the symbols
        // of latents that carry nothing).
        let mean_square = g.iter().map(|g| f64::from(g * g)).sum::<f64>() / g.len().max(1) as f64;
        let eps = mean_square.sqrt() as f32 + 1e-12;
        for (((x, &g), m), v) in x.iter_mut().zip(g).zip(&mut self.m).zip(&mut self.v) {
            *m = B1 * *m + (1.0 - B1) * g;
            *v = B2 * *v + (1.0 - B2) * g * g;
            *x -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
        }
    }
}

/// Encodes `image` at quality `q` like [`lic_codec::encode`], with its latents refined first
/// (`options.steps` gradient steps; 0 gives [`lic_codec::encode`]'s bytes).
///
/// # Errors
/// As [`lic_codec::encode`]; [`Error::RefinerMismatch`] if `refiner` was built from another
/// model than `model`.
pub fn encode_refined(
    model: &Model,
    refiner: &Refiner,
    image: &Image,
    q: f32,
    options: &RefineOptions,
) -> Result<(Vec<u8>, RefineReport)> {
    if refiner.fingerprint != model.fingerprint() {
        return Err(Error::RefinerMismatch {
            refiner: refiner.fingerprint,
            model: model.fingerprint(),
        });
    }
    let quality = Quality::new(q)?;
    let (latents, report) = refiner.refine(model, image, quality, options)?;
    let bytes = encode_latents(model, image, quality, &latents)?;
    Ok((bytes, report))
}
