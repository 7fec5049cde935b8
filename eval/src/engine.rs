//! The evaluation engine behind `lic eval`: every codec at each of its qualities on every
//! image, real encodes and decodes, per-image rows and per-quality means in CompressAI's
//! results layout, and the tables, CSV and JSON made from them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use lic_codec::{Image, Limits, Model, decode, encode};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::bdrate::{Curve, Fit, bd_rate};
use crate::error::{Error, Result};
use crate::metrics;

/// File extensions read as images from a folder.
const IMAGE_EXTENSIONS: [&str; 10] = [
    "png", "jpg", "jpeg", "webp", "tif", "tiff", "bmp", "ppm", "pnm", "pgm",
];

/// VTM-9.1 intra curves shipped with lic (assets/anchors/README.md names their sources).
const VTM_KODAK: &str = include_str!("../../assets/anchors/compressai/image/kodak/vtm.json");
const VTM_CLIC_PRO_VALID: &str = include_str!("../../assets/anchors/lalic/clicproval-vtm91.json");
const VTM_TECNICK: &str = include_str!("../../assets/anchors/lalic/tecnick-vtm91.json");

/// Whether a codec is measured (a test) or compared with (an anchor) in the BD table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// lic, in one of its forms.
    Test,
    /// A codec lic is compared with.
    Anchor,
}

/// One image coded at one quality: what a row is made from.
#[derive(Clone, Debug)]
pub struct Coded {
    /// Size of the coded file (or its estimate), in bytes.
    pub bytes: usize,
    /// The decoded image, in the colour format the codec was given.
    pub decoded: Image,
    /// Encoding time in seconds.
    pub encoding_time: f64,
    /// Decoding time in seconds.
    pub decoding_time: f64,
}

/// A codec under evaluation, at the qualities it is measured at.
pub trait Codec: Sync {
    /// Its name in rows and file names (`lic`, `jpeg`, ...).
    fn id(&self) -> &'static str;
    /// The curve's name in tables and plots.
    fn curve_name(&self) -> String;
    /// The curve's description (version, settings).
    fn description(&self) -> String;
    /// The qualities, on the codec's own scale.
    fn qualities(&self) -> &[f64];
    /// Test or anchor.
    fn role(&self) -> Role;
    /// Whether several images may be coded at once (a codec that already uses every core
    /// for one image says no).
    fn images_in_parallel(&self) -> bool {
        false
    }
    /// The image the codec is given and measured against (anchors code RGB).
    ///
    /// # Errors
    /// If the image cannot be converted.
    fn prepare(&self, image: &Image) -> Result<Image> {
        Ok(image.clone())
    }
    /// Codes `image` at `quality` and decodes it.
    ///
    /// # Errors
    /// Whatever the codec reports.
    fn code(&self, image: &Image, quality: f64) -> Result<Coded>;
}

/// lic with a loaded model, plain encodes.
#[derive(Debug)]
pub struct LicCodec<'a> {
    model: &'a Model,
    qualities: Vec<f64>,
}

impl<'a> LicCodec<'a> {
    /// `model` at `qualities` (0..=100).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a quality outside 0..=100.
    pub fn new(model: &'a Model, qualities: &[f32]) -> Result<Self> {
        check_lic_qualities(qualities)?;
        Ok(Self {
            model,
            qualities: qualities.iter().map(|&q| f64::from(q)).collect(),
        })
    }
}

/// Refuses a lic quality outside 0..=100.
///
/// # Errors
/// [`Error::InvalidSetting`].
pub fn check_lic_qualities(qualities: &[f32]) -> Result<()> {
    match qualities.iter().find(|q| !(0.0..=100.0).contains(*q)) {
        Some(q) => Err(Error::InvalidSetting {
            setting: "lic quality",
            value: q.to_string(),
            expected: "0..=100".into(),
        }),
        None => Ok(()),
    }
}

/// The name and description of a lic curve for `model`; `variant` says how it was coded
/// (`", refined 8 steps"`, `", float path"`, or nothing).
pub fn lic_curve_label(model: &Model, variant: &str) -> (String, String) {
    (
        format!("lic ({}{variant})", model.info().name),
        format!(
            "lic {} model {} fingerprint {}{variant}",
            env!("CARGO_PKG_VERSION"),
            model.info().name,
            model.fingerprint()
        ),
    )
}

/// The qualities of the trained levels of `model` (0 and 100 included), and with
/// `halfway` the qualities halfway between neighbours too.
pub fn trained_qualities(model: &Model, halfway: bool) -> Vec<f32> {
    let levels = model.architecture().quality_levels.max(2);
    let step = if halfway { 0.5 } else { 1.0 };
    let count = ((levels - 1) as f32 / step) as usize;
    (0..=count)
        .map(|i| i as f32 * step * 100.0 / (levels - 1) as f32)
        .collect()
}

impl Codec for LicCodec<'_> {
    fn id(&self) -> &'static str {
        "lic"
    }

    fn curve_name(&self) -> String {
        lic_curve_label(self.model, "").0
    }

    fn description(&self) -> String {
        lic_curve_label(self.model, "").1
    }

    fn qualities(&self) -> &[f64] {
        &self.qualities
    }

    fn role(&self) -> Role {
        Role::Test
    }

    fn code(&self, image: &Image, quality: f64) -> Result<Coded> {
        let t = Instant::now();
        let bytes = encode(self.model, image, quality as f32)?;
        Coded::decode_lic(self.model, &bytes, t.elapsed().as_secs_f64())
    }
}

impl Coded {
    /// A `.lic` file that `model` wrote in `encoding_time` seconds, decoded (and the decode
    /// timed) as `lic decode` would.
    ///
    /// # Errors
    /// [`Error::Codec`] if the file does not decode.
    pub fn decode_lic(model: &Model, bytes: &[u8], encoding_time: f64) -> Result<Self> {
        let t = Instant::now();
        let decoded = decode(model, bytes, &Limits::default())?;
        Ok(Self {
            bytes: bytes.len(),
            decoded,
            encoding_time,
            decoding_time: t.elapsed().as_secs_f64(),
        })
    }
}

/// One encode + decode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The image's file name.
    pub image: String,
    /// The codec's id.
    pub codec: &'static str,
    /// The quality, on the codec's scale.
    pub quality: f64,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Coded size in bytes.
    pub bytes: usize,
    /// Bits per pixel.
    pub bpp: f64,
    /// PSNR over the RGB samples (dB).
    pub psnr_rgb: f64,
    /// MS-SSIM over RGB (`None` for images under 176 pixels a side).
    pub ms_ssim_rgb: Option<f64>,
    /// Encoding time in seconds.
    pub encoding_time: f64,
    /// Decoding time in seconds.
    pub decoding_time: f64,
}

/// What one codec measured: its rows and their per-quality means.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The codec's id.
    pub id: &'static str,
    /// Test or anchor.
    pub role: Role,
    /// Per-quality means.
    pub curve: Curve,
    /// Every row, image by image.
    pub rows: Vec<Row>,
}

/// Image files named by `inputs`: files as they are, folders' images (by extension) in name
/// order.
///
/// # Errors
/// [`Error::Io`] for an unreadable folder, [`Error::InvalidSetting`] for a path that is
/// neither, or when no image is found.
pub fn collect_images(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| Error::Io {
                    action: "reading",
                    path: p.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
                    })
                })
                .collect();
            files.sort();
            out.extend(files);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(Error::InvalidSetting {
                setting: "input",
                value: p.display().to_string(),
                expected: "a folder or an image file".into(),
            });
        }
    }
    if out.is_empty() {
        return Err(Error::InvalidSetting {
            setting: "inputs",
            value: format!("{inputs:?}"),
            expected: "at least one image".into(),
        });
    }
    Ok(out)
}

/// The images of `files`, read in parallel, each with its file name.
///
/// # Errors
/// [`Error::Codec`] for a file lic cannot read.
pub fn load_images(files: &[PathBuf]) -> Result<Vec<(String, Image)>> {
    files
        .par_iter()
        .map(|f| {
            let name = f
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            Ok((name, Image::open(f)?))
        })
        .collect()
}

/// How many encodes `codecs` make on `images` (for a progress bar).
pub fn job_count(codecs: &[&dyn Codec], images: usize) -> usize {
    codecs.iter().map(|c| c.qualities().len()).sum::<usize>() * images
}

/// Measures `codec` on every image at each of its qualities; `done` is called after each
/// encode.
///
/// # Errors
/// The first error of the codec, of reading an image back, or of a metric.
pub fn measure(
    codec: &dyn Codec,
    images: &[(String, Image)],
    done: &(dyn Fn() + Sync),
) -> Result<Measured> {
    let image_rows = |(name, image): &(String, Image)| -> Result<Vec<Row>> {
        let image = codec.prepare(image)?;
        codec
            .qualities()
            .iter()
            .map(|&q| {
                let coded = codec.code(&image, q);
                done();
                row(codec.id(), name, q, &image, &coded?)
            })
            .collect()
    };
    let per_image: Vec<Vec<Row>> = if codec.images_in_parallel() {
        images.par_iter().map(image_rows).collect::<Result<_>>()?
    } else {
        images.iter().map(image_rows).collect::<Result<_>>()?
    };
    let rows: Vec<Row> = per_image.into_iter().flatten().collect();
    Ok(Measured {
        id: codec.id(),
        role: codec.role(),
        curve: curve(&rows, &codec.curve_name(), &codec.description()),
        rows,
    })
}

fn row(
    codec: &'static str,
    name: &str,
    quality: f64,
    original: &Image,
    coded: &Coded,
) -> Result<Row> {
    let pixels = f64::from(original.width()) * f64::from(original.height());
    Ok(Row {
        image: name.to_owned(),
        codec,
        quality,
        width: original.width(),
        height: original.height(),
        bytes: coded.bytes,
        bpp: 8.0 * coded.bytes as f64 / pixels,
        psnr_rgb: metrics::psnr(original, &coded.decoded)?,
        ms_ssim_rgb: metrics::ms_ssim(original, &coded.decoded)?,
        encoding_time: coded.encoding_time,
        decoding_time: coded.decoding_time,
    })
}

/// Per-quality means of every series of `rows`, in CompressAI's layout.
pub fn curve(rows: &[Row], name: &str, description: &str) -> Curve {
    let mut qualities: Vec<f64> = rows.iter().map(|r| r.quality).collect();
    qualities.sort_by(f64::total_cmp);
    qualities.dedup();
    let mut series: Vec<(&str, Vec<Value>)> = [
        "quality",
        "bpp",
        "psnr-rgb",
        "ms-ssim-rgb",
        "encoding_time",
        "decoding_time",
    ]
    .into_iter()
    .map(|k| (k, Vec::new()))
    .collect();
    for q in qualities {
        let at: Vec<&Row> = rows.iter().filter(|r| r.quality == q).collect();
        let n = at.len() as f64;
        let mean = |f: &dyn Fn(&Row) -> f64| at.iter().map(|r| f(r)).sum::<f64>() / n;
        let ms = at
            .iter()
            .map(|r| r.ms_ssim_rgb)
            .collect::<Option<Vec<f64>>>()
            .map(|v| v.iter().sum::<f64>() / n);
        let values = [
            json!(q),
            json!(mean(&|r| r.bpp)),
            json!(mean(&|r| r.psnr_rgb)),
            ms.map_or(Value::Null, |v| json!(v)),
            json!(mean(&|r| r.encoding_time)),
            json!(mean(&|r| r.decoding_time)),
        ];
        for ((_, s), v) in series.iter_mut().zip(values) {
            s.push(v);
        }
    }
    let mut results = Map::new();
    for (k, v) in series {
        if v.iter().all(Value::is_null) {
            continue;
        }
        results.insert(k.to_owned(), Value::Array(v));
    }
    Curve {
        name: name.to_owned(),
        description: description.to_owned(),
        results,
    }
}

/// Which published VTM-9.1 curve is the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// Pick from the inputs' names (kodak, clic, tecnick), or none.
    Auto,
    /// Kodak (CompressAI's results).
    Kodak,
    /// CLIC Professional Validation (LALIC repository).
    ClicProValid,
    /// Tecnick (LALIC repository).
    Tecnick,
    /// No VTM curve.
    None,
}

impl Reference {
    /// The names [`Reference::from_str`](std::str::FromStr) reads, in variant order.
    pub const NAMES: [&'static str; 5] = ["auto", "kodak", "clic-pro-valid", "tecnick", "none"];

    /// The published curve for `inputs`, if any.
    ///
    /// # Errors
    /// Only if an embedded curve is malformed (a build defect).
    pub fn curve(self, inputs: &[PathBuf]) -> Result<Option<Curve>> {
        let pick = match self {
            Self::Auto => {
                let names = inputs
                    .iter()
                    .map(|p| p.to_string_lossy().to_ascii_lowercase())
                    .collect::<Vec<_>>()
                    .join(" ");
                if names.contains("kodak") {
                    Self::Kodak
                } else if names.contains("clic") {
                    Self::ClicProValid
                } else if names.contains("tecnick") {
                    Self::Tecnick
                } else {
                    Self::None
                }
            }
            r => r,
        };
        let (text, file) = match pick {
            Self::Kodak => (VTM_KODAK, "compressai/image/kodak/vtm.json"),
            Self::ClicProValid => (VTM_CLIC_PRO_VALID, "lalic/clicproval-vtm91.json"),
            Self::Tecnick => (VTM_TECNICK, "lalic/tecnick-vtm91.json"),
            Self::None | Self::Auto => return Ok(None),
        };
        let mut c: Curve = serde_json::from_str(text).map_err(|e| Error::CurveFile {
            path: Path::new("assets/anchors").join(file),
            reason: e.to_string(),
        })?;
        c.name = "VTM-9.1 (published)".into();
        Ok(Some(c))
    }
}

impl std::str::FromStr for Reference {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let all = [
            Self::Auto,
            Self::Kodak,
            Self::ClicProValid,
            Self::Tecnick,
            Self::None,
        ];
        Self::NAMES
            .iter()
            .zip(all)
            .find(|(name, _)| **name == s)
            .map(|(_, r)| r)
            .ok_or_else(|| format!("`{s}` is not one of {:?}", Self::NAMES))
    }
}

/// The BD-rate table of `tests` against `anchors`, both fits, PSNR and MS-SSIM.
pub fn bd_table(anchors: &[Curve], tests: &[Curve]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<28} {:<28} {:>11} {:>11} {:>19} {:>13}",
        "test", "anchor", "BD pchip %", "BD cubic %", "PSNR interval dB", "MS-SSIM pchip %"
    );
    for t in tests {
        for a in anchors {
            if std::ptr::eq(a, t) || a.name == t.name {
                continue;
            }
            let p = bd_rate(a, t, "psnr-rgb", Fit::Pchip, None);
            let c = bd_rate(a, t, "psnr-rgb", Fit::Cubic, None);
            let ms = bd_rate(a, t, "ms-ssim-rgb", Fit::Pchip, None)
                .map_or_else(|_| "n/a".to_owned(), |r| format!("{:+.2}", r.value));
            match (p, c) {
                (Ok(p), Ok(c)) => {
                    let _ = writeln!(
                        out,
                        "{:<28} {:<28} {:>+11.2} {:>+11.2} {:>19} {:>13}",
                        t.name,
                        a.name,
                        p.value,
                        c.value,
                        format!("{:.2}..{:.2}", p.interval.0, p.interval.1),
                        ms
                    );
                }
                (Err(e), _) | (_, Err(e)) => {
                    let _ = writeln!(out, "{:<28} {:<28} {e}", t.name, a.name);
                }
            }
        }
    }
    out
}

/// The per-quality table of every curve: quality, bpp, PSNR, MS-SSIM and times.
pub fn quality_table(curves: &[&Curve]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<32} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "codec", "quality", "bpp", "PSNR dB", "MS-SSIM", "enc s", "dec s"
    );
    for c in curves {
        let s = |k: &str| c.series(k).unwrap_or_default();
        let (q, b, p, e, d) = (
            s("quality"),
            s("bpp"),
            s("psnr-rgb"),
            s("encoding_time"),
            s("decoding_time"),
        );
        let m = s("ms-ssim-rgb");
        let at = |v: &[f64], i: usize| v.get(i).copied().unwrap_or(f64::NAN);
        for (i, quality) in q.iter().enumerate() {
            let ms = m
                .get(i)
                .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.5}"));
            let _ = writeln!(
                out,
                "{:<32} {:>8.1} {:>8.4} {:>9.3} {:>9} {:>9.3} {:>9.3}",
                c.name,
                quality,
                at(&b, i),
                at(&p, i),
                ms,
                at(&e, i),
                at(&d, i)
            );
        }
    }
    out
}

/// Every row as CSV, with a header line.
pub fn csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "image,codec,quality,width,height,bytes,bpp,psnr_rgb,ms_ssim_rgb,encoding_time,decoding_time\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{:.6},{:.4},{},{:.4},{:.4}",
            r.image.replace(',', "_"),
            r.codec,
            r.quality,
            r.width,
            r.height,
            r.bytes,
            r.bpp,
            r.psnr_rgb,
            r.ms_ssim_rgb
                .map_or_else(String::new, |v| format!("{v:.6}")),
            r.encoding_time,
            r.decoding_time
        );
    }
    s
}

/// A results file in CompressAI's layout: the curve of `measured`, the `environment` it was
/// measured in, and its rows under `images`.
pub fn results_json(measured: &Measured, environment: &Value) -> Value {
    let mut v = serde_json::to_value(&measured.curve).unwrap_or_else(|_| json!({}));
    v["environment"] = environment.clone();
    v["images"] = serde_json::to_value(&measured.rows).unwrap_or_else(|_| json!([]));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(quality: f64, bpp: f64, psnr: f64, ms: Option<f64>) -> Row {
        Row {
            image: "a,b.png".into(),
            codec: "lic",
            quality,
            width: 2,
            height: 2,
            bytes: 1,
            bpp,
            psnr_rgb: psnr,
            ms_ssim_rgb: ms,
            encoding_time: 0.5,
            decoding_time: 0.25,
        }
    }

    #[test]
    fn curves_average_each_quality_and_drop_absent_series() {
        let rows = [
            row(50.0, 1.0, 30.0, None),
            row(10.0, 0.2, 25.0, None),
            row(50.0, 3.0, 32.0, None),
        ];
        let c = curve(&rows, "lic", "test");
        assert_eq!(c.series("quality").unwrap(), vec![10.0, 50.0]);
        assert_eq!(c.series("bpp").unwrap(), vec![0.2, 2.0]);
        assert_eq!(c.series("psnr-rgb").unwrap(), vec![25.0, 31.0]);
        assert!(c.series("ms-ssim-rgb").is_err(), "no MS-SSIM was measured");
        let text = csv(&rows);
        assert!(text.starts_with("image,codec,"));
        assert!(text.contains("a_b.png,lic,50,"), "{text}");
        assert_eq!(text.lines().count(), 4);
    }

    #[test]
    fn the_reference_is_picked_from_the_inputs() {
        let kodak = Reference::Auto
            .curve(&[PathBuf::from("../shared/datasets/kodak")])
            .unwrap()
            .unwrap();
        assert_eq!(kodak.name, "VTM-9.1 (published)");
        assert!(kodak.series("bpp").unwrap().len() > 3);
        assert!(
            Reference::Auto
                .curve(&[PathBuf::from("photos")])
                .unwrap()
                .is_none()
        );
        assert!(Reference::Tecnick.curve(&[]).unwrap().is_some());
        assert_eq!("clic-pro-valid".parse(), Ok(Reference::ClicProValid));
        assert!("vtm".parse::<Reference>().is_err());
    }

    #[test]
    fn lic_qualities_are_checked() {
        assert!(check_lic_qualities(&[0.0, 100.0]).is_ok());
        assert!(matches!(
            check_lic_qualities(&[101.0]),
            Err(Error::InvalidSetting { .. })
        ));
        assert!(check_lic_qualities(&[f32::NAN]).is_err());
    }
}
