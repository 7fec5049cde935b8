//! 8-bit RGB and grayscale images in and out, through the `image` crate.

use std::io::Cursor;
use std::path::Path;

pub use image::ImageFormat;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageReader};
use lic_entropy::ColorFormat;
use lic_entropy::container::MAX_SIDE;

use crate::error::{Error, Result};

/// Largest decoded image the readers accept before allocating (1 GiB).
const MAX_DECODE_ALLOC: u64 = 1 << 30;

/// The largest metadata an image may carry into a `.lic` file (every block together): a
/// decoder accepts a frame of at most 16 bytes per pixel plus 1 MiB, so more would make
/// small images undecodable.
pub const MAX_METADATA_BYTES: usize = 1 << 20;

/// What an image file says about its pixels besides them, carried through a `.lic` file
/// byte for byte (ancillary sections) and written back where the output format holds it
/// (PNG holds all three; lic's other outputs, PNM, BMP and TIFF, none). Without an ICC
/// profile the pixels are sRGB.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The ICC colour profile.
    pub icc_profile: Option<Vec<u8>>,
    /// The Exif block (a TIFF structure; its orientation says how to show the pixels).
    pub exif: Option<Vec<u8>>,
    /// The XMP packet (UTF-8 XML).
    pub xmp: Option<Vec<u8>>,
}

impl Metadata {
    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.bytes() == 0
    }

    /// Bytes of every block together.
    pub fn bytes(&self) -> usize {
        [&self.icc_profile, &self.exif, &self.xmp]
            .iter()
            .map(|b| b.as_ref().map_or(0, Vec::len))
            .sum()
    }
}

/// An 8-bit image: interleaved RGB or single-channel gray, rows top to bottom, with the
/// metadata of the file it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    width: u32,
    height: u32,
    color: ColorFormat,
    pixels: Vec<u8>,
    metadata: Metadata,
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
            metadata: Metadata::default(),
        })
    }

    /// The metadata (ICC profile, Exif, XMP) the image carries.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The image with `metadata` instead of its own.
    #[must_use]
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
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
        let mut decoder = reader.into_decoder().map_err(Error::Image)?;
        // A damaged metadata block costs the block, not the image.
        let metadata = Metadata {
            icc_profile: decoder.icc_profile().ok().flatten(),
            exif: decoder.exif_metadata().ok().flatten(),
            xmp: decoder.xmp_metadata().ok().flatten(),
        };
        let img = DynamicImage::from_decoder(decoder).map_err(Error::Image)?;
        Ok(Self::from_dynamic(img)?.with_metadata(metadata))
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
        let m = &self.metadata;
        match format {
            ImageFormat::Png if !m.is_empty() => {
                let mut encoder = PngEncoder::new(&mut out);
                // The PNG encoder takes both; `Err` would only mean "unsupported".
                if let Some(icc) = &m.icc_profile {
                    let _ = encoder.set_icc_profile(icc.clone());
                }
                if let Some(exif) = &m.exif {
                    let _ = encoder.set_exif_metadata(exif.clone());
                }
                img.write_with_encoder(encoder).map_err(Error::Image)?;
            }
            _ => img.write_to(&mut out, format).map_err(Error::Image)?,
        }
        let mut bytes = out.into_inner();
        if let (ImageFormat::Png, Some(xmp)) = (format, &m.xmp) {
            bytes = with_png_xmp(bytes, xmp);
        }
        Ok(bytes)
    }
}

/// `png` with an `iTXt` chunk holding the XMP packet `xmp` (keyword `XML:com.adobe.xmp`,
/// uncompressed, as Adobe's XMP specification puts it in PNG) before its first `IDAT` chunk,
/// where readers look for it. The image crate's PNG encoder writes no XMP.
fn with_png_xmp(png: Vec<u8>, xmp: &[u8]) -> Vec<u8> {
    // The chunks after the 8-byte signature: length, type, data, CRC each.
    let mut at = 8;
    let idat = loop {
        let Some(header) = png.get(at..at + 8) else {
            return png;
        };
        if &header[4..] == b"IDAT" {
            break at;
        }
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        at += 12 + len as usize;
    };
    let mut data = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    data.extend_from_slice(xmp);
    let Ok(len) = u32::try_from(data.len()) else {
        return png;
    };
    let mut chunk = Vec::with_capacity(data.len() + 12);
    chunk.extend_from_slice(&len.to_be_bytes());
    chunk.extend_from_slice(b"iTXt");
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(&crc32fast::hash(&chunk[4..]).to_be_bytes());
    let mut out = png;
    out.splice(idat..idat, chunk);
    out
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

    /// A PNG of `img` with an ICC profile and an Exif block, as a camera or an editor
    /// writes them (the bytes need not be valid profiles: they are carried, not read).
    fn png_with_metadata(img: &DynamicImage, m: &Metadata) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut encoder = PngEncoder::new(&mut out);
        encoder
            .set_icc_profile(m.icc_profile.clone().unwrap())
            .unwrap();
        encoder.set_exif_metadata(m.exif.clone().unwrap()).unwrap();
        img.write_with_encoder(encoder).unwrap();
        with_png_xmp(out.into_inner(), m.xmp.as_deref().unwrap())
    }

    fn sample_metadata() -> Metadata {
        Metadata {
            icc_profile: Some((0..=255u8).cycle().take(3000).collect()),
            // Big-endian TIFF header, one IFD entry: orientation (0x0112) = 6.
            exif: Some(b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec()),
            xmp: Some(br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>"#.to_vec()),
        }
    }

    #[test]
    fn metadata_is_read_and_written_back_byte_for_byte() {
        let m = sample_metadata();
        let png = png_with_metadata(&rgb_sample(), &m);
        let img = Image::from_memory(&png).unwrap();
        assert!(img.metadata() == &m, "metadata read back differs");
        // PNG holds all three; the other outputs none.
        let again = Image::from_memory(&img.to_format(ImageFormat::Png).unwrap()).unwrap();
        assert!(again.metadata() == &m, "metadata written back differs");
        assert_eq!(again.pixels(), img.pixels());
        let bmp = Image::from_memory(&img.to_format(ImageFormat::Bmp).unwrap()).unwrap();
        assert!(bmp.metadata().is_empty());
        // Without metadata, the PNG is what it always was.
        let plain = img.clone().with_metadata(Metadata::default());
        assert_eq!(
            plain.to_format(ImageFormat::Png).unwrap(),
            written(&rgb_sample(), ImageFormat::Png)
        );
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
