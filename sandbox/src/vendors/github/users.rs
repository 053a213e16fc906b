//! The signed-in user, their organization and teams, and org and team
//! membership checks.

use super::{api, error, not_found, user_json};
use crate::sim::Sim;
use crate::util::{iso_secs, sha40, Origin};
use crate::vendors::{bearer, json_status};
use crate::{lock, Shared};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The member an OAuth token belongs to; other tokens are not users.
fn signed_in<'a>(sim: &'a Sim, headers: &HeaderMap) -> Option<&'a crate::Member> {
    let token = bearer(headers)?;
    let login = sim.tokens.get(&token)?;
    sim.ids.members.iter().find(|m| &m.login == login)
}

fn bad_credentials() -> Response {
    error(StatusCode::UNAUTHORIZED, "Bad credentials")
}

pub(super) async fn user(
    State(state): State<Shared>,
    Origin(origin): Origin,
    headers: HeaderMap,
) -> Response {
    let sim = lock(&state.sim);
    let Some(m) = signed_in(&sim, &headers) else {
        return bad_credentials();
    };
    let mut v = user_json(&origin, &m.login, m.id);
    let created = iso_secs(sim.anchor_ms - 900 * crate::util::DAY_MS);
    for (k, val) in [
        ("name", json!(m.name)),
        ("company", json!(sim.ids.github.org)),
        ("blog", json!("")),
        ("location", Value::Null),
        (
            "email",
            json!(format!("{}@{}.example", m.login, sim.ids.github.org)),
        ),
        ("hireable", Value::Null),
        ("bio", Value::Null),
        ("public_repos", json!(3)),
        ("public_gists", json!(0)),
        ("followers", json!(4)),
        ("following", json!(2)),
        ("created_at", json!(created)),
        ("updated_at", json!(created)),
    ] {
        v[k] = val;
    }
    json_status(StatusCode::OK, v)
}

fn org_json(sim: &Sim, origin: &str) -> Value {
    let org = &sim.ids.github.org;
    let u = format!("{}/orgs/{org}", api(origin));
    json!({
        "login": org,
        "id": 90_001,
        "node_id": "O_kgDOsandbox",
        "url": u,
        "repos_url": format!("{u}/repos"),
        "events_url": format!("{u}/events"),
        "hooks_url": format!("{u}/hooks"),
        "issues_url": format!("{u}/issues"),
        "members_url": format!("{u}/members{{/member}}"),
        "public_members_url": format!("{u}/public_members{{/member}}"),
        "avatar_url": "https://avatars.githubusercontent.com/u/90001?v=4",
        "description": "AllIncompassing",
    })
}

pub(super) async fn user_orgs(
    State(state): State<Shared>,
    Origin(origin): Origin,
    headers: HeaderMap,
) -> Response {
    let sim = lock(&state.sim);
    if signed_in(&sim, &headers).is_none() {
        return bad_credentials();
    }
    json_status(StatusCode::OK, json!([org_json(&sim, &origin)]))
}

fn team_json(sim: &Sim, origin: &str, slug: &str) -> Value {
    let org = &sim.ids.github.org;
    let id = 7_000 + u64::from(sha40(slug.as_bytes()).as_bytes()[0]);
    let u = format!("{}/orgs/{org}/teams/{slug}", api(origin));
    let members = sim
        .ids
        .members
        .iter()
        .filter(|m| m.team.as_deref() == Some(slug))
        .count();
    let mut org_full = org_json(sim, origin);
    for (k, v) in [
        ("has_organization_projects", json!(true)),
        ("has_repository_projects", json!(true)),
        ("public_repos", json!(3)),
        ("public_gists", json!(0)),
        ("followers", json!(0)),
        ("following", json!(0)),
        ("html_url", json!(format!("https://github.com/{org}"))),
        ("type", json!("Organization")),
        (
            "created_at",
            json!(iso_secs(sim.anchor_ms - 900 * crate::util::DAY_MS)),
        ),
        (
            "updated_at",
            json!(iso_secs(sim.anchor_ms - 30 * crate::util::DAY_MS)),
        ),
        ("archived_at", Value::Null),
    ] {
        org_full[k] = v;
    }
    json!({
        "id": id,
        "node_id": format!("T_kwDO{id}"),
        "url": u,
        "html_url": format!("https://github.com/orgs/{org}/teams/{slug}"),
        "name": slug,
        "slug": slug,
        "description": format!("The {slug} team"),
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": format!("{u}/members{{/member}}"),
        "repositories_url": format!("{u}/repos"),
        "parent": Value::Null,
        "type": "organization",
        "members_count": members,
        "repos_count": 1,
        "created_at": iso_secs(sim.anchor_ms - 800 * crate::util::DAY_MS),
        "updated_at": iso_secs(sim.anchor_ms - 60 * crate::util::DAY_MS),
        "organization": org_full,
    })
}

pub(super) async fn user_teams(
    State(state): State<Shared>,
    Origin(origin): Origin,
    headers: HeaderMap,
) -> Response {
    let sim = lock(&state.sim);
    let Some(m) = signed_in(&sim, &headers) else {
        return bad_credentials();
    };
    let list: Vec<Value> = m.team.iter().map(|t| team_json(&sim, &origin, t)).collect();
    json_status(StatusCode::OK, Value::Array(list))
}

fn membership_json(sim: &Sim, origin: &str, m: &crate::Member) -> Value {
    let org = &sim.ids.github.org;
    json!({
        "url": format!("{}/orgs/{org}/memberships/{}", api(origin), m.login),
        "state": "active",
        "role": if m.role == "admin" { "admin" } else { "member" },
        "organization_url": format!("{}/orgs/{org}", api(origin)),
        "organization": org_json(sim, origin),
        "user": user_json(origin, &m.login, m.id),
    })
}

pub(super) async fn user_org_membership(
    State(state): State<Shared>,
    Origin(origin): Origin,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Response {
    let sim = lock(&state.sim);
    let Some(m) = signed_in(&sim, &headers) else {
        return bad_credentials();
    };
    if !org.eq_ignore_ascii_case(&sim.ids.github.org) {
        return not_found();
    }
    json_status(StatusCode::OK, membership_json(&sim, &origin, m))
}

fn member<'a>(sim: &'a Sim, org: &str, username: &str) -> Option<&'a crate::Member> {
    if !org.eq_ignore_ascii_case(&sim.ids.github.org) {
        return None;
    }
    sim.ids
        .members
        .iter()
        .find(|m| m.login.eq_ignore_ascii_case(username))
}

pub(super) async fn org_member(
    State(state): State<Shared>,
    Path((org, username)): Path<(String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    match member(&sim, &org, &username) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(),
    }
}

pub(super) async fn org_membership(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((org, username)): Path<(String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    match member(&sim, &org, &username) {
        Some(m) => json_status(StatusCode::OK, membership_json(&sim, &origin, m)),
        None => not_found(),
    }
}

pub(super) async fn team_membership(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((org, team, username)): Path<(String, String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    match member(&sim, &org, &username).filter(|m| m.team.as_deref() == Some(team.as_str())) {
        Some(m) => json_status(
            StatusCode::OK,
            json!({
                "url": format!("{}/orgs/{org}/teams/{team}/memberships/{}", api(&origin), m.login),
                "role": "member",
                "state": "active",
            }),
        ),
        None => not_found(),
    }
}

pub(super) fn login_id(sim: &Sim, login: &str) -> u64 {
    sim.ids
        .members
        .iter()
        .find(|m| m.login == login)
        .map(|m| m.id)
        .unwrap_or_else(|| 2000 + (sha40(login.as_bytes()).as_bytes()[0] as u64))
}
