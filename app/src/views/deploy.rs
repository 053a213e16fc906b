//! A deploy's page and a run's page, read-only parts rendered on the
//! server: timeline, error, commit, the linked run with its jobs and steps.

use super::parts::{RunJobs, StateBadge};
use crate::format::{first_line, maybe_duration, short, utc_timestamp};
use crate::model::{DeployDetail, RunArtifacts, RunView};
use leptos::prelude::*;

/// The HTML of a deploy's page body, with its run's artifacts when it has
/// a run.
pub fn deploy_html(d: &DeployDetail, artifacts: Option<&RunArtifacts>) -> String {
    let artifacts = artifacts.cloned();
    view! {
        <DeployBody detail=d.clone() />
        {artifacts.map(|a| view! { <super::artifacts::RunArtifactsSection artifacts=a /> })}
    }
    .to_html()
}

/// The HTML of a run's page body.
pub fn run_html(r: &RunView, artifacts: &RunArtifacts) -> String {
    view! {
        <h1 class="text-2xl font-semibold tracking-tight">{format!("Workflow run #{}", r.run_number)}</h1>
        <p class="mt-1 font-mono text-sm">{short(&Some(r.head_sha.clone()))}</p>
        <section class="mt-4 rounded-lg border border-slate-200 bg-white p-4"><RunSummary run=r.clone() /></section>
        <super::artifacts::RunArtifactsSection artifacts=artifacts.clone() />
    }
    .to_html()
}

#[component]
fn DeployBody(detail: DeployDetail) -> impl IntoView {
    let d = detail.deploy.clone();
    let mut timeline = vec![("created".to_string(), d.created_at_ms)];
    if d.state == "ready" || d.state == "error" || d.state == "cancelled" {
        timeline.push((d.state.clone(), d.updated_at_ms));
    } else {
        timeline.push((format!("{} (last seen)", d.state), d.updated_at_ms));
    }
    if let Some(p) = d.published_at_ms {
        timeline.push(("published".into(), p));
    }
    timeline.sort_by_key(|(_, t)| *t);
    let project = detail.project.clone();
    view! {
        <p class="text-sm"><a class="underline" href=format!("/history?project={}", crate::format::query_escape(&project))>"Deploy history"</a></p>
        <h1 class="mt-1 flex flex-wrap items-center gap-3 text-2xl font-semibold tracking-tight">
            {format!("{} deploy {}", d.site, short(&d.commit_sha))}
            <StateBadge state=d.state.clone() />
            {detail.live.then(|| view! { <span class="rounded bg-emerald-600 px-2 py-0.5 text-xs font-semibold text-white" data-testid="live-badge">"live now"</span> })}
        </h1>
        <p class="mt-1 text-slate-700">{first_line(&d.commit_message)}</p>
        {d.error_message.clone().map(|e| view! {
            <p role="alert" class="mt-3 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800" data-testid="deploy-error">{e}</p>
        })}
        <div class="mt-6 grid gap-6 lg:grid-cols-3">
            <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="facts-heading">
                <h2 id="facts-heading" class="font-semibold">"Deploy"</h2>
                <dl class="mt-2 grid grid-cols-2 gap-x-3 gap-y-1 text-sm">
                    <dt class="text-slate-500">"Project"</dt><dd>{detail.project.clone()}</dd>
                    <dt class="text-slate-500">"Context"</dt><dd>{d.context.clone()}</dd>
                    <dt class="text-slate-500">"Branch"</dt><dd><code>{d.branch.clone().unwrap_or_default()}</code></dd>
                    <dt class="text-slate-500">"Author"</dt><dd>{d.author.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt class="text-slate-500">"Build took"</dt><dd>{maybe_duration(d.build_seconds)}</dd>
                    <dt class="text-slate-500">"Netlify id"</dt><dd class="break-all font-mono text-xs">{d.deploy_id.clone()}</dd>
                </dl>
                <p class="mt-3 flex flex-col gap-1 text-sm">
                    {d.commit_url.clone().map(|u| view! { <a class="underline" href=u rel="noopener noreferrer" target="_blank">"The commit on GitHub"</a> })}
                    {d.deploy_url.clone().map(|u| view! { <a class="underline" href=u rel="noopener noreferrer" target="_blank">"Open this deploy"</a> })}
                </p>
                <h3 class="mt-4 text-sm font-semibold">"Timeline"</h3>
                <ol class="mt-1 space-y-1 text-sm" data-testid="timeline">
                    {timeline.into_iter().map(|(what, at)| view! {
                        <li><span class="font-mono text-xs">{utc_timestamp(at)}</span>" · "{what}</li>
                    }).collect_view()}
                </ol>
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-4 lg:col-span-2" aria-labelledby="run-heading">
                <h2 id="run-heading" class="font-semibold">"Workflow run"</h2>
                {match detail.run.clone() {
                    None => view! { <p class="mt-2 text-sm text-slate-500">"No workflow run of the same commit and branch is known: this deploy was not made by the deploy job (a preview, a release build, or a manual deploy)."</p> }.into_any(),
                    Some(r) => view! { <RunSummary run=r /> }.into_any(),
                }}
            </section>
        </div>
    }
}

#[component]
fn RunSummary(run: RunView) -> impl IntoView {
    let r = run;
    let outcome = r.conclusion.clone().unwrap_or_else(|| r.status.clone());
    view! {
        <p class="mt-2 flex flex-wrap items-center gap-2 text-sm">
            <a class="underline" href=format!("/runs/{}", r.run_id)>{format!("Run #{} (attempt {})", r.run_number, r.run_attempt)}</a>
            <StateBadge state=outcome />
            <span>"Smoke test:"</span>
            {match r.smoke.clone() {
                Some(s) => view! { <StateBadge state=s /> }.into_any(),
                None => view! { <span class="text-slate-500">"did not run"</span> }.into_any(),
            }}
            {r.results.clone().map(|t| view! { <span data-testid="test-results">{format!("Tests: {t}")}</span> })}
            {r.html_url.clone().map(|u| view! {
                <a class="underline" href=u rel="noopener noreferrer" target="_blank">"The run on GitHub"</a>
            })}
        </p>
        <p class="text-sm text-slate-600">{format!("{} by {} on {} · started {}", r.event, r.actor.clone().unwrap_or_default(), r.branch.clone().unwrap_or_default(), utc_timestamp(r.created_at_ms))}</p>
        <RunJobs run=r />
    }
}
