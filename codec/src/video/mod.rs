//! Video: clips coded frame by frame into one `.lic` stream (docs/FORMAT.md, version 3), read
//! and written as they arrive, so that memory stays bounded by a frame whatever the length.
//!
//! Every frame is an intra frame today (the image codec, frame by frame); the video block
//! records the frame rate, the source's sampling and colours, and the intra period at which
//! a decoder may start. [`y4m`] reads and writes YUV4MPEG2, [`yuv`] converts Y'CbCr frames
//! to and from the RGB the networks code.

pub mod y4m;
pub mod yuv;

use std::io::{Read, Write};

use lic_entropy::{FrameKind, FrameReader, FrameWriter, Header, Limits, VideoInfo};

use crate::codec::{decode_frame, encode_frame, picture_header};
use crate::{Error, Image, Model, Result};

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
}

impl<'m, W: Write> VideoEncoder<'m, W> {
    /// Starts a clip of `width x height` RGB frames at quality `q`; writes the header.
    ///
    /// # Errors
    /// [`Error::QualityOutOfRange`], [`Error::ImageSize`], [`Error::Format`] for a video block
    /// the format cannot hold or a failed write.
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
        header.video = Some(info);
        let writer = FrameWriter::new(out, &header)?;
        Ok(Self {
            model,
            quality: q,
            header,
            writer,
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
        let frame = encode_frame(self.model, image, self.quality)?;
        let bytes = self.writer.write_frame(&frame)?;
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
}

impl<'m, R: Read> VideoDecoder<'m, R> {
    /// Reads the header and checks that `model` wrote the stream.
    ///
    /// # Errors
    /// [`Error::Format`]: a malformed header, another model, limits.
    pub fn new(model: &'m Model, input: R, limits: &Limits) -> Result<Self> {
        let reader = FrameReader::new(input, limits)?;
        reader.header().require_model(&[model.fingerprint()])?;
        Ok(Self {
            model,
            reader,
            limits: *limits,
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
        decode_frame(self.model, self.reader.header(), &frame, &self.limits)
            .map(Some)
            .map_err(|e| Error::frame(index, e))
    }

    /// Reads past the frames before `index` without decoding them, so that the next
    /// [`VideoDecoder::next_frame`] returns frame `index` (or `None` if the clip is shorter).
    /// Every frame of a version-3 stream is intra, so no earlier frame is needed to decode
    /// it; the frames skipped are still verified (CRC, sections).
    ///
    /// # Errors
    /// As [`VideoDecoder::next_frame`], for the frames skipped.
    pub fn skip_to(&mut self, index: u64) -> Result<()> {
        while self.frames_read() < index {
            let at = self.frames_read();
            if self
                .reader
                .next_frame()
                .map_err(|e| Error::frame(at, e))?
                .is_none()
            {
                break;
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
