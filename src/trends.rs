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
/// deploy since. One computation at a time: concurrent misses wait for it
/// rather than each scanning the table.
#[derive(Debug, Default)]
pub struct TrendCache {
    trends: Mutex<HashMap<String, (i64, Arc<Trends>)>>,
    totals: Mutex<HashMap<String, (i64, i64)>>,
    computing: tokio::sync::Mutex<()>,
}

const CACHE_ENTRIES: usize = 64;

impl TrendCache {
    pub async fn get(
        &self,
        storage: &Storage,
        filter: &DeployFilter,
    ) -> Result<Arc<Trends>, StorageError> {
        let key = serde_json::to_string(filter).unwrap_or_default();
        let mark = storage.deploys_change_mark().await?;
        if let Some(t) = cached(&self.trends, &key, mark) {
            return Ok(t);
        }
        let _one = self.computing.lock().await;
        if let Some(t) = cached(&self.trends, &key, mark) {
            return Ok(t);
        }
        let trends = Arc::new(compute(&storage.deploy_facts(filter).await?));
        store(&self.trends, key, mark, trends.clone());
        Ok(trends)
    }

    /// How many deploys match `filter`.
    pub async fn total(
        &self,
        storage: &Storage,
        filter: &DeployFilter,
    ) -> Result<i64, StorageError> {
        let key = serde_json::to_string(filter).unwrap_or_default();
        let mark = storage.deploys_change_mark().await?;
        if let Some(n) = cached(&self.totals, &key, mark) {
            return Ok(n);
        }
        let _one = self.computing.lock().await;
        if let Some(n) = cached(&self.totals, &key, mark) {
            return Ok(n);
        }
        let n = storage.count_matching_deploys(filter).await?;
        store(&self.totals, key, mark, n);
        Ok(n)
    }
}

fn cached<T: Clone>(map: &Mutex<HashMap<String, (i64, T)>>, key: &str, mark: i64) -> Option<T> {
    let map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.get(key)
        .filter(|(m, _)| *m == mark)
        .map(|(_, v)| v.clone())
}

fn store<T>(map: &Mutex<HashMap<String, (i64, T)>>, key: String, mark: i64, value: T) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= CACHE_ENTRIES {
        map.clear();
    }
    map.insert(key, (mark, value));
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
