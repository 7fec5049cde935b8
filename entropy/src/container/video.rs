//! A video's header block: frame rate, how the source was sampled and its colours, the intra
//! period. Layout in docs/FORMAT.md ("Video block").

use super::reader::Reader;
use super::{Fingerprint, varint};
use crate::{Error, Result};

/// How the source's pixels were sampled, so that the decoder writes the clip back as it came.
/// The codec itself always works on full-resolution RGB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Chroma {
    /// RGB frames (PNG frames, or RGB video).
    Rgb,
    /// Y'CbCr with chroma halved both ways (Y4M `C420`, most video).
    Yuv420,
    /// Y'CbCr with chroma halved horizontally.
    Yuv422,
    /// Y'CbCr at full resolution.
    Yuv444,
}

/// The Y'CbCr matrix of the source (meaningless for [`Chroma::Rgb`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColorMatrix {
    /// ITU-R BT.601 (Kr 0.299, Kb 0.114): standard definition.
    Bt601,
    /// ITU-R BT.709 (Kr 0.2126, Kb 0.0722): high definition.
    Bt709,
}

/// The value range of the source's Y'CbCr samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColorRange {
    /// Y' in 16..=235, Cb and Cr in 16..=240 ("TV", "limited", "studio").
    Limited,
    /// Every value in 0..=255 ("PC", "full", JPEG).
    Full,
}

/// What a video file records beyond a still image's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VideoInfo {
    /// Frames per second as a fraction: numerator, denominator (both ≥ 1).
    pub frame_rate: (u32, u32),
    /// The source's sampling.
    pub chroma: Chroma,
    /// The source's Y'CbCr matrix.
    pub matrix: ColorMatrix,
    /// The source's sample range.
    pub range: ColorRange,
    /// An intra frame every this many frames (1: every frame); the first frame is always
    /// intra. 0: only the first.
    pub intra_period: u32,
    /// The temporal networks that the clip's inter frames are coded with (the fingerprint
    /// of the whole model file, temporal tensors included); `None` for a clip of intra
    /// frames only, where any lic model with the header's fingerprint decodes it. Written
    /// from format version 4 on.
    pub temporal: Option<Fingerprint>,
}

impl Chroma {
    fn code(self) -> u8 {
        match self {
            Self::Rgb => 0,
            Self::Yuv420 => 1,
            Self::Yuv422 => 2,
            Self::Yuv444 => 3,
        }
    }

    fn from_code(code: u8) -> Result<Self> {
        Ok(match code {
            0 => Self::Rgb,
            1 => Self::Yuv420,
            2 => Self::Yuv422,
            3 => Self::Yuv444,
            _ => {
                return Err(invalid(
                    "chroma",
                    code,
                    "0 RGB, 1 4:2:0, 2 4:2:2 or 3 4:4:4",
                ));
            }
        })
    }
}

impl ColorMatrix {
    fn code(self) -> u8 {
        match self {
            Self::Bt601 => 0,
            Self::Bt709 => 1,
        }
    }

    fn from_code(code: u8) -> Result<Self> {
        match code {
            0 => Ok(Self::Bt601),
            1 => Ok(Self::Bt709),
            _ => Err(invalid("matrix", code, "0 BT.601 or 1 BT.709")),
        }
    }
}

impl ColorRange {
    fn code(self) -> u8 {
        match self {
            Self::Limited => 0,
            Self::Full => 1,
        }
    }

    fn from_code(code: u8) -> Result<Self> {
        match code {
            0 => Ok(Self::Limited),
            1 => Ok(Self::Full),
            _ => Err(invalid("range", code, "0 limited or 1 full")),
        }
    }
}

fn invalid(field: &'static str, code: u8, expected: &'static str) -> Error {
    Error::InvalidField {
        field,
        value: u64::from(code),
        expected,
    }
}

impl VideoInfo {
    /// Frames per second.
    pub fn fps(&self) -> f64 {
        f64::from(self.frame_rate.0) / f64::from(self.frame_rate.1)
    }

    /// Whether frame `index` (0-based) is an intra frame.
    pub fn is_intra(&self, index: u64) -> bool {
        index == 0 || (self.intra_period != 0 && index.is_multiple_of(u64::from(self.intra_period)))
    }

    /// The intra frame a decoder starts from to reach frame `index`.
    pub fn intra_before(&self, index: u64) -> u64 {
        match self.intra_period {
            0 => 0,
            p => index - index % u64::from(p),
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.frame_rate.0 == 0 || self.frame_rate.1 == 0 {
            return Err(Error::InvalidField {
                field: "frame rate",
                value: u64::from(self.frame_rate.0.min(self.frame_rate.1)),
                expected: "a numerator and a denominator of at least 1",
            });
        }
        Ok(())
    }

    /// The block as this build writes it (format version 4).
    pub(crate) fn encode(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24);
        varint::write_u32(&mut out, self.frame_rate.0);
        varint::write_u32(&mut out, self.frame_rate.1);
        out.push(self.chroma.code());
        out.push(self.matrix.code());
        out.push(self.range.code());
        varint::write_u32(&mut out, self.intra_period);
        out.extend_from_slice(&self.temporal.unwrap_or_default().0);
        out
    }

    /// Reads the block of a file of format `version` (3: no temporal fingerprint).
    pub(crate) fn parse(bytes: &[u8], version: u8) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let mut info = Self {
            frame_rate: (
                varint::read_u32(&mut r, "frame rate numerator")?,
                varint::read_u32(&mut r, "frame rate denominator")?,
            ),
            chroma: Chroma::from_code(r.u8("chroma")?)?,
            matrix: ColorMatrix::from_code(r.u8("matrix")?)?,
            range: ColorRange::from_code(r.u8("range")?)?,
            intra_period: varint::read_u32(&mut r, "intra period")?,
            temporal: None,
        };
        if version >= 4 {
            let f = Fingerprint(r.array("temporal fingerprint")?);
            info.temporal = (f != Fingerprint::default()).then_some(f);
        }
        if !r.is_empty() {
            return Err(Error::InvalidField {
                field: "video_length",
                value: bytes.len() as u64,
                expected: "exactly the video block's fields",
            });
        }
        info.validate()?;
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_bad_codes() {
        let v = VideoInfo {
            frame_rate: (30000, 1001),
            chroma: Chroma::Yuv420,
            matrix: ColorMatrix::Bt709,
            range: ColorRange::Limited,
            intra_period: 32,
            temporal: Some(Fingerprint([9, 8, 7, 6, 5, 4, 3, 2])),
        };
        let b = v.encode();
        assert_eq!(VideoInfo::parse(&b, 4).unwrap(), v);
        // Version 3 had no temporal fingerprint: its block is the first fields alone.
        let v3 = &b[..b.len() - 8];
        let intra_only = VideoInfo {
            temporal: None,
            ..v
        };
        assert_eq!(VideoInfo::parse(v3, 3).unwrap(), intra_only);
        assert!(VideoInfo::parse(v3, 4).is_err() && VideoInfo::parse(&b, 3).is_err());
        // All zeros: no temporal networks.
        assert_eq!(
            VideoInfo::parse(&intra_only.encode(), 4).unwrap(),
            intra_only
        );
        assert!((v.fps() - 29.97).abs() < 0.01);
        for (at, bad) in [(b.len() - 12, 4u8), (b.len() - 11, 2), (b.len() - 10, 2)] {
            let mut c = b.clone();
            c[at] = bad;
            assert!(VideoInfo::parse(&c, 4).is_err(), "byte {at} = {bad}");
        }
        let mut long = b.clone();
        long.push(0);
        assert!(VideoInfo::parse(&long, 4).is_err());
        let zero = VideoInfo {
            frame_rate: (0, 1),
            ..v
        };
        assert!(VideoInfo::parse(&zero.encode(), 4).is_err());
    }

    #[test]
    fn intra_frames_follow_the_period() {
        let v = |p| VideoInfo {
            frame_rate: (25, 1),
            chroma: Chroma::Rgb,
            matrix: ColorMatrix::Bt601,
            range: ColorRange::Full,
            intra_period: p,
            temporal: None,
        };
        assert!((0..10).all(|i| v(1).is_intra(i)));
        assert_eq!(
            (0..7).filter(|&i| v(3).is_intra(i)).collect::<Vec<_>>(),
            [0, 3, 6]
        );
        assert!(v(0).is_intra(0) && !v(0).is_intra(100));
        assert_eq!((v(3).intra_before(7), v(0).intra_before(7)), (6, 0));
    }
}
