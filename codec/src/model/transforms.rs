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
