//! The decoder-only build (`lic-codec` with `default-features = false`) must pull in no
//! autodiff, optimiser, GPU stack, ffmpeg or plotting. Checked on the resolved dependency
//! graph with `cargo tree`, which costs no compilation.

use std::process::Command;

fn tree(features: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "tree",
        "-p",
        "lic-codec",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--no-default-features",
        "--offline",
    ]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let out = cmd.output().expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const TRAINING_OR_HEAVY: [&str; 7] = [
    "burn-autodiff ",
    "burn-optim ",
    "burn-wgpu ",
    "cubecl-wgpu ",
    "ffmpeg",
    "plotters ",
    "burn-train ",
];

#[test]
fn decoder_only_build_has_no_training_gpu_or_video_dependencies() {
    let lean = tree(&[]);
    assert!(lean.contains("burn-flex "), "the CPU backend is there");
    for name in TRAINING_OR_HEAVY {
        assert!(!lean.contains(name), "`{name}` in the decoder-only build");
    }
    // The check can fail: the full build does contain them.
    let full = tree(&["wgpu", "train"]);
    assert!(full.contains("burn-autodiff ") && full.contains("burn-wgpu "));
}
