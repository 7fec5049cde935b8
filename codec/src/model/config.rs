//! The architecture's hyper-parameters, stored in every model file.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest channel count of any part that a model file may ask for.
const MAX_CHANNELS: usize = 1024;
/// Largest number of channel groups.
const MAX_GROUPS: usize = 32;
/// Largest number of trained quality levels.
const MAX_QUALITY_LEVELS: usize = 64;

/// Sizes of a lic model. The defaults are the shipped architecture; tests use [`Self::tiny`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    /// Width of the analysis/synthesis transforms (`N`).
    pub transform_channels: usize,
    /// Channels of the latent `y` at 1/16 resolution (`M`).
    pub latent_channels: usize,
    /// Channels of the hyper-latent `z` at 1/64 resolution.
    pub hyper_channels: usize,
    /// Uneven channel groups of `y`, coded one after the other; they sum to `latent_channels`.
    pub groups: Vec<usize>,
    /// Trained quality levels; `q` in 0..=100 interpolates between their gain vectors.
    pub quality_levels: usize,
}

impl Default for Architecture {
    fn default() -> Self {
        Self {
            transform_channels: 128,
            latent_channels: 192,
            hyper_channels: 128,
            groups: vec![16, 16, 32, 64, 64],
            quality_levels: 6,
        }
    }
}

impl Architecture {
    /// About a third of the default's cost: for CPU-only training budgets, where a smaller
    /// model converges further in the same hours (docs/MODEL.md compares them).
    pub fn small() -> Self {
        Self {
            transform_channels: 96,
            latent_channels: 128,
            hyper_channels: 96,
            groups: vec![16, 16, 32, 64],
            quality_levels: 6,
        }
    }

    /// [`Self::small`]'s transforms with the default architecture's latent (M 192, groups
    /// 16, 16, 32, 64, 64): what `small` grows into (`lic train --init` with a wider `--architecture`). A 128-number
    /// latent per 16x16 block bounds the quality at high rates (docs/MODEL.md); the 64
    /// channels more cost 3.4 kMAC per decoded pixel.
    pub fn small_wide() -> Self {
        Self {
            latent_channels: 192,
            groups: vec![16, 16, 32, 64, 64],
            ..Self::small()
        }
    }

    /// A model small enough for unit tests (a few thousand parameters).
    pub fn tiny() -> Self {
        Self {
            transform_channels: 8,
            latent_channels: 12,
            hyper_channels: 8,
            groups: vec![2, 4, 6],
            quality_levels: 3,
        }
    }

    /// Checks the sizes are consistent and within what a decoder accepts from a file.
    ///
    /// # Errors
    /// [`Error::InvalidArchitecture`] naming the size that is wrong and its valid range.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field: &'static str, value: String, expected: String| {
            Err(Error::InvalidArchitecture {
                field,
                value,
                expected,
            })
        };
        for (field, v) in [
            ("transform_channels", self.transform_channels),
            ("latent_channels", self.latent_channels),
            ("hyper_channels", self.hyper_channels),
        ] {
            if !(1..=MAX_CHANNELS).contains(&v) {
                return invalid(field, v.to_string(), format!("1..={MAX_CHANNELS}"));
            }
        }
        if self.groups.is_empty() || self.groups.len() > MAX_GROUPS || self.groups.contains(&0) {
            return invalid(
                "groups",
                format!("{:?}", self.groups),
                format!("1..={MAX_GROUPS} non-empty channel groups"),
            );
        }
        let sum: usize = self.groups.iter().sum();
        if sum != self.latent_channels {
            return invalid(
                "groups",
                format!("{:?} (sum {sum})", self.groups),
                format!(
                    "groups summing to latent_channels ({})",
                    self.latent_channels
                ),
            );
        }
        if !(1..=MAX_QUALITY_LEVELS).contains(&self.quality_levels) {
            return invalid(
                "quality_levels",
                self.quality_levels.to_string(),
                format!("1..={MAX_QUALITY_LEVELS}"),
            );
        }
        Ok(())
    }

    /// First latent channel of each group.
    pub fn group_offsets(&self) -> Vec<usize> {
        self.groups
            .iter()
            .scan(0, |acc, &c| {
                let start = *acc;
                *acc += c;
                Some(start)
            })
            .collect()
    }
}

/// Multiply-accumulates per image pixel of each part, counted from the layer shapes (what the
/// code executes, including the integer networks' two checkerboard passes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Complexity {
    /// `g_a` (encoder only).
    pub analysis: f64,
    /// `h_a` (encoder only).
    pub hyper_analysis: f64,
    /// `h_s` plus every group's context and aggregation networks (both sides, integer).
    pub entropy_params: f64,
    /// `g_s` (decoder; the encoder runs it only for `--metrics`).
    pub synthesis: f64,
}

impl Complexity {
    /// MACs per pixel to encode.
    pub fn encoder(&self) -> f64 {
        self.analysis + self.hyper_analysis + self.entropy_params
    }

    /// MACs per pixel to decode.
    pub fn decoder(&self) -> f64 {
        self.entropy_params + self.synthesis
    }
}

impl Architecture {
    /// MACs per image pixel of each part.
    pub fn complexity(&self) -> Complexity {
        let (n, m, z) = (
            self.transform_channels as f64,
            self.latent_channels as f64,
            self.hyper_channels as f64,
        );
        // A layer at resolution 1/r (of each side) costs macs / r^2 per pixel.
        let at = |r: f64, macs: f64| macs / (r * r);
        let gdn = n * n * (at(2.0, 1.0) + at(4.0, 1.0) + at(8.0, 1.0));
        let analysis = at(2.0, 25.0 * 3.0 * n)
            + at(4.0, 25.0 * n * n)
            + at(8.0, 25.0 * n * n)
            + at(16.0, 25.0 * n * m)
            + gdn;
        // Transposed convolutions: cin * cout * k^2 per *input* position.
        let synthesis = at(16.0, 25.0 * m * n)
            + at(8.0, 25.0 * n * n)
            + at(4.0, 25.0 * n * n)
            + at(2.0, 25.0 * n * 3.0)
            + gdn;
        let hyper_analysis =
            at(16.0, 9.0 * m * n) + at(32.0, 25.0 * n * n) + at(64.0, 25.0 * n * z);
        let mut entropy = at(64.0, 25.0 * z * n) + at(32.0, 25.0 * n * n) + at(16.0, 2.0 * m * n);
        for (&o, &c) in self.group_offsets().iter().zip(&self.groups) {
            let (o, c) = (o as f64, c as f64);
            let inputs = if o == 0.0 { 4.0 * c } else { 6.0 * c };
            let channel = 9.0 * o * 2.0 * c;
            let spatial = 25.0 * c * 2.0 * c;
            let agg = inputs * 4.0 * c + 4.0 * c * 3.0 * c + 3.0 * c * 2.0 * c;
            entropy += at(16.0, channel + spatial + 2.0 * agg);
        }
        Complexity {
            analysis,
            hyper_analysis,
            entropy_params: entropy,
            synthesis,
        }
    }
}
