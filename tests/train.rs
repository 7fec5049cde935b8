//! Training on real crops (assets/train/) with the tiny model: finite losses, checkpoints,
//! exact resumption, weights-only resumption, and export -> encode -> decode; and the seeded
//! tiny model that lic-codec's tests load, rebuilt byte for byte.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use lic_codec::internals::{decode_latent, encode_with_latent, load_parameters, named_parameters};
use lic_codec::{Architecture, Device, Image, Limits, Model, ModelFile, ModelInfo, decode, encode};
use lic_train::{
    CHECKPOINT_FILE, Dataset, Error, Event, FloatModel, KEPT_CHECKPOINTS, LOG_FILE, MODEL_FILE,
    RunOptions, StepStats, TemporalOptions, TemporalTrainer, TrainConfig, TrainedParts, Trainer,
    batch_plan, export, run, save_average, seeded_model, validation_crops,
};

fn psnr(a: &Image, b: &Image) -> f64 {
    lic_eval::metrics::psnr(a, b).unwrap()
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/train")
}

fn config() -> TrainConfig {
    let mut c = TrainConfig::new(Architecture::tiny());
    c.batch = 2;
    c.crop = 64;
    c.warmup_steps = 2;
    c.learning_rate = 1e-3;
    c.seed = 11;
    c
}

fn options(run_dir: &Path, steps: u64) -> RunOptions {
    RunOptions {
        data: vec![data_dir()],
        run_dir: run_dir.to_owned(),
        steps: Some(steps),
        duration: None,
        checkpoint_every: Duration::from_secs(3600),
        keep_checkpoints: false,
        log_every: 1,
        stop: Arc::new(AtomicBool::new(false)),
        hardware: "test".into(),
    }
}

/// The optimizer states (`optimizer-<step>.bpk`) in `run_dir`.
fn optimizer_files(run_dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(run_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("optimizer-")
        })
        .collect()
}

/// Runs `trainer` to `steps`, returning the statistics of every step it took.
fn train_to(trainer: Trainer, run_dir: &Path, steps: u64) -> (Trainer, Vec<(u64, StepStats)>) {
    let mut seen = Vec::new();
    let trainer = run(trainer, &options(run_dir, steps), &mut |e| {
        if let Event::Step { step, stats, .. } = e {
            seen.push((step, stats));
        }
    })
    .unwrap();
    (trainer, seen)
}

#[test]
fn resumed_run_continues_exactly_as_the_uninterrupted_one() {
    let dev = Device::flex();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();

    let (whole, whole_steps) = train_to(Trainer::new(config(), "t", &dev).unwrap(), a.path(), 4);
    assert_eq!(whole.state().step, 4);
    for (_, s) in &whole_steps {
        assert!(
            s.loss.is_finite() && s.bpp > 0.0 && s.mse.is_some_and(|m| m > 0.0),
            "{s:?}"
        );
    }

    let (first, _) = train_to(Trainer::new(config(), "t", &dev).unwrap(), b.path(), 2);
    drop(first);
    for f in [CHECKPOINT_FILE, MODEL_FILE, LOG_FILE] {
        assert!(b.path().join(f).is_file(), "{f} missing");
    }
    let resumed = Trainer::from_checkpoint(b.path(), true, &dev).unwrap();
    assert_eq!(resumed.state().step, 2);
    let (resumed, resumed_steps) = train_to(resumed, b.path(), 4);

    assert_eq!(
        &whole_steps[2..],
        &resumed_steps[..],
        "steps 3 and 4 differ"
    );
    assert_eq!(
        named_parameters(whole.model()),
        named_parameters(resumed.model()),
        "weights after step 4 differ"
    );
    // Only the newest optimizer state is kept.
    assert_eq!(optimizer_files(b.path()).len(), 1);
}

#[test]
fn kept_checkpoints_are_the_run_at_each_checkpoint_and_average_into_a_model() {
    let dev = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(dir.path(), 3);
    o.checkpoint_every = Duration::ZERO; // after every step
    o.keep_checkpoints = true;
    let mut weights = Vec::new();
    let trainer = run(Trainer::new(config(), "t", &dev).unwrap(), &o, &mut |e| {
        if let Event::Checkpoint { step } = e {
            let back = Trainer::from_checkpoint(dir.path(), false, &dev).unwrap();
            weights.push((step, named_parameters(back.model())));
        }
    })
    .unwrap();
    let kept = dir.path().join(KEPT_CHECKPOINTS);
    let mut names: Vec<String> = std::fs::read_dir(&kept)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Steps 1, 2 and 3, then the final checkpoint (step 3 again, the same file).
    assert_eq!(
        names,
        [
            "step-00000001.licm",
            "step-00000002.licm",
            "step-00000003.licm"
        ]
    );
    let mut files = Vec::new();
    for (step, w) in &weights {
        let path = kept.join(format!("step-{step:08}.licm"));
        let file = ModelFile::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(file.config["optimizer"], serde_json::Value::Null, "{step}");
        // A kept copy is a run of its own, resumed with a fresh Adam.
        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(&path, copy.path().join(CHECKPOINT_FILE)).unwrap();
        let back = Trainer::from_checkpoint(copy.path(), true, &dev).unwrap();
        assert_eq!(back.state().step, *step);
        assert_eq!(&named_parameters(back.model()), w, "step {step}");
        files.push(file);
    }
    assert_ne!(weights[0].1, weights[2].1, "the weights did not move");
    assert_eq!(weights.last().unwrap().1, named_parameters(trainer.model()));

    // Their mean is a run folder with a deployable model that codes.
    let soup = dir.path().join("soup");
    let model = save_average(&files, Some("soup"), &soup, &dev).unwrap();
    assert_eq!(
        std::fs::read(soup.join(MODEL_FILE)).unwrap(),
        model.to_bytes()
    );
    let model = Model::from_bytes(&model.to_bytes(), &dev).unwrap();
    let image = Image::open(&data_dir().join("wikiphotos_0011_96.png")).unwrap();
    let file = encode(&model, &image, 50.0).unwrap();
    decode(&model, &file, &Limits::default()).unwrap();
}

#[test]
fn weights_alone_resume_with_a_fresh_optimizer() {
    let dev = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = train_to(Trainer::new(config(), "t", &dev).unwrap(), dir.path(), 1);
    let weights = named_parameters(t.model());
    let back = Trainer::from_checkpoint(dir.path(), false, &dev).unwrap();
    assert_eq!(back.state().step, 1);
    assert_eq!(back.config(), t.config());
    assert_eq!(named_parameters(back.model()), weights);
    let (back, steps) = train_to(back, dir.path(), 2);
    assert_eq!(back.state().step, 2);
    assert!(steps[0].1.loss.is_finite());
}

/// Parameter-name prefixes of the model's parts, for checking which ones a run moved.
const PARTS: [&str; 8] = [
    "analysis.",
    "synthesis.",
    "gains.gain",
    "gains.inverse",
    "hyper_analysis.",
    "hyper_synthesis.",
    "groups.",
    "prior.",
];

/// Trains the tiny model six plain steps, then three more with `trained` from there, and
/// checks that the plain steps moved every part and the others exactly the parts named in
/// `moving`; that a resumed run keeps the setting and goes on exactly; and that a plain run's
/// checkpoint does not mention the setting. Returns the later steps' stats and the trainers
/// before and after them.
fn train_parts(
    trained: TrainedParts,
    moving: &[&str],
) -> (Vec<(u64, StepStats)>, Trainer, Trainer) {
    let dev = Device::flex();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Six plain steps, so that the latents no longer all round to zero (the inverse gains
    // get no gradient before) and every part has moved from its seeded values.
    let fresh = Trainer::new(config(), "t", &dev).unwrap();
    let seeded = named_parameters(fresh.model());
    let (plain, _) = train_to(fresh, a.path(), 6);
    let bytes = std::fs::read(a.path().join(CHECKPOINT_FILE)).unwrap();
    let json = ModelFile::from_bytes(&bytes).unwrap().config.to_string();
    assert!(!json.contains("trained"), "{json}");
    let start = plain.export().unwrap();

    let mut c = config();
    c.trained = trained;
    let from_plain = || Trainer::from_model(&start, None, c.clone(), "t", &dev).unwrap();
    let initial = from_plain();
    let before = named_parameters(initial.model());
    let (done, steps) = train_to(from_plain(), b.path(), 3);
    let after = named_parameters(done.model());
    type Named = [(String, Vec<usize>, Vec<f32>)];
    let moved = |was: &Named, now: &Named, part: &str| {
        now.iter()
            .zip(was)
            .any(|((name, _, x), (_, _, y))| name.starts_with(part) && x != y)
    };
    for part in PARTS {
        assert!(
            moved(&seeded, &named_parameters(plain.model()), part),
            "{part}"
        );
        assert_eq!(
            moved(&before, &after, part),
            moving.contains(&part),
            "{part}"
        );
    }
    // The setting is the run's: a resumed run keeps it and goes on exactly.
    let d = tempfile::tempdir().unwrap();
    let (first, _) = train_to(from_plain(), d.path(), 2);
    drop(first);
    let resumed = Trainer::from_checkpoint(d.path(), true, &dev).unwrap();
    assert_eq!(resumed.config().trained, trained);
    let (resumed, resumed_steps) = train_to(resumed, d.path(), 3);
    assert_eq!(&steps[2..], &resumed_steps[..]);
    assert_eq!(named_parameters(resumed.model()), after);
    (steps, initial, done)
}

#[test]
fn frozen_transforms_train_the_entropy_model_alone_on_the_rate() {
    let entropy_model = ["hyper_analysis.", "hyper_synthesis.", "groups.", "prior."];
    let (steps, ..) = train_parts(TrainedParts::EntropyModel, &entropy_model);
    for (_, s) in &steps {
        assert!(s.loss.is_finite() && s.bpp > 0.0, "{s:?}");
        assert_eq!((s.mse, s.loss), (None, s.bpp), "the loss is the rate alone");
    }
}

#[test]
fn synthesis_only_training_keeps_every_rate_and_changes_the_decoded_images() {
    let (steps, before, after) =
        train_parts(TrainedParts::Synthesis, &["synthesis.", "gains.inverse"]);
    for (_, s) in &steps {
        assert!(s.loss.is_finite() && s.bpp > 0.0, "{s:?}");
        assert!(s.mse.is_some_and(|m| m > 0.0), "{s:?}");
    }
    // The encoder is untouched: every level codes the validation crops with the same bits,
    // and only the quality of what the synthesis makes of them moves.
    let crops = validation_crops(&[data_dir().join("wikiphotos_0011_96.png")], 64).unwrap();
    let (was, now) = (before.evaluate(&crops, 64), after.evaluate(&crops, 64));
    for (w, n) in was.iter().zip(&now) {
        assert_eq!(w.bpp.to_bits(), n.bpp.to_bits(), "level {}", w.level);
    }
    assert!(was.iter().zip(&now).any(|(w, n)| w.psnr != n.psnr));
}

#[test]
fn a_damaged_optimizer_state_is_refused_and_the_weights_still_resume() {
    let dev = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = train_to(Trainer::new(config(), "t", &dev).unwrap(), dir.path(), 1);
    let [opt] = &optimizer_files(dir.path())[..] else {
        panic!("expected one optimizer state");
    };
    let mut bytes = std::fs::read(opt).unwrap();
    // A flipped bit deep in the moments: the record still parses, only the checksum sees it.
    let last = bytes.len() - 5;
    bytes[last] ^= 0x10;
    std::fs::write(opt, &bytes).unwrap();
    match Trainer::from_checkpoint(dir.path(), true, &dev) {
        Err(Error::Checkpoint { problem, .. }) => assert!(problem.contains("damaged"), "{problem}"),
        other => panic!("expected a checksum error, got {other:?}"),
    }
    let back = Trainer::from_checkpoint(dir.path(), false, &dev).unwrap();
    assert_eq!(named_parameters(back.model()), named_parameters(t.model()));
}

#[test]
fn exported_model_encodes_and_decodes() {
    let dev = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = train_to(Trainer::new(config(), "t", &dev).unwrap(), dir.path(), 2);
    let bytes = std::fs::read(dir.path().join(MODEL_FILE)).unwrap();
    assert_eq!(bytes, t.export().unwrap().to_bytes());
    let model = Model::from_bytes(&bytes, &dev).unwrap();
    assert_eq!(model.info().name, "t");
    let image = Image::open(&data_dir().join("wikiphotos_0011_96.png")).unwrap();
    let (file, latent) = encode_with_latent(&model, &image, 60.0).unwrap();
    assert_eq!(
        decode_latent(&model, &file, &Limits::default()).unwrap(),
        latent
    );
    let back = decode(&model, &file, &Limits::default()).unwrap();
    assert_eq!((back.width(), back.height()), (96, 96));
}

#[test]
fn a_model_grown_by_a_latent_group_codes_as_the_original_then_trains() {
    let dev = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = train_to(Trainer::new(config(), "t", &dev).unwrap(), dir.path(), 3);
    let original = t.export().unwrap();
    let mut wider = config();
    wider.architecture.groups.push(4);
    wider.architecture.latent_channels += 4;
    wider.seed = 5;
    let grown = Trainer::from_model(&original, None, wider.clone(), "g", &dev).unwrap();
    assert_eq!(grown.config().architecture, wider.architecture);
    let (small, big) = (
        Model::from_bytes(&original.to_bytes(), &dev).unwrap(),
        Model::from_bytes(&grown.export().unwrap().to_bytes(), &dev).unwrap(),
    );
    let image = Image::open(&data_dir().join("wikiphotos_0011_96.png")).unwrap();
    for q in [0.0, 50.0, 100.0] {
        let a = encode(&small, &image, q).unwrap();
        let (b, latent) = encode_with_latent(&big, &image, q).unwrap();
        assert_eq!(decode_latent(&big, &b, &Limits::default()).unwrap(), latent);
        // The new channels start at zero under a narrow Gaussian: a few bytes of section
        // framing, and the same picture (up to the float sums' order).
        assert!(
            b.len() <= a.len() + 16,
            "q {q}: {} against {} bytes",
            b.len(),
            a.len()
        );
        let (da, db) = (
            decode(&small, &a, &Limits::default()).unwrap(),
            decode(&big, &b, &Limits::default()).unwrap(),
        );
        let (pa, pb) = (psnr(&image, &da), psnr(&image, &db));
        assert!((pa - pb).abs() < 0.01, "q {q}: {pa} against {pb} dB");
    }
    // The grown run trains, and its new channels open: the analysis' new filters leave zero.
    let run_dir = tempfile::tempdir().unwrap();
    let (trained, seen) = train_to(grown, run_dir.path(), 3);
    assert!(seen.iter().all(|(_, s)| s.loss.is_finite()));
    let last_conv = named_parameters(trained.model())
        .into_iter()
        .find(|(n, _, _)| n == "analysis.convs.3.weight")
        .unwrap();
    let per_channel = last_conv.2.len() / last_conv.1[0];
    let new_filters = &last_conv.2[12 * per_channel..];
    assert!(new_filters.iter().any(|&w| w != 0.0));
    // Only the latent grows, and only by appending groups.
    let mut other = config();
    other.architecture.transform_channels += 1;
    let mut reordered = config();
    reordered.architecture.groups = vec![4, 2, 6];
    for (arch, why) in [(other, "only the latent"), (reordered, "appending")] {
        match Trainer::from_model(&original, None, arch, "g", &dev) {
            Err(e) => assert!(e.to_string().contains(why), "{e}"),
            Ok(_) => panic!("a model was grown where it cannot be"),
        }
    }
}

#[test]
fn a_lossless_webp_copy_of_a_crop_trains_as_its_png() {
    // scripts/gpu-train.sh carries the training crops as lossless WebP (`cwebp`, package
    // `webp`, which scripts/test.sh installs): they must load to the same pixels.
    let dir = tempfile::tempdir().unwrap();
    let pngs: Vec<PathBuf> = ["elementary_0001_96.png", "wikiphotos_0011_96.png"]
        .iter()
        .map(|n| data_dir().join(n))
        .collect();
    let webps: Vec<PathBuf> = pngs
        .iter()
        .map(|png| {
            let webp = dir
                .path()
                .join(png.file_stem().unwrap())
                .with_extension("webp");
            let status = std::process::Command::new("cwebp")
                .args(["-quiet", "-lossless", "-z", "3"])
                .arg(png)
                .arg("-o")
                .arg(&webp)
                .status()
                .expect("cwebp (apt-get install webp)");
            assert!(status.success());
            webp
        })
        .collect();
    let (a, b) = (
        validation_crops(&pngs, 64).unwrap(),
        validation_crops(&webps, 64).unwrap(),
    );
    assert_eq!(a, b);
    assert!(a[0] != a[1], "two different crops");
}

#[test]
fn batches_and_splits_depend_only_on_seed_and_step() {
    assert_eq!(batch_plan(3, 17, 4, 100), batch_plan(3, 17, 4, 100));
    assert_ne!(batch_plan(3, 17, 4, 100), batch_plan(3, 18, 4, 100));
    assert_ne!(batch_plan(3, 17, 4, 100), batch_plan(4, 17, 4, 100));
    let d = Dataset::scan(&[data_dir()], 64).unwrap();
    assert_eq!(d.train.len() + d.held_out.len(), 4);
    // Crops larger than every image leave nothing to train on: a clear error.
    assert!(matches!(
        Dataset::scan(&[data_dir()], 128),
        Err(Error::Data { .. })
    ));
    // So does a centre crop larger than the image, rather than a panic.
    assert!(matches!(
        validation_crops(&[d.train[0].path.clone()], 128),
        Err(Error::Data { .. })
    ));
    assert_eq!(
        validation_crops(&[d.train[0].path.clone()], 64).unwrap()[0].len(),
        3 * 64 * 64
    );
}

#[test]
fn invalid_configurations_and_missing_runs_are_refused() {
    let dev = Device::flex();
    for edit in [
        |c: &mut TrainConfig| c.crop = 100,
        |c: &mut TrainConfig| c.batch = 0,
        |c: &mut TrainConfig| c.lambdas.pop().map(drop).unwrap_or(()),
        |c: &mut TrainConfig| c.learning_rate = -1.0,
    ] {
        let mut c = config();
        edit(&mut c);
        assert!(matches!(
            Trainer::new(c, "t", &dev),
            Err(Error::InvalidSetting { .. })
        ));
    }
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        Trainer::from_checkpoint(empty.path(), true, &dev),
        Err(Error::Io {
            action: "reading",
            ..
        })
    ));
    // A deployable model is not a checkpoint.
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = train_to(Trainer::new(config(), "t", &dev).unwrap(), dir.path(), 1);
    std::fs::write(
        empty.path().join(CHECKPOINT_FILE),
        t.export().unwrap().to_bytes(),
    )
    .unwrap();
    assert!(matches!(
        Trainer::from_checkpoint(empty.path(), true, &dev),
        Err(Error::Checkpoint { .. })
    ));
}

#[test]
fn the_trained_parts_read_back_and_the_older_freeze_transforms_field_reads_as_entropy_model() {
    let mut c = config();
    for parts in [TrainedParts::EntropyModel, TrainedParts::Synthesis] {
        c.trained = parts;
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), c);
    }
    // lic wrote the entropy-only setting as a boolean before there were two settings.
    let json = serde_json::to_value(&c).unwrap();
    let older = |freeze: bool| {
        let mut v = json.clone();
        let fields = v.as_object_mut().unwrap();
        fields.remove("trained");
        fields.insert("freeze_transforms".into(), freeze.into());
        serde_json::from_value::<TrainConfig>(v).unwrap().trained
    };
    assert_eq!(older(true), TrainedParts::EntropyModel);
    assert_eq!(older(false), TrainedParts::All);
    let mut unknown = json.clone();
    unknown["trained"] = "everything".into();
    assert!(serde_json::from_value::<TrainConfig>(unknown).is_err());
}

/// The tiny model lic-codec's tests load (`assets/models/tiny-seed7.licm`) is the export of
/// the seeded tiny model, byte for byte: the golden fingerprint there stands for this code.
#[test]
fn the_codec_tests_tiny_model_is_the_seeded_export() {
    let dev = Device::flex();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/models/tiny-seed7.licm");
    let stored = std::fs::read(&path).unwrap();
    let info = ModelInfo {
        name: "tiny-test".into(),
        architecture: Architecture::tiny(),
        lambdas: None,
    };
    let exported = export(&FloatModel::seeded(&Architecture::tiny(), 7, &dev), &info).unwrap();
    assert_eq!(exported.to_bytes(), stored);
    let model = seeded_model(&Architecture::tiny(), 7, "tiny-test", &dev).unwrap();
    assert_eq!(model.fingerprint(), exported.fingerprint());
    let other = seeded_model(&Architecture::tiny(), 8, "tiny-test", &dev).unwrap();
    assert_ne!(other.fingerprint(), model.fingerprint());
}

#[test]
fn higher_quality_spends_more_bits() {
    // Untrained weights give a latent near zero at every quality, so amplify the gains (as
    // training does) to see the rate follow q through the gain interpolation.
    let dev = Device::flex();
    let config = Architecture::tiny();
    let float = FloatModel::seeded(&config, 7, &dev);
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
    let image =
        Image::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/kodim19_71x53.png"))
            .unwrap();
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

#[test]
fn temporal_networks_train_on_the_rate_export_and_code_inter_frames() {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
    let file =
        ModelFile::from_bytes(&std::fs::read(assets.join("models/tiny-seed7.licm")).unwrap())
            .unwrap();
    let options = TemporalOptions {
        width: 4,
        crop: 4,
        batch: 2,
        synthetic: 0.5,
        ..TemporalOptions::default()
    };
    let device = Device::flex();
    let mut trainer = TemporalTrainer::new(&file, options.clone(), &device).unwrap();
    let clip = trainer
        .load_clip(&assets.join("video/park_joy_96x64_4f.y4m"))
        .unwrap();
    assert_eq!((clip.frames.len(), clip.dims), (4, [12, 4, 8]));
    let stills: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for _ in 0..3 {
        let bpp = trainer
            .step(std::slice::from_ref(&clip), &stills, 1e-3)
            .unwrap();
        assert!(bpp.is_finite() && bpp >= 0.0, "{bpp}");
    }
    let gains = trainer
        .evaluate(std::slice::from_ref(&clip), &[0, 2])
        .unwrap();
    assert!(
        gains
            .iter()
            .all(|g| g.intra_bpp.is_finite() && g.inter_bpp.is_finite())
    );
    // The export is the base model plus temporal networks: the same fingerprint, so the
    // base's images decode with it; reloaded (dequantised) it exports the same file again.
    let exported = trainer.export().unwrap();
    assert!(exported.has_temporal() && !file.has_temporal());
    assert_eq!(exported.fingerprint(), file.fingerprint());
    let again = TemporalTrainer::new(&exported, options, &device)
        .unwrap()
        .export()
        .unwrap();
    assert_eq!(again.to_bytes(), exported.to_bytes());
    // And the codec codes inter frames with it, decoding what it encoded.
    let model = Model::from_file(&exported, &device).unwrap();
    let bytes = std::fs::read(assets.join("video/park_joy_96x64_4f.y4m")).unwrap();
    let reader =
        lic_codec::video::y4m::Y4mReader::new(bytes.as_slice(), &Limits::default()).unwrap();
    let info = lic_codec::container::VideoInfo {
        frame_rate: (50, 1),
        chroma: lic_codec::container::Chroma::Yuv420,
        matrix: lic_codec::container::ColorMatrix::Bt601,
        range: lic_codec::container::ColorRange::Limited,
        intra_period: 0,
        temporal: None,
    };
    let mut enc = lic_codec::VideoEncoder::new(&model, Vec::new(), (96, 64), 50.0, info).unwrap();
    for frame in reader {
        let image = frame.unwrap().to_image(info.matrix, info.range);
        enc.encode(&image).unwrap();
    }
    let clip_bytes = enc.finish().unwrap();
    let decoded: Vec<Image> =
        lic_codec::VideoDecoder::new(&model, clip_bytes.as_slice(), &Limits::default())
            .unwrap()
            .map(Result::unwrap)
            .collect();
    assert_eq!(decoded.len(), 4);
}
