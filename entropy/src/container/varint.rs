//! LEB128 unsigned varints, canonical form only (no over-long encodings), so that every
//! value has exactly one byte representation.

use super::reader::Reader;
use crate::{Error, Result};

/// Appends `value` as LEB128.
pub(crate) fn write_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads a canonical LEB128 `u32` (at most 5 bytes).
pub(crate) fn read_u32(r: &mut Reader<'_>, field: &'static str) -> Result<u32> {
    let mut value: u64 = 0;
    for i in 0..5 {
        let byte = r.u8(field)?;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if i > 0 && byte == 0 {
                return Err(Error::InvalidField {
                    field,
                    value,
                    expected: "a canonical (shortest) LEB128 varint",
                });
            }
            return u32::try_from(value).map_err(|_| Error::InvalidField {
                field,
                value,
                expected: "a varint below 2^32",
            });
        }
    }
    Err(Error::InvalidField {
        field,
        value,
        expected: "a varint of at most 5 bytes",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_non_canonical() {
        for v in [0, 1, 127, 128, 300, 16383, 16384, u32::MAX - 1, u32::MAX] {
            let mut b = Vec::new();
            write_u32(&mut b, v);
            let mut r = Reader::new(&b);
            assert_eq!(read_u32(&mut r, "v").unwrap(), v);
            assert!(r.is_empty());
        }
        for bad in [
            &[0x80, 0x00][..],
            &[0xff, 0xff, 0xff, 0xff, 0x10],
            &[0x80; 6],
            &[0x80],
        ] {
            assert!(read_u32(&mut Reader::new(bad), "v").is_err(), "{bad:?}");
        }
    }
}
