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
