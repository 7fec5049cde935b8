//! The Gaussian conditional model: one integer table per quantised scale.
//!
//! A latent `y` with predicted mean `mu` and scale `sigma` is coded as the symbol
//! `round(y - mu)` (the codec computes it in fixed point) under the table of the scale index
//! nearest to `sigma`. The table of index `k` holds the discretised zero-mean Gaussian of
//! scale `s_k = 2^((k - 24) / 8)`: [`SCALE_COUNT`] scales from 0.125 to 256, eight per octave
//! (CompressAI uses 64 scales from 0.11 to 256, about 5.6 per octave; the finer grid costs
//! nothing at run time and halves the scale-quantisation loss).
//!
//! Entry `r` (for `|r| <= R_k`, `R_k = ceil(TAIL_SIGMAS * s_k)`) has probability
//! `P(r - 1/2 < X < r + 1/2)`, the escape entry the two tails beyond `R_k + 1/2`, all
//! computed by `detmath` (bit-identical on every platform) and quantised by
//! [`crate::quantize_probabilities`]. Tables are built once per process.

use std::sync::OnceLock;

use crate::detmath::{normal_upper_tail, pow2_frac16};
use crate::table::{CdfTable, TableSet, quantize_probabilities};

/// Number of Gaussian tables (scale indices `0..SCALE_COUNT`).
pub const SCALE_COUNT: usize = 89;
/// Scale index whose scale is exactly 1.
const UNIT_SCALE_INDEX: i32 = 24;
/// Scale indices per octave of sigma.
pub const SCALES_PER_OCTAVE: u32 = 8;
/// Each table codes `|r| <= ceil(TAIL_SIGMAS * sigma)` directly; beyond that, the escape.
/// At 4.5 sigma the tail has probability 7e-6, so escapes are rare, while the table stays
/// small enough that its 1-unit floor on far-tail entries costs little rate.
pub const TAIL_SIGMAS: f64 = 4.5;

/// The scale of table `index`: `2^((index - 24) / 8)`.
pub fn scale_of_index(index: usize) -> f64 {
    pow2_frac16(2 * (index as i32 - UNIT_SCALE_INDEX))
}

/// Nearest scale index (in the log domain) of a scale given in Q16 fixed point
/// (`scale_q16 = round(sigma * 65536)`), clamped to the table range. Pure integer: encoder
/// and decoder agree on every platform.
pub fn scale_index_q16(scale_q16: u32) -> u16 {
    let thresholds = thresholds_q16();
    thresholds.partition_point(|&t| t <= scale_q16) as u16
}

/// Scale index of a log2-scale in fixed point (`log2(sigma) * 2^frac_bits`, rounded), for
/// entropy networks that predict log-scales: `round(8 * log2(sigma)) + 24`, clamped.
pub fn scale_index_log2(log2_scale: i32, frac_bits: u32) -> u16 {
    let frac_bits = frac_bits.min(30);
    let shifted = i64::from(log2_scale) * i64::from(SCALES_PER_OCTAVE);
    let half = if frac_bits == 0 {
        0
    } else {
        1i64 << (frac_bits - 1)
    };
    let k = ((shifted + half) >> frac_bits) + i64::from(UNIT_SCALE_INDEX);
    k.clamp(0, SCALE_COUNT as i64 - 1) as u16
}

/// Geometric midpoints between neighbouring scales, in Q16: `t_k = s_k * 2^(1/16)`.
fn thresholds_q16() -> &'static [u32; SCALE_COUNT - 1] {
    static T: OnceLock<[u32; SCALE_COUNT - 1]> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = [0u32; SCALE_COUNT - 1];
        for (k, slot) in t.iter_mut().enumerate() {
            let mid = pow2_frac16(2 * (k as i32 - UNIT_SCALE_INDEX) + 1);
            *slot = (mid * 65536.0 + 0.5).floor() as u32;
        }
        t
    })
}

/// The Gaussian tables, built on first use and shared by every encoder and decoder.
pub fn gaussian_tables() -> &'static TableSet {
    static TABLES: OnceLock<TableSet> = OnceLock::new();
    TABLES.get_or_init(|| {
        let tables = (0..SCALE_COUNT)
            .map(|k| gaussian_table(scale_of_index(k)))
            .collect();
        // 89 tables is within TableSet's bounds.
        TableSet::new(tables).unwrap_or_else(|_| unreachable!("89 tables are a valid set"))
    })
}

/// The discretised Gaussian `N(mean, sigma)` over the integers within `TAIL_SIGMAS` sigmas of
/// the mean, plus the escape entry: the table a factorized prior exports per channel. Built
/// from IEEE basic operations only, so every platform gets the same table from the same
/// `(mean, sigma)`.
///
/// # Errors
/// [`crate::Error::InvalidTable`] unless `mean` is finite with `|mean| <= 2^20` and `sigma` is
/// within `[0.05, 4096]`.
pub fn discretized_gaussian(mean: f64, sigma: f64) -> crate::Result<CdfTable> {
    let mean_ok = mean.is_finite() && mean.abs() <= f64::from(1u32 << 20);
    if !mean_ok || !(0.05..=4096.0).contains(&sigma) {
        return Err(crate::Error::InvalidTable(format!(
            "discretised Gaussian needs |mean| <= 2^20 and sigma in [0.05, 4096], got mean \
             {mean}, sigma {sigma}"
        )));
    }
    let lo = (mean - TAIL_SIGMAS * sigma).floor() as i32;
    let hi = (mean + TAIL_SIGMAS * sigma).ceil() as i32;
    let cdf = |x: f64| {
        let t = (x - mean) / sigma;
        if t < 0.0 {
            normal_upper_tail(-t)
        } else {
            1.0 - normal_upper_tail(t)
        }
    };
    let mut probs: Vec<f64> = (lo..=hi)
        .map(|k| (cdf(f64::from(k) + 0.5) - cdf(f64::from(k) - 0.5)).max(0.0))
        .collect();
    probs.push(cdf(f64::from(lo) - 0.5) + (1.0 - cdf(f64::from(hi) + 0.5)));
    let freqs = quantize_probabilities(&probs)?;
    CdfTable::from_frequencies(lo, &freqs)
}

fn gaussian_table(sigma: f64) -> CdfTable {
    let radius = ((TAIL_SIGMAS * sigma).ceil() as i32).max(1);
    let mut probs = Vec::with_capacity(2 * radius as usize + 2);
    for r in -radius..=radius {
        let a = f64::from(r.unsigned_abs()) - 0.5;
        let p = if r == 0 {
            1.0 - 2.0 * normal_upper_tail(0.5 / sigma)
        } else {
            normal_upper_tail(a / sigma) - normal_upper_tail((a + 1.0) / sigma)
        };
        probs.push(p);
    }
    probs.push(2.0 * normal_upper_tail((f64::from(radius) + 0.5) / sigma));
    // Valid by construction: 4..=2310 finite non-negative probabilities.
    let freqs = quantize_probabilities(&probs)
        .unwrap_or_else(|e| unreachable!("Gaussian table for sigma {sigma}: {e}"));
    CdfTable::from_frequencies(-radius, &freqs)
        .unwrap_or_else(|e| unreachable!("Gaussian table for sigma {sigma}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::PRECISION;

    /// FNV-1a over every table's canonical bytes. If this changes, every `.lic` file ever
    /// written decodes differently: that is a format change (bump the version).
    #[test]
    fn discretized_gaussian_is_centred_and_validated() {
        let t = discretized_gaussian(3.0, 1.0).unwrap();
        assert!(t.cost_bits(3) < t.cost_bits(2) && t.cost_bits(3) < t.cost_bits(4));
        assert!(t.min_symbol() <= -1 && t.max_symbol() >= 7);
        // A narrow prior concentrates almost everything on the nearest integer.
        assert!(discretized_gaussian(-2.2, 0.05).unwrap().cost_bits(-2) < 0.01);
        assert!(discretized_gaussian(f64::NAN, 1.0).is_err());
        assert!(discretized_gaussian(0.0, 0.0).is_err());
        assert!(discretized_gaussian(0.0, 1e6).is_err());
    }

    #[test]
    fn gaussian_tables_are_bit_identical_to_the_golden_hash() {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        gaussian_tables().for_each_canonical_byte_chunk(|bytes| {
            for &b in bytes {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        });
        assert_eq!(h, GOLDEN, "Gaussian tables changed: got {h:#018x}");
    }
    const GOLDEN: u64 = 0xc76c_88f2_d3f8_9db9;

    #[test]
    fn scales_span_the_documented_range() {
        assert_eq!(scale_of_index(0), 0.125);
        assert_eq!(scale_of_index(24), 1.0);
        assert_eq!(scale_of_index(SCALE_COUNT - 1), 256.0);
    }

    #[test]
    fn scale_index_is_nearest_in_log_domain() {
        for k in 0..SCALE_COUNT {
            let s = scale_of_index(k);
            let q16 = (s * 65536.0).round() as u32;
            assert_eq!(usize::from(scale_index_q16(q16)), k);
            // Just below / above the geometric midpoints.
            let up = (s * 1.04 * 65536.0) as u32;
            assert_eq!(usize::from(scale_index_q16(up)), k.min(SCALE_COUNT - 1));
            let log2 = (s.log2() * 256.0).round() as i32;
            assert_eq!(usize::from(scale_index_log2(log2, 8)), k);
        }
        assert_eq!(scale_index_q16(0), 0);
        assert_eq!(usize::from(scale_index_q16(u32::MAX)), SCALE_COUNT - 1);
        assert_eq!(scale_index_log2(i32::MIN, 8), 0);
        assert_eq!(usize::from(scale_index_log2(i32::MAX, 0)), SCALE_COUNT - 1);
    }

    /// What the integer tables cost over the ideal discretised Gaussian: KL divergence in
    /// bits per symbol, for every scale. The 1-unit floor on far-tail entries makes it grow
    /// with sigma; it stays a small fraction of the symbol's own entropy.
    #[test]
    fn table_rate_overhead_is_small() {
        for k in 0..SCALE_COUNT {
            let sigma = scale_of_index(k);
            let t = &gaussian_tables().tables()[k];
            let (mut kl, mut entropy) = (0.0, 0.0);
            for r in t.min_symbol()..=t.max_symbol() {
                let a = f64::from(r.unsigned_abs()) - 0.5;
                let p = if r == 0 {
                    1.0 - 2.0 * normal_upper_tail(0.5 / sigma)
                } else {
                    normal_upper_tail(a / sigma) - normal_upper_tail((a + 1.0) / sigma)
                };
                if p > 0.0 {
                    let q = f64::from(t.frequency(t.entry_of(r))) / f64::from(1u32 << PRECISION);
                    kl += p * (p / q).log2();
                    entropy -= p * p.log2();
                }
            }
            if sigma <= 16.0 {
                assert!(kl < 3e-4, "sigma {sigma}: {kl} bits/symbol over the ideal");
            } else {
                assert!(
                    kl < 1.5e-3 * entropy,
                    "sigma {sigma}: {kl} bits over {entropy}"
                );
            }
        }
    }
}
