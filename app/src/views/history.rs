//! The history page's read-only part, rendered on the server: the trend
//! figures and charts of the filtered deploys, the total, a page of the
//! table and the link to older deploys.

use super::charts::{BuildTimeChart, FrequencyChart, WeeklyBars};
use super::parts::{deploy_href, StateBadge};
use crate::format::{first_line, maybe_duration, short, utc_timestamp};
use crate::model::{HistoryPage, HistoryQuery, TrendsView, WeekView};
use leptos::prelude::*;

/// The HTML of the filters (a plain GET form), the trends (when there are
/// any), then the table. `projects` are the configured projects' names.
pub fn html(
    query: &HistoryQuery,
    projects: Vec<String>,
    page: &HistoryPage,
    trends: &TrendsView,
    older_href: Option<String>,
) -> String {
    let trends = (!trends.weeks.is_empty()).then(|| view! { <Trends trends=trends.clone() /> });
    view! {
        <Filters query=query.clone() projects />
        {trends}
        <Table page=page.clone() older_href />
    }
    .to_html()
}

/// The page's heading, with the CSV export of what the filters select.
pub fn heading(query: &HistoryQuery) -> String {
    let export = format!("/history/export?format=csv&{}", query.filters_qs());
    view! {
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-semibold tracking-tight">"Deploy history"</h1>
            <a rel="external" class="text-sm underline" data-testid="export-csv" href=export>"Export these deploys as CSV"</a>
        </div>
    }
    .to_html()
}

/// The filters as typed, and why they cannot be used.
pub fn invalid(query: &HistoryQuery, projects: Vec<String>, problem: &str) -> String {
    view! {
        <Filters query=query.clone() projects />
        <p role="alert" class="mt-6 text-red-700" data-testid="history-invalid">{format!("These filters cannot be used: {problem}.")}</p>
    }
    .to_html()
}

const SITES: &[&str] = &["staging", "production"];
const CONTEXTS: &[&str] = &["production", "branch-deploy", "deploy-preview"];
const STATES: &[&str] = &[
    "ready",
    "error",
    "cancelled",
    "building",
    "processing",
    "enqueued",
    "new",
];

#[component]
fn Filters(query: HistoryQuery, projects: Vec<String>) -> impl IntoView {
    let value = move |k: &str| {
        match k {
            "project" => query.project.clone(),
            "site" => query.site.clone(),
            "context" => query.context.clone(),
            "state" => query.state.clone(),
            "branch" => query.branch.clone(),
            "author" => query.author.clone(),
            "from" => query.from.clone(),
            "until" => query.until.clone(),
            _ => None,
        }
        .unwrap_or_default()
    };
    let select = |name: &'static str, label: &'static str, options: Vec<String>| {
        let current = value(name);
        view! {
            <label class="flex flex-col gap-1">{label}
                <select name=name class="rounded border border-slate-300 px-2 py-1">
                    <option value="" selected=current.is_empty()>"any"</option>
                    {options.into_iter().map(|o| {
                        let selected = o == current;
                        view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
    };
    let text = |name: &'static str, label: &'static str, kind: &'static str| {
        view! {
            <label class="flex flex-col gap-1">{label}
                <input type=kind name=name value=value(name) class="rounded border border-slate-300 px-2 py-1" />
            </label>
        }
    };
    let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    view! {
        <form method="get" action="/history" class="mt-4 grid grid-cols-2 gap-3 rounded-lg border border-slate-200 bg-white p-4 text-sm sm:grid-cols-4 lg:grid-cols-9">
            {select("project", "Project", projects)}
            {select("site", "Site", owned(SITES))}
            {select("context", "Context", owned(CONTEXTS))}
            {select("state", "State", owned(STATES))}
            {text("branch", "Branch", "text")}
            {text("author", "Author", "text")}
            {text("from", "From", "date")}
            {text("until", "Until", "date")}
            <div class="flex items-end"><button type="submit" class="rounded-md bg-slate-900 px-3 py-1.5 text-white">"Filter"</button></div>
        </form>
    }
}

#[component]
fn Table(page: HistoryPage, older_href: Option<String>) -> impl IntoView {
    if page.rows.is_empty() {
        return view! {
            <p class="mt-6 text-slate-600" data-testid="history-empty">"No deploy matches these filters. Widen them, or wait for the first sync."</p>
        }
        .into_any();
    }
    view! {
        <p class="mt-6 text-sm text-slate-600" data-testid="history-total">{format!("{} deploys match.", page.total)}</p>
        <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="min-w-full text-left text-sm" data-testid="history-table">
                <thead class="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                        {["Created", "Site", "Context", "Branch", "Commit", "Author", "State", "Build"]
                            .map(|h| view! { <th scope="col" class="px-3 py-2">{h}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {page.rows.into_iter().map(|d| view! {
                        <tr class="border-t border-slate-100" data-deploy=d.deploy_id.clone()>
                            <td class="whitespace-nowrap px-3 py-2"><a class="underline" href=deploy_href(&d)>{utc_timestamp(d.created_at_ms)}</a></td>
                            <td class="px-3 py-2">{d.site.clone()}</td>
                            <td class="px-3 py-2">{d.context.clone()}</td>
                            <td class="px-3 py-2"><code>{d.branch.clone().unwrap_or_default()}</code></td>
                            <td class="px-3 py-2"><span class="font-mono">{short(&d.commit_sha)}</span>" "{first_line(&d.commit_message)}</td>
                            <td class="px-3 py-2">{d.author.clone().unwrap_or_default()}</td>
                            <td class="px-3 py-2"><StateBadge state=d.state.clone() /></td>
                            <td class="whitespace-nowrap px-3 py-2">{maybe_duration(d.build_seconds)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {older_href.map(|href| view! { <p class="mt-3 text-sm"><a class="underline" data-testid="history-older" href=href>"Older deploys"</a></p> })}
    }
    .into_any()
}

fn percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn seconds(v: f64) -> String {
    maybe_duration(Some(v as i64))
}

#[component]
fn Trends(trends: TrendsView) -> impl IntoView {
    let t = trends;
    let weeks = t.weeks.clone();
    let total_deploys: u32 = t.total.by_context.iter().map(|(_, n)| *n).sum();
    let per_week = f64::from(total_deploys) / t.weeks.len().max(1) as f64;
    let failure =
        (t.total.finished > 0).then(|| f64::from(t.total.failed) / f64::from(t.total.finished));
    let card = |title: &'static str, value: String, definition: &'static str| {
        view! {
            <div class="rounded-lg border border-slate-200 bg-white p-3" title=definition>
                <p class="text-xs uppercase tracking-wide text-slate-500">{title}</p>
                <p class="text-xl font-semibold">{value}</p>
                <p class="mt-1 text-xs text-slate-500">{definition}</p>
            </div>
        }
    };
    let chart = |title: &'static str, definition: &'static str, body: AnyView| {
        view! {
            <figure class="rounded-lg border border-slate-200 bg-white p-3">
                <figcaption class="text-sm font-medium">{title}</figcaption>
                {body}
                <p class="mt-1 text-xs text-slate-500">{definition}</p>
            </figure>
        }
    };
    const FREQUENCY: &str =
        "Deploys created per UTC week (Monday first), by Netlify deploy context.";
    const FAILURE: &str = "Deploys that ended in error, out of those that finished (ready or error); cancelled deploys count in neither.";
    const BUILD: &str =
        "Netlify build time of finished deploys: bar = median, red tick = 90th percentile.";
    const RESTORE: &str = "From a failed staging or production deploy to the next deploy of that site that went live (previews aside), median; counted in the week of the failure.";
    const LEAD: &str = "From the push that started a deploy's workflow run to the deploy going live, median; only deploys linked to a run.";
    view! {
        <section aria-labelledby="trends-heading" class="mt-6" data-testid="trends">
            <h2 id="trends-heading" class="text-lg font-semibold">"Trends of these deploys"</h2>
            <div class="mt-2 grid grid-cols-2 gap-3 lg:grid-cols-5">
                {card("Deploys per week", format!("{per_week:.1}"), FREQUENCY)}
                {card("Change failure rate", failure.map(percent).unwrap_or_else(|| "—".into()), FAILURE)}
                {card("Build time", format!("{} · p90 {}", maybe_duration(t.total.build_p50_s), maybe_duration(t.total.build_p90_s)), BUILD)}
                {card("Time to restore", maybe_duration(t.total.restore_median_s), RESTORE)}
                {card("Lead time", maybe_duration(t.total.lead_median_s), LEAD)}
            </div>
            <div class="mt-3 grid gap-3 lg:grid-cols-2">
                {chart("Deployment frequency", FREQUENCY, view! { <FrequencyChart weeks=weeks.clone() contexts=t.contexts.clone() /> }.into_any())}
                {chart("Change failure rate", FAILURE, view! {
                    <WeeklyBars weeks=weeks.clone() value=failure_rate format=percent label="Change failure rate per week" testid="chart-failure-rate" colour="#b91c1c" />
                }.into_any())}
                {chart("Build time", BUILD, view! { <BuildTimeChart weeks=weeks.clone() /> }.into_any())}
                {chart("Time to restore", RESTORE, view! {
                    <WeeklyBars weeks=weeks.clone() value=restore format=seconds label="Time to restore per week" testid="chart-restore" colour="#7c3aed" />
                }.into_any())}
            </div>
        </section>
    }
}

fn failure_rate(w: &WeekView) -> Option<f64> {
    (w.finished > 0).then(|| f64::from(w.failed) / f64::from(w.finished))
}

fn restore(w: &WeekView) -> Option<f64> {
    w.restore_median_s.map(|s| s as f64)
}
