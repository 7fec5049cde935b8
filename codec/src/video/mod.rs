//! Video: clips coded frame by frame into one `.lic` stream (docs/FORMAT.md, version 3), read
//! and written as they arrive, so that memory stays bounded by a frame whatever the length.
//!
//! Frames at the intra period's positions are intra frames (the image codec). The others are
//! inter frames: their latent is coded with an entropy model that also sees the previous
//! frame's *decoded* latent through the model's temporal networks (integer, like every network
//! that chooses a probability table), so encoder and decoder condition on the same values and
//! nothing drifts. The transforms are the image model's: an inter frame costs fewer bits for
//! the same picture. The video block records the frame rate, the source's sampling and
//! colours, the intra period at which a decoder may start, and the temporal networks' identity.
//! [`y4m`] reads and writes YUV4MPEG2, [`yuv`] converts Y'CbCr frames to and from the RGB the
//! networks code.

#[cfg(feature = "ffmpeg")]
pub mod ffmpeg;
pub mod y4m;
pub mod yuv;

use std::io::{Read, Write};

use lic_entropy::{
    Chroma, ColorMatrix, ColorRange, Frame, FrameKind, FrameReader, FrameWriter, Header, Limits,
    VideoInfo,
};

use crate::codec::{
    decode_video_latent, encode_video_frame, metadata_of, picture_header, reconstruct_frame,
};
use crate::int::IntMap;
use crate::{Error, Image, Model, Result};

/// The intra period lic picks when asked for none: the whole number of frames closest to two
/// seconds at `frame_rate` (numerator, denominator), at least 1. Seeking then decodes at most
/// two seconds of latents before the frame asked for.
pub fn default_intra_period((num, den): (u32, u32)) -> u32 {
    let frames = (2.0 * f64::from(num) / f64::from(den.max(1))).round();
    frames.clamp(1.0, f64::from(u32::MAX)) as u32
}

/// What a clip's input says about itself (a Y4M header, raw planes' options, a video file's
/// first frame), before lic chooses the colours it assumes where the input is silent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second as numerator, denominator.
    pub frame_rate: (u32, u32),
    /// The sampling frames come out in ([`Chroma::Rgb`] for RGB sources).
    pub chroma: Chroma,
    /// The Y'CbCr matrix the input declares, if it declares one lic converts.
    pub matrix: Option<ColorMatrix>,
    /// The name of a declared matrix lic does not convert (BT.2020, ...), if any.
    pub other_matrix: Option<String>,
    /// The range the input declares, if it does.
    pub range: Option<ColorRange>,
    /// What the input is, for messages: `Y4M`, `raw`, or a video file's codec and pixel
    /// format (`h264 yuv420p`).
    pub what: String,
}

/// Refuses a clip's picture before any frame is read: a side outside `1..=MAX_SIDE` (worded
/// by `bad`, the reader's own error) or a picture beyond `limits`.
pub(crate) fn check_picture_size(
    (width, height): (u32, u32),
    limits: &Limits,
    bad: impl Fn(String) -> Error,
) -> Result<()> {
    let max = lic_entropy::MAX_SIDE;
    if !(1..=max).contains(&width) || !(1..=max).contains(&height) {
        return Err(bad(format!(
            "a {width}x{height} picture: each side must be within 1..={max}"
        )));
    }
    Ok(limits.check_picture(width, height)?)
}

/// What one coded frame cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameStats {
    /// The frame's index in the clip (0-based).
    pub index: u64,
    /// How it was coded.
    pub kind: FrameKind,
    /// Its bytes in the file (framing included).
    pub bytes: usize,
}

/// Codes a clip frame by frame into a `.lic` stream.
#[derive(Debug)]
pub struct VideoEncoder<'m, W: Write> {
    model: &'m Model,
    quality: f32,
    header: Header,
    writer: FrameWriter<W>,
    /// The decoded latent of the last frame, which the next inter frame is conditioned on.
    previous: Option<IntMap>,
}

impl<'m, W: Write> VideoEncoder<'m, W> {
    /// Starts a clip of `width x height` RGB frames at quality `q`; writes the header. Frames
    /// between the intra period's are inter frames; `info.temporal` is set from the model.
    ///
    /// # Errors
    /// [`Error::QualityOutOfRange`], [`Error::ImageSize`], [`Error::Temporal`] for an intra
    /// period other than 1 with a model without temporal networks, [`Error::Format`] for a
    /// video block the format cannot hold or a failed write.
    pub fn new(
        model: &'m Model,
        out: W,
        (width, height): (u32, u32),
        q: f32,
        info: VideoInfo,
    ) -> Result<Self> {
        // The header of a frame of the clip's size: an image's, plus the video block.
        let probe = Image::new(1, 1, lic_entropy::ColorFormat::Rgb8, vec![0; 3])?;
        let mut header = picture_header(model, &probe, q)?;
        let max_side = lic_entropy::MAX_SIDE;
        if !(1..=max_side).contains(&width) || !(1..=max_side).contains(&height) {
            return Err(Error::ImageSize {
                width,
                height,
                max_side,
            });
        }
        (header.width, header.height) = (width, height);
        let temporal = match (info.intra_period, model.temporal_fingerprint()) {
            (1, _) => None,
            (_, Some(f)) => Some(f),
            (period, None) => {
                return Err(Error::Temporal {
                    problem: format!(
                        "intra period {period} needs inter frames, and model {} has no temporal \
                         networks: use an intra period of 1 (every frame intra)",
                        model.info().name
                    ),
                });
            }
        };
        header.video = Some(VideoInfo { temporal, ..info });
        let writer = FrameWriter::new(out, &header)?;
        Ok(Self {
            model,
            quality: q,
            header,
            writer,
            previous: None,
        })
    }

    /// The header written.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Codes and writes the next frame.
    ///
    /// # Errors
    /// [`Error::ImageSize`] for a frame of another size or colour format, coding and write
    /// errors.
    pub fn encode(&mut self, image: &Image) -> Result<FrameStats> {
        let h = &self.header;
        if (image.width(), image.height(), image.color()) != (h.width, h.height, h.color) {
            return Err(Error::FrameMismatch {
                index: u64::from(self.writer.frames_written()),
                found: format!("{}x{} {:?}", image.width(), image.height(), image.color()),
                expected: format!("{}x{} {:?}", h.width, h.height, h.color),
            });
        }
        let index = u64::from(self.writer.frames_written());
        let video = self.header.video.as_ref();
        let inter = video.is_some_and(|v| v.temporal.is_some() && !v.is_intra(index));
        let previous = if inter { self.previous.as_ref() } else { None };
        let (frame, latent) = encode_video_frame(self.model, image, self.quality, previous)?;
        let bytes = self.writer.write_frame(&frame)?;
        self.previous = video.and_then(|v| v.temporal).map(|_| latent);
        Ok(FrameStats {
            index: u64::from(self.writer.frames_written() - 1),
            kind: frame.kind,
            bytes,
        })
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        u64::from(self.writer.frames_written())
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.writer.bytes_written()
    }

    /// Writes the end marker and returns the output.
    ///
    /// # Errors
    /// [`Error::Format`] if the write fails.
    pub fn finish(self) -> Result<W> {
        Ok(self.writer.finish()?)
    }
}

/// Decodes a `.lic` stream (a video, or an image as a one-frame clip) frame by frame.
#[derive(Debug)]
pub struct VideoDecoder<'m, R: Read> {
    model: &'m Model,
    reader: FrameReader<R>,
    limits: Limits,
    /// The decoded latent of the frame before the next one, where it was decoded and the
    /// clip has inter frames.
    previous: Option<IntMap>,
}

impl<'m, R: Read> VideoDecoder<'m, R> {
    /// Reads the header and checks that `model` wrote the stream, temporal networks included.
    ///
    /// # Errors
    /// [`Error::Format`]: a malformed header, another model, limits; [`Error::Temporal`]: a
    /// clip whose inter frames need temporal networks that `model` does not have.
    pub fn new(model: &'m Model, input: R, limits: &Limits) -> Result<Self> {
        let reader = FrameReader::new(input, limits)?;
        reader.header().require_model(&[model.fingerprint()])?;
        if let Some(needed) = reader.header().video.and_then(|v| v.temporal)
            && model.temporal_fingerprint() != Some(needed)
        {
            return Err(Error::Temporal {
                problem: format!(
                    "the clip's inter frames were coded with temporal networks {needed}; model \
                     {} has {}",
                    model.info().name,
                    model
                        .temporal_fingerprint()
                        .map_or_else(|| "none".to_owned(), |f| format!("{f}"))
                ),
            });
        }
        Ok(Self {
            model,
            reader,
            limits: *limits,
            previous: None,
        })
    }

    /// The stream's header (`video` is `None` for a still image).
    pub fn header(&self) -> &Header {
        self.reader.header()
    }

    /// Frames read so far (decoded or skipped).
    pub fn frames_read(&self) -> u64 {
        u64::from(self.reader.frames_read())
    }

    /// Decodes the next frame: `None` at the end of the stream.
    ///
    /// # Errors
    /// [`Error::Frame`] naming the frame's index for a damaged, truncated or undecodable
    /// frame; every frame before it has been returned.
    pub fn next_frame(&mut self) -> Result<Option<Image>> {
        let index = self.frames_read();
        let frame = self
            .reader
            .next_frame()
            .map_err(|e| Error::frame(index, e))?;
        let Some(frame) = frame else {
            return Ok(None);
        };
        let latent = self.decode_latent(index, &frame)?;
        reconstruct_frame(self.model, &latent, self.reader.header())
            .map(|image| Some(image.with_metadata(metadata_of(&frame))))
            .map_err(|e| Error::frame(index, e))
    }

    /// The decoded latent of frame `index`, kept as the next frame's `previous` where the
    /// clip has inter frames.
    fn decode_latent(&mut self, index: u64, frame: &Frame) -> Result<IntMap> {
        let previous = self.previous.take();
        if frame.kind == FrameKind::Inter && previous.is_none() {
            return Err(Error::frame(
                index,
                Error::Temporal {
                    problem: "an inter frame needs the frame before it, which was not decoded"
                        .into(),
                },
            ));
        }
        let header = self.reader.header();
        let latent =
            decode_video_latent(self.model, header, frame, &self.limits, previous.as_ref())
                .map_err(|e| Error::frame(index, e))?;
        if header.video.is_some_and(|v| v.temporal.is_some()) {
            self.previous = Some(latent.clone());
        }
        Ok(latent)
    }

    /// Reads past the frames before `index`, so that the next [`VideoDecoder::next_frame`]
    /// returns frame `index` (or `None` if the clip is shorter). The frames before the intra
    /// frame at or before `index` are only verified (CRC, sections); from that intra frame on
    /// their latents are decoded (no synthesis), since each inter frame needs the one before.
    ///
    /// # Errors
    /// As [`VideoDecoder::next_frame`], for the frames read.
    pub fn skip_to(&mut self, index: u64) -> Result<()> {
        let start = match self.reader.header().video {
            Some(v) if v.temporal.is_some() => v.intra_before(index),
            _ => index,
        };
        while self.frames_read() < index {
            let at = self.frames_read();
            let Some(frame) = self.reader.next_frame().map_err(|e| Error::frame(at, e))? else {
                break;
            };
            if at >= start {
                self.decode_latent(at, &frame)?;
            } else {
                self.previous = None;
            }
        }
        Ok(())
    }
}

impl<R: Read> Iterator for VideoDecoder<'_, R> {
    type Item = Result<Image>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame().transpose()
    }
}
