//! Rate-distortion curves in CompressAI's results layout, and the Bjøntegaard delta rate
//! (BD-rate) and delta PSNR between two of them.
//!
//! BD-rate (Bjøntegaard, VCEG-M33, 2001): fit `ln(bpp)` as a function of quality for both
//! curves, integrate both fits over the overlap of their quality ranges, and turn the mean
//! difference `d` into a rate change `(e^d - 1) * 100 %`. Two fits are given:
//! - [`Fit::Pchip`]: the monotone piecewise cubic Hermite interpolant of Fritsch & Carlson
//!   (1980), with the end-point derivatives of `scipy.interpolate.PchipInterpolator`; the
//!   modern choice (it passes through the points and never overshoots);
//! - [`Fit::Cubic`]: the least-squares cubic polynomial of VCEG-M33.
//!
//! Points are sorted by quality first. BD-PSNR swaps the roles: quality as a function of
//! `ln(bpp)` over the overlap of the rate ranges.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// A rate-distortion curve: the `results` of a CompressAI results file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// Name shown in tables and plot legends.
    pub name: String,
    /// Free text (source, settings).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Series by key (`bpp`, `psnr-rgb`, `ms-ssim-rgb`, `encoding_time`, ...).
    pub results: Map<String, Value>,
}

/// Which function is fitted through the points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// Monotone piecewise cubic Hermite interpolation (Fritsch-Carlson).
    Pchip,
    /// Least-squares cubic polynomial (VCEG-M33).
    Cubic,
}

/// A BD result.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BdResult {
    /// The fit used.
    pub fit: Fit,
    /// Rate change of the test curve at equal quality, in percent (negative: fewer bits).
    pub value: f64,
    /// The interval integrated over (quality for BD-rate, `ln(bpp)` for BD-PSNR).
    pub interval: (f64, f64),
}

impl Curve {
    /// Reads a CompressAI-layout JSON file.
    ///
    /// # Errors
    /// [`Error::Io`] if the file is unreadable, [`Error::CurveFile`] if it is not in that
    /// layout.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            action: "reading",
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| Error::CurveFile {
            path: path.to_owned(),
            reason: format!(
                "not a results file ({{\"name\", \"results\": {{\"bpp\": [..], ..}}}}): {e}"
            ),
        })
    }

    /// The values of series `key`. `psnr-rgb` falls back to `psnr` (the LALIC files' key).
    ///
    /// # Errors
    /// [`Error::Series`] if it is missing or not all finite numbers.
    pub fn series(&self, key: &str) -> Result<Vec<f64>, Error> {
        let err = |message: String| Error::Series {
            curve: self.name.clone(),
            message,
        };
        let value = self
            .results
            .get(key)
            .or_else(|| {
                (key == "psnr-rgb")
                    .then(|| self.results.get("psnr"))
                    .flatten()
            })
            .ok_or_else(|| err(format!("no `{key}` series")))?;
        let arr = value
            .as_array()
            .ok_or_else(|| err(format!("`{key}` is not a list")))?;
        arr.iter()
            .map(|v| v.as_f64().filter(|f| f.is_finite()))
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(|| err(format!("`{key}` holds a value that is not a finite number")))
    }

    /// `(quality, ln bpp)` pairs of `metric`, sorted by quality, after checking that they
    /// make a curve: at least two points, positive rates, distinct qualities.
    fn points(&self, metric: &str) -> Result<Vec<(f64, f64)>, Error> {
        let err = |message: String| Error::Series {
            curve: self.name.clone(),
            message,
        };
        let bpp = self.series("bpp")?;
        let q = self.series(metric)?;
        if bpp.len() != q.len() {
            return Err(err(format!(
                "{} bpp values but {} {metric} values",
                bpp.len(),
                q.len()
            )));
        }
        if bpp.iter().any(|&b| b <= 0.0) {
            return Err(err("bpp values must be positive".into()));
        }
        let mut p: Vec<(f64, f64)> = q.into_iter().zip(bpp.into_iter().map(f64::ln)).collect();
        p.sort_by(|a, b| a.0.total_cmp(&b.0));
        if p.len() < 2 {
            return Err(err(format!(
                "{} point(s); a curve needs at least 2",
                p.len()
            )));
        }
        if p.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(err(format!(
                "two points have the same {metric}; remove the duplicate"
            )));
        }
        Ok(p)
    }
}

/// Integral over `[lo, hi]` of the chosen fit through `points` (`x` strictly increasing).
fn integral(points: &[(f64, f64)], fit: Fit, lo: f64, hi: f64) -> f64 {
    match fit {
        Fit::Pchip => Pchip::new(points).integral(lo, hi),
        Fit::Cubic => {
            let c = polyfit3(points);
            let anti = |x: f64| {
                c[0] * x + c[1] * x * x / 2.0 + c[2] * x.powi(3) / 3.0 + c[3] * x.powi(4) / 4.0
            };
            anti(hi) - anti(lo)
        }
    }
}

fn overlap(a: &[(f64, f64)], b: &[(f64, f64)], metric: &str) -> Result<(f64, f64), Error> {
    let (a0, a1) = (a[0].0, a[a.len() - 1].0);
    let (b0, b1) = (b[0].0, b[b.len() - 1].0);
    let (lo, hi) = (a0.max(b0), a1.min(b1));
    if lo >= hi {
        return Err(Error::NoOverlap {
            metric: metric.to_owned(),
            a: a0,
            b: a1,
            c: b0,
            d: b1,
        });
    }
    Ok((lo, hi))
}

/// Restricts the interval to `range` when one is given.
fn restrict(
    interval: (f64, f64),
    range: Option<(f64, f64)>,
    metric: &str,
) -> Result<(f64, f64), Error> {
    match range {
        None => Ok(interval),
        Some((r0, r1)) => {
            let (lo, hi) = (interval.0.max(r0), interval.1.min(r1));
            if lo >= hi {
                return Err(Error::NoOverlap {
                    metric: metric.to_owned(),
                    a: interval.0,
                    b: interval.1,
                    c: r0,
                    d: r1,
                });
            }
            Ok((lo, hi))
        }
    }
}

/// BD-rate of `test` against `anchor` on `metric` (for example `psnr-rgb`), over the overlap
/// of their quality ranges, optionally narrowed to `range`.
///
/// # Errors
/// [`Error`] for malformed curves or no overlap.
pub fn bd_rate(
    anchor: &Curve,
    test: &Curve,
    metric: &str,
    fit: Fit,
    range: Option<(f64, f64)>,
) -> Result<BdResult, Error> {
    let a = anchor.points(metric)?;
    let t = test.points(metric)?;
    let (lo, hi) = restrict(overlap(&a, &t, metric)?, range, metric)?;
    let d = (integral(&t, fit, lo, hi) - integral(&a, fit, lo, hi)) / (hi - lo);
    Ok(BdResult {
        fit,
        value: (d.exp() - 1.0) * 100.0,
        interval: (lo, hi),
    })
}

/// BD-PSNR (mean quality gain at equal rate, in the metric's unit) of `test` against
/// `anchor`, over the overlap of their `ln(bpp)` ranges.
///
/// # Errors
/// [`Error`] for malformed curves or no overlap.
pub fn bd_quality(anchor: &Curve, test: &Curve, metric: &str, fit: Fit) -> Result<BdResult, Error> {
    let swap = |p: Vec<(f64, f64)>, name: &str| -> Result<Vec<(f64, f64)>, Error> {
        let mut s: Vec<(f64, f64)> = p.into_iter().map(|(q, r)| (r, q)).collect();
        s.sort_by(|x, y| x.0.total_cmp(&y.0));
        if s.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(Error::Series {
                curve: name.to_owned(),
                message: "two points have the same bpp".into(),
            });
        }
        Ok(s)
    };
    let a = swap(anchor.points(metric)?, &anchor.name)?;
    let t = swap(test.points(metric)?, &test.name)?;
    let (lo, hi) = overlap(&a, &t, "ln(bpp)")?;
    let d = (integral(&t, fit, lo, hi) - integral(&a, fit, lo, hi)) / (hi - lo);
    Ok(BdResult {
        fit,
        value: d,
        interval: (lo, hi),
    })
}

/// Least-squares cubic `c0 + c1 x + c2 x^2 + c3 x^3` through `points`, solved from the normal
/// equations with `x` centred and scaled for conditioning. With fewer than four points the
/// highest terms are those of the lowest-degree exact fit.
fn polyfit3(points: &[(f64, f64)]) -> [f64; 4] {
    let n = points.len() as f64;
    let mean = points.iter().map(|p| p.0).sum::<f64>() / n;
    let scale = points
        .iter()
        .map(|p| (p.0 - mean).abs())
        .fold(0.0, f64::max)
        .max(1e-12);
    let degree = (points.len() - 1).min(3);
    let k = degree + 1;
    // Normal equations in u = (x - mean) / scale.
    let mut a = [[0.0f64; 5]; 4];
    for &(x, y) in points {
        let u = (x - mean) / scale;
        let pows = [1.0, u, u * u, u * u * u];
        for i in 0..k {
            for j in 0..k {
                a[i][j] += pows[i] * pows[j];
            }
            a[i][4] += pows[i] * y;
        }
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..k {
        let pivot = (col..k)
            .max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        let pivot_row = a[col];
        if pivot_row[col] == 0.0 {
            continue;
        }
        for (r, row) in a.iter_mut().enumerate().take(k) {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * p;
                }
            }
        }
    }
    let mut cu = [0.0f64; 4];
    for i in 0..k {
        cu[i] = if a[i][i] == 0.0 {
            0.0
        } else {
            a[i][4] / a[i][i]
        };
    }
    // Back to powers of x: p(x) = sum cu_i ((x - mean)/scale)^i.
    let (m, s) = (mean, scale);
    let mut c = [0.0f64; 4];
    // Expand (x - m)^i / s^i with binomial coefficients.
    let binom = [
        [1.0, 0.0, 0.0, 0.0],
        [1.0, 1.0, 0.0, 0.0],
        [1.0, 2.0, 1.0, 0.0],
        [1.0, 3.0, 3.0, 1.0],
    ];
    for (i, &ci) in cu.iter().enumerate() {
        for j in 0..=i {
            c[j] += ci * binom[i][j] * (-m).powi((i - j) as i32) / s.powi(i as i32);
        }
    }
    c
}

/// Monotone piecewise cubic Hermite interpolant (Fritsch & Carlson 1980), with
/// `scipy.interpolate.PchipInterpolator`'s interior and end-point derivatives.
struct Pchip {
    x: Vec<f64>,
    y: Vec<f64>,
    d: Vec<f64>,
}

impl Pchip {
    fn new(points: &[(f64, f64)]) -> Self {
        let x: Vec<f64> = points.iter().map(|p| p.0).collect();
        let y: Vec<f64> = points.iter().map(|p| p.1).collect();
        let n = x.len();
        let h: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
        let delta: Vec<f64> = (0..n - 1).map(|i| (y[i + 1] - y[i]) / h[i]).collect();
        let mut d = vec![0.0; n];
        if n == 2 {
            d[0] = delta[0];
            d[1] = delta[0];
        } else {
            for k in 1..n - 1 {
                let (a, b) = (delta[k - 1], delta[k]);
                if a * b <= 0.0 {
                    d[k] = 0.0;
                } else {
                    // Weighted harmonic mean (Fritsch-Butland form used by scipy).
                    let w1 = 2.0 * h[k] + h[k - 1];
                    let w2 = h[k] + 2.0 * h[k - 1];
                    d[k] = (w1 + w2) / (w1 / a + w2 / b);
                }
            }
            d[0] = Self::edge(h[0], h[1], delta[0], delta[1]);
            d[n - 1] = Self::edge(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
        }
        Self { x, y, d }
    }

    /// One-sided three-point end derivative, kept shape-preserving.
    fn edge(h0: f64, h1: f64, m0: f64, m1: f64) -> f64 {
        let d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
        if d.signum() != m0.signum() {
            0.0
        } else if m0.signum() != m1.signum() && d.abs() > 3.0 * m0.abs() {
            3.0 * m0
        } else {
            d
        }
    }

    /// Exact integral of the interpolant over `[lo, hi]` (within the points' range).
    fn integral(&self, lo: f64, hi: f64) -> f64 {
        let mut total = 0.0;
        for i in 0..self.x.len() - 1 {
            let (x0, x1) = (self.x[i], self.x[i + 1]);
            let (a, b) = (lo.max(x0), hi.min(x1));
            if a >= b {
                continue;
            }
            total += self.segment_antiderivative(i, b) - self.segment_antiderivative(i, a);
        }
        total
    }

    /// Antiderivative of segment `i` at `x`, from the segment's start.
    fn segment_antiderivative(&self, i: usize, x: f64) -> f64 {
        let h = self.x[i + 1] - self.x[i];
        let t = (x - self.x[i]) / h;
        let (y0, y1, d0, d1) = (self.y[i], self.y[i + 1], self.d[i], self.d[i + 1]);
        // Integrals of the Hermite basis from 0 to t, times h.
        let t2 = t * t;
        let t3 = t2 * t;
        let t4 = t3 * t;
        let h00 = t4 / 2.0 - t3 + t;
        let h10 = t4 / 4.0 - 2.0 * t3 / 3.0 + t2 / 2.0;
        let h01 = -t4 / 2.0 + t3;
        let h11 = t4 / 4.0 - t3 / 3.0;
        h * (y0 * h00 + h * d0 * h10 + y1 * h01 + h * d1 * h11)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(name: &str, bpp: &[f64], psnr: &[f64]) -> Curve {
        let mut results = Map::new();
        results.insert("bpp".into(), serde_json::json!(bpp));
        results.insert("psnr-rgb".into(), serde_json::json!(psnr));
        Curve {
            name: name.into(),
            description: String::new(),
            results,
        }
    }

    #[test]
    fn a_curve_against_itself_is_zero_and_a_scaled_rate_is_exact() {
        let a = curve(
            "a",
            &[0.1, 0.2, 0.4, 0.8, 1.6],
            &[28.0, 30.5, 33.0, 35.2, 38.0],
        );
        let b = curve(
            "b",
            &[0.09, 0.18, 0.36, 0.72, 1.44],
            &[28.0, 30.5, 33.0, 35.2, 38.0],
        );
        for fit in [Fit::Pchip, Fit::Cubic] {
            let same = bd_rate(&a, &a, "psnr-rgb", fit, None).unwrap();
            assert!(same.value.abs() < 1e-9, "{fit:?}");
            let r = bd_rate(&a, &b, "psnr-rgb", fit, None).unwrap();
            assert!((r.value + 10.0).abs() < 1e-9, "{fit:?}: {}", r.value);
            assert_eq!(r.interval, (28.0, 38.0));
        }
    }

    #[test]
    fn pchip_integrates_linear_data_exactly() {
        let p = Pchip::new(&[(0.0, 0.0), (1.0, 2.0), (3.0, 6.0), (4.0, 8.0)]);
        assert!((p.integral(0.0, 4.0) - 16.0).abs() < 1e-12);
        assert!((p.integral(0.5, 3.5) - (3.5f64.powi(2) - 0.25)).abs() < 1e-12);
    }

    #[test]
    fn bad_curves_are_refused() {
        let a = curve("a", &[0.1, 0.2], &[28.0, 30.0]);
        let far = curve("far", &[1.0, 2.0], &[40.0, 42.0]);
        assert!(matches!(
            bd_rate(&a, &far, "psnr-rgb", Fit::Pchip, None),
            Err(Error::NoOverlap { .. })
        ));
        let dup = curve("dup", &[0.1, 0.2, 0.3], &[28.0, 30.0, 30.0]);
        assert!(matches!(
            bd_rate(&a, &dup, "psnr-rgb", Fit::Pchip, None),
            Err(Error::Series { .. })
        ));
        let one = curve("one", &[0.1], &[28.0]);
        assert!(bd_rate(&a, &one, "psnr-rgb", Fit::Cubic, None).is_err());
        let zero = curve("zero", &[0.0, 0.2], &[28.0, 30.0]);
        assert!(bd_rate(&a, &zero, "psnr-rgb", Fit::Cubic, None).is_err());
        assert!(bd_rate(&a, &a, "ms-ssim-rgb", Fit::Cubic, None).is_err());
    }
}
