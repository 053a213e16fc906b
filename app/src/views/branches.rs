//! The Branches page, rendered on the server: what needs attention, the
//! branches in Supabase's sections with their statuses in words, each one's
//! latest run (steps, the lines that say why it failed, the masked log),
//! its database's host/port/user/version, what branch compute costs, and
//! the project's backups with where to restore; and, by role, the forms
//! that create (deployer), delete and restore (admin) a branch: plain form
//! posts the server answers by redirecting back, so they work without a
//! script, and the live view shows their progress.

use crate::format::{age, utc_timestamp};
use crate::model::{
    ActionView, BackupsView, BranchRunView, BranchSection, BranchView, BranchesView, CostView,
};
use leptos::prelude::*;

fn phase_class(phase: &str) -> &'static str {
    match phase {
        "ready" => "bg-emerald-100 text-emerald-800",
        "needs attention" => "bg-red-100 text-red-800",
        "stopped" => "bg-slate-100 text-slate-700",
        _ => "bg-amber-100 text-amber-800",
    }
}

pub fn html(v: &BranchesView, posted: Option<&str>) -> String {
    let v = v.clone();
    let project = v.project.clone();
    let posted = posted.map(str::to_string);
    let heading = view! {
        <h1 class="text-2xl font-semibold tracking-tight">{format!("Supabase branches of {project}")}</h1>
        {posted.map(|e| view! { <p role="alert" class="mt-3 rounded border border-red-200 bg-red-50 p-2 text-sm text-red-800" data-testid="branches-error">{e}</p> })}
    };
    if !v.configured {
        return view! {
            {heading}
            <p class="mt-6 text-slate-600" data-testid="branches-not-configured">
                {format!("{project} has no Supabase project configured. Add a [projects.supabase] section with its project_ref to greenroom.toml and restart Greenroom.")}
            </p>
        }
        .to_html();
    }
    let Some(read_at) = v.read_at_ms else {
        let problems = v.problems.clone();
        return view! {
            {heading}
            <div data-live-project=project.clone() data-live-mark=v.mark.to_string()></div>
            <p class="mt-6 text-slate-600" data-testid="branches-not-read">
                "Greenroom has not read this project's branches yet; the first sync pass does, and this page shows them as soon as it has."
            </p>
            <Problems problems />
        }
        .to_html();
    };
    let now = v.now_ms;
    view! {
        {heading}
        <div data-live-project=project.clone() data-live-mark=v.mark.to_string()></div>
        <p class="mt-1 text-sm text-slate-600" data-testid="branches-read-at">
            {format!("Read from Supabase {} ({}). The page follows changes as sync sees them.", age(now, read_at), utc_timestamp(read_at))}
        </p>
        <Problems problems=v.problems.clone() />
        <Attention items=v.attention.clone() />
        <Cost cost=v.cost.clone() />
        {v.can_create.then(|| view! { <CreateForm project=project.clone() cost=v.cost.clone() /> })}
        <Operations operations=v.operations.clone() />
        {v.sections.iter().cloned().map(|s| view! { <Section section=s now project=project.clone() can_delete=v.can_delete /> }).collect_view()}
        {v.backups.clone().map(|b| view! { <Backups backups=b /> })}
    }
    .to_html()
}

#[component]
fn Problems(problems: Vec<String>) -> impl IntoView {
    (!problems.is_empty()).then(|| {
        view! {
            <ul role="alert" class="mt-3 space-y-1 rounded border border-amber-200 bg-amber-50 p-2 text-sm text-amber-900" data-testid="branches-problems">
                {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
            </ul>
        }
    })
}

#[component]
fn Attention(items: Vec<String>) -> impl IntoView {
    view! {
        <section aria-labelledby="branch-attention-heading" class="mt-6 rounded-lg border border-slate-200 bg-white p-4" data-testid="branch-attention">
            <h2 id="branch-attention-heading" class="font-semibold">"Needs attention"</h2>
            {if items.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"Nothing: every branch is ready or on its way."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 list-disc space-y-1 pl-5 text-sm text-red-800">
                        {items.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn Cost(cost: CostView) -> impl IntoView {
    let hourly = cost.hourly.clone().unwrap_or_else(|| {
        format!(
            "unknown (no price for size {:?}: set [branches.usd_per_hour])",
            cost.size
        )
    });
    let monthly = cost.monthly.clone().unwrap_or_else(|| "unknown".into());
    view! {
        <section aria-labelledby="branch-cost-heading" class="mt-6 rounded-lg border border-slate-200 bg-white p-4 text-sm" data-testid="branch-cost">
            <h2 id="branch-cost-heading" class="font-semibold">"Branch compute"</h2>
            <p class="mt-2">
                {format!("{} branch(es) billed now at {hourly} an hour each ({} compute): ", cost.running, cost.size)}
                <strong data-testid="branch-monthly">{format!("{monthly} a month")}</strong>
                " if they keep running."
            </p>
            <p class="mt-1 text-amber-800">{cost.warning.clone()}</p>
        </section>
    }
}

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1";
const BUTTON: &str = "rounded-md bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-700 focus:outline-none focus:ring-2 focus:ring-emerald-500";

/// The create form; its confirmation states what the branch costs.
#[component]
fn CreateForm(project: String, cost: CostView) -> impl IntoView {
    let hourly = cost
        .hourly
        .clone()
        .unwrap_or_else(|| "an unknown amount".into());
    view! {
        <details class="mt-6 rounded-lg border border-slate-200 bg-white p-4 text-sm" data-testid="create-branch">
            <summary class="cursor-pointer font-semibold">"Create a branch…"</summary>
            <form method="post" action="/api/branches/create" class="mt-3 grid gap-3 sm:grid-cols-2">
                <input type="hidden" name="project" value=project />
                <label class="block">
                    <span class="font-medium">"Branch name"</span>
                    <input name="name" required maxlength="255" autocomplete="off"
                        pattern=r"[A-Za-z0-9_][A-Za-z0-9_.\/\-]{0,254}"
                        title="Letters, digits, '-', '_', '.' and '/'; not starting with '-', '.' or '/'"
                        class=INPUT data-testid="branch-name" />
                </label>
                <label class="block">
                    <span class="font-medium">"Git branch (optional)"</span>
                    <input name="git_branch" maxlength="255" autocomplete="off" class=INPUT data-testid="branch-git" />
                </label>
                <fieldset class="sm:col-span-2">
                    <legend class="font-medium">"Kind"</legend>
                    <label class="mr-4"><input type="radio" name="kind" value="preview" checked /> " Preview (goes with a pull request)"</label>
                    <label><input type="radio" name="kind" value="persistent" /> " Persistent (stays until deleted)"</label>
                </fieldset>
                <label class="sm:col-span-2">
                    <input type="checkbox" name="with_data" /> " Copy production data into it (where the plan allows)"
                </label>
                <label class="rounded bg-amber-50 p-2 text-amber-900 sm:col-span-2">
                    <input type="checkbox" name="confirm" required data-testid="branch-confirm" />
                    {format!(" I understand this branch costs {hourly} an hour ({} compute) from now until it is deleted, billed outside the spend cap.", cost.size)}
                </label>
                <div class="sm:col-span-2">
                    <button type="submit" class=BUTTON data-testid="branch-create-submit">{format!("Create branch ({hourly}/h)")}</button>
                </div>
            </form>
        </details>
    }
}

/// The newest branch operations and how far each got.
#[component]
fn Operations(operations: Vec<ActionView>) -> impl IntoView {
    (!operations.is_empty()).then(|| {
        view! {
            <section aria-labelledby="branch-ops-heading" class="mt-6" data-testid="branch-operations">
                <h2 id="branch-ops-heading" class="text-lg font-semibold">"Recent branch operations"</h2>
                <ul class="mt-2 space-y-2 bg-white">
                    {operations.into_iter().map(|action| view! { <crate::views::parts::ActionProgress action /> }).collect_view()}
                </ul>
            </section>
        }
    })
}

/// Delete (typed name) or restore, for admins; never the production branch.
#[component]
fn Manage(b: BranchView, project: String) -> impl IntoView {
    if b.deletion_scheduled_ms.is_some() {
        return view! {
            <form method="post" action="/api/branches/restore" class="mt-2">
                <input type="hidden" name="project" value=project />
                <input type="hidden" name="branch" value=b.id.clone() />
                <button type="submit" class=BUTTON data-testid="branch-restore">{format!("Restore {}", b.name)}</button>
            </form>
        }
        .into_any();
    }
    let name = b.name.clone();
    view! {
        <details class="mt-3 text-sm" data-testid="branch-delete">
            <summary class="cursor-pointer text-red-800">"Delete…"</summary>
            <form method="post" action="/api/branches/delete" class="mt-2 space-y-2 rounded border border-red-200 bg-red-50 p-3">
                <input type="hidden" name="project" value=project />
                <input type="hidden" name="branch" value=b.id.clone() />
                <p>"Supabase schedules the deletion and the branch can be restored until it goes. Its database and everything in it go with it."</p>
                <label class="block">
                    <span>"Type "<code>{name.clone()}</code>" to confirm"</span>
                    <input name="confirm_name" required autocomplete="off" class=INPUT data-testid="branch-delete-name" />
                </label>
                <button type="submit" class="rounded-md bg-red-700 px-3 py-1.5 text-white hover:bg-red-800 focus:outline-none focus:ring-2 focus:ring-red-500" data-testid="branch-delete-submit">{format!("Delete {name}")}</button>
            </form>
        </details>
    }
    .into_any()
}

#[component]
fn Section(section: BranchSection, now: i64, project: String, can_delete: bool) -> impl IntoView {
    let id = format!("branches-{}", section.key);
    let labelled = id.clone();
    view! {
        <section aria-labelledby=labelled class="mt-6" data-testid=format!("section-{}", section.key)>
            <h2 id=id class="text-lg font-semibold">{section.title.clone()}</h2>
            {if section.branches.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">{section.empty.clone()}</p> }.into_any()
            } else {
                view! {
                    <div class="mt-2 space-y-3">
                        {section.branches.into_iter().map(|b| view! { <Branch b now project=project.clone() can_delete /> }).collect_view()}
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn Branch(b: BranchView, now: i64, project: String, can_delete: bool) -> impl IntoView {
    let manage = (can_delete && !b.production).then(|| view! { <Manage b=b.clone() project /> });
    let badge = format!(
        "inline-block rounded-full px-2 py-0.5 text-xs font-semibold {}",
        phase_class(&b.phase)
    );
    let when = |ms: Option<i64>| {
        ms.map(|ms| format!("{} ({})", utc_timestamp(ms), age(now, ms)))
            .unwrap_or_else(|| "—".into())
    };
    let database = b
        .database_words
        .clone()
        .map(|w| format!("{w} ({})", b.database.clone().unwrap_or_default()))
        .unwrap_or_else(|| "—".into());
    let pr = match (b.pr_number, b.pr_url.clone()) {
        (Some(n), Some(url)) => view! { <a class="underline" href=url rel="noopener noreferrer" target="_blank">{format!("#{n}")}</a> }.into_any(),
        _ => view! { <span>"—"</span> }.into_any(),
    };
    let connection = match b.connection.clone() {
        Some(c) => format!(
            "{}:{} as {} · Postgres {}",
            c.host,
            c.port,
            c.user.unwrap_or_else(|| "postgres".into()),
            c.postgres_version
        ),
        None => "not read yet".into(),
    };
    view! {
        <article class="rounded-lg border border-slate-200 bg-white p-4" data-testid="branch" data-branch=b.name.clone() data-phase=b.phase.clone()>
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h3 class="font-semibold"><code>{b.name.clone()}</code></h3>
                <span class=badge>{b.phase.clone()}</span>
            </div>
            {b.deletion_scheduled_ms.map(|ms| view! {
                <p class="mt-2 rounded bg-amber-50 p-2 text-sm text-amber-900" data-testid="deletion-scheduled">
                    {format!("Deletion scheduled: Supabase removes it at {}.", utc_timestamp(ms))}
                </p>
            })}
            <dl class="mt-2 grid grid-cols-1 gap-x-4 gap-y-1 text-sm sm:grid-cols-[10rem_1fr]">
                <dt class="text-slate-500">"Status"</dt>
                <dd data-testid="branch-status">{format!("{} ({})", b.status_words, b.status)}</dd>
                <dt class="text-slate-500">"Database"</dt>
                <dd data-testid="branch-database">{database}</dd>
                <dt class="text-slate-500">"Git branch"</dt>
                <dd><code>{b.git_branch.clone().unwrap_or_else(|| "—".into())}</code></dd>
                <dt class="text-slate-500">"Kind"</dt>
                <dd>{if b.persistent { "persistent" } else { "preview" }}</dd>
                <dt class="text-slate-500">"Pull request"</dt>
                <dd>{pr}</dd>
                <dt class="text-slate-500">"Created"</dt>
                <dd>{when(b.created_ms)}</dd>
                <dt class="text-slate-500">"Updated"</dt>
                <dd>{when(b.updated_ms)}</dd>
                <dt class="text-slate-500">"Connect"</dt>
                <dd class="break-all font-mono text-xs" data-testid="branch-connection">{connection}</dd>
                <dt class="text-slate-500">"Compute"</dt>
                <dd>{b.hourly.clone().map(|h| format!("{h} an hour")).unwrap_or_else(|| "the project's own (not branch compute)".into())}</dd>
            </dl>
            {(!b.attention.is_empty()).then(|| view! {
                <ul class="mt-2 list-disc pl-5 text-sm text-red-800" data-testid="branch-attention-items">
                    {b.attention.clone().into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}
                </ul>
            })}
            {b.run.clone().map(|r| view! { <Run r /> })}
            {manage}
        </article>
    }
}

#[component]
fn Run(r: BranchRunView) -> impl IntoView {
    let log_text = r.log.join("\n");
    let omitted = r.omitted;
    view! {
        <details class="mt-3 text-sm" data-testid="branch-run" open=r.failed_step.is_some()>
            <summary class="cursor-pointer">
                {match &r.failed_step {
                    Some(step) => format!("Latest run: failed at {step}"),
                    None => "Latest run".to_string(),
                }}
            </summary>
            <ol class="mt-2 flex flex-wrap gap-2">
                {r.steps.iter().map(|s| {
                    let class = match s.status.as_str() {
                        "EXITED" => "rounded border border-emerald-200 bg-emerald-50 px-2 py-0.5",
                        "DEAD" => "rounded border border-red-200 bg-red-50 px-2 py-0.5 text-red-800",
                        "RUNNING" => "rounded border border-amber-200 bg-amber-50 px-2 py-0.5",
                        _ => "rounded border border-slate-200 px-2 py-0.5 text-slate-500",
                    };
                    let text = match &s.duration {
                        Some(d) => format!("{}: {} ({d})", s.name, s.status_words),
                        None => format!("{}: {}", s.name, s.status_words),
                    };
                    view! { <li class=class data-step=s.name.clone() data-step-status=s.status.clone()>{text}</li> }
                }).collect_view()}
            </ol>
            {(!r.why.is_empty()).then(|| view! {
                <div class="mt-2 rounded border border-red-200 bg-red-50 p-2" data-testid="run-why">
                    <p class="font-medium text-red-900">"Why it failed, from the log:"</p>
                    <pre class="mt-1 whitespace-pre-wrap font-mono text-xs text-red-900">{r.why.join("\n")}</pre>
                </div>
            })}
            {(!r.log.is_empty()).then(|| view! {
                <details class="mt-2">
                    <summary class="cursor-pointer text-slate-600">
                        {if omitted > 0 { format!("Log (last {} lines; {omitted} before them left out; secrets masked)", r.log.len()) } else { "Log (secrets masked)".to_string() }}
                    </summary>
                    <pre class="mt-1 max-h-80 overflow-auto whitespace-pre-wrap rounded bg-slate-900 p-2 font-mono text-xs text-slate-100" data-testid="run-log">{log_text}</pre>
                </details>
            })}
        </details>
    }
}

#[component]
fn Backups(backups: BackupsView) -> impl IntoView {
    let b = backups;
    view! {
        <section aria-labelledby="backups-heading" class="mt-8 rounded-lg border border-slate-200 bg-white p-4 text-sm" data-testid="backups">
            <h2 id="backups-heading" class="text-lg font-semibold">"Backups and point-in-time recovery"</h2>
            <p class="mt-2">
                {if b.pitr_enabled { "Point-in-time recovery is on. " } else { "Point-in-time recovery is off. " }}
                "Can be restored to: "<strong data-testid="restore-window">{b.window.clone()}</strong>"."
            </p>
            {(!b.warnings.is_empty()).then(|| view! {
                <ul role="alert" class="mt-2 list-disc pl-5 text-red-800" data-testid="backup-warnings">
                    {b.warnings.clone().into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}
                </ul>
            })}
            <p class="mt-2">
                "Restoring is done in Supabase's dashboard: "
                <a class="underline" href=b.restore_url.clone() rel="noopener noreferrer" target="_blank">"open this project's backups"</a>
                ". After a restore, re-apply the migrations made since the restored point (the playbook's step), or the schema and the code disagree."
            </p>
            {if b.backups.is_empty() {
                view! { <p class="mt-2 text-slate-600">"Supabase lists no backups for this project."</p> }.into_any()
            } else {
                view! {
                    <table class="mt-3 w-full text-left">
                        <thead><tr class="text-slate-500"><th class="py-1 pr-4 font-medium">"Taken"</th><th class="py-1 pr-4 font-medium">"Status"</th><th class="py-1 font-medium">"Kind"</th></tr></thead>
                        <tbody>
                            {b.backups.clone().into_iter().map(|row| view! {
                                <tr class="border-t border-slate-100" data-testid="backup-row">
                                    <td class="py-1 pr-4">{row.at_ms.map(utc_timestamp).unwrap_or_else(|| "time not readable".into())}</td>
                                    <td class="py-1 pr-4">{row.status.to_lowercase()}</td>
                                    <td class="py-1">{row.kind}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
