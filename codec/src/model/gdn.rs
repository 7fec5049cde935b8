//! Simplified generalized divisive normalization (Johnston et al., "Computationally efficient
//! neural image compression", 2019): `y = x / (beta + gamma * |x|)` with a 1x1 channel mix,
//! and its inverse `y = x * (beta + gamma * |x|)` in the synthesis. Cheaper than Ballé's GDN
//! (no square root) and, in that paper, as good in rate-distortion.

use burn::module::{Module, Param};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};

/// Keeps the denominator positive whatever `beta` learns.
const BETA_FLOOR: f32 = 1e-4;

/// One (inverse) simplified GDN layer over `channels` channels.
#[derive(Module, Debug)]
pub struct SimplifiedGdn {
    /// `[C, C, 1, 1]`, used through `|gamma|`.
    pub gamma: Param<Tensor<4>>,
    /// `[C]`, used through `|beta| + 1e-4`.
    pub beta: Param<Tensor<1>>,
    /// Multiply instead of divide (the synthesis side).
    #[module(skip)]
    pub inverse: bool,
}

impl SimplifiedGdn {
    /// Identity-like start: `beta = 1`, `gamma = 0.1 I`.
    pub fn new(channels: usize, inverse: bool, device: &Device) -> Self {
        let mut g = vec![0f32; channels * channels];
        for c in 0..channels {
            g[c * channels + c] = 0.1;
        }
        let gamma = Tensor::<4>::from_data(TensorData::new(g, [channels, channels, 1, 1]), device);
        let beta = Tensor::<1>::ones([channels], device);
        Self {
            gamma: Param::from_tensor(gamma),
            beta: Param::from_tensor(beta),
            inverse,
        }
    }

    /// `[B, C, H, W] -> [B, C, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let norm = conv2d(
            x.clone().abs(),
            self.gamma.val().abs(),
            Some(self.beta.val().abs() + BETA_FLOOR),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        );
        if self.inverse { x * norm } else { x / norm }
    }
}
