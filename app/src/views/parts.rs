//! Presentational pieces of the deploy pages: state badges, a deploy's
//! facts, a run's jobs and steps, an action's progress. No data loading.

use crate::format::{first_line, maybe_duration, short, utc_timestamp};
use crate::model::{ActionView, DeployRow, RunView};
use leptos::prelude::*;

/// Tailwind classes for a vendor state or conclusion.
pub fn state_class(state: &str) -> &'static str {
    match state {
        "ready" | "success" | "succeeded" | "passed" | "completed" => {
            "bg-emerald-100 text-emerald-800"
        }
        "error" | "failure" | "failed" | "timed_out" | "startup_failure" => {
            "bg-red-100 text-red-800"
        }
        "cancelled" | "skipped" | "neutral" => "bg-slate-100 text-slate-700",
        _ => "bg-amber-100 text-amber-800",
    }
}

#[component]
pub fn StateBadge(#[prop(into)] state: String) -> impl IntoView {
    let class = format!(
        "inline-block rounded-full px-2 py-0.5 text-xs font-semibold {}",
        state_class(&state)
    );
    view! { <span class=class data-state=state.clone()>{state.replace('_', " ")}</span> }
}

/// The link to Greenroom's page of a deploy.
pub fn deploy_href(d: &DeployRow) -> String {
    format!("/deploys/{}/{}", d.site_id, d.deploy_id)
}

/// Commit, message, branch, author, times and links of one deploy.
#[component]
pub fn DeployFacts(deploy: DeployRow, run_url: Option<String>) -> impl IntoView {
    let d = deploy;
    let when = d.published_at_ms.unwrap_or(d.created_at_ms);
    let commit = match d.commit_url.clone() {
        Some(u) => view! { <a class="font-mono underline" href=u rel="noopener noreferrer" target="_blank">{short(&d.commit_sha)}</a> }.into_any(),
        None => view! { <span class="font-mono">{short(&d.commit_sha)}</span> }.into_any(),
    };
    view! {
        <p class="mt-2 font-medium" data-testid="commit-message">{first_line(&d.commit_message)}</p>
        <dl class="mt-2 grid grid-cols-2 gap-x-4 gap-y-1 text-sm">
            <dt class="text-slate-500">"Commit"</dt><dd>{commit}</dd>
            <dt class="text-slate-500">"Branch"</dt><dd><code>{d.branch.clone().unwrap_or_else(|| "—".into())}</code></dd>
            <dt class="text-slate-500">"Author"</dt><dd>{d.author.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt class="text-slate-500">"Live since"</dt><dd>{utc_timestamp(when)}</dd>
            <dt class="text-slate-500">"Build took"</dt><dd>{maybe_duration(d.build_seconds)}</dd>
        </dl>
        <p class="mt-2 flex flex-wrap gap-3 text-sm">
            <a class="underline" href=deploy_href(&d)>"Deploy details"</a>
            {d.deploy_url.clone().map(|u| view! { <a class="underline" href=u rel="noopener noreferrer" target="_blank">"Open this deploy"</a> })}
            {run_url.map(|u| view! { <a class="underline" href=u rel="noopener noreferrer" target="_blank">"Workflow run on GitHub"</a> })}
        </p>
    }
}

/// A run's jobs, each with its steps, status and duration.
#[component]
pub fn RunJobs(run: RunView) -> impl IntoView {
    let span = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(a), Some(b)) if b >= a => maybe_duration(Some((b - a) / 1000)),
        _ => "—".into(),
    };
    view! {
        <div class="mt-3 space-y-4" data-testid="run-jobs">
            {run.jobs.into_iter().map(|j| {
                let outcome = j.conclusion.clone().unwrap_or_else(|| j.status.clone());
                let log = format!("/runs/{}/jobs/{}/log", run.run_id, j.job_id);
                view! {
                    <div class="rounded border border-slate-200">
                        <div class="flex items-center justify-between bg-slate-50 px-3 py-2 text-sm">
                            <span class="font-medium">{j.name.clone()}</span>
                            <span class="flex items-center gap-2">
                                <a class="underline" href=log>"Log"</a>
                                <span class="text-slate-500">{span(j.started_at_ms, j.completed_at_ms)}</span>
                                <StateBadge state=outcome />
                            </span>
                        </div>
                        {if j.steps.is_empty() {
                            view! { <p class="px-3 py-2 text-sm text-slate-500">"No steps ran."</p> }.into_any()
                        } else {
                            view! {
                                <ol class="divide-y divide-slate-100 text-sm">
                                    {j.steps.into_iter().map(|s| {
                                        let outcome = s.conclusion.clone().unwrap_or_else(|| s.status.clone());
                                        view! {
                                            <li class="flex items-center justify-between px-3 py-1">
                                                <span>{s.name.clone()}</span>
                                                <span class="flex items-center gap-2">
                                                    <span class="text-slate-500">{span(s.started_at_ms, s.completed_at_ms)}</span>
                                                    <StateBadge state=outcome />
                                                </span>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ol>
                            }.into_any()
                        }}
                    </div>
                }
            }).collect_view()}
        </div>
    }
}

/// An action with the states it went through, newest last.
#[component]
pub fn ActionProgress(action: ActionView) -> impl IntoView {
    let a = action;
    view! {
        <li class="rounded border border-slate-200 p-3" data-testid="action" data-action-id=a.id.to_string() data-action-state=a.state.clone()>
            <div class="flex flex-wrap items-center justify-between gap-2">
                <span class="font-medium">{a.label.clone()}</span>
                <StateBadge state=a.state.clone() />
            </div>
            <p class="mt-1 text-sm text-slate-600">
                {a.summary.clone()}
                {a.actor.clone().map(|who| format!(" Asked by {who} at {}.", utc_timestamp(a.started_at_ms)))}
            </p>
            {a.message.clone().filter(|_| a.state == "failed").map(|m| view! {
                <p role="alert" class="mt-1 text-sm text-red-700">{m}</p>
            })}
            {a.message.clone().filter(|_| a.state == "unknown").map(|m| view! {
                <p role="status" class="mt-1 text-sm text-amber-800" data-testid="action-unknown">{m}</p>
            })}
            <ol class="mt-2 space-y-0.5 text-xs text-slate-600" aria-label="Progress">
                {a.progress.into_iter().map(|p| {
                    let state = p.state.clone();
                    view! {
                        <li data-progress=state>
                            <span class="font-mono">{utc_timestamp(p.at_ms)}</span>" · "{p.state}
                            {p.detail.map(|d| format!(" ({d})"))}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </li>
    }
}
