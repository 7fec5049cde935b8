//! YUV4MPEG2 (`.y4m`): the raw-video container of the test clips, read and written frame by
//! frame. Format: a header line `YUV4MPEG2 W<w> H<h> F<n>:<d> [I<i>] [A<a>] [C<c>] [X<x>]...`,
//! then per frame a line `FRAME [params]` and the planes Y, Cb, Cr at 8 bits per sample.
//!
//! Read: `C420jpeg`, `C420paldv`, `C420mpeg2`, `C420` (all 4:2:0; the chroma siting is not
//! kept), `C422`, `C444` (default `C420`), and the `XCOLORRANGE=FULL|LIMITED` extension that
//! FFmpeg writes. Samples above 8 bits (`C420p10`, ...) and `Cmono` are refused with a message
//! that says how to convert them.
//!
//! Raw planar `.yuv` files (the same planes without the header and `FRAME` lines) are read by
//! [`Y4mReader::raw`] with a header the caller supplies.

use std::io::{BufRead, Read, Write};

use lic_entropy::{Chroma, ColorMatrix, ColorRange, Limits};

use super::yuv::YuvFrame;
use super::{SourceInfo, check_picture_size};
use crate::{Error, Result};

/// The longest header or frame line accepted (real ones are under 100 bytes).
const MAX_LINE: usize = 4096;

/// What a Y4M stream's header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Y4mHeader {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second as numerator, denominator.
    pub frame_rate: (u32, u32),
    /// Chroma sampling (never [`Chroma::Rgb`]).
    pub chroma: Chroma,
    /// The range the stream declares (`XCOLORRANGE`), if it does.
    pub range: Option<ColorRange>,
}

fn bad(problem: impl Into<String>) -> Error {
    Error::Y4m {
        problem: problem.into(),
    }
}

/// Reads one `\n`-terminated line of at most [`MAX_LINE`] bytes; `None` at a clean end.
fn read_line<R: BufRead>(r: &mut R, what: &str) -> Result<Option<String>> {
    let mut line = Vec::new();
    let n = r
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(|e| bad(format!("cannot read the {what}: {e}")))?;
    if n == 0 {
        return Ok(None);
    }
    if line.pop() != Some(b'\n') {
        return Err(bad(if n > MAX_LINE {
            format!("the {what} is longer than {MAX_LINE} bytes")
        } else {
            format!("the stream ends inside the {what}")
        }));
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| bad(format!("the {what} is not text")))
}

fn number(value: &str, tag: char) -> Result<u32> {
    value
        .parse()
        .map_err(|_| bad(format!("`{tag}{value}` is not a valid {tag} parameter")))
}

impl Y4mHeader {
    fn parse(line: &str, limits: &Limits) -> Result<Self> {
        let mut words = line.split(' ');
        if words.next() != Some("YUV4MPEG2") {
            return Err(bad(
                "not a YUV4MPEG2 stream (it must start with `YUV4MPEG2 `)",
            ));
        }
        let (mut width, mut height, mut frame_rate) = (None, None, None);
        let (mut chroma, mut range) = (Chroma::Yuv420, None);
        for w in words.filter(|w| !w.is_empty()) {
            let (tag, value) = w.split_at(w.chars().next().map_or(0, char::len_utf8));
            let tag = tag.chars().next().unwrap_or(' ');
            match tag {
                'W' => width = Some(number(value, tag)?),
                'H' => height = Some(number(value, tag)?),
                'F' => {
                    let (n, d) = value
                        .split_once(':')
                        .ok_or_else(|| bad(format!("`F{value}` is not a frame rate n:d")))?;
                    let (n, d) = (number(n, 'F')?, number(d, 'F')?);
                    if n == 0 || d == 0 {
                        return Err(bad(format!("frame rate F{value} has a zero term")));
                    }
                    frame_rate = Some((n, d));
                }
                'C' => {
                    chroma = match value {
                        "420jpeg" | "420paldv" | "420mpeg2" | "420" => Chroma::Yuv420,
                        "422" => Chroma::Yuv422,
                        "444" => Chroma::Yuv444,
                        v if v.contains('p') => {
                            return Err(bad(format!(
                                "C{v}: samples above 8 bits are not supported (lic codes 8-bit \
                                 video); convert first, e.g. `ffmpeg -i in.y4m -pix_fmt yuv420p \
                                 out.y4m`"
                            )));
                        }
                        v => {
                            return Err(bad(format!(
                                "colour space C{v} is not supported (lic reads C420*, C422 and \
                                 C444); convert with `ffmpeg -i in.y4m -pix_fmt yuv420p out.y4m`"
                            )));
                        }
                    }
                }
                'X' => match value {
                    "COLORRANGE=FULL" => range = Some(ColorRange::Full),
                    "COLORRANGE=LIMITED" => range = Some(ColorRange::Limited),
                    _ => {}
                },
                // Interlacing and pixel aspect ratio: lic codes the frames as given.
                'I' | 'A' => {}
                _ => return Err(bad(format!("unknown Y4M header parameter `{w}`"))),
            }
        }
        let (Some(width), Some(height)) = (width, height) else {
            return Err(bad("the header has no W (width) or H (height)"));
        };
        check_picture_size((width, height), limits, bad)?;
        Ok(Self {
            width,
            height,
            frame_rate: frame_rate.unwrap_or((25, 1)),
            chroma,
            range,
        })
    }

    /// The header line, newline included.
    pub fn to_line(&self) -> String {
        let c = match self.chroma {
            Chroma::Yuv422 => "422",
            Chroma::Yuv444 => "444",
            _ => "420jpeg",
        };
        let range = match self.range {
            Some(ColorRange::Full) => " XCOLORRANGE=FULL",
            Some(_) => " XCOLORRANGE=LIMITED",
            None => "",
        };
        format!(
            "YUV4MPEG2 W{} H{} F{}:{} Ip A1:1 C{c}{range}\n",
            self.width, self.height, self.frame_rate.0, self.frame_rate.1
        )
    }

    /// The Y'CbCr matrix lic assumes for a stream that does not name one (Y4M has no field
    /// for it): BT.709 from 720 lines up (high definition), BT.601 below.
    pub fn assumed_matrix(&self) -> ColorMatrix {
        super::yuv::assumed_matrix(self.height)
    }

    /// The range the header names (`XCOLORRANGE`), else limited, video's usual range.
    pub fn range_or_assumed(&self) -> ColorRange {
        self.range.unwrap_or(ColorRange::Limited)
    }

    /// What the header says, as a clip's [`SourceInfo`] (Y4M names no matrix); `what` names
    /// the input in messages.
    pub fn source_info(&self, what: &str) -> SourceInfo {
        SourceInfo {
            width: self.width,
            height: self.height,
            frame_rate: self.frame_rate,
            chroma: self.chroma,
            matrix: None,
            other_matrix: None,
            range: self.range,
            what: what.into(),
        }
    }

    /// Bytes of one frame's planes.
    pub fn frame_bytes(&self) -> usize {
        YuvFrame::plane_bytes(self.width, self.height, self.chroma)
    }
}

/// Reads a Y4M stream frame by frame, holding one frame at a time.
#[derive(Debug)]
pub struct Y4mReader<R: BufRead> {
    r: R,
    header: Y4mHeader,
    frames: u64,
    /// Whether each frame starts with a `FRAME` line (false: raw planes back to back).
    framed: bool,
}

impl<R: BufRead> Y4mReader<R> {
    /// Reads the header line; refuses a picture beyond `limits` before reading any frame.
    ///
    /// # Errors
    /// [`Error::Y4m`] for a malformed or unsupported header, [`Error::Format`] for limits.
    pub fn new(mut r: R, limits: &Limits) -> Result<Self> {
        let line = read_line(&mut r, "Y4M header")?.ok_or_else(|| bad("the stream is empty"))?;
        let header = Y4mHeader::parse(&line, limits)?;
        Ok(Self {
            r,
            header,
            frames: 0,
            framed: true,
        })
    }

    /// Reads raw planar 8-bit Y'CbCr (a `.yuv` file: frames of Y', Cb, Cr planes back to
    /// back, no header) described by `header`, which the caller knows from elsewhere.
    ///
    /// # Errors
    /// [`Error::Y4m`] for a header with a side outside `1..=MAX_SIDE` or RGB sampling,
    /// [`Error::Format`] for limits.
    pub fn raw(r: R, header: Y4mHeader, limits: &Limits) -> Result<Self> {
        if header.chroma == Chroma::Rgb || header.frame_rate.0 == 0 || header.frame_rate.1 == 0 {
            return Err(bad("raw frames are Y'CbCr at a nonzero frame rate"));
        }
        check_picture_size((header.width, header.height), limits, bad)?;
        Ok(Self {
            r,
            header,
            frames: 0,
            framed: false,
        })
    }

    /// The stream's header.
    pub fn header(&self) -> &Y4mHeader {
        &self.header
    }

    /// The next frame, or `None` at the end of the stream.
    ///
    /// # Errors
    /// [`Error::Y4m`] naming the frame for a missing `FRAME` line or a truncated frame.
    pub fn next_frame(&mut self) -> Result<Option<YuvFrame>> {
        let index = self.frames;
        if self.framed {
            let Some(line) = read_line(&mut self.r, "FRAME line")? else {
                return Ok(None);
            };
            if line != "FRAME" && !line.starts_with("FRAME ") {
                return Err(bad(format!("frame {index}: expected a FRAME line")));
            }
        } else if self
            .r
            .fill_buf()
            .map_err(|e| bad(format!("frame {index}: {e}")))?
            .is_empty()
        {
            return Ok(None);
        }
        let h = &self.header;
        let mut planes = Vec::new();
        let want = h.frame_bytes();
        let got = self
            .r
            .by_ref()
            .take(want as u64)
            .read_to_end(&mut planes)
            .map_err(|e| bad(format!("frame {index}: {e}")))?;
        if got < want {
            return Err(bad(format!(
                "frame {index} is truncated: {got} of its {want} bytes"
            )));
        }
        self.frames += 1;
        Ok(Some(YuvFrame::from_planes(
            h.width, h.height, h.chroma, planes,
        )?))
    }
}

impl<R: BufRead> Iterator for Y4mReader<R> {
    type Item = Result<YuvFrame>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame().transpose()
    }
}

/// Writes a Y4M stream frame by frame.
#[derive(Debug)]
pub struct Y4mWriter<W: Write> {
    w: W,
    header: Y4mHeader,
}

impl<W: Write> Y4mWriter<W> {
    /// Writes the header line.
    ///
    /// # Errors
    /// [`Error::Y4m`] if it cannot be written.
    pub fn new(mut w: W, header: Y4mHeader) -> Result<Self> {
        w.write_all(header.to_line().as_bytes())
            .map_err(|e| bad(format!("cannot write the header: {e}")))?;
        Ok(Self { w, header })
    }

    /// Writes one frame, which must have the header's size and sampling.
    ///
    /// # Errors
    /// [`Error::Y4m`] for a frame of another shape or a failed write.
    pub fn write_frame(&mut self, frame: &YuvFrame) -> Result<()> {
        let h = &self.header;
        if (frame.width(), frame.height(), frame.chroma()) != (h.width, h.height, h.chroma) {
            return Err(bad(format!(
                "a {}x{} {:?} frame does not fit a {}x{} {:?} stream",
                frame.width(),
                frame.height(),
                frame.chroma(),
                h.width,
                h.height,
                h.chroma
            )));
        }
        let write = |w: &mut W, b: &[u8]| {
            w.write_all(b)
                .map_err(|e| bad(format!("cannot write a frame: {e}")))
        };
        write(&mut self.w, b"FRAME\n")?;
        write(&mut self.w, frame.planes())
    }

    /// Flushes and returns the writer.
    ///
    /// # Errors
    /// [`Error::Y4m`] if the flush fails.
    pub fn finish(mut self) -> Result<W> {
        self.w
            .flush()
            .map_err(|e| bad(format!("cannot write: {e}")))?;
        Ok(self.w)
    }
}
