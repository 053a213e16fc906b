//! Reads every store the coverage check needs, concurrently where the calls
//! are independent. A store that fails is `Unknown` with the client's
//! message (which names the vendor, the operation and what to do, never a
//! token); a file that is not in the repository is simply not there.

use super::location::Site;
use super::sources::{
    GithubSecret, GithubVariable, NetlifyValue, NetlifyVar, Read, RepoFiles, RepoText, Sources,
    ValueContext,
};
use crate::config::Project;
use crate::providers::error::{ErrorKind, ProviderError};
use crate::providers::github::{GitHubClient, Repo};
use crate::providers::netlify::{EnvVar, NetlifyClient};
use std::collections::BTreeMap;

/// More environments than this are not read one by one (each costs two calls).
const MAX_ENVIRONMENTS: usize = 20;

fn read<T, U>(r: Result<T, ProviderError>, f: impl FnOnce(T) -> U) -> Read<U> {
    match r {
        Ok(t) => Read::Got(f(t)),
        Err(e) => Read::Unknown(e.to_string()),
    }
}

fn netlify_var(v: EnvVar) -> NetlifyVar {
    NetlifyVar {
        is_secret: v.is_secret,
        scopes: v.scopes,
        updated_at: v.updated_at,
        updated_by: v
            .updated_by
            .and_then(|u| u.full_name.filter(|n| !n.is_empty()).or(u.email)),
        values: v
            .values
            .into_iter()
            .filter_map(|value| {
                Some(NetlifyValue {
                    context: ValueContext::parse(
                        &value.context,
                        value.context_parameter.as_deref(),
                    )?,
                    value: value.value,
                })
            })
            .collect(),
        key: v.key,
    }
}

fn secrets(
    r: Result<Vec<crate::providers::github::SecretName>, ProviderError>,
) -> Read<Vec<GithubSecret>> {
    read(r, |list| {
        list.into_iter()
            .map(|s| GithubSecret {
                name: s.name,
                updated_at: Some(s.updated_at),
            })
            .collect()
    })
}

fn variables(
    r: Result<Vec<crate::providers::github::Variable>, ProviderError>,
) -> Read<Vec<GithubVariable>> {
    read(r, |list| {
        list.into_iter()
            .map(|v| GithubVariable {
                name: v.name,
                value: v.value,
                updated_at: Some(v.updated_at),
            })
            .collect()
    })
}

/// One file at several refs: the first ref that has it wins. The refs are
/// read at once, so a file missing at one ref does not hold up the next.
async fn file(
    github: &GitHubClient,
    repo: &Repo,
    path: &str,
    refs: &[Option<String>],
) -> Read<Option<RepoText>> {
    let reads = refs
        .iter()
        .map(|reference| github.get_content(repo, path, reference.as_deref()));
    let answers = futures_util::future::join_all(reads).await;
    let mut unknown = None;
    for (reference, answer) in refs.iter().zip(answers) {
        match answer {
            Ok(f) => {
                return Read::Got(Some(RepoText {
                    path: f.path,
                    reference: reference.clone().unwrap_or_else(|| "default branch".into()),
                    text: f.text,
                }))
            }
            Err(e) if matches!(e.kind, ErrorKind::NotFound { .. }) => {}
            Err(e) => {
                unknown.get_or_insert(e.to_string());
            }
        }
    }
    match unknown {
        Some(why) => Read::Unknown(why),
        None => Read::Got(None),
    }
}

/// The refs files are read at: the default branch, then the configured
/// branches (by default the staging branch).
/// At most [`MAX_REFS`] of them: each file is read at every ref at once.
fn refs(project: &Project) -> Vec<Option<String>> {
    let mut refs = vec![None];
    match &project.secrets.read_branches {
        Some(branches) => refs.extend(branches.iter().cloned().map(Some)),
        None => refs.push(Some(project.github.staging_branch.as_str().to_string())),
    }
    refs.truncate(MAX_REFS);
    refs
}

/// Branches files are read at, the default branch included.
const MAX_REFS: usize = 5;

/// Reads every store of `project`.
pub async fn gather(project: &Project, netlify: &NetlifyClient, github: &GitHubClient) -> Sources {
    let repo = Repo::new(project.github.repo.owner(), project.github.repo.name());
    let account = project.netlify.account_slug.as_str();
    let production = project.netlify.production_site_id.as_str();
    let staging = project.netlify.staging_site_id.as_str();
    let mut sites = vec![(Site::Production, production)];
    if staging != production {
        sites.push((Site::Staging, staging));
    }

    let netlify_reads = async {
        let per_site = sites.iter().map(|(site, id)| async move {
            let (listed, info) = tokio::join!(
                netlify.get_env_vars(account, Some(id), None),
                netlify.get_site(id)
            );
            (*site, listed, info)
        });
        let mut vars = Vec::new();
        let mut names = BTreeMap::new();
        for (site, listed, info) in futures_util::future::join_all(per_site).await {
            vars.push((
                site,
                read(listed, |l| l.into_iter().map(netlify_var).collect()),
            ));
            if let Ok(info) = info {
                names.insert(site, info.name);
            }
        }
        (vars, names)
    };

    let others = async {
        tokio::join!(
            github.list_repo_secrets(&repo),
            github.list_repo_organization_secrets(&repo),
            github.list_repo_variables(&repo),
            github.list_repo_organization_variables(&repo),
        )
    };

    let refs = refs(project);
    let workflow_path = format!(".github/workflows/{}", project.github.workflow);
    // The workflow may differ between branches: each is read.
    let workflows = futures_util::future::join_all(
        refs.iter()
            .map(|r| file(github, &repo, &workflow_path, std::slice::from_ref(r))),
    );
    let other_files = async {
        tokio::join!(
            file(github, &repo, "netlify.toml", &refs),
            file(github, &repo, ".env.example", &refs),
        )
    };

    // An environment's secrets and variables, in one step.
    let repo = &repo;
    let environment = |name: String| async move {
        let (s, v) = tokio::join!(
            github.list_environment_secrets(repo, &name),
            github.list_environment_variables(repo, &name)
        );
        // An environment that does not exist holds nothing.
        let missing = |e: &ProviderError| matches!(e.kind, ErrorKind::NotFound { .. });
        let s = match s {
            Err(e) if missing(&e) => Ok(Vec::new()),
            other => other,
        };
        let v = match v {
            Err(e) if missing(&e) => Ok(Vec::new()),
            other => other,
        };
        (name, secrets(s), variables(v))
    };
    // The configured environments need nothing first: read them at once.
    let mut configured: Vec<String> = Vec::new();
    for name in [
        &project.github.staging_environment,
        &project.github.production_environment,
    ] {
        if !name.is_empty() && !configured.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            configured.push(name.clone());
        }
    }
    let first = futures_util::future::join_all(configured.iter().cloned().map(environment));
    // Those GitHub lists or the workflow's jobs name (names ignore case)
    // need the list and the workflow.
    let later = async {
        let (listed, workflow) = tokio::join!(github.get_all_environments(repo), workflows);
        let mut names: Vec<String> = Vec::new();
        let mut want = |name: &str| {
            let known = names
                .iter()
                .chain(&configured)
                .any(|n| n.eq_ignore_ascii_case(name));
            if !name.is_empty() && !known {
                names.push(name.to_string());
            }
        };
        if let Ok(list) = &listed {
            for e in list.iter().take(MAX_ENVIRONMENTS) {
                want(&e.name);
            }
        }
        let just_workflow = RepoFiles {
            workflow: workflow.clone(),
            netlify_toml: Read::Got(None),
            env_example: Read::Got(None),
        };
        for r in super::discover::discover(&just_workflow).references {
            if let Some(e) = &r.reference.environment {
                want(e);
            }
        }
        names.truncate(MAX_ENVIRONMENTS);
        let read = futures_util::future::join_all(names.into_iter().map(environment)).await;
        (workflow, read)
    };

    let (
        (netlify, netlify_site_names),
        (repo_secrets, org_secrets, repo_variables, org_variables),
        (netlify_toml, env_example),
        first,
        (workflow, later),
    ) = tokio::join!(netlify_reads, others, other_files, first, later);
    let mut environment_secrets = BTreeMap::new();
    let mut environment_variables = BTreeMap::new();
    for (name, s, v) in first.into_iter().chain(later) {
        environment_secrets.insert(name.clone(), s);
        environment_variables.insert(name, v);
    }
    let files = RepoFiles {
        workflow,
        netlify_toml,
        env_example,
    };

    Sources {
        netlify,
        netlify_site_names,
        repo_secrets: secrets(repo_secrets),
        org_secrets: secrets(org_secrets),
        environment_secrets,
        repo_variables: variables(repo_variables),
        org_variables: variables(org_variables),
        environment_variables,
        files,
    }
}
