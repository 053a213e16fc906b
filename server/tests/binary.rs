//! The `greenroom` binary itself: help text, JSON logs, a clean exit on SIGTERM.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn greenroom() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_greenroom"));
    for var in [
        "NETLIFY_AUTH_TOKEN",
        "GITHUB_TOKEN",
        "SUPABASE_ACCESS_TOKEN",
        "GREENROOM_CONFIG",
        "GREENROOM_SANDBOX_URL",
        "GREENROOM_DATABASE_URL",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn help_documents_the_subcommands_and_flags() {
    let out = greenroom().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in [
        "serve",
        "migrate",
        "check-config",
        "--config",
        "--log-format",
    ] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
    let out = greenroom().args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for word in ["--listen", "--data-dir", "--site-dir"] {
        assert!(text.contains(word), "serve --help lacks {word}:\n{text}");
    }
}

#[test]
fn a_bad_config_exits_non_zero_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), "listn = \"127.0.0.1:1\"\n").unwrap();
    let out = greenroom()
        .current_dir(dir.path())
        .args(["--config", "bad.toml", "check-config"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("`listn`") && err.contains("unknown key"),
        "{err}"
    );
}

#[test]
fn migrate_applies_the_migrations_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let out = greenroom()
        .current_dir(dir.path())
        .args(["migrate", "--data-dir", "d"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // Every migration in the folder, however many there are by now.
    let expected = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite"))
        .unwrap()
        .count();
    assert!(
        text.contains("SQLite") && text.contains(&format!("{expected} of {expected}")),
        "{text}"
    );
    assert!(dir.path().join("d/greenroom.db").exists());
}

#[test]
fn serve_logs_json_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("site/pkg")).unwrap();
    let mut child = greenroom()
        .current_dir(dir.path())
        .args([
            "--log-format",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "data",
            "--site-dir",
            "site",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut serving = None;
    while Instant::now() < deadline {
        let line = lines.next().expect("server exited early").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        if event["message"] == "Greenroom is serving" {
            serving = Some(event);
            break;
        }
    }
    let serving = serving.expect("the server announced its address");
    let address = serving["address"].as_str().unwrap().to_string();
    assert!(address.starts_with("127.0.0.1:"), "{serving}");

    // SAFETY: sending a signal to our own child process.
    let rc = unsafe { libc_kill(child.id() as i32, 15) };
    assert_eq!(rc, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status after SIGTERM: {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// `greenroom secrets check` in sandbox mode on a fixed world, from a
/// directory with no config file.
fn secrets_check(
    dir: &std::path::Path,
    world: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    greenroom()
        .current_dir(dir)
        .env("GREENROOM_SANDBOX_WORLD", world)
        .args(["secrets", "check"])
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_secrets_gate_exits_by_its_verdict_and_never_prints_a_value() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let mut world = greenroom_sandbox::World::seeded(1);
    world.anchor_ms = Some(1_796_000_000_000);
    let world_file = dir.path().join("world.json");
    std::fs::write(&world_file, serde_json::to_string(&world).unwrap()).unwrap();
    // The values the sandbox's vendors will hold for this world.
    let sb = greenroom_sandbox::start("127.0.0.1:0".parse().unwrap(), world)
        .await
        .unwrap();
    let mut values: Vec<String> = {
        let sim = sb.state.sim.lock().unwrap();
        sim.env
            .iter()
            .flat_map(|v| v.values.iter().map(|x| x.value.clone()))
            .chain(sim.variables.iter().map(|v| v.value.clone()))
            // The org's name is in every link; it is not a secret.
            .filter(|v| v.len() >= 12 && *v != sim.ids.github.org)
            .collect()
    };
    sb.stop().await;
    let canary = "gr-canary-7f3e9a1c0b";
    values.push(canary.to_string());
    let env_file = dir.path().join(".env.local");
    std::fs::write(
        &env_file,
        format!("SUPABASE_URL={canary}\nDEFAULT_ORGANIZATION_ID=\"{canary}\"\nEXTRA=${{HOME}}\n"),
    )
    .unwrap();
    let env_arg = env_file.to_str().unwrap();

    let json_run = secrets_check(
        dir.path(),
        &world_file,
        &["--format", "json", "--env-file", env_arg],
    );
    let table_run = secrets_check(dir.path(), &world_file, &["--env-file", env_arg]);
    for (run, what) in [(&json_run, "json"), (&table_run, "table")] {
        assert_eq!(
            run.status.code(),
            Some(1),
            "{what}: the seeded world misses required keys\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let out = [run.stdout.clone(), run.stderr.clone()].concat();
        let text = String::from_utf8_lossy(&out);
        for v in &values {
            let forms = [
                v.clone(),
                base64::engine::general_purpose::STANDARD.encode(v),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v),
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>(),
                serde_json::to_string(v)
                    .unwrap()
                    .trim_matches('"')
                    .to_string(),
            ];
            for form in forms {
                assert!(!text.contains(&form), "{what}: a value was printed");
            }
        }
    }
    let report: serde_json::Value =
        serde_json::from_slice(&json_run.stdout).expect("--format json prints JSON");
    assert_eq!(report["outcome"], "missing");
    assert_eq!(report["env_local_checked"], true);
    let table = String::from_utf8_lossy(&table_run.stdout);
    assert!(
        table.contains("Result: something required is missing or empty (exit 1)"),
        "{table}"
    );
    assert!(table.contains("SUPABASE_ACCESS_TOKEN"));

    let unknown = secrets_check(dir.path(), &world_file, &["--project", "nope"]);
    assert_eq!(
        unknown.status.code(),
        Some(2),
        "an unknown project cannot be checked"
    );
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no project named \"nope\""));
    let missing_file = secrets_check(
        dir.path(),
        &world_file,
        &["--env-file", "/nonexistent/.env.local"],
    );
    assert_eq!(missing_file.status.code(), Some(2));
}

#[test]
fn the_secrets_gate_passes_when_all_is_there_and_says_so_when_it_cannot_tell() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("greenroom.toml"),
        r#"mode = "sandbox"

[[projects]]
name = "AllIncompassing"

[projects.netlify]
account_slug = "allincompassing"
staging_site_id = "5a1b7c2e-0000-4000-8000-00000000st01"
production_site_id = "5a1b7c2e-0000-4000-8000-00000000pr01"

[projects.github]
repo = "allincompassing/allincompassing"

[projects.secrets]
required = [
  { key = "SUPABASE_URL", in = ["netlify:production", "netlify:staging"] },
  { key = "NETLIFY_AUTH_TOKEN", in = ["github"] },
]
"#,
    )
    .unwrap();
    let run = |forbidden: &[&str]| {
        let mut world = greenroom_sandbox::World::seeded(1);
        // No repository files, so nothing is discovered beyond the config.
        world.github.files = Some(vec![]);
        world.github.forbidden = forbidden.iter().map(|s| s.to_string()).collect();
        let path = dir.path().join("world.json");
        std::fs::write(&path, serde_json::to_string(&world).unwrap()).unwrap();
        secrets_check(dir.path(), &path, &["--format", "json"])
    };
    let ok = run(&[]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(report["outcome"], "ok");

    // The token may not read repository secrets: unknown, not missing.
    let unknown = run(&["repo-secrets"]);
    assert_eq!(
        unknown.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&unknown.stdout).unwrap();
    assert_eq!(report["outcome"], "unchecked");
}

/// A `greenroom serve` on the shared sandbox at `sandbox`, in `dir` (its
/// database and session key persist there across restarts); answers the
/// child and its base URL. Its log is drained so it never blocks.
fn serve_on_sandbox(dir: &std::path::Path, sandbox: &str) -> (std::process::Child, String) {
    let mut child = greenroom()
        .current_dir(dir)
        .env("GREENROOM_SANDBOX_URL", sandbox)
        .args([
            "--log-format",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "data",
            "--site-dir",
            "site",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let address = loop {
        assert!(
            Instant::now() < deadline,
            "the server announces its address"
        );
        let line = lines.next().expect("server exited early").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if event["message"] == "Greenroom is serving" {
            break event["address"].as_str().unwrap().to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, format!("http://{address}"))
}

/// Signs in as `login` through the sandbox's GitHub page.
async fn sign_in(base: &str, login: &str) -> reqwest::Client {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let step = reqwest::Client::builder()
        .no_proxy()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = step.get(format!("{base}/auth/login")).send().await.unwrap();
    let authorize = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("login".into(), login.into()));
    let mut action = authorize.clone();
    action.set_query(None);
    let res = step.post(action).form(&form).send().await.unwrap();
    let callback = res.headers()["location"].to_str().unwrap().to_string();
    let res = step.get(callback).send().await.unwrap();
    assert_eq!(res.status(), 303, "signed in");
    reqwest::Client::builder()
        .no_proxy()
        .cookie_provider(jar)
        .build()
        .unwrap()
}

/// `kill -9` of the server while the vendor is carrying out an action (the
/// sandbox applies the restore and withholds its answer): after a restart
/// on the same database the new process adopts the action, finds out what
/// the vendor did and records that, with no second upstream call.
#[tokio::test]
async fn an_action_cut_off_by_kill_9_is_reconciled_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("site/pkg")).unwrap();
    std::fs::write(
        dir.path().join("greenroom.toml"),
        "mode = \"sandbox\"\n\n[sync]\ninterval_secs = 3600\nwatch_interval_ms = 500\n",
    )
    .unwrap();
    let sb = greenroom_sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        greenroom_sandbox::World::seeded(1),
    )
    .await
    .unwrap();
    let sandbox = sb.base_url();
    let control = reqwest::Client::new();
    let (mut first, base) = serve_on_sandbox(dir.path(), &sandbox);
    let deployer = sign_in(&base, "dev-deployer").await;
    // The first sync pass knows the last good deploy once the overview shows it.
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let o: serde_json::Value = deployer
            .get(format!("{base}/api/overview?project=AllIncompassing"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or_default();
        if o["staging"]["deploy"].is_object() {
            break;
        }
        assert!(Instant::now() < until, "the first sync finishes");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let restore = "POST /netlify/api/v1/sites/*/deploys/*/restore";
    for (path, body) in [
        (
            "/__sandbox/faults",
            serde_json::json!({"route": restore, "kind": "apply_then_hang", "ms": 120_000, "count": 1}),
        ),
        (
            "/__sandbox/outcomes",
            serde_json::json!({"target": "netlify", "outcome": "success", "count": 10}),
        ),
    ] {
        let res = control
            .post(format!("{sandbox}{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
    }
    let restored = || {
        let sim = sb.state.sim.lock().unwrap();
        sim.deploys
            .iter()
            .filter(|d| d.restored_ms.is_some())
            .count()
    };
    let restored_before = restored();
    let start = {
        let (deployer, base) = (deployer.clone(), base.clone());
        tokio::spawn(async move {
            deployer
                .post(format!("{base}/api/actions/start"))
                .header("origin", base.clone())
                .form(&[
                    ("project", "AllIncompassing"),
                    ("kind", "redeploy-last-good"),
                ])
                .send()
                .await
        })
    };
    // The sandbox has carried the restore out; its answer is held back.
    let until = Instant::now() + Duration::from_secs(30);
    while restored() == restored_before {
        assert!(Instant::now() < until, "the restore reaches the vendor");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc_kill(first.id() as i32, 9) }, 0);
    first.wait().unwrap();
    let _ = start.await;

    let (mut second, base) = serve_on_sandbox(dir.path(), &sandbox);
    // Time passes upstream: the restored deploy goes live.
    control
        .post(format!("{sandbox}/__sandbox/clock"))
        .json(&serde_json::json!({"advance_ms": 900_000}))
        .send()
        .await
        .unwrap();
    // The session survives the restart (same database, same key).
    let recent = |o: &serde_json::Value| o["actions"][0].clone();
    let until = Instant::now() + Duration::from_secs(120);
    let action = loop {
        let o: serde_json::Value = deployer
            .get(format!("{base}/api/overview?project=AllIncompassing"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or_default();
        let a = recent(&o);
        if a["state"] == "succeeded" || a["state"] == "failed" {
            break a;
        }
        assert!(
            Instant::now() < until,
            "the action is reconciled after the restart: {a}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(action["kind"], "redeploy-last-good", "{action}");
    assert_eq!(
        action["state"], "succeeded",
        "the vendor did restore: {action}"
    );
    let activity: serde_json::Value = deployer
        .get(format!(
            "{base}/api/activity?query[action]=action.redeploy-last-good"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = activity["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "one audit row: {activity}");
    assert_eq!(rows[0]["outcome"], "succeeded", "{activity}");
    let restores = sb
        .state
        .requests
        .list(&Default::default())
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/restore"))
        .count();
    assert_eq!(restores, 1, "one upstream call in all");
    // SAFETY: as above.
    unsafe { libc_kill(second.id() as i32, 15) };
    second.wait().unwrap();
    sb.stop().await;
}
