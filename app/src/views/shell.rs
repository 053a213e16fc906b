//! Read-only parts around the pages, rendered on the server: Greenroom's
//! own health (the status panel's facts), a project's setup card, and the
//! sign-in page's explanation. None of them changes while the page is open
//! except on request, so the browser carries none of this markup.

use crate::format::{duration, query_escape, utc_timestamp};
use crate::model::{ProjectSummary, SignInState, StatusView};
use leptos::prelude::*;

/// The status panel's facts for `s`.
pub fn status_html(s: &StatusView) -> String {
    view! { <StatusFacts s=s.clone() /> }.to_html()
}

/// The setup card of a project.
pub fn setup_html(p: &ProjectSummary) -> String {
    view! { <ProjectCard project=p.clone() /> }.to_html()
}

/// The sign-in page's body; `next` is where to go once signed in.
pub fn sign_in_html(s: &SignInState, next: &str) -> String {
    view! { <SignInBody s=s.clone() next=next.to_string() /> }.to_html()
}

#[component]
fn StatusFacts(s: StatusView) -> impl IntoView {
    let (badge, badge_class) = if s.ready {
        ("Ready", "bg-emerald-100 text-emerald-800")
    } else {
        ("Not ready", "bg-red-100 text-red-800")
    };
    let database = match (&s.database_backend, &s.database_error) {
        (Some(backend), _) => format!(
            "{backend}, {} of {} migrations applied",
            s.migrations_applied, s.migrations_expected
        ),
        (None, Some(err)) => format!("unreachable: {err}"),
        (None, None) => "unknown".into(),
    };
    view! {
        <p class="mt-4">
            <span data-testid="readiness" class=format!("rounded-full px-2 py-0.5 text-xs font-semibold {badge_class}")>{badge}</span>
        </p>
        <dl class="mt-4 space-y-3 text-sm">
            <div><dt class="text-slate-500">"Mode"</dt><dd>{if s.sandbox { "Sandbox (simulated vendors)" } else { "Live vendors" }}</dd></div>
            {s.sandbox_url.clone().map(|url| view! {
                <div><dt class="text-slate-500">"Sandbox"</dt><dd data-testid="sandbox-url"><code>{url}</code></dd></div>
            })}
            <div><dt class="text-slate-500">"Database"</dt><dd data-testid="database">{database}</dd></div>
            <div><dt class="text-slate-500">"Location"</dt><dd class="break-all"><code>{s.database_location.clone().unwrap_or_default()}</code></dd></div>
            <div><dt class="text-slate-500">"Version"</dt><dd>{s.version.clone()}</dd></div>
            <div><dt class="text-slate-500">"Up for"</dt><dd>{duration(s.uptime_seconds)}</dd></div>
            <div><dt class="text-slate-500">"Checked"</dt><dd data-testid="checked-at">{utc_timestamp(s.checked_at_ms)}</dd></div>
        </dl>
    }
}

#[component]
fn ProjectCard(project: ProjectSummary) -> impl IntoView {
    let link = |url: Option<String>| {
        match url {
        Some(u) => view! { <a class="text-emerald-800 underline hover:text-emerald-900" href=u.clone() rel="noopener noreferrer" target="_blank">{u.clone()}</a> }.into_any(),
        None => view! { <span class="text-slate-500">"not set"</span> }.into_any(),
    }
    };
    let supabase = project
        .supabase_project_ref
        .clone()
        .unwrap_or_else(|| "not configured".into());
    view! {
        <article class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm" data-testid="project-card">
            <h2 class="text-lg font-semibold">"Setup"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Staging is deployed from "
                <code class="rounded bg-slate-100 px-1">{project.staging_branch.clone()}</code>
                " by the "
                <code class="rounded bg-slate-100 px-1">{project.deploy_job.clone()}</code>
                " job of "
                <code class="rounded bg-slate-100 px-1">{project.workflow.clone()}</code>
                " ("{project.deploy_method.clone()}")."
            </p>
            <dl class="mt-4 grid gap-x-6 gap-y-3">
                <Fact label="Staging URL">{link(project.staging_url.clone())}</Fact>
                <Fact label="Production URL">{link(project.production_url.clone())}</Fact>
                <Fact label="GitHub repository">
                    <code>{project.repo.clone()}</code>
                </Fact>
                <Fact label="GitHub environments">
                    {format!("{} · {}", project.staging_environment, project.production_environment)}
                </Fact>
                <Fact label="Netlify account">
                    <code>{project.netlify_account.clone()}</code>
                </Fact>
                <Fact label="Supabase project">
                    <code>{supabase}</code>
                </Fact>
                <Fact label="Netlify staging site">
                    <code class="break-all">{project.staging_site_id.clone()}</code>
                </Fact>
                <Fact label="Netlify production site">
                    <code class="break-all">{project.production_site_id.clone()}</code>
                </Fact>
            </dl>
        </article>
    }
}

#[component]
fn Fact(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <div>
            <dt class="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
            <dd class="mt-1 text-sm">{children()}</dd>
        </div>
    }
}

#[component]
fn SignInBody(s: SignInState, next: String) -> impl IntoView {
    let login_href = if next.is_empty() {
        "/auth/login".to_string()
    } else {
        format!("/auth/login?next={}", query_escape(&next))
    };
    let roles = s
        .teams
        .iter()
        .map(|(t, r)| format!("{t} → {r}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let others = match &s.default_role {
        Some(r) => format!("Members in none of these teams: {r}."),
        None => "Members in none of these teams may not sign in.".to_string(),
    };
    let go = if s.signed_in {
        view! { <p class="mt-6"><a href="/" class="text-emerald-800 underline">"You are signed in: go to Greenroom"</a></p> }.into_any()
    } else {
        view! {
            <p class="mt-6">
                <a
                    href=login_href
                    rel="external"
                    data-testid="sign-in-with-github"
                    class="inline-block rounded-md bg-slate-900 px-4 py-2 font-medium text-white hover:bg-slate-700 focus:outline-none focus:ring-2 focus:ring-emerald-500"
                >
                    "Sign in with GitHub"
                </a>
            </p>
        }
        .into_any()
    };
    view! {
        {s.refusal.clone().map(|why| view! {
            <div role="alert" data-testid="refusal" class="mt-4 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900">
                <strong class="font-semibold">"You were not signed in. "</strong>{why}
            </div>
        })}
        <p class="mt-4 text-slate-700">
            "Greenroom uses your GitHub account. Members of the GitHub organization "
            <strong>{s.org.clone()}</strong>
            " may sign in; your teams there decide what you may do. Greenroom reads your public profile once to know who you are and keeps no GitHub token of yours."
        </p>
        {s.sandbox.then(|| view! {
            <p class="mt-3 text-sm text-amber-900">
                "Sandbox mode: the GitHub page you are sent to is the sandbox's. Pick which team member to be."
            </p>
        })}
        <h2 class="mt-6 text-sm font-semibold uppercase tracking-wide text-slate-500">"Teams and roles"</h2>
        <p class="mt-2 text-sm" data-testid="team-roles">{roles}</p>
        <p class="mt-1 text-sm text-slate-600">{others}</p>
        {go}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> SignInState {
        SignInState {
            sandbox: false,
            org: "acme".into(),
            teams: vec![("oncall".into(), "deployer".into())],
            default_role: None,
            refusal: Some("<b>not a member</b>".into()),
            signed_in: false,
        }
    }

    #[test]
    fn the_sign_in_link_keeps_where_to_go_escaped() {
        let html = sign_in_html(&state(), "/history?site=a&b");
        assert!(
            html.contains("/auth/login?next=%2Fhistory%3Fsite%3Da%26b"),
            "{html}"
        );
        assert!(html.contains("oncall → deployer"));
        assert!(html.contains("may not sign in"));
    }

    #[test]
    fn a_refusal_is_text_not_markup() {
        let html = sign_in_html(&state(), "");
        assert!(html.contains("&lt;b&gt;not a member"), "{html}");
        assert!(html.contains("href=\"/auth/login\""));
    }
}
