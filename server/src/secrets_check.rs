//! `greenroom secrets check`: the coverage engine without the web server, as
//! a CI gate. Exit 0: every requirement is present and non-empty; 1: one is
//! missing or empty; 2: something could not be checked. Never prints a value:
//! what it prints comes from the engine's value-free report.

use crate::error::ServerError;
use greenroom::config::Project;
use greenroom::secrets::coverage::{Check, Coverage, Outcome, RowGroup};
use greenroom::secrets::discover::dotenv;
use greenroom::secrets::{coverage, gather, Cell, FingerprintKey, Verdict};
use greenroom::{Config, Mode};
use std::fmt::Write as _;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// The project asked for, or the only one.
fn pick<'a>(config: &'a Config, name: Option<&str>) -> Result<&'a Project, ServerError> {
    let names = || {
        config
            .projects
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(n) => config
            .projects
            .iter()
            .find(|p| p.name.as_str().eq_ignore_ascii_case(n))
            .ok_or_else(|| {
                ServerError::Check(format!("no project named {n:?}; configured: {}", names()))
            }),
        None if config.projects.len() == 1 => Ok(&config.projects[0]),
        None => Err(ServerError::Check(format!(
            "name a project with --project: {}",
            names()
        ))),
    }
}

/// Reads a `.env.local` from disk, refusing what is too large to be one.
fn read_env_file(path: &Path) -> Result<dotenv::EnvFile, ServerError> {
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| ServerError::Check(format!("cannot read {shown}: {e}")))?;
    if meta.len() > dotenv::MAX_BYTES as u64 {
        return Err(ServerError::Check(format!(
            "{shown} is larger than {} KiB; a .env file is not",
            dotenv::MAX_BYTES / 1024
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| ServerError::Check(format!("cannot read {shown}: {e}")))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".env.local".into());
    Ok(dotenv::parse(&name, &text))
}

/// Runs the check and prints it; returns the exit code.
pub async fn run(
    config: &Config,
    project: Option<&str>,
    env_file: Option<&Path>,
    format: Format,
) -> Result<u8, ServerError> {
    let project = pick(config, project)?;
    let env = env_file.map(read_env_file).transpose()?;
    let sandbox = match config.mode {
        Mode::Sandbox => Some(crate::startup::start_sandbox().await?),
        Mode::Live => None,
    };
    let base = sandbox.as_ref().map(|s| s.base_url());
    let clients = greenroom::providers::VendorClients::from_config(config, base.as_deref())
        .map_err(|e| ServerError::Vendors(e.to_string()))?;
    let sources = gather::gather(project, &clients.netlify, &clients.github).await;
    if let Some(s) = sandbox {
        s.stop().await;
    }
    // A key for this run only: letters compare values within one report.
    let key = FingerprintKey::random();
    let report = coverage(&Check {
        project,
        sources: &sources,
        env_local: env.as_ref(),
        key: &key,
    });
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".into()),
        Format::Table => table(&report, config.mode),
    };
    println!("{text}");
    Ok(report.outcome.exit_code() as u8)
}

fn symbol(cell: &Cell) -> String {
    match cell {
        Cell::Readable { group: Some(g) } => g.clone(),
        Cell::Readable { group: None } => "~".into(),
        Cell::WriteOnly { .. } => "#".into(),
        Cell::Placeholder { .. } => "!".into(),
        Cell::Absent => ".".into(),
        Cell::Unknown { .. } => "?".into(),
    }
}

/// The report for a terminal: a legend of columns, the matrix, the unmet
/// requirements, the findings and the result.
pub fn table(r: &Coverage, mode: Mode) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Secret coverage of {}{}",
        r.project,
        if mode == Mode::Sandbox {
            " (sandbox: simulated vendors)"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "\nColumns:");
    for (i, c) in r.columns.iter().enumerate() {
        let _ = writeln!(out, "  {:>2}  {}", i + 1, c.label);
    }
    if !r.env_local_checked {
        let _ = writeln!(
            out,
            "  (.env.local not checked: pass --env-file to include it)"
        );
    }
    let width = r
        .rows
        .iter()
        .map(|row| row.key.len())
        .max()
        .unwrap_or(3)
        .max(3);
    let _ = write!(out, "\n{:width$}  {:10}", "KEY", "");
    for i in 0..r.columns.len() {
        let _ = write!(out, " {:>2}", i + 1);
    }
    out.push('\n');
    for row in &r.rows {
        let group = match row.group {
            RowGroup::Required => "required",
            RowGroup::Discovered => "discovered",
            RowGroup::Unrequired => "unrequired",
        };
        let _ = write!(out, "{:width$}  {group:10}", row.key);
        for cell in &row.cells {
            let _ = write!(out, " {:>2}", symbol(cell));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nA, B, ...: readable, same letter = same value   #: write-only (set; value never returned)\n!: empty or placeholder   .: absent   ?: unknown (could not be read)   ~: not compared ($ expansion)"
    );

    let unmet: Vec<_> = r
        .rows
        .iter()
        .flat_map(|row| row.needs.iter().map(move |n| (row, n)))
        .filter(|(_, n)| n.verdict != Verdict::Present)
        .collect();
    if !unmet.is_empty() {
        let _ = writeln!(out, "\nRequirements not met:");
        for (row, n) in unmet {
            let what = match n.verdict {
                Verdict::Missing => "missing",
                Verdict::Empty => "empty or placeholder",
                Verdict::Unknown => "unknown",
                Verdict::Present => continue,
            };
            let _ = writeln!(
                out,
                "  {:<20} {} in {} (from {})",
                what, row.key, n.target, n.origin
            );
        }
    }
    if !r.findings.is_empty() {
        let _ = writeln!(out, "\nFindings:");
        for f in &r.findings {
            let _ = writeln!(out, "  [{:?}] {}", f.severity, f.title);
            let _ = writeln!(out, "      {}", f.detail);
            if let Some(fix) = &f.fix {
                let _ = writeln!(out, "      fix: {fix}");
            }
        }
    }
    let _ = writeln!(
        out,
        "\nResult: {} (exit {})",
        match r.outcome {
            Outcome::Ok => "every requirement is present and non-empty",
            Outcome::Missing => "something required is missing or empty",
            Outcome::Unchecked =>
                "nothing is known to be missing, but some stores or files could not be read",
        },
        r.outcome.exit_code()
    );
    out
}
