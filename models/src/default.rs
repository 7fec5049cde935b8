//! The model compiled into the binary.

/// The bytes of the default trained model, or `None` while no trained weights have landed
/// (issue "Training"). Until then lic-codec builds its default model from a fixed seed, so
/// every build of the same source has the same default model and fingerprint.
pub fn default_model_bytes() -> Option<&'static [u8]> {
    None
}
