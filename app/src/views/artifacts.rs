//! A run's artifacts, rendered on the server: the list on the run and
//! deploy pages, an artifact opened (its test reports with failures first,
//! its screenshots, logs and downloads), and a log a page at a time with
//! its colours. Texts arrive masked; Leptos escapes everything shown.

use super::parts::StateBadge;
use crate::format::query_escape;
use crate::model::{
    ArtifactRow, ArtifactView, CaseView, FileRow, JobLogView, LineView, LogView, ReportView,
    ResultMark, RunArtifacts,
};
use leptos::prelude::*;

/// A size in words: `812 B`, `14.2 KB`, `3.1 MB`.
pub fn size(bytes: u64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if b < K {
        format!("{bytes} B")
    } else if b < K * K {
        format!("{:.1} KB", b / K)
    } else {
        format!("{:.1} MB", b / K / K)
    }
}

/// A timestamp as GitHub gives it, shortened to the minute.
fn when(t: &Option<String>) -> String {
    t.as_deref()
        .map(|t| t.get(..16).unwrap_or(t).replace('T', " ") + " UTC")
        .unwrap_or_else(|| "—".into())
}

/// The run's artifacts, as a section of the run and deploy pages.
#[component]
pub fn RunArtifactsSection(artifacts: RunArtifacts) -> impl IntoView {
    let run_id = artifacts.run_id;
    let body = match artifacts.listed {
        Err(e) => view! {
            <p role="alert" class="mt-2 text-sm text-red-700" data-testid="artifacts-error">
                {format!("The run's artifacts could not be listed: {e}")}
            </p>
        }
        .into_any(),
        Ok(list) if list.is_empty() => view! {
            <p class="mt-2 text-sm text-slate-500">"This run uploaded no artifacts (yet: a run still going may add some)."</p>
        }
        .into_any(),
        Ok(list) => view! {
            <table class="mt-2 w-full text-left text-sm">
                <thead class="text-slate-500">
                    <tr><th class="py-1 font-normal">"Name"</th><th class="font-normal">"Size"</th><th class="font-normal">"Created"</th><th class="font-normal">"Expires"</th></tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|a| view! { <ArtifactLine run_id artifact=a /> }).collect_view()}
                </tbody>
            </table>
        }
        .into_any(),
    };
    view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="artifacts-heading" data-testid="run-artifacts">
            <h2 id="artifacts-heading" class="font-semibold">"Artifacts"</h2>
            {body}
        </section>
    }
}

#[component]
fn ArtifactLine(run_id: i64, artifact: ArtifactRow) -> impl IntoView {
    let a = artifact;
    let name = if a.expired {
        view! { <span>{a.name.clone()}" "<span class="rounded bg-slate-100 px-1 text-xs text-slate-600">"expired"</span></span> }.into_any()
    } else {
        view! { <a class="underline" href=format!("/runs/{run_id}/artifacts/{}", a.id)>{a.name.clone()}</a> }.into_any()
    };
    view! {
        <tr class="border-t border-slate-100" data-testid="artifact-row" data-expired=a.expired.to_string()>
            <td class="py-1">{name}</td>
            <td>{size(a.size_bytes)}</td>
            <td>{when(&a.created_at)}</td>
            <td>{if a.expired { "expired".to_string() } else { when(&a.expires_at) }}</td>
        </tr>
    }
}

/// The page of one artifact.
pub fn artifact_html(v: &ArtifactView) -> String {
    let v = v.clone();
    let raw = v.raw_href.clone();
    let failing: usize = v.reports.iter().map(|r| r.failed + r.errors).sum();
    let total: usize = v.reports.iter().map(|r| r.total).sum();
    let summary = if v.reports.iter().all(|r| r.error.is_some()) {
        "No test report could be read in this artifact.".to_string()
    } else if failing == 0 {
        format!("All {total} tests passed.")
    } else {
        format!("{failing} of {total} tests failed.")
    };
    let images = v.images.clone();
    view! {
        <p class="text-sm">
            <a class="underline" href=format!("/runs/{}", v.run_id)>{format!("Workflow run #{}", v.run_number)}</a>
            {format!(" · {}", v.project)}
        </p>
        <h1 class="mt-1 text-2xl font-semibold tracking-tight">{format!("Artifact {}", v.artifact.name)}</h1>
        <p class="mt-1 text-sm text-slate-600">
            {format!("{} · created {} · expires {}", size(v.artifact.size_bytes), when(&v.artifact.created_at), when(&v.artifact.expires_at))}
        </p>
        {(!v.reports.is_empty()).then(|| view! {
            <p class="mt-3 font-medium" data-testid="artifact-summary">{summary}</p>
        })}
        {v.shown_error.clone().map(|e| view! {
            <p role="alert" class="mt-3 rounded border border-red-200 bg-red-50 p-2 text-sm text-red-800">{e}</p>
        })}
        {v.shown.clone().map(|log| view! { <Log log /> })}
        {v.reports.clone().into_iter().map(|r| view! { <Report report=r raw=raw.clone() /> }).collect_view()}
        {(!images.is_empty()).then(|| {
            let raw = raw.clone();
            view! {
                <section class="mt-6" aria-labelledby="shots-heading">
                    <h2 id="shots-heading" class="font-semibold">"Screenshots"</h2>
                    <div class="mt-2 grid gap-4 sm:grid-cols-2" data-testid="screenshots">
                        {images.into_iter().map(|f| {
                            let src = format!("{raw}{}", query_escape(&f.path));
                            let href = src.clone();
                            view! {
                                <figure class="rounded border border-slate-200 bg-white p-2">
                                    <a href=href rel="external"><img src=src alt=format!("Screenshot {}", f.path) loading="lazy" class="max-h-96 w-full object-contain" /></a>
                                    <figcaption class="mt-1 break-all text-xs text-slate-600">{f.path.clone()}</figcaption>
                                </figure>
                            }
                        }).collect_view()}
                    </div>
                </section>
            }
        })}
        <Files v=v.clone() />
    }
    .to_html()
}

#[component]
fn Report(report: ReportView, raw: String) -> impl IntoView {
    let r = report;
    if let Some(e) = r.error.clone() {
        return view! {
            <section class="mt-6 rounded-lg border border-red-200 bg-white p-4">
                <h2 class="font-semibold">{format!("Test report {}", r.path)}</h2>
                <p role="alert" class="mt-2 text-sm text-red-800">{e}</p>
            </section>
        }
        .into_any();
    }
    let counts = format!(
        "{} tests · {} failed · {} errors · {} skipped",
        r.total, r.failed, r.errors, r.skipped
    );
    view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4" data-testid="test-report">
            <h2 class="font-semibold">{format!("Test report {}", r.path)}</h2>
            <p class="text-sm text-slate-600">{counts}</p>
            <ol class="mt-2 divide-y divide-slate-100 text-sm">
                {r.cases.into_iter().map(|c| view! { <Case case=c raw=raw.clone() /> }).collect_view()}
            </ol>
            {(r.cases_omitted > 0).then(|| view! {
                <p class="mt-2 text-sm text-slate-500">{format!("{} more cases are not shown.", r.cases_omitted)}</p>
            })}
        </section>
    }
    .into_any()
}

#[component]
fn Case(case: CaseView, raw: String) -> impl IntoView {
    let c = case;
    let failed = c.outcome == "failed" || c.outcome == "error";
    let time = c.time_secs.map(|t| format!("{t:.2} s")).unwrap_or_default();
    let place = [c.classname.clone(), c.file.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <li class="py-2" data-testid="test-case" data-outcome=c.outcome.clone()>
            <div class="flex flex-wrap items-center gap-2">
                <StateBadge state=c.outcome.clone() />
                {c.flaky.then(|| view! {
                    <span class="rounded-full bg-amber-100 px-2 py-0.5 text-xs font-semibold text-amber-800" data-testid="flaky" title="It failed and passed on the same commit (a re-run or a retry)">"flaky"</span>
                })}
                <span class="font-medium">{c.name.clone()}</span>
                <span class="text-slate-500">{format!("{} {place}", c.suite)}</span>
                <span class="ml-auto text-slate-500">{time}</span>
                {(!c.history.is_empty()).then(|| view! { <Strip history=c.history.clone() /> })}
            </div>
            {failed.then(|| view! {
                {c.message.clone().map(|m| view! { <p class="mt-1 text-red-800" data-testid="failure-message">{m}</p> })}
                {c.trace.clone().filter(|t| Some(t) != c.message.as_ref()).map(|t| view! {
                    <pre class="mt-1 max-h-64 overflow-auto whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs">{t}</pre>
                })}
            })}
            {(!c.attachments.is_empty()).then(|| view! {
                <ul class="mt-1 text-xs">
                    {c.attachments.clone().into_iter().map(|(name, path)| match path {
                        Some(p) => view! { <li><a class="underline" rel="external" href=format!("{raw}{}", query_escape(&p))>{format!("Attachment {name}")}</a></li> }.into_any(),
                        None => view! { <li class="text-slate-500">{format!("Attachment {name} (not in this artifact)")}</li> }.into_any(),
                    }).collect_view()}
                </ul>
            })}
        </li>
    }
}

/// One list of the artifact's files: each with its size and, where it
/// opens or downloads, its link.
fn file_list(
    title: &'static str,
    note: &'static str,
    rows: Vec<(FileRow, Option<String>)>,
    downloads: bool,
) -> impl IntoView {
    (!rows.is_empty()).then(|| {
        view! {
            <h3 class="mt-3 text-sm font-semibold">{title}</h3>
            <p class="text-xs text-slate-500">{note}</p>
            <ul class="mt-1 text-sm">
                {rows.into_iter().map(|(f, link)| {
                    let label = format!("{} ({})", f.path, size(f.size_bytes));
                    match link {
                        // A download leaves the app: the router must not take it.
                        Some(href) if downloads => view! { <li><a class="underline" href=href rel="external" download="">{label}</a></li> }.into_any(),
                        Some(href) => view! { <li><a class="underline" href=href>{label}</a></li> }.into_any(),
                        None => view! { <li>{label}</li> }.into_any(),
                    }
                }).collect_view()}
            </ul>
        }
    })
}

/// A test's latest results, newest on the right, each a link to its run.
#[component]
fn Strip(history: Vec<ResultMark>) -> impl IntoView {
    let label = format!("Last {} results, oldest first", history.len());
    view! {
        <span class="flex items-end gap-px" role="img" aria-label=label data-testid="result-strip">
            {history.into_iter().rev().map(|m| {
                let colour = match m.outcome.as_str() {
                    "passed" => "bg-emerald-600",
                    "failed" | "error" => "bg-red-600",
                    "flaky" => "bg-amber-500",
                    _ => "bg-slate-300",
                };
                let title = format!("Run #{} attempt {}: {}", m.run_number, m.run_attempt, m.outcome);
                view! { <a href=format!("/runs/{}", m.run_id) title=title class=format!("inline-block h-3 w-1.5 {colour}") data-outcome=m.outcome.clone()></a> }
            }).collect_view()}
        </span>
    }
}

#[component]
fn Files(v: ArtifactView) -> impl IntoView {
    let shown = |rows: &[FileRow]| {
        rows.iter()
            .map(|f| {
                let link = format!("{}?file={}#log", v.href, query_escape(&f.path));
                (f.clone(), Some(link))
            })
            .collect()
    };
    let downloads = |rows: &[FileRow]| {
        rows.iter()
            .map(|f| {
                (
                    f.clone(),
                    Some(format!("{}{}", v.raw_href, query_escape(&f.path))),
                )
            })
            .collect()
    };
    let listed = |rows: &[FileRow]| rows.iter().map(|f| (f.clone(), None)).collect();
    view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="files-heading" data-testid="artifact-files">
            <h2 id="files-heading" class="font-semibold">"Files"</h2>
            {file_list("Logs and text", "Shown here, escaped, with secrets masked.", shown(&v.texts), false)}
            {file_list("Downloads", "HTML reports and other files download; they never open as pages of Greenroom.", downloads(&v.downloads), true)}
            {file_list("Archives inside", "Listed only: an archive inside an artifact is never opened.", listed(&v.archives), false)}
            {file_list("Other XML", "Too large or too many to read as test reports.", listed(&v.unparsed), false)}
        </section>
    }
}

/// A page of a log, with its line numbers and page links.
#[component]
pub fn Log(log: LogView) -> impl IntoView {
    let nav = {
        let log = log.clone();
        move || {
            (log.pages > 1).then(|| {
                let link = |p: usize, label: &'static str| {
                    view! { <a class="underline" href=format!("{}page={p}#log", log.base_href)>{label}</a> }
                };
                view! {
                    <nav class="flex items-center gap-3 text-sm" aria-label="Log pages">
                        {(log.page > 1).then(|| link(log.page - 1, "Previous page"))}
                        <span>{format!("Page {} of {} ({} lines)", log.page, log.pages, log.total_lines)}</span>
                        {(log.page < log.pages).then(|| link(log.page + 1, "Next page"))}
                    </nav>
                }
            })
        }
    };
    let empty = log.lines.is_empty();
    view! {
        <section id="log" class="mt-6 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="log-heading" data-testid="log">
            <h2 id="log-heading" class="font-semibold">{log.title.clone()}</h2>
            {nav()}
            {if empty {
                view! { <p class="mt-2 text-sm text-slate-500">"This log is empty."</p> }.into_any()
            } else {
                view! {
                    <pre class="mt-2 max-h-[70vh] overflow-auto rounded bg-slate-50 p-2 text-xs leading-5"><code>
                        {log.lines.clone().into_iter().map(|l| view! { <LogLine line=l /> }).collect_view()}
                    </code></pre>
                }.into_any()
            }}
            {nav()}
        </section>
    }
}

/// ANSI colours in classes the stylesheet already has where it can (a log
/// on a light background: the dark shades).
fn colour_class(c: u8) -> &'static str {
    match c {
        0 => "text-slate-900",
        1 | 9 => "text-red-700",
        2 | 10 => "text-emerald-700",
        3 | 11 => "text-amber-800",
        4 | 12 => "text-blue-700",
        5 | 13 => "text-fuchsia-700",
        6 | 14 => "text-cyan-700",
        _ => "text-slate-500",
    }
}

#[component]
fn LogLine(line: LineView) -> impl IntoView {
    let l = line;
    view! {
        <span class="block" data-line=l.number.to_string()>
            <span class="mr-3 inline-block w-12 select-none text-right text-slate-400">{l.number.to_string()}</span>
            {l.pieces.into_iter().map(|p| {
                let mut class = Vec::new();
                if let Some(c) = p.colour { class.push(colour_class(c)); }
                if p.bold { class.push("font-semibold"); }
                if p.faint { class.push("opacity-70"); }
                if p.italic { class.push("italic"); }
                if p.underline { class.push("underline"); }
                if class.is_empty() {
                    view! { <span>{p.text}</span> }.into_any()
                } else {
                    view! { <span class=class.join(" ")>{p.text}</span> }.into_any()
                }
            }).collect_view()}
            {l.masked.then(|| view! { <span class="ml-2 select-none text-xs text-amber-800" title="Something secret was masked on this line">"(masked)"</span> })}
            {l.cut.then(|| view! { <span class="ml-2 select-none text-xs text-slate-500">"(line cut)"</span> })}
        </span>
    }
}

/// The page of a job's log.
pub fn job_log_html(v: &JobLogView) -> String {
    let v = v.clone();
    view! {
        <p class="text-sm"><a class="underline" href=format!("/runs/{}", v.run_id)>{format!("Workflow run #{}", v.run_number)}</a></p>
        <h1 class="mt-1 text-2xl font-semibold tracking-tight">{format!("Log of job {}", v.job_name)}</h1>
        <p class="mt-1 text-sm text-slate-600">"From GitHub, escaped, with secrets masked."</p>
        <Log log=v.log />
    }
    .to_html()
}
