//! The secret coverage page's read-only part, rendered on the server: when
//! it was checked, the filters (a GET form), the findings worst first with
//! the admin's dismiss and undo forms (plain posts, no script needed), and
//! the matrix. Cells show a state and a letter or a date, never a value.

use crate::format::utc_timestamp;
use crate::model::{CellView, DismissalView, FindingView, SecretRow, SecretsQuery, SecretsView};
use leptos::prelude::*;

/// The whole page around `body` (the stored report, or the comparison with
/// an uploaded `.env.local` when `compared`): heading, re-check form, the
/// upload form, and what went wrong with the last form post (`posted`) or
/// upload (`upload_problem`).
pub fn page_html(
    project: &str,
    posted: Option<&str>,
    upload_problem: Option<&str>,
    compared: bool,
    body: &str,
) -> String {
    let project = project.to_string();
    let stored_href = format!("/secrets?project={}", crate::format::query_escape(&project));
    view! {
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-semibold tracking-tight">{format!("Secret coverage of {project}")}</h1>
            <form method="post" action="/api/secrets/recheck" class="text-sm">
                <input type="hidden" name="project" value=project.clone() />
                <button type="submit" data-testid="recheck" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50">"Re-check now"</button>
            </form>
        </div>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "Which keys each store holds, across Netlify's contexts, GitHub Actions and your .env.local. Values are never shown: readable values are compared by keyed fingerprint and shown as letters."
        </p>
        {posted.map(|e| view! { <p role="alert" class="mt-3 rounded border border-red-200 bg-red-50 p-2 text-sm text-red-800" data-testid="secrets-error">{e.to_string()}</p> })}
        <form method="post" action=stored_href.clone() enctype="multipart/form-data" class="mt-4 rounded-lg border border-slate-200 bg-white p-3 text-sm" data-testid="env-local-form">
            <input type="hidden" name="project" value=project.clone() />
            <label for="env-local-input" class="font-medium">"Compare my .env.local"</label>
            <span class="text-slate-600">" (up to 64 KiB). It is compared in memory and forgotten: never stored, logged or sent back."</span>
            <div class="mt-2 flex flex-wrap items-center gap-3">
                <input
                    id="env-local-input"
                    type="file"
                    name="env_local"
                    required
                    data-autosubmit="true"
                    data-testid="env-local-input"
                    class="block min-w-0 flex-1 rounded-lg border-2 border-dashed border-slate-300 p-3 text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-900 file:px-3 file:py-1.5 file:text-white hover:border-emerald-500"
                />
                <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50">"Compare"</button>
            </div>
            <p class="mt-1 text-xs text-slate-500">"Pick the file or drop it on the box."</p>
        </form>
        {upload_problem.map(|e| view! { <p role="alert" class="mt-3 text-sm text-red-700" data-testid="env-local-error">{e.to_string()}</p> })}
        {compared.then(|| view! {
            <div class="mt-3 flex items-center gap-3 text-sm" data-testid="env-local-result">
                <span class="rounded bg-sky-100 px-2 py-0.5 text-sky-900">"Compared with your .env.local"</span>
                <a rel="external" class="underline" href=stored_href.clone()>"Back to the stored check"</a>
            </div>
        })}
        <div inner_html=body.to_string()></div>
    }
    .to_html()
}

pub fn html(v: &SecretsView, query: &SecretsQuery) -> String {
    let v = v.clone();
    let query = query.clone();
    if v.checked_at_ms.is_none() && !v.env_local_checked {
        return view! {
            <p class="mt-6 text-slate-600" data-testid="secrets-not-checked">
                {format!("The secrets of {} have not been checked yet. The first sync checks them; \"Re-check now\" does it at once.", v.project)}
            </p>
        }
        .to_html();
    }
    let filters =
        (!v.env_local_checked).then(|| view! { <Filters v=v.clone() query=query.clone() /> });
    view! {
        <Summary v=v.clone() />
        {filters}
        <Unread v=v.clone() />
        <Findings v=v.clone() />
        <Matrix v=v.clone() />
        <Dismissed v=v.clone() />
        <Legend />
    }
    .to_html()
}

fn outcome_text(v: &SecretsView) -> (&'static str, &'static str) {
    match v.outcome.as_str() {
        "ok" => (
            "Every required key is present and non-empty.",
            "border-emerald-200 bg-emerald-50 text-emerald-900",
        ),
        "missing" => (
            "Something required is missing or empty.",
            "border-red-200 bg-red-50 text-red-900",
        ),
        _ => (
            "Nothing is known to be missing, but some stores could not be read.",
            "border-amber-200 bg-amber-50 text-amber-900",
        ),
    }
}

#[component]
fn Summary(v: SecretsView) -> impl IntoView {
    let (text, class) = outcome_text(&v);
    let when = match (v.env_local_checked, v.checked_at_ms) {
        (true, _) => {
            "Checked just now against your .env.local, which was compared and not kept.".to_string()
        }
        (false, Some(at)) => format!("Checked {}.", utc_timestamp(at)),
        (false, None) => String::new(),
    };
    view! {
        <div class=format!("mt-4 rounded-lg border p-3 text-sm {class}") data-testid="secrets-summary" data-outcome=v.outcome.clone()>
            <p class="font-medium">{text}" "{format!("{} open findings.", v.open_findings)}</p>
            <p class="mt-1" data-testid="secrets-checked-at">{when}</p>
        </div>
    }
}

#[component]
fn Filters(v: SecretsView, query: SecretsQuery) -> impl IntoView {
    let location = query.location.clone().unwrap_or_default();
    let problems = query.problems.as_deref().is_some_and(|p| !p.is_empty());
    view! {
        <form method="get" action="/secrets" class="mt-4 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm" data-testid="secrets-filters">
            {if v.projects.len() > 1 {
                view! {
                    <label class="flex flex-col gap-1">"Project"
                        <select name="project" class="rounded border border-slate-300 px-2 py-1">
                            {v.projects.iter().map(|p| {
                                let selected = *p == v.project;
                                view! { <option value=p.clone() selected=selected>{p.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                }.into_any()
            } else {
                view! { <input type="hidden" name="project" value=v.project.clone() /> }.into_any()
            }}
            <label class="flex items-center gap-2">
                <input type="checkbox" name="problems" value="1" checked=problems />
                "Problems only"
            </label>
            <label class="flex flex-col gap-1">"Location"
                <select name="location" class="rounded border border-slate-300 px-2 py-1">
                    <option value="" selected=location.is_empty()>"every location"</option>
                    {v.all_columns.iter().map(|c| {
                        let selected = *c == location;
                        view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="flex flex-col gap-1">"Key"
                <input type="search" name="key" value=query.key.clone().unwrap_or_default() placeholder="SUPABASE" class="rounded border border-slate-300 px-2 py-1" />
            </label>
            <button type="submit" class="rounded-md bg-slate-900 px-3 py-1.5 text-white">"Filter"</button>
            <a rel="external" class="underline" href=format!("/secrets?project={}", crate::format::query_escape(&v.project))>"Clear"</a>
        </form>
    }
}

#[component]
fn Unread(v: SecretsView) -> impl IntoView {
    if v.unread.is_empty() && v.problems.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="mt-4 rounded-lg border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900" data-testid="secrets-unread">
            <h2 class="font-semibold">"Not everything could be read"</h2>
            <p>"Cells of these stores show as unknown, never as absent."</p>
            <ul class="mt-1 list-disc pl-5">
                {v.unread.iter().map(|(s, why)| view! { <li><strong>{s.clone()}</strong>": "{why.clone()}</li> }).collect_view()}
                {v.problems.iter().map(|p| view! { <li><code>{p.clone()}</code></li> }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

fn severity_class(s: &str) -> &'static str {
    match s {
        "critical" => "bg-red-700 text-white",
        "high" => "bg-red-100 text-red-800",
        "medium" => "bg-amber-100 text-amber-800",
        _ => "bg-slate-100 text-slate-700",
    }
}

#[component]
fn Findings(v: SecretsView) -> impl IntoView {
    if v.findings.is_empty() {
        return view! {
            <p class="mt-6 text-slate-600" data-testid="secrets-no-findings">"No open findings."</p>
        }
        .into_any();
    }
    let project = v.project.clone();
    let can_dismiss = v.can_dismiss && !v.env_local_checked;
    view! {
        <section aria-labelledby="findings-heading" class="mt-6">
            <h2 id="findings-heading" class="text-lg font-semibold">"Findings"</h2>
            <ul class="mt-2 space-y-2" data-testid="secrets-findings">
                {v.findings.into_iter().map(|f| view! { <FindingItem f project=project.clone() can_dismiss /> }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn FindingItem(f: FindingView, project: String, can_dismiss: bool) -> impl IntoView {
    let badge = format!(
        "rounded px-1.5 py-0.5 text-xs font-semibold uppercase tracking-wide {}",
        severity_class(&f.severity)
    );
    let form =
        can_dismiss.then(|| view! { <DismissForm finding=f.id.clone() project=project.clone() /> });
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-3 text-sm" data-testid="finding" data-finding=f.id.clone() data-severity=f.severity.clone()>
            <p class="flex flex-wrap items-baseline gap-2">
                <span class=badge>{f.severity.clone()}</span>
                <span class="font-medium">{f.title.clone()}</span>
            </p>
            <p class="mt-1 text-slate-700">{f.detail.clone()}</p>
            {f.fix.clone().map(|u| view! { <p class="mt-1"><a class="underline" href=u rel="noopener noreferrer" target="_blank">"Fix it there"</a></p> })}
            {form}
        </li>
    }
}

#[component]
fn DismissForm(finding: String, project: String) -> impl IntoView {
    view! {
        <details class="mt-2" data-testid="dismiss">
            <summary class="cursor-pointer text-slate-700 underline">"Dismiss…"</summary>
            <form method="post" action="/api/secrets/dismiss" class="mt-2 flex flex-wrap items-end gap-2">
                <input type="hidden" name="project" value=project />
                <input type="hidden" name="finding" value=finding />
                <label class="flex min-w-64 flex-1 flex-col gap-1">"Why (shown to everyone)"
                    <input type="text" name="reason" required=true maxlength="500" class="rounded border border-slate-300 px-2 py-1" />
                </label>
                <label class="flex flex-col gap-1">"Until (optional)"
                    <input type="date" name="until" class="rounded border border-slate-300 px-2 py-1" />
                </label>
                <button type="submit" class="rounded-md border border-slate-300 px-3 py-1.5 hover:bg-slate-50">"Dismiss finding"</button>
            </form>
        </details>
    }
}

#[component]
fn Dismissed(v: SecretsView) -> impl IntoView {
    if v.dismissed.is_empty() && v.past_dismissals.is_empty() {
        return ().into_any();
    }
    let project = v.project.clone();
    let can_undo = v.can_dismiss && !v.env_local_checked;
    view! {
        <section aria-labelledby="dismissed-heading" class="mt-6" data-testid="secrets-dismissed">
            <h2 id="dismissed-heading" class="text-lg font-semibold">"Dismissed findings"</h2>
            <ul class="mt-2 space-y-2 text-sm">
                {v.dismissed.into_iter().map(|f| {
                    let d = f.dismissal.clone();
                    view! {
                        <li class="rounded-lg border border-slate-200 bg-slate-50 p-3" data-testid="dismissed-finding" data-finding=f.id.clone()>
                            <p class="font-medium">{f.title.clone()}</p>
                            {d.map(|d| view! { <DismissalLine d project=project.clone() can_undo /> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(!v.past_dismissals.is_empty()).then(|| view! {
                <details class="mt-2 text-sm">
                    <summary class="cursor-pointer underline">{format!("{} earlier dismissals", v.past_dismissals.len())}</summary>
                    <ul class="mt-1 list-disc pl-5">
                        {v.past_dismissals.iter().map(|d| view! { <li>{past(d)}</li> }).collect_view()}
                    </ul>
                </details>
            })}
        </section>
    }
    .into_any()
}

/// The UTC day a dismissal's end (midnight after its last day) closes.
fn day(until_ms: i64) -> String {
    let t = utc_timestamp(until_ms - 1);
    t.get(..10).unwrap_or(&t).to_string()
}

fn past(d: &DismissalView) -> String {
    let end = match (&d.undone_by, d.undone_at_ms, d.until_ms) {
        (Some(by), Some(at), _) => format!("undone by {by} {}", utc_timestamp(at)),
        (_, _, Some(until)) => format!("ran until the end of {}", day(until)),
        _ => "ended".into(),
    };
    format!(
        "{}: dismissed by {} {} (\u{201c}{}\u{201d}); {end}",
        d.finding_id,
        d.by,
        utc_timestamp(d.at_ms),
        d.reason
    )
}

#[component]
fn DismissalLine(d: DismissalView, project: String, can_undo: bool) -> impl IntoView {
    let until = d
        .until_ms
        .map(|u| format!(" until the end of {}", day(u)))
        .unwrap_or_default();
    view! {
        <p class="mt-1 text-slate-700">
            {format!("Dismissed by {} {}{until}: ", d.by, utc_timestamp(d.at_ms))}
            <q>{d.reason.clone()}</q>
        </p>
        {can_undo.then(|| view! {
            <form method="post" action="/api/secrets/undo-dismissal" class="mt-1">
                <input type="hidden" name="project" value=project.clone() />
                <input type="hidden" name="dismissal" value=d.id.to_string() />
                <button type="submit" data-testid="undo-dismissal" class="rounded-md border border-slate-300 px-2 py-1 hover:bg-white">"Undo dismissal"</button>
            </form>
        })}
    }
}

fn cell_class(state: &str) -> &'static str {
    match state {
        "readable" => "bg-emerald-50 text-emerald-900 font-mono",
        "write-only" => "bg-sky-50 text-sky-900",
        "placeholder" => "bg-red-50 text-red-800 font-semibold",
        "unknown" => "bg-amber-50 text-amber-900",
        _ => "text-slate-400",
    }
}

fn group_title(group: &str) -> &'static str {
    match group {
        "required" => "Required (configuration or the playbook's defaults)",
        "discovered" => "Discovered in the repository",
        _ => "Present, asked for nowhere",
    }
}

#[component]
fn Matrix(v: SecretsView) -> impl IntoView {
    if v.rows.is_empty() {
        return view! {
            <p class="mt-6 text-slate-600" data-testid="secrets-matrix-empty">"No key matches these filters."</p>
        }
        .into_any();
    }
    let width = v.columns.len() + 2;
    let groups = ["required", "discovered", "unrequired"];
    view! {
        <section aria-labelledby="matrix-heading" class="mt-6">
            <h2 id="matrix-heading" class="text-lg font-semibold">"Where each key is"</h2>
            <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                <table class="min-w-full text-left text-sm" data-testid="secrets-matrix">
                    <thead class="bg-slate-50 text-xs text-slate-600">
                        <tr>
                            <th scope="col" class="px-3 py-2">"Key"</th>
                            {v.columns.iter().map(|c| {
                                let label = c.label.clone();
                                match c.link.clone() {
                                    Some(href) => view! { <th scope="col" class="px-2 py-2 font-medium"><a class="underline" href=href rel="noopener noreferrer" target="_blank">{label}</a></th> }.into_any(),
                                    None => view! { <th scope="col" class="px-2 py-2 font-medium">{label}</th> }.into_any(),
                                }
                            }).collect_view()}
                            <th scope="col" class="px-3 py-2">"Required in"</th>
                        </tr>
                    </thead>
                    {groups.into_iter().filter_map(|g| {
                        let rows: Vec<SecretRow> = v.rows.iter().filter(|r| r.group == g).cloned().collect();
                        (!rows.is_empty()).then(|| view! {
                            <tbody data-group=g>
                                <tr class="border-t border-slate-200 bg-slate-50">
                                    <th scope="rowgroup" colspan=width.to_string() class="px-3 py-1.5 text-xs font-semibold uppercase tracking-wide text-slate-500">{group_title(g)}</th>
                                </tr>
                                {rows.into_iter().map(|r| view! { <MatrixRow r /> }).collect_view()}
                            </tbody>
                        })
                    }).collect_view()}
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn MatrixRow(r: SecretRow) -> impl IntoView {
    view! {
        <tr class="border-t border-slate-100" data-key=r.key.clone()>
            <th scope="row" class="whitespace-nowrap px-3 py-1.5 font-mono text-xs font-medium">{r.key.clone()}</th>
            {r.cells.iter().map(|c| view! { <MatrixCell c=c.clone() /> }).collect_view()}
            <td class="px-3 py-1.5 text-xs">
                <ul>
                    {r.needs.iter().map(|n| {
                        let class = if n.verdict == "present" { "text-slate-600" } else { "font-semibold text-red-800" };
                        view! {
                            <li class=class data-verdict=n.verdict.clone()>
                                <code>{n.target.clone()}</code>" "{n.verdict.clone()}" · "<span class="text-slate-500">{n.origin.clone()}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </td>
        </tr>
    }
}

#[component]
fn MatrixCell(c: CellView) -> impl IntoView {
    view! {
        <td class=format!("px-2 py-1.5 text-center text-xs {}", cell_class(&c.state)) data-state=c.state.clone() title=c.detail.clone()>
            {c.text.clone()}
            <span class="sr-only">{format!(" ({})", c.detail)}</span>
        </td>
    }
}

#[component]
fn Legend() -> impl IntoView {
    let item = |state: &'static str, text: &'static str, meaning: &'static str| {
        view! {
            <li class="flex items-center gap-2">
                <span class=format!("inline-block min-w-10 rounded px-1.5 py-0.5 text-center {}", cell_class(state))>{text}</span>
                {meaning}
            </li>
        }
    };
    view! {
        <section aria-labelledby="legend-heading" class="mt-6 text-sm text-slate-700">
            <h2 id="legend-heading" class="font-semibold">"What the cells mean"</h2>
            <ul class="mt-1 grid gap-1 sm:grid-cols-2">
                {item("readable", "A", "Readable: the same letter in a row means the same value (a keyed fingerprint; the value is never shown).")}
                {item("write-only", "set", "Write-only: set, but the vendor never returns the value (GitHub secrets, Netlify secrets); hover for when and by whom.")}
                {item("placeholder", "empty", "Empty or a stand-in (changeme, ****, <your-key>, the .env.example sample).")}
                {item("absent", "—", "Absent: not set in this store.")}
                {item("unknown", "?", "Unknown: the store could not be read (permission, vendor down). Never counted as absent.")}
            </ul>
        </section>
    }
}
