//! Container parsing on arbitrary bytes (see `lic_entropy::fuzzing::check_container`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lic_entropy::fuzzing::check_container(data));
