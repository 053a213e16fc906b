//! The live view: in the browser, a server-sent event stream tells the page
//! when the project's data changed (sync wrote something, an action moved),
//! and the page fetches its view again. On the server it does nothing.
//!
//! `GET /api/live?project=NAME&since=MARK` sends the project's change mark
//! whenever it differs from the last one sent; see server/src/live.rs.

use leptos::prelude::*;

/// A signal that takes the project's newest change mark whenever the server
/// announces one newer than `since`. Only one stream is open at a time per
/// tab: opening another closes the previous.
pub fn watch_changes(project: String, since: i64, mark: WriteSignal<i64>) {
    #[cfg(feature = "hydrate")]
    client::open(&project, since, mark);
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (project, since, mark);
    }
}

/// Closes the open stream, if any (a page that watched is going away).
pub fn stop() {
    #[cfg(feature = "hydrate")]
    client::close();
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::prelude::*;
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    /// The open stream and its message handler (kept alive with it).
    type Stream = (
        web_sys::EventSource,
        Closure<dyn FnMut(web_sys::MessageEvent)>,
    );

    thread_local! {
        static OPEN: RefCell<Option<Stream>> = const { RefCell::new(None) };
    }

    pub fn open(project: &str, since: i64, mark: WriteSignal<i64>) {
        close();
        let url = format!(
            "/api/live?project={}&since={since}",
            crate::format::query_escape(project)
        );
        let Ok(source) = web_sys::EventSource::new(&url) else {
            return;
        };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                if let Some(m) = event.data().as_string().and_then(|s| s.parse::<i64>().ok()) {
                    mark.try_set(m);
                }
            },
        );
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        OPEN.with(|o| *o.borrow_mut() = Some((source, on_message)));
    }

    pub fn close() {
        OPEN.with(|o| {
            if let Some((source, _)) = o.borrow_mut().take() {
                source.close();
            }
        });
    }
}
