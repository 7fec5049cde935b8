//! Whether a model uses its latent channels: on 256² centre crops of the given images, for
//! each quality level and each of the M channels, the standard deviation of the analysis'
//! output after the gain (in quantisation steps), how often it rounds to a nonzero value, and
//! the PSNR lost when the synthesis gets that channel as zero. A channel that rounds to zero
//! almost everywhere, or whose loss costs nothing, is capacity the model does not use.
//! (The latent is rounded as `round(y)`, the entropy model left out; the codec rounds around
//! the predicted mean, which moves single symbols, not a channel's scale.)
//!
//! ```sh
//! cargo run --release --workspace --example channel_use -- MODEL.licm IMAGE.png...
//! ```
//!
//! A measurement only: it never changes the model.

use std::path::PathBuf;

use burn::tensor::{Tensor, TensorData};
use lic_codec::{Device, ModelFile};
use lic_train::FloatModel;
use lic_train::{float_model, validation_crops};

type Failure = Box<dyn std::error::Error>;

fn values(t: Tensor<4>) -> Result<Vec<f32>, Failure> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| format!("{e:?}").into())
}

/// One latent channel at one quality level.
struct ChannelUse {
    /// Standard deviation of `y · gain`, in quantisation steps.
    spread: f64,
    /// Fraction of positions where it rounds to a nonzero value.
    nonzero: f64,
    /// PSNR lost when the synthesis gets the channel as zero, in dB.
    loss_db: f64,
}

fn min_median_max(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        return Err("usage: channel_use MODEL.licm IMAGE...".into());
    }
    let file = ModelFile::from_bytes(&std::fs::read(&args[0])?)?;
    let device = Device::flex();
    let (_, model) = float_model(&file, &device)?;
    let files: Vec<PathBuf> = args[1..].iter().map(PathBuf::from).collect();
    let c = 256;
    let crops = validation_crops(&files, c)?;
    let n = crops.len();
    let x = Tensor::<4>::from_data(TensorData::new(crops.concat(), [n, 3, c, c]), &device);
    let [levels, m] = model.gains.gain.val().dims();
    let mse = |a: Tensor<4>| -> f64 {
        let d = (a.clamp(0.0, 1.0) - x.clone()).powf_scalar(2.0).mean();
        f64::from(d.into_scalar::<f32>())
    };
    for level in (0..levels).rev() {
        let gain = FloatModel::gain_row(model.gains.gain.val(), level);
        let inverse = FloatModel::gain_row(model.gains.inverse.val(), level);
        let y = model.analysis.forward(x.clone()) * gain;
        let yv = values(y.clone())?;
        let [_, _, h, w] = y.dims();
        let y_hat = y.round();
        let base = mse(model.synthesis.forward(y_hat.clone() * inverse.clone()));
        let psnr = |e: f64| 10.0 * (1.0 / e).log10();
        println!("level {level}: all channels {:.2} dB", psnr(base));
        let mut channels = Vec::with_capacity(m);
        for ch in 0..m {
            let mut mask = vec![1f32; m];
            mask[ch] = 0.0;
            let mask = Tensor::<4>::from_data(TensorData::new(mask, [1, m, 1, 1]), &device);
            let without = mse(model
                .synthesis
                .forward(y_hat.clone() * inverse.clone() * mask));
            let plane = |b: usize| &yv[(b * m + ch) * h * w..(b * m + ch + 1) * h * w];
            let values: Vec<f64> = (0..n).flat_map(plane).map(|&v| f64::from(v)).collect();
            let count = values.len() as f64;
            let mean = values.iter().sum::<f64>() / count;
            let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
            channels.push(ChannelUse {
                spread: variance.sqrt(),
                nonzero: values.iter().filter(|v| v.round() != 0.0).count() as f64 / count,
                loss_db: psnr(base) - psnr(without),
            });
        }
        let silent = channels.iter().filter(|c| c.nonzero < 0.01).count();
        let idle = channels.iter().filter(|c| c.loss_db < 0.01).count();
        let (s0, s1, s2) = min_median_max(channels.iter().map(|c| c.spread));
        let (d0, d1, d2) = min_median_max(channels.iter().map(|c| c.loss_db));
        println!(
            "  {silent} of {m} channels with under 1 % nonzero symbols, {idle} whose loss costs \
             under 0.01 dB; std {s0:.2} / {s1:.2} / {s2:.2} steps, loss {d0:.3} / {d1:.3} / \
             {d2:.3} dB (min / median / max)"
        );
    }
    Ok(())
}
