//! Property tests of lic-entropy's streams: any symbols, any tables, any split into passes.

use lic_entropy::{
    CdfTable, Error, SCALE_COUNT, StreamDecoder, StreamEncoder, TableSet, decode, encode,
    gaussian_tables, quantize_probabilities,
};
use proptest::prelude::*;

mod common;

/// Symbols as a Gaussian codec produces them, plus occasional extremes.
fn symbol() -> impl Strategy<Value = i32> {
    prop_oneof![
        8 => -6i32..=6,
        3 => -300i32..=300,
        1 => any::<i32>(),
        1 => prop_oneof![Just(i32::MIN), Just(i32::MAX), Just(i32::MIN + 1), Just(i32::MAX - 1)],
    ]
}

fn symbols_and_scales() -> impl Strategy<Value = (Vec<i32>, Vec<u16>)> {
    prop::collection::vec((symbol(), 0..SCALE_COUNT as u16), 0..600)
        .prop_map(|v| v.into_iter().unzip())
}

/// A random factorized-prior table set: per channel a random range and random probabilities.
fn factorized_set() -> impl Strategy<Value = TableSet> {
    prop::collection::vec(
        (-40i32..10, prop::collection::vec(0.0f64..1.0, 1..60)),
        1..12,
    )
    .prop_map(|channels| {
        let tables = channels
            .into_iter()
            .map(|(min, mut probs)| {
                probs.push(1e-6); // escape
                probs[0] += 1e-3; // never all zero
                CdfTable::from_frequencies(min, &quantize_probabilities(&probs).unwrap()).unwrap()
            })
            .collect();
        TableSet::new(tables).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn gaussian_streams_round_trip((symbols, indices) in symbols_and_scales()) {
        let bytes = encode(gaussian_tables(), &symbols, &indices).unwrap();
        prop_assert_eq!(decode(gaussian_tables(), &bytes, &indices).unwrap(), symbols);
    }

    #[test]
    fn factorized_streams_round_trip(
        set in factorized_set(),
        raw in prop::collection::vec((symbol(), any::<u16>()), 0..400),
    ) {
        let (symbols, indices): (Vec<i32>, Vec<u16>) = raw
            .into_iter()
            .map(|(s, i)| (s, i % set.len() as u16))
            .unzip();
        let bytes = encode(&set, &symbols, &indices).unwrap();
        prop_assert_eq!(decode(&set, &bytes, &indices).unwrap(), symbols);
    }

    /// The stream does not depend on how the encoder's input was split, and the decoder can
    /// read it back in any other split: passes are free to differ in size.
    #[test]
    fn passes_can_be_split_anywhere(
        (symbols, indices) in symbols_and_scales(),
        enc_cut in 0.0f64..1.0,
        dec_cuts in prop::collection::vec(0.0f64..1.0, 0..5),
    ) {
        let n = symbols.len();
        let cut = (enc_cut * n as f64) as usize;
        let mut enc = StreamEncoder::new(gaussian_tables());
        enc.push(&symbols[..cut], &indices[..cut]).unwrap();
        enc.push(&symbols[cut..], &indices[cut..]).unwrap();
        let bytes = enc.finish().unwrap();
        prop_assert_eq!(&bytes, &encode(gaussian_tables(), &symbols, &indices).unwrap());

        let mut cuts: Vec<usize> = dec_cuts.iter().map(|c| (c * n as f64) as usize).collect();
        cuts.push(0);
        cuts.push(n);
        cuts.sort_unstable();
        let mut dec = StreamDecoder::new(gaussian_tables(), &bytes).unwrap();
        let mut out = Vec::new();
        for w in cuts.windows(2) {
            out.extend(dec.decode_vec(&indices[w[0]..w[1]]).unwrap());
        }
        dec.finish().unwrap();
        prop_assert_eq!(out, symbols);
    }

    /// Decoding arbitrary bytes never panics: it returns symbols or an error.
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        indices in prop::collection::vec(any::<u16>(), 0..300),
    ) {
        let _ = decode(gaussian_tables(), &bytes, &indices);
    }
}

#[test]
fn table_index_errors_name_the_range() {
    let err = encode(gaussian_tables(), &[0], &[SCALE_COUNT as u16]).unwrap_err();
    assert_eq!(
        err,
        Error::TableIndexOutOfRange {
            index: SCALE_COUNT,
            count: SCALE_COUNT
        }
    );
    assert!(err.to_string().contains("89 tables"));
}

/// Gaussian-distributed residuals cost close to their entropy: the tables, the escape and the
/// stream framing together waste little.
#[test]
fn rate_is_close_to_the_ideal() {
    let tables = gaussian_tables();
    let mut next = common::uniform_rng(0x2545_f491_4f6c_dd1d);
    let n = 200_000;
    let mut symbols = Vec::with_capacity(n);
    let mut indices = Vec::with_capacity(n);
    let mut ideal_bits = 0.0;
    for i in 0..n {
        let k = (i * 37 % 60) as u16; // scales 0.125 .. 22
        let sigma = lic_entropy::scale_of_index(usize::from(k));
        // Box-Muller.
        let (u1, u2) = (next().max(1e-300), next());
        let x = sigma * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let s = x.round() as i32;
        ideal_bits += tables.tables()[usize::from(k)].cost_bits(s);
        symbols.push(s);
        indices.push(k);
    }
    let bytes = encode(tables, &symbols, &indices).unwrap();
    let actual_bits = 8.0 * bytes.len() as f64;
    let ideal_with_escapes = ideal_bits; // escapes are below 1e-5 of symbols here
    assert!(
        actual_bits < ideal_with_escapes * 1.001 + 64.0,
        "actual {actual_bits} bits vs ideal {ideal_with_escapes}"
    );
    assert_eq!(decode(tables, &bytes, &indices).unwrap(), symbols);
}

/// Inputs that once broke the entropy fuzz target (`fuzz/regressions/entropy_decode/`).
#[test]
fn fuzz_regressions_stay_fixed() {
    for data in common::regression_inputs("entropy_decode") {
        lic_entropy::fuzzing::check_entropy(&data);
    }
}
