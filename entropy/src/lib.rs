//! # lic-entropy
//!
//! Entropy coding for lic, with no dependency on burn or a GPU:
//!
//! - [`CdfTable`] / [`TableSet`]: integer probability tables (16-bit precision, an escape entry
//!   so that any `i32` codes under any table);
//! - [`gaussian_tables`]: the Gaussian conditional model, one table per quantised scale,
//!   built by a platform-independent recipe once per process;
//! - [`CdfTable::from_frequencies`] / [`quantize_probabilities`]: the factorized prior's
//!   per-channel tables, as a trained model exports them;
//! - [`StreamEncoder`] / [`StreamDecoder`]: rANS streams (constriction's `AnsCoder`) decoded
//!   pass by pass;
//! - [`LicFile`]: the `.lic` container (docs/FORMAT.md).
//!
//! ```
//! use lic_entropy::{decode, encode, gaussian_tables, scale_index_q16};
//!
//! let tables = gaussian_tables();
//! let symbols = [0, -1, 3, 250, i32::MIN];
//! // Table index for each symbol, from its predicted scale (Q16 fixed point).
//! let indices: Vec<u16> = [0.2, 1.0, 2.5, 40.0, 0.5]
//!     .iter()
//!     .map(|s: &f64| scale_index_q16((s * 65536.0) as u32))
//!     .collect();
//! let bytes = encode(tables, &symbols, &indices)?;
//! assert_eq!(decode(tables, &bytes, &indices)?, symbols);
//! # Ok::<(), lic_entropy::Error>(())
//! ```

/// The README's examples compile and run as doctests.
pub mod container;
mod detmath;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod gaussian;
mod limits;
mod stream;
mod table;

pub use container::{
    Chroma, ColorFormat, ColorMatrix, ColorRange, FORMAT_VERSION, Fingerprint, Frame, FrameKind,
    FrameReader, FrameWriter, Header, Layout, LicFile, MAGIC, MAX_SIDE, OLDEST_READABLE_VERSION,
    Section, SectionKind, VideoInfo, max_frame_bytes,
};
pub use error::{Error, Result};
pub use gaussian::{
    SCALE_COUNT, SCALES_PER_OCTAVE, TAIL_SIGMAS, discretized_gaussian, gaussian_tables,
    scale_index_log2, scale_index_q16, scale_of_index,
};
pub use limits::Limits;
pub use stream::{StreamDecoder, StreamEncoder, decode, encode};
pub use table::{CdfTable, PRECISION, TOTAL, TableSet, quantize_probabilities};
