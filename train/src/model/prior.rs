//! The factorized prior of `z`: one discretised Gaussian per channel with learned location
//! and log2-scale. Ballé et al. 2018 use a non-parametric density per channel; a Gaussian is
//! enough here because `z` carries a few percent of the bits, and its tables are exported as
//! integer CDFs when the model is saved (no separate "update" step to forget).

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use lic_entropy::{CdfTable, discretized_gaussian};

/// Smallest and largest scale a channel's prior may take when exported.
pub const PRIOR_SCALE_RANGE: (f64, f64) = (0.05, 4096.0);

/// Per-channel location and log2-scale of `z`.
#[derive(Module, Debug)]
pub struct FactorizedPrior {
    /// `[Z]`.
    pub location: Param<Tensor<1>>,
    /// `[Z]`, `log2(sigma)`.
    pub log2_scale: Param<Tensor<1>>,
}

impl FactorizedPrior {
    /// Location 0, scale 1 for every channel.
    pub fn new(channels: usize, device: &Device) -> Self {
        Self {
            location: Param::from_tensor(Tensor::zeros([channels], device)),
            log2_scale: Param::from_tensor(Tensor::zeros([channels], device)),
        }
    }
}

/// The integer table of one channel. Exported once and stored in the model file, so the
/// float maths here need not be bit-identical across platforms.
///
/// # Errors
/// From [`discretized_gaussian`] when the location is absurd.
pub fn channel_table(location: f32, log2_scale: f32) -> lic_entropy::Result<CdfTable> {
    let sigma = f64::from(log2_scale)
        .exp2()
        .clamp(PRIOR_SCALE_RANGE.0, PRIOR_SCALE_RANGE.1);
    discretized_gaussian(f64::from(location), sigma)
}
