//! Repository contents, branches, commits and comparisons.

use super::users::login_id;
use super::{commit_of, error, not_found, repo_ok, repo_url, user_json};
use crate::model::Commit;
use crate::sim::Sim;
use crate::util::{iso_secs, sha40, Origin};
use crate::vendors::{json_status, Params};
use crate::{lock, Shared};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};

pub(super) async fn contents(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Query(q): Query<Params>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    if let Some(r) = q.get("ref") {
        if !sim.is_branch(r) && commit_of(&sim, r).is_none() {
            return error(
                StatusCode::NOT_FOUND,
                &format!("No commit found for the ref {r}"),
            );
        }
    }
    let Some(file) = sim.files.iter().find(|f| f.path == path) else {
        return not_found();
    };
    let sha = sha40(format!("blob {}\0{}", file.content.len(), file.content).as_bytes());
    let name = path.rsplit('/').next().unwrap_or(&path);
    let (o, r) = (&sim.ids.github.owner, &sim.ids.github.repo);
    let self_url = format!("{}/contents/{path}", repo_url(&sim, &origin));
    let git_url = format!("{}/git/blobs/{sha}", repo_url(&sim, &origin));
    let html_url = format!("https://github.com/{o}/{r}/blob/develop/{path}");
    // GitHub wraps base64 at 60 columns.
    let encoded = base64::engine::general_purpose::STANDARD.encode(file.content.as_bytes());
    let wrapped: Vec<&str> = encoded
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    json_status(
        StatusCode::OK,
        json!({
            "type": "file",
            "encoding": "base64",
            "size": file.content.len(),
            "name": name,
            "path": path,
            "content": wrapped.join("\n") + "\n",
            "sha": sha,
            "url": self_url,
            "git_url": git_url,
            "html_url": html_url,
            "download_url": format!("https://raw.githubusercontent.com/{o}/{r}/develop/{path}"),
            "_links": { "self": self_url, "git": git_url, "html": html_url },
        }),
    )
}

fn commit_json(sim: &Sim, origin: &str, c: &Commit) -> Value {
    let (o, r) = (&sim.ids.github.owner, &sim.ids.github.repo);
    let u = format!("{}/commits/{}", repo_url(sim, origin), c.sha);
    let parent = sim
        .commits
        .iter()
        .rev()
        .find(|p| p.branch == c.branch && p.at_ms < c.at_ms);
    let parents: Vec<Value> = parent
        .map(|p| {
            json!({
                "sha": p.sha,
                "url": format!("{}/commits/{}", repo_url(sim, origin), p.sha),
                "html_url": format!("https://github.com/{o}/{r}/commit/{}", p.sha),
            })
        })
        .into_iter()
        .collect();
    let person = json!({
        "name": c.author,
        "email": format!("{}@users.noreply.github.com", c.author),
        "date": iso_secs(c.at_ms),
    });
    let user = user_json(origin, &c.author, login_id(sim, &c.author));
    json!({
        "sha": c.sha,
        "node_id": format!("C_kwDO{}", &c.sha[..12.min(c.sha.len())]),
        "url": u,
        "html_url": format!("https://github.com/{o}/{r}/commit/{}", c.sha),
        "comments_url": format!("{u}/comments"),
        "commit": {
            "url": format!("{}/git/commits/{}", repo_url(sim, origin), c.sha),
            "author": person,
            "committer": person,
            "message": c.message,
            "comment_count": 0,
            "tree": {
                "sha": sha40(format!("tree/{}", c.sha).as_bytes()),
                "url": format!("{}/git/trees/{}", repo_url(sim, origin), sha40(format!("tree/{}", c.sha).as_bytes())),
            },
        },
        "author": user,
        "committer": user,
        "parents": parents,
    })
}

pub(super) async fn get_branch(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, branch)): Path<(String, String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    let Some(head) = sim.head_of(&branch) else {
        return error(StatusCode::NOT_FOUND, "Branch not found");
    };
    let (o, r) = (&sim.ids.github.owner, &sim.ids.github.repo);
    let u = format!("{}/branches/{branch}", repo_url(&sim, &origin));
    json_status(
        StatusCode::OK,
        json!({
            "name": branch,
            "commit": commit_json(&sim, &origin, head),
            "_links": { "html": format!("https://github.com/{o}/{r}/tree/{branch}"), "self": u },
            "protected": true,
            "protection": {
                "enabled": true,
                "required_status_checks": {
                    "enforcement_level": "non_admins",
                    "contexts": [sim.ids.github.deploy_job.clone()],
                    "checks": [{ "context": sim.ids.github.deploy_job.clone(), "app_id": null }],
                },
            },
            "protection_url": format!("{u}/protection"),
        }),
    )
}

/// A branch name or a sha, resolved to a commit.
fn resolve<'a>(sim: &'a Sim, reference: &str) -> Option<&'a Commit> {
    sim.head_of(reference).or_else(|| {
        sim.commits
            .iter()
            .find(|c| c.sha == reference || (reference.len() >= 7 && c.sha.starts_with(reference)))
    })
}

pub(super) async fn get_commit(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, reference)): Path<(String, String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    match resolve(&sim, &reference) {
        Some(c) => json_status(StatusCode::OK, commit_json(&sim, &origin, c)),
        None => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No commit found for SHA: {reference}"),
        ),
    }
}

/// `base...head`: how far `head` is ahead of and behind `base`, counting
/// commits by time on each side (the sandbox's branches never merge back).
pub(super) async fn compare(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, basehead)): Path<(String, String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    let Some((base, head)) = basehead.split_once("...") else {
        return error(StatusCode::NOT_FOUND, "Not Found: use BASE...HEAD");
    };
    let (Some(b), Some(h)) = (resolve(&sim, base), resolve(&sim, head)) else {
        return not_found();
    };
    let now = sim.now();
    let on = |branch: &str, after: i64, upto: i64| -> Vec<&Commit> {
        sim.commits
            .iter()
            .filter(|c| c.branch == branch && c.at_ms > after && c.at_ms <= upto && c.at_ms <= now)
            .collect()
    };
    let (ahead, behind) = if b.branch == h.branch {
        if h.at_ms >= b.at_ms {
            (on(&h.branch, b.at_ms, h.at_ms), Vec::new())
        } else {
            (Vec::new(), on(&b.branch, h.at_ms, b.at_ms))
        }
    } else {
        (on(&h.branch, b.at_ms, h.at_ms), Vec::new())
    };
    let status = match (ahead.is_empty(), behind.is_empty()) {
        (true, true) => "identical",
        (false, true) => "ahead",
        (true, false) => "behind",
        (false, false) => "diverged",
    };
    let (o, r) = (&sim.ids.github.owner, &sim.ids.github.repo);
    // GitHub lists at most 250 commits in a comparison.
    let commits: Vec<Value> = ahead
        .iter()
        .take(250)
        .map(|c| commit_json(&sim, &origin, c))
        .collect();
    json_status(
        StatusCode::OK,
        json!({
            "url": format!("{}/compare/{basehead}", repo_url(&sim, &origin)),
            "html_url": format!("https://github.com/{o}/{r}/compare/{basehead}"),
            "permalink_url": format!("https://github.com/{o}/{r}/compare/{}...{}", b.sha, h.sha),
            "diff_url": format!("https://github.com/{o}/{r}/compare/{basehead}.diff"),
            "patch_url": format!("https://github.com/{o}/{r}/compare/{basehead}.patch"),
            "base_commit": commit_json(&sim, &origin, b),
            "merge_base_commit": commit_json(&sim, &origin, b),
            "status": status,
            "ahead_by": ahead.len(),
            "behind_by": behind.len(),
            "total_commits": ahead.len(),
            "commits": commits,
            "files": [],
        }),
    )
}
