//! Entropy-coded streams: symbols + table indices in, bytes out, and back.
//!
//! One stream is one constriction `DefaultAnsCoder` (32-bit words, 64-bit state). ANS is a
//! stack, so [`StreamEncoder`] collects every symbol first and encodes them in reverse;
//! [`StreamDecoder`] then yields them in the original order, in as many calls as the codec
//! has passes (anchors of a channel group, then its non-anchors, then the next group...),
//! each call with table indices the codec computed from what was decoded before.
//!
//! **Escape.** A symbol outside its table's range codes the table's escape entry followed by
//! the overflow `m` (distance beyond the range, minus one, `0 <= m < 2^32`): one uniform bit
//! for the side, `b = bit length of m` uniform over `0..=32`, then the `b - 1` bits below the
//! leading one in uniform chunks of at most 16 bits. Every `i32` thus codes losslessly under
//! every table.
//!
//! **Bytes.** The coder's words are written little-endian; zero bytes at the very end (the
//! high bytes of the final word, which is never zero) are dropped, and the decoder restores
//! them. A non-empty stream therefore never ends in a zero byte.

use constriction::UnwrapInfallible;
use constriction::stream::model::UniformModel;
use constriction::stream::stack::DefaultAnsCoder;
use constriction::stream::{Decode, Encode};

use crate::table::{CdfTable, PRECISION, TableSet};
use crate::{Error, Result};

type Uniform = UniformModel<u32, PRECISION>;
const ESCAPE_CHUNK_BITS: u32 = 16;

/// Collects symbols for one stream and encodes them on [`StreamEncoder::finish`].
#[derive(Debug)]
pub struct StreamEncoder<'t> {
    tables: &'t TableSet,
    symbols: Vec<i32>,
    indices: Vec<u16>,
}

impl<'t> StreamEncoder<'t> {
    /// An empty stream coded with `tables`.
    pub fn new(tables: &'t TableSet) -> Self {
        Self {
            tables,
            symbols: Vec::new(),
            indices: Vec::new(),
        }
    }

    /// Appends `symbols[i]`, each to be coded with table `indices[i]`. Call once per pass,
    /// in the order the decoder will ask for them.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`], or [`Error::TableIndexOutOfRange`]; nothing is appended then.
    pub fn push(&mut self, symbols: &[i32], indices: &[u16]) -> Result<()> {
        check_lengths(symbols.len(), indices.len())?;
        check_indices(self.tables, indices)?;
        self.symbols.extend_from_slice(symbols);
        self.indices.extend_from_slice(indices);
        Ok(())
    }

    /// Number of symbols pushed so far.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// True when nothing was pushed (the stream will be 0 bytes).
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// Encodes everything pushed and returns the stream's bytes.
    ///
    /// # Errors
    /// None in practice: every table is valid and every `i32` has a code. The `Result` keeps
    /// an unexpected coder error from becoming a panic.
    pub fn finish(self) -> Result<Vec<u8>> {
        let mut coder = DefaultAnsCoder::new();
        for (&symbol, &index) in self.symbols.iter().zip(&self.indices).rev() {
            // Indices were validated in `push`.
            let table = self.tables.get(index)?;
            let entry = table.entry_of(symbol);
            if entry == table.escape_entry() {
                encode_escape_payload(&mut coder, table, symbol)?;
            }
            coder
                .encode_symbol(entry, table)
                .map_err(|_| Error::CorruptStream(IMPOSSIBLE))?;
        }
        let words = coder.into_compressed().unwrap_infallible();
        Ok(words_to_bytes(&words))
    }
}

const IMPOSSIBLE: &str = "the coder rejected a symbol of a valid table (bug)";

/// Decodes one stream in passes.
#[derive(Debug)]
pub struct StreamDecoder<'t> {
    tables: &'t TableSet,
    coder: DefaultAnsCoder,
}

impl<'t> StreamDecoder<'t> {
    /// Opens a stream produced by [`StreamEncoder::finish`].
    ///
    /// # Errors
    /// [`Error::CorruptStream`] when the bytes cannot be a stream (a non-empty stream never ends
    /// in a zero byte). Allocates at most `bytes.len()` bytes.
    pub fn new(tables: &'t TableSet, bytes: &[u8]) -> Result<Self> {
        if bytes.last() == Some(&0) {
            return Err(Error::CorruptStream("a stream never ends in a zero byte"));
        }
        let coder = DefaultAnsCoder::from_compressed(bytes_to_words(bytes))
            .map_err(|_| Error::CorruptStream("a stream never ends in a zero word"))?;
        Ok(Self { tables, coder })
    }

    /// Decodes `out.len()` symbols, the i-th with table `indices[i]`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`], [`Error::TableIndexOutOfRange`] (checked before decoding),
    /// or [`Error::CorruptStream`] when an escape decodes to a value outside `i32`. Corruption
    /// that stays inside the tables is caught by [`StreamDecoder::finish`] (and by the
    /// container's CRC before that).
    pub fn decode(&mut self, indices: &[u16], out: &mut [i32]) -> Result<()> {
        check_lengths(out.len(), indices.len())?;
        check_indices(self.tables, indices)?;
        let tables = self.tables.tables();
        for (slot, &index) in out.iter_mut().zip(indices) {
            let table = &tables[usize::from(index)];
            let entry = self.coder.decode_symbol(table).unwrap_infallible();
            *slot = if entry == table.escape_entry() {
                decode_escape_payload(&mut self.coder, table)?
            } else {
                // entry < escape_entry, so this is inside the table's i32 range.
                table.min_symbol() + entry as i32
            };
        }
        Ok(())
    }

    /// Convenience: decodes `indices.len()` symbols into a new vector.
    ///
    /// # Errors
    /// As [`StreamDecoder::decode`].
    pub fn decode_vec(&mut self, indices: &[u16]) -> Result<Vec<i32>> {
        let mut out = vec![0; indices.len()];
        self.decode(indices, &mut out)?;
        Ok(out)
    }

    /// Checks that the stream ended exactly where the last symbol did, with the coder back in
    /// its initial state. A stream decoded with the wrong tables, indices or symbol count, or
    /// corrupted, fails here (with probability about 1 - 2^-32).
    ///
    /// # Errors
    /// [`Error::CorruptStream`].
    pub fn finish(self) -> Result<()> {
        if self.coder.is_empty() && self.coder.bulk().is_empty() {
            Ok(())
        } else {
            Err(Error::CorruptStream("data left over after the last symbol"))
        }
    }
}

/// Encodes `symbols` with `indices` into one stream.
///
/// # Errors
/// As [`StreamEncoder::push`].
pub fn encode(tables: &TableSet, symbols: &[i32], indices: &[u16]) -> Result<Vec<u8>> {
    let mut enc = StreamEncoder::new(tables);
    enc.push(symbols, indices)?;
    enc.finish()
}

/// Decodes a whole stream written by [`encode`] and checks that it ends exactly there.
///
/// # Errors
/// As [`StreamDecoder::decode`] and [`StreamDecoder::finish`].
pub fn decode(tables: &TableSet, bytes: &[u8], indices: &[u16]) -> Result<Vec<i32>> {
    let mut dec = StreamDecoder::new(tables, bytes)?;
    let out = dec.decode_vec(indices)?;
    dec.finish()?;
    Ok(out)
}

fn check_lengths(symbols: usize, indices: usize) -> Result<()> {
    if symbols == indices {
        Ok(())
    } else {
        Err(Error::LengthMismatch { symbols, indices })
    }
}

fn check_indices(tables: &TableSet, indices: &[u16]) -> Result<()> {
    let count = tables.len();
    match indices.iter().copied().max() {
        Some(max) if usize::from(max) >= count => Err(Error::TableIndexOutOfRange {
            index: usize::from(max),
            count,
        }),
        _ => Ok(()),
    }
}

/// Pushes the escape payload (in reverse order, since ANS is a stack).
fn encode_escape_payload(coder: &mut DefaultAnsCoder, table: &CdfTable, symbol: i32) -> Result<()> {
    let (above, overflow) = if symbol > table.max_symbol() {
        (
            true,
            (i64::from(symbol) - i64::from(table.max_symbol()) - 1) as u32,
        )
    } else {
        (
            false,
            (i64::from(table.min_symbol()) - i64::from(symbol) - 1) as u32,
        )
    };
    let bits = 32 - overflow.leading_zeros();
    let mut chunks = [(0u32, 0u32); 2];
    let mut n_chunks = 0;
    if bits > 1 {
        let mut remaining = bits - 1;
        let low = overflow & ((1u32 << remaining) - 1);
        while remaining > 0 {
            let width = remaining.min(ESCAPE_CHUNK_BITS);
            remaining -= width;
            chunks[n_chunks] = ((low >> remaining) & ((1 << width) - 1), width);
            n_chunks += 1;
        }
    }
    let fail = |_| Error::CorruptStream(IMPOSSIBLE);
    for &(value, width) in chunks[..n_chunks].iter().rev() {
        coder
            .encode_symbol(value as usize, Uniform::new(1 << width))
            .map_err(fail)?;
    }
    coder
        .encode_symbol(bits as usize, Uniform::new(33))
        .map_err(fail)?;
    coder
        .encode_symbol(usize::from(above), Uniform::new(2))
        .map_err(fail)?;
    Ok(())
}

fn decode_escape_payload(coder: &mut DefaultAnsCoder, table: &CdfTable) -> Result<i32> {
    let above = coder.decode_symbol(Uniform::new(2)).unwrap_infallible() == 1;
    let bits = coder.decode_symbol(Uniform::new(33)).unwrap_infallible() as u32;
    let overflow: u64 = match bits {
        0 => 0,
        _ => {
            let mut value = 1u64;
            let mut remaining = bits - 1;
            while remaining > 0 {
                let width = remaining.min(ESCAPE_CHUNK_BITS);
                remaining -= width;
                let chunk = coder
                    .decode_symbol(Uniform::new(1 << width))
                    .unwrap_infallible();
                value = (value << width) | chunk as u64;
            }
            value
        }
    };
    let value = if above {
        i64::from(table.max_symbol()) + 1 + overflow as i64
    } else {
        i64::from(table.min_symbol()) - 1 - overflow as i64
    };
    i32::try_from(value).map_err(|_| Error::CorruptStream("escaped symbol outside i32"))
}

fn words_to_bytes(words: &[u32]) -> Vec<u8> {
    let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    bytes
}

fn bytes_to_words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gaussian_tables;

    #[test]
    fn empty_stream_is_empty() {
        let t = gaussian_tables();
        let bytes = encode(t, &[], &[]).unwrap();
        assert!(bytes.is_empty());
        assert_eq!(decode(t, &bytes, &[]).unwrap(), Vec::<i32>::new());
    }

    #[test]
    fn extremes_round_trip_under_every_table() {
        let t = gaussian_tables();
        let values = [
            i32::MIN,
            i32::MIN + 1,
            -65536,
            -1000,
            -3,
            -1,
            0,
            1,
            2,
            999,
            1 << 20,
            i32::MAX,
        ];
        let mut symbols = Vec::new();
        let mut indices = Vec::new();
        for k in 0..t.len() as u16 {
            for &v in &values {
                symbols.push(v);
                indices.push(k);
            }
        }
        let bytes = encode(t, &symbols, &indices).unwrap();
        assert_eq!(decode(t, &bytes, &indices).unwrap(), symbols);
    }

    #[test]
    fn decoding_in_passes_equals_decoding_at_once() {
        let t = gaussian_tables();
        let symbols: Vec<i32> = (0..1000).map(|i| (i * 7919 % 23) - 11).collect();
        let indices: Vec<u16> = (0..1000).map(|i| (i * 31 % 89) as u16).collect();
        let mut enc = StreamEncoder::new(t);
        enc.push(&symbols[..300], &indices[..300]).unwrap();
        enc.push(&symbols[300..], &indices[300..]).unwrap();
        let bytes = enc.finish().unwrap();
        assert_eq!(bytes, encode(t, &symbols, &indices).unwrap());
        let mut dec = StreamDecoder::new(t, &bytes).unwrap();
        let a = dec.decode_vec(&indices[..10]).unwrap();
        let b = dec.decode_vec(&indices[10..]).unwrap();
        dec.finish().unwrap();
        assert_eq!([a, b].concat(), symbols);
    }

    #[test]
    fn wrong_count_or_indices_are_detected() {
        let t = gaussian_tables();
        let symbols: Vec<i32> = (0..500).map(|i| (i % 9) - 4).collect();
        let indices = vec![30u16; 500];
        let bytes = encode(t, &symbols, &indices).unwrap();
        assert!(matches!(
            decode(t, &bytes, &indices[..499]),
            Err(Error::CorruptStream(_))
        ));
        assert!(decode(t, &bytes, &[10u16; 500]).is_err());
        assert!(matches!(
            decode(t, &bytes, &[200u16; 500]),
            Err(Error::TableIndexOutOfRange {
                index: 200,
                count: 89
            })
        ));
        assert!(matches!(
            encode(t, &[1, 2], &[0]),
            Err(Error::LengthMismatch { .. })
        ));
    }
}
