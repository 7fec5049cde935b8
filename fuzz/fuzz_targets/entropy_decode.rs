//! Entropy decoding and round trips on arbitrary input (see
//! `lic_entropy::fuzzing::check_entropy`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lic_entropy::fuzzing::check_entropy(data));
