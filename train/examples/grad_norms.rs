//! How hard `lic train`'s gradient clipping bites: for each quality level, one training
//! step's gradient (the training proxy, `bpp + λ · 255² · MSE`) on a batch of centre crops,
//! and the L2 norm of every parameter tensor's gradient, set against the clip (1 by default,
//! per parameter tensor). A tensor whose norm is above the clip has its step shrunk by
//! that factor, so the levels whose gradients are clipped weigh less in training than their
//! λ says.
//!
//! ```sh
//! cargo run --release -p lic-codec --example grad_norms -- \
//!     MODEL.licm IMAGE... [--crop 256] [--clip 1]
//! ```
//!
//! A measurement only: it never changes the model.

use std::path::PathBuf;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use lic_codec::{Device, ModelFile, ModelInfo};
use lic_train::model::{Quantization, SplitMix64};
use lic_train::{TrainConfig, Trainer, model_lambdas, validation_crops};

type Failure = Box<dyn std::error::Error>;

/// Collects `(dotted path, gradient L2 norm)` for every float parameter that has a gradient.
struct Norms<'a> {
    grads: &'a GradientsParams,
    path: Vec<String>,
    out: Vec<(String, f64)>,
}

impl ModuleVisitor for Norms<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_owned());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let norm = f64::from(g.square().sum().into_scalar::<f32>()).sqrt();
            self.out.push((self.path.join("."), norm));
        }
    }
}

fn main() -> Result<(), Failure> {
    let mut positional = Vec::new();
    let (mut crop, mut clip): (usize, f64) = (256, 1.0);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--crop" => crop = value()?.parse()?,
            "--clip" => clip = value()?.parse()?,
            _ => positional.push(a),
        }
    }
    if positional.len() < 2 || crop == 0 || !crop.is_multiple_of(64) {
        return Err(
            "usage: grad_norms MODEL.licm IMAGE... [--crop C (multiple of 64)] [--clip X]".into(),
        );
    }
    let file = ModelFile::from_bytes(&std::fs::read(&positional[0])?)?;
    let device = Device::flex();
    let info = ModelInfo::from_file(&file)?;
    let mut config = TrainConfig::new(info.architecture.clone());
    config.lambdas = model_lambdas(&info, None)?;
    let trainer = Trainer::from_model(&file, None, config.clone(), "grad-norms", &device)?;
    let model = trainer.model();

    let files: Vec<PathBuf> = positional[1..].iter().map(PathBuf::from).collect();
    let crops = validation_crops(&files, crop)?;
    let b = crops.len();
    let x = Tensor::<4>::from_data(
        TensorData::new(crops.concat(), [b, 3, crop, crop]),
        &device.autodiff(),
    );
    println!(
        "model {}, {b} centre crops {crop}x{crop}, clip {clip} per parameter tensor",
        file.fingerprint()
    );
    for (level, &lambda) in config.lambdas.iter().enumerate() {
        let mut rng = SplitMix64(level as u64);
        let out = model.forward_rd(x.clone(), level, Quantization::Noise(&mut rng));
        let bpp = out.bpp();
        let mse = (out.x_hat - x.clone()).square().mean();
        let distortion = mse * (lambda * 255.0 * 255.0) as f32;
        let loss = bpp.clone() + distortion.clone();
        let (bpp_v, dist_v) = (bpp.into_scalar::<f32>(), distortion.into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), model);
        let mut norms = Norms {
            grads: &grads,
            path: Vec::new(),
            out: Vec::new(),
        };
        model.visit(&mut norms);
        // Largest first: the median, the count above the clip and the worst six from one sort.
        let mut worst = norms.out;
        worst.sort_by(|a, b| b.1.total_cmp(&a.1));
        let clipped = worst.iter().filter(|(_, n)| *n > clip).count();
        // The upper median, as in ascending order.
        let median = worst
            .len()
            .checked_sub(1 + worst.len() / 2)
            .map_or(0.0, |i| worst[i].1);
        println!(
            "level {level} (λ {lambda}): bpp {bpp_v:.3}, λ·255²·MSE {dist_v:.3}; {} tensors, \
             median norm {median:.3e}, {clipped} above the clip",
            worst.len()
        );
        for (path, n) in worst.iter().take(6) {
            println!("    {n:10.3e}  {path}");
        }
    }
    Ok(())
}
