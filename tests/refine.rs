//! Encoder-side latent refinement (lic-train's `encode_refined`): it codes files every decoder reads,
//! spends fewer bits at equal or better quality than the analysis' latents, and refuses a
//! model it was not built for.

use std::path::Path;

use lic_codec::{Architecture, Device, Image, Limits, Model, ModelFile, decode, encode};
use lic_train::{Error, RefineOptions, Refiner, encode_refined, seeded_model};

fn crop() -> Image {
    Image::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/kodim23_crop.png")).unwrap()
}

fn default_file() -> ModelFile {
    ModelFile::from_bytes(lic_models::default_model_bytes()).unwrap()
}

/// The embedded model, loaded for coding and for refinement, on the CPU.
fn default_model_and_refiner() -> (Model, Refiner) {
    let (dev, file) = (Device::flex(), default_file());
    (
        Model::from_file(&file, &dev).unwrap(),
        Refiner::from_file(&file, &dev).unwrap(),
    )
}

/// The real cost `bpp + λ · 255² · MSE` of a file and its decoded image.
fn rd_cost(bytes: &[u8], back: &Image, image: &Image, lambda: f64) -> f64 {
    let pixels = f64::from(image.width() * image.height());
    let mse = 10f64.powf(-lic_eval::metrics::psnr(image, back).unwrap() / 10.0); // on the 0..1 scale
    8.0 * bytes.len() as f64 / pixels + lambda * 255.0 * 255.0 * mse
}

#[test]
fn refined_files_decode_and_cost_less_than_the_analysis_latents() {
    let (model, refiner) = default_model_and_refiner();
    let image = crop();
    for q in [0.0, 100.0] {
        let options = RefineOptions {
            steps: 8,
            ..RefineOptions::default()
        };
        let (refined, report) = encode_refined(&model, &refiner, &image, q, &options).unwrap();
        assert!(report.best_step <= options.steps);
        assert!(report.coded.loss <= report.initial.loss, "{report:?}");
        let plain = encode(&model, &image, q).unwrap();
        let lambda = refiner.lambda_at(q);
        let back = decode(&model, &refined, &Limits::default()).unwrap();
        let plain_back = decode(&model, &plain, &Limits::default()).unwrap();
        let (cost, plain_cost) = (
            rd_cost(&refined, &back, &image, lambda),
            rd_cost(&plain, &plain_back, &image, lambda),
        );
        if q == 100.0 {
            // Where the analysis spends bits the synthesis cannot use, refinement finds
            // them (about a fifth of the file on this crop).
            assert!(report.best_step > 0, "{report:?}");
            assert!(cost < 0.95 * plain_cost, "q {q}: {cost} vs {plain_cost}");
            assert!(refined.len() < plain.len());
        } else {
            // The float estimate never gets worse; the real cost follows it up to the
            // integer entropy path's rounding.
            assert!(cost < 1.01 * plain_cost, "q {q}: {cost} vs {plain_cost}");
        }
    }
}

#[test]
fn no_steps_codes_the_plain_encoders_bytes() {
    let (model, refiner) = default_model_and_refiner();
    let image = crop();
    let (bytes, report) =
        encode_refined(&model, &refiner, &image, 37.5, &RefineOptions::default()).unwrap();
    assert_eq!(bytes, encode(&model, &image, 37.5).unwrap());
    assert_eq!((report.best_step, report.coded), (0, report.initial));
}

#[test]
fn a_refiner_for_another_model_is_refused() {
    let dev = Device::flex();
    let refiner = Refiner::from_file(&default_file(), &dev).unwrap();
    let other = seeded_model(&Architecture::small(), 1, "other", &dev).unwrap();
    let options = RefineOptions {
        steps: 1,
        ..RefineOptions::default()
    };
    let err = encode_refined(&other, &refiner, &crop(), 50.0, &options).unwrap_err();
    assert!(matches!(err, Error::RefinerMismatch { .. }), "{err}");
    assert!(err.to_string().contains("refiner"), "{err}");
}

#[test]
fn lambda_follows_the_trained_levels_geometrically() {
    let refiner = Refiner::from_file(&default_file(), &Device::flex()).unwrap();
    let (lo, hi) = (refiner.lambda_at(0.0), refiner.lambda_at(20.0));
    let mid = refiner.lambda_at(10.0);
    assert!(
        (mid - (lo * hi).sqrt()).abs() < 1e-9 * hi,
        "{lo} {mid} {hi}"
    );
    assert!(refiner.lambda_at(100.0) > refiner.lambda_at(80.0));
}

/// The same code path on wgpu (lavapipe in CI: a tiny model on a 64×64 image): refinement runs
/// there and its file decodes on the CPU.
#[cfg(feature = "wgpu")]
#[test]
fn refinement_runs_on_wgpu_and_its_file_decodes_on_the_cpu() {
    let (gpu, cpu) = (lic_codec::wgpu_device().unwrap(), Device::flex());
    let architecture = Architecture::tiny();
    let file = lic_train::export(
        &lic_train::FloatModel::seeded(&architecture, 7, &cpu),
        &lic_codec::ModelInfo {
            name: "tiny-refine".into(),
            architecture,
            lambdas: None,
        },
    )
    .unwrap();
    let on_gpu = Model::from_file(&file, &gpu).unwrap();
    let refiner = Refiner::from_file(&file, &gpu).unwrap();
    let image =
        Image::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/kodim08_gray64.png"))
            .unwrap();
    let options = RefineOptions {
        steps: 2,
        ..RefineOptions::default()
    };
    let (bytes, report) = encode_refined(&on_gpu, &refiner, &image, 60.0, &options).unwrap();
    assert!(report.initial.loss.is_finite() && report.coded.loss <= report.initial.loss);
    let back = decode(
        &Model::from_file(&file, &cpu).unwrap(),
        &bytes,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!((back.width(), back.height()), (64, 64));
}
