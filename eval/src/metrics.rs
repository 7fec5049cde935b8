//! Distortion metrics on 8-bit images, computed the way published Kodak curves are: PSNR over
//! all RGB samples with peak 255, and MS-SSIM (Wang, Simoncelli and Bovik 2003) with the
//! standard 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, five scales with weights
//! (0.0448, 0.2856, 0.3001, 0.2363, 0.1333) and 2x2 average pooling between scales, averaged
//! over the R, G and B channels.

use lic_codec::Image;

use crate::error::{Error, Result};

const WEIGHTS: [f64; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
const WINDOW: usize = 11;
const SIGMA: f64 = 1.5;

fn check_same(a: &Image, b: &Image) -> Result<()> {
    if (a.width(), a.height(), a.color()) != (b.width(), b.height(), b.color()) {
        return Err(Error::ImageMismatch {
            a: (a.width(), a.height(), a.color()),
            b: (b.width(), b.height(), b.color()),
        });
    }
    Ok(())
}

/// PSNR in dB over every sample (peak 255); infinite for identical images.
///
/// # Errors
/// [`Error::ImageMismatch`] if the images differ in size or colour format.
pub fn psnr(a: &Image, b: &Image) -> Result<f64> {
    check_same(a, b)?;
    Ok(a.psnr(b).unwrap_or(f64::NAN))
}

/// MS-SSIM in `[0, 1]`, averaged over channels. Images need at least 176 pixels per side
/// (the 11-pixel window at the fifth scale); smaller ones give `None`, as the metric is not
/// defined there.
///
/// # Errors
/// [`Error::ImageMismatch`] if the images differ in size or colour format.
pub fn ms_ssim(a: &Image, b: &Image) -> Result<Option<f64>> {
    check_same(a, b)?;
    let (w, h) = (a.width() as usize, a.height() as usize);
    let min_side = WINDOW << (WEIGHTS.len() - 1);
    if w < min_side || h < min_side {
        return Ok(None);
    }
    let ch = a.color().channels();
    let mut total = 0.0;
    for c in 0..ch {
        let plane = |img: &Image| -> Vec<f64> {
            img.pixels()
                .iter()
                .skip(c)
                .step_by(ch)
                .map(|&v| f64::from(v))
                .collect()
        };
        total += ms_ssim_plane(plane(a), plane(b), w, h);
    }
    Ok(Some(total / ch as f64))
}

fn ms_ssim_plane(mut x: Vec<f64>, mut y: Vec<f64>, mut w: usize, mut h: usize) -> f64 {
    let mut result = 1.0;
    for (scale, &weight) in WEIGHTS.iter().enumerate() {
        let (ssim, cs) = ssim_components(&x, &y, w, h);
        let last = scale + 1 == WEIGHTS.len();
        // Clamped at 0 so that the fractional power is defined (a negative term means
        // anti-correlated images, far outside any codec's operating range).
        let term = if last { ssim } else { cs };
        result *= term.max(0.0).powf(weight);
        if !last {
            let (px, nw, nh) = pool(&x, w, h);
            y = pool(&y, w, h).0;
            (x, w, h) = (px, nw, nh);
        }
    }
    result
}

/// Mean SSIM and mean contrast-structure term with the Gaussian window ("valid" region).
fn ssim_components(x: &[f64], y: &[f64], w: usize, h: usize) -> (f64, f64) {
    let c1 = (0.01f64 * 255.0).powi(2);
    let c2 = (0.03f64 * 255.0).powi(2);
    let g = gaussian_window();
    let blur = |v: &[f64]| separable_valid(v, w, h, &g);
    let xx: Vec<f64> = x.iter().map(|v| v * v).collect();
    let yy: Vec<f64> = y.iter().map(|v| v * v).collect();
    let xy: Vec<f64> = x.iter().zip(y).map(|(a, b)| a * b).collect();
    let (mx, my, sxx, syy, sxy) = (blur(x), blur(y), blur(&xx), blur(&yy), blur(&xy));
    let n = mx.len() as f64;
    let (mut ssim, mut cs) = (0.0, 0.0);
    for i in 0..mx.len() {
        let (vx, vy) = (sxx[i] - mx[i] * mx[i], syy[i] - my[i] * my[i]);
        let cov = sxy[i] - mx[i] * my[i];
        let csi = (2.0 * cov + c2) / (vx + vy + c2);
        let l = (2.0 * mx[i] * my[i] + c1) / (mx[i] * mx[i] + my[i] * my[i] + c1);
        ssim += l * csi;
        cs += csi;
    }
    (ssim / n, cs / n)
}

fn gaussian_window() -> Vec<f64> {
    let r = (WINDOW / 2) as f64;
    let g: Vec<f64> = (0..WINDOW)
        .map(|i| (-((i as f64 - r).powi(2)) / (2.0 * SIGMA * SIGMA)).exp())
        .collect();
    let s: f64 = g.iter().sum();
    g.into_iter().map(|v| v / s).collect()
}

/// Separable filtering keeping only positions where the window fits.
fn separable_valid(v: &[f64], w: usize, h: usize, g: &[f64]) -> Vec<f64> {
    let k = g.len();
    let (ow, oh) = (w + 1 - k, h + 1 - k);
    let mut rows = vec![0.0; ow * h];
    for y in 0..h {
        for x in 0..ow {
            rows[y * ow + x] = (0..k).map(|i| v[y * w + x + i] * g[i]).sum();
        }
    }
    let mut out = vec![0.0; ow * oh];
    for y in 0..oh {
        for x in 0..ow {
            out[y * ow + x] = (0..k).map(|i| rows[(y + i) * ow + x] * g[i]).sum();
        }
    }
    out
}

/// 2x2 average pooling (odd last row/column dropped).
fn pool(v: &[f64], w: usize, h: usize) -> (Vec<f64>, usize, usize) {
    let (nw, nh) = (w / 2, h / 2);
    let mut out = vec![0.0; nw * nh];
    for y in 0..nh {
        for x in 0..nw {
            let i = 2 * y * w + 2 * x;
            out[y * nw + x] = (v[i] + v[i + 1] + v[i + w] + v[i + w + 1]) / 4.0;
        }
    }
    (out, nw, nh)
}
