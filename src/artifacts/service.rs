//! What the run and artifact pages ask for: a run's artifacts as GitHub
//! lists them, one artifact opened (through [`ArtifactStore`]) and sorted
//! into test reports, logs, images and downloads, one file's bytes, and a
//! job's log. Every text that reaches a page passes [`Known::mask`].

use super::archive::{Entry, EntryKind};
use super::junit::{self, JunitError, Report};
use super::store::{ArtifactError, ArtifactStore, Opened};
use crate::mask::Known;
use crate::providers::github::{Artifact, Repo};
use crate::providers::VendorClients;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a run's list of artifacts is reused: artifacts appear while a
/// run goes on and expire later, so briefly.
const LIST_TTL: Duration = Duration::from_secs(30);
/// How soon a run's artifacts may be listed again to find one not listed.
const FORCED_LIST_GAP: Duration = Duration::from_secs(1);
/// XML files larger than this are listed, not parsed as reports (parsed
/// reports are kept in memory, see `parsed`).
const MAX_REPORT_BYTES: u64 = 8 * 1024 * 1024;
/// At most this many reports are parsed per artifact.
const MAX_REPORTS: usize = 20;

/// One artifact's files, sorted by what the page does with them.
#[derive(Debug, Clone, Default)]
pub struct Contents {
    /// Test reports, by file; a file that failed to parse says why.
    pub reports: Vec<(String, Result<Report, String>)>,
    /// Shown as text (logs, and XML that is not a test report).
    pub texts: Vec<Entry>,
    /// Shown inline once their bytes are sniffed.
    pub images: Vec<Entry>,
    /// Offered as downloads: HTML reports and anything else.
    pub downloads: Vec<Entry>,
    /// Archives inside the artifact: listed, never opened.
    pub archives: Vec<Entry>,
    /// XML files left unparsed (over [`MAX_REPORTS`] or too large).
    pub unparsed: Vec<Entry>,
}

/// A run's artifacts as listed, and when.
type Listed = (Instant, Arc<Vec<Artifact>>);

/// What a run's test reports say, in one line for the overview and the
/// deploy page: "smoke: 1 of 12 failed: runtime-config returns …".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultsSummary {
    pub total: usize,
    /// Failed and errored cases.
    pub failing: usize,
    pub skipped: usize,
    /// The first failing case's name (token shapes masked).
    pub first_failure: Option<String>,
}

impl ResultsSummary {
    pub fn line(&self) -> String {
        match (&self.first_failure, self.failing) {
            (_, 0) if self.skipped == 0 => format!("all {} tests passed", self.total),
            (_, 0) => format!("none of {} failed ({} skipped)", self.total, self.skipped),
            (Some(name), n) => format!("{n} of {} failed: {name}", self.total),
            (None, n) => format!("{n} of {} failed", self.total),
        }
    }
}

/// A finished run's results, as read from its artifacts.
#[derive(Debug, Clone, Default)]
pub struct RunResults {
    pub summary: Option<ResultsSummary>,
    /// One `(test key, outcome)` per test.
    pub cases: Vec<(String, String)>,
}

/// Artifacts read per run for its summary: a run uploads one or two.
const SUMMARY_ARTIFACTS: usize = 3;

pub struct Artifacts {
    store: ArtifactStore,
    clients: Arc<VendorClients>,
    /// By repository path and run.
    lists: quick_cache::sync::Cache<(String, u64), Listed>,
    /// Each finished run attempt's summary (`None`: it has no readable
    /// report). An attempt's artifacts never change once it has finished.
    summaries: quick_cache::sync::Cache<(String, u64, i64), Option<ResultsSummary>>,
    /// Artifacts' files sorted and reports parsed (unmasked), by archive
    /// path: each view of an artifact or of one of its logs reuses them.
    parsed: quick_cache::sync::Cache<std::path::PathBuf, Arc<Contents>>,
}

impl std::fmt::Debug for Artifacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifacts")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Artifacts {
    pub fn new(store: ArtifactStore, clients: Arc<VendorClients>) -> Self {
        Self {
            store,
            clients,
            lists: quick_cache::sync::Cache::new(512),
            summaries: quick_cache::sync::Cache::new(1024),
            parsed: quick_cache::sync::Cache::new(8),
        }
    }

    pub fn limits(&self) -> &super::Limits {
        self.store.limits()
    }

    /// The run's artifacts, newest list at most [`LIST_TTL`] old.
    pub async fn list(
        &self,
        repo: &Repo,
        run_id: u64,
    ) -> Result<Arc<Vec<Artifact>>, ArtifactError> {
        let key = (repo.path(), run_id);
        if let Some((at, list)) = self.lists.get(&key) {
            if at.elapsed() < LIST_TTL {
                return Ok(list);
            }
        }
        let list = Arc::new(
            self.clients
                .github
                .list_workflow_run_artifacts(repo, run_id)
                .await?,
        );
        self.lists.insert(key, (Instant::now(), list.clone()));
        Ok(list)
    }

    /// Artifact `artifact_id` of the run as listed: from the list held, or,
    /// when that list lacks it (uploaded since), from a fresh one.
    pub async fn find(
        &self,
        repo: &Repo,
        run_id: u64,
        artifact_id: u64,
    ) -> Result<Option<Artifact>, ArtifactError> {
        let held = self.list(repo, run_id).await?;
        if let Some(a) = held.iter().find(|a| a.id == artifact_id) {
            return Ok(Some(a.clone()));
        }
        // Read again, but not more than once a second per run: asking for
        // ids that do not exist must not spend the token's rate limit.
        let key = (repo.path(), run_id);
        if self
            .lists
            .get(&key)
            .is_some_and(|(at, _)| at.elapsed() < FORCED_LIST_GAP)
        {
            return Ok(None);
        }
        self.lists.remove(&key);
        let fresh = self.list(repo, run_id).await?;
        Ok(fresh.iter().find(|a| a.id == artifact_id).cloned())
    }

    /// The artifact downloaded (once) and checked.
    pub async fn open(&self, repo: &Repo, artifact_id: u64) -> Result<Arc<Opened>, ArtifactError> {
        self.store
            .open(&self.clients.github, repo, artifact_id)
            .await
    }

    /// One file's bytes, unmasked: only images (after sniffing) and
    /// downloads the person asked for are served this way.
    pub async fn file(&self, opened: &Arc<Opened>, path: &str) -> Result<Vec<u8>, ArtifactError> {
        self.store.read(opened, path).await
    }

    /// One text file of the artifact, as text (invalid UTF-8 replaced).
    pub async fn text(&self, opened: &Arc<Opened>, path: &str) -> Result<String, ArtifactError> {
        let bytes = self.store.read(opened, path).await?;
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// The artifact's files sorted for the page, its reports parsed and
    /// masked with `known`. Fails only when the archive cannot be read now
    /// (evicted, a disk error): nothing of such a reading is kept.
    pub async fn contents(
        &self,
        opened: &Arc<Opened>,
        known: &Known,
    ) -> Result<Contents, ArtifactError> {
        let parsed = match self.parsed.get(&opened.path) {
            Some(p) => p,
            None => {
                let p = Arc::new(self.parse(opened).await?);
                self.parsed.insert(opened.path.clone(), p.clone());
                p
            }
        };
        let mut c = (*parsed).clone();
        for (path, r) in &mut c.reports {
            *path = known.mask(path);
            match r {
                Ok(r) => mask_report(r, known),
                Err(e) => *e = known.mask(e),
            }
        }
        Ok(c)
    }

    async fn parse(&self, opened: &Arc<Opened>) -> Result<Contents, ArtifactError> {
        let mut c = Contents::default();
        for e in &opened.checked.entries {
            match e.kind {
                EntryKind::Xml if c.reports.len() >= MAX_REPORTS || e.size > MAX_REPORT_BYTES => {
                    c.unparsed.push(e.clone())
                }
                EntryKind::Xml => {
                    let bytes = match self.store.read(opened, &e.path).await {
                        Ok(b) => b,
                        // The file breaks a rule: said where the report would be.
                        Err(ArtifactError::Refused(err)) => {
                            c.reports.push((e.path.clone(), Err(err.to_string())));
                            continue;
                        }
                        Err(err) => return Err(err),
                    };
                    let path = e.path.clone();
                    let parsed =
                        tokio::task::spawn_blocking(move || junit::parse(&path, &bytes)).await;
                    match parsed {
                        Ok(Ok(r)) => c.reports.push((e.path.clone(), Ok(r))),
                        Ok(Err(JunitError::NotJunit { .. })) => c.texts.push(e.clone()),
                        Ok(Err(err)) => c.reports.push((e.path.clone(), Err(err.to_string()))),
                        Err(err) => c.reports.push((e.path.clone(), Err(err.to_string()))),
                    }
                }
                EntryKind::Text => c.texts.push(e.clone()),
                EntryKind::Image => c.images.push(e.clone()),
                EntryKind::Html | EntryKind::Other => c.downloads.push(e.clone()),
                EntryKind::Archive => c.archives.push(e.clone()),
            }
        }
        Ok(c)
    }

    /// The summary of attempt `attempt` of a finished run's test reports:
    /// read from its artifacts (each downloaded once, like any opening) and
    /// kept in memory. `None` when the run has no readable report, or its
    /// artifacts have expired. Reports are summed over the run's artifacts.
    pub async fn summary(
        &self,
        repo: &Repo,
        run_id: u64,
        attempt: i64,
        known: &Known,
    ) -> Result<Option<ResultsSummary>, ArtifactError> {
        if let Some(s) = self.summaries.get(&(repo.path(), run_id, attempt)) {
            return Ok(s);
        }
        Ok(self.results(repo, run_id, attempt, known).await?.summary)
    }

    /// A finished run's results at attempt `attempt`: its summary (kept in
    /// memory from now on) and one outcome per test (see
    /// [`super::history::outcomes`]), names masked with `known`.
    pub async fn results(
        &self,
        repo: &Repo,
        run_id: u64,
        attempt: i64,
        known: &Known,
    ) -> Result<RunResults, ArtifactError> {
        let list = self.list(repo, run_id).await?;
        let mut reports = Vec::new();
        for a in list.iter().filter(|a| !a.expired).take(SUMMARY_ARTIFACTS) {
            let opened = match self.open(repo, a.id).await {
                Ok(o) => o,
                // A hostile or expired artifact has no results to count.
                Err(ArtifactError::Refused(_) | ArtifactError::Expired | ArtifactError::Gone) => {
                    continue
                }
                Err(e) => return Err(e),
            };
            let contents = self.contents(&opened, known).await?;
            reports.extend(contents.reports.into_iter().filter_map(|(_, r)| r.ok()));
        }
        let summary = (!reports.is_empty()).then(|| {
            let mut sum = ResultsSummary::default();
            for r in &reports {
                let c = r.counts();
                sum.total += c.total;
                sum.failing += c.failed + c.errors;
                sum.skipped += c.skipped;
                if sum.first_failure.is_none() {
                    sum.first_failure = r
                        .failures_first()
                        .first()
                        .filter(|(_, c)| {
                            matches!(c.outcome, super::Outcome::Failed | super::Outcome::Error)
                        })
                        .map(|(_, c)| c.name.clone());
                }
            }
            sum
        });
        self.summaries
            .insert((repo.path(), run_id, attempt), summary.clone());
        let cases = super::history::outcomes(&reports.iter().collect::<Vec<_>>());
        Ok(RunResults { summary, cases })
    }

    /// The summary if it has been read (by sync, or a page that waited
    /// for it); never reads anything itself.
    pub fn summary_held(&self, repo: &Repo, run_id: u64, attempt: i64) -> Option<ResultsSummary> {
        self.summaries
            .get(&(repo.path(), run_id, attempt))
            .flatten()
    }

    /// The summary, waiting at most `wait` for it (a page that shows it
    /// must not hang on a slow download); read on in the background after.
    pub async fn summary_within(
        self: &Arc<Self>,
        repo: &Repo,
        run: (u64, i64),
        known: Known,
        wait: Duration,
    ) -> Option<ResultsSummary> {
        let (me, repo, (run_id, attempt)) = (self.clone(), repo.clone(), run);
        let task = tokio::spawn(async move { me.summary(&repo, run_id, attempt, &known).await });
        match tokio::time::timeout(wait, task).await {
            Ok(Ok(Ok(s))) => s,
            Ok(Ok(Err(e))) => {
                tracing::debug!(run = run_id, error = %e, "a run's test results could not be read");
                None
            }
            _ => None,
        }
    }

    /// A job's log as GitHub serves it.
    pub async fn job_log(&self, repo: &Repo, job_id: u64) -> Result<String, ArtifactError> {
        Ok(self.clients.github.download_job_logs(repo, job_id).await?)
    }
}

/// Everything of a report that is shown, masked; escapes dropped from its
/// texts first, so that colours cannot split a token past the masking.
fn mask_report(r: &mut Report, known: &Known) {
    let one = |s: &mut String| *s = super::log::plain_masked(s, known);
    let many = |s: &mut String| *s = super::log::text_masked(s, known);
    for suite in &mut r.suites {
        one(&mut suite.name);
        for case in &mut suite.cases {
            one(&mut case.name);
            case.classname.iter_mut().for_each(one);
            case.file.iter_mut().for_each(one);
            case.attachments.iter_mut().for_each(one);
            for t in [&mut case.message, &mut case.trace, &mut case.output]
                .into_iter()
                .flatten()
            {
                many(t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_masked_line_by_line() {
        let xml = b"<testsuite name=\"s\"><testcase name=\"t\" classname=\"known-secret-99\"><failure message=\"token \x1b[1mghp_\x1b[0mABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\">at line 1
password=hunter2secret at line 2</failure><system-out>ok
using known-secret-99</system-out></testcase></testsuite>";
        let mut r = junit::parse("r.xml", xml).unwrap();
        mask_report(&mut r, &Known::new(["known-secret-99".to_string()]));
        let case = &r.suites[0].cases[0];
        let all = format!(
            "{:?} {:?} {:?} {:?}",
            case.message, case.trace, case.output, case.classname
        );
        for secret in ["ABCDEFGHIJ", "hunter2secret", "known-secret-99"] {
            assert!(!all.contains(secret), "{secret} in {all}");
        }
        assert!(all.contains("at line 1") && all.contains("ok"), "{all}");
    }
}
