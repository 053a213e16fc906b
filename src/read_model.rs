//! The overview's read model: what each project has live, its deploy job and
//! what needs attention, held in memory and read again from the database
//! only when the project changed. A page view asks the database one cheap
//! question, the project's change mark ([`Storage::change_mark`]), and gets
//! the model when the mark is the one it was built at: it always shows what
//! the database holds, at one indexed query instead of a dozen. A refresher
//! compares every project's mark each [`TICK`] (one query for all of them,
//! on whichever instance wrote) and rebuilds what changed, so that page views
//! seldom wait for a rebuild, and live streams read the marks from memory.

use crate::overview::{project_overview, ProjectOverview};
use crate::storage::{ChangeMark, Storage, StorageError};
use crate::sync::SyncTarget;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How often the refresher compares the marks: live streams see a change
/// at most this much after the database has it (their budget is 2 s).
pub const TICK: Duration = Duration::from_millis(250);

/// Past this age a stream's reader compares the marks itself, so that a
/// stalled or missing refresher never leaves a stream silent for long (well
/// inside the live view's 2 s, with the streams' own poll on top).
const STALE: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Overviews {
    inner: Arc<Inner>,
}

struct Inner {
    /// The refresher's handle (its calls are counted apart from the pages').
    storage: Storage,
    targets: Arc<Vec<SyncTarget>>,
    entries: RwLock<HashMap<i64, Entry>>,
    /// Every project's mark as the refresher last read it.
    marks: RwLock<HashMap<i64, ChangeMark>>,
    /// When the refresher last read the marks.
    checked: RwLock<Option<Instant>>,
    /// One rebuild at a time: concurrent views of a changed project wait
    /// for the rebuild under way instead of each starting their own.
    rebuilding: tokio::sync::Mutex<()>,
    /// One reading of all marks at a time (the refresher, or readers that
    /// found the marks stale).
    refreshing: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Entry {
    version: ChangeMark,
    overview: Arc<ProjectOverview>,
}

impl Overviews {
    pub fn new(storage: Storage, targets: Arc<Vec<SyncTarget>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                storage,
                targets,
                entries: RwLock::new(HashMap::new()),
                marks: RwLock::new(HashMap::new()),
                checked: RwLock::new(None),
                rebuilding: tokio::sync::Mutex::new(()),
                refreshing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The overview of `t` as the database holds it now, with its change
    /// mark: one query on `storage` (the page's), plus a rebuild if the
    /// project changed since the model last saw it.
    pub async fn get(
        &self,
        storage: &Storage,
        t: &SyncTarget,
    ) -> Result<(i64, Arc<ProjectOverview>), StorageError> {
        let version = storage.change_mark(t.project_id).await?;
        if let Some(o) = self.entry_at(t.project_id, version) {
            return Ok((version.mark, o));
        }
        let _one = self.inner.rebuilding.lock().await;
        // Another view or the refresher may have rebuilt it while this one
        // waited, perhaps for a newer mark: ask again, so that what is
        // stored is never labelled older than what it holds.
        let version = storage.change_mark(t.project_id).await?;
        if let Some(o) = self.entry_at(t.project_id, version) {
            return Ok((version.mark, o));
        }
        let overview = Arc::new(project_overview(storage, t.project_id, &t.project).await?);
        self.store(version, overview.clone());
        Ok((version.mark, overview))
    }

    /// The change mark of project `project_id` as the refresher last read
    /// it (or now, if it has not lately): what live streams compare.
    pub async fn mark(&self, project_id: i64) -> Result<i64, StorageError> {
        self.fresh_enough().await?;
        Ok(read(&self.inner.marks)
            .get(&project_id)
            .map(|m| m.mark)
            .unwrap_or(0))
    }

    /// When sync last found a deploy of any project new or changed: what
    /// the history page's figures depend on (`trends::TrendCache`).
    pub async fn deploys_mark(&self) -> Result<i64, StorageError> {
        self.fresh_enough().await?;
        Ok(read(&self.inner.marks)
            .values()
            .map(|m| m.deploys_mark)
            .max()
            .unwrap_or(0))
    }

    /// Reads every project's mark and rebuilds the overviews that changed.
    /// Returns how many were rebuilt.
    pub async fn refresh(&self) -> Result<usize, StorageError> {
        let _one = self.inner.refreshing.lock().await;
        let started = Instant::now();
        let storage = &self.inner.storage;
        let marks = storage.change_marks().await?;
        *write(&self.inner.marks) = marks.iter().map(|m| (m.project_id, *m)).collect();
        *write(&self.inner.checked) = Some(started);
        let mut rebuilt = 0;
        for m in marks {
            if self.entry_at(m.project_id, m).is_some() {
                continue;
            }
            let Some(t) = self
                .inner
                .targets
                .iter()
                .find(|t| t.project_id == m.project_id)
            else {
                continue;
            };
            let _one = self.inner.rebuilding.lock().await;
            if self.entry_at(m.project_id, m).is_some() {
                continue;
            }
            let overview = project_overview(storage, t.project_id, &t.project).await?;
            self.store(m, Arc::new(overview));
            rebuilt += 1;
        }
        Ok(rebuilt)
    }

    /// Keeps the model current until `stopping` turns true.
    pub async fn run(self, mut stopping: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                changed = stopping.changed() => {
                    if changed.is_err() || *stopping.borrow() {
                        return;
                    }
                }
            }
            if *stopping.borrow() {
                return;
            }
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = %e, "could not refresh the overview read model");
            }
        }
    }

    fn entry_at(&self, project_id: i64, version: ChangeMark) -> Option<Arc<ProjectOverview>> {
        read(&self.inner.entries)
            .get(&project_id)
            .filter(|e| e.version == version)
            .map(|e| e.overview.clone())
    }

    fn store(&self, version: ChangeMark, overview: Arc<ProjectOverview>) {
        write(&self.inner.entries).insert(version.project_id, Entry { version, overview });
    }

    /// Reads the marks here and now if the refresher has not lately; one
    /// reader does, the others wait for it.
    async fn fresh_enough(&self) -> Result<(), StorageError> {
        let fresh = || read(&self.inner.checked).is_some_and(|c| c.elapsed() < STALE);
        if fresh() {
            return Ok(());
        }
        let waited = self.inner.refreshing.lock().await;
        if fresh() {
            return Ok(());
        }
        drop(waited);
        self.refresh().await?;
        Ok(())
    }
}

/// A poisoned lock only means a writer panicked between two whole values;
/// what it holds is still one of them.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn model() -> (tempfile::TempDir, Storage, Overviews, SyncTarget) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let storage = Storage::connect(&url).await.unwrap();
        storage.migrate().await.unwrap();
        let project = crate::config::sandbox_project();
        let row = storage
            .upsert_project(project.name.as_str(), "{}")
            .await
            .unwrap();
        let target = SyncTarget {
            project_id: row.id,
            project,
        };
        let model = Overviews::new(storage.counted_apart(), Arc::new(vec![target.clone()]));
        (dir, storage, model, target)
    }

    #[tokio::test]
    async fn a_view_costs_one_query_until_the_project_changes() {
        let (_dir, storage, model, t) = model().await;
        let (mark, first) = model.get(&storage, &t).await.unwrap();
        assert_eq!(mark, 0);
        let before = storage.calls();
        let (_, again) = model.get(&storage, &t).await.unwrap();
        assert_eq!(storage.calls() - before, 1, "only the change mark is read");
        assert!(
            Arc::ptr_eq(&first, &again),
            "the overview comes from memory"
        );

        storage
            .record_sync_success(t.project_id, "netlify", 5_000, true)
            .await
            .unwrap();
        // The very next view sees it, refresher or not.
        let (mark, changed) = model.get(&storage, &t).await.unwrap();
        assert_eq!(mark, 5_000);
        assert!(!Arc::ptr_eq(&first, &changed));
        assert_eq!(changed.sync.len(), 1, "the new sync status is in it");
    }

    #[tokio::test]
    async fn the_refresher_rebuilds_what_changed_and_keeps_the_marks_for_streams() {
        let (_dir, storage, model, t) = model().await;
        assert_eq!(model.refresh().await.unwrap(), 1, "built once");
        assert_eq!(model.refresh().await.unwrap(), 0, "nothing changed");
        storage
            .record_sync_success(t.project_id, "netlify", 7_000, true)
            .await
            .unwrap();
        assert_eq!(model.mark(t.project_id).await.unwrap(), 0, "not read yet");
        assert_eq!(model.refresh().await.unwrap(), 1, "the project changed");
        assert_eq!(model.mark(t.project_id).await.unwrap(), 7_000);
        assert_eq!(model.deploys_mark().await.unwrap(), 7_000);
        let before = storage.calls();
        let (mark, _) = model.get(&storage, &t).await.unwrap();
        assert_eq!((mark, storage.calls() - before), (7_000, 1), "no rebuild");
    }

    #[tokio::test]
    async fn a_stream_never_reads_marks_older_than_the_stale_limit() {
        let (_dir, storage, model, t) = model().await;
        model.refresh().await.unwrap();
        storage
            .record_sync_success(t.project_id, "github", 9_000, true)
            .await
            .unwrap();
        // No refresher runs here: the reader refreshes once the marks are stale.
        *write(&model.inner.checked) = Instant::now().checked_sub(STALE);
        assert_eq!(model.mark(t.project_id).await.unwrap(), 9_000);
    }
}
