//! A whole Greenroom server on a free loopback port (sandbox mode, a fresh
//! SQLite file, optional extra config), and a browser-like client that signs
//! in through the sandbox's OAuth page.

#![allow(dead_code)]

use greenroom::config::{Credentials, Overrides};
use greenroom::Config;
use greenroom_server::Application;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    pub services: greenroom::Services,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), greenroom_server::ServerError>>,
    pub data: tempfile::TempDir,
    _site: tempfile::TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn sandbox(&self) -> String {
        self.services.sandbox_url.clone().expect("sandbox mode")
    }

    /// Stops the server but keeps its data folder, for a restart on it.
    pub async fn stop_keeping_data(mut self) -> tempfile::TempDir {
        let _ = self.stop.take().unwrap().send(());
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), self.task).await;
        self.data
    }

    /// Waits (up to 90 s) for the first full sync pass to finish.
    pub async fn synced(&self) {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(90);
        while self.services.ops.syncer.full_passes() == 0 {
            assert!(
                std::time::Instant::now() < until,
                "the first sync pass finishes"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(std::time::Duration::from_secs(10), self.task)
            .await
            .expect("server stops within 10 s")
            .unwrap()
            .unwrap();
    }
}

/// Starts a server; `extra_toml` is appended to an empty config file. The
/// background sync is off unless `extra_toml` has a `[sync]` table: tests
/// of sign-in and the like need no vendor traffic of their own.
pub async fn spawn_with(extra_toml: &str) -> TestApp {
    let extra_toml = if extra_toml.contains("[sync]") {
        extra_toml.to_string()
    } else {
        format!("{extra_toml}\n[sync]\nenabled = false\n")
    };
    let extra_toml = extra_toml.as_str();
    let data = tempfile::tempdir().unwrap();
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    std::fs::write(site.path().join("pkg/greenroom.css"), "body{}").unwrap();
    let file = data.path().join("greenroom.toml");
    std::fs::write(&file, extra_toml).unwrap();
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data.path().to_path_buf()),
        site_dir: Some(site.path().to_path_buf()),
        log_format: None,
    };
    let config =
        Config::load_with(Some(&file), &overrides, Credentials::default()).expect("config");
    let app = Application::build(config).await.expect("server builds");
    let addr = app.local_addr();
    let services = app.services().clone();
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        services,
        stop: Some(tx),
        task,
        data,
        _site: site,
    }
}

/// A client that does not follow redirects, sharing `jar`.
pub fn stepper(jar: &Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A sign-in started: the sandbox form's fields and where to post them.
pub struct Started {
    pub action: String,
    pub form: Vec<(String, String)>,
    pub state: String,
}

pub async fn start_sign_in(
    app: &TestApp,
    jar: &Arc<reqwest::cookie::Jar>,
    next: Option<&str>,
) -> Started {
    let path = match next {
        Some(n) => format!(
            "/auth/login?next={}",
            url::form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>()
        ),
        None => "/auth/login".into(),
    };
    let res = stepper(jar).get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 303, "login redirects to GitHub");
    let authorize = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> =
        authorize.query_pairs().into_owned().collect();
    let form = [
        "client_id",
        "redirect_uri",
        "state",
        "scope",
        "code_challenge",
        "code_challenge_method",
    ]
    .iter()
    .filter_map(|k| q.get(*k).map(|v| (k.to_string(), v.clone())))
    .collect();
    let mut action = authorize.clone();
    action.set_query(None);
    Started {
        action: action.to_string(),
        form,
        state: q.get("state").cloned().unwrap_or_default(),
    }
}

/// Picks `login` on the sandbox's page; returns the callback URL (with code).
pub async fn choose(started: &Started, login: &str) -> String {
    let mut form = started.form.clone();
    form.push(("login".into(), login.into()));
    let res = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(&started.action)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302, "the sandbox sends the browser back");
    res.headers()["location"].to_str().unwrap().to_string()
}

/// Signs in as `login`; returns the cookie jar and a client that follows redirects.
pub async fn signed_in(app: &TestApp, login: &str) -> (Arc<reqwest::cookie::Jar>, reqwest::Client) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let started = start_sign_in(app, &jar, None).await;
    let callback = choose(&started, login).await;
    let res = stepper(&jar).get(callback).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/", "signed in and sent home");
    let client = reqwest::Client::builder()
        .no_proxy()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    (jar, client)
}

pub async fn audit(app: &TestApp) -> Vec<greenroom::storage::AuditEvent> {
    app.services
        .storage
        .list_audit(&Default::default(), None, 1000)
        .await
        .unwrap()
}

/// The status `client` gets for `GET url`.
pub async fn status_of(client: &reqwest::Client, url: String) -> u16 {
    client.get(url).send().await.unwrap().status().as_u16()
}

/// The JSON `client` gets for `GET url` (any status).
pub async fn json_of(client: &reqwest::Client, url: String) -> serde_json::Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// The body `client` gets for `GET url` (any status), as text.
pub async fn text_of(client: &reqwest::Client, url: String) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// Posts a form to `path` as a script would (same origin, asking for
/// JSON); answers (status, body).
pub async fn post_form(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let res = client
        .post(app.url(path))
        .header("origin", app.origin())
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}
