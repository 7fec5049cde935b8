//! The checks the fuzz targets run, kept in the library so that `fuzz/` and the regression
//! tests (`tests/`) run exactly the same code. Not part of the public API.

use crate::{
    FORMAT_VERSION, Frame, FrameReader, LicFile, Limits, SCALE_COUNT, decode, encode,
    gaussian_tables,
};

/// Container parsing: an error, or a file that serialises to bytes that parse back to the
/// same file (and, with CRCs checked, are the input bytes themselves where the input is of
/// the current version and declares its frame count as `to_bytes` does). The streaming
/// reader agrees: the same frames where the whole file parses, an error after a prefix of
/// them where it does not.
///
/// # Panics
/// When the property fails (that is the point: the fuzzer reports it).
pub fn check_container(data: &[u8]) {
    let whole = LicFile::parse(data, &Limits::unlimited());
    let streamed: Vec<crate::Result<Frame>> = match FrameReader::new(data, &Limits::unlimited()) {
        Ok(r) => r.collect(),
        Err(e) => vec![Err(e)],
    };
    let stream_ok = streamed.iter().all(Result::is_ok);
    assert_eq!(
        whole.is_ok(),
        stream_ok,
        "whole {whole:?}, streamed {streamed:?}"
    );
    if let Ok(file) = whole {
        let frames: Vec<Frame> = streamed.into_iter().map(Result::unwrap).collect();
        assert_eq!(frames, file.frames);
        let bytes = file.to_bytes().expect("a parsed file serialises");
        let declared = LicFile::parse_header(data, &Limits::unlimited())
            .expect("the header of a parsed file parses")
            .1;
        if !cfg!(fuzzing) && data[4] == FORMAT_VERSION && declared as usize == file.frames.len() {
            assert_eq!(bytes, data);
        }
        assert_eq!(
            LicFile::parse(&bytes, &Limits::unlimited()).as_ref(),
            Ok(&file)
        );
    }
}

/// Entropy decoding of arbitrary bytes with arbitrary indices never panics, and arbitrary
/// symbols derived from the input round-trip exactly.
///
/// # Panics
/// When the property fails.
pub fn check_entropy(data: &[u8]) {
    let tables = gaussian_tables();
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let split = (usize::from(n) * 4).min(rest.len());
    let (head, stream) = rest.split_at(split);
    // Table indices from the head (some out of range on purpose), the rest is the stream.
    let indices: Vec<u16> = head
        .iter()
        .map(|&b| u16::from(b) % (SCALE_COUNT as u16 + 3))
        .collect();
    let _ = decode(tables, stream, &indices);

    let symbols: Vec<i32> = stream
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            i32::from_le_bytes(w) >> (w[0] % 32)
        })
        .collect();
    let idx: Vec<u16> = (0..symbols.len())
        .map(|i| (i * 7 % SCALE_COUNT) as u16)
        .collect();
    let bytes = encode(tables, &symbols, &idx).expect("valid input encodes");
    assert_eq!(
        decode(tables, &bytes, &idx).expect("own stream decodes"),
        symbols
    );
}
