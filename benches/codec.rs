//! Encode and decode of one Kodak image with the default model on the CPU backend (flex),
//! with the time split into transforms, entropy-parameter networks and rANS.
//!
//! `cargo bench -p lic-codec --bench codec`. Reads `../shared/datasets/kodak/kodim23.png`
//! beside the project (`LIC_BENCH_IMAGE` overrides it).

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use lic_codec::{Device, Image, Limits, Model, Timings, decode_timed, encode_timed};

fn image() -> Image {
    let path = std::env::var_os("LIC_BENCH_IMAGE").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/datasets/kodak/kodim23.png")
        },
        PathBuf::from,
    );
    Image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn report(what: &str, runs: &[Timings]) {
    let mean = |f: fn(&Timings) -> Duration| {
        runs.iter().map(f).sum::<Duration>().as_secs_f64() / runs.len() as f64
    };
    eprintln!(
        "{what}: transforms {:.3} s, entropy parameters {:.3} s, rANS {:.4} s (mean of {} runs)",
        mean(|t| t.transforms),
        mean(|t| t.entropy_params),
        mean(|t| t.rans),
        runs.len()
    );
}

fn bench(c: &mut Criterion) {
    let model = Model::default_model(&Device::flex()).unwrap();
    let img = image();
    let q = 50.0;
    let (bytes, _) = encode_timed(&model, &img, q).unwrap();
    eprintln!(
        "{}x{} at q {q}: {} bytes, {:.4} bpp",
        img.width(),
        img.height(),
        bytes.len(),
        8.0 * bytes.len() as f64 / (f64::from(img.width()) * f64::from(img.height()))
    );
    let enc: Vec<Timings> = (0..5)
        .map(|_| encode_timed(&model, &img, q).unwrap().1)
        .collect();
    report("encode", &enc);
    let dec: Vec<Timings> = (0..5)
        .map(|_| decode_timed(&model, &bytes, &Limits::default()).unwrap().1)
        .collect();
    report("decode", &dec);

    let mut g = c.benchmark_group("kodak_cpu");
    g.sample_size(10);
    g.bench_function("encode", |b| {
        b.iter(|| encode_timed(&model, &img, q).unwrap())
    });
    g.bench_function("decode", |b| {
        b.iter(|| decode_timed(&model, &bytes, &Limits::default()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
