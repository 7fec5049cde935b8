//! The temporal networks of video inter frames in float, for training and export: the float
//! twin of lic-codec's integer temporal networks (`temporal_layers`).
//!
//! The entropy model of an inter frame also sees the previous frame's decoded latent `ŷ(t−1)`
//! (the spatiotemporal entropy model of "Spatiotemporal Entropy Model is All You Need for
//! Learned Video Compression", with DCVC's conditional coding idea, and no motion vectors):
//! two 3x3 convolutions `M -> width -> 2M` give every group `2C` temporal features, and a 3x3
//! convolution per group gives `2C` change features from how much the latent decoded so far
//! (earlier groups, then the group's anchors) changed since the previous frame, a cue for
//! where the picture stands still; both join the hyper, channel and spatial features as the
//! last inputs of the group's inter aggregation. That gives means, log2-scales and gates; each mean moves towards the
//! previous frame's value by its gate (`μ = μ_a + clamp(g, 0, 1)·(ŷ' − μ_a)`), so where the
//! picture stands still the previous latent is the prediction, without the aggregation having
//! to learn an identity. The inter aggregation starts as a copy of the intra one with zero
//! weights on the temporal inputs and gates at `GATE_START`, so an untrained temporal model
//! codes inter frames almost exactly as intra frames; training finds what the previous frame
//! adds.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::leaky_relu;
use burn::tensor::{Device, Tensor};
use lic_codec::Architecture;
use lic_codec::internals::{LEAKY_SLOPE, conv, load_parameters, named_parameters};

use super::{FloatModel, SplitMix64};

/// Where a new temporal model's gates start: the means move this share of the way towards the
/// previous frame's latent (small, so the start codes as the intra model does, and not zero,
/// where the clamp would stop the gradient).
pub const GATE_START: f32 = 0.02;

/// The inter networks of one channel group: its change context and its inter aggregation,
/// 1x1 convolutions `in + 4C -> 4C -> 3C -> 3C`.
#[derive(Module, Debug)]
pub struct TemporalGroup {
    /// 3x3, `o + C -> 2C`: over how much the decoded latent changed since the previous
    /// frame (the earlier groups, the group's own anchors in the second pass).
    pub change: Conv2d,
    /// First layer; its last `4C` inputs are the temporal and change features.
    pub agg1: Conv2d,
    /// Second layer.
    pub agg2: Conv2d,
    /// Last layer: `C` means, `C` log2-scales, `C` gates.
    pub agg3: Conv2d,
}

impl TemporalGroup {
    /// Means and log2-scales `[B, 2C, h, w]` of an inter frame's group, as
    /// `GroupContext::params` with the group's temporal and change features (`[B, 2C, h, w]`
    /// each) appended to the inputs, the means gated towards `previous` (the group's channels
    /// of the previous frame's decoded latent, `[B, C, h, w]`).
    pub fn params(
        &self,
        psi: Tensor<4>,
        channel: Option<Tensor<4>>,
        spatial: Tensor<4>,
        temporal: Tensor<4>,
        change: Tensor<4>,
        previous: Tensor<4>,
    ) -> Tensor<4> {
        let c = previous.dims()[1];
        let mut parts = vec![psi];
        parts.extend(channel);
        parts.push(spatial);
        parts.push(temporal);
        parts.push(change);
        let x = leaky_relu(self.agg1.forward(Tensor::cat(parts, 1)), LEAKY_SLOPE);
        let x = leaky_relu(self.agg2.forward(x), LEAKY_SLOPE);
        let out = self.agg3.forward(x);
        let mean = out.clone().narrow(1, 0, c);
        let gate = out.clone().narrow(1, 2 * c, c).clamp(0.0, 1.0);
        let mean = mean.clone() + gate * (previous - mean);
        Tensor::cat(vec![mean, out.narrow(1, c, c)], 1)
    }
}

/// The temporal context and every group's inter aggregation.
#[derive(Module, Debug)]
pub struct TemporalModel {
    /// 3x3, `M -> width`, LeakyReLU after.
    pub c1: Conv2d,
    /// 3x3, `width -> 2M`.
    pub c2: Conv2d,
    /// One inter aggregation per channel group.
    pub groups: Vec<TemporalGroup>,
}

impl TemporalModel {
    /// Layers of the right sizes with burn's default initialisation.
    pub fn new(architecture: &Architecture, width: usize, device: &Device) -> Self {
        let m = architecture.latent_channels;
        Self {
            c1: conv(m, width, 3, 1, device),
            c2: conv(width, 2 * m, 3, 1, device),
            groups: architecture
                .group_offsets()
                .iter()
                .zip(&architecture.groups)
                .map(|(&o, &c)| {
                    let inputs = if o == 0 { 8 * c } else { 10 * c };
                    TemporalGroup {
                        change: conv(o + c, 2 * c, 3, 1, device),
                        agg1: conv(inputs, 4 * c, 1, 1, device),
                        agg2: conv(4 * c, 3 * c, 1, 1, device),
                        agg3: conv(3 * c, 3 * c, 1, 1, device),
                    }
                })
                .collect(),
        }
    }

    /// A temporal model that starts out coding inter frames almost as `base` codes intra
    /// frames: each group's inter aggregation copies the intra one, with zero weights on the
    /// temporal and change inputs and gates at [`GATE_START`] (zero weights, that bias); the
    /// context and change convolutions are uniform in `±1/sqrt(fan_in)` from `seed` (biases
    /// zero), so that the new inputs' weights get gradients from the first step.
    pub fn start(
        base: &FloatModel,
        architecture: &Architecture,
        width: usize,
        seed: u64,
        device: &Device,
    ) -> Self {
        let intra = named_parameters(base);
        let mut rng = SplitMix64(seed);
        let fresh = Self::new(architecture, width, device);
        load_parameters(fresh, device, |name, shape| {
            let n: usize = shape.iter().product();
            if name.starts_with("c1.") || name.starts_with("c2.") || name.contains(".change.") {
                if name.ends_with(".bias") {
                    return Ok::<_, std::convert::Infallible>(Some(vec![0.0; n]));
                }
                let fan_in = (shape[1] * shape[2] * shape[3]) as f32;
                let bound = 1.0 / fan_in.sqrt();
                return Ok(Some(
                    (0..n).map(|_| rng.next_signed_unit() * bound).collect(),
                ));
            }
            // groups.<k>.agg<i>.weight|bias: the intra layer's values, widened with zeros.
            let (_, own_shape, values) = intra
                .iter()
                .find(|(n, _, _)| n == name)
                .expect("every inter aggregation layer has an intra twin");
            if own_shape.as_slice() == shape {
                return Ok(Some(values.clone()));
            }
            if shape.len() == 1 {
                // agg3's bias: the intra biases, then the gates'.
                let mut bias = values.clone();
                bias.resize(n, GATE_START);
                return Ok(Some(bias));
            }
            if shape[0] != own_shape[0] {
                // agg3's weights: the intra rows, then zero rows for the gates.
                let mut weight = values.clone();
                weight.resize(n, 0.0);
                return Ok(Some(weight));
            }
            let (cout, cin_old, cin) = (shape[0], own_shape[1], shape[1]);
            let mut widened = vec![0.0; n];
            for o in 0..cout {
                widened[o * cin..o * cin + cin_old]
                    .copy_from_slice(&values[o * cin_old..(o + 1) * cin_old]);
            }
            Ok(Some(widened))
        })
        .unwrap_or_else(|e| match e {})
    }

    /// The context's width (`c1`'s output channels).
    pub fn width(&self) -> usize {
        self.c1.weight.dims()[0]
    }

    /// Temporal features `[B, 2M, h, w]` from the previous frame's decoded latent
    /// `[B, M, h, w]` (before the inverse gain, as the codec keeps it).
    pub fn features(&self, previous: Tensor<4>) -> Tensor<4> {
        self.c2
            .forward(leaky_relu(self.c1.forward(previous), LEAKY_SLOPE))
    }
}
