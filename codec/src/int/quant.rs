//! The integer layers of a model file: which layers there are ([`IntLayerSpec`], one list for
//! the exporter, the loader and the warm start), and the one mapping between a trained float
//! layer and its integers ([`quantize`], [`dequantize`]).

use lic_models::ModelFile;

use super::{FRAC_BITS, MAX_SHIFT, WEIGHT_LIMIT};
use crate::error::{Error, Result};
use crate::model::Architecture;

/// How an integer layer applies its weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerKind {
    /// Stride-1 convolution, weights `[cout, cin, k, k]`.
    Conv,
    /// Stride-2 transposed convolution, weights `[cin, cout, k, k]` (burn's layout).
    Transposed,
}

/// One integer layer of a model: its tensors' name in the file and its shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntLayerSpec {
    /// Dotted name; the file holds `<name>.weight`, `<name>.bias` and `<name>.shift`.
    pub name: String,
    /// Weight shape in burn's layout for `kind`.
    pub weight_shape: [usize; 4],
    /// Convolution or transposed convolution.
    pub kind: LayerKind,
    /// Whether LeakyReLU follows.
    pub activation: bool,
}

impl IntLayerSpec {
    fn new(name: String, weight_shape: [usize; 4], kind: LayerKind, activation: bool) -> Self {
        Self {
            name,
            weight_shape,
            kind,
            activation,
        }
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        match self.kind {
            LayerKind::Conv => self.weight_shape[1],
            LayerKind::Transposed => self.weight_shape[0],
        }
    }

    /// Output channels (the length of the bias and of the shifts).
    pub fn out_channels(&self) -> usize {
        match self.kind {
            LayerKind::Conv => self.weight_shape[0],
            LayerKind::Transposed => self.weight_shape[1],
        }
    }

    /// Kernel side.
    pub fn kernel(&self) -> usize {
        self.weight_shape[2]
    }

    /// Number of weights.
    pub fn weights(&self) -> usize {
        self.weight_shape.iter().product()
    }

    /// The output channel that weight `i` (row-major in `weight_shape`) feeds: its scale.
    pub fn out_channel_of(&self, i: usize) -> usize {
        // Axis 1 is the input channel of a convolution, the output channel of a transposed one.
        let [_, axis1, k1, k2] = self.weight_shape;
        let per_kernel = (k1 * k2).max(1);
        match self.kind {
            LayerKind::Conv => i / (axis1 * per_kernel).max(1),
            LayerKind::Transposed => (i / per_kernel) % axis1.max(1),
        }
    }

    pub(super) fn check_lengths(
        &self,
        weight: usize,
        bias: usize,
        shift: Option<usize>,
    ) -> Result<()> {
        let cout = self.out_channels();
        if weight != self.weights() || bias != cout || shift.is_some_and(|s| s != cout) {
            return Err(Error::invalid_model(
                &self.name,
                format!(
                    "{weight} weights, {bias} biases{}: the shape {:?} needs {} weights and \
                     {cout} of each per-channel value",
                    shift.map_or_else(String::new, |s| format!(", {s} shifts")),
                    self.weight_shape,
                    self.weights()
                ),
            ));
        }
        Ok(())
    }
}

/// Every integer layer of a model of `architecture`, in file order: `h_s`, then per channel
/// group its channel context (not for the first group), its spatial context and its three
/// aggregation layers.
pub fn integer_layers(architecture: &Architecture) -> Vec<IntLayerSpec> {
    use LayerKind::{Conv, Transposed};
    let (n, m, z) = (
        architecture.transform_channels,
        architecture.latent_channels,
        architecture.hyper_channels,
    );
    let mut v = vec![
        IntLayerSpec::new("hyper_synthesis.d1".into(), [z, n, 5, 5], Transposed, true),
        IntLayerSpec::new("hyper_synthesis.d2".into(), [n, n, 5, 5], Transposed, true),
        IntLayerSpec::new("hyper_synthesis.c3".into(), [2 * m, n, 1, 1], Conv, false),
    ];
    for (k, (&o, &c)) in architecture
        .group_offsets()
        .iter()
        .zip(&architecture.groups)
        .enumerate()
    {
        let g = format!("groups.{k}");
        if o > 0 {
            v.push(IntLayerSpec::new(
                format!("{g}.channel"),
                [2 * c, o, 3, 3],
                Conv,
                false,
            ));
        }
        v.push(IntLayerSpec::new(
            format!("{g}.spatial"),
            [2 * c, c, 5, 5],
            Conv,
            false,
        ));
        let inputs = if o == 0 { 4 * c } else { 6 * c };
        v.push(IntLayerSpec::new(
            format!("{g}.agg1"),
            [4 * c, inputs, 1, 1],
            Conv,
            true,
        ));
        v.push(IntLayerSpec::new(
            format!("{g}.agg2"),
            [3 * c, 4 * c, 1, 1],
            Conv,
            true,
        ));
        v.push(IntLayerSpec::new(
            format!("{g}.agg3"),
            [2 * c, 3 * c, 1, 1],
            Conv,
            false,
        ));
    }
    v
}

/// The temporal networks of a model of `architecture` whose temporal context is `width`
/// channels wide, in file order (all named [`lic_models::TEMPORAL_PREFIX`]`…`):
///
/// - `temporal.c1`, `temporal.c2`: 3x3 convolutions `M -> width -> 2M` (LeakyReLU between)
///   over the previous frame's decoded latent, giving each group `2C` features (its slice at
///   `2o`, as the hyper features);
/// - per group `k`, `temporal.groups.k.change`: a 3x3 convolution `o + C -> 2C` over how
///   much the latent changed since the previous frame where it is decoded already (the
///   earlier groups; in the second pass the group's anchors too);
/// - per group `k`, `temporal.groups.k.agg1..3`: the aggregation of inter frames, as the
///   group's own (`integer_layers`) with the group's temporal and change features as its
///   last `4C` inputs and `C` gates as its last outputs (`IntEntropyModel::params`).
pub fn temporal_layers(architecture: &Architecture, width: usize) -> Vec<IntLayerSpec> {
    use LayerKind::Conv;
    let m = architecture.latent_channels;
    let mut v = vec![
        IntLayerSpec::new("temporal.c1".into(), [width, m, 3, 3], Conv, true),
        IntLayerSpec::new("temporal.c2".into(), [2 * m, width, 3, 3], Conv, false),
    ];
    for (k, (&o, &c)) in architecture
        .group_offsets()
        .iter()
        .zip(&architecture.groups)
        .enumerate()
    {
        let g = format!("temporal.groups.{k}");
        v.push(IntLayerSpec::new(
            format!("{g}.change"),
            [2 * c, o + c, 3, 3],
            Conv,
            false,
        ));
        let inputs = if o == 0 { 8 * c } else { 10 * c };
        v.push(IntLayerSpec::new(
            format!("{g}.agg1"),
            [4 * c, inputs, 1, 1],
            Conv,
            true,
        ));
        v.push(IntLayerSpec::new(
            format!("{g}.agg2"),
            [3 * c, 4 * c, 1, 1],
            Conv,
            true,
        ));
        v.push(IntLayerSpec::new(
            format!("{g}.agg3"),
            [3 * c, 3 * c, 1, 1],
            Conv,
            false,
        ));
    }
    v
}

/// The width of a model file's temporal context (`temporal.c1`'s output channels), `None`
/// for a model without temporal networks.
pub fn temporal_width(file: &ModelFile) -> Option<usize> {
    file.get("temporal.c1.weight")
        .and_then(|t| t.shape().first().copied())
}

/// A quantised layer's integers: weights (float layout), per-output-channel biases and shifts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantizedLayer {
    /// Weights, same layout as the float layer.
    pub weight: Vec<i32>,
    /// Biases at scale `2^(FRAC_BITS + shift)`.
    pub bias: Vec<i32>,
    /// Per-output-channel shifts.
    pub shift: Vec<i32>,
}

impl QuantizedLayer {
    /// The three integer tensors of the layer `spec` in `file`.
    ///
    /// # Errors
    /// [`Error::ModelFile`] if one is missing or has another shape.
    pub fn read(file: &ModelFile, spec: &IntLayerSpec) -> Result<Self> {
        let cout = spec.out_channels();
        let get = |suffix: &str, shape: &[usize]| -> Result<Vec<i32>> {
            Ok(file
                .i32(&format!("{}.{suffix}", spec.name), shape)?
                .to_vec())
        };
        Ok(Self {
            weight: get("weight", &spec.weight_shape)?,
            bias: get("bias", &[cout])?,
            shift: get("shift", &[cout])?,
        })
    }
}

/// Quantises a trained float layer. For each output channel the largest shift
/// `s <= MAX_SHIFT` with `max|w| * 2^s <= WEIGHT_LIMIT` is chosen; `w_q = round(w * 2^s)`,
/// `b_q = round(b * 2^(FRAC_BITS + s))` (saturated to i32). Multiplying by a power of two and
/// rounding are exact in IEEE arithmetic, so every platform gets the same integers.
///
/// # Errors
/// [`Error::InvalidModel`] if `weight` or `bias` do not have the layer's sizes.
pub fn quantize(spec: &IntLayerSpec, weight: &[f32], bias: &[f32]) -> Result<QuantizedLayer> {
    spec.check_lengths(weight.len(), bias.len(), None)?;
    let mut max_abs = vec![0f32; spec.out_channels()];
    for (i, &w) in weight.iter().enumerate() {
        let c = spec.out_channel_of(i);
        max_abs[c] = max_abs[c].max(w.abs());
    }
    let shift: Vec<i32> = max_abs
        .iter()
        .map(|&m| {
            let mut s = MAX_SHIFT;
            while s > 0 && m * (1u32 << s) as f32 > WEIGHT_LIMIT as f32 {
                s -= 1;
            }
            s as i32
        })
        .collect();
    let scale = |s: i32| (1u64 << s) as f64;
    let weight = weight
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            let s = shift[spec.out_channel_of(i)];
            (f64::from(w) * scale(s))
                .round()
                .clamp(-f64::from(WEIGHT_LIMIT), f64::from(WEIGHT_LIMIT)) as i32
        })
        .collect();
    let bias = bias
        .iter()
        .zip(&shift)
        .map(|(&b, &s)| {
            (f64::from(b) * scale(s + FRAC_BITS as i32))
                .round()
                .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
        })
        .collect();
    Ok(QuantizedLayer {
        weight,
        bias,
        shift,
    })
}

/// The float weights and biases a quantised layer computes with (`w_q / 2^shift`,
/// `b_q / 2^(FRAC_BITS + shift)`, each exact in `f64`, then rounded once to `f32`): quantising
/// them again gives back the same integers.
///
/// # Errors
/// [`Error::InvalidModel`] if the sizes do not match the layer or a shift is outside
/// `0..=MAX_SHIFT`.
pub fn dequantize(spec: &IntLayerSpec, layer: &QuantizedLayer) -> Result<(Vec<f32>, Vec<f32>)> {
    spec.check_lengths(
        layer.weight.len(),
        layer.bias.len(),
        Some(layer.shift.len()),
    )?;
    check_shifts(&spec.name, &layer.shift)?;
    let w = layer
        .weight
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            (f64::from(v) / f64::from(1u32 << layer.shift[spec.out_channel_of(i)])) as f32
        })
        .collect();
    let b = layer
        .bias
        .iter()
        .zip(&layer.shift)
        .map(|(&v, &s)| (f64::from(v) / f64::from(1u32 << (s as u32 + FRAC_BITS))) as f32)
        .collect();
    Ok((w, b))
}

/// Refuses a shift outside `0..=MAX_SHIFT`.
pub(super) fn check_shifts(name: &str, shifts: &[i32]) -> Result<()> {
    match shifts.iter().find(|s| !(0..=MAX_SHIFT as i32).contains(s)) {
        Some(s) => Err(Error::invalid_model(
            name,
            format!("shift {s} is outside 0..={MAX_SHIFT}"),
        )),
        None => Ok(()),
    }
}
