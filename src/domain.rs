//! Validated identifiers and the vendor states Greenroom reasons about.
//!
//! Parse, don't validate: a value that passed its check gets its own type, so
//! code further in never re-checks a repository slug or a project name.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Error from parsing one of the identifier types; the text says what is
/// expected so that a config error built from it is actionable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(&value).map_err(InvalidValue)?;
                Ok(Self(value))
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::try_from(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn non_blank(what: &'static str) -> impl Fn(&str) -> Result<(), String> {
    move |s: &str| {
        if s.trim().is_empty() {
            Err(format!("{what} must not be empty"))
        } else if s.trim() != s {
            Err(format!("{what} must not start or end with spaces"))
        } else {
            Ok(())
        }
    }
}

string_id!(
    /// A project's name as configured: letters, digits, `-`, `_` and `.`, used in URLs.
    ProjectName,
    |s| {
        non_blank("a project name")(s)?;
        if s.len() > 64 {
            return Err("a project name must be at most 64 characters".into());
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(format!(
                "project name {s:?} may only use letters, digits, '-', '_' and '.' (it appears in URLs)"
            ));
        }
        Ok(())
    }
);

string_id!(
    /// A Netlify site id (a UUID on the real service, any token in the sandbox).
    SiteId,
    |s| {
        non_blank("a Netlify site id")(s)?;
        if s.contains('/') {
            return Err(format!("Netlify site id {s:?} must not contain '/'"));
        }
        Ok(())
    }
);

string_id!(
    /// A Netlify deploy id.
    DeployId,
    |s| non_blank("a Netlify deploy id")(s)
);

string_id!(
    /// A git branch name.
    BranchName,
    |s| {
        non_blank("a branch name")(s)?;
        if s.contains("..") || s.starts_with('-') || s.contains(char::is_whitespace) {
            return Err(format!("{s:?} is not a valid git branch name"));
        }
        Ok(())
    }
);

string_id!(
    /// A GitHub repository as `owner/name`.
    RepoSlug,
    |s| {
        let valid_part = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match s.split_once('/') {
            Some((owner, name)) if valid_part(owner) && valid_part(name) => Ok(()),
            _ => Err(format!("{s:?} is not a GitHub repository; write it as \"owner/name\"")),
        }
    }
);

impl RepoSlug {
    pub fn owner(&self) -> &str {
        self.0.split_once('/').map(|(o, _)| o).unwrap_or_default()
    }
    pub fn name(&self) -> &str {
        self.0.split_once('/').map(|(_, n)| n).unwrap_or_default()
    }
}

/// What a signed-in person may do. Ordered: a higher role has every power of
/// the lower ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Deployer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Deployer => "deployer",
            Role::Admin => "admin",
        }
    }
}

/// Netlify deploy states as its API description lists them (`listSiteDeploys`'
/// `state`), with room for states Netlify adds later.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeployState {
    New,
    /// Waiting for someone to approve it (a deploy from an untrusted
    /// contributor): it goes nowhere by itself.
    PendingReview,
    /// Approved after review; it builds next.
    Accepted,
    /// Refused at review: it will never be published.
    Rejected,
    Enqueued,
    Building,
    Uploading,
    Processing,
    /// Netlify is trying the build again.
    Retrying,
    Ready,
    Error,
    Cancelled,
    /// Netlify no longer has it (deleted while Greenroom watched it).
    Deleted,
    Unknown(String),
}

impl DeployState {
    pub fn as_str(&self) -> &str {
        match self {
            DeployState::New => "new",
            DeployState::PendingReview => "pending_review",
            DeployState::Accepted => "accepted",
            DeployState::Rejected => "rejected",
            DeployState::Retrying => "retrying",
            DeployState::Deleted => "deleted",
            DeployState::Enqueued => "enqueued",
            DeployState::Building => "building",
            DeployState::Uploading => "uploading",
            DeployState::Processing => "processing",
            DeployState::Ready => "ready",
            DeployState::Error => "error",
            DeployState::Cancelled => "cancelled",
            DeployState::Unknown(s) => s,
        }
    }

    /// Whether the deploy can no longer change state.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            DeployState::Ready
                | DeployState::Error
                | DeployState::Cancelled
                | DeployState::Rejected
                | DeployState::Deleted
        )
    }

    /// Whether Netlify is working on it now: these are watched closely and
    /// block another staging deploy. A deploy waiting for review, or in a
    /// state Netlify added after this was written, is neither; the regular
    /// sync pass still picks up what becomes of it.
    pub fn is_in_progress(&self) -> bool {
        matches!(
            self,
            DeployState::New
                | DeployState::Accepted
                | DeployState::Enqueued
                | DeployState::Building
                | DeployState::Uploading
                | DeployState::Processing
                | DeployState::Retrying
        )
    }

    /// The stored names of the states [`Self::is_in_progress`] holds for.
    pub const IN_PROGRESS: &'static [&'static str] = &[
        "new",
        "accepted",
        "enqueued",
        "building",
        "uploading",
        "processing",
        "retrying",
    ];
}

impl From<String> for DeployState {
    fn from(s: String) -> Self {
        match s.as_str() {
            "new" => DeployState::New,
            "pending_review" => DeployState::PendingReview,
            "accepted" => DeployState::Accepted,
            "rejected" => DeployState::Rejected,
            "retrying" => DeployState::Retrying,
            "deleted" => DeployState::Deleted,
            "enqueued" => DeployState::Enqueued,
            "building" => DeployState::Building,
            "uploading" | "uploaded" | "preparing" | "prepared" => DeployState::Uploading,
            "processing" | "processed" => DeployState::Processing,
            "ready" => DeployState::Ready,
            "error" => DeployState::Error,
            "cancelled" | "canceled" => DeployState::Cancelled,
            _ => DeployState::Unknown(s),
        }
    }
}

impl Serialize for DeployState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for DeployState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_slug_needs_owner_and_name() {
        let r: RepoSlug = "acme/app".parse().unwrap();
        assert_eq!((r.owner(), r.name()), ("acme", "app"));
        assert!("acme".parse::<RepoSlug>().is_err());
        assert!("acme/".parse::<RepoSlug>().is_err());
        assert!("a/b/c".parse::<RepoSlug>().is_err());
    }

    #[test]
    fn project_names_are_url_safe() {
        assert!("AllIncompassing".parse::<ProjectName>().is_ok());
        let err = "my project".parse::<ProjectName>().unwrap_err();
        assert!(err.0.contains("may only use"), "{err}");
    }

    #[test]
    fn unknown_deploy_states_survive_a_round_trip() {
        let s = DeployState::from("quarantined".to_string());
        assert_eq!(s, DeployState::Unknown("quarantined".into()));
        assert_eq!(s.as_str(), "quarantined");
        assert!(!s.is_final() && !s.is_in_progress());
        assert!(DeployState::from("ready".to_string()).is_final());
    }

    /// Every state the Netlify description lists maps to a known state, and
    /// each is final, in progress, or waiting for a person: none is polled
    /// for ever or blocks a deploy for ever.
    #[test]
    fn every_documented_deploy_state_is_known() {
        let spec = include_str!("../specs/netlify-swagger.yml");
        let at = spec.find("  /sites/{site_id}/deploys:").unwrap();
        let block = &spec[at..];
        let block = &block[block.find("- name: state").unwrap()..];
        let block = &block[..block.find("in: query").unwrap()];
        let states: Vec<&str> = block
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- "))
            .filter(|l| !l.starts_with("name:"))
            .collect();
        assert!(states.len() >= 15, "{states:?}");
        for s in states {
            let state = DeployState::from(s.to_string());
            assert!(!matches!(state, DeployState::Unknown(_)), "{s}");
            let waiting = state == DeployState::PendingReview;
            assert!(
                state.is_final() ^ state.is_in_progress() ^ waiting,
                "{s} is exactly one of final, in progress, waiting"
            );
            assert_eq!(
                DeployState::IN_PROGRESS.contains(&state.as_str()),
                state.is_in_progress(),
                "{s}"
            );
        }
        assert!(DeployState::from("rejected".to_string()).is_final());
        assert!(DeployState::from("retrying".to_string()).is_in_progress());
    }

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Admin > Role::Deployer && Role::Deployer > Role::Viewer);
    }
}
