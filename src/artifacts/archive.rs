//! Opening a run's artifact (a zip GitHub made, or anyone could have made)
//! without trusting it. The whole archive is checked once, entry by entry,
//! before anything of it is shown: every path must stay inside the archive
//! (no absolute paths, no `..`), no entry may be a symlink, the entry count
//! and the total uncompressed size are capped, and each entry is actually
//! decompressed (into nothing) under a per-entry ratio cap, so a header that
//! lies about its sizes is caught by what the bytes do, not what they say.
//! Entries are then read from the archive on demand, each under the same
//! limits; nothing is written to disk from inside the archive, and an
//! archive inside the archive is listed but never opened.

use std::io::{Read, Seek};
use thiserror::Error;

/// The caps an archive is opened under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest download accepted, in bytes.
    pub download_bytes: u64,
    /// The most entries an archive may hold.
    pub entries: usize,
    /// The most bytes all entries may decompress to together.
    pub total_bytes: u64,
    /// The most one entry may expand over its compressed size (100 = 100×).
    pub ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            download_bytes: 50 * 1024 * 1024,
            entries: 5_000,
            total_bytes: 200 * 1024 * 1024,
            ratio: 100,
        }
    }
}

/// Entries smaller than this are not held to the ratio cap: a few bytes of
/// repeated text compress far better than 100× legitimately.
const RATIO_FLOOR: u64 = 64 * 1024;

/// Why an archive was refused, naming the rule it broke.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ArchiveError {
    #[error("the artifact is {size} bytes, over the {limit}-byte download cap")]
    TooLarge { size: u64, limit: u64 },
    #[error("the artifact is not a zip archive Greenroom can read ({0})")]
    NotZip(String),
    #[error("the artifact holds {count} entries, over the cap of {limit}")]
    TooManyEntries { count: usize, limit: usize },
    #[error("entry {name:?} has a path outside the archive (absolute, or climbing with ..); such archives are refused")]
    Unenclosed { name: String },
    #[error("entry {name:?} is a symbolic link; archives with links are refused")]
    Symlink { name: String },
    #[error(
        "entry {name:?} expands more than {limit}× its compressed size (a zip bomb?); refused"
    )]
    Ratio { name: String, limit: u64 },
    #[error("the entries expand to more than {limit} bytes together, over the cap")]
    TotalTooLarge { limit: u64 },
    #[error("entry {name:?} is {actual} bytes, not the {declared} its header says; the archive is refused")]
    SizeMismatch {
        name: String,
        declared: u64,
        actual: u64,
    },
    #[error("entry {name:?} could not be read: {reason}")]
    Unreadable { name: String, reason: String },
    #[error("the archive has no entry {0:?}")]
    NoSuchEntry(String),
}

/// What an entry holds, judged by its name (its bytes are sniffed again
/// before an image is served).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A JUnit-style XML report (any `.xml`; parsed to find out).
    Xml,
    /// Text to show escaped: logs, `.txt`, `.json`, `.md`, and the like.
    Text,
    /// An image (PNG, JPEG, GIF or WebP once sniffed).
    Image,
    /// An HTML page: only ever offered as a download.
    Html,
    /// An archive inside the archive: listed, never opened.
    Archive,
    /// Anything else: offered as a download.
    Other,
}

impl EntryKind {
    pub fn of(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        match ext {
            "xml" => Self::Xml,
            "log" | "txt" | "out" | "err" | "json" | "md" | "csv" | "yml" | "yaml" => Self::Text,
            "png" | "jpg" | "jpeg" | "gif" | "webp" => Self::Image,
            "html" | "htm" | "xhtml" | "svg" => Self::Html,
            "zip" | "gz" | "tgz" | "tar" | "7z" | "rar" | "bz2" | "xz" | "zst" | "jar" => {
                Self::Archive
            }
            _ => Self::Other,
        }
    }
}

/// One file in a checked archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its path inside the archive, with `/` separators.
    pub path: String,
    /// Its index in the archive.
    pub index: usize,
    /// Its size once decompressed (measured, not declared).
    pub size: u64,
    pub kind: EntryKind,
}

/// An archive that passed every check, and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub entries: Vec<Entry>,
    pub total_bytes: u64,
}

impl Checked {
    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.path == path)
    }
}

/// Counts the bytes read through it: how much of the archive an entry's
/// decompression actually consumed, whatever its header claims.
struct Counting<R> {
    inner: R,
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Checks a whole archive under `limits`; refuses it at the first rule broken.
pub fn check<R: Read + Seek>(mut reader: R, limits: &Limits) -> Result<Checked, ArchiveError> {
    let unreadable = |e: std::io::Error| ArchiveError::NotZip(e.to_string());
    let size = reader.seek(std::io::SeekFrom::End(0)).map_err(unreadable)?;
    reader.rewind().map_err(unreadable)?;
    if size > limits.download_bytes {
        return Err(ArchiveError::TooLarge {
            size,
            limit: limits.download_bytes,
        });
    }
    let consumed = std::rc::Rc::new(std::cell::Cell::new(0_u64));
    let reader = Counting {
        inner: reader,
        read: consumed.clone(),
    };
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| ArchiveError::NotZip(e.to_string()))?;
    if zip.len() > limits.entries {
        return Err(ArchiveError::TooManyEntries {
            count: zip.len(),
            limit: limits.entries,
        });
    }
    let mut entries = Vec::new();
    let mut total = 0_u64;
    for index in 0..zip.len() {
        let mut file = zip.by_index(index).map_err(|e| ArchiveError::Unreadable {
            name: format!("#{index}"),
            reason: e.to_string(),
        })?;
        let name = file
            .name()
            .map(|n| n.into_owned())
            .map_err(|e| ArchiveError::Unreadable {
                name: format!("#{index}"),
                reason: e.to_string(),
            })?;
        // Stricter than `enclosed_name` alone (which makes `/etc/x`
        // relative): the raw name may not be absolute or hold `..` at all.
        let raw_ok = !name.starts_with(['/', '\\'])
            && name.as_bytes().get(1).is_none_or(|b| *b != b':')
            && !name.split(['/', '\\']).any(|part| part == "..");
        let path = file.enclosed_name().filter(|_| raw_ok).and_then(|p| {
            p.components()
                .map(|c| match c {
                    std::path::Component::Normal(part) => part.to_str().map(str::to_string),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
        });
        let Some(path) = path.filter(|p| !p.is_empty()).map(|p| p.join("/")) else {
            return Err(ArchiveError::Unenclosed { name });
        };
        if file.is_symlink() {
            return Err(ArchiveError::Symlink { name });
        }
        if file.is_dir() {
            continue;
        }
        let declared = file.size();
        let room = limits.total_bytes - total;
        let start = consumed.get();
        let actual = drain(&mut file, &name, || consumed.get() - start, room, limits)?;
        if actual != declared {
            return Err(ArchiveError::SizeMismatch {
                name,
                declared,
                actual,
            });
        }
        total += actual;
        entries.push(Entry {
            kind: EntryKind::of(&path),
            path,
            index,
            size: actual,
        });
    }
    Ok(Checked {
        entries,
        total_bytes: total,
    })
}

/// Reads `file` to its end into nothing, stopping as soon as it breaks the
/// room left in the total or expands more than the ratio over the archive
/// bytes it has `consumed` so far (measured, so a header that overstates
/// the compressed size buys nothing); answers its true size.
fn drain(
    file: &mut impl Read,
    name: &str,
    consumed: impl Fn() -> u64,
    room: u64,
    limits: &Limits,
) -> Result<u64, ArchiveError> {
    let mut buf = [0_u8; 16 * 1024];
    let mut read = 0_u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| ArchiveError::Unreadable {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
        if n == 0 {
            return Ok(read);
        }
        read += n as u64;
        let cap = consumed()
            .max(1)
            .saturating_mul(limits.ratio)
            .max(RATIO_FLOOR);
        if read > cap {
            return Err(ArchiveError::Ratio {
                name: name.to_string(),
                limit: limits.ratio,
            });
        }
        if read > room {
            return Err(ArchiveError::TotalTooLarge {
                limit: limits.total_bytes,
            });
        }
    }
}

/// The bytes of `path` in a checked archive, read under the same limits
/// (the archive on disk is immutable, but is read as if it were not: never
/// more than its checked size).
pub fn read_entry<R: Read + Seek>(
    reader: R,
    checked: &Checked,
    path: &str,
    limits: &Limits,
) -> Result<Vec<u8>, ArchiveError> {
    let entry = checked
        .entry(path)
        .ok_or_else(|| ArchiveError::NoSuchEntry(path.to_string()))?;
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| ArchiveError::NotZip(e.to_string()))?;
    let file = zip
        .by_index(entry.index)
        .map_err(|e| ArchiveError::Unreadable {
            name: path.to_string(),
            reason: e.to_string(),
        })?;
    // Checked already: the entry is exactly this long.
    let cap = entry.size.min(limits.total_bytes);
    let mut out = Vec::with_capacity(usize::try_from(entry.size.min(1 << 20)).unwrap_or(0));
    file.take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| ArchiveError::Unreadable {
            name: path.to_string(),
            reason: e.to_string(),
        })?;
    if out.len() as u64 != entry.size {
        return Err(ArchiveError::SizeMismatch {
            name: path.to_string(),
            declared: entry.size,
            actual: out.len() as u64,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
