//! Who may use Greenroom and as what: GitHub sign-in (OAuth web flow with
//! `state` and PKCE), org and team membership mapped to a role, what a
//! session remembers, safe post-sign-in redirects, and a per-IP limit on
//! sign-in attempts. The web layer (server crate) wires these to routes.

pub mod membership;
pub mod rate_limit;
pub mod recheck;
pub mod redirect;
pub mod signin;

use crate::domain::Role;
use serde::{Deserialize, Serialize};

/// The session key holding [`SessionUser`].
pub const USER_KEY: &str = "greenroom.user";
/// The session key holding a sign-in in progress ([`PendingSignIn`]).
pub const PENDING_KEY: &str = "greenroom.signin";
/// The session key holding why the last sign-in was refused.
pub const REFUSAL_KEY: &str = "greenroom.refusal";

/// Who is signed in. Stored in the session (the database); it holds no
/// token: membership is checked again with Greenroom's own GitHub token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub login: String,
    pub id: i64,
    pub name: Option<String>,
    pub role: Role,
    pub signed_in_at_ms: i64,
    /// When membership was last confirmed.
    pub checked_at_ms: i64,
}

/// Put beside the [`SessionUser`] of a request when GitHub could not confirm
/// the membership at the last re-check: the role is the last known one, kept
/// for a bounded grace, and pages say so. Holds when it was last confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleUnconfirmed(pub i64);

/// A sign-in between the redirect to GitHub and the callback. Its `Debug`
/// hides the state and the PKCE verifier.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub state: String,
    pub pkce_verifier: String,
    /// Where to go afterwards: a checked same-site path.
    pub next: String,
    pub started_at_ms: i64,
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("state", &crate::secret::REDACTED)
            .field("pkce_verifier", &crate::secret::REDACTED)
            .field("next", &self.next)
            .field("started_at_ms", &self.started_at_ms)
            .finish()
    }
}

/// A sign-in must come back within this long.
pub const PENDING_TTL_MS: i64 = 10 * 60 * 1000;

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Ends every session but `keep` (the admin's own), audited as
/// `sessions_end_all`: pending first, then the outcome. Returns how many.
pub async fn end_all_sessions(
    storage: &crate::Storage,
    by: &SessionUser,
    keep: Option<&str>,
    client_ip: Option<String>,
) -> Result<u64, crate::StorageError> {
    use crate::storage::{AuditOutcome, NewAuditEvent};
    let event = NewAuditEvent {
        actor_login: Some(by.login.clone()),
        actor_id: Some(by.id),
        role: Some(by.role.as_str().to_string()),
        action: "sessions_end_all".into(),
        client_ip,
        ..Default::default()
    };
    let id = storage.record_audit(&event, AuditOutcome::Pending).await?;
    match storage.delete_sessions_except(keep).await {
        Ok(n) => {
            storage
                .settle_audit(
                    id,
                    AuditOutcome::Succeeded,
                    Some(&format!("{n} sessions ended")),
                    &[],
                )
                .await?;
            Ok(n)
        }
        Err(e) => {
            let _ = storage
                .settle_audit(id, AuditOutcome::Failed, Some(&e.to_string()), &[])
                .await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PendingSignIn;

    #[test]
    fn a_pending_sign_in_never_prints_its_verifier() {
        let p = PendingSignIn {
            state: "canary-state".into(),
            pkce_verifier: "canary-verifier".into(),
            next: "/history".into(),
            started_at_ms: 1,
        };
        let printed = format!("{p:?} {p:#?}");
        assert!(!printed.contains("canary"), "{printed}");
        assert!(printed.contains("/history"), "{printed}");
    }
}
