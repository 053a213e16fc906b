//! GitHub's OAuth web flow under `/github/login/oauth/`: the authorize page,
//! where a tester picks which seeded member to be, and the code-for-token
//! exchange. Codes are single-use and expire after ten minutes, as GitHub's.
//! PKCE is honoured: a code issued with a `code_challenge` is exchanged only
//! with the matching `code_verifier`.

use super::Params;
use crate::sim::Grant;
use crate::{lock, Shared};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde_json::json;

const CODE_TTL_MS: i64 = 10 * 60 * 1000;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/github/login/oauth/authorize",
            get(authorize_page).post(authorize),
        )
        .route("/github/login/oauth/access_token", post(access_token))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><title>Sandbox sign-in</title><p>{}</p>",
            escape(message)
        )),
    )
        .into_response()
}

async fn authorize_page(State(state): State<Shared>, Query(q): Query<Params>) -> Response {
    let Some(client_id) = q.get("client_id").filter(|c| !c.is_empty()) else {
        return bad_request("client_id is required");
    };
    let sim = lock(&state.sim);
    let hidden = |name: &str| {
        q.get(name)
            .map(|v| {
                format!(
                    "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                    escape(v)
                )
            })
            .unwrap_or_default()
    };
    let members: String = sim
        .ids
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            format!(
                "<li><label><input type=\"radio\" name=\"login\" value=\"{login}\"{checked}> \
                 <strong>{name}</strong> <code>@{login}</code> <span class=\"role\">{role}</span></label></li>",
                login = escape(&m.login),
                name = escape(&m.name),
                role = escape(&m.role),
                checked = if i == 0 { " checked" } else { "" },
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to GitHub (sandbox)</title><link rel=\"icon\" href=\"data:,\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}\
         li{{list-style:none;margin:.5rem 0}}.role{{color:#555}}button{{font-size:1rem;padding:.5rem 1rem}}</style></head>\
         <body><main><h1>Sandbox GitHub</h1>\
         <p>The application <code>{client}</code> wants to sign you in to the <strong>{org}</strong> organization. \
         This is the Greenroom sandbox: choose which team member to be.</p>\
         <form method=\"post\" action=\"/github/login/oauth/authorize\">\
         <fieldset><legend>Team member</legend><ul>{members}</ul></fieldset>\
         {c}{r}{s}{sc}{cc}{cm}<button type=\"submit\">Authorize</button></form></main></body></html>",
        client = escape(client_id),
        org = escape(&sim.ids.github.org),
        c = hidden("client_id"),
        r = hidden("redirect_uri"),
        s = hidden("state"),
        sc = hidden("scope"),
        cc = hidden("code_challenge"),
        cm = hidden("code_challenge_method"),
    ))
    .into_response()
}

#[derive(serde::Deserialize)]
struct Choice {
    login: String,
    client_id: String,
    redirect_uri: Option<String>,
    state: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    scope: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// The member chosen: back to the application with a code.
async fn authorize(State(state): State<Shared>, Form(choice): Form<Choice>) -> Response {
    let Some(redirect) = choice.redirect_uri.clone().filter(|r| !r.is_empty()) else {
        return bad_request(
            "redirect_uri is required by the sandbox (it has no registered callback)",
        );
    };
    if !(redirect.starts_with("http://") || redirect.starts_with("https://")) {
        return bad_request("redirect_uri must be an http(s) URL");
    }
    let code_challenge = match (
        choice.code_challenge.filter(|c| !c.is_empty()),
        choice.code_challenge_method.as_deref(),
    ) {
        (None, _) => None,
        (Some(c), None | Some("plain")) => Some((c, "plain".to_string())),
        (Some(c), Some("S256")) => Some((c, "S256".to_string())),
        (Some(_), Some(other)) => {
            return bad_request(&format!(
                "code_challenge_method {other:?} is not supported; use S256"
            ))
        }
    };
    let mut sim = lock(&state.sim);
    if !sim.ids.members.iter().any(|m| m.login == choice.login) {
        return bad_request("no such member in the sandbox world");
    }
    let code = sim.rng.hex(20);
    let expires_ms = sim.now() + CODE_TTL_MS;
    sim.grants.insert(
        code.clone(),
        Grant {
            login: choice.login,
            client_id: choice.client_id,
            redirect_uri: Some(redirect.clone()),
            expires_ms,
            code_challenge,
        },
    );
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let mut location = format!("{redirect}{sep}code={code}");
    if let Some(s) = choice.state {
        location.push_str(&format!("&state={}", super::encode(&s)));
    }
    let mut res = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

#[derive(serde::Deserialize)]
struct Exchange {
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

/// Code for token. Like GitHub, errors come back as 200 with an `error`
/// field; JSON when the client accepts it, form-encoded otherwise.
async fn access_token(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let parsed: Option<Exchange> = if is_json {
        serde_json::from_slice(&body).ok()
    } else {
        serde_urlencoded_from(&body)
    };
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let reply = |pairs: Vec<(&str, String)>| -> Response {
        if wants_json {
            let map: serde_json::Map<String, serde_json::Value> = pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            axum::Json(serde_json::Value::Object(map)).into_response()
        } else {
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", super::encode(v)))
                .collect();
            (
                [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
                body.join("&"),
            )
                .into_response()
        }
    };
    let fail = |code: &str, description: &str| {
        reply(vec![
            ("error", code.to_string()),
            ("error_description", description.to_string()),
            (
                "error_uri",
                "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors".into(),
            ),
        ])
    };
    let Some(ex) = parsed else {
        return fail("invalid_request", "The request body could not be read.");
    };
    if ex.client_secret.as_deref().unwrap_or_default().is_empty() {
        return fail(
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    let mut sim = lock(&state.sim);
    let now = sim.now();
    let Some(grant) = ex.code.as_deref().and_then(|c| sim.grants.remove(c)) else {
        return fail(
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        );
    };
    if grant.expires_ms < now || Some(grant.client_id.as_str()) != ex.client_id.as_deref() {
        return fail(
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        );
    }
    if let Some((challenge, method)) = &grant.code_challenge {
        let Some(verifier) = ex.code_verifier.as_deref() else {
            return fail(
                "invalid_request",
                "code_verifier is required: the code was issued with a code_challenge.",
            );
        };
        let derived = if method == "S256" {
            use base64::Engine;
            use sha2::Digest;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()))
        } else {
            verifier.to_string()
        };
        if &derived != challenge {
            return fail(
                "invalid_grant",
                "The code_verifier does not match the code_challenge.",
            );
        }
    }
    if ex.redirect_uri.is_some() && ex.redirect_uri != grant.redirect_uri {
        return fail(
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        );
    }
    let token = format!("gho_{}", sim.rng.hex(36));
    sim.tokens.insert(token.clone(), grant.login);
    reply(vec![
        ("access_token", token),
        ("token_type", "bearer".into()),
        ("scope", "read:org,read:user".into()),
    ])
}

fn serde_urlencoded_from(body: &[u8]) -> Option<Exchange> {
    std::str::from_utf8(body).ok()?;
    let mut ex = Exchange {
        client_id: None,
        client_secret: None,
        code: None,
        redirect_uri: None,
        code_verifier: None,
    };
    for (k, v) in form_urlencoded::parse(body) {
        let v = Some(v.into_owned());
        match k.as_ref() {
            "client_id" => ex.client_id = v,
            "client_secret" => ex.client_secret = v,
            "code" => ex.code = v,
            "redirect_uri" => ex.redirect_uri = v,
            "code_verifier" => ex.code_verifier = v,
            _ => {}
        }
    }
    Some(ex)
}
