//! Frame-by-frame reading and writing of `.lic` data from any byte stream (a file, a pipe):
//! what a video needs when neither its length nor its frame count is known in advance.
//!
//! The reader pulls exactly one header or frame's bytes at a time (varints byte by byte,
//! payloads through `Read::take`, so a truncated or hostile stream never makes it reserve
//! more than what arrived) and hands them to the same parser that reads whole files.

use std::io::{Read, Write};

use super::reader::Reader;
use super::{
    END_CODE, Frame, Header, Item, MAGIC, check_end, check_frame_count, check_frame_kind,
    check_magic_and_version, encode_end, encode_frame, encode_header, read_header, read_item,
    varint,
};
use crate::{Error, Limits, Result};

/// Largest number of sections one frame may have (a model has a handful of channel groups).
const MAX_SECTIONS: u32 = 4096;
/// Largest video block: its fields take at most 18 bytes today.
const MAX_VIDEO_BLOCK: u32 = 256;

/// The most bytes a frame of `pixels` pixels may take: 16 bytes per pixel and 1 MiB, far
/// above anything the codec writes (a few bits per pixel) and a bound on what a stream can
/// make the reader hold.
pub fn max_frame_bytes(pixels: u64) -> u64 {
    pixels.saturating_mul(16).saturating_add(1 << 20)
}

/// Bytes pulled from a stream, kept so that the slice parser can read them.
struct Pull<'r, R: Read> {
    r: &'r mut R,
    buf: Vec<u8>,
}

impl<R: Read> Pull<'_, R> {
    /// Appends exactly `n` more bytes, or fails as truncation (end of stream) or I/O.
    fn take(&mut self, n: usize, what: &'static str) -> Result<()> {
        let before = self.buf.len();
        let got = (&mut *self.r)
            .take(n as u64)
            .read_to_end(&mut self.buf)
            .map_err(io_error)?;
        if got < n {
            return Err(Error::Truncated {
                what,
                needed: n,
                available: self.buf.len() - before,
            });
        }
        Ok(())
    }

    /// Appends a varint's bytes and returns its value (checked by the slice parser).
    fn varint(&mut self, what: &'static str) -> Result<u32> {
        let start = self.buf.len();
        for _ in 0..5 {
            self.take(1, what)?;
            if self.buf[self.buf.len() - 1] & 0x80 == 0 {
                break;
            }
        }
        varint::read_u32(&mut Reader::new(&self.buf[start..]), what)
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::Io {
        kind: e.kind(),
        message: e.to_string(),
    }
}

/// What [`FrameReader::next_frame`] returns.
pub type NextFrame = Option<Frame>;

/// Reads a `.lic` stream frame by frame: an image's one frame, or a video's frames up to its
/// end marker, each verified (CRC, known sections, limits) before it is returned.
#[derive(Debug)]
pub struct FrameReader<R: Read> {
    r: R,
    version: u8,
    header: Header,
    declared: u32,
    header_bytes: usize,
    read: u32,
    last_frame_bytes: usize,
    done: bool,
    limits: Limits,
}

impl<R: Read> FrameReader<R> {
    /// Reads and verifies the header.
    ///
    /// # Errors
    /// As [`super::LicFile::parse_header`], plus [`Error::Io`] for a failing stream.
    pub fn new(mut r: R, limits: &Limits) -> Result<Self> {
        let mut p = Pull {
            r: &mut r,
            buf: Vec::with_capacity(64),
        };
        // Magic and version first, so that a foreign file is named as such.
        match p.take(MAGIC.len(), "magic") {
            Err(Error::Truncated { .. }) => check_magic_and_version(&p.buf, None)?,
            other => other?,
        }
        check_magic_and_version(&p.buf, None)?;
        p.take(1, "version")?;
        let version = p.buf[4];
        check_magic_and_version(&p.buf[..4], Some(version))?;
        p.take(8, "model fingerprint")?;
        p.varint("width")?;
        p.varint("height")?;
        p.take(1 + 2, "colour format and quality")?;
        p.varint("frame_count")?;
        if version >= 3 {
            let len = p.varint("video_length")?;
            if len > MAX_VIDEO_BLOCK {
                return Err(Error::InvalidField {
                    field: "video_length",
                    value: u64::from(len),
                    expected: "at most 256 bytes",
                });
            }
            p.take(len as usize, "video block")?;
        }
        p.take(4, "header CRC-32")?;
        let buf = p.buf;
        let (header, declared) = read_header(&mut Reader::new(&buf), limits)?;
        Ok(Self {
            r,
            version,
            header,
            declared,
            header_bytes: buf.len(),
            read: 0,
            last_frame_bytes: 0,
            done: false,
            limits: *limits,
        })
    }

    /// The stream's format version (this build reads [`super::OLDEST_READABLE_VERSION`] to
    /// [`super::FORMAT_VERSION`]).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The header's frame count: 1 for an image; for a video the count its writer knew, or 0.
    pub fn declared_frames(&self) -> u32 {
        self.declared
    }

    /// Bytes of the header, CRC included.
    pub fn header_bytes(&self) -> usize {
        self.header_bytes
    }

    /// Frames returned so far.
    pub fn frames_read(&self) -> u32 {
        self.read
    }

    /// Bytes of the frame last returned (framing and CRC included).
    pub fn last_frame_bytes(&self) -> usize {
        self.last_frame_bytes
    }

    /// The next frame, or `None` after an image's frame or a video's end marker (then the
    /// stream must end: trailing bytes are an error).
    ///
    /// # Errors
    /// Truncation, corruption, an unknown critical section, an end marker that disagrees
    /// with the frames read, a frame over [`max_frame_bytes`] or the limits' frame count,
    /// [`Error::Io`]. After an error the reader returns the same kind of error again.
    pub fn next_frame(&mut self) -> Result<NextFrame> {
        if self.done {
            return Ok(None);
        }
        if self.header.video.is_none() && self.read == self.declared {
            self.done = true;
            self.expect_end_of_stream()?;
            return Ok(None);
        }
        let buf = self.pull_item()?;
        self.last_frame_bytes = buf.len();
        match read_item(&mut Reader::new(&buf), &self.header)? {
            Item::Frame(frame, _) => {
                check_frame_count(
                    &self.header,
                    self.declared,
                    self.read as usize + 1,
                    &self.limits,
                )?;
                check_frame_kind(&self.header, self.read as usize, frame.kind)?;
                self.read += 1;
                Ok(Some(frame))
            }
            Item::End(count) => {
                check_end(self.declared, count, self.read as usize)?;
                self.done = true;
                self.expect_end_of_stream()?;
                Ok(None)
            }
        }
    }

    fn expect_end_of_stream(&mut self) -> Result<()> {
        let mut rest = Vec::new();
        let n = (&mut self.r)
            .take(1 << 16)
            .read_to_end(&mut rest)
            .map_err(io_error)?;
        if n == 0 {
            Ok(())
        } else {
            Err(Error::TrailingData { count: n })
        }
    }

    /// The bytes of the next frame or end marker.
    fn pull_item(&mut self) -> Result<Vec<u8>> {
        let cap = max_frame_bytes(self.header.pixels());
        let mut p = Pull {
            r: &mut self.r,
            buf: Vec::with_capacity(64),
        };
        p.take(1, "frame kind")?;
        if p.buf[0] == END_CODE && self.header.video.is_some() {
            p.varint("end frame_count")?;
            p.take(4, "end marker CRC-32")?;
            return Ok(p.buf);
        }
        let sections = p.varint("section_count")?;
        if sections > MAX_SECTIONS {
            return Err(Error::InvalidField {
                field: "section_count",
                value: u64::from(sections),
                expected: "at most 4096 sections in a frame",
            });
        }
        for _ in 0..sections {
            p.take(1, "section kind")?;
            let len = p.varint("section length")?;
            let total = p.buf.len() as u64 + u64::from(len);
            if total > cap {
                return Err(Error::LimitExceeded {
                    what: "frame size in bytes",
                    value: total,
                    limit: cap,
                });
            }
            p.take(len as usize, "section payload")?;
        }
        p.take(4, "frame CRC-32")?;
        Ok(p.buf)
    }
}

impl<R: Read> Iterator for FrameReader<R> {
    type Item = Result<Frame>;

    /// The frames in order; an error ends the iteration.
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_frame() {
            Ok(f) => f.map(Ok),
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Writes a `.lic` stream frame by frame. A video is closed by [`FrameWriter::finish`],
/// which writes its end marker; an image is complete after its one frame.
#[derive(Debug)]
pub struct FrameWriter<W: Write> {
    w: W,
    header: Header,
    video: bool,
    written: u32,
    bytes: u64,
}

impl<W: Write> FrameWriter<W> {
    /// Writes the header. A video's frame count is left open (0) and given by the end marker.
    ///
    /// # Errors
    /// [`Error::InvalidField`] for a header the format cannot hold, [`Error::Io`].
    pub fn new(mut w: W, header: &Header) -> Result<Self> {
        let video = header.video.is_some();
        let bytes = encode_header(header, u32::from(!video))?;
        w.write_all(&bytes).map_err(io_error)?;
        Ok(Self {
            w,
            header: header.clone(),
            video,
            written: 0,
            bytes: bytes.len() as u64,
        })
    }

    /// Appends one frame; returns its size in bytes.
    ///
    /// # Errors
    /// A second frame of an image, an inter frame where the header allows none (see
    /// [`FrameKind::Inter`](crate::FrameKind::Inter)), a section over 4 GiB, [`Error::Io`].
    pub fn write_frame(&mut self, frame: &Frame) -> Result<usize> {
        if !self.video && self.written == 1 {
            return Err(Error::InvalidField {
                field: "frame_count",
                value: 2,
                expected: "1 for a still image",
            });
        }
        check_frame_kind(&self.header, self.written as usize, frame.kind)?;
        let mut out = Vec::with_capacity(frame.sections.iter().map(|s| s.data.len() + 6).sum());
        encode_frame(frame, &mut out)?;
        self.w.write_all(&out).map_err(io_error)?;
        self.written = self.written.checked_add(1).ok_or(Error::InvalidField {
            field: "frame_count",
            value: u64::from(u32::MAX) + 1,
            expected: "below 2^32",
        })?;
        self.bytes += out.len() as u64;
        Ok(out.len())
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> u32 {
        self.written
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Closes the stream (a video's end marker), flushes, and returns the writer.
    ///
    /// # Errors
    /// An image without its frame, [`Error::Io`].
    pub fn finish(mut self) -> Result<W> {
        if self.video {
            let mut out = Vec::with_capacity(10);
            encode_end(self.written, &mut out);
            self.w.write_all(&out).map_err(io_error)?;
        } else if self.written != 1 {
            return Err(Error::InvalidField {
                field: "frame_count",
                value: u64::from(self.written),
                expected: "1 for a still image",
            });
        }
        self.w.flush().map_err(io_error)?;
        Ok(self.w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{
        Chroma, ColorFormat, ColorMatrix, ColorRange, Fingerprint, FrameKind, LicFile, Section,
        SectionKind, VideoInfo,
    };

    fn header(video: bool) -> Header {
        Header {
            fingerprint: Fingerprint([3; 8]),
            width: 64,
            height: 48,
            color: ColorFormat::Rgb8,
            quality_x100: 5000,
            video: video.then_some(VideoInfo {
                frame_rate: (25, 1),
                chroma: Chroma::Yuv420,
                matrix: ColorMatrix::Bt601,
                range: ColorRange::Limited,
                intra_period: 2,
                temporal: None,
            }),
        }
    }

    fn frame(i: u8) -> Frame {
        Frame {
            kind: FrameKind::Intra,
            sections: vec![
                Section {
                    kind: SectionKind::HYPER,
                    data: vec![i; 10 + usize::from(i)],
                },
                Section {
                    kind: SectionKind::LATENT,
                    data: vec![i ^ 0x55; 30],
                },
            ],
        }
    }

    fn streamed(frames: u8) -> Vec<u8> {
        let mut w = FrameWriter::new(Vec::new(), &header(true)).unwrap();
        for i in 0..frames {
            w.write_frame(&frame(i)).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn inter_frames_need_temporal_networks_and_a_position_between_intra_frames() {
        let mut h = header(true);
        let inter = |i| Frame {
            kind: FrameKind::Inter,
            ..frame(i)
        };
        // Without temporal networks in the video block: no inter frame, written or read.
        let mut w = FrameWriter::new(Vec::new(), &h).unwrap();
        w.write_frame(&frame(0)).unwrap();
        assert!(w.write_frame(&inter(1)).is_err());
        h.video.as_mut().unwrap().temporal = Some(Fingerprint([5; 8]));
        // Intra period 2: frames 1 and 3 may be inter, 0 and 2 may not.
        let mut w = FrameWriter::new(Vec::new(), &h).unwrap();
        for f in [frame(0), inter(1), frame(2), inter(3)] {
            w.write_frame(&f).unwrap();
        }
        let bytes = w.finish().unwrap();
        let file = LicFile::parse(&bytes, &Limits::default()).unwrap();
        let kinds: Vec<FrameKind> = file.frames.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [0, 1, 0, 1].map(|k| [FrameKind::Intra, FrameKind::Inter][k])
        );
        let streamed: Vec<Frame> = FrameReader::new(bytes.as_slice(), &Limits::default())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(streamed, file.frames);
        let mut w = FrameWriter::new(Vec::new(), &h).unwrap();
        w.write_frame(&frame(0)).unwrap();
        w.write_frame(&inter(1)).unwrap();
        assert!(w.write_frame(&inter(2)).is_err(), "frame 2 is intra");
        // The same rule on reading: frame 2 of the file turned into an inter frame (its CRC
        // recomputed) is refused by both parsers, after frames 0 and 1.
        let mut bad = bytes.clone();
        let (_, layout) = LicFile::parse_with_layout(&bytes, &Limits::default()).unwrap();
        let frame_len =
            |(framing, sizes): &(usize, Vec<usize>)| framing + sizes.iter().sum::<usize>();
        let start =
            layout.header_bytes + frame_len(&layout.frames[0]) + frame_len(&layout.frames[1]);
        let end = start + frame_len(&layout.frames[2]);
        bad[start] = 1;
        let crc = crc32fast::hash(&bad[start..end - 4]);
        bad[end - 4..end].copy_from_slice(&crc.to_le_bytes());
        assert!(LicFile::parse(&bad, &Limits::default()).is_err());
        let mut r = FrameReader::new(bad.as_slice(), &Limits::default()).unwrap();
        assert!(r.next_frame().is_ok() && r.next_frame().is_ok());
        assert!(r.next_frame().is_err());
    }

    #[test]
    fn a_video_streams_frame_by_frame_and_parses_whole() {
        let bytes = streamed(3);
        let mut r = FrameReader::new(bytes.as_slice(), &Limits::default()).unwrap();
        assert_eq!(r.header(), &header(true));
        assert_eq!(r.declared_frames(), 0);
        let frames: Vec<Frame> = r.by_ref().map(Result::unwrap).collect();
        assert_eq!(frames, [frame(0), frame(1), frame(2)]);
        assert_eq!(r.frames_read(), 3);
        let (file, layout) = LicFile::parse_with_layout(&bytes, &Limits::default()).unwrap();
        assert_eq!(file.frames, frames);
        assert_eq!(layout.end_bytes, 1 + 1 + 4);
        // A whole file written at once declares its count; both forms read alike.
        let whole = file.to_bytes().unwrap();
        assert_ne!(whole, bytes);
        assert_eq!(LicFile::parse(&whole, &Limits::default()).unwrap(), file);
        // No frames at all is a valid (empty) video.
        assert!(
            LicFile::parse(&streamed(0), &Limits::default())
                .unwrap()
                .frames
                .is_empty()
        );
    }

    #[test]
    fn truncation_delivers_every_complete_frame_before_the_damage() {
        let bytes = streamed(3);
        let header_len = FrameReader::new(bytes.as_slice(), &Limits::default())
            .unwrap()
            .header_bytes();
        let frame_len = |i: u8| {
            let mut b = Vec::new();
            encode_frame(&frame(i), &mut b).unwrap();
            b.len()
        };
        let ends = [
            header_len + frame_len(0),
            header_len + frame_len(0) + frame_len(1),
            header_len + frame_len(0) + frame_len(1) + frame_len(2),
        ];
        for cut in 0..bytes.len() {
            let data = &bytes[..cut];
            let Ok(r) = FrameReader::new(data, &Limits::default()) else {
                assert!(cut < header_len, "the header reads once complete ({cut})");
                continue;
            };
            let results: Vec<Result<Frame>> = r.collect();
            let good = results.iter().take_while(|f| f.is_ok()).count();
            assert_eq!(
                good,
                ends.iter().filter(|&&e| e <= cut).count(),
                "cut {cut}"
            );
            assert!(
                matches!(results.last(), Some(Err(Error::Truncated { .. }))),
                "cut {cut}: {:?}",
                results.last()
            );
            assert!(LicFile::parse(data, &Limits::default()).is_err());
        }
    }

    #[test]
    fn damage_and_hostile_lengths_are_refused_without_reserving_them() {
        let bytes = streamed(2);
        for at in 0..bytes.len() {
            let mut b = bytes.clone();
            b[at] ^= 0x10;
            let whole = LicFile::parse(&b, &Limits::default());
            let streamed: Result<Vec<Frame>> =
                FrameReader::new(b.as_slice(), &Limits::default()).and_then(|r| r.collect());
            assert!(whole.is_err() && streamed.is_err(), "flip at {at}");
        }
        // A section that claims 4 GiB: refused by the frame-size bound before any reading.
        let mut w = FrameWriter::new(Vec::new(), &header(true)).unwrap();
        w.write_frame(&frame(0)).unwrap();
        let mut b = w.finish().unwrap();
        let h = FrameReader::new(b.as_slice(), &Limits::default())
            .unwrap()
            .header_bytes();
        b.truncate(h + 2);
        b.extend([0x02, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        let mut r = FrameReader::new(b.as_slice(), &Limits::default()).unwrap();
        assert!(matches!(
            r.next_frame(),
            Err(Error::LimitExceeded {
                what: "frame size in bytes",
                ..
            })
        ));
        // More frames than the limits allow.
        let tight = Limits::default().with_max_frames(1);
        let results: Vec<Result<Frame>> = FrameReader::new(streamed(2).as_slice(), &tight)
            .unwrap()
            .collect();
        assert!(results[0].is_ok());
        assert!(matches!(results[1], Err(Error::LimitExceeded { .. })));
        // Bytes after the end marker.
        let mut trailing = streamed(1);
        trailing.push(0);
        let results: Vec<Result<Frame>> = FrameReader::new(trailing.as_slice(), &Limits::default())
            .unwrap()
            .collect();
        assert!(matches!(
            results.last(),
            Some(Err(Error::TrailingData { count: 1 }))
        ));
    }

    #[test]
    fn images_have_exactly_one_frame_and_version_2_still_reads() {
        let mut w = FrameWriter::new(Vec::new(), &header(false)).unwrap();
        w.write_frame(&frame(7)).unwrap();
        assert!(w.write_frame(&frame(8)).is_err());
        let v3 = w.finish().unwrap();
        assert!(
            FrameWriter::new(Vec::new(), &header(false))
                .unwrap()
                .finish()
                .is_err()
        );
        let file = LicFile::parse(&v3, &Limits::default()).unwrap();
        assert_eq!(file.frames, [frame(7)]);
        assert_eq!(file.to_bytes().unwrap(), v3);
        // Version 2: the same without the video_length byte.
        let h = FrameReader::new(v3.as_slice(), &Limits::default())
            .unwrap()
            .header_bytes();
        let mut v2 = v3[..h - 4].to_vec();
        assert_eq!(v2.pop(), Some(0), "the empty video block's length");
        v2[4] = 2;
        let crc = crc32fast::hash(&v2);
        v2.extend(crc.to_le_bytes());
        v2.extend(&v3[h..]);
        assert_eq!(LicFile::parse(&v2, &Limits::default()).unwrap(), file);
        let mut r = FrameReader::new(v2.as_slice(), &Limits::default()).unwrap();
        assert_eq!(r.next_frame().unwrap(), Some(frame(7)));
        assert_eq!(r.next_frame().unwrap(), None);
    }
}
