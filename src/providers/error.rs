//! The one error type of the vendor clients. Its text names the vendor and
//! the operation and says what a person can do; it never contains a token or
//! a secret URL (reqwest errors are stripped of their URL before use).

use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Netlify,
    GitHub,
    Supabase,
    Slack,
}

impl Vendor {
    /// The environment variable holding this vendor's credential.
    pub fn credential_var(self) -> &'static str {
        match self {
            Vendor::Netlify => "NETLIFY_AUTH_TOKEN",
            Vendor::GitHub => "GITHUB_TOKEN",
            Vendor::Supabase => "SUPABASE_ACCESS_TOKEN",
            Vendor::Slack => "SLACK_WEBHOOK_URL",
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Vendor::Netlify => "Netlify",
            Vendor::GitHub => "GitHub",
            Vendor::Supabase => "Supabase",
            Vendor::Slack => "Slack",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// 401: the credential is wrong or expired.
    Unauthorized,
    /// 403: the credential lacks a permission.
    Forbidden { detail: String },
    /// 404 (or Slack's 404/410 for a removed webhook).
    NotFound { detail: String },
    /// 429 or a secondary rate limit; `retry_after` when the vendor said.
    RateLimited { retry_after: Option<Duration> },
    /// Any other 4xx: the vendor refused the request as made.
    Rejected { detail: String },
    /// 5xx: the vendor failed.
    Unavailable,
    /// No answer within the timeout.
    Timeout,
    /// No connection was made (DNS, refused, unreachable): nothing was sent.
    Network { detail: String },
    /// The connection failed after the request was sent (reset, closed):
    /// the vendor may have acted on it.
    Interrupted { detail: String },
    /// An answer that is not what the vendor documents.
    Malformed { detail: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ProviderError {
    pub vendor: Vendor,
    /// The operation, as in the vendor's API description (e.g. `listSiteDeploys`).
    pub operation: &'static str,
    pub status: Option<u16>,
    pub kind: ErrorKind,
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (v, op) = (self.vendor, self.operation);
        let status = self.status.map(|s| format!(" ({s})")).unwrap_or_default();
        match &self.kind {
            ErrorKind::Unauthorized => {
                write!(
                    f,
                    "{v} rejected the credential{status} in {op}: check {}",
                    v.credential_var()
                )
            }
            ErrorKind::Forbidden { detail } => write!(
                f,
                "{v} refused {op}{status}: the credential in {} lacks a permission ({detail})",
                v.credential_var()
            ),
            ErrorKind::NotFound { detail } => {
                write!(f, "{v} found nothing for {op}{status}: {detail}")
            }
            ErrorKind::RateLimited {
                retry_after: Some(d),
            } => {
                write!(
                    f,
                    "{v} is rate-limiting {op}{status}: try again in {} s",
                    d.as_secs().max(1)
                )
            }
            ErrorKind::RateLimited { retry_after: None } => {
                write!(
                    f,
                    "{v} is rate-limiting {op}{status}: try again in a minute"
                )
            }
            ErrorKind::Rejected { detail } => write!(f, "{v} rejected {op}{status}: {detail}"),
            ErrorKind::Unavailable => {
                write!(f, "{v} failed to answer {op}{status}: the vendor is having trouble; try again shortly")
            }
            ErrorKind::Timeout => write!(
                f,
                "{v} did not answer {op} in time: try again, or check the vendor's status page"
            ),
            ErrorKind::Network { detail } => {
                write!(
                    f,
                    "{v} could not be reached for {op}: {detail} (check this server's network)"
                )
            }
            ErrorKind::Interrupted { detail } => {
                write!(f, "{v} stopped answering {op}: {detail}")
            }
            ErrorKind::Malformed { detail } => {
                write!(f, "{v} sent an unexpected answer to {op}: {detail}")
            }
        }
    }
}

impl ProviderError {
    pub fn new(
        vendor: Vendor,
        operation: &'static str,
        status: Option<u16>,
        kind: ErrorKind,
    ) -> Self {
        Self {
            vendor,
            operation,
            status,
            kind,
        }
    }

    /// From a transport error; the URL (which may hold a secret) is dropped.
    pub fn from_reqwest(vendor: Vendor, operation: &'static str, err: reqwest::Error) -> Self {
        let err = err.without_url();
        let status = err.status().map(|s| s.as_u16());
        // A connection never made is checked first: a connect timeout is
        // also a timeout, but nothing reached the vendor.
        let kind = if err.is_connect() {
            ErrorKind::Network {
                detail: root_cause(&err),
            }
        } else if err.is_timeout() {
            ErrorKind::Timeout
        } else if err.is_decode() {
            ErrorKind::Malformed {
                detail: err.to_string(),
            }
        } else {
            ErrorKind::Interrupted {
                detail: root_cause(&err),
            }
        };
        Self {
            vendor,
            operation,
            status,
            kind,
        }
    }

    /// Whether an idempotent read may be tried again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Unavailable
                | ErrorKind::Timeout
                | ErrorKind::Network { .. }
                | ErrorKind::Interrupted { .. }
                | ErrorKind::RateLimited { .. }
        )
    }

    /// Whether a mutation that failed this way may still have been carried
    /// out: the request reached the vendor, and no definitive refusal came
    /// back (a timeout, a 5xx, a connection lost mid-way, a 2xx whose body
    /// could not be read). Only a 4xx with a reason, or a connection never
    /// made, proves nothing was changed.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Unavailable
                | ErrorKind::Timeout
                | ErrorKind::Interrupted { .. }
                | ErrorKind::Malformed { .. }
        )
    }
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
