//! # lic-codec
//!
//! lic's learned image codec, the runtime that applications embed: an ELIC-style model
//! (analysis/synthesis transforms, hyperprior, uneven channel groups with checkerboard
//! context, variable rate from one model) run with burn, with bit-exact integer entropy
//! parameters so a `.lic` file decodes identically on every backend, device and thread count.
//!
//! ```no_run
//! use lic_codec::{Device, Image, Limits, Model, decode, encode};
//!
//! let model = Model::default_model(&Device::flex())?;
//! let image = Image::open(std::path::Path::new("assets/kodim23_crop.png"))?;
//! let bytes = encode(&model, &image, 50.0)?;
//! let back = decode(&model, &bytes, &Limits::default())?;
//! assert_eq!((back.width(), back.height()), (image.width(), image.height()));
//! # Ok::<(), lic_codec::Error>(())
//! ```
//!
//! The top level is the whole API an application needs: a [`Model`], [`encode`] and
//! [`decode`] of whole files, [`encode_frame`] and [`decode_frame`] of the frames a file
//! holds ([`container`]), [`Image`] in and out, [`Limits`] on what a decoder accepts, and one
//! [`Error`]; clips go through [`VideoEncoder`] and [`VideoDecoder`] frame by frame
//! ([`video`], with a YUV4MPEG2 reader and writer and Y'CbCr conversion). Training, evaluation and anchors live in the crates beside this one (lic-train,
//! lic-eval); what they build on is in [`internals`].
//!
//! Features: none by default (encode and decode on the CPU, no autodiff, optimiser, GPU
//! stack, FFmpeg or plotting); `wgpu` adds the wgpu backend ([`wgpu_device`]).

mod codec;
mod error;
mod int;
mod latent;
mod model;
mod picture;
mod runtime;
mod target;
pub mod video;

pub use burn::tensor::Device;
pub use codec::{
    Timings, decode, decode_frame, decode_timed, encode, encode_frame, encode_timed, picture_header,
};
pub use error::{Error, Result};
pub use lic_entropy::{ColorFormat, Error as FormatError, Fingerprint, Limits};
pub use lic_models::ModelFile;
pub use model::{Architecture, Complexity, ModelInfo};
pub use picture::{Image, ImageFormat, MAX_METADATA_BYTES, Metadata};
pub use runtime::Model;
#[cfg(feature = "wgpu")]
pub use runtime::wgpu_device;
pub use target::{Target, TargetOutcome, encode_to_target};
pub use video::{FrameStats, VideoDecoder, VideoEncoder};

/// The `.lic` container a file is made of: a [`container::Header`] and the
/// [`container::Frame`]s that [`encode_frame`] writes and [`decode_frame`] reads (byte layout
/// in docs/FORMAT.md).
pub mod container {
    pub use lic_entropy::{
        Chroma, ColorMatrix, ColorRange, FORMAT_VERSION, Frame, FrameKind, FrameReader,
        FrameWriter, Header, LicFile, MAX_SIDE, OLDEST_READABLE_VERSION, Section, SectionKind,
        VideoInfo,
    };
}

/// The codec's building blocks, for lic-train, lic-eval and diagnostics: the float transforms
/// (trained by lic-train, run here), the integer layers of a model file and the one mapping
/// between them and their float weights, the analysis apart from the coding of its latents,
/// and tensor helpers.
///
/// Not a stable API: it changes with the codec, and an application never needs it. Nothing
/// in it panics on any input.
pub mod internals;
