//! What the matrix means, worst first: a service-role key the browser would
//! get, required keys missing or empty, values that should agree and do
//! not, secrets stored readable, scanning switched off, copies rotated in
//! one place only, files that could not be read. Each finding names the
//! key and the stores, never a value, and links to where it is fixed.

use super::coverage::{link, Cell, Check, Coverage, Verdict};
use super::jwt;
use super::location::Location;
use super::sources::Read;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Copies of one write-only key updated further apart than this look like
/// a rotation that reached only some stores.
const ROTATION_DRIFT_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable across checks while the cause stays, so it can be dismissed.
    pub id: String,
    pub severity: Severity,
    pub key: Option<String>,
    pub title: String,
    pub detail: String,
    /// Where to fix it.
    pub fix: Option<String>,
    /// The matrix's columns (by index) it is about; empty when it is about
    /// no one store (a file that could not be read). The page's location
    /// filter keeps the findings about that column.
    #[serde(default)]
    pub columns: Vec<usize>,
}

pub(super) struct Context<'a, 'b> {
    pub check: &'a Check<'b>,
    pub coverage: &'a Coverage,
    /// Per row, the readable (non-placeholder) values by column. Only read
    /// here to recognise a JWT's role; never copied into a finding.
    pub values: &'a [Vec<(usize, &'a str)>],
    pub consistent: &'a [String],
}

/// Keys a Vite build inlines into the JavaScript it ships.
fn is_browser_key(key: &str) -> bool {
    key.starts_with("VITE_")
}

/// Whether a Netlify column's value of `key` reaches builds: a value from
/// `netlify.toml` always does, a UI variable when its scopes say so.
fn in_builds_scope(cx: &Context<'_, '_>, at: &Location, key: &str) -> bool {
    let Location::Netlify { site, .. } = at else {
        return false;
    };
    let var = cx
        .check
        .sources
        .netlify
        .iter()
        .filter(|(s, _)| s == site)
        .filter_map(|(_, read)| read.ok())
        .flatten()
        .find(|v| v.key == key);
    var.is_none_or(|v| v.has_scope("builds"))
}

fn labels(c: &Coverage, cols: &[usize]) -> String {
    cols.iter()
        .map(|&i| c.columns[i].label.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn findings(cx: &Context<'_, '_>) -> Vec<Finding> {
    let c = cx.coverage;
    let mut out = Vec::new();
    let fix_at = |i: usize| c.columns[i].link.clone();

    for (r, row) in c.rows.iter().enumerate() {
        let key = &row.key;
        let values = &cx.values[r];

        // 1. A service-role key where the browser can get it: a `VITE_`
        // variable anywhere, or any Netlify variable builds can read (what a
        // build reads can end up in what it ships).
        let service_role: Vec<usize> = values
            .iter()
            .filter(|(_, v)| jwt::is_service_role(v))
            .map(|(i, _)| *i)
            .collect();
        let exposed: Vec<usize> = service_role
            .iter()
            .copied()
            .filter(|&i| is_browser_key(key) || in_builds_scope(cx, &c.columns[i].location, key))
            .collect();
        if !exposed.is_empty() {
            let why = if is_browser_key(key) {
                "Vite ships VITE_ variables to every browser"
            } else {
                "builds can read it, and what a build reads can be shipped"
            };
            out.push(Finding {
                id: format!("service-role-exposed:{key}"),
                severity: Severity::Critical,
                key: Some(key.clone()),
                title: format!("{key} holds a Supabase service-role key, and {why}"),
                detail: format!(
                    "Found readable in: {}. Anyone who can read it bypasses row-level security. Remove it from there, rotate the service-role key in Supabase, keep it as a Netlify secret outside the builds scope, and use the anon key in the browser.",
                    labels(c, &exposed)
                ),
                fix: fix_at(exposed[0]),
                columns: exposed.clone(),
            });
        }

        // 2. Required keys missing or empty.
        for need in &row.needs {
            let (what, severity) = match need.verdict {
                Verdict::Missing => ("missing", Severity::High),
                Verdict::Empty => ("empty or a placeholder", Severity::High),
                Verdict::Present | Verdict::Unknown => continue,
            };
            let severity = if need.declared || need.target != "env-local" {
                severity
            } else {
                Severity::Medium
            };
            out.push(Finding {
                id: format!(
                    "{}:{key}:{}",
                    if need.verdict == Verdict::Missing {
                        "missing"
                    } else {
                        "empty"
                    },
                    need.target
                ),
                severity,
                key: Some(key.clone()),
                title: format!(
                    "{key} is {what} in {}",
                    need.columns
                        .first()
                        .map_or(String::new(), |&i| c.columns[i].label.clone())
                ),
                detail: format!(
                    "Required by {} (looked in: {}).",
                    need.origin,
                    labels(c, &need.columns)
                ),
                fix: need.columns.first().and_then(|&i| fix_at(i)),
                columns: need.columns.clone(),
            });
        }

        // 3. Values that must agree and do not.
        if cx.consistent.iter().any(|k| k == key) {
            let mut by_group: Vec<(String, Vec<usize>)> = Vec::new();
            for (i, cell) in row.cells.iter().enumerate() {
                if let Cell::Readable { group: Some(g) } = cell {
                    match by_group.iter_mut().find(|(x, _)| x == g) {
                        Some((_, cols)) => cols.push(i),
                        None => by_group.push((g.clone(), vec![i])),
                    }
                }
            }
            if by_group.len() > 1 {
                let write_only = row
                    .cells
                    .iter()
                    .filter(|c| matches!(c, Cell::WriteOnly { .. }))
                    .count();
                let mut detail = by_group
                    .iter()
                    .map(|(g, cols)| format!("value {g} in {}", labels(c, cols)))
                    .collect::<Vec<_>>()
                    .join("; ");
                detail.push('.');
                if write_only > 0 {
                    detail.push_str(&format!(
                        " {write_only} write-only cop{} could not be compared.",
                        if write_only == 1 { "y" } else { "ies" }
                    ));
                }
                let minority = by_group
                    .iter()
                    .min_by_key(|(_, cols)| cols.len())
                    .map(|(_, cols)| cols[0]);
                out.push(Finding {
                    id: format!("inconsistent:{key}"),
                    severity: Severity::High,
                    key: Some(key.clone()),
                    title: format!(
                        "{key} differs between stores ({} different values)",
                        by_group.len()
                    ),
                    detail,
                    fix: minority.and_then(fix_at),
                    columns: by_group
                        .iter()
                        .flat_map(|(_, cols)| cols.iter().copied())
                        .collect(),
                });
            }
        }

        // 4. A service-role key (or any key named like one) stored readable.
        let readable_service: Vec<usize> = row
            .cells
            .iter()
            .enumerate()
            .filter(|(i, cell)| {
                matches!(cell, Cell::Readable { .. })
                    && !matches!(c.columns[*i].location, Location::EnvLocal)
                    && (key.contains("SERVICE_ROLE") || service_role.contains(i))
            })
            .map(|(i, _)| i)
            .collect();
        if !readable_service.is_empty() && exposed.is_empty() {
            out.push(Finding {
                id: format!("readable-secret:{key}"),
                severity: Severity::Medium,
                key: Some(key.clone()),
                title: format!("{key} is stored readable, not as a secret"),
                detail: format!(
                    "In: {}. Anyone who can read the settings can read it. Mark it secret in Netlify (or store it as a GitHub secret, not a variable).",
                    labels(c, &readable_service)
                ),
                fix: fix_at(readable_service[0]),
                columns: readable_service.clone(),
            });
        }

        // 7. Write-only copies updated far apart.
        let dated: Vec<(usize, OffsetDateTime)> = row
            .cells
            .iter()
            .enumerate()
            .filter_map(|(i, cell)| match cell {
                Cell::WriteOnly {
                    updated_at: Some(at),
                    ..
                } => OffsetDateTime::parse(at, &Rfc3339).ok().map(|t| (i, t)),
                _ => None,
            })
            .collect();
        if let (Some(newest), Some(oldest)) = (
            dated.iter().max_by_key(|(_, t)| *t),
            dated.iter().min_by_key(|(_, t)| *t),
        ) {
            let gap = (newest.1 - oldest.1).whole_days();
            if gap > ROTATION_DRIFT_DAYS {
                let stale: Vec<usize> = dated
                    .iter()
                    .filter(|(_, t)| (newest.1 - *t).whole_days() > ROTATION_DRIFT_DAYS)
                    .map(|(i, _)| *i)
                    .collect();
                out.push(Finding {
                    id: format!("rotation-drift:{key}"),
                    severity: Severity::Low,
                    key: Some(key.clone()),
                    title: format!("{key} was updated {gap} days apart in different stores"),
                    detail: format!(
                        "Last updated {} in {}, but earlier in {}. If it was rotated, those copies are stale; write-only values cannot be compared, so Greenroom can only go by the dates.",
                        newest.1.date(),
                        c.columns[newest.0].label,
                        labels(c, &stale)
                    ),
                    fix: stale.first().and_then(|&i| fix_at(i)),
                    columns: dated.iter().map(|(i, _)| *i).collect(),
                });
            }
        }
    }

    // 5. VITE_ variables Netlify's builds cannot see.
    for (site, read) in &cx.check.sources.netlify {
        if let Read::Got(vars) = read {
            for v in vars {
                if is_browser_key(&v.key) && !v.has_scope("builds") {
                    let at = Location::Netlify {
                        site: *site,
                        context: super::location::NetlifyContext::Production,
                    };
                    out.push(Finding {
                        id: format!("no-builds-scope:{}:{:?}", v.key, site),
                        severity: Severity::Medium,
                        key: Some(v.key.clone()),
                        title: format!("{} is not in Netlify's Builds scope", v.key),
                        detail: format!(
                            "Vite reads VITE_ variables while building, but this one is scoped to {} only, so the build gets nothing.",
                            v.scopes.join(", ")
                        ),
                        fix: link(cx.check.project, cx.check.sources, &at),
                        columns: c
                            .columns
                            .iter()
                            .enumerate()
                            .filter(|(_, col)| matches!(col.location, Location::Netlify { site: s, .. } if s == *site))
                            .map(|(i, _)| i)
                            .collect(),
                    });
                }
            }
        }
    }

    // 6. Netlify's secret scanning switched off, in netlify.toml or as an
    // env var (the file's values already stand in the Netlify columns).
    let required: Vec<&str> = c
        .rows
        .iter()
        .filter(|r| !r.needs.is_empty())
        .map(|r| r.key.as_str())
        .collect();
    for (r, row) in c.rows.iter().enumerate() {
        let netlify_values = cx.values[r]
            .iter()
            .filter(|(i, _)| matches!(c.columns[*i].location, Location::Netlify { .. }))
            .map(|(i, v)| (*i, *v));
        match row.key.as_str() {
            "SECRETS_SCAN_ENABLED" => {
                let off: Vec<usize> = netlify_values
                    .filter(|(_, v)| v.trim().eq_ignore_ascii_case("false"))
                    .map(|(i, _)| i)
                    .collect();
                if !off.is_empty() {
                    out.push(Finding {
                        id: "scan-disabled".into(),
                        severity: Severity::High,
                        key: Some(row.key.clone()),
                        title: "Netlify's secret scanning is switched off".into(),
                        detail: format!(
                            "SECRETS_SCAN_ENABLED is false in: {}. A build can then publish a secret's value in its output without failing.",
                            labels(c, &off)
                        ),
                        fix: fix_at(off[0]),
                        columns: off.clone(),
                    });
                }
            }
            "SECRETS_SCAN_OMIT_KEYS" => {
                let mut omitted: Vec<&str> = Vec::new();
                let mut at = Vec::new();
                for (i, v) in netlify_values {
                    let named: Vec<&str> = v
                        .split(',')
                        .map(str::trim)
                        .filter(|k| required.contains(k))
                        .collect();
                    if !named.is_empty() {
                        at.push(i);
                        omitted.extend(named);
                    }
                }
                omitted.sort();
                omitted.dedup();
                if !omitted.is_empty() {
                    out.push(Finding {
                        id: "scan-omits".into(),
                        severity: Severity::Medium,
                        key: Some(row.key.clone()),
                        title: "Netlify's secret scanning skips required keys".into(),
                        detail: format!(
                            "SECRETS_SCAN_OMIT_KEYS lists {} in: {}. A build that leaks them is not stopped.",
                            omitted.join(", "),
                            labels(c, &at)
                        ),
                        fix: fix_at(at[0]),
                        columns: at.clone(),
                    });
                }
            }
            _ => {}
        }
    }

    // 8. What could not be read.
    for p in &c.problems {
        out.push(Finding {
            id: format!("malformed:{}:{}", p.file, p.line.unwrap_or(0)),
            severity: Severity::Medium,
            key: None,
            title: format!("{} could not be fully read", p.file),
            detail: format!("{p}. The rest of the matrix is still checked."),
            fix: None,
            columns: Vec::new(),
        });
    }
    for u in &c.unread {
        out.push(Finding {
            id: format!("unread:{}", u.source),
            severity: Severity::Medium,
            key: None,
            title: format!("{} could not be read", u.source),
            detail: format!(
                "{}. Its cells are unknown, not absent: fix the token's permission or try again.",
                u.reason
            ),
            fix: None,
            columns: Vec::new(),
        });
    }

    out.sort_by(|a, b| a.severity.cmp(&b.severity).then_with(|| a.id.cmp(&b.id)));
    out
}
