//! An on-call action's button and its confirmation: a modal dialog that says
//! exactly what will happen (what is published, what it replaces, how old it
//! is) before anything is sent. Escape or Cancel closes it; Confirm starts it.

use crate::api::actions::start_action;
use crate::api::fragments::action_plan_fragment;
use crate::model::{PlanHtml, StartedView};
use leptos::html::Dialog;
use leptos::prelude::*;

#[component]
pub fn ActionButton(
    #[prop(into)] project: String,
    #[prop(into)] kind: String,
    #[prop(into)] label: String,
    /// Told when an action was started (or found under way), to refresh.
    on_started: Callback<StartedView>,
    #[prop(optional)] primary: bool,
) -> impl IntoView {
    let dialog: NodeRef<Dialog> = NodeRef::new();
    let plan = Action::new(|(p, k): &(String, String)| action_plan_fragment(p.clone(), k.clone()));
    let start = Action::new(|(p, k): &(String, String)| start_action(p.clone(), k.clone()));
    let (outcome, set_outcome) = signal(None::<Result<StartedView, String>>);
    let key = (project.clone(), kind.clone());
    let open = {
        let key = key.clone();
        move |_| {
            set_outcome.set(None);
            plan.dispatch(key.clone());
            if let Some(d) = dialog.get() {
                let _ = d.show_modal();
            }
        }
    };
    let close = move || {
        if let Some(d) = dialog.get() {
            d.close();
        }
    };
    let confirm = {
        let key = key.clone();
        move |_| {
            start.dispatch(key.clone());
        }
    };
    Effect::new(move |_| {
        if let Some(result) = start.value().get() {
            close();
            if let Ok(s) = &result {
                on_started.run(s.clone());
            }
            set_outcome.set(Some(result.map_err(|e| e.to_string())));
        }
    });
    let button_class = if primary {
        "rounded-md bg-emerald-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-emerald-800 focus:outline-none focus:ring-2 focus:ring-emerald-500"
    } else {
        "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm hover:bg-slate-50 focus:outline-none focus:ring-2 focus:ring-emerald-500"
    };
    let testid = format!("action-{kind}");
    let (aria_label, heading) = (label.clone(), label.clone());
    view! {
        <span class="inline-flex flex-col gap-1">
            <button type="button" class=button_class data-testid=testid on:click=open>{label}</button>
            {move || outcome.get().map(|o| match o {
                Ok(s) if s.already_under_way => view! {
                    <span role="status" class="text-xs text-amber-800" data-testid="action-under-way">
                        {format!("Already under way (asked by {}); following it below.", s.action.actor.clone().unwrap_or_default())}
                    </span>
                }.into_any(),
                Ok(s) if s.action.state == "unknown" => view! {
                    <span role="status" class="max-w-prose text-xs text-amber-800" data-testid="action-unknown-outcome">
                        "Sent, but no answer came: Greenroom is asking what happened; following it below."
                    </span>
                }.into_any(),
                Ok(_) => view! { <span role="status" class="text-xs text-emerald-800" data-testid="action-started">"Started; following it below."</span> }.into_any(),
                Err(e) => view! { <span role="alert" class="max-w-prose text-xs text-red-700" data-testid="action-error">{e}</span> }.into_any(),
            })}
        </span>
        <dialog node_ref=dialog class="m-auto w-full max-w-lg rounded-lg p-0 shadow-xl backdrop:bg-slate-900/40" aria-label=aria_label data-testid="action-dialog">
            <div class="p-5">
                <h2 class="text-lg font-semibold">{heading}</h2>
                {move || match plan.value().get() {
                    None => view! { <p class="mt-3 text-sm text-slate-600">"Working out what this will do…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p role="alert" class="mt-3 text-sm text-red-700">{e.to_string()}</p> }.into_any(),
                    Some(Ok(p)) => view! { <div inner_html=p.html></div> }.into_any(),
                }}
                <div class="mt-5 flex justify-end gap-2">
                    <button type="button" class="rounded-md border border-slate-300 px-3 py-1.5 text-sm" on:click=move |_| close()>"Cancel"</button>
                    <button
                        type="button"
                        data-testid="action-confirm"
                        class="rounded-md bg-emerald-700 px-3 py-1.5 text-sm font-medium text-white disabled:opacity-50"
                        autofocus
                        disabled=move || {
                            start.pending().get()
                                || !matches!(plan.value().get(), Some(Ok(PlanHtml { ready: true, .. })))
                        }
                        on:click=confirm
                    >
                        {move || if start.pending().get() { "Starting…" } else { "Confirm" }}
                    </button>
                </div>
            </div>
        </dialog>
    }
}
