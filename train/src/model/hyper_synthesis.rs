//! `h_s` in float: what training optimises and what export quantises. The codec runs it as an
//! integer network (lic-codec's `int` module); `h_a` is the codec's own
//! ([`lic_codec::internals::HyperAnalysis`]).

use burn::module::Module;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::activation::leaky_relu;
use burn::tensor::{Device, Tensor};
use lic_codec::internals::{LEAKY_SLOPE, conv, upconv};

/// `h_s`: decoded `z` to hyper features `psi` (2 channels per latent channel).
#[derive(Module, Debug)]
pub struct HyperSynthesis {
    /// 5x5 transposed, stride 2, `Z -> N`.
    pub d1: ConvTranspose2d,
    /// 5x5 transposed, stride 2, `N -> N`.
    pub d2: ConvTranspose2d,
    /// 1x1, `N -> 2M`.
    pub c3: Conv2d,
}

impl HyperSynthesis {
    /// Layers for `z` hyper-latent, `n` hidden and `m` latent channels.
    pub fn new(z: usize, n: usize, m: usize, device: &Device) -> Self {
        Self {
            d1: upconv(z, n, 5, device),
            d2: upconv(n, n, 5, device),
            c3: conv(n, 2 * m, 1, 1, device),
        }
    }

    /// `[B, Z, h/4, w/4] -> [B, 2M, h, w]`.
    pub fn forward(&self, z: Tensor<4>) -> Tensor<4> {
        let x = leaky_relu(self.d1.forward(z), LEAKY_SLOPE);
        let x = leaky_relu(self.d2.forward(x), LEAKY_SLOPE);
        self.c3.forward(x)
    }
}
