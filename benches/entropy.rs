//! Throughput of lic-entropy (issue target: >= 100 M symbols/s decode, >= 40 M symbols/s
//! encode, one core, Gaussian-conditional symbols with mixed scales).
//!
//! Run: `cargo bench -p lic-entropy --bench entropy`. Figures go to docs/RESULTS.md.
//!
//! The workload: 1 M residuals, each with a scale index drawn uniformly from 0..=56
//! (sigma 0.125 to 16, the range where a learned codec's latents live) and a value drawn from
//! that Gaussian, rounded. "constriction raw" codes the same symbols with constriction's own
//! `ContiguousCategoricalEntropyModel` built from the same integer tables (binary-search
//! decoding, no escape handling): the coder's speed without lic's table layer.

use constriction::UnwrapInfallible;
use constriction::stream::Decode;
use constriction::stream::model::ContiguousCategoricalEntropyModel;
use constriction::stream::stack::DefaultAnsCoder;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lic_entropy::{
    CdfTable, StreamDecoder, decode, encode, gaussian_tables, quantize_probabilities,
    scale_of_index,
};
use std::hint::black_box;

#[path = "../tests/common/mod.rs"]
mod common;

const N: usize = 1_000_000;
const MAX_INDEX: u16 = 56;

fn workload() -> (Vec<i32>, Vec<u16>) {
    let mut uniform = common::uniform_rng(0x9e37_79b9_7f4a_7c15);
    (0..N)
        .map(|_| {
            let k = ((uniform() * f64::from(MAX_INDEX + 1)) as u16).min(MAX_INDEX);
            let (u1, u2) = (uniform().max(1e-300), uniform());
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            ((z * scale_of_index(usize::from(k))).round() as i32, k)
        })
        .unzip()
}

fn gaussian(c: &mut Criterion) {
    let tables = gaussian_tables();
    let (symbols, indices) = workload();
    let bytes = encode(tables, &symbols, &indices).unwrap();
    eprintln!(
        "workload: {N} symbols, {:.4} bits/symbol",
        8.0 * bytes.len() as f64 / N as f64
    );

    let mut g = c.benchmark_group("gaussian_mixed_scales");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    g.bench_function("lic encode", |b| {
        b.iter(|| encode(tables, black_box(&symbols), black_box(&indices)).unwrap())
    });
    let mut out = vec![0i32; N];
    g.bench_function("lic decode", |b| {
        b.iter(|| {
            let mut dec = StreamDecoder::new(tables, black_box(&bytes)).unwrap();
            dec.decode(black_box(&indices), &mut out).unwrap();
            dec.finish().unwrap();
        })
    });
    assert_eq!(out, symbols);

    // constriction's own categorical model over the same integer frequencies.
    let raw_models: Vec<ContiguousCategoricalEntropyModel<u32, Vec<u32>, 16>> = tables
        .tables()
        .iter()
        .map(|t| {
            let freqs: Vec<u32> = (0..t.entries()).map(|e| t.frequency(e)).collect();
            ContiguousCategoricalEntropyModel::from_nonzero_fixed_point_probabilities(&freqs, false)
                .unwrap()
        })
        .collect();
    let entries: Vec<usize> = symbols
        .iter()
        .zip(&indices)
        .map(|(&s, &k)| {
            let t = &tables.tables()[usize::from(k)];
            (s - t.min_symbol()).clamp(0, t.entries() as i32 - 1) as usize
        })
        .collect();
    let raw_encode = || {
        let mut coder = DefaultAnsCoder::new();
        coder
            .encode_symbols_reverse(
                entries
                    .iter()
                    .zip(&indices)
                    .map(|(&e, &k)| (e, &raw_models[usize::from(k)])),
            )
            .unwrap();
        coder.into_compressed().unwrap_infallible()
    };
    let raw_words = raw_encode();
    g.bench_function("constriction raw encode", |b| b.iter(raw_encode));
    g.bench_function("constriction raw decode", |b| {
        b.iter(|| {
            let mut coder = DefaultAnsCoder::from_compressed(black_box(raw_words.clone())).unwrap();
            let mut sum = 0usize;
            for &k in &indices {
                sum += coder
                    .decode_symbol(&raw_models[usize::from(k)])
                    .unwrap_infallible();
            }
            sum
        })
    });
    g.finish();
}

fn table_build(c: &mut Criterion) {
    // What building one factorized-prior table costs (done once per model load).
    let probs: Vec<f64> = (0..256)
        .map(|i| (-((f64::from(i) - 128.0) / 9.0).powi(2)).exp())
        .collect();
    c.bench_function("factorized table build (256 entries)", |b| {
        b.iter(|| {
            let f = quantize_probabilities(black_box(&probs)).unwrap();
            CdfTable::from_frequencies(-128, &f).unwrap()
        })
    });
    c.bench_function("stream round trip, 64 symbols", |b| {
        let t = gaussian_tables();
        let s: Vec<i32> = (0..64).map(|i| i % 5 - 2).collect();
        let k: Vec<u16> = (0..64).map(|i| 20 + (i % 10) as u16).collect();
        b.iter(|| decode(t, &encode(t, &s, &k).unwrap(), &k).unwrap())
    });
}

criterion_group!(benches, gaussian, table_build);
criterion_main!(benches);
