//! Drives the `lic` binary the way a user does.

use std::path::Path;
use std::process::{Command, Output};

use lic_codec::entropy::{
    ColorFormat, Fingerprint, Frame, FrameKind, Header, LicFile, Section, SectionKind,
};

fn lic(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lic"))
        .args(args)
        .output()
        .expect("run lic")
}

fn write_sample(dir: &Path) -> (std::path::PathBuf, usize) {
    let file = LicFile {
        header: Header {
            fingerprint: Fingerprint([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]),
            width: 64,
            height: 48,
            color: ColorFormat::Gray8,
            quality_x100: 4250,
        },
        frames: vec![Frame {
            kind: FrameKind::Intra,
            sections: vec![
                Section {
                    kind: SectionKind::HYPER,
                    data: vec![1; 10],
                },
                Section {
                    kind: SectionKind::LATENT,
                    data: vec![2; 100],
                },
            ],
        }],
    };
    let bytes = file.to_bytes().unwrap();
    let path = dir.join("sample.lic");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes.len())
}

#[test]
fn info_prints_header_sections_and_bpp() {
    let dir = tempfile::tempdir().unwrap();
    let (path, len) = write_sample(dir.path());
    let out = lic(&["info", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("deadbeef00010203"), "{text}");
    assert!(text.contains("64 x 48 gray8"), "{text}");
    assert!(text.contains("42.50"), "{text}");
    let bpp = 8.0 * len as f64 / (64.0 * 48.0);
    assert!(text.contains(&format!("{bpp:.4} bpp")), "{text}");
    assert!(
        text.contains("latent") && text.contains("100 bytes"),
        "{text}"
    );
}

#[test]
fn info_json_is_machine_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (path, len) = write_sample(dir.path());
    let out = lic(&["info", "--json", path.to_str().unwrap()]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["file_bytes"], len);
    assert_eq!(v["width"], 64);
    assert_eq!(v["frames"][0]["sections"][1]["bytes"], 100);
    assert_eq!(v["frames"][0]["sections"][0]["name"], "hyper-latent");
}

#[test]
fn info_reads_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_lic"))
        .args(["info", "-"])
        .stdin(std::fs::File::open(&path).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("deadbeef00010203")
    );
}

#[test]
fn damaged_or_foreign_files_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 7;
    bytes[last] ^= 0x10;
    let damaged = dir.path().join("damaged.lic");
    std::fs::write(&damaged, &bytes).unwrap();
    let truncated = dir.path().join("truncated.lic");
    std::fs::write(&truncated, &bytes[..20]).unwrap();
    let foreign = dir.path().join("image.png");
    std::fs::write(&foreign, b"\x89PNG\r\n\x1a\n").unwrap();

    for (file, expect) in [
        (&damaged, "CRC-32"),
        (&truncated, "truncated"),
        (&foreign, "not a .lic file"),
        (&dir.path().join("missing.lic"), "cannot read"),
    ] {
        let out = lic(&["info", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", file.display());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(expect), "{}: {err}", file.display());
        assert!(!err.contains("panicked"), "{err}");
    }
}
