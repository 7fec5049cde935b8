//! Where a training step's time goes on the CPU (burn's flex backend, both cores): the whole step of `lic train` (forward, backward, Adam) on a model file's
//! weights, then the transforms' layers one by one at the shapes the step gives them.
//!
//! ```sh
//! cargo run --release --workspace --example step_profile -- MODEL.licm [--batch 8] [--crop 256]
//! ```
//!
//! Every parameter tracks its gradient, as in training; the layers' inputs track theirs too,
//! except the first convolution's (the image), whose gradient training never computes. The
//! single layers run with fresh weights: a layer's time does not depend on its values (their
//! forward times match the model's), only on whether gradients are tracked. Times are the
//! mean of `--reps` runs after one warm-up run. A measurement only: it never changes the model.

use std::time::Instant;

use burn::module::{Module, ModuleMapper, Param};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Distribution, Tensor};
use lic_codec::model::{LicModel, Quantization, SimplifiedGdn, SplitMix64};
use lic_codec::train::float_model;
use lic_codec::{Device, ModelFile};

type Failure = Box<dyn std::error::Error>;

/// Makes every parameter track its gradient, as `lic train` does.
struct Tracked;

impl ModuleMapper for Tracked {
    fn map_float<const D: usize>(&mut self, p: Param<Tensor<D>>) -> Param<Tensor<D>> {
        p.map(Tensor::require_grad)
    }
}

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
    let device = Device::flex().autodiff();
    let file = ModelFile::from_bytes(&std::fs::read(&args.model)?)?;
    let (info, model) = float_model(&file, &device)?;
    let model = model.map(&mut Tracked);
    let (n, m) = (
        info.architecture.transform_channels,
        info.architecture.latent_channels,
    );
    println!("{}: batch {b} of {c}x{c}, level 3", args.model);
    let x = Tensor::<4>::random([b, 3, c, c], Distribution::Uniform(0.0, 1.0), &device);
    let loss = |model: &LicModel| {
        let mut rng = SplitMix64(1);
        let out = model.forward_rd(x.clone(), 3, Quantization::Noise(&mut rng));
        out.bpp() + (out.x_hat - x.clone()).square().mean() * 100.0
    };

    println!("whole step");
    let forward = time("  forward (rates and distortion)", reps, || {
        let _ = loss(&model).into_scalar::<f32>();
    });
    let mut optim = AdamConfig::new()
        .with_epsilon(1e-8)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init();
    let mut trained = model.clone();
    let step = time("  forward + backward + Adam", reps, || {
        let grads = GradientsParams::from_grads(loss(&trained).backward(), &trained);
        trained = optim.step(1e-5, trained.clone(), grads);
    });
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
        let coded = model.code_latents(
            y.clone().require_grad(),
            z.clone(),
            Quantization::Noise(&mut rng),
        );
        let _ = coded.bpp().backward();
    });

    println!("analysis layers");
    for (i, (cin, cout)) in [(3, n), (n, n), (n, n), (n, m)].into_iter().enumerate() {
        let side = c >> i;
        let conv = Conv2dConfig::new([cin, cout], [5, 5])
            .with_stride([2, 2])
            .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
            .init(&device);
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
        let deconv = ConvTranspose2dConfig::new([cin, cout], [5, 5])
            .with_stride([2, 2])
            .with_padding([2, 2])
            .with_padding_out([1, 1])
            .init(&device);
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
