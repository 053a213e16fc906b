//! Building the server: open storage, migrate, bind, route. An [`Application`]
//! can be built on port 0 so tests get a real server on a free port.

use crate::assets;
use crate::auth::{self, AuthState};
use crate::error::ServerError;
use crate::health;
use crate::page_cache::{self, PageCache};
use crate::security::{self, CspNonce, Security};
use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use greenroom::storage::now_ms;
use greenroom::{Config, Mode, Services, Storage};
use greenroom_app::{shell, App};
use greenroom_sandbox::{RunningSandbox, World};
use leptos::config::LeptosOptions;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::trace::TraceLayer;

/// The router's state; Leptos also provides it to server functions.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub auth: AuthState,
    /// The bounds in force, with the export and live-stream slots.
    pub limits: Arc<crate::limits::Limits>,
}

impl FromRef<AppState> for Arc<crate::limits::Limits> {
    fn from_ref(state: &AppState) -> Self {
        state.limits.clone()
    }
}

impl FromRef<AppState> for Storage {
    fn from_ref(state: &AppState) -> Self {
        state.services.storage.clone()
    }
}

impl FromRef<AppState> for Services {
    fn from_ref(state: &AppState) -> Self {
        state.services.clone()
    }
}

impl FromRef<AppState> for AuthState {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    services: Services,
    site_root: PathBuf,
    /// The in-process sandbox (sandbox mode only); stopped with the server.
    sandbox: Option<RunningSandbox>,
    /// Tells the background sync to stop (and give up its lease).
    stop_sync: tokio::sync::watch::Sender<bool>,
    sync_task: Option<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Opens and migrates the database, records the configured projects, and
    /// binds `config.listen` (port 0 picks a free port).
    pub async fn build(mut config: Config) -> Result<Self, ServerError> {
        let started_ms = now_ms();
        let site_root = assets::find_site(config.site_dir.as_deref()).ok_or_else(|| {
            ServerError::SiteMissing {
                searched: assets::site_candidates(config.site_dir.as_deref())
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })?;

        let storage = Storage::connect(&config.database_url).await?;
        let applied = storage.migrate().await?;
        if applied > 0 {
            tracing::info!(applied, backend = %storage.backend(), "database migrations applied");
        }
        // Actions' events are left to their reconciler (another instance may
        // still be working on them); what else is pending (an end-all of
        // sessions, which takes milliseconds) was left by a stop.
        let abandoned = storage.mark_abandoned_audits_unknown(started_ms).await?;
        if abandoned > 0 {
            tracing::warn!(
                abandoned,
                "audit events left pending by an earlier stop are now marked unknown"
            );
        }
        let mut targets = Vec::new();
        for project in &config.projects {
            let json = serde_json::to_string(project).unwrap_or_else(|_| "{}".into());
            let row = storage.upsert_project(project.name.as_str(), &json).await?;
            targets.push(greenroom::sync::SyncTarget {
                project_id: row.id,
                project: project.clone(),
            });
        }

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
        // Port 0 was asked for: the public URL (origin checks, the OAuth
        // callback) is the port actually bound.
        if config.public_url.port() == Some(0) {
            if let Ok(u) = url::Url::parse(&format!("http://{addr}")) {
                config.public_url = u;
            }
        }
        // Sandbox mode runs its own sandbox, unless GREENROOM_SANDBOX_URL
        // names one already running (several instances on one sandbox).
        let shared_sandbox = std::env::var(SANDBOX_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty());
        let sandbox = match (config.mode, &shared_sandbox) {
            (Mode::Sandbox, None) => Some(start_sandbox().await?),
            _ => None,
        };
        let sandbox_base = match config.mode {
            Mode::Sandbox => shared_sandbox
                .map(|u| u.trim().trim_end_matches('/').to_string())
                .or_else(|| sandbox.as_ref().map(RunningSandbox::base_url)),
            Mode::Live => None,
        };
        if let (Some(base), None) = (&sandbox_base, &sandbox) {
            tracing::info!(url = %without_userinfo(base), "using the sandbox already running at {SANDBOX_URL_ENV}");
        }
        let session_key = crate::session_key::load(
            std::env::var(crate::session_key::ENV).ok(),
            &config.data_dir,
        )?;
        let auth_state = auth_state(&config, &storage, sandbox_base.as_deref())?;
        // Expired sessions (and abandoned sign-ins) are swept every ten minutes.
        {
            use tower_sessions::session_store::ExpiredDeletion;
            let store = storage.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
                loop {
                    every.tick().await;
                    if let Err(e) = store.delete_expired().await {
                        tracing::warn!(error = %e, "could not sweep expired sessions");
                    }
                }
            });
        }
        let leptos_options = assets::leptos_options(&site_root, addr);
        let (stop_sync, stop_rx) = tokio::sync::watch::channel(false);
        let ops = operations(
            &config,
            &storage,
            sandbox_base.as_deref(),
            targets,
            stop_rx.clone(),
        )?;
        tokio::spawn(ops.overviews.clone().run(stop_rx.clone()));
        tokio::spawn(
            ops.actions
                .clone()
                .run_reconciler(ops.targets.to_vec(), stop_rx.clone()),
        );
        let sync_task = config.sync.enabled.then(|| {
            let holder = format!("{}-{}-{}", addr, std::process::id(), now_ms());
            tokio::spawn(ops.syncer.clone().run(config.sync, holder, stop_rx))
        });
        let services = Services::new(Arc::new(config), storage, sandbox_base, ops);
        let page_cache = PageCache::new(services.config.page_cache);
        let state = AppState {
            leptos_options,
            services: services.clone(),
            auth: auth_state,
            limits: crate::limits::Limits::new(&services.config.limits),
        };
        let router = router(state, &site_root, page_cache, session_key);
        Ok(Self {
            listener,
            router,
            services,
            site_root,
            sandbox,
            stop_sync,
            sync_task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        tracing::info!(
            address = %self.local_addr(),
            mode = ?self.services.mode(),
            site = %self.site_root.display(),
            "Greenroom is serving"
        );
        // Without TCP_NODELAY, a response written in two parts waits ~40 ms for
        // the client's delayed ACK (measured: 44 ms median for any page).
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let router = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        // When shutdown begins, the sync stops and live streams end, so the
        // graceful shutdown does not wait on connections that never close.
        let stop_sync = self.stop_sync.clone();
        let shutdown = async move {
            shutdown.await;
            let _ = stop_sync.send(true);
        };
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServerError::Serve);
        let _ = self.stop_sync.send(true);
        if let Some(task) = self.sync_task {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
        }
        if let Some(sandbox) = self.sandbox {
            sandbox.stop().await;
        }
        served
    }
}

/// The variable naming a sandbox already running, for sandbox mode to use
/// instead of starting its own (its base URL, e.g. `http://127.0.0.1:3100`).
pub const SANDBOX_URL_ENV: &str = "GREENROOM_SANDBOX_URL";

/// A URL fit for the log: any user name and password in it are dropped.
fn without_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            let _ = u.set_username("");
            u.to_string()
        }
        Err(_) => "(not a URL)".to_string(),
    }
}

/// The in-process sandbox of sandbox mode, on a free loopback port, with the
/// world from `GREENROOM_SANDBOX_WORLD` or the seeded one.
pub(crate) async fn start_sandbox() -> Result<RunningSandbox, ServerError> {
    let world = match std::env::var_os("GREENROOM_SANDBOX_WORLD") {
        Some(path) => World::load(std::path::Path::new(&path))
            .map_err(|e| ServerError::Sandbox(e.to_string()))?,
        None => World::seeded(1),
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let sandbox = greenroom_sandbox::start(addr, world)
        .await
        .map_err(|e| ServerError::Sandbox(e.to_string()))?;
    tracing::info!(url = %sandbox.base_url(), "sandbox serving the simulated vendor APIs");
    Ok(sandbox)
}

/// The sync, the actions and the trend cache, on the vendor clients of this
/// mode. Slack is the configured webhook, or the sandbox's in sandbox mode.
fn operations(
    config: &Config,
    storage: &Storage,
    base: Option<&str>,
    targets: Vec<greenroom::sync::SyncTarget>,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<greenroom::services::Operations, ServerError> {
    let clients = Arc::new(
        greenroom::providers::VendorClients::from_config(config, base)
            .map_err(|e| ServerError::Vendors(e.to_string()))?,
    );
    let webhook = config.credentials.slack_webhook_url.clone().or_else(|| {
        base.as_ref().map(|b| {
            greenroom::Secret::new(format!("{b}/slack/services/T0SANDBOX/B0DEPLOYS/greenroom"))
        })
    });
    let slack = match webhook {
        Some(url) => Some(greenroom::providers::slack::SlackWebhook::new(
            greenroom::providers::http::client(greenroom::providers::http::Timeouts::default())
                .map_err(|e| ServerError::Vendors(e.to_string()))?,
            url,
        )),
        None => None,
    };
    let notifier = greenroom::notify::Notifier::new(
        storage.counted_apart(),
        slack,
        config.public_url.as_str(),
    );
    // Sync, Slack notices and the actions' work run in the background: their
    // database calls are counted apart from the pages' (see `Storage::calls`).
    let secrets = greenroom::secret_checks::SecretChecks::new(
        storage.counted_apart(),
        clients.clone(),
        notifier.clone(),
        fingerprint_key()?,
    );
    let store = greenroom::artifacts::ArtifactStore::new(
        config.data_dir.join("artifacts"),
        config.artifacts.cache_bytes(),
        config.artifacts.limits(),
    )
    .map_err(|e| ServerError::Artifacts(e.to_string()))?;
    let artifacts = Arc::new(greenroom::artifacts::Artifacts::new(store, clients.clone()));
    let syncer = Arc::new(
        greenroom::sync::Syncer::new(
            storage.counted_apart(),
            clients.clone(),
            notifier.clone(),
            targets.clone(),
        )
        .with_secrets(secrets.clone())
        .with_artifacts(artifacts.clone())
        .with_branch_rules(config.branches.rules()),
    );
    let actions = greenroom::actions::Actions::new(
        storage.counted_apart(),
        clients,
        notifier,
        syncer.clone(),
        std::time::Duration::from_millis(config.sync.watch_interval_ms),
    );
    let targets = Arc::new(targets);
    Ok(greenroom::services::Operations {
        syncer,
        actions,
        trends: Arc::new(greenroom::trends::TrendCache::default()),
        overviews: greenroom::read_model::Overviews::new(storage.counted_apart(), targets.clone()),
        targets,
        secrets,
        artifacts,
        stopping,
    })
}

/// The key of the secret fingerprints: `GREENROOM_FINGERPRINT_KEY` when
/// set (at least 32 bytes), else a random key for this process. Letters
/// are assigned within one report, so nothing depends on the key lasting.
fn fingerprint_key() -> Result<greenroom::secrets::FingerprintKey, ServerError> {
    match std::env::var("GREENROOM_FINGERPRINT_KEY") {
        Ok(k) if k.len() >= 32 => Ok(greenroom::secrets::FingerprintKey::new(k.into_bytes())),
        Ok(_) => Err(ServerError::FingerprintKey(
            "GREENROOM_FINGERPRINT_KEY is shorter than 32 bytes; use a longer random string or unset it".into(),
        )),
        Err(_) => Ok(greenroom::secrets::FingerprintKey::random()),
    }
}

/// Sign-in against the sandbox's OAuth page in sandbox mode, or the GitHub
/// OAuth app from the environment in live mode.
fn auth_state(
    config: &Config,
    storage: &Storage,
    base: Option<&str>,
) -> Result<AuthState, ServerError> {
    let clients = greenroom::providers::VendorClients::from_config(config, base)
        .map_err(|e| ServerError::SignIn(e.to_string()))?;
    let callback = config
        .public_url
        .join("/auth/callback")
        .map_err(|e| ServerError::SignIn(e.to_string()))?;
    let (web, id, secret) = match &base {
        Some(b) => (
            format!("{b}/github"),
            "greenroom-sandbox".to_string(),
            greenroom::Secret::new("sandbox-client-secret"),
        ),
        None => (
            config
                .vendors
                .github_web_url
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            config
                .credentials
                .github_oauth_client_id
                .clone()
                .unwrap_or_default(),
            config
                .credentials
                .github_oauth_client_secret
                .clone()
                .unwrap_or_else(|| greenroom::Secret::new("")),
        ),
    };
    let oauth = greenroom::auth::signin::OAuthApp::new(&web, &id, &secret, callback.as_str())
        .map_err(|e| ServerError::SignIn(e.to_string()))?;
    Ok(AuthState {
        storage: storage.clone(),
        config: Arc::new(config.auth.clone()),
        oauth: Arc::new(oauth),
        github: Arc::new(clients.github),
        rechecks: Default::default(),
        limiter: Arc::new(greenroom::auth::rate_limit::SignInLimiter::new(
            config.auth.sign_in_attempts_per_minute,
        )),
    })
}

fn router(
    state: AppState,
    site_root: &std::path::Path,
    page_cache: PageCache,
    key: tower_sessions::cookie::Key,
) -> Router {
    let routes = generate_route_list(App);
    let services = state.services.clone();
    let context = move || {
        provide_context(services.clone());
        // The nonce the CSP header of this response allows.
        if let Some(parts) = use_context::<http::request::Parts>() {
            if let Some(n) = parts.extensions.get::<CspNonce>() {
                provide_context(leptos::nonce::Nonce::from_value(n.0.clone()));
            }
            if let Some(u) = parts.extensions.get::<greenroom::auth::SessionUser>() {
                provide_context(u.clone());
            }
            if let Some(m) = parts.extensions.get::<greenroom::auth::RoleUnconfirmed>() {
                provide_context(*m);
            }
            if let Some(s) = parts.extensions.get::<tower_sessions::Session>() {
                provide_context(s.clone());
            }
        }
    };
    let security = Security::new(
        &state.services.config.public_url,
        state.services.storage.clone(),
    );
    let sessions = tower_sessions::SessionManagerLayer::new(state.services.storage.clone())
        .with_name("greenroom_session")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(security.https)
        .with_path("/")
        .with_expiry(tower_sessions::Expiry::OnInactivity(
            time::Duration::try_from(state.auth.config.session_idle)
                .unwrap_or(time::Duration::hours(8)),
        ))
        .with_signed(key);
    let options = state.leptos_options.clone();
    let hashed = options.hash_files;
    let (upload_context, upload_options) = (context.clone(), options.clone());
    let upload = move |req: axum::extract::Request| {
        let (context, options) = (upload_context.clone(), upload_options.clone());
        crate::env_local_upload::upload(req, context, move || shell(options.clone()))
    };
    let auth_state = state.auth.clone();
    let limits = state.limits.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/auth/login", get(auth::login))
        .route("/auth/callback", get(auth::callback))
        .route("/auth/sign-out", post(auth::sign_out))
        .route("/activity/export", get(crate::export::activity))
        .route("/history/export", get(crate::export::history))
        // The same parameter names as the app's `/runs/:id/artifacts/:artifact`.
        .route(
            "/runs/{id}/artifacts/{artifact}/raw",
            get(crate::artifact_files::raw),
        )
        .route("/api/live", get(crate::live::live))
        .route("/sessions/end-all", post(auth::end_all_sessions_form))
        .route(
            "/secrets",
            post(upload).layer(axum::extract::DefaultBodyLimit::max(
                4 * crate::env_local_upload::MAX_BYTES,
            )),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .nest_service("/pkg", assets::pkg_service(site_root, hashed))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(axum::middleware::from_fn(crate::api_status::correct_status))
        .layer(axum::middleware::from_fn_with_state(
            PageCache::new(state.services.config.page_cache),
            page_cache::serve_cached_personal,
        ))
        // The origin check runs after the guard, so a refusal is audited
        // with the signed-in person who made it.
        .layer(axum::middleware::from_fn_with_state(
            security.clone(),
            security::same_origin,
        ))
        .layer(axum::middleware::from_fn_with_state(
            auth_state,
            auth::guard,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            page_cache,
            page_cache::serve_cached,
        ))
        // Outside the session and the guard, so their time counts too; inside
        // the security headers, so a refusal carries them as well.
        .layer(axum::middleware::from_fn_with_state(
            limits,
            crate::limits::bound,
        ))
        .layer(axum::middleware::from_fn_with_state(
            security,
            security::headers,
        ))
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(state.services.config.proxy.clone()),
            crate::client_address::resolve,
        ))
        .layer(tower_http::request_id::PropagateRequestIdLayer::new(
            crate::request_id::HEADER,
        ))
        .layer(tower_http::request_id::SetRequestIdLayer::new(
            crate::request_id::HEADER,
            tower_http::request_id::MakeRequestUuid,
        ))
        .layer(axum::middleware::from_fn(
            crate::request_id::drop_unacceptable,
        ))
        .with_state(state)
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled, so a signal that arrives while
/// the server is still starting up is not lost (nor fatal).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut term, mut int) = handlers;
            tokio::select! {
                _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending::<()>().await } } => {},
                _ = async { match int.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending::<()>().await } } => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
