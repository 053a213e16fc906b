//! Membership decides entry: the configured org must include the person; the
//! team -> role map gives the role (highest wins); an org member in no mapped
//! team gets the default role, or is refused when there is none. Read with
//! Greenroom's own GitHub token, so it can be checked again mid-session
//! without keeping anyone's token.

use crate::config::AuthConfig;
use crate::domain::Role;
use crate::providers::github::GitHubClient;
use crate::providers::ProviderError;
use std::fmt;

/// Why someone may not sign in; the text is shown to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotInOrg { org: String },
    InvitationPending { org: String },
    NoTeam { org: String, teams: Vec<String> },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotInOrg { org } => write!(
                f,
                "You are not a member of the GitHub organization {org}. Ask an owner of {org} to add you."
            ),
            Refusal::InvitationPending { org } => write!(
                f,
                "Your invitation to the GitHub organization {org} is still pending. Accept it on GitHub, then sign in again."
            ),
            Refusal::NoTeam { org, teams } => write!(
                f,
                "You are in {org} but in none of its teams that give access ({}). Ask an admin to add you to one.",
                teams.join(", ")
            ),
        }
    }
}

impl Refusal {
    /// A short code for the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotInOrg { .. } => "not_in_org",
            Refusal::InvitationPending { .. } => "invitation_pending",
            Refusal::NoTeam { .. } => "no_team",
        }
    }
}

/// The highest role among `teams` by the map, else the default.
pub fn role_from_teams<'a>(
    auth: &AuthConfig,
    teams: impl IntoIterator<Item = &'a str>,
) -> Option<Role> {
    teams
        .into_iter()
        .filter_map(|t| auth.team_roles.get(t).copied())
        .max()
        .or(auth.default_role)
}

/// `login`'s role now, or why they have none.
pub async fn role_of(
    github: &GitHubClient,
    auth: &AuthConfig,
    login: &str,
) -> Result<Result<Role, Refusal>, ProviderError> {
    let org = auth.org.clone();
    match github.get_org_membership_for_user(&org, login).await? {
        None => return Ok(Err(Refusal::NotInOrg { org })),
        Some(m) if m.state != "active" => return Ok(Err(Refusal::InvitationPending { org })),
        Some(_) => {}
    }
    let mut teams = Vec::new();
    for team in auth.team_roles.keys() {
        if let Some(m) = github.get_team_membership(&org, team, login).await? {
            if m.state == "active" {
                teams.push(team.as_str());
            }
        }
    }
    Ok(role_from_teams(auth, teams).ok_or_else(|| Refusal::NoTeam {
        org,
        teams: auth.team_roles.keys().cloned().collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn auth(default_role: Option<Role>) -> AuthConfig {
        AuthConfig {
            org: "acme".into(),
            team_roles: BTreeMap::from([
                ("staff".to_string(), Role::Viewer),
                ("devs".to_string(), Role::Deployer),
                ("ops".to_string(), Role::Admin),
            ]),
            default_role,
            membership_check: Duration::from_secs(60),
            session_idle: Duration::from_secs(60),
            session_absolute: Duration::from_secs(60),
            sign_in_attempts_per_minute: 5,
        }
    }

    #[test]
    fn the_highest_mapped_team_wins_and_the_default_covers_the_rest() {
        let a = auth(Some(Role::Viewer));
        assert_eq!(role_from_teams(&a, ["staff", "ops"]), Some(Role::Admin));
        assert_eq!(
            role_from_teams(&a, ["devs", "unmapped"]),
            Some(Role::Deployer)
        );
        assert_eq!(role_from_teams(&a, ["unmapped"]), Some(Role::Viewer));
        assert_eq!(role_from_teams(&auth(None), ["unmapped"]), None);
    }
}
