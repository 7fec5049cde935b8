//! Where a training step's time goes on the CPU (burn's flex backend, both cores): the step
//! of `lic train` itself (forward, backward, Adam; `Trainer::step`) from a model file, then
//! its networks and the transforms' layers one by one at the shapes the step gives them.
//!
//! ```sh
//! cargo run --release --workspace --example step_profile -- MODEL.licm [--batch 8] [--crop 256]
//! ```
//!
//! The pixels are random: a step's time does not depend on them. The model's parameters
//! track their gradients, as in training; the layers' inputs track theirs too, except the
//! first convolution's (the image), whose gradient training never computes. The single layers
//! are built as the model builds them (`model::conv`, `model::upconv`), with fresh weights:
//! a layer's time depends on its shape and on which gradients are tracked, not on its
//! values. Times are the mean of `--reps` runs after one warm-up run, which for the step
//! means `reps + 1` optimisation steps of a throwaway copy: a measurement only, it never
//! changes the model file.

use std::time::Instant;

use burn::tensor::{Distribution, Tensor, TensorData};
use lic_codec::internals::{SimplifiedGdn, conv, upconv};
use lic_codec::{Device, ModelFile, ModelInfo};
use lic_train::model::{Quantization, SplitMix64};
use lic_train::{Batch, TrainConfig, Trainer, model_lambdas};

type Failure = Box<dyn std::error::Error>;

/// Mean seconds of `reps` calls of `f` after one warm-up call, printed after `label`.
fn time(label: &str, reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    let s = start.elapsed().as_secs_f64() / reps as f64;
    println!("{label:<60} {s:>8.3} s");
    s
}

/// Forward, and forward + backward, of one layer on an input of `shape`.
fn layer(
    label: &str,
    shape: [usize; 4],
    input_grad: bool,
    reps: usize,
    device: &Device,
    forward: impl Fn(Tensor<4>) -> Tensor<4>,
) {
    let mut x = Tensor::<4>::random(shape, Distribution::Uniform(-1.0, 1.0), device);
    if input_grad {
        x = x.require_grad();
    }
    time(&format!("  {label}, forward"), reps, || {
        let _ = forward(x.clone()).sum().into_scalar::<f32>();
    });
    time(&format!("  {label}, forward + backward"), reps, || {
        let _ = forward(x.clone()).sum().backward();
    });
}

struct Args {
    model: String,
    batch: usize,
    crop: usize,
    reps: usize,
}

fn parse_args() -> Result<Args, Failure> {
    let mut model = None;
    let (mut batch, mut crop, mut reps): (usize, usize, usize) = (8, 256, 2);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--batch" => batch = value()?.parse()?,
            "--crop" => crop = value()?.parse()?,
            "--reps" => reps = value()?.parse()?,
            _ if model.is_none() && !a.starts_with('-') => model = Some(a),
            _ => return Err(format!("unexpected argument {a}").into()),
        }
    }
    let model = model.ok_or("usage: step_profile MODEL.licm [--batch B] [--crop C] [--reps R]")?;
    if crop == 0 || !crop.is_multiple_of(64) || batch == 0 || reps == 0 {
        return Err("the crop must be a multiple of 64, the batch and reps positive".into());
    }
    Ok(Args {
        model,
        batch,
        crop,
        reps,
    })
}

fn main() -> Result<(), Failure> {
    let args = parse_args()?;
    let (b, c, reps) = (args.batch, args.crop, args.reps);
    let device = Device::flex();
    let file = ModelFile::from_bytes(&std::fs::read(&args.model)?)?;
    let info = ModelInfo::from_file(&file)?;
    let (n, m) = (
        info.architecture.transform_channels,
        info.architecture.latent_channels,
    );
    let mut config = TrainConfig::new(info.architecture.clone());
    config.lambdas = model_lambdas(&info, None)?;
    let level = config.lambdas.len() / 2;
    config.batch = b;
    config.crop = c;
    // The step of `lic train` itself, on random pixels (a step's time does not depend on them).
    let mut trainer = Trainer::from_model(&file, None, config, "step-profile", &device)?;
    let pixels = Tensor::<1>::random([b * 3 * c * c], Distribution::Uniform(0.0, 1.0), &device);
    let batch = Batch {
        step: 0,
        data: pixels
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .map_err(|e| format!("{e:?}"))?,
        batch: b,
        crop: c,
    };
    println!("{}: batch {b} of {c}x{c}", args.model);
    println!("whole step of lic train");
    let mut failed = None;
    let step = time("  forward + backward + Adam", reps, || {
        if let Err(e) = trainer.step(&batch) {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        return Err(e.into());
    }
    let device = device.autodiff();
    let model = trainer.model();
    let x = Tensor::<4>::from_data(TensorData::new(batch.data.clone(), [b, 3, c, c]), &device);
    let forward = time(
        &format!("  forward alone (rates and distortion, level {level})"),
        reps,
        || {
            let mut rng = SplitMix64(1);
            let out = model.forward_rd(x.clone(), level, Quantization::Noise(&mut rng));
            let loss = out.bpp() + (out.x_hat - x.clone()).square().mean() * 100.0;
            let _ = loss.into_scalar::<f32>();
        },
    );
    println!("  backward + Adam: {:.3} s", step - forward);
    println!("  crops/s: {:.2}", b as f64 / step);

    let y = model.analysis.forward(x.clone()).detach();
    let z = model.hyper_analysis.forward(y.clone()).detach();
    println!("networks (forward + backward, parameters tracked)");
    time("  analysis g_a", reps, || {
        let _ = model.analysis.forward(x.clone()).square().sum().backward();
    });
    time("  synthesis g_s", reps, || {
        let _ = model
            .synthesis
            .forward(y.clone().require_grad())
            .square()
            .sum()
            .backward();
    });
    time("  entropy model (h_s, groups, rates)", reps, || {
        let mut rng = SplitMix64(1);
        let coded = model.latent_rates(
            y.clone().require_grad(),
            z.clone(),
            Quantization::Noise(&mut rng),
        );
        let _ = coded.bpp().backward();
    });

    println!("analysis layers");
    for (i, (cin, cout)) in [(3, n), (n, n), (n, n), (n, m)].into_iter().enumerate() {
        let side = c >> i;
        let conv = conv(cin, cout, 5, 2, &device);
        let label = format!("conv 5x5/2 {cin}->{cout} at {side}²");
        layer(&label, [b, cin, side, side], i > 0, reps, &device, |t| {
            conv.forward(t)
        });
        if i < 3 {
            let gdn = SimplifiedGdn::new(n, false, &device);
            let label = format!("GDN {n} at {}²", side / 2);
            layer(
                &label,
                [b, n, side / 2, side / 2],
                true,
                reps,
                &device,
                |t| gdn.forward(t),
            );
        }
    }
    println!("synthesis layers");
    for (i, (cin, cout)) in [(m, n), (n, n), (n, n), (n, 3)].into_iter().enumerate() {
        let side = c >> (4 - i);
        let deconv = upconv(cin, cout, 5, &device);
        let label = format!("transposed conv 5x5/2 {cin}->{cout} at {side}²");
        layer(&label, [b, cin, side, side], true, reps, &device, |t| {
            deconv.forward(t)
        });
        if i < 3 {
            let igdn = SimplifiedGdn::new(n, true, &device);
            let label = format!("inverse GDN {n} at {}²", 2 * side);
            layer(
                &label,
                [b, n, 2 * side, 2 * side],
                true,
                reps,
                &device,
                |t| igdn.forward(t),
            );
        }
    }
    Ok(())
}
