//! The engine over hand-built stores: every cell state, the precedence
//! rules, the verdicts and every finding.

use super::*;
use crate::config::{sandbox_project, RequiredSecret};
use crate::secrets::discover::dotenv;
use crate::secrets::findings::Severity;
use crate::secrets::sources::{GithubSecret, GithubVariable, NetlifyValue, RepoFiles, RepoText};
use crate::Secret;

const SERVICE_JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJvbGUiOiJzZXJ2aWNlX3JvbGUifQ.c2ln";

fn nv(key: &str, secret: bool, values: &[(&str, Option<&str>, &str)]) -> NetlifyVar {
    NetlifyVar {
        key: key.into(),
        is_secret: secret,
        scopes: vec![],
        values: values
            .iter()
            .map(|(c, p, v)| NetlifyValue {
                context: ValueContext::parse(c, *p).unwrap(),
                value: (!secret).then(|| Secret::new(*v)),
            })
            .collect(),
        updated_at: Some("2026-11-01T10:00:00Z".into()),
        updated_by: Some("Ada Admin".into()),
    }
}

fn gs(name: &str, at: &str) -> GithubSecret {
    GithubSecret {
        name: name.into(),
        updated_at: Some(at.into()),
    }
}

fn no_files() -> RepoFiles {
    RepoFiles {
        workflow: vec![],
        netlify_toml: Read::Got(None),
        env_example: Read::Got(None),
    }
}

fn sources(prod: Vec<NetlifyVar>, staging: Vec<NetlifyVar>) -> Sources {
    Sources {
        netlify: vec![
            (Site::Production, Read::Got(prod)),
            (Site::Staging, Read::Got(staging)),
        ],
        netlify_site_names: [(Site::Production, "app".to_string())]
            .into_iter()
            .collect(),
        repo_secrets: Read::Got(vec![]),
        org_secrets: Read::Got(vec![]),
        environment_secrets: [("staging".to_string(), Read::Got(vec![]))]
            .into_iter()
            .collect(),
        repo_variables: Read::Got(vec![]),
        org_variables: Read::Got(vec![]),
        environment_variables: BTreeMap::new(),
        files: no_files(),
    }
}

/// A project requiring exactly `required`.
fn project(required: &[(&str, &[&str])]) -> Project {
    let mut p = sandbox_project();
    p.secrets.required = Some(
        required
            .iter()
            .map(|(k, l)| RequiredSecret {
                key: k.to_string(),
                locations: l.iter().map(|s| s.to_string()).collect(),
            })
            .collect(),
    );
    p
}

fn run(p: &Project, s: &Sources, env: Option<&EnvFile>) -> Coverage {
    let key = FingerprintKey::new(vec![7; 32]);
    coverage(&Check {
        project: p,
        sources: s,
        env_local: env,
        key: &key,
    })
}

fn cell<'a>(c: &'a Coverage, key: &str, column: &str) -> &'a Cell {
    let col = c
        .columns
        .iter()
        .position(|x| x.label == column)
        .unwrap_or_else(|| {
            panic!(
                "no column {column}: {:?}",
                c.columns.iter().map(|c| &c.label).collect::<Vec<_>>()
            )
        });
    &c.rows
        .iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("no row {key}"))
        .cells[col]
}

fn row<'a>(c: &'a Coverage, key: &str) -> &'a Row {
    c.rows.iter().find(|r| r.key == key).unwrap()
}

fn finding<'a>(c: &'a Coverage, id_prefix: &str) -> Option<&'a Finding> {
    c.findings.iter().find(|f| f.id.starts_with(id_prefix))
}

#[test]
fn every_cell_state_and_the_verdicts_that_follow() {
    let p = project(&[
        ("A_READABLE", &["netlify:production"]),
        ("B_SECRET", &["netlify:production"]),
        ("C_EMPTY", &["netlify:production"]),
        ("D_ABSENT", &["netlify:production"]),
        ("E_UNKNOWN", &["netlify:staging"]),
    ]);
    let mut s = sources(
        vec![
            nv("A_READABLE", false, &[("all", None, "one")]),
            nv("B_SECRET", true, &[("production", None, "")]),
            nv("C_EMPTY", false, &[("production", None, "changeme")]),
        ],
        vec![],
    );
    s.netlify[1].1 = Read::Unknown("Netlify refused getEnvVars (403)".into());
    let c = run(&p, &s, None);
    let prod = "Netlify production site: production";
    assert_eq!(
        cell(&c, "A_READABLE", prod),
        &Cell::Readable {
            group: Some("A".into())
        }
    );
    assert_eq!(
        cell(&c, "B_SECRET", prod),
        &Cell::WriteOnly {
            updated_at: Some("2026-11-01T10:00:00Z".into()),
            updated_by: Some("Ada Admin".into())
        }
    );
    assert_eq!(
        cell(&c, "C_EMPTY", prod),
        &Cell::Placeholder {
            kind: Placeholder::StandIn
        }
    );
    assert_eq!(cell(&c, "D_ABSENT", prod), &Cell::Absent);
    assert!(matches!(
        cell(&c, "E_UNKNOWN", "Netlify staging site: branch staging"),
        Cell::Unknown { reason } if reason.contains("403")
    ));
    let verdict = |k: &str| row(&c, k).needs[0].verdict;
    assert_eq!(verdict("A_READABLE"), Verdict::Present);
    assert_eq!(verdict("B_SECRET"), Verdict::Present);
    assert_eq!(verdict("C_EMPTY"), Verdict::Empty);
    assert_eq!(verdict("D_ABSENT"), Verdict::Missing);
    assert_eq!(verdict("E_UNKNOWN"), Verdict::Unknown);
    assert_eq!(c.outcome, Outcome::Missing);
    assert!(c.unread.iter().any(|u| u.source.contains("staging site")));
}

#[test]
fn unknown_is_never_reported_as_missing() {
    let p = project(&[("TOKEN", &["github:staging"])]);
    let mut s = sources(vec![], vec![]);
    s.environment_secrets.insert(
        "staging".into(),
        Read::Unknown("GitHub refused (403): needs the secrets permission".into()),
    );
    s.repo_secrets = Read::Unknown("GitHub refused (403)".into());
    s.org_secrets = Read::Got(vec![]);
    let c = run(&p, &s, None);
    assert_eq!(row(&c, "TOKEN").needs[0].verdict, Verdict::Unknown);
    assert_eq!(c.outcome, Outcome::Unchecked);
    assert_eq!(c.outcome.exit_code(), 2);
    assert!(finding(&c, "missing:").is_none());

    // Found at a later level, it is present whatever the unreadable one holds.
    s.org_secrets = Read::Got(vec![gs("token", "2026-10-01T00:00:00Z")]);
    let c = run(&p, &s, None);
    assert_eq!(row(&c, "TOKEN").needs[0].verdict, Verdict::Present);
    assert_eq!(c.outcome, Outcome::Ok);
}

#[test]
fn netlify_precedence_decides_each_context() {
    let p = project(&[(
        "URL",
        &[
            "netlify:staging",
            "netlify:staging-site/branch-deploy",
            "netlify:production",
        ],
    )]);
    let s = sources(
        vec![nv(
            "URL",
            false,
            &[("all", None, "everywhere"), ("production", None, "prod")],
        )],
        vec![nv(
            "URL",
            false,
            &[
                ("branch-deploy", None, "branches"),
                ("branch", Some("staging"), "staging-own"),
            ],
        )],
    );
    let c = run(&p, &s, None);
    let g = |col: &str| match cell(&c, "URL", col) {
        Cell::Readable { group } => group.clone().unwrap(),
        other => panic!("{other:?}"),
    };
    // Production's own value wins over all; deploy previews fall back to all.
    assert_ne!(
        g("Netlify production site: production"),
        g("Netlify production site: deploy-preview")
    );
    // A branch context's own value beats branch-deploy.
    assert_ne!(
        g("Netlify staging site: branch staging"),
        g("Netlify staging site: branch-deploy")
    );
    assert_eq!(c.outcome, Outcome::Ok);
}

#[test]
fn github_resolves_environment_then_repository_then_organization_ignoring_case() {
    let p = project(&[("DEPLOY_TOKEN", &["github:staging"])]);
    let mut s = sources(vec![], vec![]);
    s.repo_secrets = Read::Got(vec![gs("deploy_token", "2026-11-01T00:00:00Z")]);
    let c = run(&p, &s, None);
    let need = &row(&c, "DEPLOY_TOKEN").needs[0];
    assert_eq!(need.verdict, Verdict::Present);
    assert_eq!(
        need.columns
            .iter()
            .map(|&i| c.columns[i].label.as_str())
            .collect::<Vec<_>>(),
        [
            "GitHub secrets: environment staging",
            "GitHub secrets: repository",
            "GitHub secrets: organization"
        ]
    );
    assert!(matches!(
        cell(&c, "DEPLOY_TOKEN", "GitHub secrets: repository"),
        Cell::WriteOnly { .. }
    ));
}

#[test]
fn rows_are_grouped_required_discovered_then_unrequired() {
    let p = project(&[("REQ", &["github"])]);
    let mut s = sources(vec![nv("EXTRA", false, &[("all", None, "x")])], vec![]);
    s.files.workflow = vec![Read::Got(Some(RepoText {
        path: ".github/workflows/ci.yml".into(),
        reference: "develop".into(),
        text: "jobs:\n  deploy:\n    environment: staging\n    steps:\n      - run: echo ${{ secrets.FROM_CI }}\n".into(),
    }))];
    let c = run(&p, &s, None);
    let order: Vec<(&str, RowGroup)> = c.rows.iter().map(|r| (r.key.as_str(), r.group)).collect();
    assert_eq!(
        order,
        [
            ("REQ", RowGroup::Required),
            ("FROM_CI", RowGroup::Discovered),
            ("EXTRA", RowGroup::Unrequired)
        ]
    );
    assert_eq!(row(&c, "FROM_CI").needs[0].origin, "ci.yml:5 (job deploy)");
    assert_eq!(row(&c, "FROM_CI").needs[0].target, "github:staging");
}

#[test]
fn the_same_value_gets_the_same_letter_and_no_value_leaves_the_engine() {
    let p = project(&[(
        "DEFAULT_ORGANIZATION_ID",
        &["netlify:production", "env-local"],
    )]);
    let canary = "org-canary-5b0c1d";
    let other = "org-other-77aa";
    let s = sources(
        vec![nv(
            "DEFAULT_ORGANIZATION_ID",
            false,
            &[
                ("production", None, canary),
                ("deploy-preview", None, other),
            ],
        )],
        vec![nv(
            "DEFAULT_ORGANIZATION_ID",
            false,
            &[("branch-deploy", None, canary)],
        )],
    );
    let env = dotenv::parse(".env.local", &format!("DEFAULT_ORGANIZATION_ID={other}\n"));
    let c = run(&p, &s, Some(&env));
    let g = |col: &str| cell(&c, "DEFAULT_ORGANIZATION_ID", col).clone();
    assert_eq!(
        g("Netlify production site: production"),
        g("Netlify staging site: branch-deploy")
    );
    assert_eq!(
        g(".env.local"),
        g("Netlify production site: deploy-preview")
    );
    assert_ne!(g(".env.local"), g("Netlify production site: production"));
    let f = finding(&c, "inconsistent:DEFAULT_ORGANIZATION_ID").expect("inconsistency found");
    assert_eq!(f.severity, Severity::High);
    let json = serde_json::to_string(&c).unwrap();
    for needle in [canary, other] {
        assert!(!json.contains(needle), "a value leaked into the coverage");
    }
    assert!(!format!("{c:?}").contains(canary));
}

#[test]
fn placeholders_include_the_env_example_sample() {
    let p = project(&[("API_URL", &["env-local"]), ("API_KEY", &["env-local"])]);
    let mut s = sources(vec![], vec![]);
    s.files.env_example = Read::Got(Some(RepoText {
        path: ".env.example".into(),
        reference: "main".into(),
        text: "API_URL=http://localhost:3000\nAPI_KEY=\n".into(),
    }));
    let env = dotenv::parse(".env.local", "API_URL=http://localhost:3000\nAPI_KEY=''\n");
    let c = run(&p, &s, Some(&env));
    assert_eq!(
        cell(&c, "API_URL", ".env.local"),
        &Cell::Placeholder {
            kind: Placeholder::Sample
        }
    );
    assert_eq!(
        cell(&c, "API_KEY", ".env.local"),
        &Cell::Placeholder {
            kind: Placeholder::Empty
        }
    );
    assert_eq!(c.outcome, Outcome::Missing);
    assert_eq!(
        finding(&c, "empty:API_KEY").unwrap().severity,
        Severity::High
    );
}

#[test]
fn without_an_env_local_its_requirements_are_not_checked() {
    let p = project(&[("ONLY_LOCAL", &["env-local"])]);
    let c = run(&p, &sources(vec![], vec![]), None);
    assert!(!c.env_local_checked);
    assert!(c
        .columns
        .iter()
        .all(|col| col.location != Location::EnvLocal));
    assert_eq!(c.outcome, Outcome::Ok);
}

#[test]
fn a_service_role_key_in_a_vite_variable_is_the_worst_finding() {
    let p = project(&[]);
    let s = sources(
        vec![nv(
            "VITE_SUPABASE_KEY",
            false,
            &[("all", None, SERVICE_JWT)],
        )],
        vec![],
    );
    let c = run(&p, &s, None);
    let f = &c.findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.id, "service-role-exposed:VITE_SUPABASE_KEY");
    assert!(f
        .fix
        .as_deref()
        .unwrap()
        .starts_with("https://app.netlify.com/sites/app/"));
    assert!(!serde_json::to_string(&c).unwrap().contains(SERVICE_JWT));
}

#[test]
fn a_service_role_key_stored_readable_and_a_vite_key_outside_builds_are_flagged() {
    let p = project(&[]);
    let mut vite = nv("VITE_API", false, &[("all", None, "https://api")]);
    vite.scopes = vec!["functions".into()];
    let mut service = nv(
        "SUPABASE_SERVICE_ROLE_KEY",
        false,
        &[("production", None, SERVICE_JWT)],
    );
    service.scopes = vec!["functions".into(), "runtime".into()];
    let mut s = sources(vec![service, vite], vec![]);
    let c = run(&p, &s, None);
    assert_eq!(
        finding(&c, "readable-secret:SUPABASE_SERVICE_ROLE_KEY")
            .unwrap()
            .severity,
        Severity::Medium
    );
    assert!(finding(&c, "service-role-exposed:").is_none());
    assert!(finding(&c, "no-builds-scope:VITE_API").is_some());
    // Readable in the builds scope: exposed, whatever its name.
    if let Read::Got(vars) = &mut s.netlify[0].1 {
        vars[0].scopes = vec!["builds".into()];
    }
    let c = run(&p, &s, None);
    assert_eq!(
        finding(&c, "service-role-exposed:SUPABASE_SERVICE_ROLE_KEY")
            .unwrap()
            .severity,
        Severity::Critical
    );
    assert!(finding(&c, "readable-secret:").is_none());
}

#[test]
fn a_secret_rotated_in_one_place_only_is_noticed_by_its_dates() {
    let p = project(&[("SUPABASE_ACCESS_TOKEN", &["github"])]);
    let mut s = sources(vec![], vec![]);
    s.repo_secrets = Read::Got(vec![gs("SUPABASE_ACCESS_TOKEN", "2026-11-20T00:00:00Z")]);
    s.environment_secrets.insert(
        "staging".into(),
        Read::Got(vec![gs("SUPABASE_ACCESS_TOKEN", "2026-03-02T00:00:00Z")]),
    );
    let c = run(&p, &s, None);
    let f = finding(&c, "rotation-drift:SUPABASE_ACCESS_TOKEN").unwrap();
    assert_eq!(f.severity, Severity::Low);
    assert!(f.detail.contains("environment staging"), "{}", f.detail);
    assert!(f.detail.contains("2026-11-20"));

    s.environment_secrets.insert(
        "staging".into(),
        Read::Got(vec![gs("SUPABASE_ACCESS_TOKEN", "2026-11-02T00:00:00Z")]),
    );
    assert!(finding(&run(&p, &s, None), "rotation-drift").is_none());
}

#[test]
fn scanning_switched_off_or_skipping_required_keys_is_flagged() {
    let p = project(&[("SUPABASE_ANON_KEY", &["netlify:production"])]);
    let mut s = sources(vec![], vec![]);
    s.files.netlify_toml = Read::Got(Some(RepoText {
        path: "netlify.toml".into(),
        reference: "main".into(),
        text: "[build.environment]\nSECRETS_SCAN_ENABLED = \"false\"\n[context.production.environment]\nSECRETS_SCAN_OMIT_KEYS = \"SUPABASE_ANON_KEY,OTHER\"\n".into(),
    }));
    let c = run(&p, &s, None);
    assert_eq!(
        finding(&c, "scan-disabled").unwrap().severity,
        Severity::High
    );
    assert!(finding(&c, "scan-omits")
        .unwrap()
        .detail
        .contains("SUPABASE_ANON_KEY"));
    assert!(!finding(&c, "scan-omits").unwrap().detail.contains("OTHER"));
}

#[test]
fn a_malformed_file_is_a_finding_and_the_rest_still_renders() {
    let p = project(&[("SUPABASE_URL", &["netlify:production"])]);
    let mut s = sources(
        vec![nv(
            "SUPABASE_URL",
            false,
            &[("all", None, "https://x.supabase.co")],
        )],
        vec![],
    );
    s.files.netlify_toml = Read::Got(Some(RepoText {
        path: "netlify.toml".into(),
        reference: "main".into(),
        text: "[build]\ncommand = \"npm run build\"\n[context.staging\n".into(),
    }));
    s.files.workflow = vec![Read::Unknown(
        "GitHub refused repos/get-content (403)".into(),
    )];
    let c = run(&p, &s, None);
    let f = finding(&c, "malformed:netlify.toml").unwrap();
    assert!(f.detail.contains("netlify.toml:3"), "{}", f.detail);
    assert_eq!(row(&c, "SUPABASE_URL").needs[0].verdict, Verdict::Present);
    assert!(finding(&c, "unread:workflow").is_some());
    // Requirements in a file that could not be read are not known.
    assert_eq!(c.outcome, Outcome::Unchecked);
}

#[test]
fn findings_come_worst_first_and_links_point_at_the_stores() {
    let p = project(&[("MISSING", &["github:staging"])]);
    let s = sources(
        vec![nv("VITE_KEY", false, &[("all", None, SERVICE_JWT)])],
        vec![],
    );
    let c = run(&p, &s, None);
    let severities: Vec<Severity> = c.findings.iter().map(|f| f.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort();
    assert_eq!(severities, sorted);
    let missing = finding(&c, "missing:MISSING").unwrap();
    assert_eq!(
        missing.fix.as_deref(),
        Some("https://github.com/allincompassing/allincompassing/settings/environments")
    );
}

#[test]
fn one_shared_site_makes_one_set_of_netlify_columns() {
    let p = project(&[("K", &["netlify:staging"])]);
    let mut s = sources(
        vec![nv("K", false, &[("branch-deploy", None, "v")])],
        vec![],
    );
    s.netlify.truncate(1);
    let c = run(&p, &s, None);
    assert!(c
        .columns
        .iter()
        .all(|col| !col.label.contains("staging site")));
    assert_eq!(row(&c, "K").needs[0].verdict, Verdict::Present);
    assert!(c
        .columns
        .iter()
        .any(|col| col.label == "Netlify branch staging"));
}

#[test]
fn a_value_in_netlify_toml_is_what_the_build_gets() {
    let p = project(&[(
        "API_URL",
        &[
            "netlify:production",
            "netlify:production-site/deploy-preview",
        ],
    )]);
    let mut s = sources(
        vec![nv("API_URL", false, &[("all", None, "https://ui")])],
        vec![],
    );
    s.files.netlify_toml = Read::Got(Some(RepoText {
        path: "netlify.toml".into(),
        reference: "main".into(),
        text: "[context.production.environment]\nAPI_URL = \"https://file\"\n".into(),
    }));
    let c = run(&p, &s, None);
    assert_ne!(
        cell(&c, "API_URL", "Netlify production site: production"),
        cell(&c, "API_URL", "Netlify production site: deploy-preview")
    );
    assert_eq!(c.outcome, Outcome::Ok);
    // A file that does not parse leaves the check unchecked, not passed.
    s.files.netlify_toml = Read::Got(Some(RepoText {
        path: "netlify.toml".into(),
        reference: "main".into(),
        text: "[context.production\n".into(),
    }));
    assert_eq!(run(&p, &s, None).outcome, Outcome::Unchecked);
}

#[test]
fn a_job_whose_environment_is_an_expression_may_be_served_by_any_environment() {
    let p = project(&[]);
    let mut s = sources(vec![], vec![]);
    s.files.workflow = vec![Read::Got(Some(RepoText {
        path: ".github/workflows/ci.yml".into(),
        reference: "main".into(),
        text: "jobs:\n  deploy:\n    environment: ${{ inputs.target }}\n    steps:\n      - run: echo ${{ secrets.DYN }}\n".into(),
    }))];
    s.environment_secrets
        .insert("Production".into(), Read::Got(vec![]));
    for e in ["Production", "staging"] {
        s.environment_variables.insert(e.into(), Read::Got(vec![]));
    }
    let verdict = |s: &Sources| row(&run(&p, s, None), "DYN").needs[0].verdict;
    assert_eq!(verdict(&s), Verdict::Missing);
    s.environment_secrets.insert(
        "staging".into(),
        Read::Got(vec![gs("DYN", "2026-11-01T00:00:00Z")]),
    );
    assert_eq!(
        verdict(&s),
        Verdict::Unknown,
        "held in one environment of two"
    );
    s.environment_secrets.insert(
        "Production".into(),
        Read::Got(vec![gs("dyn", "2026-11-01T00:00:00Z")]),
    );
    assert_eq!(verdict(&s), Verdict::Present);
}

#[test]
fn organization_variables_end_the_chain_and_environment_names_ignore_case() {
    let p = project(&[("REGION", &["github-vars:Staging"])]);
    let mut s = sources(vec![], vec![]);
    s.org_variables = Read::Got(vec![
        GithubVariable {
            name: "REGION".into(),
            value: Secret::new("eu"),
            updated_at: None,
        },
        GithubVariable {
            name: "ORG_ONLY".into(),
            value: Secret::new("x"),
            updated_at: None,
        },
    ]);
    let c = run(&p, &s, None);
    assert_eq!(row(&c, "REGION").needs[0].verdict, Verdict::Present);
    // A variable only the organization holds is a row too.
    assert_eq!(row(&c, "ORG_ONLY").group, RowGroup::Unrequired);
    // "Staging" and "staging" are one environment, one column.
    assert_eq!(
        c.columns
            .iter()
            .filter(|col| col.label.to_lowercase() == "github secrets: environment staging")
            .count(),
        1
    );
}

#[test]
fn netlify_keys_are_case_sensitive_and_github_names_are_not() {
    let p = project(&[("API_KEY", &["netlify:production", "github"])]);
    let mut s = sources(vec![nv("api_key", false, &[("all", None, "x")])], vec![]);
    s.repo_secrets = Read::Got(vec![gs("API_KEY", "2026-11-01T00:00:00Z")]);
    let c = run(&p, &s, None);
    let r = row(&c, "API_KEY");
    // Netlify's `api_key` is another variable: API_KEY is missing there.
    assert_eq!(r.needs[0].verdict, Verdict::Missing);
    assert_eq!(r.needs[1].verdict, Verdict::Present);
    assert_eq!(row(&c, "api_key").group, RowGroup::Unrequired);
    assert_eq!(
        c.rows
            .iter()
            .filter(|r| r.key.eq_ignore_ascii_case("api_key"))
            .count(),
        2
    );
}
