//! The seeded world: a year of the team's work, the same for the same seed.
//!
//! Every push to `develop` runs `ci.yml`: a `build` job, then `deploy-staging`,
//! which deploys to the staging site with the Netlify CLI, smoke-tests it and
//! uploads the smoke artifacts. Releases build the production site from
//! `main`; pull requests get deploy previews. Failures, cancellations and
//! the fixes that follow them happen at realistic rates. Env vars, secrets
//! and variables have the gaps and mismatches a real team accumulates.

use crate::model::*;
use crate::util::{Rng, DAY_MS};
use crate::world::World;

const HOUR_MS: i64 = 3_600_000;
const SEC: i64 = 1_000;

/// How long the seeded history reaches back.
pub const HISTORY_DAYS: i64 = 365;

/// Artifacts expire this long after upload, as GitHub's default retention.
pub const ARTIFACT_RETENTION_MS: i64 = 90 * DAY_MS;

const MESSAGES: &[&str] = &[
    "Fix session refresh on the dashboard",
    "Add organization switcher to the header",
    "Bump @supabase/supabase-js",
    "Tighten RLS policy for invoices",
    "Cache runtime config for five minutes",
    "Show billing usage chart",
    "Refactor auth guard into a hook",
    "Lazy-load the reports page",
    "Fix typo in onboarding email",
    "Add e2e smoke for sign-in",
    "Move API base URL to runtime config",
    "Handle expired invite links",
    "Paginate the audit log",
    "Upgrade Vite",
    "Add empty state to projects list",
    "Fix timezone in weekly digest",
    "Retry Supabase reads on 503",
    "Remove unused feature flag",
    "Add CSV export to reports",
    "Improve dashboard load time",
];

const AUTHORS: &[&str] = &["dev-deployer", "ada-admin", "mara-lopez", "tobi-okafor"];

const BUILD_FAILURES: &[&str] = &[
    "Build script returned non-zero exit code: 2",
    "Failed during stage 'building site': Build script returned non-zero exit code: 1",
    "Deploy directory 'dist' does not exist",
];

/// Everything the world file may leave out, generated.
pub struct Generated {
    pub deploys: Vec<Deploy>,
    pub env: Vec<EnvVar>,
    pub build_hooks: Vec<BuildHook>,
    pub runs: Vec<Run>,
    pub commits: Vec<Commit>,
    pub secrets: Vec<SecretName>,
    pub variables: Vec<Variable>,
    pub files: Vec<RepoFile>,
    pub branches: Vec<Branch>,
}

/// Ids and names the planners need.
#[derive(Debug, Clone)]
pub struct Names {
    pub staging_site: String,
    pub production_site: String,
    pub deploy_job: String,
}

impl Names {
    pub fn of(world: &World) -> Self {
        Self {
            staging_site: world.netlify.staging_site_id.clone(),
            production_site: world.netlify.production_site_id.clone(),
            deploy_job: world.github.deploy_job.clone(),
        }
    }
}

/// A Netlify deploy id: creation seconds in hex, then random digits.
pub fn deploy_id(rng: &mut Rng, created_ms: i64) -> String {
    format!("{:08x}{}", created_ms / 1000, rng.hex(16))
}

/// Outcomes a new plan should have; seeded draws unless forced.
#[derive(Debug, Clone, Copy)]
pub struct RunOutcomes {
    pub build: Outcome,
    pub netlify: Outcome,
    pub smoke: Outcome,
}

impl RunOutcomes {
    pub fn draw(rng: &mut Rng) -> Self {
        let o = |ok: bool| {
            if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            }
        };
        Self {
            build: o(!rng.chance(0.05)),
            netlify: o(!rng.chance(0.06)),
            smoke: o(!rng.chance(0.08)),
        }
    }
}

fn step(name: &str, at: &mut i64, secs: (i64, i64), rng: &mut Rng, pace: f64, ok: bool) -> Step {
    let len = (rng.range(secs.0 as u64, secs.1 as u64 + 1) as i64 * SEC) as f64 * pace;
    let started = *at;
    *at += (len as i64).max(1);
    Step {
        name: name.into(),
        started_ms: started,
        completed_ms: *at,
        outcome: if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        },
    }
}

/// Steps of a job, stopping after the first failure (GitHub skips the rest)
/// but always completing the job.
fn job_steps(
    plan: &[(&str, (i64, i64), bool)],
    at: &mut i64,
    rng: &mut Rng,
    pace: f64,
) -> Vec<Step> {
    let mut steps = vec![step("Set up job", at, (1, 4), rng, pace, true)];
    for (name, secs, ok) in plan {
        steps.push(step(name, at, *secs, rng, pace, *ok));
        if !ok {
            break;
        }
    }
    steps.push(step("Complete job", at, (0, 1), rng, pace, true));
    steps
}

/// Plans one run of `ci.yml` starting at `start`: the `build` job, then the
/// deploy job, which makes a Netlify deploy of the staging site and uploads
/// smoke artifacts. `pace` scales every duration (1.0 = real time).
#[allow(clippy::too_many_arguments)]
pub fn plan_run(
    rng: &mut Rng,
    names: &Names,
    id: u64,
    run_number: u64,
    event: &str,
    commit: &Commit,
    actor: &str,
    start: i64,
    pace: f64,
    outcomes: RunOutcomes,
) -> (Run, Option<Deploy>) {
    let build_ok = outcomes.build == Outcome::Success;
    let mut at = start + ((rng.range(3, 20) as i64 * SEC) as f64 * pace) as i64;
    let build_steps = job_steps(
        &[
            ("Checkout", (1, 4), true),
            ("Setup Node", (3, 12), true),
            ("npm ci", (25, 70), true),
            ("npm run lint", (10, 30), true),
            ("npm run build", (40, 120), build_ok),
        ],
        &mut at,
        rng,
        pace,
    );
    let mut jobs = vec![Job {
        id: id * 10 + 1,
        name: "build".into(),
        runner: format!("GitHub Actions {}", rng.range(2, 90)),
        steps: build_steps,
    }];
    let mut deploy = None;
    let mut artifacts = Vec::new();
    let mut deploy_steps = Vec::new();
    if build_ok {
        at += ((rng.range(3, 15) as i64 * SEC) as f64 * pace) as i64;
        let netlify_ok = outcomes.netlify == Outcome::Success;
        let smoke_ok = outcomes.smoke == Outcome::Success;
        let mut before_deploy = job_steps(
            &[
                ("Checkout", (1, 4), true),
                ("Setup Node", (3, 12), true),
                ("Check required secrets", (1, 2), true),
                ("npm ci", (25, 70), true),
                ("npm run build", (40, 120), true),
            ],
            &mut at,
            rng,
            pace,
        );
        let complete = before_deploy
            .pop()
            .expect("job_steps ends with Complete job");
        at = complete.started_ms;
        let deploy_step = step(
            "Deploy to Netlify (staging)",
            &mut at,
            (30, 110),
            rng,
            pace,
            netlify_ok,
        );
        let d_start = deploy_step.started_ms;
        let d_len = deploy_step.completed_ms - d_start;
        deploy = Some(Deploy {
            id: deploy_id(rng, d_start),
            site_id: names.staging_site.clone(),
            build_id: rng.hex(24),
            context: "branch-deploy".into(),
            branch: commit.branch.clone(),
            commit_ref: commit.sha.clone(),
            title: commit.message.clone(),
            created_ms: d_start,
            building_ms: d_start + d_len / 10,
            processing_ms: d_start + d_len * 7 / 10,
            done_ms: deploy_step.completed_ms,
            outcome: outcomes.netlify,
            error_message: (!netlify_ok).then(|| rng.pick(BUILD_FAILURES).to_string()),
            review_id: None,
            cancelled_ms: None,
            restored_ms: None,
            locked: false,
        });
        before_deploy.push(deploy_step);
        if netlify_ok {
            before_deploy.push(step(
                "Smoke test staging",
                &mut at,
                (20, 60),
                rng,
                pace,
                smoke_ok,
            ));
            let upload = step("Upload smoke artifacts", &mut at, (2, 6), rng, pace, true);
            artifacts.push(Artifact {
                id: id * 10 + 5,
                name: "smoke-results".into(),
                created_ms: upload.completed_ms,
                expires_ms: upload.completed_ms + ARTIFACT_RETENTION_MS,
                smoke_passed: smoke_ok,
                shape: Default::default(),
            });
            before_deploy.push(upload);
        }
        before_deploy.push(step("Complete job", &mut at, (0, 1), rng, pace, true));
        deploy_steps = before_deploy;
    }
    jobs.push(Job {
        id: id * 10 + 2,
        name: names.deploy_job.clone(),
        runner: format!("GitHub Actions {}", rng.range(2, 90)),
        steps: deploy_steps,
    });
    let run = Run {
        id,
        run_number,
        run_attempt: 1,
        event: event.into(),
        branch: commit.branch.clone(),
        head_sha: commit.sha.clone(),
        title: commit.message.clone(),
        actor: actor.into(),
        created_ms: start,
        jobs,
        artifacts,
        cancelled_ms: None,
    };
    (run, deploy)
}

/// A Netlify build of a site straight from git (production and previews).
#[allow(clippy::too_many_arguments)]
pub fn plan_git_deploy(
    rng: &mut Rng,
    site_id: &str,
    context: &str,
    branch: &str,
    commit_ref: &str,
    title: &str,
    start: i64,
    pace: f64,
    outcome: Outcome,
) -> Deploy {
    let scale = |secs: u64| ((secs as i64 * SEC) as f64 * pace) as i64;
    let building = start + scale(rng.range(3, 25)).max(1);
    let processing = building + scale(rng.range(60, 200)).max(1);
    let done = processing + scale(rng.range(8, 40)).max(1);
    Deploy {
        id: deploy_id(rng, start),
        site_id: site_id.into(),
        build_id: rng.hex(24),
        context: context.into(),
        branch: branch.into(),
        commit_ref: commit_ref.into(),
        title: title.into(),
        created_ms: start,
        building_ms: building,
        processing_ms: processing,
        done_ms: done,
        outcome,
        error_message: (outcome == Outcome::Failure).then(|| rng.pick(BUILD_FAILURES).to_string()),
        review_id: None,
        cancelled_ms: None,
        restored_ms: None,
        locked: false,
    }
}

pub fn first_run_id() -> u64 {
    7_100_000_000
}

pub fn generate(world: &World, anchor_ms: i64) -> Generated {
    let names = Names::of(world);
    let mut rng = Rng::derive(world.seed, "history");
    let start_day = anchor_ms - HISTORY_DAYS * DAY_MS;
    let mut deploys = Vec::new();
    let mut runs = Vec::new();
    let mut commits = Vec::new();
    let mut pr_number = 100u64;
    let mut run_id = first_run_id();
    for day in 0..HISTORY_DAYS {
        let day_ms = start_day + day * DAY_MS;
        let weekday = (day_ms.div_euclid(DAY_MS) + 4).rem_euclid(7); // 0 = Sunday
        let workday = (1..=5).contains(&weekday);
        let pushes = if workday {
            rng.range(1, 6)
        } else {
            u64::from(rng.chance(0.2))
        };
        let mut times: Vec<i64> = (0..pushes)
            .map(|_| day_ms + 8 * HOUR_MS + rng.range(0, 10 * 3600) as i64 * SEC)
            .collect();
        times.sort_unstable();
        for t in times {
            let commit = Commit {
                sha: rng.hex(40),
                branch: "develop".into(),
                message: rng.pick(MESSAGES).to_string(),
                author: rng.pick(AUTHORS).to_string(),
                at_ms: t - rng.range(60, 900) as i64 * SEC,
            };
            run_id += rng.range(3, 40);
            let outcomes = RunOutcomes::draw(&mut rng);
            let (run, deploy) = plan_run(
                &mut rng,
                &names,
                run_id,
                runs.len() as u64 + 1,
                "push",
                &commit,
                &commit.author,
                t,
                1.0,
                outcomes,
            );
            commits.push(commit);
            runs.push(run);
            deploys.extend(deploy);
        }
        if workday && rng.chance(0.35) {
            let t = day_ms + 15 * HOUR_MS + rng.range(0, 3 * 3600) as i64 * SEC;
            let commit = Commit {
                sha: rng.hex(40),
                branch: "main".into(),
                message: format!("Merge pull request #{pr_number} from develop"),
                author: "ada-admin".into(),
                at_ms: t - 30 * SEC,
            };
            pr_number += 1;
            let ok = !rng.chance(0.05);
            let outcome = if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            let d = plan_git_deploy(
                &mut rng,
                &names.production_site,
                "production",
                "main",
                &commit.sha,
                &commit.message,
                t,
                1.0,
                outcome,
            );
            let failed_at = d.done_ms;
            deploys.push(d);
            commits.push(commit);
            if !ok {
                // The recovery: a fix merged within the hour.
                let t = failed_at + rng.range(20 * 60, 90 * 60) as i64 * SEC;
                let fix = Commit {
                    sha: rng.hex(40),
                    branch: "main".into(),
                    message: "Fix production build".into(),
                    author: "dev-deployer".into(),
                    at_ms: t - 30 * SEC,
                };
                deploys.push(plan_git_deploy(
                    &mut rng,
                    &names.production_site,
                    "production",
                    "main",
                    &fix.sha,
                    &fix.message,
                    t,
                    1.0,
                    Outcome::Success,
                ));
                commits.push(fix);
            }
        }
        for _ in 0..rng.range(0, 3) {
            let t = day_ms + 9 * HOUR_MS + rng.range(0, 9 * 3600) as i64 * SEC;
            let ok = !rng.chance(0.1);
            let sha = rng.hex(40);
            let mut d = plan_git_deploy(
                &mut rng,
                &names.production_site,
                "deploy-preview",
                &format!("feature/pr-{pr_number}"),
                &sha,
                &format!("Deploy preview for #{pr_number}"),
                t,
                1.0,
                if ok {
                    Outcome::Success
                } else {
                    Outcome::Failure
                },
            );
            d.review_id = Some(pr_number);
            if rng.chance(0.03) {
                d.cancelled_ms = Some(d.building_ms + 5 * SEC);
            }
            deploys.push(d);
            pr_number += 1;
        }
    }
    deploys.sort_by_key(|d| d.created_ms);
    commits.sort_by_key(|c| c.at_ms);
    Generated {
        deploys,
        env: env_vars(world, anchor_ms),
        build_hooks: build_hooks(world, anchor_ms, &mut Rng::derive(world.seed, "hooks")),
        runs,
        commits,
        secrets: secrets(world, anchor_ms),
        variables: variables(world, anchor_ms),
        files: files(world),
        branches: branches(world, anchor_ms),
    }
}

/// A Supabase-shaped JWT (HS256 header, real claims, random signature), so
/// the engine's role check reads it as it would a real key.
fn supabase_jwt(rng: &mut Rng, project_ref: &str, role: &str, anchor: i64) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let iat = anchor / 1000 - 300 * 86_400;
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(&format!(
            r#"{{"iss":"supabase","ref":"{project_ref}","role":"{role}","iat":{iat},"exp":{}}}"#,
            iat + 10 * 365 * 86_400
        )),
        b64(&rng.hex(32))
    )
}

/// The team's env vars, with the playbook's usual gaps: a key missing in one
/// context, a placeholder, an organization id that differs on staging, and a
/// service-role key in a `VITE_` variable (which Vite ships to browsers).
fn env_vars(world: &World, anchor: i64) -> Vec<EnvVar> {
    let mut rng = Rng::derive(world.seed, "env");
    let prod = &world.netlify.production_site_id;
    let staging = &world.netlify.staging_site_id;
    let project_ref = &world.supabase.project_ref;
    let supabase_url = format!("https://{project_ref}.supabase.co");
    let anon = supabase_jwt(&mut rng, project_ref, "anon", anchor);
    let service = supabase_jwt(&mut rng, project_ref, "service_role", anchor);
    let access = format!("sbp_sandbox{}", rng.hex(29));
    let org_prod = rng.uuid();
    let org_staging = rng.uuid();
    let openai = format!("sk-sandbox-{}", rng.hex(40));
    let editors: Vec<String> = world.members.iter().map(|m| m.name.clone()).collect();
    let v = |context: &str, value: &str| EnvValue {
        context: context.into(),
        context_parameter: None,
        value: value.into(),
    };
    let mut var = |site: &str, key: &str, is_secret: bool, values: Vec<EnvValue>| EnvVar {
        site_id: site.into(),
        key: key.into(),
        is_secret,
        values,
        scopes: None,
        updated_ms: anchor - rng.range(1, 200) as i64 * DAY_MS,
        updated_by: (!editors.is_empty())
            .then(|| editors[rng.range(0, editors.len() as u64) as usize].clone()),
    };
    let mut vars = vec![
        var(prod, "SUPABASE_URL", false, vec![v("all", &supabase_url)]),
        var(
            prod,
            "SUPABASE_ANON_KEY",
            false,
            vec![v("production", &anon), v("deploy-preview", &anon)],
        ),
        var(
            prod,
            "SUPABASE_SERVICE_ROLE_KEY",
            true,
            vec![v("production", &service), v("deploy-preview", &service)],
        ),
        // Deliberate gap: no deploy-preview value.
        var(
            prod,
            "SUPABASE_ACCESS_TOKEN",
            true,
            vec![v("production", &access)],
        ),
        var(
            prod,
            "DEFAULT_ORGANIZATION_ID",
            false,
            vec![v("production", &org_prod), v("deploy-preview", &org_prod)],
        ),
        var(
            prod,
            "VITE_RUNTIME_ENV",
            false,
            vec![
                v("production", "production"),
                v("deploy-preview", "preview"),
            ],
        ),
        var(
            prod,
            "OPENAI_API_KEY",
            true,
            vec![v("production", &openai), v("deploy-preview", &openai)],
        ),
        var(
            staging,
            "SUPABASE_URL",
            false,
            vec![v("all", &supabase_url)],
        ),
        // Deliberate placeholder: branch deploys get a stand-in.
        var(
            staging,
            "SUPABASE_ANON_KEY",
            false,
            vec![v("branch-deploy", "changeme"), v("dev", &anon)],
        ),
        var(
            staging,
            "SUPABASE_SERVICE_ROLE_KEY",
            true,
            vec![v("branch-deploy", &service)],
        ),
        // Deliberate mismatch: staging points at another organization.
        var(
            staging,
            "DEFAULT_ORGANIZATION_ID",
            false,
            vec![v("branch-deploy", &org_staging), v("dev", &org_prod)],
        ),
        var(
            staging,
            "VITE_RUNTIME_ENV",
            false,
            vec![v("branch-deploy", "staging"), v("dev", "development")],
        ),
        // Deliberate leak: the service-role key where the browser gets it.
        var(
            staging,
            "VITE_SUPABASE_SERVICE_KEY",
            false,
            vec![v("branch-deploy", &service)],
        ),
        var(
            staging,
            "OPENAI_API_KEY",
            true,
            vec![v("branch-deploy", &openai)],
        ),
        // SUPABASE_ACCESS_TOKEN is missing on staging altogether.
    ];
    for v in &mut vars {
        if v.key.starts_with("VITE_") {
            v.scopes = Some(vec!["builds".into()]);
        }
    }
    vars
}

fn build_hooks(world: &World, anchor: i64, rng: &mut Rng) -> Vec<BuildHook> {
    vec![
        BuildHook {
            id: rng.hex(24),
            site_id: world.netlify.staging_site_id.clone(),
            title: "Rebuild staging (develop)".into(),
            branch: "develop".into(),
            created_ms: anchor - 200 * DAY_MS,
        },
        BuildHook {
            id: rng.hex(24),
            site_id: world.netlify.production_site_id.clone(),
            title: "Nightly production rebuild".into(),
            branch: "main".into(),
            created_ms: anchor - 300 * DAY_MS,
        },
    ]
}

/// The secrets `ci.yml` references; DEFAULT_ORGANIZATION_ID is referenced
/// but missing, SENTRY_AUTH_TOKEN is present but unreferenced.
fn secrets(world: &World, anchor: i64) -> Vec<SecretName> {
    let mut rng = Rng::derive(world.seed, "secrets");
    let mut s = |name: &str, scope: &str| {
        let created = anchor - rng.range(100, 360) as i64 * DAY_MS;
        SecretName {
            name: name.into(),
            scope: scope.into(),
            created_ms: created,
            updated_ms: created + rng.range(0, 90) as i64 * DAY_MS,
        }
    };
    let mut list = vec![
        s("NETLIFY_AUTH_TOKEN", "repo"),
        // Deliberate drift: the staging copy was not rotated with the
        // repository's (set below).
        s("NETLIFY_AUTH_TOKEN", "staging"),
        s("SUPABASE_URL", "repo"),
        s("SUPABASE_ANON_KEY", "repo"),
        s("SENTRY_AUTH_TOKEN", "repo"),
        s("NETLIFY_STAGING_SITE_ID", "staging"),
        s("SUPABASE_SERVICE_ROLE_KEY", "staging"),
        s("NETLIFY_SITE_ID", "production"),
        s("SLACK_WEBHOOK_URL", "org"),
    ];
    list[0].updated_ms = anchor - 5 * DAY_MS;
    list[1].created_ms = anchor - 300 * DAY_MS;
    list[1].updated_ms = anchor - 160 * DAY_MS;
    list
}

fn variables(world: &World, anchor: i64) -> Vec<Variable> {
    let v = |name: &str, value: String, scope: &str, age_days: i64| Variable {
        name: name.into(),
        value,
        scope: scope.into(),
        created_ms: anchor - age_days * DAY_MS,
        updated_ms: anchor - age_days / 2 * DAY_MS,
    };
    vec![
        v("NODE_VERSION", "20".into(), "repo", 300),
        v("SENTRY_ORG", world.github.org.clone(), "org", 340),
        v("VITE_RUNTIME_ENV", "staging".into(), "staging", 200),
        v(
            "STAGING_URL",
            format!("https://{}-staging.netlify.app", world.netlify.account_slug),
            "staging",
            200,
        ),
        v("VITE_RUNTIME_ENV", "production".into(), "production", 300),
    ]
}

fn files(world: &World) -> Vec<RepoFile> {
    let job = &world.github.deploy_job;
    vec![
        RepoFile {
            path: "netlify.toml".into(),
            content: "[build]\n  command = \"npm run build\"\n  publish = \"dist\"\n\n\
                      [build.environment]\n  NODE_VERSION = \"20\"\n\n\
                      [context.production.environment]\n  VITE_RUNTIME_ENV = \"production\"\n\n\
                      [context.staging]\n  command = \"npm run build\"\n  publish = \"dist\"\n\n\
                      [context.staging.environment]\n  VITE_RUNTIME_ENV = \"staging\"\n\n\
                      [context.deploy-preview.environment]\n  VITE_RUNTIME_ENV = \"preview\"\n"
                .into(),
        },
        RepoFile {
            path: ".github/workflows/ci.yml".into(),
            content: format!(
                "name: CI\n\non:\n  push:\n    branches: [develop, main]\n  pull_request:\n  workflow_dispatch:\n\n\
                 jobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n\
                 \x20     - uses: actions/setup-node@v4\n        with:\n          node-version: ${{{{ vars.NODE_VERSION }}}}\n\
                 \x20     - run: npm ci\n      - run: npm run lint\n      - run: npm run build\n        env:\n\
                 \x20         SUPABASE_URL: ${{{{ secrets.SUPABASE_URL }}}}\n          SUPABASE_ANON_KEY: ${{{{ secrets.SUPABASE_ANON_KEY }}}}\n\n\
                 \x20 {job}:\n    needs: build\n    if: github.ref == 'refs/heads/develop'\n    runs-on: ubuntu-latest\n\
                 \x20   environment:\n      name: staging\n      url: ${{{{ steps.deploy.outputs.deploy_url }}}}\n    steps:\n\
                 \x20     - uses: actions/checkout@v4\n      - uses: actions/setup-node@v4\n\
                 \x20     - name: Check required secrets\n        run: ./scripts/check-secrets.sh\n        env:\n\
                 \x20         NETLIFY_AUTH_TOKEN: ${{{{ secrets.NETLIFY_AUTH_TOKEN }}}}\n\
                 \x20         NETLIFY_STAGING_SITE_ID: ${{{{ secrets.NETLIFY_STAGING_SITE_ID }}}}\n\
                 \x20         DEFAULT_ORGANIZATION_ID: ${{{{ secrets.DEFAULT_ORGANIZATION_ID }}}}\n\
                 \x20     - run: npm ci\n      - run: npm run build\n\
                 \x20     - name: Deploy to Netlify (staging)\n        id: deploy\n\
                 \x20       run: npx netlify-cli deploy --context=staging --dir=dist --json > deploy.json\n        env:\n\
                 \x20         NETLIFY_AUTH_TOKEN: ${{{{ secrets.NETLIFY_AUTH_TOKEN }}}}\n\
                 \x20         NETLIFY_SITE_ID: ${{{{ secrets.NETLIFY_STAGING_SITE_ID }}}}\n\
                 \x20     - name: Smoke test staging\n        run: npm run preview:smoke\n        env:\n\
                 \x20         SMOKE_BASE_URL: ${{{{ vars.STAGING_URL }}}}\n\
                 \x20     - name: Upload smoke artifacts\n        if: always()\n        uses: actions/upload-artifact@v4\n\
                 \x20       with:\n          name: smoke-results\n          path: smoke-results/\n\
                 \x20     - name: Tell Slack\n        if: failure()\n        run: ./scripts/notify-slack.sh\n        env:\n\
                 \x20         SLACK_WEBHOOK_URL: ${{{{ secrets.SLACK_WEBHOOK_URL }}}}\n"
            ),
        },
        RepoFile {
            path: ".env.example".into(),
            content: "# Copy to .env.local and fill in from 1Password (Platform / Supabase).\n\
                      SUPABASE_URL=\nSUPABASE_ANON_KEY=\nSUPABASE_SERVICE_ROLE_KEY=\nSUPABASE_ACCESS_TOKEN=\n\
                      DEFAULT_ORGANIZATION_ID=\nVITE_RUNTIME_ENV=development\nOPENAI_API_KEY=\n"
                .into(),
        },
    ]
}

/// A project ref: 20 lowercase letters.
pub fn project_ref(rng: &mut Rng) -> String {
    (0..20)
        .map(|_| (b'a' + rng.range(0, 26) as u8) as char)
        .collect()
}

fn branches(world: &World, anchor: i64) -> Vec<Branch> {
    let mut rng = Rng::derive(world.seed, "branches");
    let mut b =
        |name: &str, git: Option<&str>, default: bool, age_days: i64, done_in: i64, outcome| {
            let created = anchor - age_days * DAY_MS;
            Branch {
                id: rng.uuid(),
                name: name.into(),
                project_ref: if default {
                    world.supabase.project_ref.clone()
                } else {
                    project_ref(&mut rng)
                },
                git_branch: git.map(Into::into),
                is_default: default,
                persistent: default,
                with_data: false,
                pr_number: None,
                created_ms: created,
                updated_ms: created + 3 * 60_000,
                deletion_ms: None,
                run_started_ms: created,
                migrations_ms: created + 60_000,
                done_ms: created + done_in,
                outcome,
                functions_fail: false,
            }
        };
    vec![
        b(
            "main",
            Some("main"),
            true,
            300,
            5 * 60_000,
            Outcome::Success,
        ),
        b(
            "feature-billing",
            Some("feature/billing"),
            false,
            6,
            4 * 60_000,
            Outcome::Success,
        ),
        b(
            "fix-rls-policies",
            Some("fix/rls-policies"),
            false,
            2,
            3 * 60_000,
            Outcome::Failure,
        ),
        // Still migrating when the sandbox starts; advance the clock to finish it.
        b(
            "preview-login-page",
            Some("feature/login-page"),
            false,
            0,
            2 * DAY_MS,
            Outcome::Success,
        ),
    ]
}
