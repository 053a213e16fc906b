//! `greenroom`: parse the command line and hand over to the server library.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = greenroom_server::cli::Cli::parse();
    match greenroom_server::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("greenroom: {e}");
            ExitCode::FAILURE
        }
    }
}
