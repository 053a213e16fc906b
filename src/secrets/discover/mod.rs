//! Requirements read from the repository itself: the deploy workflow's
//! `secrets.*` and `vars.*`, the contexts of `netlify.toml`, the keys of
//! `.env.example`. A file that cannot be parsed becomes a problem naming the
//! file and line; the other files are still read.

pub mod dotenv;
pub mod netlify_toml;
pub mod workflow;

use super::sources::{Read, RepoFiles};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A file that could not be (fully) read: which, where, and why, never
/// with the file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProblem {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A workflow reference with the file it came from.
#[derive(Debug, Clone)]
pub struct FoundReference {
    pub file: String,
    pub reference: workflow::Reference,
}

/// What discovery found in the repository's files.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    pub references: Vec<FoundReference>,
    pub netlify: Option<(String, netlify_toml::NetlifyToml)>,
    pub example: Option<(String, dotenv::EnvFile)>,
    pub problems: Vec<FileProblem>,
    /// Files that could not be fetched, with why: their requirements are unknown.
    pub unread: Vec<(String, String)>,
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub fn discover(files: &RepoFiles) -> Discovered {
    let mut found = Discovered::default();
    for read in &files.workflow {
        match read {
            Read::Unknown(why) => found.unread.push(("workflow".into(), why.clone())),
            Read::Got(None) => {}
            Read::Got(Some(f)) => {
                // The same file at two branches gives the same references twice.
                match workflow::references(file_name(&f.path), &f.text) {
                    Ok(refs) => {
                        for r in refs {
                            let dup = found.references.iter().any(|x| {
                                x.reference.name.eq_ignore_ascii_case(&r.name)
                                    && x.reference.kind == r.kind
                                    && x.reference.environment == r.environment
                            });
                            if !dup {
                                found.references.push(FoundReference {
                                    file: file_name(&f.path).to_string(),
                                    reference: r,
                                });
                            }
                        }
                    }
                    Err(p) => {
                        if !found.problems.contains(&p) {
                            found.problems.push(p)
                        }
                    }
                }
            }
        }
    }
    match &files.netlify_toml {
        Read::Unknown(why) => found.unread.push(("netlify.toml".into(), why.clone())),
        Read::Got(None) => {}
        Read::Got(Some(f)) => match netlify_toml::parse(file_name(&f.path), &f.text) {
            Ok(t) => found.netlify = Some((file_name(&f.path).to_string(), t)),
            Err(p) => found.problems.push(p),
        },
    }
    match &files.env_example {
        Read::Unknown(why) => found.unread.push((".env.example".into(), why.clone())),
        Read::Got(None) => {}
        Read::Got(Some(f)) => {
            let parsed = dotenv::parse(file_name(&f.path), &f.text);
            found.problems.extend(parsed.problems.iter().cloned());
            found.example = Some((file_name(&f.path).to_string(), parsed));
        }
    }
    found
}

#[cfg(test)]
mod never_panics {
    //! Whatever a repository or a person hands over, parsing returns.
    use proptest::prelude::*;

    /// Text built from the characters these formats care about, so the
    /// parsers' odd corners are reached, not only their first error.
    fn syntaxy() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("\n".to_string()),
                Just("  ".to_string()),
                Just("=".to_string()),
                Just(":".to_string()),
                Just("- ".to_string()),
                Just("[".to_string()),
                Just("]".to_string()),
                Just("{".to_string()),
                Just("}".to_string()),
                Just("\"".to_string()),
                Just("'".to_string()),
                Just("#".to_string()),
                Just("$".to_string()),
                Just("|".to_string()),
                Just(">".to_string()),
                Just("&a".to_string()),
                Just("*a".to_string()),
                Just("${{ secrets.X }}".to_string()),
                Just("[context.staging]".to_string()),
                Just("jobs:".to_string()),
                Just("export ".to_string()),
                "[A-Za-z_]{1,6}".prop_map(|s| s),
                any::<char>().prop_map(|c| c.to_string()),
            ],
            0..60,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn dotenv_input_never_panics(text in prop_oneof![syntaxy(), any::<String>()]) {
            let parsed = super::dotenv::parse(".env.local", &text);
            for p in &parsed.problems {
                prop_assert!(p.line.is_none_or(|l| l <= text.lines().count() + 1));
            }
        }

        #[test]
        fn toml_input_never_panics(text in prop_oneof![syntaxy(), any::<String>()]) {
            let _ = super::netlify_toml::parse("netlify.toml", &text);
        }

        #[test]
        fn yaml_input_never_panics(text in prop_oneof![syntaxy(), any::<String>()]) {
            let _ = super::workflow::references("ci.yml", &text);
        }
    }
}
