//! A test's results across runs: how one run's reports become one outcome
//! per test (a test that failed and then passed within the run, as a retry
//! does, is `flaky`), and when a test's recent results make it flaky (it
//! failed and passed on the same commit: a re-run, or a retry).

use super::junit::{Outcome, Report};
use crate::storage::TestResultRecord;
use std::collections::BTreeMap;

/// Results shown per test.
pub const STRIP: usize = 20;
/// Longer keys are cut: a test's name is for people, not a payload.
const MAX_KEY_CHARS: usize = 300;

/// How a test is known across runs: its suite and its name.
pub fn test_key(suite: &str, name: &str) -> String {
    let key = format!("{suite} › {name}");
    match key.char_indices().nth(MAX_KEY_CHARS) {
        Some((at, _)) => key[..at].to_string(),
        None => key,
    }
}

/// One outcome per test of a run's reports.
pub fn outcomes(reports: &[&Report]) -> Vec<(String, String)> {
    let mut seen: BTreeMap<String, (bool, bool, Outcome)> = BTreeMap::new();
    for r in reports {
        for s in &r.suites {
            for c in &s.cases {
                let e = seen
                    .entry(test_key(&s.name, &c.name))
                    .or_insert((false, false, c.outcome));
                match c.outcome {
                    Outcome::Failed | Outcome::Error => e.0 = true,
                    Outcome::Passed => e.1 = true,
                    Outcome::Skipped => {}
                }
                e.2 = e.2.min(c.outcome);
            }
        }
    }
    seen.into_iter()
        .map(|(k, (failed, passed, worst))| {
            let o = if failed && passed {
                "flaky"
            } else {
                worst.as_str()
            };
            (k, o.to_string())
        })
        .collect()
}

fn failing(outcome: &str) -> bool {
    matches!(outcome, "failed" | "error")
}

/// Whether a test's results (newest first) show it flaky: a retry that
/// passed within a run, or a failure and a pass on the same commit.
pub fn is_flaky(history: &[TestResultRecord]) -> bool {
    if history.iter().any(|r| r.outcome == "flaky") {
        return true;
    }
    history.iter().filter(|r| failing(&r.outcome)).any(|f| {
        history
            .iter()
            .any(|p| p.outcome == "passed" && p.head_sha == f.head_sha)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::junit;

    fn rec(sha: &str, attempt: i64, outcome: &str) -> TestResultRecord {
        TestResultRecord {
            test_key: "s › t".into(),
            run_id: 1,
            run_attempt: attempt,
            run_number: 1,
            head_sha: sha.into(),
            run_at_ms: 0,
            outcome: outcome.into(),
        }
    }

    #[test]
    fn a_retry_within_a_run_is_flaky_and_other_outcomes_are_kept() {
        let xml = br#"<testsuites>
          <testsuite name="smoke">
            <testcase name="signs in"><failure message="timeout"/></testcase>
            <testcase name="signs in"/>
            <testcase name="reads a row"/>
            <testcase name="writes a row"><error message="boom"/></testcase>
            <testcase name="later"><skipped/></testcase>
          </testsuite>
        </testsuites>"#;
        let r = junit::parse("r.xml", xml).unwrap();
        let got = outcomes(&[&r]);
        assert_eq!(
            got,
            [
                ("smoke › later".to_string(), "skipped".to_string()),
                ("smoke › reads a row".into(), "passed".into()),
                ("smoke › signs in".into(), "flaky".into()),
                ("smoke › writes a row".into(), "error".into()),
            ]
        );
    }

    #[test]
    fn a_failure_and_a_pass_on_one_commit_is_flaky_on_two_commits_is_not() {
        assert!(is_flaky(&[rec("a", 2, "passed"), rec("a", 1, "failed")]));
        assert!(is_flaky(&[rec("b", 1, "flaky")]));
        assert!(!is_flaky(&[rec("b", 1, "passed"), rec("a", 1, "failed")]));
        assert!(!is_flaky(&[rec("a", 1, "failed"), rec("a", 2, "error")]));
        assert!(!is_flaky(&[]));
    }

    #[test]
    fn keys_are_cut_at_a_character_boundary() {
        let k = test_key("s", &"é".repeat(400));
        assert_eq!(k.chars().count(), MAX_KEY_CHARS);
    }
}
