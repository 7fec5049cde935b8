//! lic-codec with its default features, what an application embeds, must pull in no autodiff,
//! optimiser, GPU stack, ffmpeg, plotting, nor lic's training and evaluation crates. Checked
//! on the resolved dependency graph with `cargo tree`, which costs no compilation.

use std::process::Command;

fn tree(package: &str, features: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "tree",
        "-p",
        package,
        "-e",
        "normal",
        "--prefix",
        "none",
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

const TRAINING_OR_HEAVY: [&str; 10] = [
    "burn-autodiff ",
    "burn-optim ",
    "burn-wgpu ",
    "cubecl-wgpu ",
    "ffmpeg",
    "plotters ",
    "burn-train ",
    "lic-train ",
    "lic-eval ",
    "indicatif ",
];

#[test]
fn the_default_codec_build_has_no_training_gpu_or_video_dependencies() {
    let lean = tree("lic-codec", &[]);
    assert!(lean.contains("burn-flex "), "the CPU backend is there");
    for name in TRAINING_OR_HEAVY {
        assert!(
            !lean.contains(name),
            "`{name}` in lic-codec's default build"
        );
    }
    // The check can fail: the GPU feature and the training crate do bring them in.
    assert!(tree("lic-codec", &["wgpu"]).contains("burn-wgpu "));
    assert!(tree("lic-train", &[]).contains("burn-autodiff "));
}
