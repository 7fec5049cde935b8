//! Integer convolutions: quantisation of trained float layers and their exact execution.

use rayon::prelude::*;

use super::{FRAC_BITS, IntMap, MAX_SHIFT, WEIGHT_LIMIT, leaky, saturate};

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

/// Quantises a float layer with `cout` output channels, where `out_channel(i)` says which
/// output channel weight `i` feeds. For each channel the largest shift `s <= MAX_SHIFT` with
/// `max|w| * 2^s <= WEIGHT_LIMIT` is chosen; `w_q = round(w * 2^s)`,
/// `b_q = round(b * 2^(FRAC_BITS + s))` (saturated to i32). Multiplying by a power of two and
/// rounding are exact in IEEE arithmetic, so every platform gets the same integers.
pub fn quantize_layer(
    weight: &[f32],
    bias: &[f32],
    cout: usize,
    out_channel: impl Fn(usize) -> usize,
) -> QuantizedLayer {
    let mut max_abs = vec![0f32; cout];
    for (i, &w) in weight.iter().enumerate() {
        let c = out_channel(i);
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
            let s = shift[out_channel(i)];
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
    QuantizedLayer {
        weight,
        bias,
        shift,
    }
}

/// Adds `w * input` to `out`, element by element, wrapping.
#[inline]
fn axpy(out: &mut [i32], input: &[i32], w: i32) {
    for (o, &i) in out.iter_mut().zip(input) {
        *o = o.wrapping_add(w.wrapping_mul(i));
    }
}

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
    cin: usize,
    cout: usize,
    k: usize,
    layer: QuantizedLayer,
    activation: bool,
}

impl IntLayer {
    /// Checks sizes and value ranges (layers come from files) before accepting a layer.
    fn new(
        cin: usize,
        cout: usize,
        k: usize,
        layer: QuantizedLayer,
        activation: bool,
        name: &str,
    ) -> Result<Self, String> {
        if k.is_multiple_of(2) {
            return Err(format!("{name}: kernel size {k} must be odd"));
        }
        if layer.weight.len() != cin * cout * k * k
            || layer.bias.len() != cout
            || layer.shift.len() != cout
        {
            return Err(format!("{name}: wrong tensor sizes"));
        }
        if layer.weight.iter().any(|w| w.abs() > WEIGHT_LIMIT) {
            return Err(format!("{name}: a weight exceeds ±{WEIGHT_LIMIT}"));
        }
        if layer
            .shift
            .iter()
            .any(|&s| !(0..=MAX_SHIFT as i32).contains(&s))
        {
            return Err(format!("{name}: a shift is outside 0..={MAX_SHIFT}"));
        }
        Ok(Self {
            cin,
            cout,
            k,
            layer,
            activation,
        })
    }
}

/// A stride-1 `k x k` integer convolution with zero padding `k / 2`.
#[derive(Clone, Debug)]
pub struct IntConv2d(IntLayer);

impl IntConv2d {
    /// Wraps a quantised layer with weights `[cout, cin, k, k]`; `activation` applies LeakyReLU.
    ///
    /// # Errors
    /// A message if sizes or ranges are wrong.
    pub fn new(
        cin: usize,
        cout: usize,
        k: usize,
        layer: QuantizedLayer,
        activation: bool,
        name: &str,
    ) -> Result<Self, String> {
        IntLayer::new(cin, cout, k, layer, activation, name).map(Self)
    }

    /// Input channels.
    pub fn cin(&self) -> usize {
        self.0.cin
    }

    /// `[cin, h, w] -> [cout, h, w]`.
    pub fn forward(&self, x: &IntMap) -> IntMap {
        assert_eq!(x.c, self.0.cin, "IntConv2d input channels");
        let (h, w, k) = (x.h, x.w, self.0.k);
        let p = k / 2;
        let plane = h * w;
        let mut out = IntMap::zeros(self.0.cout, h, w);
        out.data
            .par_chunks_mut(plane.max(1))
            .enumerate()
            .for_each(|(co, acc)| {
                for ci in 0..self.0.cin {
                    let input = x.plane(ci);
                    for ky in 0..k {
                        for kx in 0..k {
                            let wv =
                                self.0.layer.weight[((co * self.0.cin + ci) * k + ky) * k + kx];
                            if wv == 0 {
                                continue;
                            }
                            // Output columns whose input column x + kx - p is inside the map.
                            let x0 = p.saturating_sub(kx);
                            let x1 = (w + p).saturating_sub(kx).min(w);
                            if x0 >= x1 {
                                continue;
                            }
                            for oy in 0..h {
                                let iy = oy + ky;
                                if iy < p || iy - p >= h {
                                    continue;
                                }
                                let iy = iy - p;
                                let ix0 = x0 + kx - p;
                                axpy(
                                    &mut acc[oy * w + x0..oy * w + x1],
                                    &input[iy * w + ix0..iy * w + ix0 + (x1 - x0)],
                                    wv,
                                );
                            }
                        }
                    }
                }
                finish_plane(
                    acc,
                    self.0.layer.bias[co],
                    self.0.layer.shift[co],
                    self.0.activation,
                );
            });
        out
    }
}

/// A stride-2 `k x k` integer transposed convolution (padding `k / 2`, output padding 1):
/// `[cin, h, w] -> [cout, 2h, 2w]`, the integer twin of [`crate::model`]'s `upconv`.
#[derive(Clone, Debug)]
pub struct IntConvTranspose2d(IntLayer);

impl IntConvTranspose2d {
    /// Wraps a quantised layer with weights `[cin, cout, k, k]` (burn's layout).
    ///
    /// # Errors
    /// A message if sizes or ranges are wrong.
    pub fn new(
        cin: usize,
        cout: usize,
        k: usize,
        layer: QuantizedLayer,
        activation: bool,
        name: &str,
    ) -> Result<Self, String> {
        IntLayer::new(cin, cout, k, layer, activation, name).map(Self)
    }

    /// `[cin, h, w] -> [cout, 2h, 2w]`. Output `o = 2 i + t - p` receives input `i` through
    /// tap `t`; each output parity class is accumulated in its own contiguous plane so the
    /// inner loop runs over whole rows, then the four planes are interleaved.
    pub fn forward(&self, x: &IntMap) -> IntMap {
        assert_eq!(x.c, self.0.cin, "IntConvTranspose2d input channels");
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
        out
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::module::{conv_transpose2d, conv2d};
    use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;
    use crate::model::SplitMix64;

    fn random(n: usize, scale: f32, rng: &mut SplitMix64) -> Vec<f32> {
        (0..n).map(|_| rng.next_signed_unit() * scale).collect()
    }

    /// Dequantised weights and biases: what the integer layer computes, in float.
    fn dequantize(
        q: &QuantizedLayer,
        out_channel: impl Fn(usize) -> usize,
    ) -> (Vec<f32>, Vec<f32>) {
        let w = q
            .weight
            .iter()
            .enumerate()
            .map(|(i, &v)| v as f32 / (1u32 << q.shift[out_channel(i)]) as f32)
            .collect();
        let b = q
            .bias
            .iter()
            .zip(&q.shift)
            .map(|(&v, &s)| v as f32 / (1u64 << (s + FRAC_BITS as i32)) as f32)
            .collect();
        (w, b)
    }

    /// A random fixed-point map with values up to `±magnitude`, and the same in float.
    fn input(
        c: usize,
        h: usize,
        w: usize,
        magnitude: f32,
        rng: &mut SplitMix64,
    ) -> (IntMap, Tensor<4>) {
        let data: Vec<i32> = (0..c * h * w)
            .map(|_| (rng.next_signed_unit() * magnitude * 256.0) as i32)
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
        assert!(largest > 1000 * crate::int::ONE, "largest output {largest}");
    }

    /// Checks three integer convolutions against burn's on inputs up to `±magnitude`; returns
    /// the largest output magnitude in fixed point.
    fn conv_matches_float_reference_at(magnitude: f32) -> i32 {
        let mut largest = 0;
        let mut rng = SplitMix64(1);
        for (cin, cout, k, h, w) in [(3, 4, 5, 7, 9), (5, 2, 3, 1, 6), (4, 3, 1, 5, 5)] {
            let wf = random(cout * cin * k * k, 0.4, &mut rng);
            let bf = random(cout, 0.5, &mut rng);
            let per_out = cin * k * k;
            let q = quantize_layer(&wf, &bf, cout, |i| i / per_out);
            let (dw, db) = dequantize(&q, |i| i / per_out);
            let layer = IntConv2d::new(cin, cout, k, q, false, "test").unwrap();
            let (x, xf) = input(cin, h, w, magnitude, &mut rng);
            let dev = Device::flex();
            let expected = conv2d(
                xf,
                Tensor::from_data(TensorData::new(dw, [cout, cin, k, k]), &dev),
                Some(Tensor::from_data(TensorData::new(db, [cout]), &dev)),
                ConvOptions::new([1, 1], [k / 2, k / 2], [1, 1], 1),
            );
            let out = layer.forward(&x);
            largest = out.data.iter().fold(largest, |m, v| m.max(v.abs()));
            assert_close(&out, expected);
        }
        largest
    }

    #[test]
    fn transposed_conv_matches_float_reference() {
        let mut rng = SplitMix64(2);
        for (cin, cout, k, h, w) in [(3, 4, 5, 3, 5), (2, 2, 3, 1, 1), (4, 1, 5, 4, 2)] {
            let wf = random(cin * cout * k * k, 0.4, &mut rng);
            let bf = random(cout, 0.5, &mut rng);
            let kk = k * k;
            let q = quantize_layer(&wf, &bf, cout, |i| (i / kk) % cout);
            let (dw, db) = dequantize(&q, |i| (i / kk) % cout);
            let layer = IntConvTranspose2d::new(cin, cout, k, q, false, "test").unwrap();
            let (x, xf) = input(cin, h, w, 8.0, &mut rng);
            let dev = Device::flex();
            let expected = conv_transpose2d(
                xf,
                Tensor::from_data(TensorData::new(dw, [cin, cout, k, k]), &dev),
                Some(Tensor::from_data(TensorData::new(db, [cout]), &dev)),
                ConvTransposeOptions::new([2, 2], [k / 2, k / 2], [1, 1], [1, 1], 1),
            );
            assert_close(&layer.forward(&x), expected);
        }
    }

    #[test]
    fn quantisation_uses_the_full_weight_range_and_is_exact() {
        let q = quantize_layer(&[0.5, -0.25, 0.0, 0.0], &[1.0, 0.0], 2, |i| i / 2);
        assert_eq!(q.shift, vec![10, MAX_SHIFT as i32]);
        assert_eq!(q.weight[0], 512);
        assert_eq!(q.weight[1], -256);
        assert_eq!(q.bias[0], 1 << (FRAC_BITS + 10));
        assert!(
            IntConv2d::new(
                1,
                1,
                1,
                QuantizedLayer {
                    weight: vec![WEIGHT_LIMIT + 1],
                    bias: vec![0],
                    shift: vec![0]
                },
                false,
                "bad"
            )
            .is_err()
        );
    }
}
