//! `lic`: the command-line front end. The only crate that parses arguments or prints.

mod info;

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
    /// Show what a .lic file holds: header, model fingerprint, section sizes, bits per pixel.
    Info(info::InfoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
