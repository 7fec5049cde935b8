//! The codec's building blocks, for lic-train, lic-eval and diagnostics (see the crate docs).

pub use crate::codec::{
    Latents, PAD_MULTIPLE, Quality, analyse, decode_latent, encode_latents, encode_with_latent,
    image_tensor, planar_to_image, tensor_values,
};
pub mod exact;
pub mod fuzzing;
pub use crate::int::{
    FRAC_BITS, IntLayerSpec, IntMap, LayerKind, MAX_SHIFT, QuantizedLayer, Z_TABLES, dequantize,
    integer_layers, quantize, tables_from_i32, tables_to_i32,
};
pub use crate::latent::SYMBOL_LIMIT;
pub use crate::model::{
    Analysis, FLOAT_PARTS, HyperAnalysis, LEAKY_SLOPE, SimplifiedGdn, Synthesis, conv,
    interpolate_gains, is_anchor, lambdas_increase, load_parameters, named_parameters,
    quality_position, upconv,
};

use crate::Model;

/// Per-channel gains `model` applies to `y` at quality `q` (0..=100).
pub fn gains_at(model: &Model, q: f32) -> Vec<f32> {
    model.gains_at(q)
}

/// Per-channel inverse gains `model` applies to `ŷ` at quality `q` (0..=100).
pub fn inverse_gains_at(model: &Model, q: f32) -> Vec<f32> {
    model.inverse_gains_at(q)
}
