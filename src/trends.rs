//! The history page's trend figures, per UTC week (Monday first), from the
//! deploys a filter selects. Definitions (the page states them too):
//!
//! - **Deployment frequency**: deploys created per week, per deploy context.
//! - **Change failure rate**: deploys that ended in `error`, out of those
//!   that finished (`ready` or `error`); cancelled ones count in neither.
//! - **Build time**: Netlify's `deploy_time` of finished deploys, median and
//!   90th percentile.
//! - **Time to restore**: on the staging and production sites (previews
//!   aside), from a failed deploy to the next deploy of that site that went
//!   live; counted in the week of the failure.
//! - **Lead time**: from the push that started the deploy's workflow run to
//!   the deploy going live, where the deploy is linked to a run.

use crate::storage::{DeployFact, DeployFilter, Storage, StorageError};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

const WEEK_MS: i64 = 7 * 86_400_000;
/// 1970-01-01 was a Thursday: Monday 1969-12-29 is three days earlier.
const MONDAY_OFFSET_MS: i64 = 3 * 86_400_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WeekStats {
    /// Monday 00:00 UTC.
    pub week_start_ms: i64,
    pub by_context: BTreeMap<String, u32>,
    pub finished: u32,
    pub failed: u32,
    pub build_p50_s: Option<i64>,
    pub build_p90_s: Option<i64>,
    pub restore_median_s: Option<i64>,
    pub lead_median_s: Option<i64>,
}

impl WeekStats {
    pub fn deploys(&self) -> u32 {
        self.by_context.values().sum()
    }
    /// Failed out of finished, 0.0..=1.0; `None` with nothing finished.
    pub fn failure_rate(&self) -> Option<f64> {
        (self.finished > 0).then(|| f64::from(self.failed) / f64::from(self.finished))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trends {
    /// Every week from the first deploy's to the last's, oldest first (a week
    /// with no deploys is there with zeros, so the charts keep their scale).
    pub weeks: Vec<WeekStats>,
    pub total: WeekStats,
    pub contexts: Vec<String>,
}

pub fn week_of(ms: i64) -> i64 {
    (ms + MONDAY_OFFSET_MS).div_euclid(WEEK_MS) * WEEK_MS - MONDAY_OFFSET_MS
}

/// Computes the figures from facts in time order.
pub fn compute(facts: &[DeployFact]) -> Trends {
    let Some(first) = facts.first() else {
        return Trends::default();
    };
    let last = facts.last().map(|f| f.created_at_ms).unwrap_or_default();
    let (first_week, last_week) = (week_of(first.created_at_ms), week_of(last));
    let count = ((last_week - first_week) / WEEK_MS + 1) as usize;
    let mut weeks: Vec<WeekStats> = (0..count)
        .map(|i| WeekStats {
            week_start_ms: first_week + i as i64 * WEEK_MS,
            ..Default::default()
        })
        .collect();
    let index = |ms: i64| (((week_of(ms) - first_week) / WEEK_MS) as usize).min(count - 1);
    let mut builds: Vec<Vec<i64>> = vec![Vec::new(); count];
    let mut restores: Vec<Vec<i64>> = vec![Vec::new(); count];
    let mut leads: Vec<Vec<i64>> = vec![Vec::new(); count];
    let mut contexts = std::collections::BTreeSet::new();
    // Per site role: when the current run of failures began.
    let mut broken_since: HashMap<&str, i64> = HashMap::new();
    for f in facts {
        let w = index(f.created_at_ms);
        *weeks[w].by_context.entry(f.context.clone()).or_default() += 1;
        contexts.insert(f.context.clone());
        match f.state.as_str() {
            "ready" => weeks[w].finished += 1,
            "error" => {
                weeks[w].finished += 1;
                weeks[w].failed += 1;
            }
            _ => {}
        }
        if matches!(f.state.as_str(), "ready" | "error") {
            if let Some(s) = f.build_seconds {
                builds[w].push(s);
            }
        }
        if f.context == "deploy-preview" {
            continue;
        }
        let live_at = f.published_at_ms.filter(|_| f.state == "ready");
        if let (Some(live), Some(pushed)) = (live_at, f.run_created_at_ms) {
            if live >= pushed {
                leads[w].push((live - pushed) / 1000);
            }
        }
        match f.state.as_str() {
            "error" => {
                broken_since
                    .entry(f.site_role.as_str())
                    .or_insert(f.created_at_ms);
            }
            "ready" => {
                if let Some(since) = broken_since.remove(f.site_role.as_str()) {
                    let restored = live_at.unwrap_or(f.updated_at_ms);
                    if restored >= since {
                        restores[index(since)].push((restored - since) / 1000);
                    }
                }
            }
            _ => {}
        }
    }
    let mut all_builds = Vec::new();
    let mut all_restores = Vec::new();
    let mut all_leads = Vec::new();
    let mut total = WeekStats::default();
    for (i, w) in weeks.iter_mut().enumerate() {
        w.build_p50_s = percentile(&mut builds[i], 50);
        w.build_p90_s = percentile(&mut builds[i], 90);
        w.restore_median_s = percentile(&mut restores[i], 50);
        w.lead_median_s = percentile(&mut leads[i], 50);
        all_builds.append(&mut builds[i]);
        all_restores.append(&mut restores[i]);
        all_leads.append(&mut leads[i]);
        for (c, n) in &w.by_context {
            *total.by_context.entry(c.clone()).or_default() += n;
        }
        total.finished += w.finished;
        total.failed += w.failed;
    }
    total.week_start_ms = first_week;
    total.build_p50_s = percentile(&mut all_builds, 50);
    total.build_p90_s = percentile(&mut all_builds, 90);
    total.restore_median_s = percentile(&mut all_restores, 50);
    total.lead_median_s = percentile(&mut all_leads, 50);
    Trends {
        weeks,
        total,
        contexts: contexts.into_iter().collect(),
    }
}

/// The nearest-rank percentile; `None` for no values.
pub fn percentile(values: &mut [i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (u64::from(p) * values.len() as u64).div_ceil(100).max(1) as usize;
    Some(values[rank - 1])
}

/// Trend figures and totals kept per filter until a deploy changes: a page
/// view costs one cheap query (the deploys' change mark) unless sync wrote a
/// deploy since. When it has, the first view to notice starts one
/// recomputation in the background and every view meanwhile gets the
/// previous figures (a second or so behind), so a page never waits on a
/// scan of the whole table once it has been computed. Only a filter seen
/// for the first time is computed while the request waits, one computation
/// at a time, so concurrent first views do not each scan the table.
#[derive(Debug, Default)]
pub struct TrendCache {
    trends: Mutex<HashMap<String, Slot<Arc<Trends>>>>,
    totals: Mutex<HashMap<String, Slot<i64>>>,
    computing: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct Slot<T> {
    mark: i64,
    value: T,
    /// A background recomputation for a newer mark is under way.
    refreshing: bool,
}

const CACHE_ENTRIES: usize = 64;

/// What a lookup found.
enum Found<T> {
    Fresh(T),
    /// Computed for an older mark; `refresh` is true for the one caller that
    /// should start the recomputation.
    Stale {
        value: T,
        refresh: bool,
    },
    Missing,
}

type Slots<T> = Mutex<HashMap<String, Slot<T>>>;

impl TrendCache {
    /// The figures of `filter` as of the deploys' change mark in the database.
    pub async fn get(
        self: &Arc<Self>,
        storage: &Storage,
        filter: &DeployFilter,
    ) -> Result<Arc<Trends>, StorageError> {
        let mark = storage.deploys_change_mark().await?;
        self.get_at(storage, filter, mark).await
    }

    /// The figures of `filter` as of the deploys' change mark `mark`, which
    /// the caller has already (the read model keeps it in memory).
    pub async fn get_at(
        self: &Arc<Self>,
        storage: &Storage,
        filter: &DeployFilter,
        mark: i64,
    ) -> Result<Arc<Trends>, StorageError> {
        let filter = filter.clone();
        self.fetch(
            |c| &c.trends,
            storage,
            filter,
            mark,
            |storage, filter| async move {
                let facts = storage.deploy_facts(&filter).await?;
                // Tens of milliseconds of CPU over 100,000 rows: off the async workers.
                tokio::task::spawn_blocking(move || Arc::new(compute(&facts)))
                    .await
                    .map_err(|e| {
                        StorageError::Interrupted(format!(
                            "computing the trend figures stopped: {e}"
                        ))
                    })
            },
        )
        .await
    }

    /// How many deploys match `filter`.
    pub async fn total(
        self: &Arc<Self>,
        storage: &Storage,
        filter: &DeployFilter,
    ) -> Result<i64, StorageError> {
        let mark = storage.deploys_change_mark().await?;
        self.total_at(storage, filter, mark).await
    }

    /// How many deploys match `filter`, as of the deploys' change mark `mark`.
    pub async fn total_at(
        self: &Arc<Self>,
        storage: &Storage,
        filter: &DeployFilter,
        mark: i64,
    ) -> Result<i64, StorageError> {
        let filter = filter.clone();
        self.fetch(
            |c| &c.totals,
            storage,
            filter,
            mark,
            |storage, filter| async move { storage.count_matching_deploys(&filter).await },
        )
        .await
    }

    async fn fetch<T, L, F>(
        self: &Arc<Self>,
        slots: fn(&Self) -> &Slots<T>,
        storage: &Storage,
        filter: DeployFilter,
        mark: i64,
        load: L,
    ) -> Result<T, StorageError>
    where
        T: Clone + Send + 'static,
        L: FnOnce(Storage, DeployFilter) -> F + Send + 'static,
        F: std::future::Future<Output = Result<T, StorageError>> + Send + 'static,
    {
        let key = serde_json::to_string(&filter).unwrap_or_default();
        match lookup(slots(self), &key, mark) {
            Found::Fresh(v) => Ok(v),
            Found::Stale { value, refresh } => {
                if refresh {
                    // Background work: counted apart from the page that started it.
                    let (cache, storage) = (self.clone(), storage.counted_apart());
                    tokio::spawn(async move {
                        let outcome = {
                            let _one = cache.computing.lock().await;
                            load(storage, filter).await
                        };
                        match outcome {
                            Ok(v) => store(slots(&cache), key, mark, v),
                            Err(e) => {
                                tracing::warn!(error = %e, "recomputing the deploy figures failed; the previous ones stay");
                                if let Ok(mut map) = slots(&cache).lock() {
                                    if let Some(slot) = map.get_mut(&key) {
                                        slot.refreshing = false;
                                    }
                                }
                            }
                        }
                    });
                }
                Ok(value)
            }
            Found::Missing => {
                let _one = self.computing.lock().await;
                if let Found::Fresh(v) = lookup(slots(self), &key, mark) {
                    return Ok(v);
                }
                let v = load(storage.clone(), filter).await?;
                store(slots(self), key, mark, v.clone());
                Ok(v)
            }
        }
    }
}

fn lookup<T: Clone>(map: &Slots<T>, key: &str, mark: i64) -> Found<T> {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    match map.get_mut(key) {
        None => Found::Missing,
        Some(slot) if slot.mark == mark => Found::Fresh(slot.value.clone()),
        Some(slot) => {
            let refresh = !slot.refreshing;
            slot.refreshing = true;
            Found::Stale {
                value: slot.value.clone(),
                refresh,
            }
        }
    }
}

fn store<T>(map: &Slots<T>, key: String, mark: i64, value: T) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= CACHE_ENTRIES && !map.contains_key(&key) {
        map.clear();
    }
    // A slower computation for an older mark never replaces a newer one.
    if map.get(&key).is_some_and(|s| s.mark > mark) {
        return;
    }
    map.insert(
        key,
        Slot {
            mark,
            value,
            refreshing: false,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    // Monday 2026-11-23 00:00 UTC.
    const MONDAY: i64 = 1_795_392_000_000;

    fn fact(ctx: &str, state: &str, created: i64, build: Option<i64>) -> DeployFact {
        DeployFact {
            site_role: if ctx == "production" {
                "production"
            } else {
                "staging"
            }
            .into(),
            context: ctx.into(),
            state: state.into(),
            created_at_ms: created,
            published_at_ms: (state == "ready").then_some(created + 60_000),
            updated_at_ms: created + 60_000,
            build_seconds: build,
            run_created_at_ms: Some(created - 120_000),
        }
    }

    #[test]
    fn weeks_start_on_monday_utc() {
        assert_eq!(week_of(MONDAY), MONDAY);
        assert_eq!(week_of(MONDAY + 6 * DAY + 1), MONDAY);
        assert_eq!(week_of(MONDAY - 1), MONDAY - 7 * DAY);
        assert_eq!(week_of(0), -3 * DAY);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        assert_eq!(percentile(&mut [], 50), None);
        assert_eq!(percentile(&mut [7], 90), Some(7));
        assert_eq!(percentile(&mut [5, 1, 3, 2, 4], 50), Some(3));
        assert_eq!(percentile(&mut (1..=10).collect::<Vec<_>>(), 90), Some(9));
    }

    #[test]
    fn figures_follow_their_definitions() {
        let facts = vec![
            fact("branch-deploy", "ready", MONDAY, Some(60)),
            fact("branch-deploy", "error", MONDAY + DAY, Some(30)),
            fact("deploy-preview", "error", MONDAY + DAY + 1, Some(10)),
            fact("branch-deploy", "ready", MONDAY + 2 * DAY, Some(90)),
            fact("production", "cancelled", MONDAY + 3 * DAY, None),
            // An empty week between, then one more.
            fact("production", "ready", MONDAY + 14 * DAY, Some(120)),
        ];
        let t = compute(&facts);
        assert_eq!(t.weeks.len(), 3, "the empty week is kept");
        assert_eq!(t.weeks[1].deploys(), 0);
        let w = &t.weeks[0];
        assert_eq!(w.deploys(), 5);
        assert_eq!(w.by_context["branch-deploy"], 3);
        assert_eq!(
            (w.finished, w.failed),
            (4, 2),
            "cancelled counts in neither"
        );
        assert_eq!(w.failure_rate(), Some(0.5));
        assert_eq!(w.build_p50_s, Some(30));
        assert_eq!(w.build_p90_s, Some(90));
        // Failed at MONDAY + DAY, live again at MONDAY + 2 DAY + 60 s; the
        // failed preview does not open an incident.
        assert_eq!(w.restore_median_s, Some(DAY / 1000 + 60));
        assert_eq!(w.lead_median_s, Some(180));
        assert_eq!(t.total.deploys(), 6);
        assert_eq!(
            t.contexts,
            ["branch-deploy", "deploy-preview", "production"]
        );
    }

    #[test]
    fn no_deploys_means_no_weeks() {
        assert_eq!(compute(&[]), Trends::default());
    }
}
