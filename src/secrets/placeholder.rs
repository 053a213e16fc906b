//! Values that are there but are not a real value: an empty string, a
//! sample left in place, a mask pasted back.

use serde::{Deserialize, Serialize};

/// Why a present value counts as empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placeholder {
    /// Empty or only whitespace.
    Empty,
    /// A well-known stand-in: `changeme`, `****`, `<your-key>`, `xxx`, `todo`...
    StandIn,
    /// Equal to the sample value `.env.example` gives for the key.
    Sample,
}

impl Placeholder {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::StandIn => "placeholder",
            Self::Sample => "the .env.example sample",
        }
    }
}

/// Whether `value` is a placeholder; `sample` is `.env.example`'s value for
/// the key, if it gives a non-empty one.
pub fn placeholder(value: &str, sample: Option<&str>) -> Option<Placeholder> {
    let v = value.trim();
    if v.is_empty() {
        return Some(Placeholder::Empty);
    }
    if sample.is_some_and(|s| !s.trim().is_empty() && s.trim() == v) {
        return Some(Placeholder::Sample);
    }
    stand_in(v).then_some(Placeholder::StandIn)
}

fn stand_in(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "changeme",
        "change-me",
        "change_me",
        "replaceme",
        "replace-me",
        "replace_me",
        "todo",
        "tbd",
        "placeholder",
        "secret",
        "password",
        "null",
        "none",
        "undefined",
        "example",
    ];
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    // A mask pasted back (`****`, `••••`) or a run of x's (`xxx`, `XXXX-XXXX`).
    let masked = v.chars().all(|c| matches!(c, '*' | '•' | '.' | '-' | '_'))
        && v.chars().any(|c| c == '*' || c == '•');
    let xs = v.len() >= 3 && lower.chars().all(|c| c == 'x' || c == '-' || c == '_');
    // `<your-key>`, `{{API_KEY}}`, `[insert key]`, `your-api-key-here`.
    let bracketed = (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with("{{") && v.ends_with("}}"))
        || (v.starts_with('[') && v.ends_with(']'));
    let yours = lower.starts_with("your-")
        || lower.starts_with("your_")
        || lower.ends_with("-here")
        || lower.ends_with("_here");
    masked || xs || bracketed || yours
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_are_placeholders_and_real_values_are_not() {
        for v in [
            "",
            "  ",
            "changeme",
            "CHANGEME",
            "****",
            "••••",
            "<your-key>",
            "xxx",
            "XXXX-XXXX",
            "{{API_KEY}}",
            "your-api-key-here",
            "todo",
        ] {
            assert!(placeholder(v, None).is_some(), "{v:?} is a placeholder");
        }
        for v in [
            "sbp_1234",
            "https://abc.supabase.co",
            "0",
            "false",
            "staging",
            "x",
            "a*b",
            "eyJhbGciOi.xyz.abc",
        ] {
            assert_eq!(placeholder(v, None), None, "{v:?} is a value");
        }
    }

    #[test]
    fn the_example_files_sample_counts_as_a_placeholder_only_when_it_has_one() {
        assert_eq!(
            placeholder("development", Some("development")),
            Some(Placeholder::Sample)
        );
        assert_eq!(placeholder("staging", Some("development")), None);
        assert_eq!(placeholder("staging", Some("")), None);
        assert_eq!(placeholder("", Some("")), Some(Placeholder::Empty));
    }
}
