//! Structured logs with tracing: readable in a terminal by default, one JSON
//! object per line with `--log-format json`. `RUST_LOG` overrides the level.

use greenroom::config::{LogConfig, LogFormat};
use tracing_subscriber::EnvFilter;

/// `to_stderr` keeps stdout for a command's own output (the secrets check's
/// table or JSON); the server logs to stdout.
pub fn init(log: &LogConfig, to_stderr: bool) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = tracing_subscriber::fmt::writer::BoxMakeWriter::new(move || {
        if to_stderr {
            Box::new(std::io::stderr()) as Box<dyn std::io::Write>
        } else {
            Box::new(std::io::stdout())
        }
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(true);
    // A second init (tests build several servers in one process) is harmless.
    let _ = match log.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
