//! `greenroom`: parse the command line and hand over to the server library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any thread exists: it decides how many heaps they share.
    greenroom::memory::limit_arenas();
    let cli = greenroom_server::cli::Cli::parse();
    // The secrets gate's own failures mean "could not check" (exit 2), not
    // "something is missing" (exit 1).
    let failure = match cli.command {
        greenroom_server::cli::Command::Secrets { .. } => ExitCode::from(2),
        _ => ExitCode::FAILURE,
    };
    // Blocking work (file reads for static assets, trend figures) needs few
    // threads on a small machine; tokio's default allows 512, and under
    // load each one that starts keeps its stack and heap for a while.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("greenroom: cannot start the async runtime: {e}");
            return failure;
        }
    };
    match runtime.block_on(greenroom_server::cli::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("greenroom: {e}");
            failure
        }
    }
}
