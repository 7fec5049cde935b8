//! Video through lic-codec: a Y4M clip coded frame by frame and decoded back, streaming,
//! seeking, thread independence, and damaged clips (every complete frame before the damage
//! is delivered, the damage is named, nothing panics).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use lic_codec::container::{Chroma, ColorMatrix, ColorRange, FrameKind, VideoInfo};
use lic_codec::video::y4m::{Y4mReader, Y4mWriter};
use lic_codec::video::yuv::YuvFrame;
use lic_codec::{
    Device, Error, FormatError, Image, Limits, Model, ModelFile, VideoDecoder, VideoEncoder,
};

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets")
}

fn tiny() -> Model {
    let bytes = std::fs::read(assets().join("models/tiny-seed7.licm")).unwrap();
    Model::from_bytes(&bytes, &Device::flex()).unwrap()
}

/// The shipped model with seeded temporal networks (`with_test_temporal`): it codes inter
/// frames. (The untrained tiny model's parameters saturate, every scale at the end of the
/// tables' range, so temporal features would change nothing it codes.)
fn shipped_temporal() -> Model {
    with_temporal(lic_models::default_model_bytes(), 7)
}

/// The model in `bytes` with seeded temporal networks of width 4.
fn with_temporal(bytes: &[u8], seed: u64) -> Model {
    let file = ModelFile::from_bytes(bytes).unwrap();
    let file = lic_codec::internals::with_test_temporal(&file, 4, seed).unwrap();
    Model::from_file(&file, &Device::flex()).unwrap()
}

/// `info` with an intra period of `period` (inter frames between, with a temporal model).
fn every(info: VideoInfo, period: u32) -> VideoInfo {
    VideoInfo {
        intra_period: period,
        ..info
    }
}

fn clip_bytes() -> Vec<u8> {
    std::fs::read(assets().join("video/park_joy_96x64_4f.y4m")).unwrap()
}

/// The test clip's frames as RGB, and its video block.
fn clip() -> (Vec<Image>, VideoInfo) {
    let bytes = clip_bytes();
    let reader = Y4mReader::new(Cursor::new(bytes), &Limits::default()).unwrap();
    let h = reader.header().clone();
    assert_eq!((h.width, h.height, h.frame_rate), (96, 64, (50, 1)));
    assert_eq!(
        (h.chroma, h.range),
        (Chroma::Yuv420, Some(ColorRange::Limited))
    );
    let frames: Vec<Image> = reader
        .map(|f| f.unwrap().to_image(ColorMatrix::Bt601, ColorRange::Limited))
        .collect();
    let info = VideoInfo {
        frame_rate: h.frame_rate,
        chroma: h.chroma,
        matrix: ColorMatrix::Bt601,
        range: ColorRange::Limited,
        intra_period: 1,
        temporal: None,
    };
    (frames, info)
}

/// The clip coded by `model`: intra frames at the intra period, inter frames between.
fn encode_clip(model: &Model, frames: &[Image], info: VideoInfo, q: f32) -> Vec<u8> {
    let mut enc = VideoEncoder::new(model, Vec::new(), (96, 64), q, info).unwrap();
    let video = enc.header().video.unwrap();
    assert_eq!(
        video.temporal,
        model
            .temporal_fingerprint()
            .filter(|_| info.intra_period != 1)
    );
    for (i, f) in frames.iter().enumerate() {
        let stats = enc.encode(f).unwrap();
        let kind = if video.temporal.is_some() && !video.is_intra(i as u64) {
            FrameKind::Inter
        } else {
            FrameKind::Intra
        };
        assert_eq!((stats.index, stats.kind), (i as u64, kind));
    }
    enc.finish().unwrap()
}

fn decode_all(model: &Model, bytes: &[u8]) -> Vec<Image> {
    VideoDecoder::new(model, bytes, &Limits::default())
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_clip_round_trips_frame_by_frame_as_its_images_would() {
    let model = tiny();
    let (frames, info) = clip();
    assert_eq!(frames.len(), 4);
    let bytes = encode_clip(&model, &frames, info, 60.0);
    let dec = VideoDecoder::new(&model, bytes.as_slice(), &Limits::default()).unwrap();
    assert_eq!(dec.header().video, Some(info));
    let decoded = decode_all(&model, &bytes);
    assert_eq!(decoded.len(), 4);
    // Each frame is the image codec's: the same pixels as a still-image round trip.
    for (f, d) in frames.iter().zip(&decoded) {
        let still = lic_codec::encode(&model, f, 60.0).unwrap();
        assert_eq!(
            &lic_codec::decode(&model, &still, &Limits::default()).unwrap(),
            d
        );
    }
    // And back to Y4M: the same size and sampling, close to the source.
    let mut w = Y4mWriter::new(
        Vec::new(),
        Y4mReader::new(Cursor::new(clip_bytes()), &Limits::default())
            .unwrap()
            .header()
            .clone(),
    )
    .unwrap();
    for d in &decoded {
        w.write_frame(&YuvFrame::from_image(d, Chroma::Yuv420, info.matrix, info.range).unwrap())
            .unwrap();
    }
    let y4m = w.finish().unwrap();
    let source = clip_bytes();
    assert_eq!(y4m.len(), source.len() - "XYSCSS=420JPEG ".len());
}

#[test]
fn seeking_gives_the_frames_of_a_decode_from_the_start() {
    let model = tiny();
    let (frames, info) = clip();
    let bytes = encode_clip(&model, &frames, info, 40.0);
    let all = decode_all(&model, &bytes);
    let mut dec = VideoDecoder::new(&model, bytes.as_slice(), &Limits::default()).unwrap();
    dec.skip_to(2).unwrap();
    assert_eq!(dec.next_frame().unwrap().as_ref(), Some(&all[2]));
    assert_eq!(dec.next_frame().unwrap().as_ref(), Some(&all[3]));
    assert_eq!(dec.next_frame().unwrap(), None);
    // Past the end: nothing, no error.
    let mut dec = VideoDecoder::new(&model, bytes.as_slice(), &Limits::default()).unwrap();
    dec.skip_to(10).unwrap();
    assert_eq!(dec.next_frame().unwrap(), None);
}

#[test]
fn frames_decode_identically_with_one_and_two_threads() {
    let (frames, info) = clip();
    for (model, info) in [(tiny(), info), (shipped_temporal(), every(info, 0))] {
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let bytes = encode_clip(&model, &frames, info, 70.0);
                    let decoded = decode_all(&model, &bytes);
                    (bytes, decoded)
                })
        };
        assert_eq!(run(1), run(2));
    }
}

#[test]
fn inter_frames_code_against_the_frame_before_and_decode_exactly() {
    let (frames, info) = clip();
    let model = shipped_temporal();
    // Temporal networks leave the model's identity alone: its images still decode. `base` is
    // the shipped model without temporal networks.
    let mut stripped = ModelFile::new(
        ModelFile::from_bytes(lic_models::default_model_bytes())
            .unwrap()
            .config,
    );
    for (name, t) in ModelFile::from_bytes(lic_models::default_model_bytes())
        .unwrap()
        .tensors()
    {
        if !name.starts_with(lic_models::TEMPORAL_PREFIX) {
            stripped.push(name, t.clone()).unwrap();
        }
    }
    let base = Model::from_file(&stripped, &Device::flex()).unwrap();
    assert_eq!(model.fingerprint(), base.fingerprint());
    assert!(model.temporal_fingerprint().is_some() && base.temporal_fingerprint().is_none());
    let intra = encode_clip(&model, &frames, info, 60.0);
    let inter = encode_clip(&model, &frames, every(info, 2), 60.0);
    let file = lic_codec::container::LicFile::parse(&inter, &Limits::default()).unwrap();
    let kinds: Vec<FrameKind> = file.frames.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            FrameKind::Intra,
            FrameKind::Inter,
            FrameKind::Intra,
            FrameKind::Inter
        ]
    );
    let (a, b) = (decode_all(&model, &intra), decode_all(&model, &inter));
    // Intra frames are coded alike in both clips; inter frames differently (other means
    // and scales; the rANS streams would not end clean if the decoder's parameters differed
    // from the encoder's by one table index).
    let intra_file = lic_codec::container::LicFile::parse(&intra, &Limits::default()).unwrap();
    for i in [0, 2] {
        assert_eq!(file.frames[i], intra_file.frames[i]);
        assert_eq!(a[i], b[i]);
    }
    for i in [1, 3] {
        assert_ne!(file.frames[i].sections, intra_file.frames[i].sections);
        assert_eq!((b[i].width(), b[i].height()), (96, 64));
    }
    // A model without the temporal networks cannot decode the inter clip, and says why;
    // nor can it encode one.
    assert!(matches!(
        VideoDecoder::new(&base, inter.as_slice(), &Limits::default()),
        Err(Error::Temporal { .. })
    ));
    assert!(matches!(
        VideoEncoder::new(&base, Vec::new(), (96, 64), 60.0, every(info, 2)),
        Err(Error::Temporal { .. })
    ));
    // Another temporal model (other weights) is refused as well.
    let other = with_temporal(lic_models::default_model_bytes(), 8);
    assert!(matches!(
        VideoDecoder::new(&other, inter.as_slice(), &Limits::default()),
        Err(Error::Temporal { .. })
    ));
}

#[test]
fn seeking_into_inter_frames_decodes_from_the_intra_frame_before() {
    let (frames, info) = clip();
    let model = shipped_temporal();
    for period in [0, 2] {
        let bytes = encode_clip(&model, &frames, every(info, period), 50.0);
        let all = decode_all(&model, &bytes);
        for start in 0..4 {
            let mut dec = VideoDecoder::new(&model, bytes.as_slice(), &Limits::default()).unwrap();
            dec.skip_to(start).unwrap();
            let rest: Vec<Image> = dec.map(Result::unwrap).collect();
            assert_eq!(rest, all[start as usize..], "period {period}, from {start}");
        }
    }
}

#[test]
fn a_damaged_clip_delivers_every_frame_before_the_damage_and_names_it() {
    let (frames, info) = clip();
    for (model, info) in [(tiny(), info), (shipped_temporal(), every(info, 0))] {
        damaged_clip_is_reported(&model, &frames, info);
    }
}

fn damaged_clip_is_reported(model: &Model, frames: &[Image], info: VideoInfo) {
    let bytes = encode_clip(model, &frames[..3], info, 50.0);
    let good = decode_all(model, &bytes);
    let header = lic_codec::container::FrameReader::new(bytes.as_slice(), &Limits::default())
        .unwrap()
        .header_bytes();
    // Every truncation point (in steps, to keep the test short) and a bit flip per frame.
    let mut damaged: Vec<Vec<u8>> = (header..bytes.len())
        .step_by(97)
        .map(|n| bytes[..n].to_vec())
        .collect();
    for at in [header + 40, bytes.len() / 2, bytes.len() - 12] {
        let mut b = bytes.clone();
        b[at] ^= 0x08;
        damaged.push(b);
    }
    for b in damaged {
        let mut dec = VideoDecoder::new(model, b.as_slice(), &Limits::default()).unwrap();
        let mut delivered = 0;
        let err = loop {
            match dec.next_frame() {
                Ok(Some(f)) => {
                    assert_eq!(f, good[delivered]);
                    delivered += 1;
                }
                Ok(None) => panic!("damaged clip of {} bytes decoded whole", b.len()),
                Err(e) => break e,
            }
        };
        match err {
            Error::Frame { index, error } => {
                assert_eq!(index, delivered as u64);
                assert!(matches!(*error, Error::Format(_)), "{error}");
            }
            e => panic!("not a frame error: {e}"),
        }
    }
}

#[test]
fn an_encoder_refuses_frames_of_another_size_and_a_decoder_another_model() {
    let model = tiny();
    let (frames, info) = clip();
    let mut enc = VideoEncoder::new(&model, Vec::new(), (96, 64), 50.0, info).unwrap();
    let odd = Image::new(8, 8, lic_codec::ColorFormat::Rgb8, vec![0; 192]).unwrap();
    assert!(matches!(
        enc.encode(&odd),
        Err(Error::FrameMismatch { index: 0, .. })
    ));
    enc.encode(&frames[0]).unwrap();
    let bytes = enc.finish().unwrap();
    let default = Model::default_model(&Device::flex()).unwrap();
    assert!(matches!(
        VideoDecoder::new(&default, bytes.as_slice(), &Limits::default()),
        Err(Error::Format(FormatError::UnknownModel { .. }))
    ));
}

#[test]
fn y4m_inputs_lic_cannot_read_are_refused_with_a_reason() {
    let limits = Limits::default();
    let read = |text: &[u8]| Y4mReader::new(Cursor::new(text.to_vec()), &limits).map(|_| ());
    for (input, says) in [
        (&b""[..], "empty"),
        (b"RIFF....\n", "YUV4MPEG2"),
        (b"YUV4MPEG2 W16 F25:1\n", "no W"),
        (b"YUV4MPEG2 W16 H16 C420p10\n", "8-bit"),
        (b"YUV4MPEG2 W16 H16 Cmono\n", "not supported"),
        (b"YUV4MPEG2 W16 H16 F0:1\n", "zero"),
        (b"YUV4MPEG2 W16 H16 Q3\n", "unknown"),
        (b"YUV4MPEG2 W16 H16", "ends inside"),
        (b"YUV4MPEG2 W0 H16\n", "1..="),
        (b"YUV4MPEG2 W99999999 H99999999\n", "1..="),
        (b"YUV4MPEG2 W60000 H60000\n", "limit"),
    ] {
        let err = read(input).unwrap_err().to_string();
        assert!(err.contains(says), "{input:?}: {err}");
    }
    let long = [b"YUV4MPEG2 ".to_vec(), vec![b'X'; 5000], b"\n".to_vec()].concat();
    assert!(read(&long).unwrap_err().to_string().contains("longer"));
    // A frame cut short, and a missing FRAME marker, name the frame.
    let mut clip = clip_bytes();
    clip.truncate(clip.len() - 10);
    let results: Vec<_> = Y4mReader::new(Cursor::new(clip), &limits)
        .unwrap()
        .collect();
    assert_eq!(results.len(), 4);
    assert!(
        results[3]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("frame 3 is truncated")
    );
    let bad = b"YUV4MPEG2 W2 H2\nFRAMX\n......".to_vec();
    let mut r = Y4mReader::new(Cursor::new(bad), &limits).unwrap();
    assert!(r.next_frame().unwrap_err().to_string().contains("frame 0"));
}

/// Inputs of the fuzz targets `y4m` and `video_decode` (`fuzz/regressions/`) pass their checks.
#[test]
fn fuzz_regressions_stay_fixed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let inputs = |target: &str| -> Vec<Vec<u8>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(target))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read(p).unwrap()).collect()
    };
    // The fuzz target's model: the tiny one with seeded temporal networks.
    let model = tiny_with_temporal();
    for data in inputs("y4m") {
        lic_codec::internals::fuzzing::check_y4m(&data);
    }
    for data in inputs("video_decode") {
        lic_codec::internals::fuzzing::check_video_decode(&model, &data);
        // The seeds are real clips: they decode whole.
        assert_eq!(decode_all(&model, &data).len(), 4);
    }
}

fn tiny_with_temporal() -> Model {
    with_temporal(
        &std::fs::read(assets().join("models/tiny-seed7.licm")).unwrap(),
        7,
    )
}

/// The inter-frame seed of the `video_decode` fuzz target is the test clip coded by the fuzz
/// target's model with an intra frame first only, as this build writes it. `LIC_BLESS=1`
/// rewrites it (after a format change).
#[test]
fn the_inter_fuzz_seed_is_current() {
    let (frames, info) = clip();
    let bytes = encode_clip(&tiny_with_temporal(), &frames, every(info, 0), 50.0);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions/video_decode/seed-tiny-inter-4f.lic");
    if std::env::var_os("LIC_BLESS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "LIC_BLESS=1 rewrites it"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Overwrites in the Y4M header and around the frame markers, and a cut anywhere: the
    /// reader returns frames or an error, never panics, and what it read writes back alike.
    #[test]
    fn damaged_y4m_never_panics(
        edits in proptest::collection::vec((0usize..200, proptest::prelude::any::<u8>()), 1..6),
        cut in proptest::prelude::any::<usize>(),
    ) {
        let mut bytes = clip_bytes();
        // The header line and the first FRAME line lie within the first 100 bytes; the
        // second FRAME line follows the first frame's planes.
        let header = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        let second = header + 6 + 96 * 64 * 3 / 2;
        assert_eq!(&bytes[second..second + 6], b"FRAME\n");
        for (pos, value) in edits {
            let at = if pos < 100 { pos } else { second - 50 + pos - 100 };
            bytes[at] = value;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        lic_codec::internals::fuzzing::check_y4m(&bytes);
    }
}

/// A clip with inter frames written on one backend decodes on the other: the integer entropy
/// path (temporal networks included) runs on the CPU whatever the backend, so both decoders
/// see the same latents and the pictures differ only by the float synthesis's rounding.
#[cfg(feature = "wgpu")]
#[test]
fn inter_frames_decode_alike_on_the_cpu_and_on_wgpu() {
    let gpu = lic_codec::wgpu_device().unwrap();
    let bytes = std::fs::read(assets().join("models/tiny-seed7.licm")).unwrap();
    let file =
        lic_codec::internals::with_test_temporal(&ModelFile::from_bytes(&bytes).unwrap(), 4, 7)
            .unwrap();
    let on_gpu = Model::from_file(&file, &gpu).unwrap();
    let on_cpu = Model::from_file(&file, &Device::flex()).unwrap();
    let (frames, info) = clip();
    for (writer, name) in [(&on_gpu, "wgpu"), (&on_cpu, "cpu")] {
        let clip = encode_clip(writer, &frames, every(info, 0), 60.0);
        let (a, b) = (decode_all(&on_cpu, &clip), decode_all(&on_gpu, &clip));
        assert_eq!(a.len(), 4);
        for (x, y) in a.iter().zip(&b) {
            let worst = x
                .pixels()
                .iter()
                .zip(y.pixels())
                .map(|(&p, &q)| p.abs_diff(q))
                .max()
                .unwrap();
            assert!(
                worst <= 1,
                "written on {name}: CPU and wgpu frames differ by {worst}"
            );
        }
    }
}
