//! # lic-eval
//!
//! Measuring lic against other codecs: distortion metrics ([`metrics`]), rate-distortion
//! curves and BD-rate ([`bdrate`]), the evaluation engine behind `lic eval` ([`measure`] over
//! [`Codec`]s, with lic itself as [`LicCodec`]), the anchors measured live through their
//! reference programs ([`External`]: libjpeg-turbo, libwebp, libavif), RD plots
//! ([`plot`]), and video clips against lic's intra frames and x264 / x265 ([`video`]).
//!
//! ```no_run
//! use lic_codec::{Device, Model};
//! use lic_eval::{External, ExternalCodec, LicCodec, collect_images, load_images, measure};
//!
//! let model = Model::default_model(&Device::flex())?;
//! let images = load_images(&collect_images(&["../shared/datasets/kodak".into()])?)?;
//! let lic = measure(&LicCodec::new(&model, &[20.0, 60.0])?, &images, &|| ())?;
//! let jpeg = measure(&ExternalCodec::new(External::Jpeg, &[30, 70])?, &images, &|| ())?;
//! print!("{}", lic_eval::bd_table(&[jpeg.curve], &[lic.curve]));
//! # Ok::<(), lic_eval::Error>(())
//! ```

pub mod bdrate;
mod engine;
mod error;
mod external;
pub mod metrics;
pub mod plot;
pub mod video;

pub use engine::{
    Codec, Coded, LicCodec, Measured, Reference, Role, Row, bd_table, check_lic_qualities,
    collect_images, csv, curve, job_count, lic_curve_label, load_images, measure, quality_table,
    results_json, trained_qualities,
};
pub use error::{Error, Result};
pub use external::{External, ExternalCodec};
