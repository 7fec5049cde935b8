//! End-to-end tests of the neural codec on real image crops (assets/), with the tiny seeded
//! model: exact symbol agreement between encoder and decoder, thread-count and backend
//! independence, golden bitstreams, and refusal of damaged or foreign files.

use std::path::Path;

use lic_codec::entropy::Error as FormatError;
use lic_codec::model::{LicModel, ModelConfig, load_parameters, named_parameters};
use lic_codec::{
    ColorFormat, Device, Error, Image, Limits, Model, ModelInfo, decode, decode_latent, encode,
    encode_with_latent, export, metrics,
};
use sha2::{Digest, Sha256};

fn asset(name: &str) -> Image {
    Image::open(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assets")
            .join(name),
    )
    .unwrap()
}

fn tiny(device: &Device) -> Model {
    Model::seeded(&ModelConfig::tiny(), 7, "tiny-test", device).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn encoder_and_decoder_agree_on_every_symbol() {
    let model = tiny(&Device::flex());
    for (name, q) in [("kodim19_71x53.png", 50.0), ("kodim08_gray64.png", 90.0)] {
        let image = asset(name);
        let (bytes, enc_latent) = encode_with_latent(&model, &image, q).unwrap();
        let dec_latent = decode_latent(&model, &bytes, &Limits::default()).unwrap();
        assert_eq!(enc_latent, dec_latent, "{name}");
        let back = decode(&model, &bytes, &Limits::default()).unwrap();
        assert_eq!(
            (back.width(), back.height(), back.color()),
            (image.width(), image.height(), image.color())
        );
    }
}

#[test]
fn grayscale_stays_grayscale_and_any_size_round_trips() {
    let model = tiny(&Device::flex());
    let gray = asset("kodim08_gray64.png");
    assert_eq!(gray.color(), ColorFormat::Gray8);
    let back = decode(
        &model,
        &encode(&model, &gray, 30.0).unwrap(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(back.color(), ColorFormat::Gray8);
    for (w, h) in [(1, 1), (1, 70), (65, 2), (64, 64)] {
        let pixels: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        let img = Image::new(w, h, ColorFormat::Rgb8, pixels).unwrap();
        let back = decode(
            &model,
            &encode(&model, &img, 50.0).unwrap(),
            &Limits::default(),
        );
        let back = back.unwrap();
        assert_eq!((back.width(), back.height()), (w, h));
    }
}

#[test]
fn decoding_is_identical_with_one_and_two_threads() {
    let model = tiny(&Device::flex());
    let bytes = encode(&model, &asset("kodim19_71x53.png"), 70.0).unwrap();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| decode(&model, &bytes, &Limits::default()).unwrap())
    };
    assert_eq!(run(1), run(2));
    // And encoding: the same bytes whatever the thread count.
    let enc = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| encode(&model, &asset("kodim19_71x53.png"), 70.0).unwrap())
    };
    assert_eq!(enc(1), bytes);
    assert_eq!(enc(2), bytes);
}

#[test]
fn higher_quality_spends_more_bits() {
    // Untrained weights give a latent near zero at every quality, so amplify the gains (as
    // training does) to see the rate follow q through the gain interpolation.
    let dev = Device::flex();
    let config = ModelConfig::tiny();
    let float = LicModel::seeded(&config, 7, &dev);
    let gains = named_parameters(&float)
        .into_iter()
        .find(|(n, _, _)| n == "gains.gain")
        .unwrap()
        .2;
    let float = load_parameters(float, &dev, |name, _| {
        Ok::<_, ()>((name == "gains.gain").then(|| gains.iter().map(|g| g * 200.0).collect()))
    })
    .unwrap();
    let info = ModelInfo {
        name: "amplified".into(),
        architecture: config,
        lambdas: None,
    };
    let model = Model::from_file(&export(&float, &info).unwrap(), &dev).unwrap();
    let image = asset("kodim19_71x53.png");
    let sizes: Vec<usize> = [0.0, 50.0, 100.0]
        .iter()
        .map(|&q| encode(&model, &image, q).unwrap().len())
        .collect();
    assert!(sizes[0] < sizes[1] && sizes[1] < sizes[2], "{sizes:?}");
    let back = decode(
        &model,
        &encode(&model, &image, 100.0).unwrap(),
        &Limits::default(),
    );
    assert!(back.is_ok());
}

/// Golden values, one `name value` per line. A change here is a bitstream change: bump the
/// format version or the model, never just the hash.
#[test]
fn golden_fingerprints_and_bitstreams() {
    let golden = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/codec.txt"),
    )
    .unwrap();
    let model = tiny(&Device::flex());
    let mut actual = vec![format!("tiny-model {}", model.fingerprint())];
    for (name, q) in [("kodim19_71x53.png", 50.0), ("kodim08_gray64.png", 75.5)] {
        let bytes = encode(&model, &asset(name), q).unwrap();
        actual.push(format!("{name}@{q} {}", hex(&Sha256::digest(&bytes)[..16])));
    }
    let default = Model::default_model(&Device::flex()).unwrap();
    actual.push(format!("default-model {}", default.fingerprint()));
    let expected: Vec<&str> = golden
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn every_truncation_and_many_bit_flips_are_refused() {
    let model = tiny(&Device::flex());
    let bytes = encode(&model, &asset("kodim19_71x53.png"), 40.0).unwrap();
    for len in 0..bytes.len() {
        assert!(
            decode(&model, &bytes[..len], &Limits::default()).is_err(),
            "length {len}"
        );
    }
    for bit in (0..bytes.len() * 8).step_by(7) {
        let mut b = bytes.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        assert!(decode(&model, &b, &Limits::default()).is_err(), "bit {bit}");
    }
}

#[test]
fn a_file_from_another_model_is_named_not_decoded() {
    let a = tiny(&Device::flex());
    let b = Model::seeded(&ModelConfig::tiny(), 8, "other", &Device::flex()).unwrap();
    assert_ne!(a.fingerprint(), b.fingerprint());
    let bytes = encode(&a, &asset("kodim19_71x53.png"), 50.0).unwrap();
    match decode(&b, &bytes, &Limits::default()) {
        Err(Error::Format(FormatError::UnknownModel { found, .. })) => {
            assert_eq!(found, a.fingerprint());
        }
        other => panic!("expected UnknownModel, got {other:?}"),
    }
}

#[test]
fn limits_refuse_large_images_before_decoding() {
    let model = tiny(&Device::flex());
    let bytes = encode(&model, &asset("kodim19_71x53.png"), 50.0).unwrap();
    let limits = Limits {
        max_pixels: 1000,
        ..Limits::default()
    };
    assert!(matches!(
        decode(&model, &bytes, &limits),
        Err(Error::Format(FormatError::LimitExceeded { .. }))
    ));
}

#[test]
fn model_files_round_trip_and_damage_is_refused() {
    let model = tiny(&Device::flex());
    let file = export(
        &LicModel::seeded(&ModelConfig::tiny(), 7, &Device::flex()),
        model.info(),
    )
    .unwrap();
    let bytes = file.to_bytes();
    let reloaded = Model::from_bytes(&bytes, &Device::flex()).unwrap();
    assert_eq!(reloaded.fingerprint(), model.fingerprint());
    let mut bad = bytes.clone();
    bad[bytes.len() / 2] ^= 0x10;
    assert!(Model::from_bytes(&bad, &Device::flex()).is_err());
    assert!(Model::from_bytes(&bytes[..bytes.len() - 1], &Device::flex()).is_err());
}

#[test]
fn psnr_of_a_decoded_image_matches_its_definition() {
    let model = tiny(&Device::flex());
    let image = asset("kodim08_gray64.png");
    let back = decode(
        &model,
        &encode(&model, &image, 50.0).unwrap(),
        &Limits::default(),
    )
    .unwrap();
    let p = metrics::psnr(&image, &back).unwrap();
    let mse: f64 = image
        .pixels()
        .iter()
        .zip(back.pixels())
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum::<f64>()
        / image.pixels().len() as f64;
    assert!((p - 10.0 * (65025.0 / mse).log10()).abs() < 1e-9);
}

#[cfg(feature = "wgpu")]
#[test]
fn wgpu_encode_decodes_to_the_same_symbols_on_the_cpu() {
    let gpu = lic_codec::wgpu_device().unwrap();
    let cpu = Device::flex();
    let (on_gpu, on_cpu) = (tiny(&gpu), tiny(&cpu));
    assert_eq!(on_gpu.fingerprint(), on_cpu.fingerprint());
    let image = asset("kodim08_gray64.png");
    let (bytes, gpu_latent) = encode_with_latent(&on_gpu, &image, 60.0).unwrap();
    // Decode on the other backend: identical symbols, pixels within rounding of the float
    // synthesis (at most 1 level of 255 here).
    assert_eq!(
        decode_latent(&on_cpu, &bytes, &Limits::default()).unwrap(),
        gpu_latent
    );
    let a = decode(&on_cpu, &bytes, &Limits::default()).unwrap();
    let b = decode(&on_gpu, &bytes, &Limits::default()).unwrap();
    let worst = a
        .pixels()
        .iter()
        .zip(b.pixels())
        .map(|(&x, &y)| x.abs_diff(y))
        .max()
        .unwrap();
    assert!(worst <= 1, "CPU and wgpu reconstructions differ by {worst}");
}
