//! Analysis and synthesis transforms (image <-> latent `y` at 1/16 resolution).
//!
//! Follows the four-stage layout of Ballé et al. 2018 / Minnen et al. 2018 (5x5 stride-2
//! convolutions), with simplified GDN (Johnston et al. 2019) instead of GDN. ELIC (He et al.
//! 2022) adds residual blocks here at 574 kMAC/pixel; lic keeps the transforms at about
//! 40 kMAC/pixel each way so a Kodak image decodes in about a second on two CPU cores, and
//! spends its budget on the entropy model at 1/16 resolution instead (docs/MODEL.md).

use burn::module::Module;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::{Device, Tensor};

use super::gdn::SimplifiedGdn;
use super::layers::{conv, upconv};

/// `g_a`: RGB in `[0, 1]` to the latent.
#[derive(Module, Debug)]
pub struct Analysis {
    convs: Vec<Conv2d>,
    gdns: Vec<SimplifiedGdn>,
}

impl Analysis {
    /// `3 -> n -> n -> n -> m` channels, each stage halving the resolution.
    pub fn new(n: usize, m: usize, device: &Device) -> Self {
        Self {
            convs: vec![
                conv(3, n, 5, 2, device),
                conv(n, n, 5, 2, device),
                conv(n, n, 5, 2, device),
                conv(n, m, 5, 2, device),
            ],
            gdns: (0..3)
                .map(|_| SimplifiedGdn::new(n, false, device))
                .collect(),
        }
    }

    /// `[B, 3, H, W] -> [B, M, H/16, W/16]` (H, W multiples of 16).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = x;
        for (i, c) in self.convs.iter().enumerate() {
            x = c.forward(x);
            if let Some(g) = self.gdns.get(i) {
                x = g.forward(x);
            }
        }
        x
    }
}

/// `g_s`: latent to RGB (unclamped; callers clamp to `[0, 1]`).
#[derive(Module, Debug)]
pub struct Synthesis {
    convs: Vec<ConvTranspose2d>,
    igdns: Vec<SimplifiedGdn>,
}

impl Synthesis {
    /// `m -> n -> n -> n -> 3` channels, each stage doubling the resolution.
    pub fn new(n: usize, m: usize, device: &Device) -> Self {
        Self {
            convs: vec![
                upconv(m, n, 5, device),
                upconv(n, n, 5, device),
                upconv(n, n, 5, device),
                upconv(n, 3, 5, device),
            ],
            igdns: (0..3)
                .map(|_| SimplifiedGdn::new(n, true, device))
                .collect(),
        }
    }

    /// `[B, M, h, w] -> [B, 3, 16h, 16w]`.
    pub fn forward(&self, y: Tensor<4>) -> Tensor<4> {
        let mut x = y;
        for (i, c) in self.convs.iter().enumerate() {
            x = c.forward(x);
            if let Some(g) = self.igdns.get(i) {
                x = g.forward(x);
            }
        }
        x
    }
}

/// Output channels from which a layer of the synthesis runs in sub-pixel form (measured on
/// burn flex: faster for the 96-channel layers, slower for the 3-channel last one).
const SUB_PIXEL_MIN_OUT: usize = 32;

/// One upsampling layer as inference runs it.
// Four per model, built once: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum UpLayer {
    /// burn's transposed convolution, as trained.
    Transposed(ConvTranspose2d),
    /// The same layer as one 3×3 convolution that computes the four output phases side by
    /// side (`4 cout` channels, phase-major), then depth-to-space.
    SubPixel {
        weight: Tensor<4>,
        bias: Option<Tensor<1>>,
        cout: usize,
    },
}

impl UpLayer {
    /// The sub-pixel form of a stride-2 `5 x 5` transposed convolution with padding 2 and
    /// output padding 1 (`upconv`): output `2a + p` (phase `p`) takes input `a + d` through
    /// tap `p + 2 - 2d`, so each phase is a 3×3 convolution over offsets `d` in -1..=1 (taps
    /// outside the kernel are zero).
    fn sub_pixel(conv: &ConvTranspose2d) -> Self {
        let w = conv.weight.val();
        let [cin, cout, k, _] = w.dims();
        if k != 5 || cout < SUB_PIXEL_MIN_OUT {
            return Self::Transposed(conv.clone());
        }
        let device = w.device();
        let Ok(src) = w.into_data().convert::<f32>().try_into_vec::<f32>() else {
            return Self::Transposed(conv.clone());
        };
        let mut dst = vec![0f32; 4 * cout * cin * 9];
        for (py, px) in [(0usize, 0usize), (0, 1), (1, 0), (1, 1)] {
            let phase = py * 2 + px;
            for dy in 0..3 {
                let ty = (py + 4).checked_sub(2 * dy).filter(|&t| t < k);
                for dx in 0..3 {
                    let tx = (px + 4).checked_sub(2 * dx).filter(|&t| t < k);
                    let (Some(ty), Some(tx)) = (ty, tx) else {
                        continue;
                    };
                    for co in 0..cout {
                        for ci in 0..cin {
                            dst[(((phase * cout + co) * cin + ci) * 3 + dy) * 3 + dx] =
                                src[((ci * cout + co) * k + ty) * k + tx];
                        }
                    }
                }
            }
        }
        let weight = Tensor::from_data(
            burn::tensor::TensorData::new(dst, [4 * cout, cin, 3, 3]),
            &device,
        );
        let bias = conv.bias.as_ref().map(|b| Tensor::cat(vec![b.val(); 4], 0));
        Self::SubPixel { weight, bias, cout }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Self::Transposed(c) => c.forward(x),
            Self::SubPixel { weight, bias, cout } => {
                let [n, _, h, w] = x.dims();
                let options = burn::tensor::ops::ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
                burn::tensor::module::conv2d(x, weight.clone(), bias.clone(), options)
                    .reshape([n, 2, 2, *cout, h, w])
                    .permute([0, 3, 4, 1, 5, 2])
                    .reshape([n, *cout, 2 * h, 2 * w])
            }
        }
    }
}

/// The synthesis as decoding runs it: the trained [`Synthesis`] with its wide upsampling
/// layers in sub-pixel form (the same maths; the float results differ from the transposed
/// form's by rounding only). Decoded pixels never choose a symbol, so this changes no file.
#[derive(Debug, Clone)]
pub struct InferenceSynthesis {
    layers: Vec<UpLayer>,
    igdns: Vec<SimplifiedGdn>,
}

impl InferenceSynthesis {
    /// The inference form of `s`.
    pub fn new(s: &Synthesis) -> Self {
        Self {
            layers: s.convs.iter().map(UpLayer::sub_pixel).collect(),
            igdns: s.igdns.clone(),
        }
    }

    /// As [`Synthesis::forward`].
    pub fn forward(&self, y: Tensor<4>) -> Tensor<4> {
        let mut x = y;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if let Some(g) = self.igdns.get(i) {
                x = g.forward(x);
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;

    use super::*;

    #[test]
    fn the_sub_pixel_synthesis_computes_the_transposed_one() {
        let device = Device::flex();
        // Random trained-like weights; the 96-channel layers go sub-pixel, the last does not.
        let s = Synthesis::new(96, 128, &device);
        let fast = InferenceSynthesis::new(&s);
        assert_eq!(
            fast.layers
                .iter()
                .map(|l| matches!(l, UpLayer::SubPixel { .. }))
                .collect::<Vec<_>>(),
            [true, true, true, false]
        );
        for (h, w) in [(3, 5), (4, 4), (1, 2)] {
            let y = Tensor::<4>::random([1, 128, h, w], Distribution::Normal(0.0, 2.0), &device);
            let a = s.forward(y.clone());
            let b = fast.forward(y);
            assert_eq!(a.dims(), b.dims());
            let diff: f32 = (a.clone() - b).abs().max().into_scalar();
            let scale: f32 = a.abs().max().into_scalar();
            assert!(
                diff <= 1e-5 * scale.max(1.0),
                "{h}x{w}: {diff} (values up to {scale})"
            );
        }
    }
}
