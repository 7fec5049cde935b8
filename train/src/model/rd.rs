//! The float rate-distortion forward pass: what training optimises, and the float-path rate
//! estimate that measures what the integer entropy path costs.
//!
//! It follows the codec's coding order exactly (lic-codec's `latent` module): `z` under the factorized
//! prior, then group by group the anchors (hyper + channel context), then the non-anchors
//! (spatial context over the decoded anchors added). Each latent element is coded as
//! `round(y - mu)` under a discretised Gaussian of scale `2^s`, clamped to the scale range of
//! the codec's tables, so the likelihoods here are the ones the real coder pays up to the
//! integer networks' rounding and the tables' scale grid.
//!
//! Quantisation proxy in training (the mixed scheme of current learned codecs, e.g. Minnen &
//! Singh 2020, ELIC): the rate terms see `y + u` with `u ~ U(-1/2, 1/2)`, while the contexts and
//! the synthesis see `round(y - mu) + mu` with a straight-through gradient.

use std::f32::consts::{LN_2, SQRT_2};

use burn::tensor::{Device, Tensor, TensorData};

use super::{FloatModel, SplitMix64, TemporalModel, anchor_mask};
use crate::model::PRIOR_SCALE_RANGE;

/// `log2(sigma)` range of the latent's Gaussian tables (0.125 ..= 256, lic-entropy).
pub const LATENT_LOG2_SCALE_RANGE: (f32, f32) = (-3.0, 8.0);
/// Smallest probability a symbol is given in the rate (about 30 bits), so one far outlier
/// cannot produce an infinite loss.
const PROBABILITY_FLOOR: f32 = 1e-9;
/// Gains are kept at least this large: the decoder divides by nothing, but a gain that
/// crossed zero would flip a channel's sign between neighbouring qualities.
pub const GAIN_FLOOR: f32 = 1e-3;

/// How the forward pass quantises.
#[derive(Debug)]
pub enum Quantization<'a> {
    /// Training: uniform noise drawn from `rng` for the rates, straight-through rounding for
    /// what the contexts and the synthesis see.
    Noise(&'a mut SplitMix64),
    /// Evaluation: real rounding everywhere; the rates are those of the rounded symbols.
    Round,
}

/// Result of [`FloatModel::forward_rd`].
#[derive(Debug, Clone)]
pub struct RdOutput {
    /// Reconstruction `[B, 3, H, W]` (unclamped).
    pub x_hat: Tensor<4>,
    /// The latents it was made from, with their rates.
    pub latents: CodedLatents,
}

impl RdOutput {
    /// Bits per pixel, `[1]`.
    pub fn bpp(&self) -> Tensor<1> {
        self.latents.bpp()
    }
}

/// Result of [`FloatModel::latent_rates`]: the latents' rates and their decoded values.
#[derive(Debug, Clone)]
pub struct CodedLatents {
    /// Decoded latent `ŷ` (`[B, M, H/16, W/16]`), before the inverse gain.
    pub y_hat: Tensor<4>,
    /// Bits of all latent symbols of the batch, `[1]`.
    pub y_bits: Tensor<1>,
    /// Bits of all hyper-latent symbols of the batch, `[1]`.
    pub z_bits: Tensor<1>,
    /// Pixels in the batch (`B * H * W`).
    pub pixels: usize,
}

impl CodedLatents {
    /// Bits per pixel, `[1]`.
    pub fn bpp(&self) -> Tensor<1> {
        (self.y_bits.clone() + self.z_bits.clone()) / self.pixels as f32
    }
}

/// `round(x)` forward, identity backward.
fn ste_round<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let rounded = x.clone().round();
    x.clone() + (rounded - x).detach()
}

/// Standard normal CDF.
fn phi<const D: usize>(t: Tensor<D>) -> Tensor<D> {
    ((t / SQRT_2).erf() + 1.0) * 0.5
}

/// Bits of the integer-centred values `v` (value minus mean) under discretised Gaussians of
/// scale `2^log2_sigma`: `-log2(Phi((1/2 - |v|)/s) - Phi((-1/2 - |v|)/s))`, the tail on the
/// side away from the mean being the accurate one in float.
fn gaussian_bits<const D: usize>(v: Tensor<D>, log2_sigma: Tensor<D>) -> Tensor<1> {
    let sigma = (log2_sigma * LN_2).exp();
    let v = v.abs();
    let upper = phi((-v.clone() + 0.5) / sigma.clone());
    let lower = phi((-v - 0.5) / sigma);
    let p = (upper - lower).clamp_min(PROBABILITY_FLOOR);
    p.log().sum() * (-1.0 / LN_2)
}

/// `[shape]` of uniform noise in `[-1/2, 1/2)` from `rng` on `device`.
fn uniform_noise(rng: &mut SplitMix64, shape: [usize; 4], device: &Device) -> Tensor<4> {
    let n = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.next_signed_unit() * 0.5).collect();
    Tensor::from_data(TensorData::new(v, shape), device)
}

impl FloatModel {
    /// Row `level` of a `[L, M]` gain table as `[1, M, 1, 1]`, floored at [`GAIN_FLOOR`].
    pub fn gain_row(table: Tensor<2>, level: usize) -> Tensor<4> {
        let [_, m] = table.dims();
        table
            .narrow(0, level, 1)
            .reshape([1, m, 1, 1])
            .clamp_min(GAIN_FLOOR)
    }

    /// The whole codec in float on a batch `x` (`[B, 3, H, W]` in `[0, 1]`, `H` and `W`
    /// multiples of 64) at trained quality `level`.
    ///
    /// # Panics
    /// If `level` is not below the model's quality levels.
    pub fn forward_rd(&self, x: Tensor<4>, level: usize, quant: Quantization<'_>) -> RdOutput {
        let y = self.analysis.forward(x) * Self::gain_row(self.gains.gain.val(), level);
        let z = self.hyper_analysis.forward(y.clone());
        let inverse = Self::gain_row(self.gains.inverse.val(), level);
        self.forward_rd_latents(y, z, inverse, quant)
    }

    /// The codec from the latents on: `y` (`[B, M, H/16, W/16]`, gain applied) and `z`
    /// (`[B, Z, H/64, W/64]`, as `h_a` would give them, unrounded) coded as in
    /// [`Self::forward_rd`], the synthesis seeing `ŷ · inverse_gain` (`[1, M, 1, 1]`).
    /// Encoder-side refinement optimises `y` and `z` through this ([`crate::refine`]).
    pub fn forward_rd_latents(
        &self,
        y: Tensor<4>,
        z: Tensor<4>,
        inverse_gain: Tensor<4>,
        quant: Quantization<'_>,
    ) -> RdOutput {
        let latents = self.latent_rates(y, z, quant);
        RdOutput {
            x_hat: self.synthesis.forward(latents.y_hat.clone() * inverse_gain),
            latents,
        }
    }

    /// The rates of the latents `y` and `z` (as in [`Self::forward_rd_latents`]) and the
    /// decoded `ŷ` before the inverse gain, without the synthesis: what training the
    /// entropy model alone needs ([`crate::TrainedParts::EntropyModel`]).
    pub fn latent_rates(
        &self,
        y: Tensor<4>,
        z: Tensor<4>,
        quant: Quantization<'_>,
    ) -> CodedLatents {
        self.coded_latents(y, z, quant, None)
    }

    /// [`Self::latent_rates`] of an inter frame: every group's parameters also see the
    /// temporal features of `previous`, the decoded latent of the frame before (`[B, M, h, w]`,
    /// before the inverse gain), through `temporal`.
    pub fn inter_latent_rates(
        &self,
        y: Tensor<4>,
        z: Tensor<4>,
        quant: Quantization<'_>,
        temporal: &TemporalModel,
        previous: Tensor<4>,
    ) -> CodedLatents {
        let features = temporal.features(previous.clone());
        self.coded_latents(y, z, quant, Some((temporal, features, previous)))
    }

    fn coded_latents(
        &self,
        y: Tensor<4>,
        z: Tensor<4>,
        quant: Quantization<'_>,
        temporal: Option<(&TemporalModel, Tensor<4>, Tensor<4>)>,
    ) -> CodedLatents {
        let device = y.device();
        let [b, m, h, w] = y.dims();
        let [_, zc, _, _] = z.dims();
        // Noise is drawn y first, then z, so a seed fixes both.
        let (y_noise, z_noise) = match quant {
            Quantization::Noise(rng) => {
                let yn = uniform_noise(rng, y.dims(), &device);
                (Some(yn), Some(uniform_noise(rng, z.dims(), &device)))
            }
            Quantization::Round => (None, None),
        };

        // z under the factorized prior; h_s sees the rounded z, as in the codec.
        let z_hat = ste_round(z.clone());
        let location = self.prior.location.val().reshape([1, zc, 1, 1]);
        let (lo, hi) = PRIOR_SCALE_RANGE;
        let z_log2_scale = self
            .prior
            .log2_scale
            .val()
            .reshape([1, zc, 1, 1])
            .clamp(lo.log2() as f32, hi.log2() as f32);
        let z_rate_input = match z_noise {
            Some(n) => z + n,
            None => z_hat.clone(),
        };
        let z_bits = gaussian_bits(
            z_rate_input - location,
            z_log2_scale.expand([b, zc, h / 4, w / 4]),
        );
        let psi = self.hyper_synthesis.forward(z_hat);

        let anchors = anchor_mask(h, w, &device);
        let others = -anchors.clone() + 1.0;
        let (lo, hi) = LATENT_LOG2_SCALE_RANGE;
        let mut y_hat: Vec<Tensor<4>> = Vec::with_capacity(self.groups.len());
        let mut y_bits = Tensor::<1>::zeros([1], &device);
        let mut offset = 0;
        for (k, group) in self.groups.iter().enumerate() {
            let c = group.spatial.weight.dims()[1];
            let y_k = y.clone().narrow(1, offset, c);
            let psi_k = psi.clone().narrow(1, 2 * offset, 2 * c);
            let earlier = (offset > 0).then(|| Tensor::cat(y_hat.clone(), 1));
            let channel = group.channel_features(earlier.clone());
            // An inter frame's groups aggregate through their inter twins, the temporal
            // features and the change features (how much what is decoded already changed
            // since the previous frame: the earlier groups, and in the second pass the
            // group's anchors) appended.
            let params = |psi_k, channel, spatial, own_change: Option<Tensor<4>>| match &temporal {
                None => group.params(psi_k, channel, spatial),
                Some((t, features, before)) => {
                    let mut change = Vec::with_capacity(2);
                    if let Some(e) = &earlier {
                        change.push(e.clone() - before.clone().narrow(1, 0, offset));
                    }
                    change.push(own_change.unwrap_or_else(|| Tensor::zeros([b, c, h, w], &device)));
                    let g = &t.groups[k];
                    g.params(
                        psi_k,
                        channel,
                        spatial,
                        features.clone().narrow(1, 2 * offset, 2 * c),
                        g.change.forward(Tensor::cat(change, 1)),
                        before.clone().narrow(1, offset, c),
                    )
                }
            };
            // Anchor pass: no spatial context.
            let zeros = Tensor::zeros([b, 2 * c, h, w], &device);
            let p0 = params(psi_k.clone(), channel.clone(), zeros, None);
            let mean0 = p0.clone().narrow(1, 0, c);
            let anchor_hat = (ste_round(y_k.clone() - mean0.clone()) + mean0) * anchors.clone();
            let own_change = temporal.as_ref().map(|(_, _, before)| {
                (anchor_hat.clone() - before.clone().narrow(1, offset, c)) * anchors.clone()
            });
            // Non-anchor pass: spatial context over the decoded anchors.
            let spatial = group.spatial_features(anchor_hat);
            let p1 = params(psi_k, channel, spatial, own_change);
            let params = p0 * anchors.clone() + p1 * others.clone();
            let mean = params.clone().narrow(1, 0, c);
            let log2_scale = params.narrow(1, c, c).clamp(lo, hi);
            let residual_hat = ste_round(y_k.clone() - mean.clone());
            let rate_input = match &y_noise {
                Some(n) => y_k - mean.clone() + n.clone().narrow(1, offset, c),
                None => residual_hat.clone(),
            };
            y_bits = y_bits + gaussian_bits(rate_input, log2_scale);
            y_hat.push(residual_hat + mean);
            offset += c;
        }
        debug_assert_eq!(offset, m);
        CodedLatents {
            y_hat: Tensor::cat(y_hat, 1),
            y_bits,
            z_bits,
            pixels: b * h * w * 256,
        }
    }
}
