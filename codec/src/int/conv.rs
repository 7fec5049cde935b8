//! Integer convolutions: quantisation of trained float layers and their exact execution.

use rayon::prelude::*;

use super::quant::{IntLayerSpec, LayerKind, QuantizedLayer, check_shifts};
use super::{IntMap, WEIGHT_LIMIT, leaky, saturate};
use crate::error::{Error, Result};

/// Adds `w * input` to `out`, element by element, wrapping, with the widest integer SIMD the
/// CPU offers. Every lane does the same wrapping multiply-add, so the integers are the same
/// whichever form runs (the build's baseline, x86-64's SSE2, has no 32-bit lane multiply:
/// it is 2-3x slower there).
#[inline]
fn axpy(out: &mut [i32], input: &[i32], w: i32) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above; the function needs nothing
            // else.
            #[allow(unsafe_code)]
            unsafe {
                axpy_avx512(out, input, w);
            }
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above; the function needs nothing else.
            #[allow(unsafe_code)]
            unsafe {
                axpy_avx2(out, input, w);
            }
            return;
        }
    }
    axpy_lanes(out, input, w);
}

/// The multiply-add itself, inlined into each target-feature form so that the compiler
/// vectorises it for that form.
#[inline(always)]
fn axpy_lanes(out: &mut [i32], input: &[i32], w: i32) {
    for (o, &i) in out.iter_mut().zip(input) {
        *o = o.wrapping_add(w.wrapping_mul(i));
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn axpy_avx2(out: &mut [i32], input: &[i32], w: i32) {
    axpy_lanes(out, input, w);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn axpy_avx512(out: &mut [i32], input: &[i32], w: i32) {
    axpy_lanes(out, input, w);
}

/// Output channels one task accumulates together (each run of input is read once per block).
const CO_BLOCK: usize = 8;

/// Elements of a run processed at a time: a block's accumulators for one chunk (8 x 2 KiB)
/// stay in L1 while every tap passes over them.
const SPAN_CHUNK: usize = 512;

/// Turns a channel's accumulator into activations: bias, rounding shift, activation, saturation.
fn finish_plane(acc: &mut [i32], bias: i32, shift: i32, activation: bool) {
    let round = if shift > 0 { 1i32 << (shift - 1) } else { 0 };
    for v in acc {
        let mut x = v.wrapping_add(bias).wrapping_add(round) >> shift;
        if activation {
            x = leaky(x);
        }
        *v = saturate(x);
    }
}

/// What both integer convolution kinds hold: sizes, the quantised layer, whether LeakyReLU follows.
#[derive(Clone, Debug)]
struct IntLayer {
    name: String,
    cin: usize,
    cout: usize,
    k: usize,
    layer: QuantizedLayer,
    activation: bool,
}

impl IntLayer {
    /// Checks sizes and value ranges (layers come from files) before accepting a layer.
    fn new(spec: &IntLayerSpec, kind: LayerKind, layer: QuantizedLayer) -> Result<Self> {
        let name = &spec.name;
        let k = spec.kernel();
        if spec.kind != kind || spec.weight_shape[3] != k || k.is_multiple_of(2) {
            return Err(Error::invalid_model(
                name,
                format!(
                    "a {:?} layer of weight shape {:?} is not a {kind:?} layer with an odd \
                     square kernel",
                    spec.kind, spec.weight_shape
                ),
            ));
        }
        spec.check_lengths(
            layer.weight.len(),
            layer.bias.len(),
            Some(layer.shift.len()),
        )?;
        if let Some(w) = layer.weight.iter().find(|w| w.abs() > WEIGHT_LIMIT) {
            return Err(Error::invalid_model(
                name,
                format!("weight {w} is outside ±{WEIGHT_LIMIT}"),
            ));
        }
        check_shifts(name, &layer.shift)?;
        Ok(Self {
            name: name.clone(),
            cin: spec.in_channels(),
            cout: spec.out_channels(),
            k,
            layer,
            activation: spec.activation,
        })
    }

    /// Refuses an input whose channel count is not the layer's.
    fn check_input(&self, x: &IntMap) -> Result<()> {
        if x.c != self.cin {
            return Err(Error::invalid_model(
                &self.name,
                format!("input of {} channels, the layer reads {}", x.c, self.cin),
            ));
        }
        Ok(())
    }
}

/// A stride-1 `k x k` integer convolution with zero padding `k / 2`.
#[derive(Clone, Debug)]
pub struct IntConv2d(IntLayer);

impl IntConv2d {
    /// Wraps a quantised layer of `spec` (a [`LayerKind::Conv`], weights `[cout, cin, k, k]`).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] if sizes or ranges are wrong.
    pub fn new(spec: &IntLayerSpec, layer: QuantizedLayer) -> Result<Self> {
        IntLayer::new(spec, LayerKind::Conv, layer).map(Self)
    }

    /// Input channels.
    pub fn cin(&self) -> usize {
        self.0.cin
    }

    /// `[cin, h, w] -> [cout, h, w]`.
    ///
    /// The input is zero-padded once; then every tap `(ci, ky, kx)` is a single multiply-add
    /// over a contiguous run of the padded input, into accumulators laid out at the padded
    /// width (the extra columns of each row are computed and dropped). Output channels go in
    /// blocks of [`CO_BLOCK`] and the runs in chunks of [`SPAN_CHUNK`], so that a chunk of
    /// input is read once per block while the block's accumulators stay in L1. Wrapping
    /// addition is associative, so any order gives the same integers as
    /// [`reference_conv`](tests) does.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] if `x` does not have the layer's input channels.
    pub fn forward(&self, x: &IntMap) -> Result<IntMap> {
        self.0.check_input(x)?;
        let (h, w, k) = (x.h, x.w, self.0.k);
        let (cin, cout) = (self.0.cin, self.0.cout);
        let p = k / 2;
        let plane = h * w;
        let mut out = IntMap::zeros(cout, h, w);
        if plane == 0 {
            return Ok(out);
        }
        // Padded planes of `pw` columns and `h + 2p` rows, plus `2p` zeros so that the last
        // tap's run stays inside its plane.
        let pw = w + 2 * p;
        let span = h * pw;
        let padded_plane = (h + 2 * p) * pw + 2 * p;
        let padded: std::borrow::Cow<'_, [i32]> = if p == 0 {
            std::borrow::Cow::Borrowed(&x.data)
        } else {
            let mut v = vec![0i32; cin * padded_plane];
            for ci in 0..cin {
                let src = x.plane(ci);
                let dst = &mut v[ci * padded_plane..];
                for y in 0..h {
                    let at = (y + p) * pw + p;
                    dst[at..at + w].copy_from_slice(&src[y * w..(y + 1) * w]);
                }
            }
            std::borrow::Cow::Owned(v)
        };
        let taps = k * k;
        let weight = &self.0.layer.weight;
        out.data
            .par_chunks_mut(CO_BLOCK * plane)
            .enumerate()
            .for_each(|(block, dst)| {
                let co0 = block * CO_BLOCK;
                let n = dst.len() / plane;
                let mut acc = vec![0i32; n * span];
                for start in (0..span).step_by(SPAN_CHUNK) {
                    let len = SPAN_CHUNK.min(span - start);
                    for ci in 0..cin {
                        let src = &padded[ci * padded_plane..(ci + 1) * padded_plane];
                        for t in 0..taps {
                            let at = (t / k) * pw + t % k + start;
                            let run = &src[at..at + len];
                            for j in 0..n {
                                let wv = weight[((co0 + j) * cin + ci) * taps + t];
                                if wv != 0 {
                                    let a = j * span + start;
                                    axpy(&mut acc[a..a + len], run, wv);
                                }
                            }
                        }
                    }
                }
                for (j, dst) in dst.chunks_mut(plane).enumerate() {
                    for y in 0..h {
                        let a = j * span + y * pw;
                        dst[y * w..(y + 1) * w].copy_from_slice(&acc[a..a + w]);
                    }
                    let co = co0 + j;
                    finish_plane(
                        dst,
                        self.0.layer.bias[co],
                        self.0.layer.shift[co],
                        self.0.activation,
                    );
                }
            });
        Ok(out)
    }
}

/// A stride-2 `k x k` integer transposed convolution (padding `k / 2`, output padding 1):
/// `[cin, h, w] -> [cout, 2h, 2w]`, the integer twin of [`crate::model`]'s `upconv`.
#[derive(Clone, Debug)]
pub struct IntConvTranspose2d(IntLayer);

impl IntConvTranspose2d {
    /// Wraps a quantised layer of `spec` (a [`LayerKind::Transposed`], weights
    /// `[cin, cout, k, k]`, burn's layout).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] if sizes or ranges are wrong.
    pub fn new(spec: &IntLayerSpec, layer: QuantizedLayer) -> Result<Self> {
        IntLayer::new(spec, LayerKind::Transposed, layer).map(Self)
    }

    /// `[cin, h, w] -> [cout, 2h, 2w]`. Output `o = 2 i + t - p` receives input `i` through
    /// tap `t`; each output parity class is accumulated in its own contiguous plane so the
    /// inner loop runs over whole rows, then the four planes are interleaved.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] if `x` does not have the layer's input channels.
    pub fn forward(&self, x: &IntMap) -> Result<IntMap> {
        self.0.check_input(x)?;
        let (h, w, k) = (x.h, x.w, self.0.k);
        let p = (k / 2) as isize;
        let plane = h * w;
        let mut out = IntMap::zeros(self.0.cout, 2 * h, 2 * w);
        out.data
            .par_chunks_mut((4 * plane).max(1))
            .enumerate()
            .for_each(|(co, dst)| {
                // parity[py * 2 + px] holds outputs (2a + py, 2b + px) at a * w + b.
                let mut parity = vec![0i32; 4 * plane];
                for ci in 0..self.0.cin {
                    let input = x.plane(ci);
                    for ky in 0..k {
                        let dy = ky as isize - p;
                        let py = dy.rem_euclid(2);
                        let sy = (dy - py) / 2; // a = i + sy
                        for kx in 0..k {
                            let wv =
                                self.0.layer.weight[((ci * self.0.cout + co) * k + ky) * k + kx];
                            if wv == 0 {
                                continue;
                            }
                            let dx = kx as isize - p;
                            let px = dx.rem_euclid(2);
                            let sx = (dx - px) / 2; // b = j + sx
                            let b0 = sx.max(0) as usize;
                            let b1 = (w as isize + sx).clamp(0, w as isize) as usize;
                            if b0 >= b1 {
                                continue;
                            }
                            let j0 = (b0 as isize - sx) as usize;
                            let base = (py * 2 + px) as usize * plane;
                            for i in 0..h {
                                let a = i as isize + sy;
                                if a < 0 || a >= h as isize {
                                    continue;
                                }
                                let a = a as usize;
                                axpy(
                                    &mut parity[base + a * w + b0..base + a * w + b1],
                                    &input[i * w + j0..i * w + j0 + (b1 - b0)],
                                    wv,
                                );
                            }
                        }
                    }
                }
                let ow = 2 * w;
                for (idx, v) in dst.iter_mut().enumerate() {
                    let (oy, ox) = (idx / ow, idx % ow);
                    *v = parity[((oy % 2) * 2 + ox % 2) * plane + (oy / 2) * w + ox / 2];
                }
                finish_plane(
                    dst,
                    self.0.layer.bias[co],
                    self.0.layer.shift[co],
                    self.0.activation,
                );
            });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::module::{conv_transpose2d, conv2d};
    use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;
    use crate::int::quant::{dequantize, quantize};
    use crate::int::{ACTIVATION_LIMIT, FRAC_BITS, MAX_SHIFT};

    /// Uniform in `[-scale, scale)` from a 64-bit LCG (Knuth's MMIX constants): test data only.
    fn random(n: usize, scale: f32, state: &mut u64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((*state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
            })
            .collect()
    }

    fn spec(kind: LayerKind, shape: [usize; 4]) -> IntLayerSpec {
        IntLayerSpec {
            name: "test".into(),
            weight_shape: shape,
            kind,
            activation: false,
        }
    }

    /// A random fixed-point map with values up to `±magnitude`, and the same in float.
    fn input(c: usize, h: usize, w: usize, magnitude: f32, state: &mut u64) -> (IntMap, Tensor<4>) {
        let data: Vec<i32> = random(c * h * w, magnitude * 256.0, state)
            .into_iter()
            .map(|v| v as i32)
            .collect();
        let f: Vec<f32> = data.iter().map(|&v| v as f32 / 256.0).collect();
        let t = Tensor::from_data(TensorData::new(f, [1, c, h, w]), &Device::flex());
        (IntMap { c, h, w, data }, t)
    }

    fn assert_close(int: &IntMap, float: Tensor<4>) {
        let f = float
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(int.data.len(), f.len());
        for (i, (&a, &b)) in int.data.iter().zip(&f).enumerate() {
            let expected = saturate((b * 256.0).round() as i32);
            assert!(
                (a - expected).abs() <= 1,
                "element {i}: int {a}, float {expected}"
            );
        }
    }

    /// The convolution written out directly, output by output: the reference
    /// [`IntConv2d::forward`]'s blocked form must match integer for integer.
    fn reference_conv(conv: &IntConv2d, x: &IntMap) -> IntMap {
        let l = &conv.0;
        let (h, w, k) = (x.h as isize, x.w as isize, l.k);
        let p = (k / 2) as isize;
        let mut out = IntMap::zeros(l.cout, x.h, x.w);
        for co in 0..l.cout {
            let plane = &mut out.data[co * x.h * x.w..(co + 1) * x.h * x.w];
            for oy in 0..h {
                for ox in 0..w {
                    let mut acc = 0i32;
                    for ci in 0..l.cin {
                        for ky in 0..k {
                            for kx in 0..k {
                                let (iy, ix) = (oy + ky as isize - p, ox + kx as isize - p);
                                if iy < 0 || ix < 0 || iy >= h || ix >= w {
                                    continue;
                                }
                                let v = x.plane(ci)[(iy * w + ix) as usize];
                                let wv = l.layer.weight[((co * l.cin + ci) * k + ky) * k + kx];
                                acc = acc.wrapping_add(wv.wrapping_mul(v));
                            }
                        }
                    }
                    plane[(oy * w + ox) as usize] = acc;
                }
            }
            finish_plane(plane, l.layer.bias[co], l.layer.shift[co], l.activation);
        }
        out
    }

    #[test]
    fn every_simd_form_of_the_multiply_add_gives_the_same_integers() {
        let mut state = 5u64;
        let input: Vec<i32> = random(1000, i32::MAX as f32, &mut state)
            .into_iter()
            .map(|v| v as i32)
            .chain([i32::MAX, i32::MIN, -1, 0, 1])
            .collect();
        let start: Vec<i32> = input.iter().rev().copied().collect();
        for w in [WEIGHT_LIMIT, -WEIGHT_LIMIT, 3, -1] {
            let mut expected = start.clone();
            for (o, &i) in expected.iter_mut().zip(&input) {
                *o = o.wrapping_add(w.wrapping_mul(i));
            }
            let mut forms: Vec<(&str, Vec<i32>)> = vec![("portable", start.clone())];
            axpy_lanes(&mut forms[0].1, &input, w);
            let mut dispatched = start.clone();
            axpy(&mut dispatched, &input, w);
            forms.push(("dispatched", dispatched));
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            {
                if std::arch::is_x86_feature_detected!("avx2") {
                    let mut v = start.clone();
                    // SAFETY: AVX2 is present (checked).
                    unsafe { axpy_avx2(&mut v, &input, w) };
                    forms.push(("avx2", v));
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    let mut v = start.clone();
                    // SAFETY: AVX-512F is present (checked).
                    unsafe { axpy_avx512(&mut v, &input, w) };
                    forms.push(("avx512", v));
                }
            }
            for (name, v) in forms {
                assert_eq!(v, expected, "{name}, w {w}");
            }
        }
    }

    #[test]
    fn blocked_conv_is_exactly_the_direct_convolution() {
        let mut state = 11u64;
        let ints = |n: usize, limit: i32, state: &mut u64| -> Vec<i32> {
            random(n, limit as f32, state)
                .into_iter()
                .map(|v| v as i32)
                .collect()
        };
        // Odd sizes, channel counts off the block size, 1x1 to 5x5, one-pixel maps; values
        // at the activation limit so that accumulators wrap.
        for (cin, cout, k, h, w, limit) in [
            (3, 5, 3, 7, 9, 1000),
            (17, 9, 3, 1, 1, ACTIVATION_LIMIT),
            (16, 16, 1, 13, 2, ACTIVATION_LIMIT),
            (5, 19, 5, 6, 11, ACTIVATION_LIMIT),
            (40, 24, 3, 31, 23, 1 << 12),
            (2, 3, 3, 40, 1, ACTIVATION_LIMIT),
        ] {
            let spec = IntLayerSpec {
                activation: cin % 2 == 1,
                ..spec(LayerKind::Conv, [cout, cin, k, k])
            };
            let mut weight = ints(cout * cin * k * k, WEIGHT_LIMIT, &mut state);
            weight[0] = 0;
            let layer = QuantizedLayer {
                weight,
                bias: ints(cout, 1 << 20, &mut state),
                shift: (0..cout)
                    .map(|c| (c % (MAX_SHIFT as usize + 1)) as i32)
                    .collect(),
            };
            let conv = IntConv2d::new(&spec, layer).unwrap();
            let x = IntMap {
                c: cin,
                h,
                w,
                data: ints(cin * h * w, limit, &mut state),
            };
            assert_eq!(
                conv.forward(&x).unwrap(),
                reference_conv(&conv, &x),
                "{cin}->{cout} {k}x{k} on {h}x{w}"
            );
        }
    }

    #[test]
    fn conv_matches_float_reference() {
        conv_matches_float_reference_at(8.0);
    }

    /// Latent values of a high-quality encode reach several hundred (the gains scale them up);
    /// the context networks must see them, not a clipped copy (why: the doc of
    /// `crate::int::ACTIVATION_LIMIT`).
    #[test]
    fn conv_carries_latent_sized_values() {
        let largest = conv_matches_float_reference_at(600.0);
        assert!(largest > 1000 << FRAC_BITS, "largest output {largest}");
    }

    /// Checks three integer convolutions against burn's on inputs up to `±magnitude`; returns
    /// the largest output magnitude in fixed point.
    fn conv_matches_float_reference_at(magnitude: f32) -> i32 {
        let mut largest = 0;
        let mut state = 1;
        for (cin, cout, k, h, w) in [(3, 4, 5, 7, 9), (5, 2, 3, 1, 6), (4, 3, 1, 5, 5)] {
            let spec = spec(LayerKind::Conv, [cout, cin, k, k]);
            let wf = random(cout * cin * k * k, 0.4, &mut state);
            let bf = random(cout, 0.5, &mut state);
            let q = quantize(&spec, &wf, &bf).unwrap();
            let (dw, db) = dequantize(&spec, &q).unwrap();
            let layer = IntConv2d::new(&spec, q).unwrap();
            let (x, xf) = input(cin, h, w, magnitude, &mut state);
            let dev = Device::flex();
            let expected = conv2d(
                xf,
                Tensor::from_data(TensorData::new(dw, [cout, cin, k, k]), &dev),
                Some(Tensor::from_data(TensorData::new(db, [cout]), &dev)),
                ConvOptions::new([1, 1], [k / 2, k / 2], [1, 1], 1),
            );
            let out = layer.forward(&x).unwrap();
            largest = out.data.iter().fold(largest, |m, v| m.max(v.abs()));
            assert_close(&out, expected);
        }
        largest
    }

    #[test]
    fn transposed_conv_matches_float_reference() {
        let mut state = 2;
        for (cin, cout, k, h, w) in [(3, 4, 5, 3, 5), (2, 2, 3, 1, 1), (4, 1, 5, 4, 2)] {
            let spec = spec(LayerKind::Transposed, [cin, cout, k, k]);
            let wf = random(cin * cout * k * k, 0.4, &mut state);
            let bf = random(cout, 0.5, &mut state);
            let q = quantize(&spec, &wf, &bf).unwrap();
            let (dw, db) = dequantize(&spec, &q).unwrap();
            let layer = IntConvTranspose2d::new(&spec, q).unwrap();
            let (x, xf) = input(cin, h, w, 8.0, &mut state);
            let dev = Device::flex();
            let expected = conv_transpose2d(
                xf,
                Tensor::from_data(TensorData::new(dw, [cin, cout, k, k]), &dev),
                Some(Tensor::from_data(TensorData::new(db, [cout]), &dev)),
                ConvTransposeOptions::new([2, 2], [k / 2, k / 2], [1, 1], [1, 1], 1),
            );
            assert_close(&layer.forward(&x).unwrap(), expected);
        }
    }

    #[test]
    fn quantisation_uses_the_full_weight_range_and_is_exact() {
        let two = spec(LayerKind::Conv, [2, 2, 1, 1]);
        let q = quantize(&two, &[0.5, -0.25, 0.0, 0.0], &[1.0, 0.0]).unwrap();
        assert_eq!(q.shift, vec![10, MAX_SHIFT as i32]);
        assert_eq!(q.weight[0], 512);
        assert_eq!(q.weight[1], -256);
        assert_eq!(q.bias[0], 1 << (FRAC_BITS + 10));
        // Dequantised and quantised again: the same integers.
        let (w, b) = dequantize(&two, &q).unwrap();
        assert_eq!(quantize(&two, &w, &b).unwrap(), q);
        let one = spec(LayerKind::Conv, [1, 1, 1, 1]);
        let layer = |weight, shift| QuantizedLayer {
            weight: vec![weight],
            bias: vec![0],
            shift: vec![shift],
        };
        assert!(IntConv2d::new(&one, layer(WEIGHT_LIMIT + 1, 0)).is_err());
        assert!(IntConv2d::new(&one, layer(1, MAX_SHIFT as i32 + 1)).is_err());
        assert!(dequantize(&one, &layer(1, -1)).is_err());
        // The wrong kind, and sizes that do not fit the shape: errors, not panics.
        assert!(IntConvTranspose2d::new(&one, layer(1, 0)).is_err());
        assert!(quantize(&two, &[0.5], &[1.0, 0.0]).is_err());
        assert!(dequantize(&two, &layer(1, 0)).is_err());
    }

    /// An input with the wrong channel count is refused, not a panic.
    #[test]
    fn a_map_of_the_wrong_width_is_refused() {
        let spec = spec(LayerKind::Conv, [2, 3, 3, 3]);
        let q = quantize(&spec, &[0.1; 54], &[0.0; 2]).unwrap();
        let layer = IntConv2d::new(&spec, q).unwrap();
        assert!(layer.forward(&IntMap::zeros(3, 4, 4)).is_ok());
        let err = layer.forward(&IntMap::zeros(2, 4, 4)).unwrap_err();
        assert!(err.to_string().contains("input of 2 channels"), "{err}");
        let spec = self::spec(LayerKind::Transposed, [3, 2, 5, 5]);
        let q = quantize(&spec, &[0.1; 150], &[0.0; 2]).unwrap();
        let up = IntConvTranspose2d::new(&spec, q).unwrap();
        assert_eq!(up.forward(&IntMap::zeros(3, 2, 3)).unwrap().c, 2);
        assert!(up.forward(&IntMap::zeros(4, 2, 3)).is_err());
    }
}
