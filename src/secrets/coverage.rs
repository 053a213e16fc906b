//! The matrix: one row per key, one column per store, each cell exactly one
//! of readable (a group letter), write-only (dates), empty or placeholder,
//! absent, or unknown; and for each requirement whether it is met. Nothing
//! here carries a value: what leaves this module is letters, dates, names.

use super::discover::dotenv::{EnvFile, EnvValue};
use super::discover::netlify_toml::NetlifyToml;
use super::discover::{discover, FileProblem};
use super::findings::{self, Finding};
use super::fingerprint::{group_label, Fingerprint, FingerprintKey};
use super::location::{GithubLevel, Location, NetlifyContext, Site, Target};
use super::netlify::effective;
use super::placeholder::{placeholder, Placeholder};
use super::requirements::{self, Requirement};
use super::sources::{NetlifyVar, Read, Sources, ValueContext};
use crate::config::Project;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Cell {
    /// Present and readable by Greenroom. `group` is the same letter for
    /// the same value within a row; `None` when the value is not compared
    /// (a `.env` line written with `$` expansion).
    Readable {
        group: Option<String>,
    },
    /// Present, but the vendor never returns the value (Netlify secrets,
    /// every GitHub secret).
    WriteOnly {
        updated_at: Option<String>,
        updated_by: Option<String>,
    },
    /// Present but empty, a stand-in, or the `.env.example` sample.
    Placeholder {
        kind: Placeholder,
    },
    Absent,
    /// The store could not be read: permission, or the vendor failed.
    Unknown {
        reason: String,
    },
}

impl Cell {
    /// Set to something real (readable or write-only).
    pub fn is_present(&self) -> bool {
        matches!(self, Self::Readable { .. } | Self::WriteOnly { .. })
    }
}

/// Whether one requirement is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Present,
    /// Present where it counts, but empty or a placeholder.
    Empty,
    Missing,
    /// Could not be known: a store it may be in could not be read.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub location: Location,
    pub label: String,
    /// Where the store is edited.
    pub link: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowGroup {
    /// Asked for by the configuration or the playbook's defaults.
    Required,
    /// Named by the repository's workflow, netlify.toml or .env.example.
    Discovered,
    /// Present somewhere, asked for nowhere.
    Unrequired,
}

/// A requirement of a row and whether it is met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    /// The target as written in the config (`netlify:staging-site/staging`).
    pub target: String,
    pub origin: String,
    pub declared: bool,
    pub verdict: Verdict,
    /// The columns it was looked for in, most specific first.
    #[serde(default)]
    pub columns: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub key: String,
    pub group: RowGroup,
    pub cells: Vec<Cell>,
    pub needs: Vec<Need>,
}

/// The check's overall result, as the CLI's exit code gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every requirement is present and non-empty.
    Ok,
    /// Something required is missing or empty.
    Missing,
    /// Nothing is known to be missing, but something could not be checked.
    Unchecked,
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Ok => 0,
            Self::Missing => 1,
            Self::Unchecked => 2,
        }
    }
}

/// A store or file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unread {
    pub source: String,
    pub reason: String,
}

/// The whole page (and the CLI's JSON): names, letters and dates only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub project: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub findings: Vec<Finding>,
    pub problems: Vec<FileProblem>,
    pub unread: Vec<Unread>,
    /// Whether a `.env.local` was given; without one its requirements are
    /// not checked and its column is not shown.
    pub env_local_checked: bool,
    pub outcome: Outcome,
}

impl Coverage {
    /// A report of nothing: no store read, nothing required known.
    pub fn empty(project: &str) -> Self {
        Self {
            project: project.to_string(),
            columns: Vec::new(),
            rows: Vec::new(),
            findings: Vec::new(),
            problems: Vec::new(),
            unread: Vec::new(),
            env_local_checked: false,
            outcome: Outcome::Unchecked,
        }
    }
}

/// What one check reads.
pub struct Check<'a> {
    pub project: &'a Project,
    pub sources: &'a Sources,
    pub env_local: Option<&'a EnvFile>,
    pub key: &'a FingerprintKey,
}

/// A cell's raw reading before values are turned into letters.
enum Reading<'a> {
    Value(&'a str),
    NotCompared,
    WriteOnly {
        updated_at: Option<String>,
        updated_by: Option<String>,
    },
    Absent,
    Unknown(String),
}

/// Reads the stores for `key` in `at`.
fn read<'a>(
    sources: &'a Sources,
    env: Option<&'a EnvFile>,
    toml: Option<&'a NetlifyToml>,
    key: &str,
    at: &Location,
) -> Reading<'a> {
    // netlify.toml's value is what a build gets, over the UI's.
    if let (Location::Netlify { context, .. }, Some(toml)) = (at, toml) {
        if let Some(value) = toml.value_for(key, context) {
            return Reading::Value(value.expose());
        }
    }
    match at {
        Location::Netlify { site, context } => {
            let Some((_, read)) = sources.netlify.iter().find(|(s, _)| s == site) else {
                return Reading::Unknown("this Netlify site was not read".into());
            };
            let vars = match read {
                Read::Got(v) => v,
                Read::Unknown(why) => return Reading::Unknown(why.clone()),
            };
            let Some(var) = vars.iter().find(|v| v.key == key) else {
                return Reading::Absent;
            };
            match effective(var, context) {
                None => Reading::Absent,
                Some(v) => match (&v.value, var.is_secret) {
                    (Some(value), false) => Reading::Value(value.expose()),
                    _ => Reading::WriteOnly {
                        updated_at: var.updated_at.clone(),
                        updated_by: var.updated_by.clone(),
                    },
                },
            }
        }
        Location::GithubSecrets { level } => {
            let store = match level {
                GithubLevel::Repository => Some(&sources.repo_secrets),
                GithubLevel::Organization => Some(&sources.org_secrets),
                GithubLevel::Environment(e) => by_environment(&sources.environment_secrets, e),
            };
            match find_github(store, key, |s| &s.name) {
                Err(why) => Reading::Unknown(why),
                Ok(None) => Reading::Absent,
                Ok(Some(s)) => Reading::WriteOnly {
                    updated_at: s.updated_at.clone(),
                    updated_by: None,
                },
            }
        }
        Location::GithubVariables { level } => {
            let store = match level {
                GithubLevel::Repository => Some(&sources.repo_variables),
                GithubLevel::Organization => Some(&sources.org_variables),
                GithubLevel::Environment(e) => by_environment(&sources.environment_variables, e),
            };
            match find_github(store, key, |v| &v.name) {
                Err(why) => Reading::Unknown(why),
                Ok(None) => Reading::Absent,
                Ok(Some(v)) => Reading::Value(v.value.expose()),
            }
        }
        Location::EnvLocal => match env.and_then(|e| e.get(key)) {
            None => Reading::Absent,
            Some(entry) => match &entry.value {
                EnvValue::Value(v) => Reading::Value(v.expose()),
                EnvValue::Expanded => Reading::NotCompared,
            },
        },
    }
}

/// An environment's store; GitHub's environment names ignore case.
fn by_environment<'a, T>(stores: &'a BTreeMap<String, T>, name: &str) -> Option<&'a T> {
    stores
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, t)| t)
}

/// `key` in a GitHub store (names match without regard to case), or why
/// the store is unknown (`None`: an environment that was not read).
fn find_github<'a, T>(
    store: Option<&'a Read<Vec<T>>>,
    key: &str,
    name: impl Fn(&T) -> &String,
) -> Result<Option<&'a T>, String> {
    match store {
        None => Err("this environment was not read".into()),
        Some(Read::Unknown(why)) => Err(why.clone()),
        Some(Read::Got(list)) => Ok(list.iter().find(|t| name(t).eq_ignore_ascii_case(key))),
    }
}

/// The columns: Netlify contexts per site read, GitHub secrets and
/// variables per level, then `.env.local` when one was given.
fn columns(
    check: &Check<'_>,
    requirements: &[Requirement],
    branch_contexts: &BTreeSet<String>,
) -> Vec<Location> {
    let sources = check.sources;
    let mut cols = Vec::new();
    let one_site = sources.netlify.len() == 1;
    for (site, read) in &sources.netlify {
        // The contexts that matter on a site: where its deploys build
        // (production and previews on the production site, branches on the
        // staging site; all of them when one site does both), every context
        // it holds a value for, and every context a requirement names.
        let mut contexts: BTreeSet<NetlifyContext> = BTreeSet::new();
        if one_site || *site == Site::Production {
            contexts.extend([NetlifyContext::Production, NetlifyContext::DeployPreview]);
        }
        contexts.insert(NetlifyContext::BranchDeploy);
        if one_site || *site == Site::Staging {
            contexts.extend(
                branch_contexts
                    .iter()
                    .map(|b| NetlifyContext::Branch(b.clone())),
            );
        }
        if let Read::Got(vars) = read {
            for v in vars.iter().flat_map(|v| &v.values) {
                if let ValueContext::Only(c) = &v.context {
                    if *c != NetlifyContext::Dev {
                        contexts.insert(c.clone());
                    }
                }
            }
        }
        for r in requirements {
            if let Target::Netlify { site: s, context } = &r.target {
                if s == site {
                    contexts.insert(context.clone());
                }
            }
        }
        cols.extend(contexts.into_iter().map(|context| Location::Netlify {
            site: *site,
            context,
        }));
    }
    // One column per environment whatever case each mention uses.
    let mut environments: BTreeSet<String> = BTreeSet::new();
    let add_environment = |e: &String, environments: &mut BTreeSet<String>| {
        if !environments.iter().any(|x| x.eq_ignore_ascii_case(e)) {
            environments.insert(e.clone());
        }
    };
    for e in sources
        .environment_secrets
        .keys()
        .chain(sources.environment_variables.keys())
    {
        add_environment(e, &mut environments);
    }
    for r in requirements {
        match &r.target {
            Target::GithubSecret {
                environment: Some(e),
            }
            | Target::GithubVariable {
                environment: Some(e),
            } => add_environment(e, &mut environments),
            _ => {}
        }
    }
    for e in &environments {
        cols.push(Location::GithubSecrets {
            level: GithubLevel::Environment(e.clone()),
        });
    }
    cols.push(Location::GithubSecrets {
        level: GithubLevel::Repository,
    });
    cols.push(Location::GithubSecrets {
        level: GithubLevel::Organization,
    });
    for e in &environments {
        cols.push(Location::GithubVariables {
            level: GithubLevel::Environment(e.clone()),
        });
    }
    cols.push(Location::GithubVariables {
        level: GithubLevel::Repository,
    });
    cols.push(Location::GithubVariables {
        level: GithubLevel::Organization,
    });
    if check.env_local.is_some() {
        cols.push(Location::EnvLocal);
    }
    cols
}

/// Where a store is edited, for the column heading and a finding's fix.
pub fn link(project: &Project, sources: &Sources, at: &Location) -> Option<String> {
    let repo = project.github.repo.as_str();
    match at {
        Location::Netlify { site, .. } => sources
            .netlify_site_names
            .get(site)
            .map(|name| format!("https://app.netlify.com/sites/{name}/configuration/env")),
        Location::GithubSecrets {
            level: GithubLevel::Environment(_),
        }
        | Location::GithubVariables {
            level: GithubLevel::Environment(_),
        } => Some(format!("https://github.com/{repo}/settings/environments")),
        Location::GithubSecrets { .. } => Some(format!(
            "https://github.com/{repo}/settings/secrets/actions"
        )),
        Location::GithubVariables { .. } => Some(format!(
            "https://github.com/{repo}/settings/variables/actions"
        )),
        Location::EnvLocal => None,
    }
}

/// Maps a requirement's site onto the sites read: one shared site stands
/// for both.
fn on_site(sources: &Sources, target: &Target) -> Target {
    match target {
        Target::Netlify { site, context } if !sources.netlify.iter().any(|(s, _)| s == site) => {
            let site = sources.netlify.first().map(|(s, _)| *s).unwrap_or(*site);
            Target::Netlify {
                site,
                context: context.clone(),
            }
        }
        other => other.clone(),
    }
}

/// For a job whose environment is an expression and a key in neither the
/// repository nor the organization: present if every environment holds it,
/// missing if none does, otherwise it depends on the run (unknown).
fn any_environment_verdict(locations: &[Location], cells: &[Cell]) -> Verdict {
    // Per environment: held there (as a secret or a variable), not readable,
    // or not there.
    let mut by_environment: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for (l, c) in locations.iter().zip(cells) {
        let e = match l {
            Location::GithubSecrets {
                level: GithubLevel::Environment(e),
            }
            | Location::GithubVariables {
                level: GithubLevel::Environment(e),
            } => e.to_ascii_lowercase(),
            _ => continue,
        };
        let entry = by_environment.entry(e).or_default();
        entry.0 |= c.is_present();
        entry.1 |= matches!(c, Cell::Unknown { .. });
    }
    let held = by_environment.values().filter(|(p, _)| *p).count();
    let unknown = by_environment.values().any(|(p, u)| !p && *u);
    if held > 0 && held == by_environment.len() {
        Verdict::Present
    } else if held == 0 && !unknown {
        Verdict::Missing
    } else {
        Verdict::Unknown
    }
}

fn verdict(cells: &[&Cell]) -> Verdict {
    // The most specific store that has it decides; an unreadable store
    // before it leaves the answer open only if nothing later has it.
    let mut unknown = false;
    for c in cells {
        match c {
            Cell::Absent => {}
            Cell::Unknown { .. } => unknown = true,
            Cell::Placeholder { .. } => {
                return if unknown {
                    Verdict::Unknown
                } else {
                    Verdict::Empty
                }
            }
            Cell::Readable { .. } | Cell::WriteOnly { .. } => return Verdict::Present,
        }
    }
    if unknown {
        Verdict::Unknown
    } else {
        Verdict::Missing
    }
}

/// Runs the check: requirements, matrix and findings.
pub fn coverage(check: &Check<'_>) -> Coverage {
    let sources = check.sources;
    let found = discover(&sources.files);
    let sample = |key: &str| -> Option<&str> {
        found
            .example
            .as_ref()
            .and_then(|(_, f)| match &f.get(key)?.value {
                EnvValue::Value(v) => Some(v.expose()),
                EnvValue::Expanded => None,
            })
    };
    let mut reqs: Vec<Requirement> = requirements::all(check.project, &found)
        .into_iter()
        .map(|r| Requirement {
            target: on_site(sources, &r.target),
            ..r
        })
        .collect();
    if check.env_local.is_none() {
        reqs.retain(|r| r.target != Target::EnvLocal);
    }
    let branch_contexts: BTreeSet<String> = found
        .netlify
        .iter()
        .flat_map(|(_, t)| &t.contexts)
        .filter_map(|c| match &c.context {
            NetlifyContext::Branch(b) => Some(b.clone()),
            _ => None,
        })
        .collect();
    let locations = columns(check, &reqs, &branch_contexts);
    let toml = found.netlify.as_ref().map(|(_, t)| t);

    // Row keys: requirements first, then whatever the stores hold.
    let mut keys: Vec<(String, RowGroup)> = Vec::new();
    let add_key = |key: &str, group: RowGroup, keys: &mut Vec<(String, RowGroup)>| match keys
        .iter_mut()
        .find(|(k, _)| k == key)
    {
        Some((_, g)) => *g = (*g).min(group),
        None => keys.push((key.to_string(), group)),
    };
    for r in &reqs {
        let group = if r.origin.is_declared() {
            RowGroup::Required
        } else {
            RowGroup::Discovered
        };
        add_key(&r.key, group, &mut keys);
    }
    let mut stored = stored_keys(sources, check.env_local);
    stored.extend(
        toml.iter()
            .flat_map(|t| t.values.iter().map(|v| v.key.clone())),
    );
    for key in stored {
        // GitHub keeps names in upper case and matches them without regard
        // to case, so an upper-case name joins a row that differs only in
        // case; Netlify's and .env's keys are case-sensitive and stay apart.
        let joins = |k: &String| k == &key || (is_upper(&key) && k.eq_ignore_ascii_case(&key));
        if !keys.iter().any(|(k, _)| joins(k)) {
            add_key(&key, RowGroup::Unrequired, &mut keys);
        }
    }
    keys.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));

    let mut rows = Vec::new();
    let mut readings_for_findings = Vec::new();
    for (key, group) in &keys {
        let mut groups: BTreeMap<Fingerprint, String> = BTreeMap::new();
        let mut cells = Vec::new();
        let mut values: Vec<(usize, &str)> = Vec::new();
        for (i, at) in locations.iter().enumerate() {
            let cell = match read(sources, check.env_local, toml, key, at) {
                Reading::Value(v) => match placeholder(v, sample(key)) {
                    Some(kind) => Cell::Placeholder { kind },
                    None => {
                        let fp = check.key.of(key, v);
                        let n = groups.len();
                        let letter = groups.entry(fp).or_insert_with(|| group_label(n)).clone();
                        values.push((i, v));
                        Cell::Readable {
                            group: Some(letter),
                        }
                    }
                },
                Reading::NotCompared => Cell::Readable { group: None },
                Reading::WriteOnly {
                    updated_at,
                    updated_by,
                } => Cell::WriteOnly {
                    updated_at,
                    updated_by,
                },
                Reading::Absent => Cell::Absent,
                Reading::Unknown(reason) => Cell::Unknown { reason },
            };
            cells.push(cell);
        }
        let needs = reqs
            .iter()
            .filter(|r| same_key(&r.key, key, &r.target))
            .map(|r| {
                let cols: Vec<usize> = r
                    .target
                    .columns()
                    .iter()
                    .filter_map(|c| locations.iter().position(|l| l == c))
                    .collect();
                let mut v = verdict(&cols.iter().map(|&i| &cells[i]).collect::<Vec<_>>());
                if r.any_environment && v == Verdict::Missing {
                    v = any_environment_verdict(&locations, &cells);
                }
                Need {
                    target: r.target.to_string(),
                    origin: r.origin.to_string(),
                    declared: r.origin.is_declared(),
                    verdict: v,
                    columns: cols,
                }
            })
            .collect();
        rows.push(Row {
            key: key.clone(),
            group: *group,
            cells,
            needs,
        });
        readings_for_findings.push(values);
    }

    let columns: Vec<Column> = locations
        .iter()
        .map(|l| Column {
            location: l.clone(),
            label: l.label(sources.netlify.len() == 1),
            link: link(check.project, sources, l),
        })
        .collect();

    let mut unread = unknown_stores(sources);
    for (source, reason) in &found.unread {
        unread.push(Unread {
            source: source.clone(),
            reason: reason.clone(),
        });
    }
    // The uploaded file's own problems count too.
    let mut problems = found.problems.clone();
    if let Some(env) = check.env_local {
        problems.extend(env.problems.iter().cloned());
    }

    let outcome = {
        let verdicts = rows.iter().flat_map(|r| &r.needs).map(|n| n.verdict);
        let mut outcome = Outcome::Ok;
        for v in verdicts {
            match v {
                Verdict::Missing | Verdict::Empty => outcome = Outcome::Missing,
                Verdict::Unknown if outcome == Outcome::Ok => outcome = Outcome::Unchecked,
                _ => {}
            }
        }
        if outcome == Outcome::Ok && (!found.unread.is_empty() || !problems.is_empty()) {
            // Requirements in a file that could not be read or parsed (or
            // keys on a bad line of the .env.local) are unknown.
            outcome = Outcome::Unchecked;
        }
        outcome
    };

    let mut coverage = Coverage {
        project: check.project.name.as_str().to_string(),
        columns,
        rows,
        findings: Vec::new(),
        problems,
        unread,
        env_local_checked: check.env_local.is_some(),
        outcome,
    };
    coverage.findings = findings::findings(&findings::Context {
        check,
        coverage: &coverage,
        values: &readings_for_findings,
        consistent: &requirements::consistent_keys(check.project),
    });
    coverage
}

fn is_upper(s: &str) -> bool {
    !s.chars().any(|c| c.is_ascii_lowercase())
}

/// Whether a requirement for `req_key` belongs on the row `row_key`:
/// exactly, or without regard to case for GitHub targets.
fn same_key(req_key: &str, row_key: &str, target: &Target) -> bool {
    match target {
        Target::GithubSecret { .. } | Target::GithubVariable { .. } => {
            req_key.eq_ignore_ascii_case(row_key)
        }
        _ => req_key == row_key,
    }
}

/// Every key some readable store holds.
fn stored_keys(sources: &Sources, env: Option<&EnvFile>) -> Vec<String> {
    let mut keys = Vec::new();
    for (_, read) in &sources.netlify {
        if let Read::Got(vars) = read {
            keys.extend(vars.iter().map(|v: &NetlifyVar| v.key.clone()));
        }
    }
    let secrets = [&sources.repo_secrets, &sources.org_secrets]
        .into_iter()
        .chain(sources.environment_secrets.values());
    for read in secrets {
        if let Read::Got(list) = read {
            keys.extend(list.iter().map(|s| s.name.clone()));
        }
    }
    let variables = [&sources.repo_variables, &sources.org_variables]
        .into_iter()
        .chain(sources.environment_variables.values());
    for read in variables {
        if let Read::Got(list) = read {
            keys.extend(list.iter().map(|v| v.name.clone()));
        }
    }
    if let Some(env) = env {
        keys.extend(env.entries.iter().map(|e| e.key.clone()));
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The stores that could not be read, named for people.
fn unknown_stores(sources: &Sources) -> Vec<Unread> {
    let mut out = Vec::new();
    let one_site = sources.netlify.len() == 1;
    for (site, read) in &sources.netlify {
        if let Read::Unknown(why) = read {
            let name = if one_site {
                "Netlify environment variables".to_string()
            } else {
                format!(
                    "Netlify environment variables of the {} site",
                    match site {
                        Site::Production => "production",
                        Site::Staging => "staging",
                    }
                )
            };
            out.push(Unread {
                source: name,
                reason: why.clone(),
            });
        }
    }
    let mut named = |source: String, read: Option<&str>| {
        if let Some(why) = read {
            out.push(Unread {
                source,
                reason: why.to_string(),
            });
        }
    };
    named(
        "GitHub repository secrets".into(),
        sources.repo_secrets.unknown(),
    );
    named(
        "GitHub organization secrets".into(),
        sources.org_secrets.unknown(),
    );
    for (e, r) in &sources.environment_secrets {
        named(format!("GitHub secrets of environment {e}"), r.unknown());
    }
    named(
        "GitHub organization variables".into(),
        sources.org_variables.unknown(),
    );
    named(
        "GitHub repository variables".into(),
        sources.repo_variables.unknown(),
    );
    for (e, r) in &sources.environment_variables {
        named(format!("GitHub variables of environment {e}"), r.unknown());
    }
    out
}

#[cfg(test)]
#[path = "coverage_tests.rs"]
mod tests;
