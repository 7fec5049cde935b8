//! Y'CbCr frames and their conversion to and from the RGB the codec works in.
//!
//! Matrices: BT.601 (Kr 0.299, Kb 0.114) and BT.709 (Kr 0.2126, Kb 0.0722); ranges: limited
//! (Y' 16–235, Cb/Cr 16–240) and full (0–255). Chroma is subsampled by the mean of each 2×2
//! (4:2:0) or 1×2 (4:2:2) block, and upsampled bilinearly with the samples at the block
//! centres (weights 3/4 and 1/4), the JPEG/`C420jpeg` siting; MPEG-2's left siting is read as
//! centred. This is pre- and post-processing outside the bitstream: it never changes a symbol.

use lic_entropy::{Chroma, ColorFormat, ColorMatrix, ColorRange};

use crate::{Error, Image, Result};

/// One 8-bit Y'CbCr frame: its Y', Cb and Cr planes back to back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YuvFrame {
    width: u32,
    height: u32,
    chroma: Chroma,
    planes: Vec<u8>,
}

/// Chroma plane size of a `width x height` frame.
fn chroma_size(width: u32, height: u32, chroma: Chroma) -> (usize, usize) {
    let (w, h) = (width as usize, height as usize);
    match chroma {
        Chroma::Yuv420 => (w.div_ceil(2), h.div_ceil(2)),
        Chroma::Yuv422 => (w.div_ceil(2), h),
        _ => (w, h),
    }
}

/// `(Kr, Kb)` of a matrix.
fn coefficients(matrix: ColorMatrix) -> (f32, f32) {
    match matrix {
        ColorMatrix::Bt709 => (0.2126, 0.0722),
        _ => (0.299, 0.114),
    }
}

/// `(offset, Y' scale, C scale)` mapping full-range values to stored ones.
fn range_scale(range: ColorRange) -> (f32, f32, f32) {
    match range {
        ColorRange::Full => (0.0, 1.0, 1.0),
        _ => (16.0, 219.0 / 255.0, 224.0 / 255.0),
    }
}

/// The Y'CbCr matrix lic assumes for a stream of `height` lines that does not name one:
/// BT.709 from 720 lines up (high definition), BT.601 below.
pub fn assumed_matrix(height: u32) -> ColorMatrix {
    if height >= 720 {
        ColorMatrix::Bt709
    } else {
        ColorMatrix::Bt601
    }
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

impl YuvFrame {
    /// Bytes of the three planes of a frame.
    pub fn plane_bytes(width: u32, height: u32, chroma: Chroma) -> usize {
        let (cw, ch) = chroma_size(width, height, chroma);
        width as usize * height as usize + 2 * cw * ch
    }

    /// A frame from its planes (Y', Cb, Cr back to back).
    ///
    /// # Errors
    /// [`Error::Y4m`] for RGB sampling or a buffer of the wrong length.
    pub fn from_planes(width: u32, height: u32, chroma: Chroma, planes: Vec<u8>) -> Result<Self> {
        if chroma == Chroma::Rgb || planes.len() != Self::plane_bytes(width, height, chroma) {
            return Err(Error::Y4m {
                problem: format!(
                    "{} bytes are not the planes of a {width}x{height} {chroma:?} frame",
                    planes.len()
                ),
            });
        }
        Ok(Self {
            width,
            height,
            chroma,
            planes,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Chroma sampling.
    pub fn chroma(&self) -> Chroma {
        self.chroma
    }

    /// The planes, Y' then Cb then Cr.
    pub fn planes(&self) -> &[u8] {
        &self.planes
    }

    /// The Y', Cb and Cr planes.
    pub fn split(&self) -> (&[u8], &[u8], &[u8]) {
        let luma = self.width as usize * self.height as usize;
        let (cw, ch) = chroma_size(self.width, self.height, self.chroma);
        let (y, c) = self.planes.split_at(luma);
        let (u, v) = c.split_at(cw * ch);
        (y, u, v)
    }

    /// The frame as RGB through `matrix` and `range`.
    pub fn to_image(&self, matrix: ColorMatrix, range: ColorRange) -> Image {
        let (w, h) = (self.width as usize, self.height as usize);
        let (cw, ch) = chroma_size(self.width, self.height, self.chroma);
        let (y, u, v) = self.split();
        let cb = upsample(u, (cw, ch), (w, h));
        let cr = upsample(v, (cw, ch), (w, h));
        let (kr, kb) = coefficients(matrix);
        let kg = 1.0 - kr - kb;
        let (off, ys, cs) = range_scale(range);
        let mut rgb = Vec::with_capacity(3 * w * h);
        for i in 0..w * h {
            let luma = (f32::from(y[i]) - off) / ys;
            let pb = (cb[i] - 128.0) / cs;
            let pr = (cr[i] - 128.0) / cs;
            let r = luma + 2.0 * (1.0 - kr) * pr;
            let b = luma + 2.0 * (1.0 - kb) * pb;
            let g = (luma - kr * r - kb * b) / kg;
            rgb.extend([to_u8(r), to_u8(g), to_u8(b)]);
        }
        Image::new(self.width, self.height, ColorFormat::Rgb8, rgb)
            .expect("3 bytes per pixel of a valid size")
    }

    /// `image` as Y'CbCr with `chroma` sampling through `matrix` and `range` (a gray image
    /// gives neutral chroma).
    ///
    /// # Errors
    /// [`Error::Y4m`] for [`Chroma::Rgb`].
    pub fn from_image(
        image: &Image,
        chroma: Chroma,
        matrix: ColorMatrix,
        range: ColorRange,
    ) -> Result<Self> {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let rgb = image.to_rgb();
        let (kr, kb) = coefficients(matrix);
        let kg = 1.0 - kr - kb;
        let (off, ys, cs) = range_scale(range);
        let mut y = Vec::with_capacity(w * h);
        let mut cb = Vec::with_capacity(w * h);
        let mut cr = Vec::with_capacity(w * h);
        for p in rgb.chunks_exact(3) {
            let [r, g, b] = [p[0], p[1], p[2]].map(f32::from);
            let luma = kr * r + kg * g + kb * b;
            y.push(to_u8(off + ys * luma));
            cb.push(128.0 + cs * (b - luma) / (2.0 * (1.0 - kb)));
            cr.push(128.0 + cs * (r - luma) / (2.0 * (1.0 - kr)));
        }
        let (cw, ch) = chroma_size(image.width(), image.height(), chroma);
        let mut planes = y;
        planes.extend(downsample(&cb, (w, h), (cw, ch)));
        planes.extend(downsample(&cr, (w, h), (cw, ch)));
        Self::from_planes(image.width(), image.height(), chroma, planes)
    }
}

/// The mean of each block of a full-resolution plane (blocks cut at the border).
fn downsample(plane: &[f32], (w, h): (usize, usize), (cw, ch): (usize, usize)) -> Vec<u8> {
    let (fx, fy) = (w.div_ceil(cw), h.div_ceil(ch));
    let mut out = Vec::with_capacity(cw * ch);
    for cy in 0..ch {
        for cx in 0..cw {
            let (mut sum, mut n) = (0.0, 0.0);
            for y in cy * fy..((cy + 1) * fy).min(h) {
                for x in cx * fx..((cx + 1) * fx).min(w) {
                    sum += plane[y * w + x];
                    n += 1.0;
                }
            }
            out.push(to_u8(sum / n));
        }
    }
    out
}

/// Bilinear upsampling of a chroma plane to `w x h`, chroma samples at block centres.
fn upsample(plane: &[u8], (cw, ch): (usize, usize), (w, h): (usize, usize)) -> Vec<f32> {
    if (cw, ch) == (w, h) {
        return plane.iter().map(|&v| f32::from(v)).collect();
    }
    // Source coordinate of output position i for a factor f: (i + 0.5) / f - 0.5.
    let taps = |n: usize, cn: usize| -> Vec<(usize, usize, f32)> {
        let f = n.div_ceil(cn) as f32;
        (0..n)
            .map(|i| {
                let s = ((i as f32 + 0.5) / f - 0.5).max(0.0);
                let i0 = (s.floor() as usize).min(cn - 1);
                let i1 = (i0 + 1).min(cn - 1);
                (i0, i1, s - i0 as f32)
            })
            .collect()
    };
    let (tx, ty) = (taps(w, cw), taps(h, ch));
    let mut out = Vec::with_capacity(w * h);
    for &(y0, y1, fy) in &ty {
        for &(x0, x1, fx) in &tx {
            let at = |y: usize, x: usize| f32::from(plane[y * cw + x]);
            let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
            let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo() -> Image {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/kodim19_71x53.png");
        Image::open(std::path::Path::new(path)).unwrap()
    }

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        let mse: f64 = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum::<f64>()
            / a.len() as f64;
        10.0 * (255.0 * 255.0 / mse.max(1e-12)).log10()
    }

    #[test]
    fn rgb_survives_a_yuv_round_trip() {
        let img = photo();
        for matrix in [ColorMatrix::Bt601, ColorMatrix::Bt709] {
            for range in [ColorRange::Limited, ColorRange::Full] {
                // 4:4:4 loses only rounding; subsampled chroma loses colour detail.
                for (chroma, floor) in [
                    (Chroma::Yuv444, 45.0),
                    (Chroma::Yuv422, 30.0),
                    (Chroma::Yuv420, 28.0),
                ] {
                    let yuv = YuvFrame::from_image(&img, chroma, matrix, range).unwrap();
                    assert_eq!(
                        yuv.planes().len(),
                        YuvFrame::plane_bytes(71, 53, chroma),
                        "odd sizes round the chroma planes up"
                    );
                    let back = yuv.to_image(matrix, range);
                    let p = psnr(img.pixels(), back.pixels());
                    assert!(p > floor, "{matrix:?} {range:?} {chroma:?}: {p:.2} dB");
                    // Y'CbCr -> RGB -> Y'CbCr of the same frame changes little.
                    let again = YuvFrame::from_image(&back, chroma, matrix, range).unwrap();
                    let (y1, ..) = yuv.split();
                    let (y2, ..) = again.split();
                    assert!(psnr(y1, y2) > 40.0, "{matrix:?} {range:?} {chroma:?}");
                }
            }
        }
    }

    #[test]
    fn known_colours_map_to_their_standard_values() {
        let white_red =
            Image::new(2, 1, ColorFormat::Rgb8, vec![255, 255, 255, 255, 0, 0]).unwrap();
        let f = YuvFrame::from_image(
            &white_red,
            Chroma::Yuv444,
            ColorMatrix::Bt601,
            ColorRange::Limited,
        )
        .unwrap();
        let (y, u, v) = f.split();
        // White: Y' 235, neutral chroma. BT.601 red: Y' 81, Cb 90, Cr 240.
        assert_eq!((y, u, v), (&[235, 81][..], &[128, 90][..], &[128, 240][..]));
        let full = YuvFrame::from_image(
            &white_red,
            Chroma::Yuv444,
            ColorMatrix::Bt709,
            ColorRange::Full,
        )
        .unwrap();
        assert_eq!(full.split().0, &[255, 54]);
        assert!(
            YuvFrame::from_image(
                &white_red,
                Chroma::Rgb,
                ColorMatrix::Bt601,
                ColorRange::Full
            )
            .is_err()
        );
    }
}
