//! The integer entropy-parameter networks: everything that chooses a probability table.
//!
//! Float arithmetic differs between devices, compilers and thread counts, and a different
//! table index desynchronises the rANS decoder: a file would decode to garbage. So `h_s`, the
//! channel and checkerboard contexts and the parameter aggregation run here, on the CPU, in
//! integers only:
//!
//! - activations are `i32` fixed point with [`FRAC_BITS`] fractional bits, saturated to
//!   `±`[`ACTIVATION_LIMIT`] after every layer;
//! - weights are `i32` with at most [`WEIGHT_LIMIT`] magnitude and a per-output-channel
//!   power-of-two scale `2^shift`, biases are pre-scaled to `2^(FRAC_BITS + shift)`;
//! - products and sums wrap modulo 2^32 (they cannot overflow for any realistic input, and
//!   if a hostile one makes them, encoder and decoder still wrap identically);
//! - the result of a layer is `(acc + bias + 2^(shift-1)) >> shift` (arithmetic shift);
//! - LeakyReLU's slope 1/8 is `x >> 3` ([`LEAKY_SHIFT`]).
//!
//! Integer addition is associative, so the rayon split over output channels gives the same
//! bits with any number of threads.

mod conv;
mod entropy;
mod quant;

pub(crate) use entropy::{IntEntropyModel, PassParams, TemporalContext};
pub use entropy::{Z_TABLES, tables_from_i32, tables_to_i32};
pub use quant::{
    IntLayerSpec, LayerKind, QuantizedLayer, dequantize, integer_layers, quantize, temporal_layers,
    temporal_width,
};

/// Fractional bits of every activation, mean and log2-scale.
pub const FRAC_BITS: u32 = 8;
/// Activations are saturated to `±ACTIVATION_LIMIT` (±4096.0). Wide enough for every latent
/// value a real image produces at q 100 (several hundred), narrow enough that a product with
/// a weight (`< 2^10`) stays below 2^30. Format version 1 saturated at ±128.0, which clipped
/// the contexts of high-quality encodes: kodim20 cost 2.99 bpp at q 100 instead of 1.78.
pub const ACTIVATION_LIMIT: i32 = (1 << 20) - 1;
/// Largest quantised weight magnitude (11 significant bits).
pub const WEIGHT_LIMIT: i32 = (1 << 10) - 1;
/// Largest per-channel weight shift.
pub const MAX_SHIFT: u32 = 16;
/// LeakyReLU's negative slope as a right shift (slope `2^-3`, [`crate::model::LEAKY_SLOPE`]).
pub const LEAKY_SHIFT: u32 = 3;

/// A `C x H x W` integer feature map (batch of one), channel-major. Its fields are the
/// codec's: a map always holds `c * h * w` values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntMap {
    pub(crate) c: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) data: Vec<i32>,
}

impl IntMap {
    /// `[channels, rows, columns]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.c, self.h, self.w]
    }

    /// The values, channel-major, rows in order.
    pub fn data(&self) -> &[i32] {
        &self.data
    }

    /// All zeros.
    pub(crate) fn zeros(c: usize, h: usize, w: usize) -> Self {
        Self {
            c,
            h,
            w,
            data: vec![0; c * h * w],
        }
    }

    /// Channels `start..start + count` as a new map.
    pub(crate) fn channels(&self, start: usize, count: usize) -> Self {
        let plane = self.h * self.w;
        Self {
            c: count,
            h: self.h,
            w: self.w,
            data: self.data[start * plane..(start + count) * plane].to_vec(),
        }
    }

    /// Channel `c` as a slice.
    pub(crate) fn plane(&self, c: usize) -> &[i32] {
        let plane = self.h * self.w;
        &self.data[c * plane..(c + 1) * plane]
    }

    /// Channel `c` as a mutable slice.
    pub(crate) fn plane_mut(&mut self, c: usize) -> &mut [i32] {
        let plane = self.h * self.w;
        &mut self.data[c * plane..(c + 1) * plane]
    }

    /// Concatenation along channels; `None` for no maps or maps of different sizes.
    pub(crate) fn cat(parts: &[&IntMap]) -> Option<Self> {
        let (h, w) = parts.first().map(|p| (p.h, p.w))?;
        if parts.iter().any(|p| (p.h, p.w) != (h, w)) {
            return None;
        }
        let mut data = Vec::with_capacity(parts.iter().map(|p| p.data.len()).sum());
        for p in parts {
            data.extend_from_slice(&p.data);
        }
        Some(Self {
            c: parts.iter().map(|p| p.c).sum(),
            h,
            w,
            data,
        })
    }
}

/// Saturates a value to the activation range.
#[inline]
pub(crate) fn saturate(v: i32) -> i32 {
    v.clamp(-ACTIVATION_LIMIT, ACTIVATION_LIMIT)
}

/// Integer LeakyReLU with slope `2^-LEAKY_SHIFT`.
#[inline]
pub(crate) fn leaky(v: i32) -> i32 {
    if v < 0 { v >> LEAKY_SHIFT } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_concatenate_along_channels_and_refuse_what_does_not_fit() {
        let a = IntMap {
            c: 1,
            h: 2,
            w: 1,
            data: vec![1, 2],
        };
        let b = IntMap {
            c: 2,
            h: 2,
            w: 1,
            data: vec![3, 4, 5, 6],
        };
        let ab = IntMap::cat(&[&a, &b]).unwrap();
        assert_eq!(
            (ab.shape(), ab.data()),
            ([3, 2, 1], &[1, 2, 3, 4, 5, 6][..])
        );
        // No maps, or maps of different sizes: nothing to concatenate, not a panic.
        assert_eq!(IntMap::cat(&[]), None);
        assert_eq!(IntMap::cat(&[&a, &IntMap::zeros(1, 1, 2)]), None);
    }
}
