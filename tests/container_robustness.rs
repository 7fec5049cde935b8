//! A valid `.lic` file, damaged in every way we can enumerate, must give a typed error:
//! never a panic, never a file that parses to something else.

use lic_entropy::{
    Chroma, ColorFormat, ColorMatrix, ColorRange, Error, Fingerprint, Frame, FrameKind, Header,
    LicFile, Limits, Section, SectionKind, StreamDecoder, StreamEncoder, VideoInfo,
    gaussian_tables,
};
use proptest::prelude::*;

mod common;
use common::regression_inputs;

/// A small but real file: a video of two frames whose sections are actual rANS streams.
fn sample() -> (LicFile, Vec<Vec<i32>>, Vec<u16>) {
    let tables = gaussian_tables();
    let indices: Vec<u16> = (0..400).map(|i| (i * 13 % 60) as u16).collect();
    let mut streams = Vec::new();
    let mut all_symbols = Vec::new();
    for seed in 0..4 {
        let symbols: Vec<i32> = (0..400)
            .map(|i: i32| ((i * 7 + seed * 31) % 17) - 8 + if i == 5 { 9000 } else { 0 })
            .collect();
        let mut enc = StreamEncoder::new(tables);
        enc.push(&symbols, &indices).unwrap();
        streams.push(enc.finish().unwrap());
        all_symbols.push(symbols);
    }
    let frame = |a: usize, b: usize| Frame {
        kind: FrameKind::Intra,
        sections: vec![
            Section {
                kind: SectionKind::HYPER,
                data: streams[a].clone(),
            },
            Section {
                kind: SectionKind::LATENT,
                data: streams[b].clone(),
            },
            Section {
                kind: SectionKind::METADATA,
                data: b"source=test".to_vec(),
            },
        ],
    };
    let file = LicFile {
        header: Header {
            fingerprint: Fingerprint(*b"lic-test"),
            width: 300,
            height: 17,
            color: ColorFormat::Rgb8,
            quality_x100: 7550,
            video: Some(VideoInfo {
                frame_rate: (25, 1),
                chroma: Chroma::Yuv422,
                matrix: ColorMatrix::Bt601,
                range: ColorRange::Full,
                intra_period: 1,
                temporal: None,
            }),
        },
        frames: vec![frame(0, 1), frame(2, 3)],
    };
    (file, all_symbols, indices)
}

#[test]
fn sample_parses_and_its_streams_decode() {
    let (file, symbols, indices) = sample();
    let bytes = file.to_bytes().unwrap();
    let parsed = LicFile::parse(&bytes, &Limits::default()).unwrap();
    assert_eq!(parsed, file);
    let mut decoded = Vec::new();
    for frame in &parsed.frames {
        for kind in [SectionKind::HYPER, SectionKind::LATENT] {
            for data in frame.sections_of(kind) {
                let mut dec = StreamDecoder::new(gaussian_tables(), data).unwrap();
                decoded.push(dec.decode_vec(&indices).unwrap());
                dec.finish().unwrap();
            }
        }
    }
    assert_eq!(decoded, symbols);
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = sample().0.to_bytes().unwrap();
    for n in 0..bytes.len() {
        let err = LicFile::parse(&bytes[..n], &Limits::default())
            .expect_err(&format!("truncated to {n} bytes but parsed"));
        assert!(
            matches!(
                err,
                Error::Truncated { .. } | Error::NotLic { .. } | Error::ChecksumMismatch { .. }
            ),
            "truncated to {n}: unexpected {err:?}"
        );
    }
}

#[test]
fn every_single_bit_flip_is_an_error() {
    let bytes = sample().0.to_bytes().unwrap();
    for i in 0..bytes.len() * 8 {
        let mut damaged = bytes.clone();
        damaged[i / 8] ^= 1 << (i % 8);
        assert!(
            LicFile::parse(&damaged, &Limits::default()).is_err(),
            "bit {i} flipped but the file still parsed"
        );
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = sample().0.to_bytes().unwrap();
    bytes.push(0);
    assert_eq!(
        LicFile::parse(&bytes, &Limits::default()),
        Err(Error::TrailingData { count: 1 })
    );
}

#[test]
fn wrong_files_say_what_they_are_not() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let err = LicFile::parse(png, &Limits::default()).unwrap_err();
    assert!(matches!(err, Error::NotLic { .. }));
    assert!(err.to_string().contains("not a .lic file"));
    assert!(matches!(
        LicFile::parse(b"", &Limits::default()),
        Err(Error::NotLic { .. })
    ));
}

/// A header that claims 2^32 - 1 frames of 2^20 x 2^20 pixels must be refused by the
/// limits, and even with no limits must not reserve memory for what is not there.
#[test]
fn hostile_counts_do_not_allocate() {
    let mut file = sample().0;
    file.header.width = 1 << 20;
    file.header.height = 1 << 20;
    let bytes = file.to_bytes().unwrap();
    assert!(matches!(
        LicFile::parse(&bytes, &Limits::default()),
        Err(Error::LimitExceeded {
            what: "pixel count",
            ..
        })
    ));
    assert!(LicFile::parse(&bytes, &Limits::unlimited()).is_ok());

    // Hand-made: a valid video header claiming u32::MAX frames followed by nothing.
    let header = |video: &[u8]| {
        let mut h = Vec::new();
        h.extend_from_slice(&lic_entropy::MAGIC);
        h.push(lic_entropy::FORMAT_VERSION);
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&[16, 16, 0, 0, 0]); // 16 x 16, RGB, quality 0
        h.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]); // frame_count = u32::MAX
        h.push(video.len() as u8);
        h.extend_from_slice(video);
        let crc = crc32(&h);
        h.extend_from_slice(&crc.to_le_bytes());
        h
    };
    // 25/1 fps, 4:2:0, BT.601, limited, intra period 1, no temporal networks.
    let evil = header(&[25, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(matches!(
        LicFile::parse(&evil, &Limits::unlimited()),
        Err(Error::Truncated {
            what: "frame kind",
            ..
        })
    ));
    assert!(matches!(
        LicFile::parse(&evil, &Limits::default()),
        Err(Error::LimitExceeded {
            what: "frame count",
            ..
        })
    ));
    // A still image must declare exactly one frame.
    assert!(matches!(
        LicFile::parse(&header(&[]), &Limits::unlimited()),
        Err(Error::InvalidField {
            field: "frame_count",
            ..
        })
    ));
}

fn crc32(bytes: &[u8]) -> u32 {
    // Bitwise CRC-32 (IEEE), independent of the crate under test.
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random overwrites and a cut anywhere, in the whole-file form and the streamed one (frame
    /// count 0, the end marker counts): an error, or (only if the CRCs happen to match) a file
    /// that serialises back to exactly the damaged bytes; the streaming reader agrees with the
    /// whole-file parser (`check_container`). Never a panic.
    #[test]
    fn random_damage_never_panics(
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        streamed in any::<bool>(),
        cut in any::<usize>(),
    ) {
        let file = sample().0;
        let mut bytes = if streamed {
            let mut w = lic_entropy::FrameWriter::new(Vec::new(), &file.header).unwrap();
            for f in &file.frames {
                w.write_frame(f).unwrap();
            }
            w.finish().unwrap()
        } else {
            file.to_bytes().unwrap()
        };
        for (pos, value) in edits {
            let n = bytes.len();
            bytes[pos % n] = value;
        }
        lic_entropy::fuzzing::check_container(&bytes);
        lic_entropy::fuzzing::check_container(&bytes[..cut % (bytes.len() + 1)]);
        if !streamed && let Ok(file) = LicFile::parse(&bytes, &Limits::default()) {
            prop_assert_eq!(file.to_bytes().unwrap(), bytes);
        }
    }

    #[test]
    fn arbitrary_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        lic_entropy::fuzzing::check_container(&bytes);
        let mut with_magic = lic_entropy::MAGIC.to_vec();
        with_magic.push(lic_entropy::FORMAT_VERSION);
        with_magic.extend_from_slice(&bytes);
        lic_entropy::fuzzing::check_container(&with_magic);
    }
}

/// Inputs that once broke a fuzz target (`fuzz/regressions/container/`) stay fixed.
#[test]
fn fuzz_regressions_stay_fixed() {
    for data in regression_inputs("container") {
        lic_entropy::fuzzing::check_container(&data);
    }
}

/// `fuzz/regressions/container/seed-valid-two-frames.lic` was written by a few lines of
/// Python from docs/FORMAT.md alone (no lic code): the format page and the parser agree.
#[test]
fn file_written_from_the_format_page_parses() {
    let data = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/regressions/container/seed-valid-two-frames.lic"),
    )
    .unwrap();
    let file = LicFile::parse(&data, &Limits::default()).unwrap();
    assert_eq!(file.header.fingerprint, Fingerprint(*b"seedfile"));
    assert_eq!((file.header.width, file.header.height), (768, 512));
    assert_eq!(file.header.color, ColorFormat::Rgb8);
    assert_eq!(file.header.quality_x100, 5000);
    let video = file.header.video.unwrap();
    assert_eq!(video.frame_rate, (30000, 1001));
    assert_eq!(
        (video.chroma, video.matrix, video.range, video.intra_period),
        (Chroma::Yuv420, ColorMatrix::Bt709, ColorRange::Limited, 1)
    );
    assert_eq!(file.frames.len(), 2);
    let kinds: Vec<u8> = file.frames[0].sections.iter().map(|s| s.kind.0).collect();
    assert_eq!(kinds, [0x01, 0x02, 0x81]);
    assert_eq!(file.frames[0].sections[2].data, b"source=seed");
    assert_eq!(file.frames[1].sections[1].data, b"");
    // The seed is a version-3 file (no temporal fingerprint in its video block). Written
    // again by this build (version 4) as a whole and as a stream (frame count 0 in the
    // header, the end marker counts), it reads back alike.
    assert_eq!(data[4], 3);
    assert_eq!(video.temporal, None);
    let whole = file.to_bytes().unwrap();
    assert_eq!(LicFile::parse(&whole, &Limits::default()).unwrap(), file);
    let mut w = lic_entropy::FrameWriter::new(Vec::new(), &file.header).unwrap();
    for f in &file.frames {
        w.write_frame(f).unwrap();
    }
    let streamed = w.finish().unwrap();
    assert_eq!(streamed[4], lic_entropy::FORMAT_VERSION);
    assert_eq!(LicFile::parse(&streamed, &Limits::default()).unwrap(), file);
}
