//! RD plots (PSNR against bpp) as PNG or SVG, with lic's embedded font so that no system
//! font is needed.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::bdrate::Curve;
use crate::error::{Error, Result};

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");
const SIZE: (u32, u32) = (1000, 720);
const COLORS: [RGBColor; 8] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Fails unless `path` ends in `.png` or `.svg`.
///
/// # Errors
/// [`Error::Plot`] naming the path.
pub fn check_extension(path: &Path) -> Result<()> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png" | "svg") => Ok(()),
        _ => Err(plot_error(format!(
            "the plot must be a .png or .svg file, not {}",
            path.display()
        ))),
    }
}

fn plot_error(reason: String) -> Error {
    Error::Plot { reason }
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is part of the binary; failing here would be a build defect.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// `(bpp, PSNR)` points of a curve, sorted by rate.
fn points(c: &Curve) -> Vec<(f64, f64)> {
    let (Ok(b), Ok(p)) = (c.series("bpp"), c.series("psnr-rgb")) else {
        return Vec::new();
    };
    let mut v: Vec<(f64, f64)> = b.into_iter().zip(p).collect();
    v.sort_by(|x, y| x.0.total_cmp(&y.0));
    v
}

fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, curves: &[Curve]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| plot_error(format!("{e:?}"));
    area.fill(&WHITE).map_err(err)?;
    let all: Vec<(f64, f64)> = curves.iter().flat_map(points).collect();
    // The range of the measured curves (the first ones) decides the view; anchors are
    // clipped to it so a long VTM curve does not squash ours.
    let own: Vec<(f64, f64)> = curves
        .iter()
        .take_while(|c| !c.name.contains("published"))
        .flat_map(points)
        .collect();
    let basis = if own.is_empty() { &all } else { &own };
    if basis.is_empty() {
        return Err(plot_error("nothing to plot".into()));
    }
    let x_max = basis.iter().map(|p| p.0).fold(0.0, f64::max) * 1.1;
    let y_min = basis
        .iter()
        .map(|p| p.1)
        .fold(f64::INFINITY, f64::min)
        .floor()
        - 1.0;
    let y_max = basis
        .iter()
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil()
        + 1.0;
    let mut chart = ChartBuilder::on(area)
        .caption("Rate-distortion (mean over images)", ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, y_min..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("bits per pixel")
        .y_desc("PSNR (RGB), dB")
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 20))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for (i, c) in curves.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<(f64, f64)> = points(c)
            .into_iter()
            .filter(|&(x, y)| x <= x_max && (y_min..=y_max).contains(&y))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(c.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 4, color.filled())))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 18))
        .draw()
        .map_err(err)?;
    area.present().map_err(err)?;
    Ok(())
}

/// The plot of `curves` as the bytes of a PNG or SVG file (by `path`'s extension).
///
/// # Errors
/// [`Error::Plot`] for another extension, no point to plot, or a drawing failure.
pub fn render(curves: &[Curve], path: &Path) -> Result<Vec<u8>> {
    register_font();
    check_extension(path)?;
    let svg = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if svg {
        let mut s = String::new();
        {
            let area = SVGBackend::with_string(&mut s, SIZE).into_drawing_area();
            draw(&area, curves)?;
        }
        Ok(s.into_bytes())
    } else {
        let mut buf = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let area = BitMapBackend::with_buffer(&mut buf, SIZE).into_drawing_area();
            draw(&area, curves)?;
        }
        let img = image::RgbImage::from_raw(SIZE.0, SIZE.1, buf)
            .ok_or_else(|| plot_error("the bitmap does not fit its size".into()))?;
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)
            .map_err(|e| plot_error(format!("writing the PNG: {e}")))?;
        Ok(out.into_inner())
    }
}
