//! The codec's building blocks, for lic-train, lic-eval and diagnostics (see the crate docs).

pub use crate::codec::{
    Latents, PAD_MULTIPLE, Quality, analyse, decode_latent, encode_latents, encode_with_latent,
    image_tensor, planar_to_image, tensor_values,
};
pub mod exact;
pub mod fuzzing;
pub use crate::int::{
    FRAC_BITS, IntLayerSpec, IntMap, LayerKind, MAX_SHIFT, QuantizedLayer, Z_TABLES, dequantize,
    integer_layers, quantize, tables_from_i32, tables_to_i32, temporal_layers, temporal_width,
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

/// A copy of `file` with seeded temporal networks `width` channels wide, for tests and fuzz
/// targets that need inter frames without a trained temporal model. Integers only, drawn
/// from `seed`: the same file on every machine. The context and change convolutions get weights in
/// ±64 at shift 8 (±0.25) and biases in ±1.0 (features differ from zero even where the
/// latent is zero); each group's inter aggregation is its intra one with weights up to half
/// its largest on the temporal inputs, and gates about 0.5, so inter frames code about as
/// intra frames do, but differently.
///
/// # Errors
/// [`crate::Error`] if `file` is not a lic model.
pub fn with_test_temporal(
    file: &lic_models::ModelFile,
    width: usize,
    seed: u64,
) -> crate::Result<lic_models::ModelFile> {
    use lic_models::{TEMPORAL_PREFIX, Tensor};
    let architecture = crate::ModelInfo::from_file(file)?.architecture;
    let mut state = seed;
    let mut draw = |bound: i32| {
        // SplitMix64.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z % (2 * bound as u64 + 1)) as i32 - bound
    };
    let mut out = lic_models::ModelFile::new(file.config.clone());
    for (name, tensor) in file.tensors() {
        if !name.starts_with(TEMPORAL_PREFIX) {
            out.push(name, tensor.clone())?;
        }
    }
    for spec in temporal_layers(&architecture, width) {
        let cout = spec.out_channels();
        let intra_name = spec.name.trim_start_matches(TEMPORAL_PREFIX);
        let layer = if spec.name.starts_with("temporal.c") || spec.name.ends_with(".change") {
            QuantizedLayer {
                weight: (0..spec.weights()).map(|_| draw(64)).collect(),
                // ±1.0: the features differ from zero even where the latent is zero.
                bias: (0..cout).map(|_| draw(1 << 16)).collect(),
                shift: vec![8; cout],
            }
        } else {
            let intra = integer_layers(&architecture)
                .into_iter()
                .find(|s| s.name == intra_name)
                .ok_or_else(|| crate::Error::invalid_model(intra_name, "missing layer"))?;
            let mut q = QuantizedLayer::read(file, &intra)?;
            let (cin_old, cin) = (intra.in_channels(), spec.in_channels());
            // agg3's gate outputs: weights in ±64 at shift 8, biases about 0.5.
            for _ in intra.out_channels()..cout {
                q.weight.extend((0..cin).map(|_| draw(64)));
                q.bias.push((1 << 15) + draw(1 << 14));
                q.shift.push(8);
            }
            if cin != cin_old {
                q.weight = (0..cout)
                    .flat_map(|o| {
                        let row = q.weight[o * cin_old..(o + 1) * cin_old].to_vec();
                        row.into_iter()
                            .chain((cin_old..cin).map(|_| draw(512)).collect::<Vec<_>>())
                    })
                    .collect();
            }
            q
        };
        out.push(
            &format!("{}.weight", spec.name),
            Tensor::I32 {
                shape: spec.weight_shape.to_vec(),
                data: layer.weight,
            },
        )?;
        for (suffix, data) in [("bias", layer.bias), ("shift", layer.shift)] {
            out.push(
                &format!("{}.{suffix}", spec.name),
                Tensor::I32 {
                    shape: vec![cout],
                    data,
                },
            )?;
        }
    }
    Ok(out)
}
