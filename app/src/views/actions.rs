//! An on-call action's confirmation, rendered on the server: what it would
//! publish, what that replaces, or why it cannot run now.

use crate::format::{age, first_line, short, utc_timestamp};
use crate::model::{DeployRow, PlanView};
use leptos::prelude::*;

/// The dialog's body for `plan`.
pub fn plan_html(plan: &PlanView) -> String {
    view! { <PlanDetails plan=plan.clone() /> }.to_html()
}

#[component]
fn PlanDetails(plan: PlanView) -> impl IntoView {
    let now = plan.now_ms;
    let deploy = move |title: &'static str, d: DeployRow, testid: &'static str| {
        view! {
            <div class="mt-3 rounded border border-slate-200 p-3 text-sm" data-testid=testid>
                <p class="text-xs font-medium uppercase tracking-wide text-slate-500">{title}</p>
                <p class="mt-1"><span class="font-mono">{short(&d.commit_sha)}</span>" "{first_line(&d.commit_message)}</p>
                <p class="text-slate-600">
                    {format!("Deploy {} · built {} ({})", d.deploy_id, utc_timestamp(d.created_at_ms), age(now, d.created_at_ms))}
                </p>
            </div>
        }
    };
    view! {
        <p class="mt-3 text-sm" data-testid="action-summary">{plan.summary.clone()}</p>
        {plan.target.clone().map(|d| deploy("Will publish", d, "plan-target"))}
        {plan.replaces.clone().map(|d| deploy("Replacing what staging serves now", d, "plan-replaces"))}
        {plan.blocked.clone().map(|b| view! { <p role="alert" class="mt-3 text-sm text-red-700" data-testid="plan-blocked">{b}</p> })}
    }
}
