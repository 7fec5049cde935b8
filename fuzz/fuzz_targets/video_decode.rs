//! The whole decode (container, rANS, integer entropy networks, synthesis) of arbitrary
//! bytes as a clip or an image, with the seeded tiny model of the tests
//! (see `lic_codec::internals::fuzzing::check_video_decode`). Seeds: `fuzz/regressions/video_decode/`.
#![no_main]

use std::sync::OnceLock;

use lic_codec::{Device, Model};

static MODEL: OnceLock<Model> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let model = MODEL.get_or_init(|| {
        Model::from_bytes(
            include_bytes!("../../assets/models/tiny-seed7.licm"),
            &Device::flex(),
        )
        .expect("the tiny model loads")
    });
    lic_codec::internals::fuzzing::check_video_decode(model, data);
});
