//! Convolution constructors shared by every network, so each file states only its shapes.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::tensor::Device;

/// Negative slope of every LeakyReLU in lic. A power of two, so the integer networks apply it
/// with an arithmetic shift ([`crate::int::LEAKY_SHIFT`]).
pub const LEAKY_SLOPE: f64 = 0.125;

/// `k x k` convolution with stride `stride` and "same" padding `k / 2`.
pub fn conv(cin: usize, cout: usize, k: usize, stride: usize, device: &Device) -> Conv2d {
    let p = k / 2;
    Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .init(device)
}

/// `k x k` transposed convolution that doubles the resolution (`k` odd, padding `k / 2`,
/// output padding 1).
pub fn upconv(cin: usize, cout: usize, k: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([cin, cout], [k, k])
        .with_stride([2, 2])
        .with_padding([k / 2, k / 2])
        .with_padding_out([1, 1])
        .init(device)
}
