//! Video files through FFmpeg's libraries (ffmpeg-next; cargo feature `ffmpeg`): every
//! container and codec the system's FFmpeg reads (mp4, mkv, webm, avi, ...) decoded frame by
//! frame, and lossless FFV1 in Matroska written frame by frame.
//!
//! Frames come out as they are stored, never through a colour conversion: 8-bit Y'CbCr keeps
//! its sampling (semi-planar and packed layouts are only rearranged into planes, gray gets
//! neutral chroma) and the matrix and range the stream declares are reported for the caller to
//! apply; 8-bit RGB comes out as RGB. Samples above 8 bits, alpha and other layouts are
//! refused with a message that says how to convert them.

use std::path::Path;
use std::sync::Once;

use ff::format::Pixel;
use ff::software::scaling;
use ff::util::color;
use ffmpeg_next as ff;
use lic_entropy::{Chroma, ColorFormat, ColorMatrix, ColorRange, Limits};

use super::yuv::YuvFrame;
use super::{SourceInfo, check_picture_size};
use crate::{Error, Image, Result};

fn bad(problem: impl Into<String>) -> Error {
    Error::Ffmpeg {
        problem: problem.into(),
    }
}

/// FFmpeg's libraries, initialised once per process, quiet below errors (lic reports what
/// matters itself).
fn init() -> Result<()> {
    static INIT: Once = Once::new();
    let mut result = Ok(());
    INIT.call_once(|| {
        result = ff::init().map_err(|e| bad(format!("cannot initialise FFmpeg: {e}")));
        ff::util::log::set_level(ff::util::log::Level::Error);
    });
    result
}

/// One frame as the source stores it.
#[derive(Clone, Debug)]
pub enum SourceFrame {
    /// Y'CbCr planes, to be converted with the matrix and range the caller chooses.
    Yuv(YuvFrame),
    /// RGB pixels.
    Rgb(Image),
}

impl SourceFrame {
    /// The frame in RGB (`matrix` and `range` apply to Y'CbCr frames).
    pub fn to_image(&self, matrix: ColorMatrix, range: ColorRange) -> Image {
        match self {
            Self::Yuv(f) => f.to_image(matrix, range),
            Self::Rgb(img) => img.clone(),
        }
    }
}

/// How a decoded pixel format becomes a [`SourceFrame`]: the planar format it is rearranged
/// into, and its sampling.
fn target_format(format: Pixel) -> Result<(Pixel, Chroma)> {
    use Pixel as P;
    Ok(match format {
        P::YUV420P | P::YUVJ420P | P::NV12 | P::NV21 | P::GRAY8 => (P::YUV420P, Chroma::Yuv420),
        P::YUV422P | P::YUVJ422P | P::YUYV422 | P::UYVY422 | P::YVYU422 | P::NV16 => {
            (P::YUV422P, Chroma::Yuv422)
        }
        P::YUV444P | P::YUVJ444P | P::NV24 | P::NV42 => (P::YUV444P, Chroma::Yuv444),
        P::RGB24 | P::BGR24 | P::GBRP | P::RGBZ | P::BGRZ | P::ZRGB | P::ZBGR => {
            (P::RGB24, Chroma::Rgb)
        }
        other => {
            let name = other.descriptor().map_or("unknown", |d| d.name());
            let why = if name.contains('a')
                && (name.starts_with("yuva")
                    || name.contains("rgba")
                    || name.contains("bgra")
                    || name.contains("argb")
                    || name.contains("abgr")
                    || name.starts_with("gbrap"))
            {
                "it has an alpha channel, which lic does not code"
            } else if ["9", "10", "12", "14", "16", "f32", "f16"]
                .iter()
                .any(|d| name.contains(d))
            {
                "its samples have more than 8 bits (lic codes 8-bit video)"
            } else {
                "lic reads 8-bit Y'CbCr 4:2:0, 4:2:2, 4:4:4 and 8-bit RGB"
            };
            return Err(bad(format!(
                "pixel format {name} is not supported: {why}; convert first, e.g. `ffmpeg -i \
                 IN -pix_fmt yuv420p OUT.y4m`"
            )));
        }
    })
}

fn matrix_of(space: color::Space) -> (Option<ColorMatrix>, Option<String>) {
    match space {
        color::Space::BT709 => (Some(ColorMatrix::Bt709), None),
        color::Space::BT470BG | color::Space::SMPTE170M => (Some(ColorMatrix::Bt601), None),
        color::Space::Unspecified | color::Space::Reserved | color::Space::RGB => (None, None),
        other => (None, Some(other.name().unwrap_or("unknown").to_string())),
    }
}

fn range_of(format: Pixel, range: color::Range) -> Option<ColorRange> {
    match (format, range) {
        (Pixel::YUVJ420P | Pixel::YUVJ422P | Pixel::YUVJ444P, _) | (_, color::Range::JPEG) => {
            Some(ColorRange::Full)
        }
        (_, color::Range::MPEG) => Some(ColorRange::Limited),
        _ => None,
    }
}

/// Copies plane `i` of `frame` (`width x height` bytes, rows `stride` apart) into `out`.
fn copy_plane(frame: &ff::frame::Video, i: usize, width: usize, height: usize, out: &mut Vec<u8>) {
    let stride = frame.stride(i);
    let data = frame.data(i);
    for row in 0..height {
        out.extend_from_slice(&data[row * stride..row * stride + width]);
    }
}

/// Reads the first video stream of a file frame by frame, holding a frame or two (plus what
/// the codec itself buffers).
pub struct FfmpegReader {
    input: ff::format::context::Input,
    stream: usize,
    decoder: ff::decoder::Video,
    scaler: Option<scaling::Context>,
    info: SourceInfo,
    source_format: Pixel,
    target: Pixel,
    /// A decoded frame not yet handed out (the first, read to learn the format).
    pending: Option<SourceFrame>,
    eof_sent: bool,
    frames: u64,
}

impl std::fmt::Debug for FfmpegReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FfmpegReader")
            .field("info", &self.info)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl FfmpegReader {
    /// Opens `path`, decodes its first frame to learn the picture's format, and refuses a
    /// picture beyond `limits` or a format lic does not code.
    ///
    /// # Errors
    /// [`Error::Ffmpeg`] for a file FFmpeg cannot read, without a video stream or in an
    /// unsupported format; [`Error::Format`] for limits.
    pub fn open(path: &Path, limits: &Limits) -> Result<Self> {
        init()?;
        let input = ff::format::input(path)
            .map_err(|e| bad(format!("cannot open {}: {e}", path.display())))?;
        let stream = input
            .streams()
            .best(ff::media::Type::Video)
            .ok_or_else(|| bad(format!("{} has no video stream", path.display())))?;
        let index = stream.index();
        let rate = stream.avg_frame_rate();
        let rate = if rate.numerator() > 0 && rate.denominator() > 0 {
            rate
        } else {
            stream.rate()
        };
        let frame_rate = match (
            u32::try_from(rate.numerator()),
            u32::try_from(rate.denominator()),
        ) {
            (Ok(n), Ok(d)) if n > 0 && d > 0 => (n, d),
            _ => (25, 1),
        };
        let context = ff::codec::context::Context::from_parameters(stream.parameters())
            .map_err(|e| bad(format!("{}: {e}", path.display())))?;
        let codec_name = context.id().name().to_string();
        let decoder = context
            .decoder()
            .video()
            .map_err(|e| bad(format!("cannot decode {}'s video: {e}", path.display())))?;
        let mut reader = Self {
            input,
            stream: index,
            decoder,
            scaler: None,
            info: SourceInfo {
                width: 0,
                height: 0,
                frame_rate,
                chroma: Chroma::Yuv420,
                matrix: None,
                other_matrix: None,
                range: None,
                what: codec_name,
            },
            source_format: Pixel::None,
            target: Pixel::None,
            pending: None,
            eof_sent: false,
            frames: 0,
        };
        let Some(first) = reader.decode_next(Some(limits))? else {
            return Err(bad(format!("{} has no video frame", path.display())));
        };
        reader.pending = Some(first);
        Ok(reader)
    }

    /// What the file holds (`what`: FFmpeg's codec and pixel format, `h264 yuv420p`).
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// The next frame, or `None` at the end of the stream.
    ///
    /// # Errors
    /// [`Error::Ffmpeg`] for a frame FFmpeg cannot decode, or a stream that changes its
    /// picture size or format.
    pub fn next_frame(&mut self) -> Result<Option<SourceFrame>> {
        let frame = match self.pending.take() {
            Some(f) => Some(f),
            None => self.decode_next(None)?,
        };
        self.frames += u64::from(frame.is_some());
        Ok(frame)
    }

    /// Decodes the next frame; with `limits`, it is the first and sets the stream's format.
    fn decode_next(&mut self, limits: Option<&Limits>) -> Result<Option<SourceFrame>> {
        let mut decoded = ff::frame::Video::empty();
        loop {
            if self.decoder.receive_frame(&mut decoded).is_ok() {
                return self.convert(&decoded, limits).map(Some);
            }
            if self.eof_sent {
                return Ok(None);
            }
            let mut packet = ff::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) if packet.stream() == self.stream => {
                    // A damaged packet is skipped as FFmpeg's own tools do; a codec that
                    // cannot go on fails the next receive and then the end of the stream.
                    let _ = self.decoder.send_packet(&packet);
                }
                Ok(()) => {}
                Err(ff::Error::Eof) => {
                    let _ = self.decoder.send_eof();
                    self.eof_sent = true;
                }
                Err(e) => {
                    return Err(bad(format!("frame {}: cannot read: {e}", self.frames)));
                }
            }
        }
    }

    fn convert(
        &mut self,
        frame: &ff::frame::Video,
        limits: Option<&Limits>,
    ) -> Result<SourceFrame> {
        let (width, height, format) = (frame.width(), frame.height(), frame.format());
        if let Some(limits) = limits {
            check_picture_size((width, height), limits, bad)?;
            let (target, chroma) = target_format(format)?;
            let (matrix, other_matrix) = matrix_of(frame.color_space());
            self.info = SourceInfo {
                width,
                height,
                chroma,
                matrix,
                other_matrix,
                range: range_of(format, frame.color_range()),
                what: format!(
                    "{} {}",
                    self.info.what,
                    format.descriptor().map_or("?", |d| d.name())
                ),
                ..self.info.clone()
            };
            self.source_format = format;
            self.target = target;
            if format != target {
                self.scaler = Some(
                    scaling::Context::get(
                        format,
                        width,
                        height,
                        target,
                        width,
                        height,
                        scaling::Flags::POINT,
                    )
                    .map_err(|e| bad(format!("cannot convert {format:?} frames: {e}")))?,
                );
            }
        } else if (width, height, format) != (self.info.width, self.info.height, self.source_format)
        {
            return Err(bad(format!(
                "frame {}: the stream changes from {}x{} {:?} to {width}x{height} {format:?}",
                self.frames, self.info.width, self.info.height, self.source_format
            )));
        }
        let converted;
        let frame = match &mut self.scaler {
            Some(scaler) => {
                let mut out = ff::frame::Video::empty();
                scaler
                    .run(frame, &mut out)
                    .map_err(|e| bad(format!("frame {}: cannot convert: {e}", self.frames)))?;
                converted = out;
                &converted
            }
            None => frame,
        };
        let (w, h) = (width as usize, height as usize);
        if self.info.chroma == Chroma::Rgb {
            let mut rgb = Vec::with_capacity(3 * w * h);
            copy_plane(frame, 0, 3 * w, h, &mut rgb);
            return Ok(SourceFrame::Rgb(Image::new(
                width,
                height,
                ColorFormat::Rgb8,
                rgb,
            )?));
        }
        let mut planes = Vec::with_capacity(YuvFrame::plane_bytes(width, height, self.info.chroma));
        copy_plane(frame, 0, w, h, &mut planes);
        let (cw, ch) = (
            frame.plane_width(1) as usize,
            frame.plane_height(1) as usize,
        );
        copy_plane(frame, 1, cw, ch, &mut planes);
        copy_plane(frame, 2, cw, ch, &mut planes);
        Ok(SourceFrame::Yuv(YuvFrame::from_planes(
            width,
            height,
            self.info.chroma,
            planes,
        )?))
    }
}

/// Writes frames losslessly as FFV1 in a Matroska file, one by one.
pub struct Ffv1Writer {
    output: ff::format::context::Output,
    encoder: ff::encoder::Video,
    format: Pixel,
    width: u32,
    height: u32,
    chroma: Chroma,
    time_base: ff::Rational,
    stream_time_base: ff::Rational,
    frames: i64,
}

impl std::fmt::Debug for Ffv1Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ffv1Writer")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("chroma", &self.chroma)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl Ffv1Writer {
    /// Creates `path` (Matroska, whatever its name) for `width x height` frames at
    /// `frame_rate`: Y'CbCr planes of `chroma` sampling tagged with `matrix` and `range`, or
    /// RGB for [`Chroma::Rgb`].
    ///
    /// # Errors
    /// [`Error::Ffmpeg`] if the file cannot be created or FFmpeg has no FFV1 encoder.
    pub fn create(
        path: &Path,
        (width, height): (u32, u32),
        frame_rate: (u32, u32),
        chroma: Chroma,
        matrix: ColorMatrix,
        range: ColorRange,
    ) -> Result<Self> {
        init()?;
        let fail = |what: &str, e: ff::Error| bad(format!("{}: {what}: {e}", path.display()));
        let mut output =
            ff::format::output_as(path, "matroska").map_err(|e| fail("cannot create", e))?;
        let codec = ff::encoder::find_by_name("ffv1")
            .ok_or_else(|| bad("this FFmpeg has no FFV1 encoder"))?;
        let format = match chroma {
            Chroma::Yuv422 => Pixel::YUV422P,
            Chroma::Yuv444 => Pixel::YUV444P,
            Chroma::Rgb => Pixel::BGRZ,
            _ => Pixel::YUV420P,
        };
        let (num, den) = (
            i32::try_from(frame_rate.0).unwrap_or(i32::MAX),
            i32::try_from(frame_rate.1).unwrap_or(1),
        );
        let time_base = ff::Rational::new(den, num);
        let mut encoder = ff::codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| fail("FFV1 encoder", e))?;
        encoder.set_width(width);
        encoder.set_height(height);
        encoder.set_format(format);
        encoder.set_time_base(time_base);
        encoder.set_frame_rate(Some(ff::Rational::new(num, den)));
        if chroma == Chroma::Rgb {
            encoder.set_colorspace(color::Space::RGB);
        } else {
            encoder.set_colorspace(match matrix {
                ColorMatrix::Bt709 => color::Space::BT709,
                _ => color::Space::SMPTE170M,
            });
            encoder.set_color_range(match range {
                ColorRange::Full => color::Range::JPEG,
                _ => color::Range::MPEG,
            });
        }
        if output
            .format()
            .flags()
            .contains(ff::format::Flags::GLOBAL_HEADER)
        {
            encoder.set_flags(ff::codec::Flags::GLOBAL_HEADER);
        }
        let mut options = ff::Dictionary::new();
        // Version 3 with a CRC per slice: a damaged file says where.
        options.set("level", "3");
        options.set("slicecrc", "1");
        let encoder = encoder
            .open_as_with(codec, options)
            .map_err(|e| fail("cannot open the FFV1 encoder", e))?;
        let mut stream = output
            .add_stream(codec)
            .map_err(|e| fail("cannot add a stream", e))?;
        stream.set_parameters(&encoder);
        stream.set_time_base(time_base);
        output
            .write_header()
            .map_err(|e| fail("cannot write the header", e))?;
        let stream_time_base = output.stream(0).map_or(time_base, |s| s.time_base());
        Ok(Self {
            output,
            encoder,
            format,
            width,
            height,
            chroma,
            time_base,
            stream_time_base,
            frames: 0,
        })
    }

    /// Writes one Y'CbCr frame of the file's size and sampling.
    ///
    /// # Errors
    /// [`Error::Ffmpeg`] for a frame of another shape or a failed write.
    pub fn write_yuv(&mut self, frame: &YuvFrame) -> Result<()> {
        if (frame.width(), frame.height(), frame.chroma()) != (self.width, self.height, self.chroma)
        {
            return Err(bad(format!(
                "a {}x{} {:?} frame does not fit a {}x{} {:?} file",
                frame.width(),
                frame.height(),
                frame.chroma(),
                self.width,
                self.height,
                self.chroma
            )));
        }
        let (y, u, v) = frame.split();
        let mut out = ff::frame::Video::new(self.format, self.width, self.height);
        for (i, plane) in [y, u, v].into_iter().enumerate() {
            let w = out.plane_width(i) as usize;
            fill_plane(&mut out, i, plane, w);
        }
        self.send(out)
    }

    /// Writes one RGB frame (gray is written as RGB) into an RGB file.
    ///
    /// # Errors
    /// [`Error::Ffmpeg`] for a Y'CbCr file, a frame of another size or a failed write.
    pub fn write_rgb(&mut self, image: &Image) -> Result<()> {
        if self.chroma != Chroma::Rgb
            || (image.width(), image.height()) != (self.width, self.height)
        {
            return Err(bad(format!(
                "a {}x{} RGB frame does not fit a {}x{} {:?} file",
                image.width(),
                image.height(),
                self.width,
                self.height,
                self.chroma
            )));
        }
        let rgb = image.to_rgb();
        // FFV1 codes 8-bit RGB as BGR0 (packed, a padding byte per pixel).
        let mut bgr0 = Vec::with_capacity(4 * rgb.len() / 3);
        for p in rgb.chunks_exact(3) {
            bgr0.extend([p[2], p[1], p[0], 0]);
        }
        let mut out = ff::frame::Video::new(self.format, self.width, self.height);
        fill_plane(&mut out, 0, &bgr0, 4 * self.width as usize);
        self.send(out)
    }

    fn send(&mut self, mut frame: ff::frame::Video) -> Result<()> {
        frame.set_pts(Some(self.frames));
        self.encoder
            .send_frame(&frame)
            .map_err(|e| bad(format!("frame {}: cannot encode: {e}", self.frames)))?;
        self.frames += 1;
        self.drain()
    }

    fn drain(&mut self) -> Result<()> {
        let mut packet = ff::Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(0);
            packet.rescale_ts(self.time_base, self.stream_time_base);
            packet
                .write_interleaved(&mut self.output)
                .map_err(|e| bad(format!("cannot write: {e}")))?;
        }
        Ok(())
    }

    /// Flushes the encoder and writes the file's index.
    ///
    /// # Errors
    /// [`Error::Ffmpeg`] if the end cannot be written.
    pub fn finish(mut self) -> Result<()> {
        self.encoder
            .send_eof()
            .map_err(|e| bad(format!("cannot flush the encoder: {e}")))?;
        self.drain()?;
        self.output
            .write_trailer()
            .map_err(|e| bad(format!("cannot write the end of the file: {e}")))
    }
}

/// Copies a tightly packed plane of rows `width` bytes long into plane `i` of `frame`.
fn fill_plane(frame: &mut ff::frame::Video, i: usize, plane: &[u8], width: usize) {
    let stride = frame.stride(i);
    let data = frame.data_mut(i);
    for (row, src) in plane.chunks_exact(width).enumerate() {
        data[row * stride..row * stride + width].copy_from_slice(src);
    }
}
