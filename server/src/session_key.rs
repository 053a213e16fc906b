//! The key that signs session cookies: from `GREENROOM_SESSION_KEY` (base64
//! of at least 64 bytes; give every instance sharing a database the same
//! one), or generated on first start and kept in `<data_dir>/session.key`
//! (readable by its owner only). Never committed, never logged.

use base64::Engine;
use std::path::Path;
use tower_sessions::cookie::Key;

pub const ENV: &str = "GREENROOM_SESSION_KEY";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{ENV} must be base64 of at least 64 random bytes (e.g. `openssl rand -base64 64`)")]
    BadEnv,
    #[error("the session key file {path} is unusable: {reason}; delete it to have a new one made (everyone signs in again)")]
    BadFile { path: String, reason: String },
}

fn decode(text: &str) -> Option<Key> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.split_whitespace().collect::<String>())
        .ok()?;
    (bytes.len() >= 64).then(|| Key::from(&bytes))
}

pub fn load(env: Option<String>, data_dir: &Path) -> Result<Key, KeyError> {
    if let Some(v) = env.filter(|v| !v.trim().is_empty()) {
        return decode(&v).ok_or(KeyError::BadEnv);
    }
    let path = data_dir.join("session.key");
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => decode(&text).ok_or(KeyError::BadFile {
            path: shown,
            reason: "not base64 of 64 or more bytes".into(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Key::generate();
            let text = base64::engine::general_purpose::STANDARD.encode(key.master());
            write_private(&path, &text).map_err(|e| KeyError::BadFile {
                path: shown,
                reason: e.to_string(),
            })?;
            tracing::info!(path = %path.display(), "generated a session key");
            Ok(key)
        }
        Err(e) => Err(KeyError::BadFile {
            path: shown,
            reason: e.to_string(),
        }),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    opts.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_then_reused_and_a_bad_env_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = load(None, dir.path()).unwrap();
        let b = load(None, dir.path()).unwrap();
        assert_eq!(a.master(), b.master());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("session.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            load(Some("short".into()), dir.path()),
            Err(KeyError::BadEnv)
        ));
        let env = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        assert_eq!(
            load(Some(env), dir.path()).unwrap().master(),
            Key::from(&[7u8; 64]).master()
        );
    }
}
