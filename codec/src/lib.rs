//! # lic-codec
//!
//! lic's learned image codec: an ELIC-style model (analysis/synthesis transforms, hyperprior,
//! uneven channel groups with checkerboard context, variable rate from one model) on burn, with
//! bit-exact integer entropy parameters so a `.lic` file decodes identically on every backend,
//! device and thread count.
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
//! Features: `wgpu` (the wgpu backend) and `train` (autodiff, optimiser) are on by default.
//! An application that only decodes on the CPU depends on this crate with
//! `default-features = false`.

// The README's examples are compiled and run as doctests of this crate.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub mod bdrate;
mod codec;
mod error;
mod exact;
mod export;
pub mod int;
mod latent;
pub mod metrics;
pub mod model;
mod picture;
#[cfg(feature = "train")]
pub mod refine;
mod runtime;
#[cfg(feature = "train")]
pub mod train;

pub use burn::tensor::Device;
pub use codec::{
    PAD_MULTIPLE, Timings, decode, decode_latent, decode_timed, encode, encode_timed,
    encode_with_latent,
};
pub use error::{Error, Result};
pub use export::{ModelInfo, export};
pub use latent::SYMBOL_LIMIT;
pub use lic_entropy as entropy;
pub use lic_entropy::{ColorFormat, Limits};
pub use lic_models::{ModelFile, default_model_bytes};
pub use picture::{Image, ImageFormat};
#[cfg(feature = "wgpu")]
pub use runtime::wgpu_device;
pub use runtime::{DEFAULT_SEED, Model};
