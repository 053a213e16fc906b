//! The command line: `greenroom serve`, `migrate`, `check-config` and
//! `secrets check`.

use crate::error::ServerError;
use crate::startup::{shutdown_signal, Application};
use clap::{Parser, Subcommand, ValueEnum};
use greenroom::config::{LogFormat, Overrides};
use greenroom::{Config, Storage};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Greenroom: one console for a web team's staging and production
/// (Netlify deploys, GitHub Actions, Supabase branches, secrets coverage).
///
/// With no vendor token in the environment, Greenroom runs against its
/// built-in sandbox. Configuration: greenroom.toml, GREENROOM_* variables,
/// then these flags (see greenroom.example.toml for every key).
#[derive(Debug, Parser)]
#[command(name = "greenroom", version, about, long_about)]
pub struct Cli {
    /// Config file (default: ./greenroom.toml if it exists).
    #[arg(long, global = true, env = "GREENROOM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format: pretty (terminal) or json (one object per line).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (migrates the database first).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:3000 (port 0: any free port).
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Directory for Greenroom's own files (the SQLite database).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// The compiled site (pkg/ and assets); default: site/ or ../site/ beside the binary.
        #[arg(long, env = "GREENROOM_SITE_DIR", value_name = "DIR")]
        site_dir: Option<PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate {
        /// Directory for Greenroom's own files (the SQLite database).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Load and validate the configuration, print a summary, and exit.
    CheckConfig,
    /// Secret coverage without the web server.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Check that every required key is present and non-empty in Netlify,
    /// GitHub Actions and (with --env-file) a .env.local; never prints a value.
    /// Exit 0: all present; 1: something required is missing or empty;
    /// 2: something could not be checked (permission, vendor down, bad input).
    Check {
        /// The project (its name in the config); optional when there is one.
        #[arg(long, value_name = "NAME")]
        project: Option<String>,
        /// A .env.local to check as well.
        #[arg(long, value_name = "FILE")]
        env_file: Option<PathBuf>,
        /// table (for people) or json (for scripts).
        #[arg(long, value_enum, default_value = "table")]
        format: crate::secrets_check::Format,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Pretty,
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(f: LogFormatArg) -> Self {
        match f {
            LogFormatArg::Pretty => LogFormat::Pretty,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

/// Runs the command; the exit code on success (the secrets check's verdict).
pub async fn run(cli: Cli) -> Result<u8, ServerError> {
    let mut overrides = Overrides {
        log_format: cli.log_format.map(Into::into),
        ..Overrides::default()
    };
    match &cli.command {
        Command::Serve {
            listen,
            data_dir,
            site_dir,
        } => {
            overrides.listen = *listen;
            overrides.data_dir = data_dir.clone();
            overrides.site_dir = site_dir.clone();
        }
        Command::Migrate { data_dir } => overrides.data_dir = data_dir.clone(),
        Command::CheckConfig | Command::Secrets { .. } => {}
    }
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    crate::telemetry::init(&config.log, matches!(cli.command, Command::Secrets { .. }));
    match cli.command {
        Command::Serve { .. } => {
            if config.mode == greenroom::Mode::Sandbox {
                tracing::info!(
                    "no vendor token is set: running in sandbox mode, all vendor data is simulated"
                );
            }
            let shutdown = shutdown_signal();
            let app = Application::build(config).await?;
            app.run_until(shutdown).await.map(|()| 0)
        }
        Command::Migrate { .. } => {
            let storage = Storage::connect(&config.database_url).await?;
            let applied = storage.migrate().await?;
            let ready = storage.readiness().await?;
            println!(
                "{} at {}: {applied} migration(s) applied now, {} of {} in total",
                ready.backend, ready.location, ready.migrations_applied, ready.migrations_expected
            );
            Ok(0)
        }
        Command::CheckConfig => {
            println!("configuration is valid");
            println!("  mode: {:?}", config.mode);
            println!(
                "  listen: {}  public url: {}",
                config.listen, config.public_url
            );
            println!(
                "  database: {}",
                greenroom::storage::redact_url(&config.database_url)
            );
            for p in &config.projects {
                println!(
                    "  project {}: {} ({}), Netlify {}",
                    p.name, p.github.repo, p.github.workflow, p.netlify.account_slug
                );
            }
            Ok(0)
        }
        Command::Secrets {
            command:
                SecretsCommand::Check {
                    project,
                    env_file,
                    format,
                },
        } => {
            crate::secrets_check::run(&config, project.as_deref(), env_file.as_deref(), format)
                .await
        }
    }
}
