//! The hyperprior (Ballé et al. 2018, mean-scale form of Minnen et al. 2018): `h_a` maps `y`
//! to `z` at 1/64 resolution, `h_s` maps the decoded `z` back to features at 1/16 that every
//! channel group's parameter network reads. `h_s` decides probability tables, so the codec
//! runs it as an integer network ([`crate::int`]); its float version is lic-train's.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::leaky_relu;
use burn::tensor::{Device, Tensor};

use super::layers::{LEAKY_SLOPE, conv};

/// `h_a`: `y` to `z` (float; the encoder alone runs it).
#[derive(Module, Debug)]
pub struct HyperAnalysis {
    /// 3x3, `M -> N`.
    pub c1: Conv2d,
    /// 5x5 stride 2, `N -> N`.
    pub c2: Conv2d,
    /// 5x5 stride 2, `N -> Z`.
    pub c3: Conv2d,
}

impl HyperAnalysis {
    /// Layers for `m` latent, `n` hidden and `z` hyper-latent channels.
    pub fn new(m: usize, n: usize, z: usize, device: &Device) -> Self {
        Self {
            c1: conv(m, n, 3, 1, device),
            c2: conv(n, n, 5, 2, device),
            c3: conv(n, z, 5, 2, device),
        }
    }

    /// `[B, M, h, w] -> [B, Z, h/4, w/4]`.
    pub fn forward(&self, y: Tensor<4>) -> Tensor<4> {
        let x = leaky_relu(self.c1.forward(y), LEAKY_SLOPE);
        let x = leaky_relu(self.c2.forward(x), LEAKY_SLOPE);
        self.c3.forward(x)
    }
}
