//! The one error type of lic-eval.

use std::path::PathBuf;

use lic_codec::ColorFormat;

/// Everything that can go wrong while measuring codecs, reading curves or computing BD
/// figures. Each variant carries the values involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// lic refused an image, a model or a file.
    #[error(transparent)]
    Codec(#[from] lic_codec::Error),
    /// Two images compared by a metric differ in size or colour format.
    #[error("comparing a {}x{} {:?} image with a {}x{} {:?} one", a.0, a.1, a.2, b.0, b.1, b.2)]
    ImageMismatch {
        /// Width, height and colour format of the first image.
        a: (u32, u32, ColorFormat),
        /// The same of the second.
        b: (u32, u32, ColorFormat),
    },
    /// A curve file could not be read or is not in CompressAI's results layout.
    #[error("{}: {reason}", path.display())]
    CurveFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A series of a curve is missing or malformed.
    #[error("curve `{curve}`: {message}")]
    Series {
        /// The curve's name.
        curve: String,
        /// What is wrong.
        message: String,
    },
    /// The curves' quality (or rate) ranges do not overlap.
    #[error("the curves do not overlap in {metric} ({a:.4}..{b:.4} vs {c:.4}..{d:.4})")]
    NoOverlap {
        /// The metric.
        metric: String,
        /// Anchor range start.
        a: f64,
        /// Anchor range end.
        b: f64,
        /// Test range start.
        c: f64,
        /// Test range end.
        d: f64,
    },
    /// An evaluation setting is out of its range.
    #[error("invalid evaluation setting: {setting} is {value}, expected {expected}")]
    InvalidSetting {
        /// The setting.
        setting: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// An external codec program is missing or failed.
    #[error("{program}: {reason}")]
    Tool {
        /// The program.
        program: String,
        /// What happened, and what to install where it is missing.
        reason: String,
    },
    /// A file or folder could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A codec under evaluation failed (lic with refinement, lic's float path, or another
    /// codec an application plugs in).
    #[error("{codec}: {source}")]
    Measured {
        /// The codec's id.
        codec: &'static str,
        /// What it reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The RD plot could not be drawn.
    #[error("plot: {reason}")]
    Plot {
        /// What went wrong.
        reason: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
