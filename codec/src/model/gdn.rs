//! Simplified generalized divisive normalization (Johnston et al., "Computationally efficient
//! neural image compression", 2019): `y = x / (beta + gamma * |x|)` with a 1x1 channel mix,
//! and its inverse `y = x * (beta + gamma * |x|)` in the synthesis. Cheaper than Ballé's GDN
//! (no square root) and, in that paper, as good in rate-distortion.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};

/// Keeps the denominator positive whatever `beta` learns.
const BETA_FLOOR: f32 = 1e-4;

/// One (inverse) simplified GDN layer over `channels` channels.
#[derive(Module, Debug)]
pub struct SimplifiedGdn {
    /// `[C, C, 1, 1]`, used through `|gamma|`.
    pub gamma: Param<Tensor<4>>,
    /// `[C]`, used through `|beta| + 1e-4`.
    pub beta: Param<Tensor<1>>,
    /// Multiply instead of divide (the synthesis side).
    #[module(skip)]
    pub inverse: bool,
}

impl SimplifiedGdn {
    /// Identity-like start: `beta = 1`, `gamma = 0.1 I`.
    pub fn new(channels: usize, inverse: bool, device: &Device) -> Self {
        let mut g = vec![0f32; channels * channels];
        for c in 0..channels {
            g[c * channels + c] = 0.1;
        }
        let gamma = Tensor::<4>::from_data(TensorData::new(g, [channels, channels, 1, 1]), device);
        let beta = Tensor::<1>::ones([channels], device);
        Self {
            gamma: Param::from_tensor(gamma),
            beta: Param::from_tensor(beta),
            inverse,
        }
    }

    /// `[B, C, H, W] -> [B, C, H, W]`.
    ///
    /// The channel mix is a 1x1 convolution written as a batched matrix product over the
    /// `H * W` positions: on flex it gives the convolution's values bit for bit at 30–40 %
    /// less time forward and backward (`train/examples/step_profile.rs`, docs/RESULTS.md),
    /// which matters at the full-resolution layers of training.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let gamma = self.gamma.val().abs().reshape([1, c, c]).expand([b, c, c]);
        let beta = (self.beta.val().abs() + BETA_FLOOR).reshape([1, c, 1]);
        let norm =
            (gamma.matmul(x.clone().abs().reshape([b, c, h * w])) + beta).reshape([b, c, h, w]);
        if self.inverse { x * norm } else { x / norm }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;
    use burn::tensor::module::conv2d;
    use burn::tensor::ops::ConvOptions;

    use super::*;

    /// The layer as the 1x1 convolution it stands for.
    fn by_convolution(gdn: &SimplifiedGdn, x: Tensor<4>) -> Tensor<4> {
        let norm = conv2d(
            x.clone().abs(),
            gdn.gamma.val().abs(),
            Some(gdn.beta.val().abs() + BETA_FLOOR),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        );
        if gdn.inverse { x * norm } else { x / norm }
    }

    fn bits(t: Tensor<4>) -> Vec<u32> {
        let v = t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        v.iter().map(|f| f.to_bits()).collect()
    }

    /// Trained models were exported with the convolution; the matrix product must decode
    /// them to the same pixels on the CPU, so encoded files and their golden hashes stay put.
    #[test]
    fn the_matrix_product_gives_the_convolution_s_values_bit_for_bit_on_flex() {
        let device = Device::flex();
        // Small odd shapes, and the channel counts of lic's architectures (96, 128) at sizes
        // where the matrix products are blocked as in training and decoding.
        for (inverse, [b, c, h, w]) in [
            (false, [2, 12, 9, 7]),
            (true, [1, 24, 16, 33]),
            (false, [2, 96, 32, 40]),
            (true, [1, 96, 64, 48]),
            (false, [1, 128, 48, 40]),
            (true, [2, 128, 24, 32]),
        ] {
            let mut gdn = SimplifiedGdn::new(c, inverse, &device);
            gdn.gamma = Param::from_tensor(Tensor::random(
                [c, c, 1, 1],
                Distribution::Uniform(-0.3, 0.3),
                &device,
            ));
            gdn.beta = Param::from_tensor(Tensor::random(
                [c],
                Distribution::Uniform(-2.0, 2.0),
                &device,
            ));
            let x = Tensor::<4>::random([b, c, h, w], Distribution::Uniform(-4.0, 4.0), &device);
            let expected = bits(by_convolution(&gdn, x.clone()));
            assert_eq!(bits(gdn.forward(x)), expected, "inverse {inverse}");
        }
    }

    #[test]
    fn the_matrix_product_s_gradients_match_the_convolution_s() {
        let device = Device::flex().autodiff();
        let mut gdn = SimplifiedGdn::new(8, false, &device);
        gdn.gamma = Param::from_tensor(
            Tensor::random([8, 8, 1, 1], Distribution::Uniform(-0.3, 0.3), &device).require_grad(),
        );
        let x = Tensor::<4>::random([2, 8, 5, 6], Distribution::Uniform(-4.0, 4.0), &device)
            .require_grad();
        let gradients = |y: Tensor<4>| {
            let grads = y.square().sum().backward();
            let gx = x
                .grad(&grads)
                .unwrap()
                .to_data()
                .convert::<f32>()
                .try_to_vec::<f32>();
            let gg = gdn
                .gamma
                .val()
                .grad(&grads)
                .unwrap()
                .to_data()
                .convert::<f32>();
            (gx.unwrap(), gg.try_to_vec::<f32>().unwrap())
        };
        let (gx, gg) = gradients(gdn.forward(x.clone()));
        let (ex, eg) = gradients(by_convolution(&gdn, x.clone()));
        for (a, e) in gx.iter().zip(&ex).chain(gg.iter().zip(&eg)) {
            assert!((a - e).abs() <= 1e-5 * (1.0 + e.abs()), "{a} against {e}");
        }
        assert!(gg.iter().any(|g| g.abs() > 1e-3), "gamma gets a gradient");
    }
}
