//! The model compiled into the binary.

/// The bytes of the default model: `lic-small-v22`, trained here with `lic train` (its model
/// card is `models/lic-small-v22.md`). Every build of the same source embeds the same file, so
/// the default model's fingerprint is a property of the source tree.
pub fn default_model_bytes() -> &'static [u8] {
    include_bytes!("../lic-small-v22.licm")
}
