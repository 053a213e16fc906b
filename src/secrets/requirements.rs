//! Which keys must exist where, and why: the project's configuration (or
//! the playbook's defaults), then what the repository's files name.

use super::discover::workflow::RefKind;
use super::discover::Discovered;
use super::location::{NetlifyContext, Target};
use crate::config::Project;
use serde::Serialize;
use std::fmt;

/// The playbook's keys for Netlify's production and staging contexts and
/// `.env.local`.
const PLAYBOOK_APP_KEYS: &[&str] = &[
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
    "SUPABASE_SERVICE_ROLE_KEY",
    "SUPABASE_ACCESS_TOKEN",
    "DEFAULT_ORGANIZATION_ID",
];
/// The playbook's keys the staging deploy job needs from GitHub Actions.
const PLAYBOOK_DEPLOY_KEYS: &[&str] = &["NETLIFY_AUTH_TOKEN", "NETLIFY_STAGING_SITE_ID"];
/// Keys whose values must agree everywhere unless the project says otherwise.
pub const DEFAULT_CONSISTENT: &[&str] = &["DEFAULT_ORGANIZATION_ID"];

/// Whether `s` can name an environment variable in every store.
pub fn is_key(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Where a requirement came from, shown next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Origin {
    Config,
    Playbook,
    Workflow {
        file: String,
        line: usize,
        job: Option<String>,
    },
    NetlifyToml {
        file: String,
        context: String,
    },
    EnvExample {
        file: String,
        line: usize,
    },
}

impl Origin {
    /// Configured or the playbook's default, rather than read from a file.
    pub fn is_declared(&self) -> bool {
        matches!(self, Self::Config | Self::Playbook)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config => f.write_str("config"),
            Self::Playbook => f.write_str("playbook default"),
            Self::Workflow { file, line, job } => match job {
                Some(job) => write!(f, "{file}:{line} (job {job})"),
                None => write!(f, "{file}:{line}"),
            },
            Self::NetlifyToml { file, context } => write!(f, "{file} [context.{context}]"),
            Self::EnvExample { file, line } => write!(f, "{file}:{line}"),
        }
    }
}

/// One key that must exist in one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub target: Target,
    pub origin: Origin,
    /// From a job whose environment is an expression: any environment may
    /// hold it, besides the repository and organization.
    pub any_environment: bool,
}

fn parse_targets(texts: &[String]) -> Vec<Target> {
    // The config was validated when it was loaded.
    texts.iter().filter_map(|t| Target::parse(t).ok()).collect()
}

/// The declared requirements: the project's `[projects.secrets]` list, or
/// the playbook's defaults.
pub fn declared(project: &Project) -> Vec<Requirement> {
    if let Some(list) = &project.secrets.required {
        return list
            .iter()
            .flat_map(|r| {
                parse_targets(&r.locations)
                    .into_iter()
                    .map(|target| Requirement {
                        key: r.key.clone(),
                        target,
                        origin: Origin::Config,
                        any_environment: false,
                    })
            })
            .collect();
    }
    let app_targets = ["netlify:production", "netlify:staging", "env-local"]
        .map(|t| Target::parse(t).expect("constant targets parse"));
    let deploy_target = Target::GithubSecret {
        environment: Some(project.github.staging_environment.clone()),
    };
    let mut out = Vec::new();
    for key in PLAYBOOK_APP_KEYS {
        for target in &app_targets {
            out.push(Requirement {
                key: key.to_string(),
                target: target.clone(),
                origin: Origin::Playbook,
                any_environment: false,
            });
        }
    }
    for key in PLAYBOOK_DEPLOY_KEYS {
        out.push(Requirement {
            key: key.to_string(),
            target: deploy_target.clone(),
            origin: Origin::Playbook,
            any_environment: false,
        });
    }
    out
}

/// The keys whose readable values must agree.
pub fn consistent_keys(project: &Project) -> Vec<String> {
    match &project.secrets.consistent {
        Some(keys) => keys.clone(),
        None => DEFAULT_CONSISTENT.iter().map(|k| k.to_string()).collect(),
    }
}

/// Every requirement: declared first, then discovered ones that add a key
/// or a place. A key in a GitHub target is matched without regard to case,
/// as GitHub does.
pub fn all(project: &Project, found: &Discovered) -> Vec<Requirement> {
    let mut out = declared(project);
    let add = |r: Requirement, out: &mut Vec<Requirement>| {
        let github = matches!(
            r.target,
            Target::GithubSecret { .. } | Target::GithubVariable { .. }
        );
        let same = |x: &Requirement| {
            x.target == r.target
                && if github {
                    x.key.eq_ignore_ascii_case(&r.key)
                } else {
                    x.key == r.key
                }
        };
        if !out.iter().any(same) {
            out.push(r);
        }
    };

    for found_ref in &found.references {
        let r = &found_ref.reference;
        let target = match r.kind {
            RefKind::Secret => Target::GithubSecret {
                environment: r.environment.clone(),
            },
            RefKind::Variable => Target::GithubVariable {
                environment: r.environment.clone(),
            },
        };
        add(
            Requirement {
                // GitHub stores names in upper case.
                key: r.name.to_ascii_uppercase(),
                target,
                origin: Origin::Workflow {
                    file: found_ref.file.clone(),
                    line: r.line,
                    job: r.job.clone(),
                },
                any_environment: r.environment_is_expression,
            },
            &mut out,
        );
    }

    // A context netlify.toml builds in needs what the declared Netlify
    // requirements ask of the others.
    if let Some((file, toml)) = &found.netlify {
        let netlify_keys: Vec<String> = {
            let mut keys: Vec<String> = out
                .iter()
                .filter(|r| r.origin.is_declared() && matches!(r.target, Target::Netlify { .. }))
                .map(|r| r.key.clone())
                .collect();
            keys.sort();
            keys.dedup();
            keys
        };
        for ctx in &toml.contexts {
            if ctx.context == NetlifyContext::Dev {
                continue;
            }
            let target = Target::Netlify {
                site: ctx.context.default_site(),
                context: ctx.context.clone(),
            };
            for key in &netlify_keys {
                add(
                    Requirement {
                        key: key.clone(),
                        target: target.clone(),
                        origin: Origin::NetlifyToml {
                            file: file.clone(),
                            context: ctx.context.name().to_string(),
                        },
                        any_environment: false,
                    },
                    &mut out,
                );
            }
        }
    }

    if let Some((file, example)) = &found.example {
        for e in &example.entries {
            add(
                Requirement {
                    key: e.key.clone(),
                    target: Target::EnvLocal,
                    origin: Origin::EnvExample {
                        file: file.clone(),
                        line: e.line,
                    },
                    any_environment: false,
                },
                &mut out,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{sandbox_project, RequiredSecret};
    use crate::secrets::discover::{self, workflow::Reference, FoundReference};
    use crate::secrets::location::Site;

    #[test]
    fn keys_are_variable_names() {
        assert!(is_key("SUPABASE_URL"));
        assert!(is_key("_X1"));
        assert!(!is_key("1X"));
        assert!(!is_key(""));
        assert!(!is_key("A-B"));
        assert!(!is_key("A B"));
    }

    #[test]
    fn the_playbook_defaults_apply_without_a_configured_list() {
        let reqs = declared(&sandbox_project());
        assert_eq!(reqs.len(), 5 * 3 + 2);
        assert!(reqs.contains(&Requirement {
            key: "DEFAULT_ORGANIZATION_ID".into(),
            target: Target::Netlify {
                site: Site::Staging,
                context: NetlifyContext::Branch("staging".into())
            },
            origin: Origin::Playbook,
            any_environment: false,
        }));
        assert!(reqs.contains(&Requirement {
            key: "NETLIFY_AUTH_TOKEN".into(),
            target: Target::GithubSecret {
                environment: Some("staging".into())
            },
            origin: Origin::Playbook,
            any_environment: false,
        }));
    }

    #[test]
    fn a_configured_list_replaces_the_defaults() {
        let mut p = sandbox_project();
        p.secrets.required = Some(vec![RequiredSecret {
            key: "API_KEY".into(),
            locations: vec!["github".into(), "env-local".into()],
        }]);
        let reqs = declared(&p);
        assert_eq!(reqs.len(), 2);
        assert!(reqs.iter().all(|r| r.origin == Origin::Config));
        p.secrets.required = Some(vec![]);
        assert!(declared(&p).is_empty());
    }

    #[test]
    fn discovered_requirements_say_where_they_came_from_and_do_not_repeat() {
        let mut found = discover::Discovered::default();
        found.references.push(FoundReference {
            file: "ci.yml".into(),
            reference: Reference {
                kind: RefKind::Secret,
                name: "netlify_auth_token".into(),
                line: 40,
                job: Some("deploy-staging".into()),
                environment: Some("staging".into()),
                environment_is_expression: false,
            },
        });
        found.references.push(FoundReference {
            file: "ci.yml".into(),
            reference: Reference {
                kind: RefKind::Secret,
                name: "SENTRY_DSN".into(),
                line: 287,
                job: Some("deploy-staging".into()),
                environment: Some("staging".into()),
                environment_is_expression: false,
            },
        });
        found.netlify = Some((
            "netlify.toml".into(),
            discover::netlify_toml::parse(
                "netlify.toml",
                "[context.staging]\ncommand = \"x\"\n[context.deploy-preview]\ncommand = \"y\"\n",
            )
            .unwrap(),
        ));
        found.example = Some((
            ".env.example".into(),
            discover::dotenv::parse(".env.example", "SUPABASE_URL=\nVITE_SENTRY_DSN=x\n"),
        ));
        let reqs = all(&sandbox_project(), &found);
        // The playbook already asks for NETLIFY_AUTH_TOKEN in github:staging.
        assert_eq!(
            reqs.iter()
                .filter(|r| r.key.eq_ignore_ascii_case("NETLIFY_AUTH_TOKEN"))
                .count(),
            1
        );
        let sentry = reqs.iter().find(|r| r.key == "SENTRY_DSN").unwrap();
        assert_eq!(sentry.origin.to_string(), "ci.yml:287 (job deploy-staging)");
        // [context.staging] is already required; deploy-preview is added.
        let preview: Vec<_> = reqs
            .iter()
            .filter(|r| {
                r.target
                    == Target::Netlify {
                        site: Site::Production,
                        context: NetlifyContext::DeployPreview,
                    }
            })
            .collect();
        assert_eq!(preview.len(), PLAYBOOK_APP_KEYS.len());
        assert_eq!(
            preview[0].origin.to_string(),
            "netlify.toml [context.deploy-preview]"
        );
        let vite = reqs.iter().find(|r| r.key == "VITE_SENTRY_DSN").unwrap();
        assert_eq!(vite.target, Target::EnvLocal);
        assert_eq!(vite.origin.to_string(), ".env.example:2");
        assert_eq!(
            reqs.iter()
                .filter(|r| r.key == "SUPABASE_URL" && r.target == Target::EnvLocal)
                .count(),
            1
        );
    }

    #[test]
    fn consistency_defaults_to_the_organization_id() {
        let mut p = sandbox_project();
        assert_eq!(consistent_keys(&p), vec!["DEFAULT_ORGANIZATION_ID"]);
        p.secrets.consistent = Some(vec![]);
        assert!(consistent_keys(&p).is_empty());
    }
}
