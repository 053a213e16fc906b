//! What frames every page: the shell (mode, who is signed in, projects), the
//! sign-in page's explanation, and Greenroom's own health.

use crate::model::{ApiError, ShellFrame, ShellInfo, SignInState, StatusView};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// `GET /api/shell-frame`: what every page's frame needs in the browser
/// (mode, who is signed in, the projects' names); `/api/shell` has more.
#[server(prefix = "/api", endpoint = "shell-frame", input = GetUrl)]
pub async fn get_shell_frame() -> Result<ShellFrame, ApiError> {
    let info = shell_info("/api/shell-frame")?;
    Ok(ShellFrame {
        sandbox: info.sandbox,
        user: info.user,
        projects: info.projects.into_iter().map(|p| p.name).collect(),
    })
}

/// `GET /api/shell`: product version, mode, who is signed in, and (for
/// them) the configured projects.
#[server(prefix = "/api", endpoint = "shell", input = GetUrl)]
pub async fn get_shell_info() -> Result<ShellInfo, ApiError> {
    shell_info("/api/shell")
}

#[cfg(feature = "ssr")]
fn shell_info(path: &str) -> Result<ShellInfo, ApiError> {
    use crate::model::UserView;
    let user = super::with_status(super::authorize(path))?;
    let services = super::services()?;
    Ok(ShellInfo {
        version: greenroom::VERSION.to_string(),
        sandbox: services.mode() == greenroom::Mode::Sandbox,
        projects: if user.is_some() {
            services
                .projects()
                .iter()
                .map(super::convert::project_summary)
                .collect()
        } else {
            Vec::new()
        },
        user: user.map(|u| UserView {
            // Set by the sign-in guard only when GitHub failed to confirm
            // the role at the last re-check (not merely because one is due).
            unconfirmed_since_ms: use_context::<greenroom::auth::RoleUnconfirmed>().map(|m| m.0),
            login: u.login,
            name: u.name,
            role: u.role.as_str().to_string(),
        }),
    })
}

/// `GET /api/sign-in-state`: public.
#[server(prefix = "/api", endpoint = "sign-in-state", input = GetUrl)]
pub async fn get_sign_in_state() -> Result<SignInState, ApiError> {
    sign_in_state("/api/sign-in-state").await
}

/// `GET /api/fragments/sign-in?next=PATH`: the sign-in page's body as HTML;
/// its link brings the person back to `next` once signed in.
#[server(prefix = "/api", endpoint = "fragments/sign-in", input = GetUrl)]
pub async fn sign_in_fragment(#[server(default)] next: String) -> Result<String, ApiError> {
    let state = sign_in_state("/api/fragments/sign-in").await?;
    Ok(crate::views::shell::sign_in_html(&state, &next))
}

#[cfg(feature = "ssr")]
async fn sign_in_state(path: &str) -> Result<SignInState, ApiError> {
    let user = super::with_status(super::authorize(path))?;
    let services = super::services()?;
    let auth = &services.config.auth;
    let refusal = match use_context::<tower_sessions::Session>() {
        Some(s) => s
            .get::<String>(greenroom::auth::REFUSAL_KEY)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    Ok(SignInState {
        sandbox: services.mode() == greenroom::Mode::Sandbox,
        org: auth.org.clone(),
        teams: auth
            .team_roles
            .iter()
            .map(|(t, r)| (t.clone(), r.as_str().to_string()))
            .collect(),
        default_role: auth.default_role.map(|r| r.as_str().to_string()),
        refusal,
        signed_in: user.is_some(),
    })
}

/// `GET /api/status`: is Greenroom healthy: database reachable, migrations applied.
#[server(prefix = "/api", endpoint = "status", input = GetUrl)]
pub async fn get_system_status() -> Result<StatusView, ApiError> {
    system_status("/api/status").await
}

/// `GET /api/fragments/status`: the status panel's facts as HTML.
#[server(prefix = "/api", endpoint = "fragments/status", input = GetUrl)]
pub async fn status_fragment() -> Result<String, ApiError> {
    let s = system_status("/api/fragments/status").await?;
    Ok(crate::views::shell::status_html(&s))
}

#[cfg(feature = "ssr")]
async fn system_status(path: &str) -> Result<StatusView, ApiError> {
    super::with_status(super::authorize(path))?;
    let status = super::services()?.status().await;
    let (backend, location, applied, expected, error) = match &status.database {
        Ok(r) => (
            Some(r.backend.to_string()),
            Some(r.location.clone()),
            r.migrations_applied,
            r.migrations_expected,
            None,
        ),
        Err(e) => (None, None, 0, 0, Some(e.clone())),
    };
    Ok(StatusView {
        version: status.version.to_string(),
        sandbox: status.mode == greenroom::Mode::Sandbox,
        sandbox_url: status.sandbox_url,
        ready: status.ready,
        database_backend: backend,
        database_location: location,
        migrations_applied: applied,
        migrations_expected: expected,
        database_error: error,
        uptime_seconds: status.uptime_seconds,
        checked_at_ms: status.checked_at_ms,
    })
}
