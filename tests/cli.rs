//! Drives the `lic` binary the way a user does.

use std::path::Path;
use std::process::{Command, Output};

use lic_entropy::{
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
            video: None,
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

fn asset(name: &str) -> String {
    format!("{}/../assets/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn lic_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lic"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run lic");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `o` is a failure whose message says `text`.
fn assert_fails_with(o: &Output, text: &str) {
    assert!(!o.status.success(), "succeeded: {}", stderr(o));
    assert!(stderr(o).contains(text), "{}", stderr(o));
}

#[test]
fn encode_then_decode_round_trips_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let lic_path = dir.path().join("a.lic");
    let png_path = dir.path().join("a.png");
    let (l, p) = (lic_path.to_str().unwrap(), png_path.to_str().unwrap());
    let o = lic(&[
        "encode",
        &asset("kodim19_71x53.png"),
        "-o",
        l,
        "-q",
        "80",
        "--metrics",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = stderr(&o);
    assert!(
        report.contains("bpp") && report.contains("PSNR"),
        "{report}"
    );
    let info = lic(&["info", l, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(json["width"], 71);
    assert_eq!(json["quality"], 80.0);
    // A decode that would need more memory than --max-memory allows is refused, named.
    let o = lic(&["decode", l, "-o", p, "--max-memory", "64"]);
    assert_fails_with(&o, "--max-memory");
    assert_fails_with(&o, "decoder memory");
    assert!(!png_path.exists());
    let o = lic(&["decode", l, "-o", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    let img = lic_codec::Image::open(&png_path).unwrap();
    assert_eq!((img.width(), img.height()), (71, 53));
}

#[test]
fn refined_encodes_are_smaller_and_decode_with_the_plain_decoder() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, refined) = (dir.path().join("p.lic"), dir.path().join("r.lic"));
    let (p, r) = (plain.to_str().unwrap(), refined.to_str().unwrap());
    let image = asset("kodim23_crop.png");
    let o = lic(&["encode", &image, "-o", p, "-q", "100"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lic(&[
        "encode",
        &image,
        "-o",
        r,
        "-q",
        "100",
        "--refine",
        "6",
        "--metrics",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("refinement"), "{}", stderr(&o));
    let size = |f: &Path| std::fs::metadata(f).unwrap().len();
    assert!(
        size(&refined) < size(&plain),
        "{} vs {}",
        size(&refined),
        size(&plain)
    );
    let png = dir.path().join("r.png");
    let o = lic(&["decode", r, "-o", png.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lic(&[
        "encode",
        &image,
        "-o",
        r,
        "--force",
        "--refine",
        "2",
        "--refine-lr",
        "0",
    ]);
    assert_fails_with(&o, "outside (0, 10]");
}

#[test]
fn outputs_are_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("taken.lic");
    std::fs::write(&out, b"precious").unwrap();
    let o = out.to_str().unwrap();
    let r = lic(&["encode", &asset("kodim08_gray64.png"), "-o", o]);
    assert!(!r.status.success());
    assert!(stderr(&r).contains("already exists"), "{}", stderr(&r));
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    let r = lic(&["encode", &asset("kodim08_gray64.png"), "-o", o, "--force"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_ne!(std::fs::read(&out).unwrap(), b"precious");
}

#[test]
fn standard_input_and_output_work_for_encode_and_decode() {
    let png = std::fs::read(asset("kodim08_gray64.png")).unwrap();
    let enc = lic_stdin(&["encode", "-", "-o", "-", "-q", "30"], &png);
    assert!(enc.status.success(), "{}", stderr(&enc));
    assert_eq!(&enc.stdout[..4], b"\x89LIC");
    let dec = lic_stdin(&["decode", "-", "-o", "-"], &enc.stdout);
    assert!(dec.status.success(), "{}", stderr(&dec));
    assert_eq!(&dec.stdout[1..4], b"PNG");
}

#[test]
fn bad_inputs_fail_with_a_message_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.lic");
    let o = out.to_str().unwrap();
    // Not an image.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let r = lic(&["encode", text.to_str().unwrap(), "-o", o]);
    assert!(!r.status.success() && stderr(&r).contains("lic: error:"));
    // Transparency is refused, not dropped.
    let rgba = image::RgbaImage::from_fn(8, 8, |x, _| image::Rgba([1, 2, 3, (x * 30) as u8]));
    let rgba_path = dir.path().join("alpha.png");
    rgba.save(&rgba_path).unwrap();
    let r = lic(&["encode", rgba_path.to_str().unwrap(), "-o", o]);
    assert!(stderr(&r).contains("transparency"), "{}", stderr(&r));
    // 16-bit is refused.
    let deep = image::ImageBuffer::<image::Rgb<u16>, _>::from_pixel(4, 4, image::Rgb([1, 2, 3]));
    let deep_path = dir.path().join("deep.png");
    deep.save(&deep_path).unwrap();
    let r = lic(&["encode", deep_path.to_str().unwrap(), "-o", o]);
    assert!(stderr(&r).contains("16"), "{}", stderr(&r));
    // Quality out of range.
    let r = lic(&["encode", &asset("kodim08_gray64.png"), "-o", o, "-q", "101"]);
    assert!(!r.status.success());
    assert!(!out.exists());
}

/// Without a usable GPU adapter, `--backend wgpu` is an error message, not the panic of
/// burn's lazy device (exit 101). The environment hides every Vulkan driver and EGL vendor,
/// the two ways wgpu finds an adapter on Linux.
#[test]
fn wgpu_without_an_adapter_fails_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.lic");
    let input = asset("kodim19_71x53.png");
    let r = Command::new(env!("CARGO_BIN_EXE_lic"))
        .args([
            "encode",
            &input,
            "-o",
            out.to_str().unwrap(),
            "--backend",
            "wgpu",
        ])
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json")
        .output()
        .expect("run lic");
    let text = stderr(&r);
    assert_eq!(r.status.code(), Some(1), "{text}");
    assert!(
        text.contains("lic: error:") && text.contains("no usable wgpu adapter"),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
    assert!(!out.exists());
}

#[test]
fn damaged_lic_files_fail_cleanly_on_decode() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("g.lic");
    let r = lic(&[
        "encode",
        &asset("kodim08_gray64.png"),
        "-o",
        good.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let bytes = std::fs::read(&good).unwrap();
    let out = dir.path().join("out.png");
    for (name, data, expect) in [
        ("truncated", bytes[..bytes.len() - 3].to_vec(), "truncated"),
        (
            "flipped",
            {
                let mut b = bytes.clone();
                let i = b.len() - 10;
                b[i] ^= 0x40;
                b
            },
            "corrupted",
        ),
    ] {
        let path = dir.path().join(format!("{name}.lic"));
        std::fs::write(&path, data).unwrap();
        let r = lic(&[
            "decode",
            path.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(!r.status.success(), "{name}");
        assert!(stderr(&r).contains(expect), "{name}: {}", stderr(&r));
        assert!(!out.exists());
    }
    let r = lic(&[
        "decode",
        good.to_str().unwrap(),
        "-o",
        dir.path().join("x.jpg").to_str().unwrap(),
    ]);
    assert!(
        stderr(&r).contains("lossless output format"),
        "{}",
        stderr(&r)
    );
}

fn asset_path(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets")
        .join(rel)
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn eval_measures_real_files_and_writes_json_csv_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let o = lic(&[
        "eval",
        &asset_path("train"),
        "-q",
        "10,90",
        "--jpeg-quality",
        "20,50,80",
        "--json",
        &out("r.json"),
        "--csv",
        &out("r.csv"),
        "--plot",
        &out("r.svg"),
        "--anchor",
        &asset_path("anchors/compressai/image/kodak/jpeg.json"),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("BD-rate"), "{stdout}");
    // One JSON per codec, in CompressAI's layout, with the environment block.
    let ours: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out("r-lic.json")).unwrap()).unwrap();
    assert_eq!(ours["results"]["bpp"].as_array().unwrap().len(), 2);
    assert_eq!(ours["results"]["psnr-rgb"].as_array().unwrap().len(), 2);
    assert!(ours["environment"]["model"]["fingerprint"].is_string());
    let jpeg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out("r-jpeg.json")).unwrap()).unwrap();
    assert_eq!(jpeg["results"]["bpp"].as_array().unwrap().len(), 3);
    // bpp is the whole file's bits over the pixels, row by row.
    let csv = std::fs::read_to_string(out("r.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 4 * 2 + 4 * 3);
    for r in rows {
        let f: Vec<&str> = r.split(',').collect();
        let (w, h, bytes, bpp): (f64, f64, f64, f64) = (
            f[3].parse().unwrap(),
            f[4].parse().unwrap(),
            f[5].parse().unwrap(),
            f[6].parse().unwrap(),
        );
        assert!((bpp - 8.0 * bytes / (w * h)).abs() < 1e-5, "{r}");
        assert!(f[7].parse::<f64>().unwrap() > 10.0, "{r}");
    }
    let svg = std::fs::read_to_string(out("r.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("bits per pixel"));
    // Existing outputs are not overwritten without --force.
    let again = lic(&[
        "eval",
        &asset_path("train"),
        "--codec",
        "jpeg",
        "--csv",
        &out("r.csv"),
    ]);
    assert!(!again.status.success());
}

#[test]
fn bd_rate_reproduces_a_reference_value_and_refuses_bad_curves() {
    let vtm = asset_path("anchors/compressai/image/kodak/vtm.json");
    let jpeg = asset_path("anchors/compressai/image/kodak/jpeg.json");
    let o = lic(&["bd-rate", &vtm, &jpeg]);
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("+208.491") && s.contains("+210.223"), "{s}");
    let dir = tempfile::tempdir().unwrap();
    let far = dir.path().join("far.json");
    std::fs::write(
        &far,
        r#"{"name": "far", "results": {"bpp": [5, 6], "psnr-rgb": [60, 61]}}"#,
    )
    .unwrap();
    let o = lic(&["bd-rate", &vtm, far.to_str().unwrap()]);
    assert_fails_with(&o, "do not overlap");
}

#[test]
fn train_resume_export_then_encode_with_the_exported_model() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let data = asset_path("train");
    let base = [
        "train",
        "--data",
        &data,
        "--run",
        run_s,
        "--architecture",
        "tiny",
        "--crop",
        "64",
        "--batch",
        "2",
    ];
    // Not the default λ set: the exported model must record this one.
    let lambdas = "0.001,0.01,0.1";
    let o = lic(&[
        &base[..],
        &["--steps", "2", "--lambdas", lambdas, "--keep-checkpoints"],
    ]
    .concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let kept = run.join("checkpoints/step-00000002.licm");
    assert!(kept.is_file(), "no kept checkpoint");
    // A second new run in the same folder is refused; --resume continues it.
    let o = lic(&[&base[..], &["--steps", "3"]].concat());
    assert_fails_with(&o, "--resume");
    let o = lic(&[&base[..], &["--steps", "3", "--resume"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("3 steps"));
    let model = dir.path().join("m.licm");
    let o = lic(&[
        "export",
        run_s,
        "-o",
        model.to_str().unwrap(),
        "--name",
        "cli-test",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let coded = dir.path().join("a.lic");
    let m = model.to_str().unwrap();
    let img = asset_path("kodim19_71x53.png");
    let o = lic(&["encode", &img, "-o", coded.to_str().unwrap(), "--model", m]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let back = dir.path().join("a.png");
    let o = lic(&[
        "decode",
        coded.to_str().unwrap(),
        "-o",
        back.to_str().unwrap(),
        "--model",
        m,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // The float entropy path of the same weights: one point per trained level, close to the
    // real integer path (same container bytes, ideal code lengths instead of rANS).
    let json = dir.path().join("e.json");
    let o = lic(&[
        "eval",
        &img,
        "--codec",
        "lic,lic-float",
        "--model",
        m,
        "--checkpoint",
        run_s,
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |codec: &str| -> Vec<f64> {
        let path = dir.path().join(format!("e-{codec}.json"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        v["results"]["bpp"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_f64().unwrap())
            .collect()
    };
    let (real, float) = (read("lic"), read("lic-float"));
    assert_eq!(real.len(), float.len());
    for (r, f) in real.iter().zip(&float) {
        assert!((r / f - 1.0).abs() < 0.25, "real {r} vs float {f}");
    }
    // A model that is not the checkpoint's export is refused.
    let o = lic(&[
        "eval",
        &img,
        "--codec",
        "lic,lic-float",
        "--checkpoint",
        run_s,
    ]);
    assert_fails_with(&o, "not the export");

    // Weight averaging: a kept checkpoint, a deployable model and a run folder, into a new
    // run whose model codes; an existing run is not replaced without --force.
    let soup = dir.path().join("soup");
    let soup_s = soup.to_str().unwrap();
    let average = |more: &[&str]| {
        let inputs = [kept.to_str().unwrap(), m, run_s];
        lic(&[&["average", "--run", soup_s][..], &inputs, more].concat())
    };
    let o = average(&["--name", "soup"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("3 inputs averaged"));
    let soup_model = soup.join("model.licm");
    let o = lic(&["model", "--model", soup_model.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("soup"),
        "{}",
        stderr(&o)
    );
    let o = lic(&[
        "encode",
        &img,
        "-o",
        dir.path().join("soup.lic").to_str().unwrap(),
        "--model",
        soup_model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = average(&[]);
    assert_fails_with(&o, "--force");
    let o = average(&["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lic(&["average", "--run", soup_s, "--force", m]);
    assert!(!o.status.success(), "one input averaged");
    let o = lic(&["average", "--run", soup_s, "--force", m, &img]);
    assert_fails_with(&o, "not a lic model file");

    // A new run warm-started from the exported model takes its architecture (not the
    // default one) and trains.
    let train_from = |run: &str, model: &str, more: &[&str]| {
        let run = dir.path().join(run);
        let start = [
            "train",
            "--data",
            &data,
            "--run",
            run.to_str().unwrap(),
            "--init",
            model,
        ];
        lic(&[&start[..], more].concat())
    };
    let warm_model = dir.path().join("warm/model.licm");
    let warm_model = warm_model.to_str().unwrap();
    let o = train_from(
        "warm",
        m,
        &[
            "--crop", "64", "--batch", "2", "--steps", "1", "--name", "cli-test",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lic(&["model", "--model", warm_model]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("quality levels=3"));
    // It kept the λ set the model records (no --lambdas), and records it in turn.
    let o = lic(&["model", "--json", "--model", warm_model]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["lambdas"], serde_json::json!([0.001, 0.01, 0.1]));
    // --grad-clip is recorded with the run (and so kept by --resume, which cannot change
    // it); a clip that is not positive is refused.
    let o = train_from(
        "clipped",
        m,
        &[
            "--crop",
            "64",
            "--batch",
            "2",
            "--steps",
            "1",
            "--grad-clip",
            "0.25",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let clipped = dir.path().join("clipped");
    let log = std::fs::read_to_string(clipped.join("log.jsonl")).unwrap();
    let session: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(session["session"]["config"]["grad_clip"], 0.25);
    let clipped = clipped.to_str().unwrap();
    let resume_clipped = |more: &[&str]| {
        let resume = ["train", "--data", &data, "--run", clipped, "--resume"];
        lic(&[&resume[..], &["--steps", "2"], more].concat())
    };
    let o = resume_clipped(&["--grad-clip", "2"]);
    assert_fails_with(&o, "--grad-clip");
    // Training some parts alone is recorded with the run too, and refused on --resume: the
    // entropy model's steps log the rate alone, the synthesis' the PSNR as well.
    for (flag, recorded, logs_psnr) in [
        ("--freeze-transforms", "entropy_model", false),
        ("--synthesis-only", "synthesis", true),
    ] {
        let args = [
            "--crop",
            "64",
            "--batch",
            "2",
            "--steps",
            "2",
            "--log-every",
            "1",
        ];
        let o = train_from(recorded, m, &[&args[..], &[flag]].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        let log = std::fs::read_to_string(dir.path().join(recorded).join("log.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["session"]["config"]["trained"], recorded);
        let step = lines.iter().find(|l| l.get("step").is_some()).unwrap();
        assert_eq!(step.get("psnr").is_some(), logs_psnr, "{step}");
        assert_eq!(step["loss"] == step["bpp"], !logs_psnr, "{step}");
        let o = resume_clipped(&[flag]);
        assert_fails_with(&o, flag);
    }
    let o = train_from(
        "both",
        m,
        &["--steps", "0", "--freeze-transforms", "--synthesis-only"],
    );
    assert_fails_with(&o, "--synthesis-only");
    let o = train_from("unclipped", m, &["--steps", "0", "--grad-clip", "0"]);
    assert_fails_with(&o, "gradient clip is 0, expected above 0");
    // A stated λ set that contradicts the recorded one is refused.
    let o = train_from(
        "contradicted",
        m,
        &["--init-lambdas", "0.002,0.01,0.1", "--steps", "0"],
    );
    assert_fails_with(&o, "records");
    // --architecture grows the model's latent by an appended group, and nothing else.
    let wider = dir.path().join("wider.json");
    std::fs::write(
        &wider,
        r#"{"transform_channels": 8, "latent_channels": 16, "hyper_channels": 8,
            "groups": [2, 4, 6, 4], "quality_levels": 3}"#,
    )
    .unwrap();
    let o = train_from(
        "grown",
        m,
        &[
            "--architecture",
            wider.to_str().unwrap(),
            "--crop",
            "64",
            "--steps",
            "0",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let grown = dir.path().join("grown/model.licm");
    let o = lic(&["model", "--model", grown.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("M=16"),
        "{}",
        stderr(&o)
    );
    let o = train_from("not-grown", m, &["--architecture", "small", "--steps", "0"]);
    assert_fails_with(&o, "only the latent can grow");
    // A checkpoint is not a deployable model.
    let o = train_from(
        "bad",
        &format!("{run_s}/checkpoint.licm"),
        &["--steps", "1"],
    );
    assert_fails_with(&o, "deployable model");
}

#[test]
fn eval_measures_webp_and_avif_live() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    let o = lic(&[
        "eval",
        &asset_path("kodim19_71x53.png"),
        "--codec",
        "webp,avif",
        "--webp-quality",
        "30,90",
        "--avif-quantizer",
        "40,10",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(csv).unwrap();
    let rows: Vec<Vec<String>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 4, "{csv}");
    for pair in rows.chunks(2) {
        // Second setting is the better one for both codecs: more bytes, higher PSNR.
        let bytes = |r: &[String]| r[5].parse::<usize>().unwrap();
        let psnr = |r: &[String]| r[7].parse::<f64>().unwrap();
        assert!(bytes(&pair[1]) > bytes(&pair[0]), "{csv}");
        assert!(
            psnr(&pair[1]) > psnr(&pair[0]) && psnr(&pair[0]) > 20.0,
            "{csv}"
        );
    }
}

#[test]
fn a_closed_stdout_ends_lic_quietly() {
    // `lic model | head -1`: the reader is gone before lic prints. lic must stop with the
    // status a SIGPIPE gives (or 0 when the pipe buffer took the text first), never panic.
    let mut child = Command::new(env!("CARGO_BIN_EXE_lic"))
        .args(["model", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run lic");
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(o.status.code(), Some(0 | 141)),
        "{:?} {stderr}",
        o.status
    );
}

/// The Y4M frames of a stream: (header line, frames' planes).
fn y4m_frames(bytes: &[u8]) -> (String, Vec<Vec<u8>>) {
    let end = bytes.iter().position(|&b| b == b'\n').unwrap();
    let header = String::from_utf8(bytes[..end].to_vec()).unwrap();
    let frame = 96 * 64 * 3 / 2;
    let frames = bytes[end + 1..]
        .chunks(6 + frame)
        .map(|c| {
            assert_eq!(&c[..6], b"FRAME\n");
            c[6..].to_vec()
        })
        .collect();
    (header, frames)
}

#[test]
fn a_y4m_clip_encodes_decodes_seeks_and_streams_through_pipes() {
    let dir = tempfile::tempdir().unwrap();
    let clip = asset("video/park_joy_96x64_4f.y4m");
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    // Every frame intra (any model codes that).
    let enc = lic(&[
        "encode",
        &clip,
        "-o",
        &path("c.lic"),
        "-q",
        "40",
        "--intra-period",
        "1",
    ]);
    assert!(enc.status.success(), "{}", stderr(&enc));
    assert!(stderr(&enc).contains("4 frames"), "{}", stderr(&enc));
    assert!(stderr(&enc).contains("assuming Bt601"), "{}", stderr(&enc));
    // lic info lists the frames.
    let info = lic(&["info", "--json", &path("c.lic")]);
    assert!(info.status.success(), "{}", stderr(&info));
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(v["format_version"], lic_entropy::FORMAT_VERSION);
    assert_eq!(v["frames"].as_array().unwrap().len(), 4);
    assert_eq!(
        v["video"]["intra_period"], 1,
        "the shipped model codes intra frames only"
    );
    assert_eq!(v["video"]["temporal_model"], serde_json::Value::Null);
    assert_eq!(v["video"]["frame_rate"], "50/1");
    assert_eq!(v["video"]["chroma"], "yuv420");
    assert_eq!(v["frames"][2]["kind"], "intra");
    // Decoded as Y4M: the source's size, sampling and range, close to it.
    let dec = lic(&["decode", &path("c.lic"), "-o", &path("d.y4m")]);
    assert!(dec.status.success(), "{}", stderr(&dec));
    let (header, frames) = y4m_frames(&std::fs::read(path("d.y4m")).unwrap());
    assert_eq!(
        header,
        "YUV4MPEG2 W96 H64 F50:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED"
    );
    let (_, source) = y4m_frames(&std::fs::read(&clip).unwrap());
    assert_eq!(frames.len(), 4);
    for (a, b) in frames.iter().zip(&source) {
        let luma = 96 * 64;
        let mse: f64 = a[..luma]
            .iter()
            .zip(&b[..luma])
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum::<f64>()
            / luma as f64;
        let psnr = 10.0 * (255.0f64.powi(2) / mse).log10();
        assert!(psnr > 20.0, "PSNR-Y {psnr:.2}");
    }
    // --frames: the same frames as from the start, also as numbered PNGs.
    let part = lic(&[
        "decode",
        &path("c.lic"),
        "--frames",
        "2..",
        "-o",
        &path("p.y4m"),
    ]);
    assert!(part.status.success(), "{}", stderr(&part));
    assert_eq!(
        y4m_frames(&std::fs::read(path("p.y4m")).unwrap()).1,
        frames[2..]
    );
    let pngs = lic(&[
        "decode",
        &path("c.lic"),
        "--frames",
        "1..=2",
        "-o",
        &path("f-%03d.png"),
    ]);
    assert!(pngs.status.success(), "{}", stderr(&pngs));
    for (i, exists) in [(0, false), (1, true), (2, true), (3, false)] {
        assert_eq!(
            dir.path().join(format!("f-{i:03}.png")).exists(),
            exists,
            "frame {i}"
        );
    }
    // Pipes: stdin to stdout both ways, the same bytes as through files.
    let source_bytes = std::fs::read(&clip).unwrap();
    let enc = lic_stdin(
        &["encode", "-", "-o", "-", "-q", "40", "--intra-period", "1"],
        &source_bytes,
    );
    assert!(enc.status.success(), "{}", stderr(&enc));
    assert_eq!(enc.stdout, std::fs::read(path("c.lic")).unwrap());
    let dec = lic_stdin(&["decode", "-", "-o", "-"], &enc.stdout);
    assert!(dec.status.success(), "{}", stderr(&dec));
    assert_eq!(dec.stdout, std::fs::read(path("d.y4m")).unwrap());
    // Outputs are not overwritten, and options that make no sense are refused.
    assert_fails_with(
        &lic(&["decode", &path("c.lic"), "-o", &path("d.y4m")]),
        "already exists",
    );
    assert_fails_with(
        &lic(&["decode", &path("c.lic"), "-o", &path("d.png")]),
        "numbered images",
    );
    assert_fails_with(
        &lic(&[
            "decode",
            &path("c.lic"),
            "--frames",
            "7..",
            "-o",
            &path("none.y4m"),
        ]),
        "none in 7..",
    );
    assert_fails_with(
        &lic(&[
            "decode",
            &path("c.lic"),
            "--frames",
            "3..1",
            "-o",
            &path("x.y4m"),
        ]),
        "selects no frame",
    );
}

#[test]
fn video_files_go_through_ffmpeg_raw_planes_and_lossless_ffv1() {
    let dir = tempfile::tempdir().unwrap();
    let clip = asset("video/park_joy_96x64_4f.y4m");
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let encode = |input: &str, out: &str, extra: &[&str]| {
        let mut args = vec![
            "encode",
            input,
            "-o",
            out,
            "-q",
            "40",
            "--intra-period",
            "1",
        ];
        args.extend_from_slice(extra);
        let o = lic(&args);
        assert!(o.status.success(), "{input}: {}", stderr(&o));
        o
    };
    encode(&clip, &path("c.lic"), &[]);
    // The decoded clip as Y4M and as FFV1: the Matroska file holds the same planes exactly,
    // and declares its matrix and range, so coding it gives the very bytes of coding the Y4M.
    for out in ["d.y4m", "d.mkv"] {
        let o = lic(&["decode", &path("c.lic"), "-o", &path(out)]);
        assert!(o.status.success(), "{out}: {}", stderr(&o));
    }
    encode(&path("d.y4m"), &path("from-y4m.lic"), &[]);
    let from_mkv = encode(&path("d.mkv"), &path("from-mkv.lic"), &[]);
    assert!(
        !stderr(&from_mkv).contains("assuming"),
        "the FFV1 file names its colours: {}",
        stderr(&from_mkv)
    );
    let reference = std::fs::read(path("from-y4m.lic")).unwrap();
    assert_eq!(std::fs::read(path("from-mkv.lic")).unwrap(), reference);
    // Raw planes (the Y4M without its header and FRAME lines), with --size and --fps.
    let (_, frames) = y4m_frames(&std::fs::read(path("d.y4m")).unwrap());
    std::fs::write(path("d.yuv"), frames.concat()).unwrap();
    let raw = encode(
        &path("d.yuv"),
        &path("from-raw.lic"),
        &["--size", "96x64", "--fps", "50", "--range", "limited"],
    );
    assert!(stderr(&raw).contains("4 frames"), "{}", stderr(&raw));
    assert_eq!(std::fs::read(path("from-raw.lic")).unwrap(), reference);
    // From standard input too.
    let piped = lic_stdin(
        &[
            "encode",
            "-",
            "-o",
            "-",
            "-q",
            "40",
            "--intra-period",
            "1",
            "--size",
            "96x64",
            "--fps",
            "50",
            "--range",
            "limited",
        ],
        &frames.concat(),
    );
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert_eq!(piped.stdout, reference);
    // A lossy H.264 MP4 made by the ffmpeg program: four frames, its declared colours used.
    let mp4 = Command::new("ffmpeg")
        .args(["-v", "error", "-i", &clip, "-c:v", "libx264", "-crf", "20"])
        .args([
            "-color_range",
            "tv",
            "-colorspace",
            "bt709",
            "-y",
            &path("c.mp4"),
        ])
        .output()
        .expect("the test suite installs ffmpeg");
    assert!(mp4.status.success(), "{}", stderr(&mp4));
    let o = encode(&path("c.mp4"), &path("from-mp4.lic"), &[]);
    assert!(stderr(&o).contains("4 frames"), "{}", stderr(&o));
    let info = lic(&["info", "--json", &path("from-mp4.lic")]);
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(v["video"]["matrix"], "bt709", "{v}");
    assert_eq!(v["video"]["frame_rate"], "50/1", "{v}");
    // RGB video (FFV1 BGR0 made by ffmpeg) stays RGB: coded without a matrix, written back as
    // RGB FFV1 with exactly the pixels of the PNG frames.
    let rgb = Command::new("ffmpeg")
        .args([
            "-v", "error", "-i", &clip, "-c:v", "ffv1", "-pix_fmt", "bgr0",
        ])
        .args(["-y", &path("rgb.mkv")])
        .output()
        .unwrap();
    assert!(rgb.status.success(), "{}", stderr(&rgb));
    let o = encode(&path("rgb.mkv"), &path("rgb.lic"), &[]);
    assert!(!stderr(&o).contains("assuming"), "{}", stderr(&o));
    let info = lic(&["info", "--json", &path("rgb.lic")]);
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(v["video"]["chroma"], "rgb", "{v}");
    for out in ["rgb-out.mkv", "rgb-%d.png"] {
        let o = lic(&["decode", &path("rgb.lic"), "-o", &path(out)]);
        assert!(o.status.success(), "{out}: {}", stderr(&o));
    }
    let md5s = |input: &str| -> Vec<String> {
        let o = Command::new("ffmpeg")
            .args([
                "-v", "error", "-i", input, "-pix_fmt", "rgb24", "-f", "framemd5", "-",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.rsplit(',').next().unwrap().trim().to_owned())
            .collect()
    };
    let pngs: Vec<String> = (0..4)
        .flat_map(|i| md5s(&path(&format!("rgb-{i}.png"))))
        .collect();
    assert_eq!(md5s(&path("rgb-out.mkv")), pngs);
    // What lic does not code is refused with the way out; nothing is written.
    let p10 = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            &clip,
            "-c:v",
            "ffv1",
            "-pix_fmt",
            "yuv420p10le",
        ])
        .args(["-y", &path("p10.mkv")])
        .output()
        .unwrap();
    assert!(p10.status.success(), "{}", stderr(&p10));
    assert_fails_with(
        &lic(&["encode", &path("p10.mkv"), "-o", &path("p10.lic")]),
        "more than 8 bits",
    );
    assert!(!dir.path().join("p10.lic").exists());
    assert_fails_with(
        &lic(&["encode", &path("d.yuv"), "-o", &path("x.lic")]),
        "--size WxH",
    );
    std::fs::write(path("notes.txt"), "not a picture at all\n").unwrap();
    assert_fails_with(
        &lic(&["encode", &path("notes.txt"), "-o", &path("x.lic")]),
        "FFmpeg cannot read it",
    );
    assert_fails_with(
        &lic(&["decode", &path("c.lic"), "-o", &path("d.mkv")]),
        "already exists",
    );
}

#[test]
fn inter_frames_need_a_temporal_model_and_seek_from_the_intra_frame_before() {
    let dir = tempfile::tempdir().unwrap();
    let clip = asset("video/park_joy_96x64_4f.y4m");
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    // A model with (seeded, untrained) temporal networks.
    let base = lic_codec::ModelFile::from_bytes(lic_models::default_model_bytes()).unwrap();
    let temporal = lic_codec::internals::with_test_temporal(&base, 4, 7).unwrap();
    std::fs::write(path("t.licm"), temporal.to_bytes()).unwrap();
    let m = lic(&["model", "--model", &path("t.licm")]);
    assert!(
        stdout(&m).contains("inter frames (temporal networks"),
        "{}",
        stdout(&m)
    );
    // A model without temporal networks refuses inter frames, with the reason.
    assert_fails_with(
        &lic(&[
            "encode",
            &clip,
            "-o",
            &path("a.lic"),
            "--intra-period",
            "2",
            "--model",
            &asset("models/tiny-seed7.licm"),
        ]),
        "no temporal networks",
    );
    let enc = lic(&[
        "encode",
        &clip,
        "-o",
        &path("c.lic"),
        "-q",
        "40",
        "--intra-period",
        "2",
        "--model",
        &path("t.licm"),
    ]);
    assert!(enc.status.success(), "{}", stderr(&enc));
    assert!(
        stderr(&enc).contains("2 intra, 2 inter"),
        "{}",
        stderr(&enc)
    );
    let info = lic(&["info", "--json", &path("c.lic")]);
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let kinds: Vec<&str> = v["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["intra", "inter", "intra", "inter"]);
    assert!(v["video"]["temporal_model"].is_string());
    let text = lic(&["info", &path("c.lic")]);
    assert!(
        stdout(&text).contains("2 intra, 2 inter"),
        "{}",
        stdout(&text)
    );
    // Decoding needs these temporal networks (the shipped model's, if it has any, are
    // others); seeking starts at the intra frame before.
    assert_fails_with(
        &lic(&["decode", &path("c.lic"), "-o", &path("x.y4m")]),
        "temporal",
    );
    let all = lic(&[
        "decode",
        &path("c.lic"),
        "-o",
        &path("d.y4m"),
        "--model",
        &path("t.licm"),
    ]);
    assert!(all.status.success(), "{}", stderr(&all));
    let (_, frames) = y4m_frames(&std::fs::read(path("d.y4m")).unwrap());
    let last = lic(&[
        "decode",
        &path("c.lic"),
        "--frames",
        "3",
        "-o",
        &path("l.y4m"),
        "--model",
        &path("t.licm"),
    ]);
    assert!(last.status.success(), "{}", stderr(&last));
    assert_eq!(
        y4m_frames(&std::fs::read(path("l.y4m")).unwrap()).1,
        frames[3..]
    );
    // Without --intra-period a model with temporal networks puts an intra frame every two
    // seconds: 100 frames at 50 fps, so only the first of these four.
    let enc = lic(&[
        "encode",
        &clip,
        "-o",
        &path("e.lic"),
        "--model",
        &path("t.licm"),
    ]);
    assert!(
        stderr(&enc).contains("1 intra, 3 inter, intra period 100"),
        "{}",
        stderr(&enc)
    );
}

#[test]
fn eval_measures_clips_against_intra_frames_x264_and_x265() {
    let dir = tempfile::tempdir().unwrap();
    let clip = asset("video/park_joy_96x64_4f.y4m");
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let base = lic_codec::ModelFile::from_bytes(lic_models::default_model_bytes()).unwrap();
    let temporal = lic_codec::internals::with_test_temporal(&base, 4, 7).unwrap();
    std::fs::write(path("t.licm"), temporal.to_bytes()).unwrap();
    let o = lic(&[
        "eval",
        &clip,
        "--codec",
        "lic,lic-intra,x264,x265",
        "-q",
        "20,50,80",
        "--crf",
        "25,35,45",
        "--model",
        &path("t.licm"),
        "--json",
        &path("v.json"),
        "--csv",
        &path("v.csv"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for expected in [
        "lic (1 clips)",
        "lic-intra (1 clips)",
        "x264 (1 clips)",
        "x265 (1 clips)",
        "BD-rate of lic against lic-intra",
        "BD-rate of lic against x265",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    // One results file per codec, in CompressAI's layout with the rows and lic's BD-rates.
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path("v-lic.json")).unwrap()).unwrap();
    let bpp = v["results"]["bpp"].as_array().unwrap();
    assert_eq!(bpp.len(), 3);
    assert!(
        bpp.windows(2).all(|w| w[0].as_f64() < w[1].as_f64()),
        "{bpp:?}"
    );
    assert_eq!(v["rows"].as_array().unwrap().len(), 3);
    assert!(v["bd_rate_of_lic"]["x264"]["mean"].is_number(), "{v}");
    let x264: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path("v-x264.json")).unwrap()).unwrap();
    let psnr = x264["results"]["psnr-yuv"].as_array().unwrap();
    // CRF 25 is the best of the three.
    assert!(psnr[0].as_f64() > psnr[2].as_f64(), "{psnr:?}");
    let csv = std::fs::read_to_string(path("v.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 4 * 3);
    // Image codecs are for images.
    assert_fails_with(
        &lic(&["eval", &clip, "--codec", "jpeg"]),
        "images, not clips",
    );
}

#[test]
fn a_damaged_clip_keeps_the_frames_before_the_damage_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let clip = asset("video/park_joy_96x64_4f.y4m");
    let lic_path = dir.path().join("c.lic");
    let l = lic_path.to_str().unwrap();
    assert!(
        lic(&["encode", &clip, "-o", l, "-q", "40"])
            .status
            .success()
    );
    let full = lic(&["decode", l, "-o", "-"]).stdout;
    let (_, frames) = y4m_frames(&full);
    let bytes = std::fs::read(&lic_path).unwrap();
    // Cut in the middle of the third frame.
    let v: serde_json::Value = serde_json::from_slice(&lic(&["info", "--json", l]).stdout).unwrap();
    let sizes: Vec<usize> = (0..4)
        .map(|i| v["frames"][i]["bytes"].as_u64().unwrap() as usize)
        .collect();
    let cut = v["header_bytes"].as_u64().unwrap() as usize + sizes[0] + sizes[1] + sizes[2] / 2;
    let short = dir.path().join("short.lic");
    std::fs::write(&short, &bytes[..cut]).unwrap();
    let out = dir.path().join("short.y4m");
    let r = lic(&[
        "decode",
        short.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_fails_with(&r, "frame 2: truncated");
    assert_fails_with(&r, "after 2 frame(s)");
    assert_eq!(y4m_frames(&std::fs::read(&out).unwrap()).1, frames[..2]);
    let info = lic(&["info", short.to_str().unwrap()]);
    assert_fails_with(&info, "frame 2");
}

#[test]
fn encode_meets_a_size_or_psnr_target_and_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let img = asset("kodim23_crop.png");
    let o = lic(&["encode", &img, "-o", &path("s.lic"), "--target-size", "4kB"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("trial encodes"), "{}", stderr(&o));
    let size = std::fs::metadata(path("s.lic")).unwrap().len();
    assert!((3_000..=4_000).contains(&size), "{size} bytes");
    let o = lic(&[
        "encode",
        &img,
        "-o",
        &path("p.lic"),
        "--target-psnr",
        "27",
        "--metrics",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let psnr: f64 = stderr(&o)
        .split("PSNR ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{}", stderr(&o)));
    assert!(psnr >= 27.0, "{psnr}");
    assert_fails_with(
        &lic(&["encode", &img, "-o", &path("x.lic"), "--target-size", "10"]),
        "cannot reach a file of at most 10 bytes",
    );
    assert_fails_with(
        &lic(&[
            "encode",
            &img,
            "-o",
            &path("x.lic"),
            "-q",
            "50",
            "--target-bpp",
            "1",
        ]),
        "cannot be used with",
    );
    assert_fails_with(
        &lic(&[
            "encode",
            &img,
            "-o",
            &path("x.lic"),
            "--target-size",
            "12 parsecs",
        ]),
        "unit must be",
    );
    assert_fails_with(
        &lic(&[
            "encode",
            &asset("video/park_joy_96x64_4f.y4m"),
            "-o",
            &path("v.lic"),
            "--target-size",
            "4kB",
        ]),
        "apply to images",
    );
}

#[test]
fn several_images_and_folders_encode_into_a_folder_and_failures_do_not_stop_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    std::fs::create_dir(path("in")).unwrap();
    for name in ["kodim19_71x53.png", "kodim08_gray64.png"] {
        std::fs::copy(asset(name), dir.path().join("in").join(name)).unwrap();
    }
    std::fs::write(path("in/broken.png"), b"\x89PNG\r\n\x1a\n not really").unwrap();
    let o = lic(&[
        "encode",
        &path("in"),
        &asset("kodim23_crop.png"),
        "-o",
        &path("out"),
        "-j",
        "2",
        "-q",
        "30",
    ]);
    // The broken file is reported and fails the command; the others are written, each as a
    // plain encode writes it.
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("broken.png"), "{err}");
    assert!(err.contains("3 files") && err.contains("1 failed"), "{err}");
    for name in ["kodim19_71x53", "kodim08_gray64", "kodim23_crop"] {
        let single = lic(&[
            "encode",
            &asset(&format!("{name}.png")),
            "-o",
            &path(&format!("{name}.single.lic")),
            "-q",
            "30",
        ]);
        assert!(single.status.success(), "{}", stderr(&single));
        assert_eq!(
            std::fs::read(path(&format!("out/{name}.lic"))).unwrap(),
            std::fs::read(path(&format!("{name}.single.lic"))).unwrap(),
            "{name}"
        );
    }
    assert!(!dir.path().join("out/broken.lic").exists());
    // Existing outputs stay without --force (each is a failure), and are replaced with it.
    std::fs::remove_file(path("in/broken.png")).unwrap();
    assert_fails_with(
        &lic(&["encode", &path("in"), "-o", &path("out")]),
        "already exists",
    );
    let o = lic(&[
        "encode",
        &path("in"),
        "-o",
        &path("out"),
        "--force",
        "--target-bpp",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 files"), "{}", stderr(&o));
    // Two inputs that would write one output, and an output that is a file, are refused.
    std::fs::copy(asset("kodim23_crop.png"), path("in/kodim19_71x53.bmp")).unwrap();
    assert_fails_with(
        &lic(&["encode", &path("in"), "-o", &path("out2")]),
        "would both be written",
    );
    assert_fails_with(
        &lic(&["encode", &path("in"), "-o", &asset("kodim23_crop.png")]),
        "is not one",
    );
}

#[test]
fn icc_and_exif_are_kept_listed_written_back_and_stripped_on_request() {
    use image::{ImageDecoder, ImageEncoder};
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let icc: Vec<u8> = (0..=255u8).cycle().take(3144).collect();
    let exif = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
    let img = image::open(asset("kodim19_71x53.png")).unwrap();
    let mut png = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut png);
    enc.set_icc_profile(icc.clone()).unwrap();
    enc.set_exif_metadata(exif.clone()).unwrap();
    img.write_with_encoder(enc).unwrap();
    std::fs::write(path("in.png"), &png).unwrap();
    let read = |p: &str| {
        let mut d = image::ImageReader::open(p)
            .unwrap()
            .with_guessed_format()
            .unwrap()
            .into_decoder()
            .unwrap();
        (d.icc_profile().unwrap(), d.exif_metadata().unwrap())
    };
    for (strip, want) in [
        (false, (Some(icc.clone()), Some(exif.clone()))),
        (true, (None, None)),
    ] {
        let (input, lic_file) = (path("in.png"), path(&format!("m-{strip}.lic")));
        let mut args = vec!["encode", &input, "-o", &lic_file];
        if strip {
            args.push("--strip");
        }
        let o = lic(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let info = lic(&["info", &lic_file]);
        assert_eq!(
            stdout(&info).contains("icc profile"),
            !strip,
            "{}",
            stdout(&info)
        );
        assert_eq!(stdout(&info).contains("exif"), !strip, "{}", stdout(&info));
        let out = path(&format!("m-{strip}.png"));
        let o = lic(&["decode", &lic_file, "-o", &out]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            read(&out) == want,
            "strip {strip}: the PNG's ICC/Exif differ"
        );
    }
}
