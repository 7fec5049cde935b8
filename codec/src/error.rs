//! The one error type of lic-codec.

/// Everything that can go wrong while encoding, decoding or loading a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `.lic` container or an entropy-coded stream is malformed.
    #[error(transparent)]
    Format(#[from] lic_entropy::Error),
    /// The model file is malformed.
    #[error(transparent)]
    ModelFile(#[from] lic_models::Error),
    /// The model file is well formed but does not describe a lic model this build can run.
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// The file is valid but uses something this decoder does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// An input image cannot be coded as it is (alpha, 16-bit, empty, too large, ...).
    #[error("unsupported image: {0}")]
    UnsupportedImage(String),
    /// The image file could not be read or written.
    #[error("image I/O: {0}")]
    Image(String),
    /// The file's structure does not match the model (section count, sizes).
    #[error("stream does not match the model: {0}")]
    Mismatch(String),
    /// A training checkpoint or run folder could not be read or written.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The requested compute backend cannot run on this machine (no GPU adapter, ...).
    #[error("backend: {0}")]
    Backend(String),
    /// A value is out of its documented range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
