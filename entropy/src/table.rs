//! Integer probability tables: the only thing the rANS coder ever sees.
//!
//! A [`CdfTable`] covers a contiguous range of integer symbols `min_symbol..=max_symbol`
//! plus one **escape** entry; a symbol outside the range codes the escape and then its exact
//! value (see `stream.rs`), so any `i32` round-trips with any table. Frequencies are integers
//! summing to 2^[`PRECISION`], every one at least 1.
//!
//! Decoding needs the inverse CDF. A binary search over a few thousand entries costs ~40
//! cycles; instead each table keeps a small index of 2^[`BUCKET_BITS`] buckets giving the first
//! entry of each quantile range, so a lookup is one load plus, for wide tables, a short scan.
//! 256 buckets (512 bytes a table, 45 KiB for all Gaussian tables) measured fastest on the
//! mixed-scale bench: 106.6 M symbols/s against 99.6 M with 1024 and 93.6 M with 512, where
//! the larger index's cache misses cost more than the longer scans it saves
//! (docs/RESULTS.md).

use core::num::NonZeroU32;

use constriction::stream::model::{DecoderModel, EncoderModel, EntropyModel};

use crate::{Error, Result};

/// Fixed-point precision of every table: frequencies sum to `1 << PRECISION`.
pub const PRECISION: usize = 16;
/// `1 << PRECISION`.
pub const TOTAL: u32 = 1 << PRECISION;
/// log2 of the number of quantile buckets of each table's decoding index.
pub const BUCKET_BITS: u32 = 8;
const BUCKET_SHIFT: u32 = PRECISION as u32 - BUCKET_BITS;

/// An integer CDF over `min_symbol..=max_symbol` plus an escape entry (the last entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdfTable {
    min_symbol: i32,
    /// `cdf[i]` = sum of the frequencies of entries `0..i`; `cdf.len()` = entries + 1 and the
    /// last value is [`TOTAL`]. Strictly increasing.
    cdf: Box<[u32]>,
    /// `buckets[b]` = the entry that holds quantile `b << BUCKET_SHIFT`.
    buckets: Box<[u16]>,
}

impl CdfTable {
    /// Builds a table from integer frequencies; `frequencies.last()` is the escape entry and
    /// `frequencies[i]` (for `i < len - 1`) belongs to symbol `min_symbol + i`.
    ///
    /// # Errors
    /// [`Error::InvalidTable`] unless there are 2..=2^16 frequencies, each at least 1, summing to
    /// exactly [`TOTAL`], with `min_symbol + len - 2` inside `i32`.
    pub fn from_frequencies(min_symbol: i32, frequencies: &[u32]) -> Result<Self> {
        let n = frequencies.len();
        if !(2..=TOTAL as usize).contains(&n) {
            return Err(Error::InvalidTable(format!(
                "{n} entries; a table needs 2..={TOTAL} (symbols plus the escape)"
            )));
        }
        if i64::from(min_symbol) + (n as i64 - 2) > i64::from(i32::MAX) {
            return Err(Error::InvalidTable(format!(
                "symbol range {min_symbol} + {} overflows i32",
                n - 2
            )));
        }
        let mut cdf = Vec::with_capacity(n + 1);
        let mut acc: u64 = 0;
        for (i, &f) in frequencies.iter().enumerate() {
            if f == 0 {
                return Err(Error::InvalidTable(format!(
                    "entry {i} has frequency 0; every entry needs at least 1"
                )));
            }
            cdf.push(acc as u32);
            acc += u64::from(f);
            if acc > u64::from(TOTAL) {
                break;
            }
        }
        if acc != u64::from(TOTAL) {
            return Err(Error::InvalidTable(format!(
                "frequencies sum to {acc}{}, not {TOTAL}",
                if acc > u64::from(TOTAL) {
                    " or more"
                } else {
                    ""
                }
            )));
        }
        cdf.push(TOTAL);
        let mut buckets = Vec::with_capacity(1 << BUCKET_BITS);
        let mut entry = 0usize;
        for b in 0..(1u32 << BUCKET_BITS) {
            let q = b << BUCKET_SHIFT;
            while cdf[entry + 1] <= q {
                entry += 1;
            }
            buckets.push(entry as u16);
        }
        Ok(Self {
            min_symbol,
            cdf: cdf.into_boxed_slice(),
            buckets: buckets.into_boxed_slice(),
        })
    }

    /// Smallest symbol coded without escape.
    pub fn min_symbol(&self) -> i32 {
        self.min_symbol
    }

    /// Largest symbol coded without escape.
    pub fn max_symbol(&self) -> i32 {
        // Cannot overflow: checked in `from_frequencies`.
        self.min_symbol + (self.entries() as i32 - 2)
    }

    /// Number of entries, the escape included.
    pub fn entries(&self) -> usize {
        self.cdf.len() - 1
    }

    /// Index of the escape entry.
    pub(crate) fn escape_entry(&self) -> usize {
        self.entries() - 1
    }

    /// Frequency of entry `i` (the escape is the last entry).
    pub fn frequency(&self, entry: usize) -> u32 {
        self.cdf[entry + 1] - self.cdf[entry]
    }

    /// Entry of `symbol`, or the escape entry when it lies outside the range.
    #[inline(always)]
    pub(crate) fn entry_of(&self, symbol: i32) -> usize {
        let offset = i64::from(symbol) - i64::from(self.min_symbol);
        if offset >= 0 && (offset as usize) < self.escape_entry() {
            offset as usize
        } else {
            self.escape_entry()
        }
    }

    /// Ideal code length of `symbol` under this table in bits, escape payload excluded.
    pub fn cost_bits(&self, symbol: i32) -> f64 {
        let f = self.frequency(self.entry_of(symbol));
        f64::from(PRECISION as u32) - f64::from(f).log2()
    }
}

impl EntropyModel<PRECISION> for CdfTable {
    type Symbol = usize;
    type Probability = u32;
}

impl EncoderModel<PRECISION> for CdfTable {
    #[inline(always)]
    fn left_cumulative_and_probability(
        &self,
        entry: impl core::borrow::Borrow<usize>,
    ) -> Option<(u32, NonZeroU32)> {
        let i = *entry.borrow();
        let left = *self.cdf.get(i)?;
        let right = *self.cdf.get(i + 1)?;
        Some((left, NonZeroU32::new(right - left)?))
    }
}

impl DecoderModel<PRECISION> for CdfTable {
    #[inline(always)]
    fn quantile_function(&self, quantile: u32) -> (usize, u32, NonZeroU32) {
        // `quantile < TOTAL` (constriction guarantees it) and `cdf[last] == TOTAL`, so the scan
        // stops inside the table.
        let mut i = usize::from(self.buckets[(quantile >> BUCKET_SHIFT) as usize]);
        while self.cdf[i + 1] <= quantile {
            i += 1;
        }
        let left = self.cdf[i];
        // Frequencies are >= 1 by construction; the fallback is unreachable.
        let p = NonZeroU32::new(self.cdf[i + 1] - left).unwrap_or(NonZeroU32::MIN);
        (i, left, p)
    }
}

/// A set of tables addressed by a `u16` index: the Gaussian scale tables, or one factorized
/// table per hyper-latent channel. Built once per model and shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSet {
    tables: Vec<CdfTable>,
}

impl TableSet {
    /// A set from already built tables.
    ///
    /// # Errors
    /// [`Error::InvalidTable`] for an empty set or more than 65536 tables.
    pub fn new(tables: Vec<CdfTable>) -> Result<Self> {
        if tables.is_empty() || tables.len() > usize::from(u16::MAX) + 1 {
            return Err(Error::InvalidTable(format!(
                "a table set holds 1..=65536 tables, got {}",
                tables.len()
            )));
        }
        Ok(Self { tables })
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Always false: a set has at least one table.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The table at `index`.
    ///
    /// # Errors
    /// [`Error::TableIndexOutOfRange`].
    #[inline(always)]
    pub fn get(&self, index: u16) -> Result<&CdfTable> {
        self.tables
            .get(usize::from(index))
            .ok_or(Error::TableIndexOutOfRange {
                index: usize::from(index),
                count: self.len(),
            })
    }

    /// All tables, in index order.
    pub fn tables(&self) -> &[CdfTable] {
        &self.tables
    }

    /// Feeds every table's symbol range and frequencies into `f`, in a fixed order: the
    /// bytes a model fingerprint hashes.
    pub fn for_each_canonical_byte_chunk(&self, mut f: impl FnMut(&[u8])) {
        f(&(self.tables.len() as u32).to_le_bytes());
        for t in &self.tables {
            f(&t.min_symbol.to_le_bytes());
            f(&(t.entries() as u32).to_le_bytes());
            for c in t.cdf.iter() {
                f(&c.to_le_bytes());
            }
        }
    }
}

/// Turns non-negative floating-point probabilities into integer frequencies summing to
/// [`TOTAL`], each at least 1: `max(1, round(p * TOTAL / sum))`, then the difference to
/// [`TOTAL`] is taken from (or given to) the largest entries, one unit at a time in order of
/// decreasing frequency (ties: lower index first).
///
/// Deterministic for given input bits; used once per model (the Gaussian tables, and a trained
/// model's factorized prior at export), never per image.
///
/// # Errors
/// [`Error::InvalidTable`] for fewer than 2 or more than [`TOTAL`] entries, or probabilities
/// that are negative, not finite or all zero.
pub fn quantize_probabilities(probabilities: &[f64]) -> Result<Vec<u32>> {
    let n = probabilities.len();
    if !(2..=TOTAL as usize).contains(&n) {
        return Err(Error::InvalidTable(format!(
            "{n} probabilities; need 2..={TOTAL}"
        )));
    }
    let mut sum = 0.0;
    for &p in probabilities {
        if !(p.is_finite() && p >= 0.0) {
            return Err(Error::InvalidTable(format!(
                "probability {p} is not finite and >= 0"
            )));
        }
        sum += p;
    }
    if !(sum > 0.0 && sum.is_finite()) {
        return Err(Error::InvalidTable("probabilities sum to 0".into()));
    }
    let scale = f64::from(TOTAL) / sum;
    let mut freq: Vec<i64> = probabilities
        .iter()
        .map(|&p| ((p * scale + 0.5).floor() as i64).max(1))
        .collect();
    let mut diff = i64::from(TOTAL) - freq.iter().sum::<i64>();
    if diff != 0 {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| freq[b].cmp(&freq[a]).then(a.cmp(&b)));
        if diff > 0 {
            freq[order[0]] += diff;
        } else {
            // Each pass takes one unit from every entry still above 1, largest first; n <= TOTAL
            // guarantees this ends.
            while diff < 0 {
                let mut took = false;
                for &i in &order {
                    if diff == 0 {
                        break;
                    }
                    if freq[i] > 1 {
                        freq[i] -= 1;
                        diff += 1;
                        took = true;
                    }
                }
                if !took {
                    return Err(Error::InvalidTable(
                        "too many entries for the precision".into(),
                    ));
                }
            }
        }
    }
    Ok(freq.into_iter().map(|f| f as u32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_invalid_frequencies() {
        assert!(CdfTable::from_frequencies(0, &[TOTAL]).is_err()); // no escape
        assert!(CdfTable::from_frequencies(0, &[TOTAL - 1, 0, 1]).is_err()); // zero entry
        assert!(CdfTable::from_frequencies(0, &[TOTAL, 1]).is_err()); // sum too large
        assert!(CdfTable::from_frequencies(0, &[100, 1]).is_err()); // sum too small
        assert!(CdfTable::from_frequencies(i32::MAX, &[TOTAL - 2, 1, 1]).is_err()); // overflow
        assert!(CdfTable::from_frequencies(i32::MAX, &[TOTAL - 1, 1]).is_ok());
    }

    #[test]
    fn quantile_function_inverts_the_cdf() {
        let freqs = quantize_probabilities(&[0.5, 0.25, 1e-9, 0.2, 0.05, 1e-12]).unwrap();
        let t = CdfTable::from_frequencies(-2, &freqs).unwrap();
        for q in 0..TOTAL {
            let (i, left, p) = t.quantile_function(q);
            assert!(left <= q && q < left + p.get(), "quantile {q}");
            assert_eq!(t.left_cumulative_and_probability(i), Some((left, p)));
        }
        assert_eq!(t.max_symbol(), 2);
        assert_eq!(t.entry_of(-3), 5);
        assert_eq!(t.entry_of(3), 5);
        assert_eq!(t.entry_of(0), 2);
    }

    #[test]
    fn quantization_sums_exactly_and_keeps_every_entry() {
        let mut probs = vec![1e-30; 3000];
        probs[1500] = 1.0;
        let f = quantize_probabilities(&probs).unwrap();
        assert_eq!(
            f.iter().map(|&x| u64::from(x)).sum::<u64>(),
            u64::from(TOTAL)
        );
        assert!(f.iter().all(|&x| x >= 1));
        let uniform = quantize_probabilities(&vec![1.0; TOTAL as usize]).unwrap();
        assert!(uniform.iter().all(|&x| x == 1));
        assert!(quantize_probabilities(&vec![1.0; TOTAL as usize + 1]).is_err());
        assert!(quantize_probabilities(&[0.0, 0.0]).is_err());
        assert!(quantize_probabilities(&[f64::NAN, 1.0]).is_err());
    }
}
