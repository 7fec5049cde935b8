//! Where a model's quality ceiling comes from: the PSNR of a centre crop reconstructed by the
//! synthesis from (a) the analysis's latent rounded, as the codec codes it, (b) the same
//! latent unrounded, and (c) a latent optimised for MSE alone by Adam through the synthesis,
//! with no rate at all. (a) ≈ (b) says quantisation costs nothing at that level; (c) close to
//! (b) says the synthesis itself, not the analysis or the entropy model, bounds the quality.
//!
//! ```sh
//! cargo run --release -p lic-codec --example synthesis_ceiling -- \
//!     MODEL.licm IMAGE.png [--crop 256] [--steps 150] [--lr 0.1]
//! ```
//!
//! A measurement only: it never changes the model.

use std::path::PathBuf;

use burn::tensor::{Tensor, TensorData};
use lic_codec::{ColorFormat, Device, Image, ModelFile};
use lic_eval::metrics;
use lic_train::FloatModel;
use lic_train::{float_model, validation_crops};

type Failure = Box<dyn std::error::Error>;

struct Args {
    model: String,
    image: String,
    crop: usize,
    steps: usize,
    lr: f32,
}

fn parse_args() -> Result<Args, Failure> {
    let mut positional = Vec::new();
    let (mut crop, mut steps, mut lr): (usize, usize, f32) = (256, 150, 0.1);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--crop" => crop = value()?.parse()?,
            "--steps" => steps = value()?.parse()?,
            "--lr" => lr = value()?.parse()?,
            _ => positional.push(a),
        }
    }
    let [model, image] = <[String; 2]>::try_from(positional).map_err(
        |_| "usage: synthesis_ceiling MODEL.licm IMAGE [--crop C] [--steps N] [--lr LR]",
    )?;
    if crop == 0 || !crop.is_multiple_of(16) {
        return Err("--crop must be a positive multiple of 16".into());
    }
    Ok(Args {
        model,
        image,
        crop,
        steps,
        lr,
    })
}

fn values(t: Tensor<4>) -> Result<Vec<f32>, Failure> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| format!("{e:?}").into())
}

/// A `[1, 3, c, c]` reconstruction in `[0, 1]` as the 8-bit image the codec would output.
fn to_image(planar: &[f32], c: usize) -> Result<Image, Failure> {
    let mut rgb = vec![0u8; 3 * c * c];
    for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
        for (ch, v) in px.iter_mut().enumerate() {
            *v = (planar[ch * c * c + i].clamp(0.0, 1.0) * 255.0).round() as u8;
        }
    }
    Ok(Image::new(c as u32, c as u32, ColorFormat::Rgb8, rgb)?)
}

fn main() -> Result<(), Failure> {
    let args = parse_args()?;
    let file = ModelFile::from_bytes(&std::fs::read(&args.model)?)?;
    let device = Device::flex();
    // The deployable model's float networks, as `lic train --init` rebuilds them.
    let ad = device.autodiff();
    let (_, model) = float_model(&file, &ad)?;

    // The centre crop, as a run's validation cuts it; its values are exact multiples of
    // 1/255, so `to_image` gives back the 8-bit crop itself.
    let c = args.crop;
    let planar = validation_crops(&[PathBuf::from(&args.image)], c)?.remove(0);
    let reference = to_image(&planar, c)?;
    let x = Tensor::<4>::from_data(TensorData::new(planar, [1, 3, c, c]), &ad);
    println!(
        "{} centre {c}x{c}, model {}",
        args.image,
        file.fingerprint()
    );

    let [levels, _] = model.gains.gain.val().dims();
    for level in (0..levels).rev() {
        let row = |t: Tensor<2>| FloatModel::gain_row(t, level).detach();
        let (gain, inverse) = (row(model.gains.gain.val()), row(model.gains.inverse.val()));
        let y = (model.analysis.forward(x.clone()) * gain).detach();
        let rounded = values(model.synthesis.forward(y.clone().round() * inverse.clone()))?;
        let latent = y * inverse;
        let unrounded = values(model.synthesis.forward(latent.clone()))?;

        // Adam on the synthesis input, MSE only (no rate).
        let shape = latent.dims();
        let mut v = values(latent)?;
        let (mut m1, mut m2) = (vec![0f32; v.len()], vec![0f32; v.len()]);
        for step in 1..=args.steps {
            let t = Tensor::<4>::from_data(TensorData::new(v.clone(), shape), &ad).require_grad();
            let out = model.synthesis.forward(t.clone());
            let loss = (out - x.clone()).powf_scalar(2.0).mean();
            let grads = loss.backward();
            let g = values(t.grad(&grads).ok_or("no gradient")?)?;
            let (b1, b2) = (
                1.0 - 0.9f32.powi(step as i32),
                1.0 - 0.999f32.powi(step as i32),
            );
            for k in 0..v.len() {
                m1[k] = 0.9 * m1[k] + 0.1 * g[k];
                m2[k] = 0.999 * m2[k] + 0.001 * g[k] * g[k];
                v[k] -= args.lr * (m1[k] / b1) / ((m2[k] / b2).sqrt() + 1e-8);
            }
        }
        let v = Tensor::<4>::from_data(TensorData::new(v, shape), &ad);
        let optimised = values(model.synthesis.forward(v))?;
        let psnr = |v: &[f32]| -> Result<f64, Failure> {
            Ok(metrics::psnr(&to_image(v, c)?, &reference)?)
        };
        println!(
            "level {level}: rounded {:.2} dB, unrounded {:.2} dB, \
             latent optimised for MSE ({} steps) {:.2} dB",
            psnr(&rounded)?,
            psnr(&unrounded)?,
            args.steps,
            psnr(&optimised)?
        );
    }
    Ok(())
}
