//! `.env` files (`.env.example` from the repository, an uploaded
//! `.env.local`), parsed with dotenvy. Values stay wrapped in [`Secret`];
//! errors name the line and never echo it.
//!
//! dotenvy expands `$NAME` / `${NAME}` from the process environment, which
//! here is Greenroom's own (its vendor tokens). A value written with an
//! expansion is therefore not taken: its cell says the value is not known,
//! and nothing of the server's environment is compared or shown.

use super::FileProblem;
use crate::Secret;

/// Larger uploads are refused before parsing.
pub const MAX_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub enum EnvValue {
    Value(Secret),
    /// Written with `$NAME` expansion, which Greenroom does not evaluate.
    Expanded,
}

#[derive(Debug, Clone)]
pub struct EnvEntry {
    pub key: String,
    pub line: usize,
    pub value: EnvValue,
}

/// A parsed file: its entries (the last one wins for a repeated key) and
/// the lines that could not be read.
#[derive(Debug, Clone, Default)]
pub struct EnvFile {
    pub entries: Vec<EnvEntry>,
    pub problems: Vec<FileProblem>,
}

impl EnvFile {
    pub fn get(&self, key: &str) -> Option<&EnvEntry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

/// The line (1-based) where `key` is assigned last, and the raw text after
/// its `=`: through the closing quote when a double-quoted value goes on
/// over several lines (dotenvy expands `$` on every one of them).
fn assignment(text: &str, key: &str) -> Option<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = None;
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim_start();
        let l = l.strip_prefix("export ").map(str::trim_start).unwrap_or(l);
        if let Some(rest) = l.strip_prefix(key) {
            if let Some(value) = rest.trim_start().strip_prefix('=') {
                let mut raw = value.to_string();
                if opens_quote(value) {
                    for next in &lines[i + 1..] {
                        raw.push('\n');
                        raw.push_str(next);
                        if next.contains('"') {
                            break;
                        }
                    }
                }
                found = Some((i + 1, raw));
            }
        }
    }
    found
}

/// Whether a raw value starts a double-quoted string it does not close.
fn opens_quote(raw: &str) -> bool {
    let Some(inner) = raw.trim_start().strip_prefix('"') else {
        return false;
    };
    let mut escaped = false;
    for c in inner.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return false,
            _ => escaped = false,
        }
    }
    true
}

/// Whether dotenvy would have expanded something in this raw value: a `$`
/// that is not inside single quotes and not escaped.
fn expands(raw: &str) -> bool {
    let raw = raw.trim_start();
    if raw.starts_with('\'') {
        return false;
    }
    let mut escaped = false;
    for c in raw.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '$' if !escaped => return true,
            '#' if !escaped && !raw.starts_with('"') => return false,
            _ => escaped = false,
        }
    }
    false
}

/// Parses `text` as the file `name` (used in problems). Empty lines and
/// comments are skipped; one bad line does not stop the rest.
pub fn parse(name: &str, text: &str) -> EnvFile {
    let mut file = EnvFile::default();
    if text.len() > MAX_BYTES {
        file.problems.push(FileProblem {
            file: name.to_string(),
            line: None,
            message: format!("larger than {} KiB; not read", MAX_BYTES / 1024),
        });
        return file;
    }
    let line_count = text.lines().count();
    let mut iter = dotenvy::from_read_iter(text.as_bytes());
    // Each step consumes at least one line; the bound only guards a loop.
    for _ in 0..=line_count + 1 {
        match iter.next() {
            None => break,
            Some(Ok((key, value))) => {
                let value = Secret::new(value);
                let (line, raw) = assignment(text, &key).unwrap_or((0, String::new()));
                let value = if expands(&raw) {
                    EnvValue::Expanded
                } else {
                    EnvValue::Value(value)
                };
                file.entries.retain(|e| e.key != key);
                file.entries.push(EnvEntry { key, line, value });
            }
            Some(Err(dotenvy::Error::LineParse(content, _))) => {
                // The content is used only to find its line, then dropped.
                let content = Secret::new(content);
                let line = text
                    .find(content.expose().lines().next().unwrap_or(""))
                    .filter(|_| !content.is_empty())
                    .map(|at| text[..at].matches('\n').count() + 1);
                file.problems.push(FileProblem {
                    file: name.to_string(),
                    line,
                    message: "cannot be parsed (an unclosed quote, a bad escape or a line without KEY=VALUE)".into(),
                });
            }
            Some(Err(_)) => {
                file.problems.push(FileProblem {
                    file: name.to_string(),
                    line: None,
                    message: "cannot be read as text".into(),
                });
                break;
            }
        }
    }
    file.entries.sort_by_key(|e| e.line);
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(f: &EnvFile, key: &str) -> Option<String> {
        match &f.get(key)?.value {
            EnvValue::Value(s) => Some(s.expose().to_string()),
            EnvValue::Expanded => Some("<expanded>".into()),
        }
    }

    #[test]
    fn reads_keys_lines_and_values_in_the_usual_forms() {
        let f = parse(
            ".env.local",
            "# comment\nA=1\n\nexport B = \"two words\"\nC='lit$eral'\nD=\nA=again\nE=x # note\n",
        );
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        let keys: Vec<_> = f.entries.iter().map(|e| (e.key.as_str(), e.line)).collect();
        assert_eq!(keys, vec![("B", 4), ("C", 5), ("D", 6), ("A", 7), ("E", 8)]);
        assert_eq!(value(&f, "A").as_deref(), Some("again"));
        assert_eq!(value(&f, "B").as_deref(), Some("two words"));
        assert_eq!(value(&f, "C").as_deref(), Some("lit$eral"));
        assert_eq!(value(&f, "D").as_deref(), Some(""));
        assert_eq!(value(&f, "E").as_deref(), Some("x"));
    }

    #[test]
    fn an_expansion_is_never_evaluated_against_the_servers_environment() {
        let f = parse(
            ".env.local",
            "HOME_DIR=${HOME}\nPATHS=$PATH:/x\nQ=\"a\\$b\"\n",
        );
        assert_eq!(value(&f, "HOME_DIR").as_deref(), Some("<expanded>"));
        assert_eq!(value(&f, "PATHS").as_deref(), Some("<expanded>"));
        assert_eq!(value(&f, "Q").as_deref(), Some("a$b"));
        // A `$` on a later line of a multi-line quoted value counts too.
        let f = parse(
            ".env.local",
            "M=\"first\nsecond ${HOME}\"\nN=\"one\ntwo\"\n",
        );
        assert_eq!(value(&f, "M").as_deref(), Some("<expanded>"));
        assert_eq!(value(&f, "N").as_deref(), Some("one\ntwo"));
    }

    #[test]
    fn a_bad_line_is_named_without_its_content_and_the_rest_is_read() {
        let f = parse(".env.local", "A=1\nB=\"sk_canary_unclosed\nC=3\n");
        assert_eq!(value(&f, "A").as_deref(), Some("1"));
        let p = &f.problems[0];
        assert_eq!(p.line, Some(2));
        assert!(!p.message.contains("canary"));
        assert!(!format!("{p:?}").contains("canary"));
    }

    #[test]
    fn an_oversized_file_is_refused() {
        let big = "A=1\n".repeat(MAX_BYTES / 4 + 1);
        let f = parse(".env.local", &big);
        assert!(f.entries.is_empty());
        assert_eq!(f.problems.len(), 1);
    }
}
