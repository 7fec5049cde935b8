//! The checks the fuzz targets of lic-codec run (`fuzz/fuzz_targets/y4m.rs`,
//! `video_decode.rs`), kept here so that `fuzz/` and the regression tests in `tests/video.rs`
//! run exactly the same code.

use std::io::Cursor;

use crate::video::y4m::{Y4mReader, Y4mWriter};
use crate::{Limits, Model, VideoDecoder};

/// Limits small enough that a fuzzer's input never makes a check allocate much.
fn fuzz_limits() -> Limits {
    Limits::default()
        .with_max_pixels(1 << 16)
        .with_max_frames(64)
}

/// Y4M reading: every input is an error or frames; the frames read before an error, written
/// back and read again, are the same frames.
///
/// # Panics
/// When the property fails.
pub fn check_y4m(data: &[u8]) {
    let Ok(reader) = Y4mReader::new(Cursor::new(data), &fuzz_limits()) else {
        return;
    };
    let header = reader.header().clone();
    let frames: Vec<_> = reader.take(64).map_while(Result::ok).collect();
    let mut w = Y4mWriter::new(Vec::new(), header).expect("writing to memory");
    for f in &frames {
        w.write_frame(f).expect("a frame of the stream's shape");
    }
    let bytes = w.finish().expect("writing to memory");
    let again: Vec<_> = Y4mReader::new(Cursor::new(bytes), &fuzz_limits())
        .expect("a header lic wrote")
        .map(|f| f.expect("a frame lic wrote"))
        .collect();
    assert_eq!(again, frames);
}

/// A whole decode (container, entropy decoding, networks) of arbitrary bytes as a clip or an
/// image with `model`: errors, never a panic; at most a few small frames.
pub fn check_video_decode(model: &Model, data: &[u8]) {
    let limits = fuzz_limits().with_max_alloc(256 << 20);
    if let Ok(dec) = VideoDecoder::new(model, data, &limits) {
        for frame in dec.take(4) {
            if frame.is_err() {
                break;
            }
        }
    }
}
