//! `greenroom-sandbox`: serve the vendor simulator on its own.

use clap::Parser;
use greenroom_sandbox::World;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A local simulator of the Netlify, GitHub, Supabase and Slack APIs that
/// Greenroom uses, on one loopback port (vendors under /netlify, /github,
/// /supabase, /slack; control API under /__sandbox).
#[derive(Parser)]
#[command(name = "greenroom-sandbox", version, about)]
struct Cli {
    /// Loopback address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:4010", value_name = "ADDR")]
    listen: SocketAddr,
    /// A world file (JSON, the shape of GET /__sandbox/world) instead of the seeded world.
    #[arg(long, env = "GREENROOM_SANDBOX_WORLD", value_name = "FILE")]
    world: Option<PathBuf>,
    /// Seed of the generated world.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let world = match &cli.world {
        Some(path) => match World::load(path) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("greenroom-sandbox: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => World::seeded(cli.seed),
    };
    let sandbox = match greenroom_sandbox::start(cli.listen, world).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("greenroom-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", sandbox.base_url());
    let _ = tokio::signal::ctrl_c().await;
    sandbox.stop().await;
    ExitCode::SUCCESS
}
