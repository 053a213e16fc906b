//! The on-call actions: what one would do now (for its confirmation),
//! starting one, and following it.

use crate::model::{ActionView, ApiError, PlanView, StartedView};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// `GET /api/actions/plan?project=NAME&kind=KIND`: what an action would do
/// now, for its confirmation. Kinds: `deploy-staging`, `rerun-deploy-job`,
/// `redeploy-last-good`.
#[server(prefix = "/api", endpoint = "actions/plan", input = GetUrl)]
pub async fn get_action_plan(project: String, kind: String) -> Result<PlanView, ApiError> {
    plan("/api/actions/plan", &project, &kind).await
}

/// What `kind` would do now in `project`, for whoever `path` admits.
#[cfg(feature = "ssr")]
pub(crate) async fn plan(path: &str, project: &str, kind: &str) -> Result<PlanView, ApiError> {
    super::with_status(
        async {
            super::authorize(path)?;
            use super::convert::deploy_row;
            let services = super::services()?;
            let t = super::target(&services.ops, project)?;
            let k = action_kind(kind)?;
            let plan = services.ops.actions.plan(t, k).await?;
            Ok(PlanView {
                kind: k.as_str().into(),
                label: k.label().into(),
                summary: plan.summary,
                target: plan.target.as_ref().map(deploy_row),
                replaces: plan.replaces.as_ref().map(deploy_row),
                blocked: plan.blocked,
                now_ms: greenroom::storage::now_ms(),
            })
        }
        .await,
    )
}

/// `POST /api/actions/start` with `project=NAME&kind=KIND`: runs an on-call action.
#[server(prefix = "/api", endpoint = "actions/start")]
pub async fn start_action(project: String, kind: String) -> Result<StartedView, ApiError> {
    super::with_status(
        async {
            let actor = super::actor("/api/actions/start")?;
            let services = super::services()?;
            let t = super::target(&services.ops, &project)?;
            let k = action_kind(&kind)?;
            let started = services.ops.actions.start(t, k, &actor).await?;
            Ok(super::convert::started_view(started))
        }
        .await,
    )
}

/// `GET /api/action?id=ID`: one action and its progress.
#[server(prefix = "/api", endpoint = "action", input = GetUrl)]
pub async fn get_action(id: i64) -> Result<ActionView, ApiError> {
    super::with_status(
        async {
            super::authorize("/api/action")?;
            super::services()?
                .storage
                .get_action(id)
                .await?
                .map(|a| super::convert::action_view(&a))
                .ok_or_else(|| ApiError::NotFound(format!("No action {id}.")))
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn action_kind(kind: &str) -> Result<greenroom::actions::ActionKind, ApiError> {
    use greenroom::actions::ActionKind;
    ActionKind::parse(kind).ok_or_else(|| {
        let known: Vec<&str> = ActionKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::BadRequest(format!(
            "{kind:?} is not an action; use one of {}",
            known.join(", ")
        ))
    })
}
