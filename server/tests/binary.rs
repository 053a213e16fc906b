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
