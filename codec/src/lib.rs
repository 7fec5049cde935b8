//! # lic-codec
//!
//! The neural codec (issue "The neural codec"): analysis/synthesis transforms, hyperprior,
//! channel-grouped checkerboard entropy model, encode/decode and training, on burn. Until it
//! lands, this crate only re-exports the entropy layer so that the CLI depends on one crate.

pub use lic_entropy as entropy;
