//! The sandbox: a local simulator of the vendor APIs Greenroom uses, served on
//! one loopback port with each vendor under its own prefix (`/netlify/api/v1`,
//! `/github`, `/supabase/v1`, `/slack`), so that a client's base URL is the
//! only thing that changes between the sandbox and the real service.
//!
//! The world is seeded (or loaded from a file), its state moves on a clock
//! the control API under `/__sandbox/` can advance, and faults can be
//! injected per route. Every vendor request is logged for tests to count.

pub mod artifacts;
pub mod control;
pub mod faults;
pub mod model;
pub mod request_log;
pub mod seed;
pub mod sim;
pub mod slack;
pub mod util;
pub mod vendors;
pub mod world;

use axum::Router;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use world::{Member, World, WorldError};

/// Everything the sandbox remembers; shared by all routes.
pub struct SandboxState {
    /// The simulation as started, restored by `POST /__sandbox/reset`.
    initial: sim::Sim,
    pub sim: Mutex<sim::Sim>,
    pub requests: request_log::RequestLog,
    pub faults: faults::FaultTable,
    pub slack: Mutex<Vec<slack::SlackMessage>>,
    /// True once the sandbox is stopping: requests a fault holds give up,
    /// so a stop never waits out a long latency.
    pub stopping: tokio::sync::watch::Sender<bool>,
}

impl SandboxState {
    pub fn new(world: World) -> Self {
        let sim = sim::Sim::new(world);
        Self {
            initial: sim.clone(),
            sim: Mutex::new(sim),
            requests: request_log::RequestLog::default(),
            stopping: tokio::sync::watch::Sender::new(false),
            faults: faults::FaultTable::default(),
            slack: Mutex::new(Vec::new()),
        }
    }

    /// Back to the loaded world: no recorded requests, faults or messages.
    pub fn reset(&self) {
        *lock(&self.sim) = self.initial.clone();
        self.requests.clear();
        self.faults.clear();
        lock(&self.slack).clear();
    }
}

/// A poisoned lock only means another request panicked mid-update; the data
/// is still the best we have, so keep serving.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub type Shared = Arc<SandboxState>;

/// The sandbox's routes; the request log and faults wrap every vendor route.
pub fn router(state: Shared) -> Router {
    let vendors = Router::new()
        .merge(slack::routes())
        .merge(vendors::netlify::routes())
        .merge(vendors::github::routes(state.clone()))
        .merge(vendors::github::download_routes())
        .merge(vendors::oauth::routes())
        .merge(vendors::supabase::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::apply,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_log::record,
        ));
    Router::new()
        .merge(vendors)
        .merge(control::routes())
        .with_state(state)
}

/// A sandbox serving in the background; stop it with [`RunningSandbox::stop`].
pub struct RunningSandbox {
    pub addr: SocketAddr,
    pub state: Shared,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT`, the base every vendor prefix hangs off.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(mut self) {
        self.state.stopping.send_replace(true);
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.state.stopping.send_replace(true);
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox only listens on loopback addresses; {0} is not one")]
    NotLoopback(SocketAddr),
    #[error("the sandbox cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Binds `addr` (loopback only; port 0 picks a free port) and serves `world`.
pub async fn start(addr: SocketAddr, world: World) -> Result<RunningSandbox, SandboxError> {
    if !addr.ip().is_loopback() {
        return Err(SandboxError::NotLoopback(addr));
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| SandboxError::Bind { addr, source })?;
    let state: Shared = Arc::new(SandboxState::new(world));
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningSandbox {
        addr,
        state,
        stop: Some(tx),
        task,
    })
}
