//! Where a key can live (the matrix's columns) and where a requirement asks
//! for it (a target, which may resolve over several columns).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which of the project's two Netlify sites. When both ids are the same site,
/// only `Production` columns are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Site {
    Production,
    Staging,
}

/// A Netlify deploy context. `Branch` is a branch context such as `staging`
/// (Netlify's `context: branch` with `context_parameter`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "branch", rename_all = "kebab-case")]
pub enum NetlifyContext {
    Production,
    DeployPreview,
    BranchDeploy,
    Dev,
    Branch(String),
}

impl NetlifyContext {
    /// The context a name in `netlify.toml` or a config target means: the
    /// reserved names, else a branch context of that name.
    pub fn from_name(name: &str) -> Self {
        match name {
            "production" => Self::Production,
            "deploy-preview" => Self::DeployPreview,
            "branch-deploy" => Self::BranchDeploy,
            "dev" | "dev-server" => Self::Dev,
            branch => Self::Branch(branch.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Production => "production",
            Self::DeployPreview => "deploy-preview",
            Self::BranchDeploy => "branch-deploy",
            Self::Dev => "dev",
            Self::Branch(b) => b,
        }
    }

    /// The site a context lives on when a target does not say: production
    /// and deploy previews on the production site, branch builds (staging)
    /// on the staging site.
    pub fn default_site(&self) -> Site {
        match self {
            Self::Production | Self::DeployPreview => Site::Production,
            Self::BranchDeploy | Self::Dev | Self::Branch(_) => Site::Staging,
        }
    }
}

/// A level of GitHub Actions configuration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum GithubLevel {
    Environment(String),
    Repository,
    Organization,
}

/// One column of the matrix: a single store of values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "store", rename_all = "kebab-case")]
pub enum Location {
    /// The value Netlify would use in this context after its precedence rules.
    Netlify {
        site: Site,
        context: NetlifyContext,
    },
    GithubSecrets {
        level: GithubLevel,
    },
    GithubVariables {
        level: GithubLevel,
    },
    /// The `.env.local` a person uploaded (or passed to the CLI).
    EnvLocal,
}

impl Location {
    /// A short column heading. `one_site` drops the site name when the
    /// project's staging and production are one Netlify site.
    pub fn label(&self, one_site: bool) -> String {
        match self {
            Self::Netlify { site, context } => {
                let ctx = match context {
                    NetlifyContext::Branch(b) => format!("branch {b}"),
                    other => other.name().to_string(),
                };
                if one_site {
                    format!("Netlify {ctx}")
                } else {
                    let site = match site {
                        Site::Production => "production site",
                        Site::Staging => "staging site",
                    };
                    format!("Netlify {site}: {ctx}")
                }
            }
            Self::GithubSecrets { level } => format!("GitHub secrets: {}", level_label(level)),
            Self::GithubVariables { level } => {
                format!("GitHub variables: {}", level_label(level))
            }
            Self::EnvLocal => ".env.local".to_string(),
        }
    }
}

fn level_label(level: &GithubLevel) -> String {
    match level {
        GithubLevel::Environment(e) => format!("environment {e}"),
        GithubLevel::Repository => "repository".into(),
        GithubLevel::Organization => "organization".into(),
    }
}

/// Where a requirement asks for a key. GitHub targets resolve the way a job
/// does: its environment, then the repository, then the organization.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "kebab-case")]
pub enum Target {
    Netlify { site: Site, context: NetlifyContext },
    GithubSecret { environment: Option<String> },
    GithubVariable { environment: Option<String> },
    EnvLocal,
}

/// A target string in the config that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown secret location {0:?}: use netlify:<context>, netlify:<production|staging>-site/<context>, github, github:<environment>, github-vars, github-vars:<environment> or env-local")]
pub struct BadTarget(pub String);

impl Target {
    /// Parses `netlify:production`, `netlify:staging`,
    /// `netlify:staging-site/branch-deploy`, `github`, `github:staging`,
    /// `github-vars`, `github-vars:staging`, `env-local`.
    pub fn parse(text: &str) -> Result<Self, BadTarget> {
        let bad = || BadTarget(text.to_string());
        let (kind, rest) = match text.split_once(':') {
            Some((k, r)) => (k, Some(r)),
            None => (text, None),
        };
        let nonempty = |r: Option<&str>| -> Result<Option<String>, BadTarget> {
            match r {
                None => Ok(None),
                Some("") => Err(bad()),
                Some(r) => Ok(Some(r.to_string())),
            }
        };
        match kind {
            "netlify" => {
                let rest = rest.filter(|r| !r.is_empty()).ok_or_else(bad)?;
                let (site, context) = match rest.split_once('/') {
                    Some(("production-site", c)) => (Some(Site::Production), c),
                    Some(("staging-site", c)) => (Some(Site::Staging), c),
                    Some(_) => return Err(bad()),
                    None => (None, rest),
                };
                if context.is_empty() || context == "all" {
                    return Err(bad());
                }
                let context = NetlifyContext::from_name(context);
                Ok(Self::Netlify {
                    site: site.unwrap_or_else(|| context.default_site()),
                    context,
                })
            }
            "github" => Ok(Self::GithubSecret {
                environment: nonempty(rest)?,
            }),
            "github-vars" => Ok(Self::GithubVariable {
                environment: nonempty(rest)?,
            }),
            "env-local" | ".env.local" if rest.is_none() => Ok(Self::EnvLocal),
            _ => Err(bad()),
        }
    }

    /// The columns this target reads, most specific first.
    pub fn columns(&self) -> Vec<Location> {
        let chain = |environment: &Option<String>| {
            let mut levels = Vec::new();
            if let Some(e) = environment {
                levels.push(GithubLevel::Environment(e.clone()));
            }
            levels.push(GithubLevel::Repository);
            levels.push(GithubLevel::Organization);
            levels
        };
        match self {
            Self::Netlify { site, context } => vec![Location::Netlify {
                site: *site,
                context: context.clone(),
            }],
            Self::GithubSecret { environment } => chain(environment)
                .into_iter()
                .map(|level| Location::GithubSecrets { level })
                .collect(),
            Self::GithubVariable { environment } => chain(environment)
                .into_iter()
                .map(|level| Location::GithubVariables { level })
                .collect(),
            Self::EnvLocal => vec![Location::EnvLocal],
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Netlify { site, context } => {
                let site = match site {
                    Site::Production => "production-site",
                    Site::Staging => "staging-site",
                };
                write!(f, "netlify:{site}/{}", context.name())
            }
            Self::GithubSecret { environment: None } => f.write_str("github"),
            Self::GithubSecret {
                environment: Some(e),
            } => write!(f, "github:{e}"),
            Self::GithubVariable { environment: None } => f.write_str("github-vars"),
            Self::GithubVariable {
                environment: Some(e),
            } => write!(f, "github-vars:{e}"),
            Self::EnvLocal => f.write_str("env-local"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_default_sites_and_print_back() {
        let t = Target::parse("netlify:staging").unwrap();
        assert_eq!(
            t,
            Target::Netlify {
                site: Site::Staging,
                context: NetlifyContext::Branch("staging".into())
            }
        );
        assert_eq!(t.to_string(), "netlify:staging-site/staging");
        assert_eq!(
            Target::parse("netlify:production").unwrap().to_string(),
            "netlify:production-site/production"
        );
        assert_eq!(
            Target::parse("netlify:staging-site/branch-deploy").unwrap(),
            Target::Netlify {
                site: Site::Staging,
                context: NetlifyContext::BranchDeploy
            }
        );
        assert_eq!(
            Target::parse("github:staging").unwrap(),
            Target::GithubSecret {
                environment: Some("staging".into())
            }
        );
        assert_eq!(Target::parse("env-local").unwrap(), Target::EnvLocal);
        for bad in [
            "",
            "netlify",
            "netlify:",
            "netlify:all",
            "github:",
            "vault:x",
            "netlify:x-site/y",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn a_github_secret_target_reads_environment_then_repository_then_organization() {
        let cols = Target::parse("github:staging").unwrap().columns();
        assert_eq!(
            cols,
            vec![
                Location::GithubSecrets {
                    level: GithubLevel::Environment("staging".into())
                },
                Location::GithubSecrets {
                    level: GithubLevel::Repository
                },
                Location::GithubSecrets {
                    level: GithubLevel::Organization
                },
            ]
        );
    }
}
