//! Downloaded artifacts, kept under the data directory. An artifact never
//! changes once uploaded, so one download serves everyone: the first person
//! to open it downloads it (others who ask meanwhile wait for that same
//! download), the archive is checked once, and later openings read the
//! file. The folder is held under a size cap; the artifacts opened least
//! recently go first. An archive that broke a rule is remembered as refused
//! (in memory) rather than downloaded again by each person who asks.

use super::archive::{self, ArchiveError, Checked, Limits};
use crate::providers::error::{ErrorKind, ProviderError};
use crate::providers::github::{GitHubClient, Repo};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use thiserror::Error;

/// Why an artifact cannot be shown.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ArtifactError {
    #[error("this artifact has expired: GitHub deletes artifacts after their retention period, so its files can no longer be opened")]
    Expired,
    #[error("GitHub has no such artifact in this repository (it may have been deleted)")]
    Gone,
    #[error("{0}")]
    Vendor(ProviderError),
    #[error("the artifact was refused: {0}")]
    Refused(ArchiveError),
    #[error("the artifact cache under the data directory failed: {0}. Check that the directory is writable and the disk has room.")]
    Disk(String),
    #[error("the artifact was just removed from Greenroom's cache to make room for others; open it again")]
    Evicted,
}

impl From<ProviderError> for ArtifactError {
    fn from(e: ProviderError) -> Self {
        match (&e.kind, e.status) {
            (ErrorKind::NotFound { .. }, Some(410)) => Self::Expired,
            (ErrorKind::NotFound { .. }, _) => Self::Gone,
            _ => Self::Vendor(e),
        }
    }
}

fn disk(e: std::io::Error) -> ArtifactError {
    ArtifactError::Disk(e.to_string())
}

/// An artifact on disk that passed every check.
#[derive(Debug)]
pub struct Opened {
    pub path: PathBuf,
    /// The size of the zip file.
    pub bytes: u64,
    pub checked: Checked,
}

/// The cache of downloaded artifacts.
pub struct ArtifactStore {
    dir: PathBuf,
    cap_bytes: u64,
    limits: Limits,
    /// One download per artifact at a time; who asks meanwhile waits.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Checked archives by file name: listing them again costs nothing.
    opened: Arc<quick_cache::sync::Cache<String, Arc<Opened>>>,
    /// Archives that broke a rule, by file name.
    refused: quick_cache::sync::Cache<String, ArchiveError>,
}

impl std::fmt::Debug for ArtifactStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactStore")
            .field("dir", &self.dir)
            .field("cap_bytes", &self.cap_bytes)
            .finish_non_exhaustive()
    }
}

/// Where a download is written before it has been checked.
const PARTIAL: &str = ".partial";

impl ArtifactStore {
    /// A store in `dir` (created if missing) holding at most `cap_bytes`
    /// of archives. Downloads a crash left half-written are removed.
    pub fn new(dir: PathBuf, cap_bytes: u64, limits: Limits) -> Result<Self, ArtifactError> {
        std::fs::create_dir_all(&dir).map_err(disk)?;
        for entry in std::fs::read_dir(&dir).map_err(disk)?.flatten() {
            if entry.file_name().to_string_lossy().ends_with(PARTIAL) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Self {
            dir,
            cap_bytes,
            limits,
            flights: Mutex::default(),
            opened: Arc::new(quick_cache::sync::Cache::new(256)),
            refused: quick_cache::sync::Cache::new(256),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The artifact, downloaded and checked (or read from the cache).
    pub async fn open(
        &self,
        github: &GitHubClient,
        repo: &Repo,
        artifact_id: u64,
    ) -> Result<Arc<Opened>, ArtifactError> {
        let name = file_name(repo, artifact_id);
        if let Some(o) = self.cached(&name) {
            return o;
        }
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            flights.entry(name.clone()).or_default().clone()
        };
        let result = {
            let _turn = flight.lock().await;
            match self.cached(&name) {
                Some(o) => o,
                None => self.fetch(github, repo, artifact_id, &name).await,
            }
        };
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if Arc::strong_count(&flight) <= 2 {
            flights.remove(&name);
        }
        result
    }

    /// The bytes of one file of an opened artifact, under the caps.
    pub async fn read(&self, opened: &Arc<Opened>, path: &str) -> Result<Vec<u8>, ArtifactError> {
        let opened = opened.clone();
        let limits = self.limits;
        let path = path.to_string();
        let cache = self.opened.clone();
        tokio::task::spawn_blocking(move || {
            let file = match std::fs::File::open(&opened.path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if let Some(name) = opened.path.file_name() {
                        cache.remove(name.to_string_lossy().as_ref());
                    }
                    return Err(ArtifactError::Evicted);
                }
                Err(e) => return Err(disk(e)),
            };
            archive::read_entry(
                std::io::BufReader::new(file),
                &opened.checked,
                &path,
                &limits,
            )
            .map_err(ArtifactError::Refused)
        })
        .await
        .map_err(|e| ArtifactError::Disk(e.to_string()))?
    }

    /// A checked archive still on disk, or a refusal remembered.
    fn cached(&self, name: &str) -> Option<Result<Arc<Opened>, ArtifactError>> {
        if let Some(e) = self.refused.get(name) {
            return Some(Err(ArtifactError::Refused(e)));
        }
        let o = self.opened.get(name)?;
        if touch(&o.path).is_err() {
            // Evicted (by this instance or another sharing the folder).
            self.opened.remove(name);
            return None;
        }
        Some(Ok(o))
    }

    async fn fetch(
        &self,
        github: &GitHubClient,
        repo: &Repo,
        artifact_id: u64,
        name: &str,
    ) -> Result<Arc<Opened>, ArtifactError> {
        let path = self.dir.join(name);
        // Marked as used first, so that an eviction running meanwhile takes
        // older files; a file evicted all the same is downloaded again.
        if touch(&path).is_err() {
            match self.download(github, repo, artifact_id, &path).await {
                Err(ArtifactError::Refused(e)) => {
                    self.refused.insert(name.to_string(), e.clone());
                    return Err(ArtifactError::Refused(e));
                }
                r => r?,
            }
        }
        let checked = {
            let (path, limits) = (path.clone(), self.limits);
            tokio::task::spawn_blocking(move || {
                let file = std::fs::File::open(&path).map_err(disk)?;
                archive::check(std::io::BufReader::new(file), &limits)
                    .map_err(ArtifactError::Refused)
            })
            .await
            .map_err(|e| ArtifactError::Disk(e.to_string()))?
        };
        let checked = match checked {
            Ok(c) => c,
            Err(ArtifactError::Refused(e)) => {
                let _ = std::fs::remove_file(&path);
                self.refused.insert(name.to_string(), e.clone());
                return Err(ArtifactError::Refused(e));
            }
            Err(e) => return Err(e),
        };
        let bytes = std::fs::metadata(&path).map_err(disk)?.len();
        touch(&path).map_err(disk)?;
        let opened = Arc::new(Opened {
            path,
            bytes,
            checked,
        });
        self.opened.insert(name.to_string(), opened.clone());
        self.evict(name);
        Ok(opened)
    }

    /// Downloads to a partial file, never past the download cap, and moves
    /// it into place only when complete.
    async fn download(
        &self,
        github: &GitHubClient,
        repo: &Repo,
        artifact_id: u64,
        path: &Path,
    ) -> Result<(), ArtifactError> {
        let cap = self.limits.download_bytes;
        let too_large = |size| ArtifactError::Refused(ArchiveError::TooLarge { size, limit: cap });
        let mut d = github.open_artifact_download(repo, artifact_id).await?;
        if let Some(n) = d.content_length().filter(|n| *n > cap) {
            return Err(too_large(n));
        }
        let partial = Partial(path.with_file_name(format!(
            "{}.{:x}{PARTIAL}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            rand_suffix()
        )));
        // If the request is dropped mid-way, `partial` is removed on drop.
        let mut file = std::fs::File::create(&partial.0).map_err(disk)?;
        let mut written = 0u64;
        while let Some(chunk) = d.chunk().await? {
            written += chunk.len() as u64;
            if written > cap {
                return Err(too_large(written));
            }
            file.write_all(&chunk).map_err(disk)?;
        }
        file.sync_all().map_err(disk)?;
        std::fs::rename(&partial.0, path).map_err(disk)
    }

    /// Removes the archives opened least recently until the folder is
    /// under its cap; `keep` (just opened) stays even when it alone is over.
    fn evict(&self, keep: &str) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(SystemTime, u64, String)> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let meta = e.metadata().ok()?;
                (name.ends_with(".zip") && meta.is_file()).then(|| {
                    (
                        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        meta.len(),
                        name,
                    )
                })
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort();
        for (_, size, name) in files {
            if total <= self.cap_bytes {
                break;
            }
            if name == keep {
                continue;
            }
            if std::fs::remove_file(self.dir.join(&name)).is_ok() {
                self.opened.remove(&name);
                total -= size;
                tracing::debug!(artifact = %name, "artifact evicted from the cache");
            }
        }
    }
}

/// The cache file of one artifact: owners have no `.` and neither part a
/// `+`, so the name is unambiguous.
fn file_name(repo: &Repo, artifact_id: u64) -> String {
    let clean = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    format!(
        "{}+{}+{artifact_id}.zip",
        clean(&repo.owner),
        clean(&repo.name)
    )
}

/// A download being written; removed when dropped (after a successful
/// rename there is nothing left to remove).
struct Partial(PathBuf);

impl Drop for Partial {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Marks the file as just used (eviction goes by modification time).
fn touch(path: &Path) -> std::io::Result<()> {
    std::fs::File::options()
        .write(true)
        .open(path)?
        .set_modified(SystemTime::now())
}

fn rand_suffix() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_file_names_are_distinct_and_plain() {
        assert_eq!(
            file_name(&Repo::new("acme", "web.app"), 7),
            "acme+web.app+7.zip"
        );
        assert_ne!(
            file_name(&Repo::new("a", "b.c"), 1),
            file_name(&Repo::new("a.b", "c"), 1)
        );
        assert_eq!(file_name(&Repo::new("../x", "y/z"), 2), ".._x+y_z+2.zip");
    }

    fn zip_of(size: usize) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("a.txt", stored).unwrap();
        w.write_all(&vec![b'x'; size]).unwrap();
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn eviction_removes_the_least_recently_opened_first_and_keeps_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::new(dir.path().join("a"), 2500, Limits::default()).unwrap();
        let old = SystemTime::now() - std::time::Duration::from_secs(3600);
        for (i, name) in ["x+y+1.zip", "x+y+2.zip", "x+y+3.zip"].iter().enumerate() {
            let p = store.dir.join(name);
            std::fs::write(&p, zip_of(1000)).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(old + std::time::Duration::from_secs(i as u64))
                .unwrap();
        }
        // Opened just now: the oldest by use is 2, then 3.
        touch(&store.dir.join("x+y+1.zip")).unwrap();
        std::fs::write(store.dir.join("x+y+4.zip.1a.partial"), b"half").unwrap();
        store.evict("x+y+1.zip");
        let mut left: Vec<String> = std::fs::read_dir(&store.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".zip"))
            .collect();
        left.sort();
        assert_eq!(left, ["x+y+1.zip", "x+y+3.zip"]);
        // A new store clears half-written downloads.
        drop(store);
        ArtifactStore::new(dir.path().join("a"), 2500, Limits::default()).unwrap();
        assert!(!dir.path().join("a/x+y+4.zip.1a.partial").exists());
    }
}
