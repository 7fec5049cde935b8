//! # lic-models
//!
//! The deployable model file format (`.licm`, [`ModelFile`]), its fingerprint, and the default
//! model embedded in the binary so that lic works offline.
//!
//! A `.licm` file is a small self-describing container of named tensors plus a JSON
//! configuration. It knows nothing of networks: lic-codec decides which tensors a model needs
//! and checks their shapes. The byte layout is in `docs/FORMAT.md` (section "Model files").
//!
//! ```
//! use lic_models::{ModelFile, Tensor};
//!
//! let mut file = ModelFile::new(serde_json::json!({"name": "demo"}));
//! file.push("w", Tensor::F32 { shape: vec![2], data: vec![0.5, -1.0] })?;
//! let bytes = file.to_bytes();
//! let back = ModelFile::from_bytes(&bytes)?;
//! assert_eq!(back, file);
//! assert_eq!(back.fingerprint(), file.fingerprint());
//! # Ok::<(), lic_models::Error>(())
//! ```

mod default;
mod file;

pub use default::default_model_bytes;
pub use file::{
    Error, MAX_TENSOR_ELEMENTS, MAX_TENSORS, MODEL_MAGIC, MODEL_VERSION, ModelFile,
    TEMPORAL_PREFIX, Tensor,
};
