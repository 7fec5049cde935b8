//! YUV4MPEG2 reading on arbitrary bytes (see `lic_codec::internals::fuzzing::check_y4m`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lic_codec::internals::fuzzing::check_y4m(data));
