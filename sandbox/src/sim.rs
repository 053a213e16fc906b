//! The running simulation: the world with every collection filled in, the
//! sandbox clock, forced outcomes, and the sign-ins in progress.

use crate::model::*;
use crate::seed;
use crate::util::{Rng, DAY_MS};
use crate::world::World;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// Sandbox time: real time plus an offset the control API can advance, and
/// a pace that scales the durations of everything planned from now on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Clock {
    pub offset_ms: i64,
    /// 1.0 = real durations; 0.01 = a hundred times faster.
    pub pace: f64,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            offset_ms: 0,
            pace: 1.0,
        }
    }
}

/// Which vendor's next planned outcomes a forced outcome applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The next Netlify deploys (from a build or from the deploy job).
    Netlify,
    /// The smoke tests of the next workflow runs.
    Github,
    /// The migrations of the next Supabase branches (create or reset).
    Supabase,
}

/// A code handed out by the OAuth page, waiting to be exchanged.
#[derive(Debug, Clone)]
pub struct Grant {
    pub login: String,
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub expires_ms: i64,
    /// PKCE: the challenge and its method (`S256` or `plain`), if sent.
    pub code_challenge: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Sim {
    /// The world's identifiers (collections left out).
    pub ids: World,
    pub anchor_ms: i64,
    pub clock: Clock,
    pub rng: Rng,
    pub deploys: Vec<Deploy>,
    pub env: Vec<EnvVar>,
    pub build_hooks: Vec<BuildHook>,
    pub runs: Vec<Run>,
    pub commits: Vec<Commit>,
    pub secrets: Vec<SecretName>,
    pub variables: Vec<Variable>,
    pub files: Vec<RepoFile>,
    pub branches: Vec<Branch>,
    pub forced: HashMap<Target, VecDeque<Outcome>>,
    pub grants: HashMap<String, Grant>,
    /// OAuth access token -> member login.
    pub tokens: HashMap<String, String>,
    /// GitHub core requests used per token fingerprint in the current hour.
    pub rate_used: HashMap<String, (i64, u32)>,
    /// Supabase's project settings that tests switch (`/__sandbox/supabase`).
    pub supabase: SupabaseModes,
}

/// How the sandbox's Supabase project is set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupabaseModes {
    /// Off: creating a branch is refused as on a project without branching.
    pub branching_enabled: bool,
    /// At most this many branches besides the default one.
    pub branch_limit: Option<usize>,
    /// Point-in-time recovery on (the backups answer a continuous range).
    pub pitr_enabled: bool,
    /// What the next branches created do, in order.
    pub next_branches: VecDeque<crate::model::BranchFault>,
}

impl Default for SupabaseModes {
    fn default() -> Self {
        Self {
            branching_enabled: true,
            branch_limit: None,
            pitr_enabled: false,
            next_branches: VecDeque::new(),
        }
    }
}

pub fn real_now_ms() -> i64 {
    crate::request_log::now_ms()
}

impl Sim {
    pub fn new(mut world: World) -> Self {
        let anchor_ms = world
            .anchor_ms
            .unwrap_or_else(|| real_now_ms().div_euclid(DAY_MS) * DAY_MS);
        let generated = seed::generate(&world, anchor_ms);
        Self {
            anchor_ms,
            clock: Clock::default(),
            rng: Rng::derive(world.seed, "runtime"),
            deploys: sorted(
                world.netlify.deploys.take().unwrap_or(generated.deploys),
                |d| d.created_ms,
            ),
            env: world.netlify.env.take().unwrap_or(generated.env),
            build_hooks: world
                .netlify
                .build_hooks
                .take()
                .unwrap_or(generated.build_hooks),
            runs: sorted(world.github.runs.take().unwrap_or(generated.runs), |r| {
                r.created_ms
            }),
            commits: sorted(
                world.github.commits.take().unwrap_or(generated.commits),
                |c| c.at_ms,
            ),
            secrets: world.github.secrets.take().unwrap_or(generated.secrets),
            variables: world.github.variables.take().unwrap_or(generated.variables),
            files: world.github.files.take().unwrap_or(generated.files),
            branches: world.supabase.branches.take().unwrap_or(generated.branches),
            ids: world,
            forced: HashMap::new(),
            grants: HashMap::new(),
            tokens: HashMap::new(),
            rate_used: HashMap::new(),
            supabase: SupabaseModes::default(),
        }
    }

    /// Sandbox time now.
    pub fn now(&self) -> i64 {
        real_now_ms() + self.clock.offset_ms
    }

    /// The whole state as a world file, as of now.
    pub fn to_world(&self) -> World {
        let mut w = self.ids.clone();
        w.anchor_ms = Some(self.anchor_ms);
        w.netlify.deploys = Some(self.deploys.clone());
        w.netlify.env = Some(self.env.clone());
        w.netlify.build_hooks = Some(self.build_hooks.clone());
        w.github.runs = Some(self.runs.clone());
        w.github.commits = Some(self.commits.clone());
        w.github.secrets = Some(self.secrets.clone());
        w.github.variables = Some(self.variables.clone());
        w.github.files = Some(self.files.clone());
        w.supabase.branches = Some(self.branches.clone());
        w
    }

    /// The next outcome for `target`: forced if one is queued, else drawn.
    pub fn outcome(&mut self, target: Target, p_failure: f64) -> Outcome {
        if let Some(o) = self.forced.get_mut(&target).and_then(VecDeque::pop_front) {
            return o;
        }
        if self.rng.chance(p_failure) {
            Outcome::Failure
        } else {
            Outcome::Success
        }
    }

    /// The newest commit on `branch`, if the world has one.
    pub fn head_of(&self, branch: &str) -> Option<&Commit> {
        self.commits
            .iter()
            .rev()
            .find(|c| c.branch == branch && c.at_ms <= self.now())
    }

    pub fn is_branch(&self, name: &str) -> bool {
        self.commits.iter().any(|c| c.branch == name)
    }

    pub fn site_name(&self, site_id: &str) -> Option<String> {
        let slug = &self.ids.netlify.account_slug;
        if site_id == self.ids.netlify.production_site_id {
            Some(slug.clone())
        } else if site_id == self.ids.netlify.staging_site_id {
            Some(format!("{slug}-staging"))
        } else {
            None
        }
    }

    /// The branch a site publishes: `main` for production, `develop` for staging.
    pub fn site_branch(&self, site_id: &str) -> &'static str {
        if site_id == self.ids.netlify.staging_site_id {
            "develop"
        } else {
            "main"
        }
    }

    /// The deploy a site serves now: a locked deploy if there is one, else
    /// the most recently published (ready, or restored) deploy of its branch.
    pub fn published(&self, site_id: &str) -> Option<(usize, i64)> {
        let now = self.now();
        let branch = self.site_branch(site_id);
        let mut best: Option<(usize, i64)> = None;
        for (i, d) in self.deploys.iter().enumerate() {
            if d.site_id != site_id || d.context == "deploy-preview" || d.branch != branch {
                continue;
            }
            let Some(ready) = d.ready_at(now) else {
                continue;
            };
            if d.locked {
                return Some((i, d.restored_ms.filter(|r| *r <= now).unwrap_or(ready)));
            }
            let at = d
                .restored_ms
                .filter(|r| *r <= now)
                .unwrap_or(ready)
                .max(ready);
            if best.is_none_or(|(_, b)| at >= b) {
                best = Some((i, at));
            }
        }
        best
    }

    pub fn next_run_id(&mut self) -> u64 {
        let max = self
            .runs
            .iter()
            .map(|r| r.id)
            .max()
            .unwrap_or(seed::first_run_id());
        max + self.rng.range(3, 40)
    }
}

fn sorted<T>(mut v: Vec<T>, key: impl Fn(&T) -> i64) -> Vec<T> {
    v.sort_by_key(|x| key(x));
    v
}
