//! BD-rate against the reference values of assets/anchors/bd_rate_reference.json: every case,
//! both fits, within 0.01 percentage points, and the interval used.

use std::path::{Path, PathBuf};

use lic_eval::bdrate::{Curve, Fit, bd_rate};

fn anchors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/anchors")
}

#[test]
fn every_reference_case_is_reproduced() {
    let text = std::fs::read_to_string(anchors().join("bd_rate_reference.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 7);
    for case in cases {
        let anchor = Curve::from_file(&anchors().join(case["anchor"].as_str().unwrap())).unwrap();
        let test = Curve::from_file(&anchors().join(case["test"].as_str().unwrap())).unwrap();
        let metric = case["metric"].as_str().unwrap();
        let interval = case["interval_db"].as_array().unwrap();
        for (fit, key) in [
            (Fit::Pchip, "bd_rate_pchip_percent"),
            (Fit::Cubic, "bd_rate_cubic_percent"),
        ] {
            let got = bd_rate(&anchor, &test, metric, fit, None).unwrap();
            let want = case[key].as_f64().unwrap();
            assert!(
                (got.value - want).abs() < 0.01,
                "{} vs {} ({fit:?}): {} instead of {want}",
                case["test"],
                case["anchor"],
                got.value
            );
            assert!((got.interval.0 - interval[0].as_f64().unwrap()).abs() < 1e-3);
            assert!((got.interval.1 - interval[1].as_f64().unwrap()).abs() < 1e-3);
        }
    }
}
