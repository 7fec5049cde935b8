//! `lic`: the command-line front end. The only crate that parses arguments or prints.

mod batch;
mod bd_cmd;
mod codec_cmd;
mod eval_cmd;
mod info;
mod io;
mod model_cmd;
mod temporal_cmd;
mod train_cmd;
mod video_cmd;

use std::io::Write;
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
    /// Measure rate-distortion on a folder of images (real files), against JPEG and VTM.
    Eval(eval_cmd::EvalArgs),
    /// Bjøntegaard delta rate between RD curves (CompressAI results layout).
    BdRate(bd_cmd::BdRateArgs),
    /// Train a model (rate + lambda * distortion over one lambda per quality level).
    Train(train_cmd::TrainArgs),
    /// Train the temporal networks of video inter frames on a frozen model (from clips).
    TrainTemporal(temporal_cmd::TemporalArgs),
    /// List the held-out source photos of training folders (or the training files).
    Split(train_cmd::SplitArgs),
    /// Turn a training run's checkpoint into a deployable model file.
    Export(train_cmd::ExportArgs),
    /// Average the weights of checkpoints and models into a new run (weight averaging).
    Average(train_cmd::AverageArgs),
    /// Show what a .lic file holds: header, model fingerprint, section sizes, bits per pixel.
    Info(info::InfoArgs),
}

/// glibc's malloc gives every freed block above its (adaptive) threshold back to the kernel,
/// and burn allocates and frees tensors of megabytes at every layer, so the kernel spends
/// its time zero-filling fresh pages: before this, about a third of a training step's and
/// 40 % of a refined encode's CPU time was system time (docs/RESULTS.md, "The allocator").
/// Keeping freed memory in the heap costs no more peak memory, since the peak is reached
/// anyway.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn keep_freed_memory() {
    // SAFETY: `mallopt` only sets glibc's malloc parameters, which it takes under malloc's
    // own lock; it is called first thing in `main`, and its failure (an unsupported value)
    // leaves the defaults in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20); // glibc's largest on 64-bit
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 256 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Encode(args) => codec_cmd::run_encode(&args),
        Command::Decode(args) => codec_cmd::run_decode(&args),
        Command::Model(args) => model_cmd::run(&args),
        Command::Info(args) => info::run(&args),
        Command::Eval(args) => eval_cmd::run(&args),
        Command::BdRate(args) => bd_cmd::run(&args),
        Command::Train(args) => train_cmd::run_train(&args),
        Command::Split(args) => train_cmd::run_split(&args),
        Command::TrainTemporal(args) => temporal_cmd::run(&args),
        Command::Export(args) => train_cmd::run_export(&args),
        Command::Average(args) => train_cmd::run_average(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lic: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Standard output for `writeln!(out(), ...)`: unlike `println!`, it does not panic when
/// stdout is closed (`lic model | head -1`). A closed pipe ends the program quietly with the
/// status a SIGPIPE would give; any other write error is reported.
pub(crate) fn out() -> Out {
    Out
}

/// See [`out`].
pub(crate) struct Out;

impl Out {
    /// What `write!`/`writeln!` call.
    pub(crate) fn write_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(141);
            }
            eprintln!("lic: error: cannot write to stdout: {e}");
            std::process::exit(1);
        }
    }
}
