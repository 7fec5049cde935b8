//! End-to-end tests of the neural codec on real image crops (assets/), with the tiny seeded
//! model (`assets/models/tiny-seed7.licm`, which lic-train's tests rebuild byte for byte):
//! exact symbol agreement between encoder and decoder, thread-count and backend
//! independence, golden bitstreams, limits, and refusal of damaged or foreign files.

use std::path::{Path, PathBuf};

use lic_codec::container::{Frame, FrameKind, Header, LicFile};
use lic_codec::internals::{decode_latent, encode_with_latent};
use lic_codec::{
    ColorFormat, Device, Error, FormatError, Image, Limits, Model, decode, decode_frame, encode,
    encode_frame, picture_header,
};
use sha2::{Digest, Sha256};

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets")
}

fn asset(name: &str) -> Image {
    Image::open(&assets().join(name)).unwrap()
}

fn tiny(device: &Device) -> Model {
    let bytes = std::fs::read(assets().join("models/tiny-seed7.licm")).unwrap();
    Model::from_bytes(&bytes, device).unwrap()
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

/// An image file of this build's format rewritten as `version` 3 (the version byte) or 2
/// (also no `video_length` byte), the header CRC recomputed. An image's header differs in
/// nothing else between versions 3 and 4.
fn as_version(file: &[u8], version: u8) -> Vec<u8> {
    let (_, layout) = LicFile::parse_with_layout(file, &Limits::default()).unwrap();
    let h = layout.header_bytes;
    let keep = if version == 2 { h - 5 } else { h - 4 };
    let mut old = file[..keep].to_vec();
    old[4] = version;
    let crc = crc32fast::hash(&old);
    old.extend(crc.to_le_bytes());
    old.extend(&file[h..]);
    old
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
        // The same file in format versions 3 and 2: their hashes are the ones those versions
        // wrote, so the payloads did not change since, and this build decodes them alike.
        let decoded = decode(&model, &bytes, &Limits::default()).unwrap();
        for version in [3, 2] {
            let old = as_version(&bytes, version);
            actual.push(format!(
                "{name}@{q} as-v{version} {}",
                hex(&Sha256::digest(&old)[..16])
            ));
            assert_eq!(decode(&model, &old, &Limits::default()).unwrap(), decoded);
        }
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
    let b = Model::default_model(&Device::flex()).unwrap();
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
    let limits = Limits::default().with_max_pixels(1000);
    assert!(matches!(
        decode(&model, &bytes, &limits),
        Err(Error::Format(FormatError::LimitExceeded { .. }))
    ));
    // The memory a decode would take is refused before it is allocated, and named.
    let need = model.decode_memory(71, 53);
    let tight = Limits::default().with_max_alloc(need - 1);
    match decode(&model, &bytes, &tight) {
        Err(Error::Format(FormatError::LimitExceeded { value, limit, .. })) => {
            assert_eq!((value, limit), (need, need - 1));
        }
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
    assert!(decode(&model, &bytes, &Limits::default().with_max_alloc(need)).is_ok());
    // The estimate grows linearly with the padded picture (sides padded to 64).
    let m = |w, h| model.decode_memory(w, h);
    assert_eq!(m(65, 64), m(128, 64));
    assert_eq!(m(192, 64) - m(128, 64), m(128, 64) - m(64, 64));
    assert!(m(128, 64) > m(64, 64));
}

#[test]
fn model_files_are_checked_when_loaded() {
    let bytes = std::fs::read(assets().join("models/tiny-seed7.licm")).unwrap();
    let reloaded = Model::from_bytes(&bytes, &Device::flex()).unwrap();
    assert_eq!(reloaded.fingerprint(), tiny(&Device::flex()).fingerprint());
    let mut bad = bytes.clone();
    bad[bytes.len() / 2] ^= 0x10;
    assert!(Model::from_bytes(&bad, &Device::flex()).is_err());
    assert!(Model::from_bytes(&bytes[..bytes.len() - 1], &Device::flex()).is_err());
}

/// A file is its header and frames: coding frame by frame gives the same bytes and pixels
/// as coding the file, and a frame is decoded only under its own model's header.
#[test]
fn frames_code_as_whole_files_do() {
    let model = tiny(&Device::flex());
    let image = asset("kodim19_71x53.png");
    let file = LicFile {
        header: picture_header(&model, &image, 60.0).unwrap(),
        frames: vec![encode_frame(&model, &image, 60.0).unwrap()],
    };
    let bytes = encode(&model, &image, 60.0).unwrap();
    assert_eq!(file.to_bytes().unwrap(), bytes);
    let from_frame = decode_frame(&model, &file.header, &file.frames[0], &Limits::default());
    assert_eq!(
        from_frame.unwrap(),
        decode(&model, &bytes, &Limits::default()).unwrap()
    );
    let other = Header {
        fingerprint: Model::default_model(&Device::flex()).unwrap().fingerprint(),
        ..file.header.clone()
    };
    assert!(decode_frame(&model, &other, &file.frames[0], &Limits::default()).is_err());
    // A header asking for a huge picture is refused before anything is allocated for it.
    let huge = Header {
        width: 1 << 20,
        height: 1 << 20,
        ..file.header.clone()
    };
    assert!(matches!(
        decode_frame(&model, &huge, &file.frames[0], &Limits::default()),
        Err(Error::Format(FormatError::LimitExceeded { .. }))
    ));
    // An empty picture: an error, not a zero-sized synthesis.
    let empty_picture = Header {
        width: 0,
        ..file.header.clone()
    };
    assert!(matches!(
        decode_frame(&model, &empty_picture, &file.frames[0], &Limits::default()),
        Err(Error::ImageSize { width: 0, .. })
    ));
    // Sections that do not fit the model: an error, not a panic.
    let empty = Frame {
        kind: FrameKind::Intra,
        sections: Vec::new(),
    };
    assert!(matches!(
        decode_frame(&model, &file.header, &empty, &Limits::default()),
        Err(Error::SectionCount { latent: 0, .. })
    ));
}

#[test]
fn out_of_range_arguments_are_errors_with_their_range() {
    let model = tiny(&Device::flex());
    let image = asset("kodim19_71x53.png");
    for q in [-0.5, 100.5, f32::NAN] {
        let err = encode(&model, &image, q).unwrap_err();
        assert!(matches!(err, Error::QualityOutOfRange { .. }), "{err}");
        assert!(err.to_string().contains("0..=100"), "{err}");
    }
    let err = Image::new(0, 4, ColorFormat::Rgb8, Vec::new()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ImageSize {
                width: 0,
                height: 4,
                ..
            }
        ),
        "{err}"
    );
    let err = Image::new(2, 2, ColorFormat::Rgb8, vec![0; 11]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::PixelBufferSize {
                expected: 12,
                actual: 11,
                ..
            }
        ),
        "{err}"
    );
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

#[test]
fn targets_give_the_best_quality_that_meets_them_as_plain_encodes_do() {
    use lic_codec::{Target, encode_to_target};
    let model = Model::default_model(&Device::flex()).unwrap();
    let img = asset("kodim23_crop.png");
    let pixels = f64::from(img.width() * img.height());
    let smallest = encode(&model, &img, 0.0).unwrap().len() as u64;
    let largest = encode(&model, &img, 100.0).unwrap().len() as u64;
    for target in [
        Target::Bytes(smallest + (largest - smallest) / 3),
        Target::Bpp(0.8 * largest as f64 * 8.0 / pixels),
        Target::Bytes(smallest),
    ] {
        let o = encode_to_target(&model, &img, target).unwrap();
        let max = match target {
            Target::Bytes(b) => b as f64,
            Target::Bpp(bpp) => bpp * pixels / 8.0,
            Target::Psnr(_) => unreachable!(),
        };
        assert!(o.bytes.len() as f64 <= max, "{target:?}: {}", o.bytes.len());
        // The very file of a plain encode at the quality found...
        assert_eq!(
            o.bytes,
            encode(&model, &img, o.quality).unwrap(),
            "{target:?}"
        );
        // ... and the best one: within 1 % of the target, or a step up no longer fits.
        let up = encode(&model, &img, (o.quality + 0.06).min(100.0)).unwrap();
        assert!(
            o.bytes.len() as f64 >= 0.99 * max || up.len() as f64 > max,
            "{target:?}: q {} gives {} bytes, q + 0.06 {}",
            o.quality,
            o.bytes.len(),
            up.len()
        );
        assert!((1..=16).contains(&o.trials), "{} trials", o.trials);
    }
    // A PSNR target: reached by the decoded file, and not by a step down.
    let low = decode(
        &model,
        &encode(&model, &img, 10.0).unwrap(),
        &Limits::default(),
    )
    .unwrap();
    let high = decode(
        &model,
        &encode(&model, &img, 90.0).unwrap(),
        &Limits::default(),
    )
    .unwrap();
    let want = (img.psnr(&low).unwrap() + img.psnr(&high).unwrap()) / 2.0;
    let o = encode_to_target(&model, &img, Target::Psnr(want)).unwrap();
    let back = decode(&model, &o.bytes, &Limits::default()).unwrap();
    assert_eq!(img.psnr(&back), o.psnr);
    assert!(o.psnr.unwrap() >= want, "{:?} < {want}", o.psnr);
    let down = decode(
        &model,
        &encode(&model, &img, (o.quality - 0.06).max(0.0)).unwrap(),
        &Limits::default(),
    )
    .unwrap();
    assert!(o.psnr.unwrap() < want + 0.02 || img.psnr(&down).unwrap() < want);
    // Out of reach, or not a target: errors that say so.
    for (target, text) in [
        (Target::Bytes(smallest - 1), "the closest lic gets is"),
        (Target::Psnr(80.0), "the closest lic gets is"),
        (Target::Bpp(f64::NAN), "positive finite"),
        (Target::Bytes(0), "positive finite"),
    ] {
        let e = encode_to_target(&model, &img, target).unwrap_err();
        assert!(e.to_string().contains(text), "{target:?}: {e}");
    }
}

#[test]
fn icc_exif_and_xmp_travel_through_the_file_byte_for_byte() {
    use lic_codec::container::SectionKind;
    use lic_codec::{MAX_METADATA_BYTES, Metadata};
    let model = tiny(&Device::flex());
    let plain = asset("kodim19_71x53.png");
    let m = Metadata {
        icc_profile: Some((0..=255u8).cycle().take(3144).collect()),
        exif: Some(b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec()),
        xmp: Some(b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>".to_vec()),
    };
    let img = plain.clone().with_metadata(m.clone());
    let bytes = encode(&model, &img, 50.0).unwrap();
    // Three ancillary sections after the codec's, and nothing else changed.
    let file = LicFile::parse(&bytes, &Limits::default()).unwrap();
    let kinds: Vec<SectionKind> = file.frames[0].sections.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds[kinds.len() - 3..],
        [
            SectionKind::ICC_PROFILE,
            SectionKind::EXIF,
            SectionKind::XMP
        ]
    );
    let without = encode(&model, &plain, 50.0).unwrap();
    let back = decode(&model, &bytes, &Limits::default()).unwrap();
    assert!(back.metadata() == &m, "the metadata decoded differs");
    assert_eq!(
        back.pixels(),
        decode(&model, &without, &Limits::default())
            .unwrap()
            .pixels()
    );
    // A file without metadata decodes with none; too much is refused with the way out.
    assert!(
        decode(&model, &without, &Limits::default())
            .unwrap()
            .metadata()
            .is_empty()
    );
    let huge = plain.with_metadata(Metadata {
        icc_profile: Some(vec![0; MAX_METADATA_BYTES + 1]),
        ..Metadata::default()
    });
    let e = encode(&model, &huge, 50.0).unwrap_err();
    assert!(e.to_string().contains("--strip"), "{e}");
}
