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
}

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
    flights: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    /// Open findings per project, for the overview (which must not read
    /// the report on every view): set by this instance's checks and
    /// dismissals, read again from the database once older than
    /// [`COUNT_TTL`] (another instance's check, a dismissal that expired).
    counts: Mutex<HashMap<i64, (std::time::Instant, Option<usize>)>>,
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
            }),
        }
    }

    fn flight(&self, project_id: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self.inner.flights.lock().unwrap_or_else(|p| p.into_inner());
        flights.entry(project_id).or_default().clone()
    }

    /// Reads the project's stores, checks them, stores the report and tells
    /// Slack what got worse. A caller that had to wait for a check already
    /// running gets that check's report instead of starting another.
    pub async fn refresh(&self, t: &SyncTarget) -> Result<StoredCoverage, SecretCheckError> {
        let asked = now_ms();
        let flight = self.flight(t.project_id);
        let _turn = flight.lock().await;
        if let Some(done) = self.stored(t.project_id).await? {
            if done.checked_at_ms >= asked {
                return Ok(done);
            }
        }
        let report = self.check(t, None).await;
        let json = serde_json::to_string(&report)
            .map_err(|e| StorageError::Corrupt(format!("the report could not be encoded: {e}")))?;
        let checked_at_ms = now_ms().max(asked);
        let previous = self
            .inner
            .storage
            .replace_secret_report(t.project_id, checked_at_ms, &json)
            .await?;
        if let Some(previous) = previous {
            match serde_json::from_str::<Coverage>(&previous.report_json) {
                Ok(before) => {
                    self.announce(t, &before, previous.checked_at_ms, &report)
                        .await
                }
                Err(e) => {
                    tracing::warn!(project = %t.project.name, error = %e, "the previous secret report could not be read; no change announced")
                }
            }
        }
        self.count_again(t.project_id).await;
        Ok(StoredCoverage {
            checked_at_ms,
            report,
        })
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
        let Some(row) = self.inner.storage.secret_report(project_id).await? else {
            return Ok(None);
        };
        let report = serde_json::from_str(&row.report_json).map_err(|e| {
            StorageError::Corrupt(format!("the stored secret report does not read back: {e}"))
        })?;
        Ok(Some(StoredCoverage {
            checked_at_ms: row.checked_at_ms,
            report,
        }))
    }

    /// Checks the project with a person's `.env.local`, read fresh from the
    /// vendors. The text is parsed here and dropped on return: nothing of
    /// it is stored, logged or returned but names, states and letters.
    pub async fn with_env_local(
        &self,
        t: &SyncTarget,
        text: &str,
    ) -> Result<Coverage, SecretCheckError> {
        if text.len() > dotenv::MAX_BYTES {
            return Err(SecretCheckError::Invalid(format!(
                "The file is larger than {} KiB; a .env.local is not. Nothing was kept.",
                dotenv::MAX_BYTES / 1024
            )));
        }
        let env = dotenv::parse(".env.local", text);
        Ok(self.check(t, Some(&env)).await)
    }

    async fn check(&self, t: &SyncTarget, env: Option<&dotenv::EnvFile>) -> Coverage {
        let c = &self.inner.clients;
        let sources = gather::gather(&t.project, &c.netlify, &c.github).await;
        coverage(&Check {
            project: &t.project,
            sources: &sources,
            env_local: env,
            key: &self.inner.key,
        })
    }

    /// One message per finding that appeared since `before`; the event key
    /// names the report it appeared after, so instances storing the same
    /// change send it once, and a problem that comes back is told again.
    async fn announce(&self, t: &SyncTarget, before: &Coverage, before_ms: i64, now: &Coverage) {
        let old: BTreeSet<&str> = before.findings.iter().map(|f| f.id.as_str()).collect();
        let new: Vec<&Finding> = now
            .findings
            .iter()
            .filter(|f| ANNOUNCED.iter().any(|p| f.id.starts_with(p)))
            .filter(|f| !old.contains(f.id.as_str()))
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
            .await?;
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
