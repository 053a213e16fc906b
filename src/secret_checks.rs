//! Secret coverage as the server runs it: sync (and "Re-check now") reads
//! the vendors, runs the engine and stores its value-free report, which the
//! page renders; a change for the worse in a required key is told to Slack
//! once; an uploaded `.env.local` is checked against a fresh read and then
//! forgotten; admins dismiss findings, audited and reversible.

use crate::auth::SessionUser;
use crate::notify::Notifier;
use crate::providers::VendorClients;
use crate::secrets::coverage::{Check, Coverage};
use crate::secrets::discover::dotenv;
use crate::secrets::findings::Finding;
use crate::secrets::{coverage, gather, FingerprintKey};
use crate::secrets::{Cell, Verdict};
use crate::storage::{now_ms, AuditOutcome, DismissalRecord, NewAuditEvent, Storage, StorageError};
use crate::sync::SyncTarget;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// The longest reason a dismissal keeps.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum SecretCheckError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// What was sent cannot be used; the text says why (never echoing it).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// It cannot be done now; the text says why.
    #[error("{0}")]
    Conflict(String),
}

/// Checks with an uploaded `.env.local` each read every store afresh; at
/// most this many per person and project a minute (on each instance), so
/// nobody can spend the vendors' rate limits, or guess values by their
/// letters, through the page.
const UPLOADS_PER_MINUTE: usize = 20;

/// A project's report as stored, with when it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCoverage {
    pub checked_at_ms: i64,
    pub report: Coverage,
}

#[derive(Clone)]
pub struct SecretChecks {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Storage,
    clients: Arc<VendorClients>,
    notifier: Notifier,
    /// Keys the fingerprints; never leaves the process. Letters are
    /// assigned within one report, so a key per process is enough.
    key: FingerprintKey,
    /// One check per project at a time; who waits takes the one that ran.
    flights: Mutex<HashMap<i64, Arc<Flight>>>,
    /// Open findings per project, for the overview (which must not read
    /// the report on every view): set by this instance's checks and
    /// dismissals, read again from the database once older than
    /// [`COUNT_TTL`] (another instance's check, a dismissal that expired).
    counts: Mutex<HashMap<i64, (std::time::Instant, Option<usize>)>>,
    /// When each person's recent upload checks of each project ran.
    uploads: Mutex<HashMap<(i64, String), std::collections::VecDeque<std::time::Instant>>>,
    /// The values the checks of each project could read, for masking
    /// logs; held in memory only, each check adding what it read.
    known: Mutex<HashMap<i64, crate::mask::Known>>,
}

/// One project's checks on this instance: one at a time, and when the last
/// one finished.
#[derive(Default)]
struct Flight {
    turn: tokio::sync::Mutex<()>,
    finished_ms: std::sync::atomic::AtomicI64,
}

/// How long a project's count of open findings is trusted.
const COUNT_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// Finding kinds told to Slack when they appear: a required key became
/// absent, empty or inconsistent.
const ANNOUNCED: &[&str] = &["missing:", "empty:", "inconsistent:"];

impl SecretChecks {
    pub fn new(
        storage: Storage,
        clients: Arc<VendorClients>,
        notifier: Notifier,
        key: FingerprintKey,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                storage,
                clients,
                notifier,
                key,
                flights: Mutex::default(),
                counts: Mutex::default(),
                uploads: Mutex::default(),
                known: Mutex::default(),
            }),
        }
    }

    fn flight(&self, project_id: i64) -> Arc<Flight> {
        let mut flights = self.inner.flights.lock().unwrap_or_else(|p| p.into_inner());
        flights.entry(project_id).or_default().clone()
    }

    /// Reads the project's stores, checks them, stores the report and tells
    /// Slack what got worse. A caller that had to wait for a check already
    /// running on this instance gets that check's report.
    pub async fn refresh(&self, t: &SyncTarget) -> Result<StoredCoverage, SecretCheckError> {
        use std::sync::atomic::Ordering;
        let asked = now_ms();
        let flight = self.flight(t.project_id);
        let _turn = flight.turn.lock().await;
        let mut before = self.stored_record(t.project_id).await?;
        let finished = flight.finished_ms.load(Ordering::SeqCst);
        if let Some(done) = before.take_if(|b| b.reads && finished >= asked) {
            return Ok(done.into_stored());
        }
        // A report is stamped with when its reads began: what it says was
        // true then, or later.
        let started = now_ms();
        let report = self.check(t, None).await;
        // Another instance may store a report while this one checks: compare
        // and swap, and on a clash decide again against what it stored.
        for _ in 0..3 {
            // A newer check is stored: this one is out of date.
            if let Some(newer) = before.take_if(|b| b.reads && b.checked_at_ms > started) {
                return Ok(newer.into_stored());
            }
            let known = known_findings(&report, before.as_ref());
            let json = serde_json::to_string(&StoredJson {
                report: &report,
                known: &known,
            })
            .map_err(|e| StorageError::Corrupt(format!("the report could not be encoded: {e}")))?;
            let stored = self
                .inner
                .storage
                .store_secret_report(
                    t.project_id,
                    before.as_ref().map(|b| b.checked_at_ms),
                    started,
                    &json,
                )
                .await?;
            if stored {
                // After a report that did not read back, nothing is known
                // to have changed: announce nothing rather than everything.
                if let Some(b) = before.as_ref().filter(|b| b.reads) {
                    self.announce(t, &b.known, b.checked_at_ms, &report).await;
                }
                self.count_again(t.project_id).await;
                flight.finished_ms.store(now_ms(), Ordering::SeqCst);
                return Ok(StoredCoverage {
                    checked_at_ms: started,
                    report,
                });
            }
            before = self.stored_record(t.project_id).await?;
        }
        Err(SecretCheckError::Storage(StorageError::Interrupted(
            "other checks of this project kept storing reports at the same time".into(),
        )))
    }

    /// The secret values of the project's stores that Greenroom can read,
    /// to mask in what it shows: what this instance's checks read, or read
    /// now when none has (a store that cannot be read adds nothing;
    /// token-shaped strings are masked all the same).
    pub async fn known_values(&self, t: &SyncTarget) -> crate::mask::Known {
        let held = |inner: &Inner| {
            inner
                .known
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&t.project_id)
                .cloned()
        };
        if let Some(k) = held(&self.inner) {
            return k;
        }
        let c = &self.inner.clients;
        let sources = gather::gather(&t.project, &c.netlify, &c.github).await;
        self.remember(t.project_id, sources.known_values())
    }

    /// Adds what a read found to what earlier reads found (a store that
    /// failed this time must not unmask what it held); answers the whole.
    fn remember(&self, project_id: i64, found: crate::mask::Known) -> crate::mask::Known {
        let mut known = self.inner.known.lock().unwrap_or_else(|p| p.into_inner());
        let merged = match known.get(&project_id) {
            Some(before) => before.merged(&found),
            None => found,
        };
        known.insert(project_id, merged.clone());
        merged
    }

    /// The project's open findings (not dismissed); `None` before its first
    /// check.
    pub async fn open_count(&self, project_id: i64) -> Result<Option<usize>, StorageError> {
        let cached = self
            .inner
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&project_id)
            .filter(|(at, _)| at.elapsed() < COUNT_TTL)
            .map(|(_, n)| *n);
        if let Some(n) = cached {
            return Ok(n);
        }
        let n = match self.stored(project_id).await? {
            Some(s) => {
                let dismissals = self.inner.storage.dismissals(project_id).await?;
                Some(open_findings(&s.report, &dismissals, now_ms()))
            }
            None => None,
        };
        self.inner
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(project_id, (std::time::Instant::now(), n));
        Ok(n)
    }

    /// Forgets the project's count and reads it again.
    async fn count_again(&self, project_id: i64) {
        self.inner
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&project_id);
        if let Err(e) = self.open_count(project_id).await {
            tracing::warn!(error = %e, "the count of open secret findings could not be read");
        }
    }

    /// The stored report of the project, if a check has run.
    pub async fn stored(&self, project_id: i64) -> Result<Option<StoredCoverage>, StorageError> {
        Ok(self
            .stored_record(project_id)
            .await?
            .filter(|r| r.reads)
            .map(Previous::into_stored))
    }

    /// The stored report with the findings it counts as known. A report
    /// that no longer reads (written by another version) counts as none, so
    /// the next check replaces it instead of failing on it.
    async fn stored_record(&self, project_id: i64) -> Result<Option<Previous>, StorageError> {
        let Some(row) = self.inner.storage.secret_report(project_id).await? else {
            return Ok(None);
        };
        match serde_json::from_str::<StoredOwned>(&row.report_json) {
            Ok(s) => Ok(Some(Previous {
                checked_at_ms: row.checked_at_ms,
                report: s.report,
                known: s.known,
                reads: true,
            })),
            Err(e) => {
                tracing::warn!(project_id, error = %e, "a stored secret report does not read back; the next check replaces it");
                // The report is unusable, but its time still guards the swap.
                Ok(Some(Previous {
                    checked_at_ms: row.checked_at_ms,
                    report: Coverage::empty(&row.project_id.to_string()),
                    known: BTreeSet::new(),
                    reads: false,
                }))
            }
        }
    }

    /// Checks the project with a person's `.env.local`, read fresh from the
    /// vendors. The text is parsed here and dropped on return: nothing of
    /// it is stored, logged or returned but names, states and letters.
    pub async fn with_env_local(
        &self,
        t: &SyncTarget,
        who: &str,
        text: &str,
    ) -> Result<Coverage, SecretCheckError> {
        if text.len() > dotenv::MAX_BYTES {
            return Err(SecretCheckError::Invalid(format!(
                "The file is larger than {} KiB; a .env.local is not. Nothing was kept.",
                dotenv::MAX_BYTES / 1024
            )));
        }
        {
            let mut uploads = self.inner.uploads.lock().unwrap_or_else(|p| p.into_inner());
            let recent = uploads.entry((t.project_id, who.to_string())).or_default();
            let minute = std::time::Duration::from_secs(60);
            while recent.front().is_some_and(|at| at.elapsed() > minute) {
                recent.pop_front();
            }
            if recent.len() >= UPLOADS_PER_MINUTE {
                return Err(SecretCheckError::Conflict(format!(
                    "You checked {UPLOADS_PER_MINUTE} .env.local files of this project in the last minute; try again in a minute."
                )));
            }
            recent.push_back(std::time::Instant::now());
        }
        let env = dotenv::parse(".env.local", text);
        Ok(self.check(t, Some(&env)).await)
    }

    async fn check(&self, t: &SyncTarget, env: Option<&dotenv::EnvFile>) -> Coverage {
        let c = &self.inner.clients;
        let sources = gather::gather(&t.project, &c.netlify, &c.github).await;
        self.remember(t.project_id, sources.known_values());
        coverage(&Check {
            project: &t.project,
            sources: &sources,
            env_local: env,
            key: &self.inner.key,
        })
    }

    /// One message per finding that is not among those the previous report
    /// knew; the event key names that report, and only one instance can
    /// store the report after it, so a change is told once.
    async fn announce(
        &self,
        t: &SyncTarget,
        known: &BTreeSet<String>,
        before_ms: i64,
        now: &Coverage,
    ) {
        let new: Vec<&Finding> = now
            .findings
            .iter()
            .filter(|f| ANNOUNCED.iter().any(|p| f.id.starts_with(p)))
            .filter(|f| !known.contains(&f.id))
            .collect();
        if new.is_empty() {
            return;
        }
        let dismissed = match self.inner.storage.dismissals(t.project_id).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "dismissals could not be read; announcing every change");
                Vec::new()
            }
        };
        let at = now_ms();
        let link = self.inner.notifier.link(&format!(
            "/secrets?project={}",
            url::form_urlencoded::byte_serialize(t.project.name.as_str().as_bytes())
                .collect::<String>()
        ));
        for f in new {
            if is_dismissed(&dismissed, f, at) {
                continue;
            }
            let text = format!(
                ":warning: Secret coverage of {}: {}. {}",
                t.project.name, f.title, link
            );
            let event = format!("secrets:{}:{}:{before_ms}", t.project_id, f.id);
            self.inner.notifier.announce(&event, &text).await;
        }
    }

    /// Dismisses a finding of the project's current report (admins; the
    /// caller checks the role). Audited.
    pub async fn dismiss(
        &self,
        t: &SyncTarget,
        user: &SessionUser,
        finding_id: &str,
        reason: &str,
        until_ms: Option<i64>,
    ) -> Result<i64, SecretCheckError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(SecretCheckError::Invalid(
                "Say why this finding is dismissed; the reason is shown to everyone.".into(),
            ));
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(SecretCheckError::Invalid(format!(
                "Keep the reason under {MAX_REASON_CHARS} characters."
            )));
        }
        if until_ms.is_some_and(|u| u <= now_ms()) {
            return Err(SecretCheckError::Invalid(
                "The date to dismiss it until has passed; pick a later one or none.".into(),
            ));
        }
        let known = self
            .stored(t.project_id)
            .await?
            .is_some_and(|s| s.report.findings.iter().any(|f| f.id == finding_id));
        if !known {
            return Err(SecretCheckError::NotFound(
                "That finding is not in the project's latest check; reload the page.".into(),
            ));
        }
        let s = &self.inner.storage;
        let id = s
            .dismiss_finding(t.project_id, finding_id, reason, until_ms, &user.login)
            .await?
            .ok_or_else(|| {
                SecretCheckError::Conflict(
                    "This finding is already dismissed; undo that dismissal first to change it."
                        .into(),
                )
            })?;
        let event = audit_event(
            user,
            t,
            "secrets.dismiss",
            finding_id,
            serde_json::json!({ "dismissal": id, "reason": reason, "until_ms": until_ms }),
        );
        s.record_finished_audit(&event, AuditOutcome::Succeeded, None)
            .await?;
        self.count_again(t.project_id).await;
        Ok(id)
    }

    /// Undoes a dismissal, so its finding shows again. Audited.
    pub async fn undo_dismissal(
        &self,
        t: &SyncTarget,
        user: &SessionUser,
        id: i64,
    ) -> Result<DismissalRecord, SecretCheckError> {
        let s = &self.inner.storage;
        let undone = s
            .undo_dismissal(t.project_id, id, &user.login)
            .await?
            .ok_or_else(|| {
                SecretCheckError::NotFound(
                    "That dismissal is not active any more; reload the page.".into(),
                )
            })?;
        let event = audit_event(
            user,
            t,
            "secrets.undo-dismissal",
            &undone.finding_id,
            serde_json::json!({ "dismissal": id }),
        );
        s.record_finished_audit(&event, AuditOutcome::Succeeded, None)
            .await?;
        self.count_again(t.project_id).await;
        Ok(undone)
    }

    pub async fn dismissals(&self, project_id: i64) -> Result<Vec<DismissalRecord>, StorageError> {
        self.inner.storage.dismissals(project_id).await
    }
}

/// The stored form: the report, and the findings counted as known. A
/// finding a store that could not be read hid this time stays known, so a
/// vendor's outage and return do not announce it again.
#[derive(serde::Serialize)]
struct StoredJson<'a> {
    report: &'a Coverage,
    known: &'a BTreeSet<String>,
}

#[derive(serde::Deserialize)]
struct StoredOwned {
    report: Coverage,
    #[serde(default)]
    known: BTreeSet<String>,
}

struct Previous {
    checked_at_ms: i64,
    report: Coverage,
    known: BTreeSet<String>,
    /// False when the stored report did not read back.
    reads: bool,
}

impl Previous {
    fn into_stored(self) -> StoredCoverage {
        StoredCoverage {
            checked_at_ms: self.checked_at_ms,
            report: self.report,
        }
    }
}

/// The findings of `now`, and those `before` knew whose key now has a
/// store that could not be read (they may well still hold).
fn known_findings(now: &Coverage, before: Option<&Previous>) -> BTreeSet<String> {
    let mut known: BTreeSet<String> = now.findings.iter().map(|f| f.id.clone()).collect();
    let Some(before) = before else {
        return known;
    };
    let earlier = before
        .report
        .findings
        .iter()
        .map(|f| f.id.as_str())
        .chain(before.known.iter().map(String::as_str));
    let carried: Vec<String> = earlier
        .filter(|id| !known.contains(*id) && clouded(now, id))
        .map(str::to_string)
        .collect();
    known.extend(carried);
    known
}

/// Whether `now` could not tell if an announced finding still holds: for
/// `missing:KEY:TARGET` and `empty:KEY:TARGET`, that requirement is unknown;
/// for `inconsistent:KEY`, one of the key's requirements is.
fn clouded(now: &Coverage, id: &str) -> bool {
    let mut parts = id.splitn(3, ':');
    let (Some(kind), Some(key)) = (parts.next(), parts.next()) else {
        return false;
    };
    let target = parts.next();
    // A file that could not be read takes its discovered requirements (and
    // the findings about them) out of the report.
    let files_unread = !now.problems.is_empty()
        || now
            .unread
            .iter()
            .any(|u| u.source.contains('.') || u.source.contains('/'));
    let Some(row) = now.rows.iter().find(|r| r.key == key) else {
        return files_unread;
    };
    match kind {
        "missing" | "empty" => match row.needs.iter().find(|n| Some(n.target.as_str()) == target) {
            Some(n) => n.verdict == Verdict::Unknown,
            None => files_unread,
        },
        // Values are compared across every store the key is in: any store
        // that could not be read may hold the other value.
        "inconsistent" => row.cells.iter().any(|c| matches!(c, Cell::Unknown { .. })),
        _ => false,
    }
}

/// Whether an active dismissal hides `f` at `now`.
pub fn is_dismissed(dismissals: &[DismissalRecord], f: &Finding, now: i64) -> bool {
    dismissals
        .iter()
        .any(|d| d.finding_id == f.id && d.active_at(now))
}

/// Findings of `report` not dismissed at `now`.
pub fn open_findings(report: &Coverage, dismissals: &[DismissalRecord], now: i64) -> usize {
    report
        .findings
        .iter()
        .filter(|f| !is_dismissed(dismissals, f, now))
        .count()
}

fn audit_event(
    user: &SessionUser,
    t: &SyncTarget,
    action: &str,
    finding: &str,
    params: serde_json::Value,
) -> NewAuditEvent {
    NewAuditEvent {
        actor_login: Some(user.login.clone()),
        actor_id: Some(user.id),
        role: Some(user.role.as_str().to_string()),
        action: action.into(),
        project: Some(t.project.name.to_string()),
        target_kind: Some("finding".into()),
        target_id: Some(finding.to_string()),
        params,
        request_id: None,
        client_ip: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::coverage::{Need, Row, RowGroup};
    use crate::secrets::findings::Severity;

    fn report(verdict: Verdict, missing: bool) -> Coverage {
        let mut c = Coverage::empty("p");
        c.rows.push(Row {
            key: "KEY".into(),
            group: RowGroup::Required,
            cells: vec![],
            needs: vec![Need {
                target: "github".into(),
                origin: "config".into(),
                declared: true,
                verdict,
                columns: vec![],
            }],
        });
        if missing {
            c.findings.push(Finding {
                id: "missing:KEY:github".into(),
                severity: Severity::High,
                key: Some("KEY".into()),
                title: "KEY is missing".into(),
                detail: String::new(),
                fix: None,
                columns: vec![],
            });
        }
        c
    }

    fn previous(report: Coverage) -> Previous {
        let known = report.findings.iter().map(|f| f.id.clone()).collect();
        Previous {
            checked_at_ms: 1,
            report,
            known,
            reads: true,
        }
    }

    #[test]
    fn a_finding_hidden_by_an_unreadable_store_stays_known() {
        let before = previous(report(Verdict::Missing, true));
        // The store went unreadable: the finding is gone but still known...
        let blind = report(Verdict::Unknown, false);
        let known = known_findings(&blind, Some(&before));
        assert!(known.contains("missing:KEY:github"));
        // ...and stays known through a second blind check.
        let still = known_findings(
            &blind,
            Some(&Previous {
                checked_at_ms: 2,
                report: blind.clone(),
                known,
                reads: true,
            }),
        );
        assert!(still.contains("missing:KEY:github"));
    }

    #[test]
    fn a_fixed_finding_is_forgotten_so_its_return_is_told() {
        let before = previous(report(Verdict::Missing, true));
        let fixed = report(Verdict::Present, false);
        assert!(known_findings(&fixed, Some(&before)).is_empty());
    }
}
