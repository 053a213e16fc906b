//! The sandbox's world: who and what exists. Seeded by default, or loaded from
//! a JSON file (`--world FILE` / `GREENROOM_SANDBOX_WORLD`) checked on load.

use crate::model::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    /// Seeds every generated detail, so the same seed gives the same world.
    pub seed: u64,
    /// The end of the seeded history (ms since the epoch); absent = the start
    /// of the current UTC day when the sandbox starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_ms: Option<i64>,
    pub netlify: NetlifyWorld,
    pub github: GithubWorld,
    pub supabase: SupabaseWorld,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetlifyWorld {
    pub account_slug: String,
    pub staging_site_id: String,
    pub production_site_id: String,
    /// Absent collections are generated from the seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploys: Option<Vec<Deploy>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<EnvVar>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_hooks: Option<Vec<BuildHook>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubWorld {
    pub org: String,
    pub owner: String,
    pub repo: String,
    pub workflow: String,
    pub deploy_job: String,
    pub environments: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs: Option<Vec<Run>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commits: Option<Vec<Commit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Vec<SecretName>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<Variable>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<RepoFile>>,
    /// Secret and variable stores the sandbox's token may not read (403, as
    /// GitHub answers a token without the permission): `repo-secrets`,
    /// `org-secrets`, `repo-variables`, `org-variables`, `environment-secrets:<env>`,
    /// `environment-variables:<env>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupabaseWorld {
    pub project_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branches: Option<Vec<Branch>>,
}

/// A person in the GitHub org; `team` maps to a Greenroom role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub login: String,
    pub id: u64,
    pub name: String,
    pub team: Option<String>,
    pub role: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("cannot read the world file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("the world file {path} is not valid: {reason}")]
    Invalid { path: String, reason: String },
}

const ROLES: &[&str] = &["viewer", "deployer", "admin"];

impl World {
    /// The default world: the team of the staging playbook. Its identifiers
    /// match `greenroom::config::sandbox_project()` (a test keeps them equal).
    pub fn seeded(seed: u64) -> Self {
        let member = |login: &str, id: u64, name: &str, team: Option<&str>, role: &str| Member {
            login: login.into(),
            id,
            name: name.into(),
            team: team.map(Into::into),
            role: role.into(),
        };
        Self {
            seed,
            anchor_ms: None,
            netlify: NetlifyWorld {
                account_slug: "allincompassing".into(),
                staging_site_id: "5a1b7c2e-0000-4000-8000-00000000st01".into(),
                production_site_id: "5a1b7c2e-0000-4000-8000-00000000pr01".into(),
                deploys: None,
                env: None,
                build_hooks: None,
            },
            github: GithubWorld {
                org: "allincompassing".into(),
                owner: "allincompassing".into(),
                repo: "allincompassing".into(),
                workflow: "ci.yml".into(),
                deploy_job: "deploy-staging".into(),
                environments: vec!["staging".into(), "production".into()],
                runs: None,
                commits: None,
                secrets: None,
                variables: None,
                files: None,
                // Deliberate gap: a token that cannot read one store.
                forbidden: vec!["environment-secrets:production".into()],
            },
            supabase: SupabaseWorld {
                project_ref: "wnnjeqheqxxyrgsjmygy".into(),
                branches: None,
            },
            members: vec![
                member("vera-viewer", 1001, "Vera Viewer", Some("staff"), "viewer"),
                member(
                    "dev-deployer",
                    1002,
                    "Dev Deployer",
                    Some("developers"),
                    "deployer",
                ),
                member("ada-admin", 1003, "Ada Admin", Some("platform"), "admin"),
            ],
        }
    }

    /// Reads and checks a world file (JSON, the shape `GET /__sandbox/world` returns).
    pub fn load(path: &Path) -> Result<Self, WorldError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| WorldError::Unreadable {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let world: World = serde_json::from_str(&text).map_err(|e| WorldError::Invalid {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        world.check().map_err(|reason| WorldError::Invalid {
            path: shown,
            reason,
        })?;
        Ok(world)
    }

    fn check(&self) -> Result<(), String> {
        for (what, value) in [
            ("netlify.account_slug", &self.netlify.account_slug),
            ("netlify.staging_site_id", &self.netlify.staging_site_id),
            (
                "netlify.production_site_id",
                &self.netlify.production_site_id,
            ),
            ("github.owner", &self.github.owner),
            ("github.repo", &self.github.repo),
            ("supabase.project_ref", &self.supabase.project_ref),
        ] {
            if value.trim().is_empty() {
                return Err(format!("{what} must not be empty"));
            }
        }
        let sites = [
            &self.netlify.staging_site_id,
            &self.netlify.production_site_id,
        ];
        for (i, v) in self.netlify.env.iter().flatten().enumerate() {
            check_env_var(i, v, &sites)?;
        }
        for store in &self.github.forbidden {
            let known = matches!(
                store.as_str(),
                "repo-secrets" | "org-secrets" | "repo-variables"
            ) || store
                .strip_prefix("environment-secrets:")
                .or_else(|| store.strip_prefix("environment-variables:"))
                .is_some_and(|e| self.github.environments.iter().any(|x| x == e));
            if !known {
                return Err(format!(
                    "github.forbidden: {store:?} is not a store (repo-secrets, org-secrets, repo-variables, org-variables, environment-secrets:<env>, environment-variables:<env> of a listed environment)"
                ));
            }
        }
        let mut ids = std::collections::HashSet::new();
        for (i, d) in self.netlify.deploys.iter().flatten().enumerate() {
            if !sites.contains(&&d.site_id) {
                return Err(format!(
                    "netlify.deploys[{i}].site_id {:?} is neither the staging nor the production site",
                    d.site_id
                ));
            }
            if !(d.created_ms <= d.building_ms
                && d.building_ms <= d.processing_ms
                && d.processing_ms <= d.done_ms)
            {
                return Err(format!(
                    "netlify.deploys[{i}]: times must not go backwards (created_ms <= building_ms <= processing_ms <= done_ms)"
                ));
            }
            if !ids.insert(d.id.clone()) {
                return Err(format!("netlify.deploys[{i}].id {:?} appears twice", d.id));
            }
        }
        let mut run_ids = std::collections::HashSet::new();
        for (i, r) in self.github.runs.iter().flatten().enumerate() {
            if !run_ids.insert(r.id) {
                return Err(format!("github.runs[{i}].id {} appears twice", r.id));
            }
            if r.jobs.is_empty() {
                return Err(format!("github.runs[{i}] has no jobs"));
            }
        }
        for (i, b) in self.supabase.branches.iter().flatten().enumerate() {
            if b.name.trim().is_empty() {
                return Err(format!("supabase.branches[{i}].name must not be empty"));
            }
        }
        let mut logins = std::collections::HashSet::new();
        for (i, m) in self.members.iter().enumerate() {
            if !ROLES.contains(&m.role.as_str()) {
                return Err(format!(
                    "members[{i}].role is {:?}; use one of {}",
                    m.role,
                    ROLES.join(", ")
                ));
            }
            if !logins.insert(m.login.to_ascii_lowercase()) {
                return Err(format!("members[{i}].login {:?} appears twice", m.login));
            }
        }
        Ok(())
    }
}

/// Netlify's rules for an env var: known contexts and scopes, a `branch`
/// value names its branch, and a secret has no `all` or `dev` value and no
/// `post-processing` scope (Netlify refuses those).
fn check_env_var(i: usize, v: &crate::model::EnvVar, sites: &[&String]) -> Result<(), String> {
    use crate::model::{ENV_CONTEXTS, ENV_SCOPES};
    let at = format!("netlify.env[{i}] ({})", v.key);
    if !sites.contains(&&v.site_id) {
        return Err(format!(
            "{at}: site_id is neither the staging nor the production site"
        ));
    }
    if v.key.is_empty() || !v.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("{at}: a key is letters, digits and _"));
    }
    for value in &v.values {
        if !ENV_CONTEXTS.contains(&value.context.as_str()) {
            return Err(format!("{at}: unknown context {:?}", value.context));
        }
        if (value.context == "branch") != value.context_parameter.is_some() {
            return Err(format!(
                "{at}: context_parameter names the branch of a `branch` value, and only there"
            ));
        }
        if v.is_secret && matches!(value.context.as_str(), "all" | "dev" | "dev-server") {
            return Err(format!(
                "{at}: a secret cannot have a value for `{}`; Netlify keeps secret values out of local development",
                value.context
            ));
        }
    }
    for scope in v.scopes.iter().flatten() {
        if !ENV_SCOPES.contains(&scope.as_str()) {
            return Err(format!("{at}: unknown scope {scope:?}"));
        }
        if v.is_secret && scope == "post-processing" {
            return Err(format!(
                "{at}: a secret cannot have the post-processing scope"
            ));
        }
    }
    Ok(())
}
