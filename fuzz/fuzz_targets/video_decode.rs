//! The whole decode (container, rANS, integer entropy networks, temporal networks, synthesis)
//! of arbitrary bytes as a clip or an image, with the seeded tiny model of the tests and its
//! seeded temporal networks (see `lic_codec::internals::fuzzing::check_video_decode`). Seeds:
//! `fuzz/regressions/video_decode/` (intra and inter clips).
#![no_main]

use std::sync::OnceLock;

use lic_codec::internals::with_test_temporal;
use lic_codec::{Device, Model, ModelFile};

static MODEL: OnceLock<Model> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let model = MODEL.get_or_init(|| {
        let tiny = ModelFile::from_bytes(include_bytes!("../../assets/models/tiny-seed7.licm"))
            .expect("the tiny model parses");
        let file = with_test_temporal(&tiny, 4, 7).expect("temporal networks for it");
        Model::from_file(&file, &Device::flex()).expect("the tiny model loads")
    });
    lic_codec::internals::fuzzing::check_video_decode(model, data);
});
