//! `mplamps`: the command line of the power-aware GMPLS control plane.
#![forbid(unsafe_code)]

mod cmd;
mod table;

use std::process::ExitCode;

use clap::Parser;

/// A simulated area holds millions of small LSA handles and list entries; mimalloc's
/// size-class pages serve them much faster than the system allocator (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output closed it (`| head`): nothing is left to tell it.
        Err(err) if reader_went_away(&err) => ExitCode::SUCCESS,
        Err(err) if err.is::<cmd::NotConverged>() => {
            eprintln!("{err}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn reader_went_away(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
