//! `/secrets`: one project's secret coverage. The report, findings and
//! matrix are rendered on the server (`views::secrets`) from the stored
//! check; "Re-check now", dismissing and undoing are plain form posts the
//! server redirects back from. Only the `.env.local` upload runs in the
//! browser: the file is read there, sent once, compared and forgotten.

use crate::api::fragments::secrets_fragment;
use crate::api::secrets::check_env_local;
use crate::components::shell::{selected_project, use_shell_info};
use crate::fragment::Fragment;
use crate::model::{ApiError, SecretsQuery};
use leptos::prelude::*;
use leptos::server_fn::error::ServerFnUrlError;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The largest `.env.local` accepted, as the server's parser caps it.
const MAX_BYTES: f64 = 64.0 * 1024.0;

#[component]
pub fn SecretsPage() -> impl IntoView {
    let info = use_shell_info();
    let query = use_query_map();
    let current = move || {
        query.with(|q| SecretsQuery {
            project: q.get("project"),
            problems: q.get("problems"),
            location: q.get("location"),
            key: q.get("key"),
        })
    };
    // The error of a form post, which the server put in the address it
    // redirected back to.
    let failed = move || {
        query
            .with(|q| q.get("__err"))
            .map(|e| ServerFnUrlError::<ApiError>::decode_err(&e).to_string())
    };
    let report = Resource::new(current, |q| async move {
        secrets_fragment(q).await.map(Fragment)
    });
    let project = Signal::derive(move || {
        let wanted = query.with(|q| q.get("project"));
        info.get()
            .and_then(Result::ok)
            .and_then(|i| selected_project(&i.projects, wanted))
            .map(|p| p.name)
            .unwrap_or_default()
    });
    let uploaded = RwSignal::new(None::<Result<String, ApiError>>);
    view! {
        <Title text="Secrets" />
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-semibold tracking-tight">
                "Secret coverage"
                <Suspense fallback=|| ()>{move || (!project.get().is_empty()).then(|| format!(" of {}", project.get()))}</Suspense>
            </h1>
            <Suspense fallback=|| ()>
                <form method="post" action="/api/secrets/recheck" class="text-sm">
                    <input type="hidden" name="project" value=move || project.get() />
                    <button type="submit" data-testid="recheck" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50">"Re-check now"</button>
                </form>
            </Suspense>
        </div>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "Which keys each store holds, across Netlify's contexts, GitHub Actions and your .env.local. Values are never shown: readable values are compared by keyed fingerprint and shown as letters."
        </p>
        {move || failed().map(|e| view! { <p role="alert" class="mt-3 rounded border border-red-200 bg-red-50 p-2 text-sm text-red-800" data-testid="secrets-error">{e}</p> })}
        <EnvLocalUpload project uploaded />
        {move || match uploaded.get() {
            Some(Ok(html)) => view! {
                <div class="mt-3 flex items-center gap-3 text-sm" data-testid="env-local-result">
                    <span class="rounded bg-sky-100 px-2 py-0.5 text-sky-900">"Compared with your .env.local"</span>
                    <button type="button" class="underline" on:click=move |_| uploaded.set(None)>"Back to the stored check"</button>
                </div>
                <div inner_html=html></div>
            }.into_any(),
            Some(Err(e)) => view! {
                <p role="alert" class="mt-3 text-sm text-red-700" data-testid="env-local-error">{e.to_string()}</p>
                <StoredReport report />
            }.into_any(),
            None => view! { <StoredReport report /> }.into_any(),
        }}
    }
}

#[component]
fn StoredReport(report: Resource<Result<Fragment, ApiError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-600">"Loading the latest check…"</p> }>
            {move || report.get().map(|r| match r {
                Err(e) => view! { <p role="alert" class="mt-6 text-red-700">{e.to_string()}</p> }.into_any(),
                Ok(html) => view! { <div inner_html=html.0></div> }.into_any(),
            })}
        </Suspense>
    }
}

/// A file picker that also takes a dropped file. The file is read in the
/// browser and sent once; the answer is the page checked against it.
#[component]
fn EnvLocalUpload(
    project: Signal<String>,
    uploaded: RwSignal<Option<Result<String, ApiError>>>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let over = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    let take = move |file: web_sys::File| {
        note.set(None);
        if file.size() > MAX_BYTES {
            note.set(Some(format!(
                "{} is larger than 64 KiB; a .env.local is not. Nothing was sent.",
                file.name()
            )));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match read_text(&file).await {
                Some(text) => {
                    let r = check_env_local(project.get_untracked(), text).await;
                    uploaded.set(Some(r));
                }
                None => note.set(Some(format!("{} could not be read.", file.name()))),
            }
            busy.set(false);
        });
    };
    let on_change = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            take(file);
        }
        // The same file picked again (after an edit) is read again.
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        over.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            take(file);
        }
    };
    let zone = move || {
        format!(
            "mt-4 flex flex-wrap items-center gap-3 rounded-lg border-2 border-dashed p-3 text-sm {}",
            if over.get() {
                "border-emerald-500 bg-emerald-50"
            } else {
                "border-slate-300 bg-white"
            }
        )
    };
    view! {
        <div
            class=zone
            data-testid="env-local-drop"
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); over.set(true); }
            on:dragleave=move |_| over.set(false)
            on:drop=on_drop
        >
            <label class="cursor-pointer rounded-md bg-slate-900 px-3 py-1.5 text-white focus-within:outline focus-within:outline-2 focus-within:outline-emerald-600">
                "Compare my .env.local"
                <input type="file" class="sr-only" data-testid="env-local-input" accept=".env,.local,text/plain" on:change=on_change disabled=move || busy.get() />
            </label>
            <span class="text-slate-600">"or drop it here. It is compared in memory and forgotten: never stored, logged or sent back."</span>
            {move || busy.get().then(|| view! { <span role="status" class="text-slate-700">"Checking…"</span> })}
            {move || note.get().map(|n| view! { <span role="alert" class="text-red-700">{n}</span> })}
        </div>
    }
}

/// The file's text, read in the browser.
#[cfg(feature = "hydrate")]
async fn read_text(file: &web_sys::File) -> Option<String> {
    wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()
        .and_then(|v| v.as_string())
}

/// Files are only read in the browser.
#[cfg(not(feature = "hydrate"))]
async fn read_text(_file: &web_sys::File) -> Option<String> {
    None
}
