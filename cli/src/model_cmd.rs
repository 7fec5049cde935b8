//! `lic model`: what a model is: name, fingerprint, architecture, size and cost.

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::codec_cmd::ModelArgs;
use crate::out;

#[derive(Debug, Args)]
pub struct ModelInfoArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    name: &'a str,
    fingerprint: String,
    /// The temporal networks' fingerprint (video inter frames), if the model has them.
    temporal_fingerprint: Option<String>,
    parameters: usize,
    architecture: &'a lic_codec::Architecture,
    /// λ of each quality level in training, where the file records it.
    lambdas: Option<&'a [f64]>,
    kmac_per_pixel: Kmac,
}

#[derive(Serialize)]
struct Kmac {
    analysis: f64,
    hyper_analysis: f64,
    entropy_params: f64,
    synthesis: f64,
    encoder: f64,
    decoder: f64,
}

pub fn run(args: &ModelInfoArgs) -> Result<()> {
    let model = args.model.load()?;
    let c = model.architecture().complexity();
    let k = |v: f64| (v / 100.0).round() / 10.0;
    let report = Report {
        name: &model.info().name,
        fingerprint: model.fingerprint().to_string(),
        temporal_fingerprint: model.temporal_fingerprint().map(|f| f.to_string()),
        parameters: model.parameters(),
        architecture: model.architecture(),
        lambdas: model.info().lambdas.as_deref(),
        kmac_per_pixel: Kmac {
            analysis: k(c.analysis),
            hyper_analysis: k(c.hyper_analysis),
            entropy_params: k(c.entropy_params),
            synthesis: k(c.synthesis),
            encoder: k(c.encoder()),
            decoder: k(c.decoder()),
        },
    };
    if args.json {
        writeln!(out(), "{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let a = report.architecture;
    writeln!(out(), "model            {}", report.name);
    writeln!(out(), "fingerprint      {}", report.fingerprint);
    writeln!(
        out(),
        "video            {}",
        report.temporal_fingerprint.as_ref().map_or_else(
            || "intra frames only (no temporal networks)".to_owned(),
            |f| format!("inter frames (temporal networks {f})")
        )
    );
    writeln!(out(), "parameters       {}", report.parameters);
    writeln!(
        out(),
        "architecture     N={} M={} Z={} groups={:?} quality levels={}",
        a.transform_channels,
        a.latent_channels,
        a.hyper_channels,
        a.groups,
        a.quality_levels
    );
    match report.lambdas {
        Some(l) => writeln!(out(), "trained at λ     {l:?}"),
        None => writeln!(out(), "trained at λ     (not recorded)"),
    }
    let m = &report.kmac_per_pixel;
    writeln!(
        out(),
        "kMAC/pixel       encoder {} (analysis {}, hyper-analysis {}, entropy {})",
        m.encoder,
        m.analysis,
        m.hyper_analysis,
        m.entropy_params
    );
    writeln!(
        out(),
        "                 decoder {} (entropy {}, synthesis {})",
        m.decoder,
        m.entropy_params,
        m.synthesis
    );
    Ok(())
}
