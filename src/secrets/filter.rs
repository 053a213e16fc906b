//! What the page's filters keep of a report: problems only, one location,
//! keys matching a text. Dismissed findings are set apart, not dropped: the
//! page still lists them, with who dismissed them and why.

use super::coverage::{Cell, Coverage, Row, Verdict};
use super::findings::Finding;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageFilter {
    /// Only rows with something wrong: a requirement not met, a value that
    /// is empty, unknown, or named by an open finding.
    pub problems_only: bool,
    /// One column, by its label, and the findings about it.
    pub location: Option<String>,
    /// Keys containing this text, in any case.
    pub key: Option<String>,
}

/// Whether a finding about `key` concerns this row. Findings without a key
/// (scanning switched off, a file that could not be read) concern them all.
fn names_row(f: &Finding, row: &Row) -> bool {
    f.key.as_deref().is_none_or(|k| k == row.key)
}

/// A requirement not met, a placeholder anywhere, a store a requirement
/// looks in that could not be read, or an open finding about the key. (A
/// store nobody needs the key in being unreadable is not this row's problem.)
fn has_problem(row: &Row, open: &[&Finding]) -> bool {
    let needed = |i: usize| row.needs.iter().any(|n| n.columns.contains(&i));
    row.needs.iter().any(|n| n.verdict != Verdict::Present)
        || row.cells.iter().enumerate().any(|(i, c)| match c {
            Cell::Placeholder { .. } => true,
            Cell::Unknown { .. } => needed(i),
            _ => false,
        })
        || open
            .iter()
            .any(|f| f.key.as_deref() == Some(row.key.as_str()))
}

impl CoverageFilter {
    /// Whether any filter is set.
    pub fn is_set(&self) -> bool {
        self.problems_only || self.location.is_some() || self.key.is_some()
    }

    /// The report as the filters show it. `dismissed` says whether a
    /// finding is dismissed now; dismissed findings do not make a row a
    /// problem.
    pub fn apply(&self, report: &Coverage, dismissed: impl Fn(&Finding) -> bool) -> Coverage {
        let mut out = report.clone();
        let wanted = self.key.as_deref().map(str::to_ascii_lowercase);
        let open: Vec<&Finding> = report.findings.iter().filter(|f| !dismissed(f)).collect();
        out.rows.retain(|row| {
            wanted
                .as_deref()
                .is_none_or(|w| row.key.to_ascii_lowercase().contains(w))
                && (!self.problems_only || has_problem(row, &open))
        });
        if let Some(w) = &wanted {
            out.findings.retain(|f| {
                f.key
                    .as_deref()
                    .is_none_or(|k| k.to_ascii_lowercase().contains(w))
            });
        }
        if self.key.is_some() || self.problems_only {
            let rows = &out.rows;
            out.findings
                .retain(|f| f.key.is_none() || rows.iter().any(|r| names_row(f, r)));
        }
        if let Some(label) = &self.location {
            if let Some(i) = report.columns.iter().position(|c| &c.label == label) {
                out.findings
                    .retain(|f| f.columns.is_empty() || f.columns.contains(&i));
                out.columns = vec![report.columns[i].clone()];
                for row in &mut out.rows {
                    row.cells = vec![row.cells[i].clone()];
                    for need in &mut row.needs {
                        need.columns = need
                            .columns
                            .iter()
                            .filter(|&&c| c == i)
                            .map(|_| 0)
                            .collect();
                    }
                }
                // Problems in this store: a requirement looked for here and
                // not met, or a value here that is empty or unknown.
                if self.problems_only {
                    out.rows.retain(|row| {
                        row.needs
                            .iter()
                            .any(|n| !n.columns.is_empty() && n.verdict != Verdict::Present)
                            || matches!(
                                row.cells[0],
                                Cell::Placeholder { .. } | Cell::Unknown { .. }
                            )
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::coverage::{Column, Need, Outcome, RowGroup};
    use crate::secrets::findings::Severity;
    use crate::secrets::location::{GithubLevel, Location};

    fn need(verdict: Verdict, columns: Vec<usize>) -> Need {
        Need {
            target: "github".into(),
            origin: "config".into(),
            declared: true,
            verdict,
            columns,
        }
    }

    fn report() -> Coverage {
        let col = |level| Column {
            location: Location::GithubSecrets { level },
            label: String::new(),
            link: None,
        };
        let mut columns = vec![col(GithubLevel::Repository), col(GithubLevel::Organization)];
        columns[0].label = "GitHub secrets: repository".into();
        columns[1].label = "GitHub secrets: organization".into();
        let written = Cell::WriteOnly {
            updated_at: None,
            updated_by: None,
        };
        Coverage {
            project: "p".into(),
            columns,
            rows: vec![
                Row {
                    key: "GOOD".into(),
                    group: RowGroup::Required,
                    cells: vec![written.clone(), Cell::Absent],
                    needs: vec![need(Verdict::Present, vec![0, 1])],
                },
                Row {
                    key: "GONE".into(),
                    group: RowGroup::Required,
                    cells: vec![Cell::Absent, Cell::Absent],
                    needs: vec![need(Verdict::Missing, vec![0, 1])],
                },
                Row {
                    key: "EXTRA".into(),
                    group: RowGroup::Unrequired,
                    cells: vec![Cell::Absent, written],
                    needs: vec![],
                },
            ],
            findings: vec![
                Finding {
                    id: "missing:GONE:github".into(),
                    severity: Severity::High,
                    key: Some("GONE".into()),
                    title: "GONE is missing".into(),
                    detail: String::new(),
                    fix: None,
                    columns: vec![0, 1],
                },
                Finding {
                    id: "rotation-drift:EXTRA".into(),
                    severity: Severity::Low,
                    key: Some("EXTRA".into()),
                    title: "EXTRA drift".into(),
                    detail: String::new(),
                    fix: None,
                    columns: vec![1],
                },
            ],
            problems: vec![],
            unread: vec![],
            env_local_checked: false,
            outcome: Outcome::Missing,
        }
    }

    fn keys(c: &Coverage) -> Vec<&str> {
        c.rows.iter().map(|r| r.key.as_str()).collect()
    }

    #[test]
    fn no_filter_keeps_everything() {
        let r = report();
        assert_eq!(CoverageFilter::default().apply(&r, |_| false), r);
    }

    #[test]
    fn problems_only_keeps_unmet_rows_and_rows_with_open_findings() {
        let f = CoverageFilter {
            problems_only: true,
            ..Default::default()
        };
        let shown = f.apply(&report(), |_| false);
        assert_eq!(keys(&shown), ["GONE", "EXTRA"]);
        // Once its finding is dismissed, EXTRA is no longer a problem.
        let shown = f.apply(&report(), |f| f.id.starts_with("rotation-drift"));
        assert_eq!(keys(&shown), ["GONE"]);
        assert_eq!(shown.findings.len(), 1);
    }

    #[test]
    fn key_filter_ignores_case_and_narrows_findings() {
        let f = CoverageFilter {
            key: Some("gon".into()),
            ..Default::default()
        };
        let shown = f.apply(&report(), |_| false);
        assert_eq!(keys(&shown), ["GONE"]);
        assert_eq!(shown.findings.len(), 1);
    }

    #[test]
    fn location_filter_keeps_one_column() {
        let f = CoverageFilter {
            location: Some("GitHub secrets: organization".into()),
            ..Default::default()
        };
        let shown = f.apply(&report(), |_| false);
        assert_eq!(shown.columns.len(), 1);
        assert!(shown.rows.iter().all(|r| r.cells.len() == 1));
        assert!(matches!(shown.rows[2].cells[0], Cell::WriteOnly { .. }));
        assert_eq!(shown.rows[1].needs[0].columns, vec![0]);
        // An unknown label filters nothing rather than emptying the page.
        let f = CoverageFilter {
            location: Some("nowhere".into()),
            ..Default::default()
        };
        assert_eq!(f.apply(&report(), |_| false).columns.len(), 2);
    }

    #[test]
    fn location_filter_keeps_the_findings_about_that_column() {
        let at = |label: &str| CoverageFilter {
            location: Some(label.into()),
            ..Default::default()
        };
        let ids = |c: Coverage| c.findings.into_iter().map(|f| f.id).collect::<Vec<_>>();
        let mut r = report();
        assert_eq!(
            ids(at("GitHub secrets: repository").apply(&r, |_| false)),
            ["missing:GONE:github"]
        );
        assert_eq!(
            ids(at("GitHub secrets: organization").apply(&r, |_| false)),
            ["missing:GONE:github", "rotation-drift:EXTRA"]
        );
        // A finding about no one store (an unreadable file) stays everywhere.
        r.findings[1].columns.clear();
        assert_eq!(
            ids(at("GitHub secrets: repository").apply(&r, |_| false)),
            ["missing:GONE:github", "rotation-drift:EXTRA"]
        );
    }
}
