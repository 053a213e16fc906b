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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
/// scan of the whole table once it has been computed. A filter seen for the
/// first time is computed while its request waits; concurrent first views
/// of that filter wait for the one computation, other filters go on in
/// parallel, and at most [`SCANS_AT_ONCE`] scans run at a time so that
/// pages keep the CPU. Entries live in a bounded concurrent cache
/// (quick_cache, sharded: no lock over the whole cache), which evicts the
/// least useful entry when full.
pub struct TrendCache {
    trends: Slots<Arc<Trends>>,
    totals: Slots<i64>,
    scans: tokio::sync::Semaphore,
}

/// Filters remembered, per kind of figure.
const CACHE_ENTRIES: usize = 256;
/// Whole-table scans (first views and refreshes) running at once.
pub const SCANS_AT_ONCE: usize = 2;

type Slots<T> = quick_cache::sync::Cache<String, Arc<Slot<T>>>;

struct Slot<T> {
    mark: i64,
    value: T,
    /// A background recomputation for a newer mark is under way.
    refreshing: AtomicBool,
}

impl<T> Slot<T> {
    fn new(mark: i64, value: T) -> Arc<Self> {
        Arc::new(Self {
            mark,
            value,
            refreshing: AtomicBool::new(false),
        })
    }
}

impl Default for TrendCache {
    fn default() -> Self {
        Self {
            trends: Slots::new(CACHE_ENTRIES),
            totals: Slots::new(CACHE_ENTRIES),
            scans: tokio::sync::Semaphore::new(SCANS_AT_ONCE),
        }
    }
}

impl std::fmt::Debug for TrendCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrendCache")
            .field("trends", &self.trends.len())
            .field("totals", &self.totals.len())
            .finish()
    }
}

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
            cache_key(&filter),
            mark,
            |storage| async move {
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
            cache_key(&filter),
            mark,
            |storage| async move { storage.count_matching_deploys(&filter).await },
        )
        .await
    }

    async fn fetch<T, L, F>(
        self: &Arc<Self>,
        slots: fn(&Self) -> &Slots<T>,
        storage: &Storage,
        key: String,
        mark: i64,
        load: L,
    ) -> Result<T, StorageError>
    where
        T: Clone + Send + Sync + 'static,
        L: FnOnce(Storage) -> F + Send + 'static,
        F: std::future::Future<Output = Result<T, StorageError>> + Send + 'static,
    {
        if let Some(slot) = slots(self).get(&key) {
            if slot.mark < mark && !slot.refreshing.swap(true, Ordering::AcqRel) {
                // Background work: counted apart from the page that started it.
                let (cache, storage, stale) = (self.clone(), storage.counted_apart(), slot.clone());
                tokio::spawn(async move {
                    let outcome = match cache.scans.acquire().await {
                        Ok(_scan) => load(storage).await,
                        Err(_) => return,
                    };
                    match outcome {
                        Ok(v) => put(slots(&cache), key, mark, v),
                        Err(e) => {
                            tracing::warn!(error = %e, "recomputing the deploy figures failed; the previous ones stay");
                            stale.refreshing.store(false, Ordering::Release);
                        }
                    }
                });
            }
            return Ok(slot.value.clone());
        }
        match slots(self).get_value_or_guard_async(&key).await {
            // Another view of this filter computed it meanwhile.
            Ok(slot) => Ok(slot.value.clone()),
            Err(guard) => {
                let _scan = self.scans.acquire().await.map_err(|_| {
                    StorageError::Interrupted("the figures cache was closed".into())
                })?;
                // On an error the guard is dropped and a waiting view tries.
                let v = load(storage.clone()).await?;
                let _ = guard.insert(Slot::new(mark, v.clone()));
                Ok(v)
            }
        }
    }
}

fn cache_key(filter: &DeployFilter) -> String {
    serde_json::to_string(filter).unwrap_or_default()
}

/// Stores `value` for `mark`, unless a newer mark is already there (a slow
/// computation for an older mark never replaces a newer one).
fn put<T: Clone>(slots: &Slots<T>, key: String, mark: i64, value: T) {
    if slots.get(&key).is_some_and(|s| s.mark > mark) {
        return;
    }
    slots.insert(key, Slot::new(mark, value));
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn scratch_storage() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let storage = Storage::connect(&url).await.unwrap();
        (dir, storage)
    }

    /// A load that counts its calls and takes a little while.
    fn counting(
        calls: &Arc<std::sync::atomic::AtomicUsize>,
        value: i64,
    ) -> impl FnOnce(
        Storage,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<i64, StorageError>> + Send>,
    > + Send
           + 'static {
        let calls = calls.clone();
        move |_| {
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Ok(value)
            })
        }
    }

    #[tokio::test]
    async fn concurrent_first_views_of_a_filter_compute_it_once() {
        let (_dir, storage) = scratch_storage().await;
        let cache = Arc::new(TrendCache::default());
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let views = (0..20).map(|_| {
            let (cache, storage, load) = (cache.clone(), storage.clone(), counting(&calls, 7));
            tokio::spawn(async move {
                cache
                    .fetch(|c| &c.totals, &storage, "f".into(), 1, load)
                    .await
                    .unwrap()
            })
        });
        for v in futures_util::future::join_all(views).await {
            assert_eq!(v.unwrap(), 7);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_newer_mark_serves_the_last_figures_while_one_refresh_runs() {
        let (_dir, storage) = scratch_storage().await;
        let cache = Arc::new(TrendCache::default());
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let first = cache
            .fetch(|c| &c.totals, &storage, "f".into(), 1, counting(&calls, 1))
            .await
            .unwrap();
        assert_eq!(first, 1);
        for _ in 0..5 {
            let stale = cache
                .fetch(|c| &c.totals, &storage, "f".into(), 2, counting(&calls, 2))
                .await
                .unwrap();
            assert_eq!(stale, 1, "no view waits for the recomputation");
        }
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let now = cache
                .fetch(|c| &c.totals, &storage, "f".into(), 2, counting(&calls, 3))
                .await
                .unwrap();
            if now == 2 {
                break;
            }
            assert!(std::time::Instant::now() < until, "the refresh lands");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one refresh for mark 2");
    }

    #[tokio::test]
    async fn a_full_cache_evicts_some_filters_not_all() {
        let (_dir, storage) = scratch_storage().await;
        let cache = Arc::new(TrendCache::default());
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for i in 0..(CACHE_ENTRIES + 44) {
            cache
                .fetch(
                    |c| &c.totals,
                    &storage,
                    format!("f{i}"),
                    1,
                    move |_| async move { Ok(i as i64) },
                )
                .await
                .unwrap();
            // One filter everybody looks at.
            let _ = cache.totals.get("f0");
        }
        assert!(
            cache.totals.len() < CACHE_ENTRIES + 44,
            "a full cache evicts: kept all {}",
            cache.totals.len()
        );
        assert!(
            cache.totals.len() > CACHE_ENTRIES / 2,
            "kept {} of {}",
            cache.totals.len(),
            CACHE_ENTRIES + 44
        );
        let kept = cache
            .fetch(
                |c| &c.totals,
                &storage,
                "f0".into(),
                1,
                counting(&calls, -1),
            )
            .await
            .unwrap();
        assert_eq!(kept, 0, "the filter in use is kept");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

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
