//! 8-bit RGB and grayscale images in and out, through the `image` crate.

use std::io::Cursor;
use std::path::Path;

pub use image::ImageFormat;
use image::{DynamicImage, ImageReader};
use lic_entropy::ColorFormat;
use lic_entropy::container::MAX_SIDE;

use crate::error::{Error, Result};

/// Largest decoded image the readers accept before allocating (1 GiB).
const MAX_DECODE_ALLOC: u64 = 1 << 30;

/// An 8-bit image: interleaved RGB or single-channel gray, rows top to bottom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    width: u32,
    height: u32,
    color: ColorFormat,
    pixels: Vec<u8>,
}

impl Image {
    /// Wraps `pixels` (`width * height * channels` bytes).
    ///
    /// # Errors
    /// [`Error::ImageSize`] if a side is 0 or above 2^20, [`Error::PixelBufferSize`] if the
    /// buffer has the wrong size.
    pub fn new(width: u32, height: u32, color: ColorFormat, pixels: Vec<u8>) -> Result<Self> {
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(Error::ImageSize {
                width,
                height,
                max_side: MAX_SIDE,
            });
        }
        let expected = u64::from(width) * u64::from(height) * color.channels() as u64;
        if pixels.len() as u64 != expected {
            return Err(Error::PixelBufferSize {
                width,
                height,
                color,
                expected,
                actual: pixels.len(),
            });
        }
        Ok(Self {
            width,
            height,
            color,
            pixels,
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

    /// RGB or gray.
    pub fn color(&self) -> ColorFormat {
        self.color
    }

    /// The interleaved samples.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The image as interleaved RGB (gray replicated).
    pub fn to_rgb(&self) -> Vec<u8> {
        match self.color {
            ColorFormat::Gray8 => self.pixels.iter().flat_map(|&g| [g, g, g]).collect(),
            _ => self.pixels.clone(),
        }
    }

    /// Decodes an image file's bytes (PNG, JPEG, WebP, TIFF, BMP, PNM; format from content).
    ///
    /// # Errors
    /// [`Error::UnknownImageFormat`] if the format is not one of those, [`Error::Image`] if it
    /// cannot be decoded, [`Error::UnsupportedSamples`] for images lic does not code yet
    /// (transparency, more than 8 bits per sample).
    pub fn from_memory(bytes: &[u8]) -> Result<Self> {
        let mut reader = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| Error::Image(image::ImageError::IoError(e)))?;
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
        limits.max_alloc = Some(MAX_DECODE_ALLOC);
        reader.limits(limits);
        if reader.format().is_none() {
            return Err(Error::UnknownImageFormat);
        }
        let img = reader.decode().map_err(Error::Image)?;
        Self::from_dynamic(img)
    }

    /// PSNR in dB against `other` over every sample (peak 255; infinite for identical
    /// images), or `None` if the two differ in size or colour format.
    pub fn psnr(&self, other: &Image) -> Option<f64> {
        if (self.width, self.height, self.color) != (other.width, other.height, other.color) {
            return None;
        }
        let se: f64 = self
            .pixels
            .iter()
            .zip(&other.pixels)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum();
        let mse = se / self.pixels.len() as f64;
        Some(10.0 * (255.0f64 * 255.0 / mse).log10())
    }

    /// Whether `start`, a file's first bytes (16 are enough), begins like an image in a
    /// format [`Self::from_memory`] reads.
    pub fn recognises(start: &[u8]) -> bool {
        matches!(
            image::guess_format(start),
            Ok(ImageFormat::Png
                | ImageFormat::Jpeg
                | ImageFormat::WebP
                | ImageFormat::Tiff
                | ImageFormat::Bmp
                | ImageFormat::Pnm)
        )
    }

    /// Reads an image file.
    ///
    /// # Errors
    /// As [`Self::from_memory`], plus [`Error::Io`] if the file cannot be read.
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_memory(&bytes)
    }

    /// Converts a decoded image. Opaque alpha (every alpha sample 255) is dropped, since
    /// that loses nothing; real transparency and 16-bit or float samples are refused rather
    /// than silently changed.
    ///
    /// # Errors
    /// [`Error::UnsupportedSamples`], or [`Error::ImageSize`] for an empty image.
    pub fn from_dynamic(img: DynamicImage) -> Result<Self> {
        let (w, h) = (img.width(), img.height());
        match img {
            DynamicImage::ImageRgb8(b) => Self::new(w, h, ColorFormat::Rgb8, b.into_raw()),
            DynamicImage::ImageLuma8(b) => Self::new(w, h, ColorFormat::Gray8, b.into_raw()),
            DynamicImage::ImageRgba8(b) => {
                let raw = b.into_raw();
                if raw.chunks_exact(4).any(|p| p[3] != 255) {
                    return Err(transparency());
                }
                let rgb = raw
                    .chunks_exact(4)
                    .flat_map(|p| [p[0], p[1], p[2]])
                    .collect();
                Self::new(w, h, ColorFormat::Rgb8, rgb)
            }
            DynamicImage::ImageLumaA8(b) => {
                let raw = b.into_raw();
                if raw.chunks_exact(2).any(|p| p[1] != 255) {
                    return Err(transparency());
                }
                Self::new(
                    w,
                    h,
                    ColorFormat::Gray8,
                    raw.chunks_exact(2).map(|p| p[0]).collect(),
                )
            }
            other => Err(Error::UnsupportedSamples {
                found: format!("{:?}", other.color()),
            }),
        }
    }

    /// Encodes the image as PNG.
    ///
    /// # Errors
    /// [`Error::Image`] if the PNG encoder fails.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        self.to_format(ImageFormat::Png)
    }

    /// Encodes the image in a lossless format: PNG, PNM (PPM/PGM), BMP or TIFF.
    ///
    /// # Errors
    /// [`Error::UnsupportedOutputFormat`] for other formats, [`Error::Image`] if the encoder
    /// fails.
    pub fn to_format(&self, format: ImageFormat) -> Result<Vec<u8>> {
        if !matches!(
            format,
            ImageFormat::Png | ImageFormat::Pnm | ImageFormat::Bmp | ImageFormat::Tiff
        ) {
            return Err(Error::UnsupportedOutputFormat { format });
        }
        let mut out = Cursor::new(Vec::new());
        // `new` checked the buffer against the size, so `from_raw` cannot refuse it.
        let img = match self.color {
            ColorFormat::Gray8 => {
                image::GrayImage::from_raw(self.width, self.height, self.pixels.clone())
                    .map(DynamicImage::ImageLuma8)
            }
            _ => image::RgbImage::from_raw(self.width, self.height, self.pixels.clone())
                .map(DynamicImage::ImageRgb8),
        }
        .ok_or(Error::PixelBufferSize {
            width: self.width,
            height: self.height,
            color: self.color,
            expected: u64::from(self.width) * u64::from(self.height) * self.color.channels() as u64,
            actual: self.pixels.len(),
        })?;
        img.write_to(&mut out, format).map_err(Error::Image)?;
        Ok(out.into_inner())
    }
}

fn transparency() -> Error {
    Error::UnsupportedSamples {
        found: "transparency (an alpha channel with values below 255)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn rgb_sample() -> DynamicImage {
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(13, 7, |x, y| {
            image::Rgb([(x * 19) as u8, (y * 37) as u8, ((x + y) * 11) as u8])
        }))
    }

    fn gray_sample() -> DynamicImage {
        DynamicImage::ImageLuma8(image::GrayImage::from_fn(5, 9, |x, y| {
            image::Luma([(x * 40 + y * 3) as u8])
        }))
    }

    #[test]
    fn every_advertised_input_format_is_read() {
        for (img, color) in [
            (rgb_sample(), ColorFormat::Rgb8),
            (gray_sample(), ColorFormat::Gray8),
        ] {
            // The lossless ones give back the very samples.
            let lossless = [
                ImageFormat::Png,
                ImageFormat::Pnm,
                ImageFormat::Tiff,
                ImageFormat::WebP,
                ImageFormat::Bmp,
            ];
            for format in lossless {
                let got = Image::from_memory(&written(&img, format)).unwrap();
                let want = Image::from_dynamic(img.clone()).unwrap();
                assert_eq!(got.to_rgb(), want.to_rgb(), "{format:?} {color:?}");
            }
            let jpeg = Image::from_memory(&written(&img, ImageFormat::Jpeg)).unwrap();
            assert_eq!(
                (jpeg.width(), jpeg.height(), jpeg.color()),
                (img.width(), img.height(), color)
            );
        }
        // A format lic does not read, and no image at all: errors, not panics.
        assert!(matches!(
            Image::from_memory(b"GIF89a\x01\x00\x01\x00"),
            Err(Error::Image(_) | Error::UnknownImageFormat)
        ));
        let err = Image::from_memory(b"just some text").unwrap_err();
        assert!(
            err.to_string().contains("unrecognised image format"),
            "{err}"
        );
    }

    #[test]
    fn decoded_images_are_written_losslessly_in_every_output_format() {
        for img in [rgb_sample(), gray_sample()] {
            let image = Image::from_dynamic(img).unwrap();
            for format in [
                ImageFormat::Png,
                ImageFormat::Pnm,
                ImageFormat::Bmp,
                ImageFormat::Tiff,
            ] {
                let back = Image::from_memory(&image.to_format(format).unwrap()).unwrap();
                assert_eq!(back.to_rgb(), image.to_rgb(), "{format:?}");
                if format != ImageFormat::Bmp {
                    assert_eq!(back.color(), image.color(), "{format:?}");
                }
            }
            assert!(matches!(
                image.to_format(ImageFormat::Jpeg),
                Err(Error::UnsupportedOutputFormat { .. })
            ));
        }
    }
}
