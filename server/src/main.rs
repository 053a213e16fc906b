//! `greenroom`: parse the command line and hand over to the server library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any thread exists: it decides how many heaps they share.
    greenroom::memory::limit_arenas();
    let cli = greenroom_server::cli::Cli::parse();
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
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(greenroom_server::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("greenroom: {e}");
            ExitCode::FAILURE
        }
    }
}
