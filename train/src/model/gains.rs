//! The trainable gain vectors of the variable rate (Cui et al. 2021); the codec interpolates
//! them between trained levels ([`lic_codec::internals::interpolate_gains`]).

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};

/// Gain and inverse-gain vectors, one row per trained quality level (low to high quality).
#[derive(Module, Debug)]
pub struct Gains {
    /// `[L, M]`, applied to `y`.
    pub gain: Param<Tensor<2>>,
    /// `[L, M]`, applied to `ŷ`.
    pub inverse: Param<Tensor<2>>,
}

impl Gains {
    /// Levels spaced a factor 2 apart around 1, inverse gains their reciprocals.
    pub fn new(levels: usize, channels: usize, device: &Device) -> Self {
        let centre = (levels as f32 - 1.0) / 2.0;
        let row = |l: usize| (l as f32 - centre).exp2();
        let gain: Vec<f32> = (0..levels)
            .flat_map(|l| std::iter::repeat_n(row(l), channels))
            .collect();
        let inverse: Vec<f32> = gain.iter().map(|g| 1.0 / g).collect();
        let t =
            |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [levels, channels]), device);
        Self {
            gain: Param::from_tensor(t(gain)),
            inverse: Param::from_tensor(t(inverse)),
        }
    }
}
