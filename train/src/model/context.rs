//! Per-group entropy parameters: channel context + checkerboard spatial context + hyper
//! features, merged by a parameter-aggregation network into a mean and a log2-scale for every
//! latent element of the group.
//!
//! Follows ELIC (He et al. 2022, "ELIC: Efficient Learned Image Compression with Unevenly
//! Grouped Space-Channel Contextual Adaptive Coding"): uneven channel groups, each group coded
//! in two checkerboard passes (He et al. 2021), anchors first with no spatial context, then
//! the non-anchors with a 5x5 context over the anchors. Differences: the channel context is a
//! single 3x3 convolution over all earlier groups (ELIC stacks five layers), each group reads
//! only its own slice of the hyper features, and the scale is predicted as log2(sigma) so the
//! integer network maps it to a table index without a division. The whole block runs as an
//! integer network in the codec (lic-codec's `int` module); this float version is for training and
//! export.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::leaky_relu;
use burn::tensor::{Device, Tensor};

use lic_codec::internals::{LEAKY_SLOPE, conv};

/// Entropy-parameter networks of one channel group of `C` channels.
#[derive(Module, Debug)]
pub struct GroupContext {
    /// 3x3 over the groups already coded, `offset -> 2C`; absent for the first group.
    pub channel: Option<Conv2d>,
    /// 5x5 over the group's anchors (non-anchors zeroed), `C -> 2C`.
    pub spatial: Conv2d,
    /// Parameter aggregation: 1x1 convolutions `in -> 4C -> 3C -> 2C`.
    pub agg1: Conv2d,
    /// Second aggregation layer.
    pub agg2: Conv2d,
    /// Last aggregation layer: `C` means then `C` log2-scales.
    pub agg3: Conv2d,
}

impl GroupContext {
    /// Networks for a group of `channels` that starts at latent channel `offset`.
    pub fn new(offset: usize, channels: usize, device: &Device) -> Self {
        let c = channels;
        let inputs = if offset == 0 { 4 * c } else { 6 * c };
        Self {
            channel: (offset > 0).then(|| conv(offset, 2 * c, 3, 1, device)),
            spatial: conv(c, 2 * c, 5, 1, device),
            agg1: conv(inputs, 4 * c, 1, 1, device),
            agg2: conv(4 * c, 3 * c, 1, 1, device),
            agg3: conv(3 * c, 2 * c, 1, 1, device),
        }
    }

    /// Channel-context features from the earlier groups `[B, offset, h, w] -> [B, 2C, h, w]`.
    pub fn channel_features(&self, previous: Option<Tensor<4>>) -> Option<Tensor<4>> {
        match (&self.channel, previous) {
            (Some(c), Some(p)) => Some(c.forward(p)),
            _ => None,
        }
    }

    /// Spatial-context features from the group's anchors `[B, C, h, w] -> [B, 2C, h, w]`
    /// (the caller zeroes non-anchors in the input and anchors in the output).
    pub fn spatial_features(&self, anchors: Tensor<4>) -> Tensor<4> {
        self.spatial.forward(anchors)
    }

    /// Means and log2-scales `[B, 2C, h, w]` from hyper features `psi` (`2C` channels),
    /// channel features and spatial features.
    pub fn params(
        &self,
        psi: Tensor<4>,
        channel: Option<Tensor<4>>,
        spatial: Tensor<4>,
    ) -> Tensor<4> {
        let mut parts = vec![psi];
        parts.extend(channel);
        parts.push(spatial);
        let x = leaky_relu(self.agg1.forward(Tensor::cat(parts, 1)), LEAKY_SLOPE);
        let x = leaky_relu(self.agg2.forward(x), LEAKY_SLOPE);
        self.agg3.forward(x)
    }
}
