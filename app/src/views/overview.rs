//! The overview's read-only part, rendered on the server: freshness and
//! sync errors, what needs attention, what each site serves, the newest
//! staging deploy, the deploy job's latest run, recent actions with their
//! progress, and (for admins) Slack deliveries that failed.

use super::parts::{deploy_href, ActionProgress, DeployFacts, StateBadge};
use crate::format::{first_line, short, utc_timestamp};
use crate::model::{LiveView, OverviewView, RunView};
use leptos::prelude::*;

/// The HTML of `o`.
pub fn html(o: &OverviewView) -> String {
    view! { <OverviewBody o=o.clone() /> }.to_html()
}

#[component]
fn OverviewBody(o: OverviewView) -> impl IntoView {
    let can_act = o.can_act;
    let attention = if o.attention.is_empty() {
        view! {
            <p class="rounded-lg border border-emerald-200 bg-emerald-50 p-4 text-sm text-emerald-900" data-testid="all-clear">
                "Nothing needs attention: the latest staging deploy and its smoke test passed, and staging serves the head of "
                <code>{o.staging_branch.clone()}</code>"."
            </p>
        }
        .into_any()
    } else {
        view! {
            <section aria-labelledby="attention-heading" class="rounded-lg border border-red-200 bg-white p-4" data-testid="attention">
                <h2 id="attention-heading" class="font-semibold text-red-800">"Needs attention"</h2>
                <ul class="mt-2 space-y-3">
                    {o.attention.iter().map(|a| {
                        let fix = a.fix_label.clone().filter(|_| can_act);
                        view! {
                            <li class="flex flex-wrap items-start justify-between gap-2 text-sm" data-attention=a.kind.clone()>
                                <span class="max-w-prose">
                                    {a.message.clone()}
                                    {a.run_id.map(|id| view! { " "<a class="underline" href=format!("/runs/{id}") data-testid="attention-run">"See the run: jobs, logs, test results"</a> })}
                                </span>
                                {fix.map(|label| view! { <span class="text-xs font-medium text-emerald-800">{format!("Fix: {label} (below)")}</span> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        }
        .into_any()
    };
    let freshness = o
        .sync
        .iter()
        .map(|s| match (&s.error, s.error_since_ms) {
            (Some(e), since) => view! {
                <p role="alert" class="text-red-700" data-testid="sync-error">
                    {format!(
                        "{} unreachable since {}: {e}. Showing the data from {}.",
                        s.source,
                        since.map(utc_timestamp).unwrap_or_else(|| "the last attempt".into()),
                        s.last_success_ms.map(utc_timestamp).unwrap_or_else(|| "no successful sync yet".into())
                    )}
                </p>
            }
            .into_any(),
            (None, _) => view! {
                <p class="text-slate-500">
                    {format!("{} synced {}", s.source, s.last_success_ms.map(utc_timestamp).unwrap_or_else(|| "never".into()))}
                </p>
            }
            .into_any(),
        })
        .collect_view();
    let never_synced = o.sync.is_empty();
    let live_card = |title: &'static str,
                     testid: &'static str,
                     live: Option<LiveView>,
                     url: Option<String>| {
        view! {
            <article class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid=testid>
                <div class="flex items-center justify-between gap-2">
                    <h2 class="font-semibold">{title}</h2>
                    {url.map(|u| view! { <a class="text-sm underline" href=u.clone() rel="noopener noreferrer" target="_blank">{u.clone()}</a> })}
                </div>
                {match live {
                    Some(l) => view! { <StateBadge state=l.deploy.state.clone() /><DeployFacts deploy=l.deploy run_url=l.run_url /> }.into_any(),
                    None => view! { <p class="mt-2 text-sm text-slate-500">"Nothing is known to be live yet; the first sync fills this in."</p> }.into_any(),
                }}
            </article>
        }
        .into_any()
    };
    let pending_staging = o.latest_staging.clone().filter(|d| {
        o.staging
            .as_ref()
            .is_none_or(|l| l.deploy.deploy_id != d.deploy_id)
    });
    view! {
        {view! {
            <div class="text-xs" data-testid="freshness">
                {freshness}
                {never_synced.then(|| view! { <p class="text-slate-500">"Waiting for the first sync…"</p> })}
            </div>
        }.into_any()}
        {attention}
        {o.secret_findings.map(|n| {
            let href = format!("/secrets?project={}", crate::format::query_escape(&o.project));
            let (text, class) = if n == 0 {
                ("Secret coverage: no open findings.".to_string(), "text-slate-600")
            } else {
                (format!("Secret coverage: {n} open finding{}.", if n == 1 { "" } else { "s" }), "font-medium text-red-800")
            };
            view! { <p class=format!("text-sm {class}") data-testid="secret-findings"><a class="underline" href=href>{text}</a></p> }
        })}
        <div class="grid gap-4 md:grid-cols-2">
            {live_card("Live on staging", "live-staging", o.staging.clone(), o.staging_url.clone())}
            {live_card("Live on production", "live-production", o.production.clone(), o.production_url.clone())}
        </div>
        {pending_staging.map(|d| view! {
            <p class="text-sm" data-testid="latest-staging">
                "Newest staging deploy: "<StateBadge state=d.state.clone() />" "
                <a class="underline" href=deploy_href(&d)>{format!("{} {}", short(&d.commit_sha), first_line(&d.commit_message))}</a>
                {format!(" · {}", utc_timestamp(d.created_at_ms))}
            </p>
        }.into_any())}
        <DeployJobCard run=o.deploy_job.clone() />
        {(!o.actions.is_empty()).then(|| view! {
            <section aria-labelledby="recent-actions-heading">
                <h2 id="recent-actions-heading" class="font-semibold">"Recent actions"</h2>
                <ul class="mt-2 space-y-2" data-testid="recent-actions">
                    {o.actions.clone().into_iter().map(|a| view! { <ActionProgress action=a /> }).collect_view()}
                </ul>
            </section>
        }.into_any())}
        {(!o.slack_failures.is_empty()).then(|| view! {
            <section class="rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm" data-testid="slack-failures">
                <h2 class="font-semibold">"Slack notifications that failed"</h2>
                <p class="text-slate-700">"The actions themselves went ahead. Check SLACK_WEBHOOK_URL."</p>
                <ul class="mt-1 list-disc pl-5">{o.slack_failures.clone().into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
            </section>
        }.into_any())}
    }
}

#[component]
fn DeployJobCard(run: Option<RunView>) -> impl IntoView {
    view! {
        <article class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="deploy-job">
            <h2 class="font-semibold">"Latest deploy-staging run"</h2>
            {match run {
                None => view! { <p class="mt-2 text-sm text-slate-500">"No run of the deploy job is known yet."</p> }.into_any(),
                Some(r) => {
                    let outcome = r.conclusion.clone().unwrap_or_else(|| r.status.clone());
                    view! {
                        <p class="mt-2 flex flex-wrap items-center gap-2 text-sm">
                            <a class="underline" href=format!("/runs/{}", r.run_id)>{format!("Run #{}", r.run_number)}</a>
                            <StateBadge state=outcome />
                            <span>"Smoke test:"</span>
                            <span data-testid="smoke">
                                {match r.smoke.clone() {
                                    Some(s) => view! { <StateBadge state=s /> }.into_any(),
                                    None => view! { <span class="text-slate-500">"did not run"</span> }.into_any(),
                                }}
                            </span>
                            {r.results.clone().map(|t| view! { <span data-testid="test-results">{format!("Tests: {t}")}</span> })}
                            <span class="text-slate-500">{format!("{} · {} · {}", short(&Some(r.head_sha.clone())), r.actor.clone().unwrap_or_default(), utc_timestamp(r.created_at_ms))}</span>
                        </p>
                    }.into_any()
                }
            }}
        </article>
    }
}
