//! Helpers shared by the integration tests and benches (included with `mod common;`, or
//! `#[path]` from `benches/`).
#![allow(dead_code)] // each test crate uses a part of it

/// A seeded xorshift64 generator of uniform `f64` in [0, 1): reproducible workloads with no
/// dependency.
pub fn uniform_rng(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Every input file in `fuzz/regressions/<target>/`, in name order.
pub fn regression_inputs(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}
