//! Encoding to a target instead of a quality: the largest file that does not exceed a size
//! (bytes or bits per pixel), or the smallest that reaches a PSNR, found by a search over the
//! continuous quality.
//!
//! The analysis transform runs once; each trial applies a quality's gains, the
//! hyper-analysis and the entropy coding (and, for a PSNR, the synthesis), so a trial costs a
//! fraction of an encode. The search brackets the answer by secant steps on the logarithm of
//! the size (or on the PSNR), then narrows the bracket by interpolation kept inside its
//! middle 80 %, so every trial shrinks it. Every figure it compares is measured on the real
//! file (and its real decode), never estimated, and the answer is the very bytes of
//! [`crate::encode`] at the quality found.

use std::collections::BTreeMap;

use crate::codec::{
    Quality, analysis_base, encode_latents, encode_latents_and_reconstruct, latents_at,
};
use crate::{Error, Image, Model, Result};

/// What [`encode_to_target`] aims at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// A file of at most this many bytes (header included).
    Bytes(u64),
    /// At most this many bits per pixel (8 × file bytes / pixels).
    Bpp(f64),
    /// At least this PSNR (dB, RGB or gray samples, peak 255) after decoding.
    Psnr(f64),
}

/// The file [`encode_to_target`] chose, and how it got there.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetOutcome {
    /// The `.lic` file.
    pub bytes: Vec<u8>,
    /// The quality it was coded at (hundredths, as the header stores it).
    pub quality: f32,
    /// Trial encodes the search made (each a real file).
    pub trials: u32,
    /// The decoded picture's PSNR, for a PSNR target.
    pub psnr: Option<f64>,
}

/// Stop once the size is within this share below a size target...
const SIZE_TOLERANCE: f64 = 0.01;
/// ... or the PSNR within this many dB above a PSNR target...
const PSNR_TOLERANCE: f64 = 0.02;
/// ... or the bracket is this narrow, in hundredths of quality.
const BRACKET_X100: u16 = 5;
/// Typical slopes over the quality scale (the shipped model on Kodak: the size grows by
/// about e per 36 quality points, the PSNR by about 0.07 dB per point), for the first step.
const LOG_SIZE_PER_X100: f64 = 0.000_28;
const PSNR_PER_X100: f64 = 0.000_7;
/// The quality the search starts at, in hundredths.
const START_X100: u16 = 5000;
/// A search that has not converged after this many trials returns its best so far.
const MAX_TRIALS: u32 = 16;

/// Encodes `image` at the highest quality whose file does not exceed a size target, or the
/// lowest whose decode reaches a PSNR target.
///
/// # Errors
/// [`Error::InvalidTarget`] for a target that is not a positive finite number;
/// [`Error::TargetUnreachable`] when even quality 0 is too large, or quality 100 does not
/// reach the PSNR (the message gives what the extreme reaches); coding errors as
/// [`crate::encode`].
pub fn encode_to_target(model: &Model, image: &Image, target: Target) -> Result<TargetOutcome> {
    let pixels = f64::from(image.width()) * f64::from(image.height());
    // g(q) grows with q; the answer is the largest q with g <= 0 (sizes) or the smallest
    // with g >= 0 (PSNR).
    let (goal, below) = match target {
        Target::Bytes(b) if b > 0 => (Goal::Size(b as f64), true),
        Target::Bpp(bpp) if bpp.is_finite() && bpp > 0.0 => (Goal::Size(bpp * pixels / 8.0), true),
        Target::Psnr(db) if db.is_finite() && db > 0.0 => (Goal::Psnr(db), false),
        _ => {
            return Err(Error::InvalidTarget {
                target: format!("{target:?}"),
            });
        }
    };
    let base = analysis_base(model, image);
    let mut trials: BTreeMap<u16, Trial> = BTreeMap::new();
    let mut run = |x100: u16| -> Result<f64> {
        if let Some(t) = trials.get(&x100) {
            return Ok(goal.g(t));
        }
        let quality = Quality::from_x100(x100);
        let latents = latents_at(model, base.clone(), quality)?;
        let t = match goal {
            Goal::Size(_) => Trial {
                bytes: encode_latents(model, image, quality, &latents)?,
                psnr: None,
            },
            Goal::Psnr(_) => {
                let (bytes, rec) = encode_latents_and_reconstruct(model, image, quality, &latents)?;
                Trial {
                    bytes,
                    psnr: image.psnr(&rec),
                }
            }
        };
        let g = goal.g(&t);
        trials.insert(x100, t);
        Ok(g)
    };
    let ok = |g: f64| if below { g <= 0.0 } else { g >= 0.0 };
    let close = |g: f64| match goal {
        Goal::Size(_) => g > (1.0 - SIZE_TOLERANCE).ln(),
        Goal::Psnr(_) => g < PSNR_TOLERANCE,
    };
    let slope = match goal {
        Goal::Size(_) => LOG_SIZE_PER_X100,
        Goal::Psnr(_) => PSNR_PER_X100,
    };

    // Bracket: `good` meets the target, `bad` does not.
    let mut count = 1;
    let (mut good, mut bad): (Option<Point>, Option<Point>) = (None, None);
    let mut point = (START_X100, run(START_X100)?);
    let mut previous: Option<Point> = None;
    loop {
        let (q, g) = point;
        if ok(g) {
            good = Some((q, g));
        } else {
            bad = Some((q, g));
        }
        if good.is_some() && bad.is_some() {
            break;
        }
        // The extreme on the needed side already fails (or succeeds): no bracket.
        let edge = if ok(g) == below { 10_000 } else { 0 };
        if q == edge || count >= MAX_TRIALS {
            break;
        }
        // A secant step through the last two points (the typical slope at first), pushed
        // at least 2 quality points on, at most to the edge.
        let s = match previous {
            Some((pq, pg)) if pq != q && (g - pg) / (f64::from(q) - f64::from(pq)) > 1e-9 => {
                (g - pg) / (f64::from(q) - f64::from(pq))
            }
            _ => slope,
        };
        let step = (-g / s).clamp(-10_000.0, 10_000.0);
        let step = if step.abs() < 200.0 {
            200f64.copysign(step)
        } else {
            step
        };
        let next = (f64::from(q) + step).round().clamp(0.0, 10_000.0) as u16;
        let next = if next == q { edge } else { next };
        previous = Some(point);
        point = (next, run(next)?);
        count += 1;
    }
    let Some(mut good) = good else {
        let (q, _) = point;
        let t = &trials[&q];
        return Err(Error::TargetUnreachable {
            target: goal.describe(),
            best: match goal {
                Goal::Size(_) => format!(
                    "{} bytes at quality {}",
                    t.bytes.len(),
                    Quality::from_x100(q).value()
                ),
                Goal::Psnr(_) => format!(
                    "{:.2} dB at quality {}",
                    t.psnr.unwrap_or(f64::NAN),
                    Quality::from_x100(q).value()
                ),
            },
        });
    };
    // Narrow the bracket: interpolate, kept inside its middle 80 %.
    if let Some(mut bad) = bad {
        while !close(good.1) && good.0.abs_diff(bad.0) > BRACKET_X100 && count < MAX_TRIALS {
            let (lo, hi) = (good.0.min(bad.0), good.0.max(bad.0));
            let (glo, ghi) = if good.0 < bad.0 {
                (good.1, bad.1)
            } else {
                (bad.1, good.1)
            };
            let width = f64::from(hi - lo);
            let at = if ghi > glo {
                (f64::from(lo) + width * (-glo / (ghi - glo)))
                    .clamp(f64::from(lo) + 0.1 * width, f64::from(hi) - 0.1 * width)
            } else {
                f64::from(lo) + 0.5 * width
            };
            let q = (at.round() as u16).clamp(lo + 1, hi - 1);
            let g = run(q)?;
            count += 1;
            if ok(g) {
                good = (q, g);
            } else {
                bad = (q, g);
            }
        }
    }
    let t = trials
        .remove(&good.0)
        .expect("every point of the search was run");
    Ok(TargetOutcome {
        bytes: t.bytes,
        quality: Quality::from_x100(good.0).value(),
        trials: count,
        psnr: t.psnr,
    })
}

/// A quality (hundredths) and the search's function there.
type Point = (u16, f64);

/// One trial's file and, for a PSNR target, its decode's PSNR.
struct Trial {
    bytes: Vec<u8>,
    psnr: Option<f64>,
}

#[derive(Clone, Copy)]
enum Goal {
    /// At most this many bytes.
    Size(f64),
    /// At least this PSNR.
    Psnr(f64),
}

impl Goal {
    /// The search's function of a trial: growing with quality, zero at the target.
    fn g(self, t: &Trial) -> f64 {
        match self {
            Self::Size(max) => (t.bytes.len() as f64 / max).ln(),
            Self::Psnr(db) => t.psnr.unwrap_or(f64::INFINITY) - db,
        }
    }

    fn describe(self) -> String {
        match self {
            Self::Size(max) => format!("a file of at most {} bytes", max.floor()),
            Self::Psnr(db) => format!("a PSNR of {db} dB"),
        }
    }
}
