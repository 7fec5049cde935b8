//! The `.lic` container: header, frames, sections, CRC-32s. Byte layout in docs/FORMAT.md.
//!
//! ```text
//! image   = header frame                       (frame_count 1, no video block)
//! video   = header frame* end                  (a video block; frames streamed)
//! header  = magic[4] version[1] fingerprint[8] width:var height:var colour[1]
//!           quality:u16le frame_count:var video_length:var video[video_length] crc32:u32le
//! frame   = frame_kind[1] section_count:var section{section_count} crc32:u32le
//! section = kind[1] length:var payload[length]
//! end     = 0x02 frame_count:var crc32:u32le
//! ```
//! Parsing never panics and never allocates more than the input's size: counts and lengths
//! are checked against the bytes actually present before anything is reserved. A video is
//! read frame by frame from any [`std::io::Read`] ([`FrameReader`]) and written frame by
//! frame to any [`std::io::Write`] ([`FrameWriter`]), so neither side holds more than one
//! frame's bytes whatever the clip's length.

mod reader;
mod sequence;
mod varint;
mod video;

pub use sequence::{FrameReader, FrameWriter, max_frame_bytes};
pub use video::{Chroma, ColorMatrix, ColorRange, VideoInfo};

use core::fmt;

use reader::Reader;

use crate::{Error, Limits, Result};

/// The first four bytes of every `.lic` file. The high bit of the first byte catches
/// transfers that strip the 8th bit; "LIC" names the format.
pub const MAGIC: [u8; 4] = [0x89, b'L', b'I', b'C'];
/// The format version this build writes.
pub const FORMAT_VERSION: u8 = 4;
/// The oldest format version this build reads (version 2 is version 3 without video, version
/// 3 is version 4 without inter frames: their images and intra frames decode to the same
/// symbols).
pub const OLDEST_READABLE_VERSION: u8 = 2;
/// The frame-kind byte of the end marker that closes a video.
const END_CODE: u8 = 2;
/// Largest width or height the format can describe.
pub const MAX_SIDE: u32 = 1 << 20;
/// Largest quality value (quality is stored in hundredths: 10000 = q 100).
pub const MAX_QUALITY_X100: u16 = 10_000;

/// Identifies the model (weights and probability tables) that produced a stream: the first
/// 8 bytes of a hash the model crate defines. A decoder refuses a fingerprint it does not have.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Fingerprint(pub [u8; 8]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Pixel format of the coded image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColorFormat {
    /// 8-bit RGB.
    Rgb8,
    /// 8-bit grayscale.
    Gray8,
}

impl ColorFormat {
    fn code(self) -> u8 {
        match self {
            Self::Rgb8 => 0,
            Self::Gray8 => 1,
        }
    }

    fn from_code(code: u8) -> Result<Self> {
        match code {
            0 => Ok(Self::Rgb8),
            1 => Ok(Self::Gray8),
            _ => Err(Error::InvalidField {
                field: "colour_format",
                value: u64::from(code),
                expected: "0 (RGB, 8 bit) or 1 (grayscale, 8 bit)",
            }),
        }
    }

    /// Channels per pixel.
    pub fn channels(self) -> usize {
        match self {
            Self::Rgb8 => 3,
            Self::Gray8 => 1,
        }
    }
}

/// What the file holds, independent of the frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Model that wrote the streams.
    pub fingerprint: Fingerprint,
    /// Width in pixels, `1..=MAX_SIDE`.
    pub width: u32,
    /// Height in pixels, `1..=MAX_SIDE`.
    pub height: u32,
    /// Pixel format.
    pub color: ColorFormat,
    /// Quality the encoder used, in hundredths (`0..=10000` for q 0..100). The decoder derives
    /// the model's gains from it, so it is part of the bitstream's meaning.
    pub quality_x100: u16,
    /// For a video: its frame rate, source sampling and colour, intra period. `None` for a
    /// still image.
    pub video: Option<VideoInfo>,
}

impl Header {
    /// `width * height`.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Checks that the file's model is among the `available` ones, before any decoding.
    ///
    /// # Errors
    /// [`Error::UnknownModel`], naming the file's fingerprint and the available ones.
    pub fn require_model(&self, available: &[Fingerprint]) -> Result<()> {
        if available.contains(&self.fingerprint) {
            Ok(())
        } else {
            let list: Vec<String> = available.iter().map(ToString::to_string).collect();
            Err(Error::UnknownModel {
                found: self.fingerprint,
                available: if list.is_empty() {
                    "none".into()
                } else {
                    list.join(", ")
                },
            })
        }
    }
}

/// How a frame is coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FrameKind {
    /// Coded on its own (every image, every video key frame).
    Intra,
    /// Coded with an entropy model that also sees the previous frame's decoded latent: a
    /// decoder needs that frame first. Only in a video whose block names its temporal
    /// networks, never at a position the intra period makes intra.
    Inter,
}

impl FrameKind {
    fn code(self) -> u8 {
        match self {
            Self::Intra => 0,
            Self::Inter => 1,
        }
    }

    fn from_code(code: u8) -> Result<Self> {
        match code {
            0 => Ok(Self::Intra),
            1 => Ok(Self::Inter),
            _ => Err(Error::InvalidField {
                field: "frame_kind",
                value: u64::from(code),
                expected: "0 (intra) or 1 (inter)",
            }),
        }
    }
}

/// Frame `index` (0-based) of a stream with `header` may be of `kind`: an inter frame needs
/// a video whose block names its temporal networks, and a position that is not an intra
/// frame's. Both parsers apply it, so a file that breaks it is refused as malformed.
fn check_frame_kind(header: &Header, index: usize, kind: FrameKind) -> Result<()> {
    if kind == FrameKind::Intra {
        return Ok(());
    }
    match header.video {
        Some(v) if v.temporal.is_some() && !v.is_intra(index as u64) => Ok(()),
        _ => Err(Error::InvalidField {
            field: "frame_kind",
            value: u64::from(kind.code()),
            expected: "an intra frame (0): inter frames need a video that names its temporal \
                       networks, at a frame the intra period does not make intra",
        }),
    }
}

/// A section's kind byte. Kinds with the high bit set are *ancillary*: a decoder that does
/// not know one skips it. Any other unknown kind is *critical* and refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SectionKind(pub u8);

impl SectionKind {
    /// The hyper-latent `z` stream (factorized prior).
    pub const HYPER: Self = Self(0x01);
    /// One channel group of the latent `y` (Gaussian conditional); repeated, in group order.
    pub const LATENT: Self = Self(0x02);
    /// Free-form metadata (UTF-8 key=value lines); ancillary.
    pub const METADATA: Self = Self(0x81);
    /// The source image's ICC colour profile, as stored in it; ancillary.
    pub const ICC_PROFILE: Self = Self(0x82);
    /// The source image's Exif block (a TIFF structure, as PNG's `eXIf` holds it); ancillary.
    pub const EXIF: Self = Self(0x83);
    /// The source image's XMP packet (UTF-8 XML); ancillary.
    pub const XMP: Self = Self(0x84);

    /// True for kinds a decoder may skip.
    pub fn is_ancillary(self) -> bool {
        self.0 & 0x80 != 0
    }

    fn is_known(self) -> bool {
        matches!(
            self,
            Self::HYPER
                | Self::LATENT
                | Self::METADATA
                | Self::ICC_PROFILE
                | Self::EXIF
                | Self::XMP
        )
    }

    /// A short name for listings.
    pub fn name(self) -> &'static str {
        match self {
            Self::HYPER => "hyper-latent",
            Self::LATENT => "latent",
            Self::METADATA => "metadata",
            Self::ICC_PROFILE => "icc profile",
            Self::EXIF => "exif",
            Self::XMP => "xmp",
            k if k.is_ancillary() => "unknown ancillary",
            _ => "unknown critical",
        }
    }
}

impl fmt::Debug for SectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SectionKind(0x{:02X} {})", self.0, self.name())
    }
}

/// One length-prefixed payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// What the payload is.
    pub kind: SectionKind,
    /// The payload bytes.
    pub data: Vec<u8>,
}

/// One image (or video frame): its sections in coding order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// How the frame is coded.
    pub kind: FrameKind,
    /// Sections, in the order the decoder reads them.
    pub sections: Vec<Section>,
}

impl Frame {
    /// The payloads of all sections of `kind`, in order.
    pub fn sections_of(&self, kind: SectionKind) -> impl Iterator<Item = &[u8]> {
        self.sections
            .iter()
            .filter(move |s| s.kind == kind)
            .map(|s| s.data.as_slice())
    }
}

/// A whole `.lic` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicFile {
    /// The header.
    pub header: Header,
    /// The frames: exactly one for a still image, any number (zero included) for a video.
    pub frames: Vec<Frame>,
}

/// Byte counts of the parts of a file, for `lic info` and rate accounting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Header bytes, CRC included.
    pub header_bytes: usize,
    /// Per frame: (framing bytes: kind, counts, lengths, CRC; payload bytes per section).
    pub frames: Vec<(usize, Vec<usize>)>,
    /// Bytes of a video's end marker (0 for an image).
    pub end_bytes: usize,
}

impl LicFile {
    /// Serialises the file.
    ///
    /// # Errors
    /// [`Error::InvalidField`] for a header the format cannot hold (zero or too large
    /// dimensions, quality above 10000, an image without exactly one frame, a section over
    /// 4 GiB).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let count = len_u32(self.frames.len(), "frame_count")?;
        let payload: usize = self
            .frames
            .iter()
            .flat_map(|f| &f.sections)
            .map(|s| s.data.len() + 6)
            .sum();
        let mut out = Vec::with_capacity(48 + payload + 10 * self.frames.len());
        out.extend(encode_header(&self.header, count)?);
        for frame in &self.frames {
            encode_frame(frame, &mut out)?;
        }
        if self.header.video.is_some() {
            encode_end(count, &mut out);
        }
        Ok(out)
    }

    /// Parses and verifies a whole file: magic, version, CRCs, field ranges, `limits`, known
    /// critical sections, the end marker of a video, no trailing bytes.
    ///
    /// # Errors
    /// A typed [`Error`] for every way the input can be wrong; never panics.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Self> {
        Ok(Self::parse_with_layout(bytes, limits)?.0)
    }

    /// Like [`LicFile::parse`], also returning the byte layout.
    ///
    /// # Errors
    /// As [`LicFile::parse`].
    pub fn parse_with_layout(bytes: &[u8], limits: &Limits) -> Result<(Self, Layout)> {
        let mut r = Reader::new(bytes);
        let (header, declared) = read_header(&mut r, limits)?;
        let header_bytes = r.pos();
        // Each frame takes at least 6 bytes (kind, count, CRC): bound the reservation by what
        // the input can hold, whatever the header claims.
        let mut frames = Vec::with_capacity((declared as usize).min(r.remaining() / 6));
        let mut layout = Layout {
            header_bytes,
            frames: Vec::with_capacity(frames.capacity()),
            end_bytes: 0,
        };
        loop {
            if header.video.is_none() && frames.len() == declared as usize {
                break;
            }
            let start = r.pos();
            match read_item(&mut r, &header)? {
                Item::Frame(frame, frame_layout) => {
                    check_frame_count(&header, declared, frames.len() + 1, limits)?;
                    check_frame_kind(&header, frames.len(), frame.kind)?;
                    frames.push(frame);
                    layout.frames.push(frame_layout);
                }
                Item::End(count) => {
                    check_end(declared, count, frames.len())?;
                    layout.end_bytes = r.pos() - start;
                    break;
                }
            }
        }
        if !r.is_empty() {
            return Err(Error::TrailingData {
                count: r.remaining(),
            });
        }
        Ok((Self { header, frames }, layout))
    }

    /// Reads only the header (for `lic info` on a large clip, or to check the model before
    /// decoding). Verifies the header CRC and `limits`. The count is the image's 1, or a
    /// video's declared count (0: not known when the header was written).
    ///
    /// # Errors
    /// As [`LicFile::parse`], restricted to the header.
    pub fn parse_header(bytes: &[u8], limits: &Limits) -> Result<(Header, u32)> {
        read_header(&mut Reader::new(bytes), limits)
    }
}

fn len_u32(n: usize, field: &'static str) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::InvalidField {
        field,
        value: n as u64,
        expected: "below 2^32",
    })
}

/// The header's bytes, CRC included; `frame_count` is the image's 1, or a video's count (0
/// where it is not known yet).
fn encode_header(h: &Header, frame_count: u32) -> Result<Vec<u8>> {
    validate_header(h)?;
    if h.video.is_none() && frame_count != 1 {
        return Err(Error::InvalidField {
            field: "frame_count",
            value: u64::from(frame_count),
            expected: "1 for a still image (a video header has a video block)",
        });
    }
    let mut out = Vec::with_capacity(48);
    out.extend_from_slice(&MAGIC);
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&h.fingerprint.0);
    varint::write_u32(&mut out, h.width);
    varint::write_u32(&mut out, h.height);
    out.push(h.color.code());
    out.extend_from_slice(&h.quality_x100.to_le_bytes());
    varint::write_u32(&mut out, frame_count);
    let video = h.video.map(VideoInfo::encode).unwrap_or_default();
    varint::write_u32(&mut out, len_u32(video.len(), "video_length")?);
    out.extend_from_slice(&video);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

fn encode_frame(frame: &Frame, out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    out.push(frame.kind.code());
    varint::write_u32(out, len_u32(frame.sections.len(), "section_count")?);
    for s in &frame.sections {
        out.push(s.kind.0);
        varint::write_u32(out, len_u32(s.data.len(), "section_length")?);
        out.extend_from_slice(&s.data);
    }
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(())
}

fn encode_end(frame_count: u32, out: &mut Vec<u8>) {
    let start = out.len();
    out.push(END_CODE);
    varint::write_u32(out, frame_count);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// A video's frame `index` (1-based count so far) is within the header's count and the
/// caller's limits.
fn check_frame_count(header: &Header, declared: u32, count: usize, limits: &Limits) -> Result<()> {
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    if header.video.is_some() && declared != 0 && count > declared {
        return Err(Error::InvalidField {
            field: "frame_count",
            value: u64::from(count),
            expected: "no more frames than the header declares",
        });
    }
    limits.check_frames(count)
}

/// The end marker's count agrees with the frames read and the header's count.
fn check_end(declared: u32, end_count: u32, read: usize) -> Result<()> {
    if u64::from(end_count) != read as u64 || (declared != 0 && declared != end_count) {
        return Err(Error::InvalidField {
            field: "end frame_count",
            value: u64::from(end_count),
            expected: "the number of frames before the end marker (and the header's, if given)",
        });
    }
    Ok(())
}

fn validate_header(h: &Header) -> Result<()> {
    for (field, v) in [("width", h.width), ("height", h.height)] {
        if !(1..=MAX_SIDE).contains(&v) {
            return Err(Error::InvalidField {
                field,
                value: u64::from(v),
                expected: "1..=1048576 pixels",
            });
        }
    }
    if h.quality_x100 > MAX_QUALITY_X100 {
        return Err(Error::InvalidField {
            field: "quality",
            value: u64::from(h.quality_x100),
            expected: "0..=10000 (hundredths of q 0..100)",
        });
    }
    if let Some(v) = &h.video {
        v.validate()?;
    }
    Ok(())
}

/// Checks the magic and version, the first five bytes of every file.
fn check_magic_and_version(magic: &[u8], version: Option<u8>) -> Result<()> {
    if magic != MAGIC {
        return Err(Error::NotLic {
            found: magic.to_vec(),
        });
    }
    match version {
        Some(v) if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&v) => {
            Err(Error::UnsupportedVersion {
                found: v,
                supported: FORMAT_VERSION,
            })
        }
        _ => Ok(()),
    }
}

fn read_header(r: &mut Reader<'_>, limits: &Limits) -> Result<(Header, u32)> {
    let magic = r.bytes(MAGIC.len().min(r.remaining()), "magic")?;
    check_magic_and_version(magic, None)?;
    let version = r.u8("version")?;
    check_magic_and_version(magic, Some(version))?;
    let fingerprint = Fingerprint(r.array("model fingerprint")?);
    let width = varint::read_u32(r, "width")?;
    let height = varint::read_u32(r, "height")?;
    let color_code = r.u8("colour format")?;
    let quality_x100 = r.u16_le("quality")?;
    let frame_count = varint::read_u32(r, "frame_count")?;
    let video_bytes = if version >= 3 {
        let len = varint::read_u32(r, "video_length")? as usize;
        r.bytes(len, "video block")?
    } else {
        &[]
    };
    let covered = r.since(0);
    verify_crc(r.u32_le("header CRC-32")?, covered, "header")?;
    // Field ranges are checked after the CRC, so that corruption is reported as corruption.
    let video = if video_bytes.is_empty() {
        None
    } else {
        Some(VideoInfo::parse(video_bytes, version)?)
    };
    let header = Header {
        fingerprint,
        width,
        height,
        color: ColorFormat::from_code(color_code)?,
        quality_x100,
        video,
    };
    validate_header(&header)?;
    if header.video.is_none() && frame_count != 1 {
        return Err(Error::InvalidField {
            field: "frame_count",
            value: u64::from(frame_count),
            expected: "1 for a still image",
        });
    }
    limits.check_picture(width, height)?;
    limits.check_frames(frame_count)?;
    Ok((header, frame_count))
}

/// Checks a stored CRC-32. Fuzz builds (`cfg(fuzzing)`, set by cargo-fuzz) accept any
/// value, so that the fuzzer reaches the parsing behind the checksums.
fn verify_crc(stored: u32, covered: &[u8], what: &'static str) -> Result<()> {
    let computed = crc32fast::hash(covered);
    if stored == computed || cfg!(fuzzing) {
        Ok(())
    } else {
        Err(Error::ChecksumMismatch {
            what,
            stored,
            computed,
        })
    }
}

/// What follows a header: a frame, or a video's end marker.
enum Item {
    Frame(Frame, (usize, Vec<usize>)),
    End(u32),
}

fn read_item(r: &mut Reader<'_>, header: &Header) -> Result<Item> {
    let start = r.pos();
    let kind_code = r.u8("frame kind")?;
    if kind_code == END_CODE && header.video.is_some() {
        let count = varint::read_u32(r, "end frame_count")?;
        let covered = r.since(start);
        verify_crc(r.u32_le("end marker CRC-32")?, covered, "end marker")?;
        return Ok(Item::End(count));
    }
    let section_count = varint::read_u32(r, "section_count")?;
    // A section takes at least 2 bytes: bound the reservation by the input.
    let mut spans = Vec::with_capacity((section_count as usize).min(r.remaining() / 2));
    for _ in 0..section_count {
        let kind = SectionKind(r.u8("section kind")?);
        let len = varint::read_u32(r, "section length")? as usize;
        let data_start = r.pos();
        r.bytes(len, "section payload")?;
        spans.push((kind, data_start, len));
    }
    let covered = r.since(start);
    verify_crc(r.u32_le("frame CRC-32")?, covered, "frame")?;
    let kind = FrameKind::from_code(kind_code)?;
    let mut sections = Vec::with_capacity(spans.len());
    let mut sizes = Vec::with_capacity(spans.len());
    for (kind, data_start, len) in spans {
        if !kind.is_known() && !kind.is_ancillary() {
            return Err(Error::UnknownSection { kind: kind.0 });
        }
        sections.push(Section {
            kind,
            data: covered[data_start - start..][..len].to_vec(),
        });
        sizes.push(len);
    }
    let framing = r.pos() - start - sizes.iter().sum::<usize>();
    Ok(Item::Frame(Frame { kind, sections }, (framing, sizes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LicFile {
        LicFile {
            header: Header {
                fingerprint: Fingerprint([1, 2, 3, 4, 5, 6, 7, 8]),
                width: 768,
                height: 512,
                color: ColorFormat::Rgb8,
                quality_x100: 5000,
                video: None,
            },
            frames: vec![Frame {
                kind: FrameKind::Intra,
                sections: vec![
                    Section {
                        kind: SectionKind::HYPER,
                        data: vec![9; 40],
                    },
                    Section {
                        kind: SectionKind::LATENT,
                        data: vec![7; 300],
                    },
                    Section {
                        kind: SectionKind(0xC4),
                        data: b"future".to_vec(),
                    },
                ],
            }],
        }
    }

    #[test]
    fn round_trip_with_layout() {
        let f = sample();
        let bytes = f.to_bytes().unwrap();
        let (g, layout) = LicFile::parse_with_layout(&bytes, &Limits::default()).unwrap();
        assert_eq!(f, g);
        assert_eq!(layout.header_bytes, 4 + 1 + 8 + 2 + 2 + 1 + 2 + 1 + 1 + 4);
        let total: usize = layout.header_bytes
            + layout
                .frames
                .iter()
                .map(|(fr, s)| fr + s.iter().sum::<usize>())
                .sum::<usize>();
        assert_eq!(total, bytes.len());
    }

    #[test]
    fn refuses_unknown_critical_section_but_keeps_ancillary() {
        let mut f = sample();
        f.frames[0].sections.push(Section {
            kind: SectionKind(0x33),
            data: vec![],
        });
        let bytes = f.to_bytes().unwrap();
        assert_eq!(
            LicFile::parse(&bytes, &Limits::default()),
            Err(Error::UnknownSection { kind: 0x33 })
        );
    }

    #[test]
    fn says_which_version_it_reads() {
        let mut bytes = sample().to_bytes().unwrap();
        for (found, advice) in [
            (FORMAT_VERSION + 1, "a newer lic wrote"),
            (OLDEST_READABLE_VERSION - 1, "an older lic wrote"),
        ] {
            bytes[4] = found;
            let err = LicFile::parse(&bytes, &Limits::default()).unwrap_err();
            assert_eq!(
                err,
                Error::UnsupportedVersion {
                    found,
                    supported: FORMAT_VERSION
                }
            );
            assert!(err.to_string().contains(advice), "{err}");
        }
    }

    #[test]
    fn names_an_unknown_model() {
        let h = sample().header;
        assert!(
            h.require_model(&[Fingerprint([9; 8]), h.fingerprint])
                .is_ok()
        );
        let err = h.require_model(&[Fingerprint([9; 8])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "this file was written by model 0102030405060708, which this decoder does not have \
             (available: 0909090909090909); decode it with the lic build or model file that \
             wrote it"
        );
        assert!(
            h.require_model(&[])
                .unwrap_err()
                .to_string()
                .contains("available: none")
        );
    }

    #[test]
    fn enforces_limits_before_reading_frames() {
        let bytes = sample().to_bytes().unwrap();
        let tight = Limits::default().with_max_pixels(1000);
        assert!(matches!(
            LicFile::parse(&bytes, &tight),
            Err(Error::LimitExceeded {
                what: "pixel count",
                ..
            })
        ));
    }

    #[test]
    fn refuses_unwritable_headers() {
        let mut f = sample();
        f.header.width = 0;
        assert!(f.to_bytes().is_err());
        f.header.width = MAX_SIDE + 1;
        assert!(f.to_bytes().is_err());
        let mut f = sample();
        f.header.quality_x100 = 10_001;
        assert!(f.to_bytes().is_err());
        f.header.quality_x100 = 10_000;
        f.frames.clear();
        assert!(f.to_bytes().is_err());
    }
}
