//! What the engine reads: each store's names, dates and (where the vendor
//! gives them) values, as fetched at one moment. A store that could not be
//! read is `Unknown` with the reason, never an empty list: "we could not
//! look" and "it is not there" stay apart all the way to the page.

use super::location::{NetlifyContext, Site};
use crate::Secret;
use std::collections::BTreeMap;

/// A store as read: its contents, or why they are unknown.
#[derive(Debug, Clone)]
pub enum Read<T> {
    Got(T),
    Unknown(String),
}

impl<T> Read<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Read::Got(t) => Some(t),
            Read::Unknown(_) => None,
        }
    }

    /// Why it could not be read, if it could not.
    pub fn unknown(&self) -> Option<&str> {
        match self {
            Read::Got(_) => None,
            Read::Unknown(why) => Some(why),
        }
    }
}

/// Where a Netlify value applies: `all`, or one context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueContext {
    All,
    Only(NetlifyContext),
}

impl ValueContext {
    /// From the API's `context` and `context_parameter`; `None` for a
    /// context this version does not know (kept out rather than guessed).
    pub fn parse(context: &str, parameter: Option<&str>) -> Option<Self> {
        Some(match context {
            "all" => Self::All,
            "production" => Self::Only(NetlifyContext::Production),
            "deploy-preview" => Self::Only(NetlifyContext::DeployPreview),
            "branch-deploy" => Self::Only(NetlifyContext::BranchDeploy),
            "dev" | "dev-server" => Self::Only(NetlifyContext::Dev),
            "branch" => Self::Only(NetlifyContext::Branch(
                parameter.filter(|p| !p.is_empty())?.to_string(),
            )),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NetlifyValue {
    pub context: ValueContext,
    /// `None` when Netlify does not return it (secret values).
    pub value: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct NetlifyVar {
    pub key: String,
    pub is_secret: bool,
    pub scopes: Vec<String>,
    pub values: Vec<NetlifyValue>,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
}

impl NetlifyVar {
    /// Whether the variable is available in `scope`. Netlify omits `scopes`
    /// for variables in every scope.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.is_empty() || self.scopes.iter().any(|s| s == scope)
    }
}

/// A GitHub secret: its name and dates.
#[derive(Debug, Clone)]
pub struct GithubSecret {
    pub name: String,
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct GithubVariable {
    pub name: String,
    pub value: Secret,
    pub updated_at: Option<String>,
}

/// A file read from the repository (`None` inside `Read::Got`: not there).
/// Its `Debug` leaves the text out: `.env.example` holds sample values,
/// and a careless team may commit real ones.
#[derive(Clone)]
pub struct RepoText {
    /// The path as shown in origins (`.github/workflows/ci.yml`).
    pub path: String,
    /// The branch or ref it was read at.
    pub reference: String,
    pub text: String,
}

impl std::fmt::Debug for RepoText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepoText")
            .field("path", &self.path)
            .field("reference", &self.reference)
            .field("bytes", &self.text.len())
            .finish()
    }
}

/// The repository files discovery reads.
#[derive(Debug, Clone)]
pub struct RepoFiles {
    pub workflow: Vec<Read<Option<RepoText>>>,
    pub netlify_toml: Read<Option<RepoText>>,
    pub env_example: Read<Option<RepoText>>,
}

/// One read of every store of a project.
#[derive(Debug, Clone)]
pub struct Sources {
    /// One entry per distinct site (one when staging and production share a site).
    pub netlify: Vec<(Site, Read<Vec<NetlifyVar>>)>,
    /// Site names, for links to Netlify's settings pages.
    pub netlify_site_names: BTreeMap<Site, String>,
    pub repo_secrets: Read<Vec<GithubSecret>>,
    pub org_secrets: Read<Vec<GithubSecret>>,
    pub environment_secrets: BTreeMap<String, Read<Vec<GithubSecret>>>,
    pub repo_variables: Read<Vec<GithubVariable>>,
    /// Organization variables visible to the repository.
    pub org_variables: Read<Vec<GithubVariable>>,
    pub environment_variables: BTreeMap<String, Read<Vec<GithubVariable>>>,
    pub files: RepoFiles,
}

impl Sources {
    /// Every value these reads returned (Netlify's readable values and the
    /// GitHub variables at each level): what a log shown by Greenroom must
    /// have masked, whatever its shape.
    pub fn known_values(&self) -> crate::mask::Known {
        let netlify = self
            .netlify
            .iter()
            .filter_map(|(_, r)| r.ok())
            .flatten()
            .flat_map(|v| v.values.iter())
            .filter_map(|v| v.value.as_ref());
        let variables = [&self.repo_variables, &self.org_variables]
            .into_iter()
            .chain(self.environment_variables.values())
            .filter_map(Read::ok)
            .flatten()
            .map(|v| &v.value);
        crate::mask::Known::new(netlify.chain(variables).map(|s| s.expose().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_branch_value_needs_its_branch_and_unknown_contexts_are_kept_out() {
        assert_eq!(
            ValueContext::parse("branch", Some("staging")),
            Some(ValueContext::Only(NetlifyContext::Branch("staging".into())))
        );
        assert_eq!(ValueContext::parse("branch", None), None);
        assert_eq!(ValueContext::parse("branch", Some("")), None);
        assert_eq!(ValueContext::parse("all", None), Some(ValueContext::All));
        assert_eq!(ValueContext::parse("edge", None), None);
    }
}
