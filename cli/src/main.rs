//! `lic`: the command-line front end. The only crate that parses arguments or prints.

mod codec_cmd;
mod info;
mod io;
mod model_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// lic: a learned image codec.
#[derive(Debug, Parser)]
#[command(name = "lic", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compress an image into a .lic file.
    Encode(codec_cmd::EncodeArgs),
    /// Decode a .lic file into an image.
    Decode(codec_cmd::DecodeArgs),
    /// Show a model: name, fingerprint, parameters, kMAC per pixel.
    Model(model_cmd::ModelInfoArgs),
    /// Show what a .lic file holds: header, model fingerprint, section sizes, bits per pixel.
    Info(info::InfoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Encode(args) => codec_cmd::run_encode(&args),
        Command::Decode(args) => codec_cmd::run_decode(&args),
        Command::Model(args) => model_cmd::run(&args),
        Command::Info(args) => info::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lic: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
