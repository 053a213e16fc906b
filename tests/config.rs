//! Configuration: a good file, each kind of bad file, environment overrides,
//! and live mode's required values.

// figment's `Jail` closures must return `figment::Error`, which is large.
#![allow(clippy::result_large_err)]

use figment::Jail;
use greenroom::config::{Credentials, DeployMethod, LogFormat, Overrides};
use greenroom::{Config, ConfigError, Mode, Secret};
use std::path::Path;

const GOOD: &str = r#"
listen = "127.0.0.1:4100"
public_url = "https://greenroom.example.com"
data_dir = "state"
mode = "auto"

[log]
format = "json"
level = "greenroom=debug,info"

[auth]
org = "acme"
default_role = "none"
membership_check_secs = 120

[auth.team_roles]
web = "deployer"
platform = "admin"

[[projects]]
name = "AllIncompassing"
staging_url = "https://staging--allincompassing.netlify.app"
deploy_method = "netlify-build"

[projects.netlify]
account_slug = "allincompassing"
staging_site_id = "site-staging"
production_site_id = "site-production"

[projects.github]
repo = "acme/allincompassing"

[projects.supabase]
project_ref = "wnnjeqheqxxyrgsjmygy"

[[projects]]
name = "marketing"

[projects.netlify]
account_slug = "acme"
staging_site_id = "mkt-staging"
production_site_id = "mkt-production"

[projects.github]
repo = "acme/marketing"
workflow = "deploy.yml"
staging_branch = "main"
"#;

fn live_tokens() -> Credentials {
    Credentials {
        netlify_token: Some(Secret::new("nfp_test")),
        github_token: Some(Secret::new("ghp_test")),
        supabase_token: Some(Secret::new("sbp_test")),
        github_oauth_client_id: Some("Iv1.test".into()),
        github_oauth_client_secret: Some(Secret::new("oauth-secret")),
        ..Credentials::default()
    }
}

fn load(jail_file: &str, credentials: Credentials) -> Result<Config, ConfigError> {
    Config::load_with(
        Some(Path::new(jail_file)),
        &Overrides::default(),
        credentials,
    )
}

fn problem_text(err: &ConfigError) -> String {
    err.to_string()
}

#[test]
fn a_good_file_parses_into_typed_config_with_defaults_filled_in() {
    Jail::expect_with(|jail| {
        jail.create_file("greenroom.toml", GOOD)?;
        let config = load("greenroom.toml", live_tokens()).expect("good config");
        assert_eq!(config.mode, Mode::Live);
        assert_eq!(config.listen.to_string(), "127.0.0.1:4100");
        assert_eq!(config.public_url.as_str(), "https://greenroom.example.com/");
        assert_eq!(config.database_url, "sqlite://state/greenroom.db");
        assert_eq!(config.log.format, LogFormat::Json);
        assert_eq!(config.projects.len(), 2);
        let first = &config.projects[0];
        assert_eq!(first.name.as_str(), "AllIncompassing");
        assert_eq!(first.deploy_method, DeployMethod::NetlifyBuild);
        assert_eq!(first.github.repo.owner(), "acme");
        assert_eq!(
            first.github.workflow, "ci.yml",
            "workflow defaults to ci.yml"
        );
        assert_eq!(first.github.deploy_job, "deploy-staging");
        assert_eq!(first.github.staging_branch.as_str(), "develop");
        let second = &config.projects[1];
        assert_eq!(second.github.workflow, "deploy.yml");
        assert_eq!(second.github.staging_branch.as_str(), "main");
        assert!(second.supabase.is_none());
        Ok(())
    });
}

#[test]
fn the_default_file_is_read_from_the_working_directory_when_present() {
    Jail::expect_with(|jail| {
        jail.create_file("greenroom.toml", "listen = \"127.0.0.1:4200\"\n")?;
        let config =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap();
        assert_eq!(config.listen.port(), 4200);
        assert_eq!(
            config.source_file.as_deref(),
            Some(Path::new("greenroom.toml"))
        );
        Ok(())
    });
}

#[test]
fn no_file_and_no_tokens_means_sandbox_mode_with_the_sandbox_project() {
    Jail::expect_with(|_jail| {
        let config =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap();
        assert_eq!(config.mode, Mode::Sandbox);
        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:3000/");
        assert_eq!(config.database_url, "sqlite://data/greenroom.db");
        assert_eq!(config.projects.len(), 1);
        assert_eq!(config.projects[0].name.as_str(), "AllIncompassing");
        Ok(())
    });
}

#[test]
fn an_unknown_key_is_named_with_its_path() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "bad.toml",
            &GOOD.replace("workflow = \"deploy.yml\"", "workflw = \"deploy.yml\""),
        )?;
        let err = load("bad.toml", live_tokens()).unwrap_err();
        let text = problem_text(&err);
        assert!(text.contains("`projects[1].github.workflw`"), "{text}");
        assert!(text.contains("unknown key"), "{text}");
        assert!(text.contains("bad.toml"), "names the file: {text}");
        Ok(())
    });
}

#[test]
fn a_value_of_the_wrong_type_is_named_with_what_was_expected() {
    Jail::expect_with(|jail| {
        jail.create_file("bad.toml", "listen = 3000\n")?;
        let text = problem_text(&load("bad.toml", Credentials::default()).unwrap_err());
        assert!(text.contains("`listen`"), "{text}");
        assert!(text.contains("wrong type"), "{text}");
        Ok(())
    });
}

#[test]
fn an_invalid_value_says_what_a_valid_one_looks_like() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "bad.toml",
            &GOOD.replace("repo = \"acme/marketing\"", "repo = \"marketing\""),
        )?;
        let text = problem_text(&load("bad.toml", live_tokens()).unwrap_err());
        assert!(text.contains("projects[1].github.repo"), "{text}");
        assert!(
            text.contains("write it as \\\"owner/name\\\"") || text.contains("owner/name"),
            "{text}"
        );
        Ok(())
    });
}

#[test]
fn a_missing_required_key_is_named() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "bad.toml",
            &GOOD.replace("production_site_id = \"mkt-production\"", ""),
        )?;
        let text = problem_text(&load("bad.toml", live_tokens()).unwrap_err());
        assert!(
            text.contains("`projects[1].netlify.production_site_id`"),
            "{text}"
        );
        assert!(text.contains("missing required key"), "{text}");
        Ok(())
    });
}

#[test]
fn malformed_toml_is_reported_with_the_file() {
    Jail::expect_with(|jail| {
        jail.create_file("bad.toml", "listen = \"127.0.0.1:3000\n[projects\n")?;
        let text = problem_text(&load("bad.toml", Credentials::default()).unwrap_err());
        assert!(text.contains("bad.toml"), "{text}");
        Ok(())
    });
}

#[test]
fn an_explicit_config_file_that_does_not_exist_is_an_error() {
    Jail::expect_with(|_jail| {
        let err = load("missing.toml", Credentials::default()).unwrap_err();
        assert!(matches!(err, ConfigError::Unreadable { .. }));
        assert!(err.to_string().contains("missing.toml"), "{err}");
        Ok(())
    });
}

#[test]
fn duplicate_project_names_are_refused() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "bad.toml",
            &GOOD.replace("name = \"marketing\"", "name = \"allincompassing\""),
        )?;
        let text = problem_text(&load("bad.toml", live_tokens()).unwrap_err());
        assert!(text.contains("projects[1].name"), "{text}");
        assert!(text.contains("used twice"), "{text}");
        Ok(())
    });
}

#[test]
fn an_unsupported_database_url_is_refused() {
    Jail::expect_with(|jail| {
        jail.create_file("bad.toml", "database_url = \"mysql://localhost/db\"\n")?;
        let text = problem_text(&load("bad.toml", Credentials::default()).unwrap_err());
        assert!(
            text.contains("`database_url`") && text.contains("\"mysql\""),
            "{text}"
        );
        Ok(())
    });
}

#[test]
fn artifact_caps_out_of_range_are_refused_and_the_defaults_are_the_issues() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "caps.toml",
            "[artifacts]\ndownload_mb = 0\nmax_ratio = 1\ncache_mb = 2048\n",
        )?;
        let err = load("caps.toml", Credentials::default()).unwrap_err();
        let keys: Vec<String> = err.problems().into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            ["artifacts.download_mb", "artifacts.max_ratio"],
            "{err}"
        );
        jail.create_file("ok.toml", "[artifacts]\ncache_mb = 10\n")?;
        let config = load("ok.toml", Credentials::default()).unwrap();
        assert_eq!(config.artifacts.cache_bytes(), 10 * 1024 * 1024);
        let limits = config.artifacts.limits();
        assert_eq!(limits, greenroom::artifacts::Limits::default());
        Ok(())
    });
}

#[test]
fn live_mode_names_every_missing_required_value() {
    Jail::expect_with(|jail| {
        jail.create_file("live.toml", "mode = \"live\"\n")?;
        let err = load("live.toml", Credentials::default()).unwrap_err();
        let keys: Vec<String> = err.problems().into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "public_url",
                "projects",
                "NETLIFY_AUTH_TOKEN",
                "GITHUB_TOKEN",
                "GITHUB_OAUTH_CLIENT_ID, GITHUB_OAUTH_CLIENT_SECRET",
                "auth.org"
            ],
            "{err}"
        );
        assert!(err.to_string().contains("required in live mode"), "{err}");
        Ok(())
    });
}

#[test]
fn a_vendor_token_in_the_environment_switches_auto_mode_to_live() {
    Jail::expect_with(|jail| {
        jail.create_file("greenroom.toml", "")?;
        let creds = Credentials {
            github_token: Some(Secret::new("ghp_x")),
            ..Credentials::default()
        };
        let err = load("greenroom.toml", creds).unwrap_err();
        let keys: Vec<String> = err.problems().into_iter().map(|p| p.key).collect();
        assert!(keys.contains(&"NETLIFY_AUTH_TOKEN".to_string()), "{err}");
        assert!(!keys.contains(&"GITHUB_TOKEN".to_string()), "{err}");
        Ok(())
    });
}

#[test]
fn environment_variables_override_the_file_and_flags_override_both() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "greenroom.toml",
            "listen = \"127.0.0.1:4100\"\ndata_dir = \"from-file\"\n",
        )?;
        jail.set_env("GREENROOM_DATA_DIR", "from-env");
        jail.set_env("GREENROOM_LISTEN", "127.0.0.1:4300");
        jail.set_env("GREENROOM_LOG__FORMAT", "json");
        jail.set_env("GREENROOM_SANDBOX_WORLD", "not-a-config-key.json");
        let config =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap();
        assert_eq!(config.data_dir, Path::new("from-env"));
        assert_eq!(config.listen.port(), 4300);
        assert_eq!(config.log.format, LogFormat::Json);

        let flags = Overrides {
            listen: Some("127.0.0.1:4400".parse().unwrap()),
            ..Overrides::default()
        };
        let config = Config::load_with(None, &flags, Credentials::default()).unwrap();
        assert_eq!(config.listen.port(), 4400);
        Ok(())
    });
}

#[test]
fn an_unknown_environment_variable_is_named_as_such() {
    Jail::expect_with(|jail| {
        jail.set_env("GREENROOM_LISTN", "127.0.0.1:1");
        let err =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap_err();
        let problem = &err.problems()[0];
        assert_eq!(problem.key, "GREENROOM_LISTN", "{err}");
        assert_eq!(problem.origin, "environment");
        Ok(())
    });
}

#[test]
fn credentials_come_from_the_environment_and_never_print() {
    let creds = Credentials::from_env(|k| match k {
        "GITHUB_TOKEN" => Some("ghp_canary_secret".into()),
        "NETLIFY_AUTH_TOKEN" => Some("   ".into()),
        _ => None,
    });
    assert!(creds.netlify_token.is_none(), "blank counts as unset");
    let printed = format!("{creds:?}");
    assert!(!printed.contains("canary"), "{printed}");
    assert!(printed.contains("****"), "{printed}");
}

#[test]
fn live_mode_refuses_a_plain_http_public_url_except_on_loopback() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "plain.toml",
            &GOOD.replace(
                "https://greenroom.example.com",
                "http://greenroom.example.com",
            ),
        )?;
        let err = load("plain.toml", live_tokens()).unwrap_err();
        let p = &err.problems()[0];
        assert_eq!(p.key, "public_url", "{err}");
        assert!(p.problem.contains("must be https"), "{err}");
        for loopback in [
            "http://127.0.0.1:3000",
            "http://localhost:3000",
            "http://[::1]:3000",
        ] {
            jail.create_file(
                "loopback.toml",
                &GOOD.replace("https://greenroom.example.com", loopback),
            )?;
            load("loopback.toml", live_tokens())
                .unwrap_or_else(|e| panic!("{loopback} is allowed: {e}"));
        }
        Ok(())
    });
}

#[test]
fn a_printed_config_hides_the_database_password() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "greenroom.toml",
            "database_url = \"postgres://greenroom:canary-db-password@db.internal:5432/gr?sslpassword=canary-q\"\n[vendors]\ngithub_api_url = \"https://proxy-user:canary-proxy@proxy.internal/github\"\n",
        )?;
        let config =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap();
        let printed = format!("{config:?} {config:#?}");
        assert!(!printed.contains("canary"), "{printed}");
        assert!(printed.contains("db.internal"), "{printed}");
        assert!(printed.contains("proxy.internal"), "{printed}");
        Ok(())
    });
}

#[test]
fn the_vendor_timeout_is_bounded() {
    Jail::expect_with(|jail| {
        jail.create_file("greenroom.toml", "vendor_timeout_ms = 1500\n")?;
        let config =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap();
        assert_eq!(config.vendor_timeout.as_millis(), 1500);
        jail.create_file("greenroom.toml", "vendor_timeout_ms = 10\n")?;
        let err =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap_err();
        assert_eq!(err.problems()[0].key, "vendor_timeout_ms", "{err}");
        Ok(())
    });
}

#[test]
fn the_request_timeout_outlasts_a_vendor_call_and_bodies_stay_under_2_mib() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "greenroom.toml",
            "vendor_timeout_ms = 20000\n[limits]\nrequest_timeout_secs = 20\n",
        )?;
        let err =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap_err();
        assert_eq!(
            err.problems()[0].key,
            "limits.request_timeout_secs",
            "{err}"
        );
        assert!(err.to_string().contains("vendor_timeout_ms"), "{err}");
        jail.create_file(
            "greenroom.toml",
            "vendor_timeout_ms = 20000\n[limits]\nrequest_timeout_secs = 21\nrequest_body_bytes = 2097152\n",
        )?;
        let config =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap();
        assert_eq!(config.limits.request_body_bytes, 2 * 1024 * 1024);
        jail.create_file("greenroom.toml", "[limits]\nrequest_body_bytes = 2097153\n")?;
        let err =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap_err();
        assert_eq!(err.problems()[0].key, "limits.request_body_bytes", "{err}");
        Ok(())
    });
}

#[test]
fn the_example_config_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("greenroom.example.toml");
    let config = Config::load_with(Some(&example), &Overrides::default(), live_tokens())
        .unwrap_or_else(|e| panic!("greenroom.example.toml must stay valid: {e}"));
    assert_eq!(config.projects[0].name.as_str(), "AllIncompassing");
}

#[test]
fn the_page_cache_lifetime_is_bounded() {
    Jail::expect_with(|jail| {
        jail.create_file("greenroom.toml", "page_cache_ms = 0\n")?;
        let config =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap();
        assert!(config.page_cache.is_zero());
        jail.create_file("greenroom.toml", "page_cache_ms = 600000\n")?;
        let err =
            Config::load_with(None, &Overrides::default(), Credentials::default()).unwrap_err();
        assert_eq!(err.problems()[0].key, "page_cache_ms", "{err}");
        Ok(())
    });
}

#[test]
fn vendor_urls_default_to_the_real_services_and_can_be_changed() {
    Jail::expect_with(|jail| {
        jail.create_file("greenroom.toml", GOOD)?;
        let config = load("greenroom.toml", live_tokens()).unwrap();
        assert_eq!(
            config.vendors.github_api_url.as_str(),
            "https://api.github.com/"
        );
        assert_eq!(
            config.vendors.netlify_api_url.as_str(),
            "https://api.netlify.com/api/v1"
        );
        jail.create_file(
            "ghe.toml",
            &format!("{GOOD}\n[vendors]\ngithub_api_url = \"https://ghe.example.com/api/v3\"\n"),
        )?;
        let config = load("ghe.toml", live_tokens()).unwrap();
        assert_eq!(
            config.vendors.github_api_url.as_str(),
            "https://ghe.example.com/api/v3"
        );
        assert_eq!(
            config.vendors.supabase_api_url.as_str(),
            "https://api.supabase.com/"
        );
        jail.create_file(
            "bad.toml",
            &format!("{GOOD}\n[vendors]\ngithub_api = \"https://x\"\n"),
        )?;
        let text = problem_text(&load("bad.toml", live_tokens()).unwrap_err());
        assert!(text.contains("vendors.github_api"), "{text}");
        Ok(())
    });
}

#[test]
fn auth_maps_teams_to_roles_and_sandbox_mode_uses_the_sandbox_teams() {
    use greenroom::domain::Role;
    Jail::expect_with(|jail| {
        jail.create_file("greenroom.toml", GOOD)?;
        let config = load("greenroom.toml", live_tokens()).unwrap();
        assert_eq!(config.auth.org, "acme");
        assert_eq!(config.auth.team_roles.get("platform"), Some(&Role::Admin));
        assert_eq!(config.auth.default_role, None);
        assert_eq!(config.auth.membership_check.as_secs(), 120);
        jail.create_file("sandbox.toml", "")?;
        let sandbox = load("sandbox.toml", Credentials::default()).unwrap();
        assert_eq!(sandbox.auth.org, "allincompassing");
        assert_eq!(
            sandbox.auth.team_roles.get("developers"),
            Some(&Role::Deployer)
        );
        assert_eq!(sandbox.auth.default_role, Some(Role::Viewer));
        jail.create_file("bad.toml", "[auth.team_roles]\nweb = \"owner\"\n")?;
        let text = problem_text(&load("bad.toml", Credentials::default()).unwrap_err());
        assert!(text.contains("auth.team_roles"), "{text}");
        jail.create_file("zero.toml", "[auth]\nsession_idle_secs = 0\n")?;
        let text = problem_text(&load("zero.toml", Credentials::default()).unwrap_err());
        assert!(text.contains("auth.session_idle_secs"), "{text}");
        Ok(())
    });
}

#[test]
fn sync_settings_have_defaults_bounds_and_an_environment_override() {
    Jail::expect_with(|jail| {
        jail.create_file("greenroom.toml", "")?;
        let config = load("greenroom.toml", Credentials::default()).expect("defaults");
        assert!(config.sync.enabled);
        assert_eq!(config.sync.interval_secs, 30);
        assert_eq!(config.sync.watch_interval_ms, 1000);

        jail.set_env("GREENROOM_SYNC__INTERVAL_SECS", "5");
        let config = load("greenroom.toml", Credentials::default()).expect("env override");
        assert_eq!(config.sync.interval_secs, 5);
        jail.clear_env();

        jail.create_file(
            "bad.toml",
            "[sync]\ninterval_secs = 0\nwatch_interval_ms = 10\nenabled = true\n",
        )?;
        let text = problem_text(&load("bad.toml", Credentials::default()).unwrap_err());
        assert!(
            text.contains("`sync.interval_secs`") && text.contains("between 1 and 3600"),
            "{text}"
        );
        assert!(
            text.contains("`sync.watch_interval_ms`") && text.contains("between 200 and 60000"),
            "{text}"
        );
        Ok(())
    });
}
