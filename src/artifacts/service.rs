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
/// XML files larger than this are listed, not parsed as reports.
const MAX_REPORT_BYTES: u64 = 32 * 1024 * 1024;
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

pub struct Artifacts {
    store: ArtifactStore,
    clients: Arc<VendorClients>,
    /// By repository path and run.
    lists: quick_cache::sync::Cache<(String, u64), Listed>,
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
        self.lists.remove(&(repo.path(), run_id));
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
    /// masked with `known`.
    pub async fn contents(&self, opened: &Arc<Opened>, known: &Known) -> Contents {
        let mut c = Contents::default();
        for e in &opened.checked.entries {
            match e.kind {
                EntryKind::Xml if c.reports.len() >= MAX_REPORTS || e.size > MAX_REPORT_BYTES => {
                    c.unparsed.push(e.clone())
                }
                EntryKind::Xml => match self.store.read(opened, &e.path).await {
                    Ok(bytes) => match junit::parse(&e.path, &bytes) {
                        Ok(mut r) => {
                            mask_report(&mut r, known);
                            c.reports.push((e.path.clone(), Ok(r)));
                        }
                        Err(JunitError::NotJunit { .. }) => c.texts.push(e.clone()),
                        Err(err) => c.reports.push((e.path.clone(), Err(err.to_string()))),
                    },
                    Err(err) => c.reports.push((e.path.clone(), Err(err.to_string()))),
                },
                EntryKind::Text => c.texts.push(e.clone()),
                EntryKind::Image => c.images.push(e.clone()),
                EntryKind::Html | EntryKind::Other => c.downloads.push(e.clone()),
                EntryKind::Archive => c.archives.push(e.clone()),
            }
        }
        c
    }

    /// A job's log as GitHub serves it.
    pub async fn job_log(&self, repo: &Repo, job_id: u64) -> Result<String, ArtifactError> {
        Ok(self.clients.github.download_job_logs(repo, job_id).await?)
    }
}

/// Everything of a report that is shown, masked.
fn mask_report(r: &mut Report, known: &Known) {
    let m = |s: &mut String| *s = known.mask(s);
    for suite in &mut r.suites {
        m(&mut suite.name);
        for case in &mut suite.cases {
            m(&mut case.name);
            for t in [&mut case.message, &mut case.trace, &mut case.output]
                .into_iter()
                .flatten()
            {
                *t = t
                    .lines()
                    .map(|l| known.mask(l))
                    .collect::<Vec<_>>()
                    .join("\n");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_masked_line_by_line() {
        let xml = br#"<testsuite name="s"><testcase name="t"><failure message="token ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789">at line 1
password=hunter2secret at line 2</failure><system-out>ok
using known-secret-99</system-out></testcase></testsuite>"#;
        let mut r = junit::parse("r.xml", xml).unwrap();
        mask_report(&mut r, &Known::new(["known-secret-99".to_string()]));
        let case = &r.suites[0].cases[0];
        let all = format!("{:?} {:?} {:?}", case.message, case.trace, case.output);
        for secret in ["ABCDEFGHIJ", "hunter2secret", "known-secret-99"] {
            assert!(!all.contains(secret), "{secret} in {all}");
        }
        assert!(all.contains("at line 1") && all.contains("ok"), "{all}");
    }
}
