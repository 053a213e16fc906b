//! The filters of the history and activity pages (and of their exports), as
//! people write them in a URL: checked, and turned into storage filters with
//! their page cursors. Every problem is named in words a person can act on.

use crate::storage::{AuditCursor, AuditFilter, AuditOutcome, DeployCursor, DeployFilter};
use crate::sync::SyncTarget;
use crate::text::parse_day;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;

/// What is wrong with a filter, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

/// The history page's filters, as query parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeployParams {
    pub project: Option<String>,
    /// `staging` or `production`; needs a project.
    pub site: Option<String>,
    pub context: Option<String>,
    pub state: Option<String>,
    pub branch: Option<String>,
    pub author: Option<String>,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub until: Option<String>,
    /// `created_at_ms.deploy_id` of the last row seen.
    pub after: Option<String>,
}

/// The activity page's filters, as query parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditParams {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub project: Option<String>,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub until: Option<String>,
    /// `occurred_at_ms.id` of the last row seen.
    pub after: Option<String>,
}

/// The storage filter and cursor of a history query.
pub fn deploy_filter(
    targets: &[SyncTarget],
    p: &DeployParams,
) -> Result<(DeployFilter, Option<DeployCursor>), FilterError> {
    let project = match blank(&p.project) {
        None => None,
        Some(name) => Some(
            targets
                .iter()
                .find(|t| t.project.name.as_str() == name)
                .ok_or_else(|| FilterError(format!("no project is called {name:?}")))?,
        ),
    };
    let site_id = match (blank(&p.site), project) {
        (None, _) => None,
        (Some(site), Some(t)) => Some(
            t.site_id(&site)
                .ok_or_else(|| FilterError(format!("site {site:?} is not staging or production")))?
                .to_string(),
        ),
        (Some(site), None) if site == "staging" || site == "production" => {
            return Err(FilterError("pick a project to filter by site".into()))
        }
        (Some(site), None) => {
            return Err(FilterError(format!(
                "site {site:?} is not staging or production"
            )))
        }
    };
    let (from_ms, until_ms) = days(&p.from, &p.until)?;
    let after = cursor(&p.after)?.map(|(created_at_ms, deploy_id)| DeployCursor {
        created_at_ms,
        deploy_id: deploy_id.to_string(),
    });
    Ok((
        DeployFilter {
            project_id: project.map(|t| t.project_id),
            site_id,
            context: blank(&p.context),
            state: blank(&p.state),
            branch: blank(&p.branch),
            author: blank(&p.author),
            from_ms,
            until_ms,
        },
        after,
    ))
}

/// The storage filter and cursor of an activity query.
pub fn audit_filter(p: &AuditParams) -> Result<(AuditFilter, Option<AuditCursor>), FilterError> {
    let outcome = match blank(&p.outcome) {
        None => None,
        Some(o) => Some(AuditOutcome::try_from(o.clone()).map_err(|_| {
            FilterError(format!(
                "outcome {o:?} is not one of pending, succeeded, failed, unknown, refused"
            ))
        })?),
    };
    let (from_ms, until_ms) = days(&p.from, &p.until)?;
    let after = match cursor(&p.after)? {
        None => None,
        Some((occurred_at_ms, id)) => Some(AuditCursor {
            occurred_at_ms,
            id: id.parse().map_err(|_| not_a_cursor())?,
        }),
    };
    Ok((
        AuditFilter {
            actor_login: blank(&p.actor),
            action: blank(&p.action),
            outcome,
            project: blank(&p.project),
            from_ms,
            until_ms,
        },
        after,
    ))
}

/// The `after` parameter that continues past `c`.
pub fn deploy_cursor(c: &DeployCursor) -> String {
    format!("{}.{}", c.created_at_ms, c.deploy_id)
}

/// The `after` parameter that continues past `c`.
pub fn audit_cursor(c: &AuditCursor) -> String {
    format!("{}.{}", c.occurred_at_ms, c.id)
}

/// A page of rows read as `limit + 1` (to know whether more follow): the
/// first `limit`, and the `after` parameter of the next page if there is one.
pub fn split_page<T>(
    mut rows: Vec<T>,
    limit: usize,
    after: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(after) } else { None };
    (rows, next)
}

/// A parameter with its spaces trimmed; empty counts as absent.
fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `from` and `until` as a half-open range of milliseconds.
fn days(
    from: &Option<String>,
    until: &Option<String>,
) -> Result<(Option<i64>, Option<i64>), FilterError> {
    let day = |v: &Option<String>, what: &str| match blank(v) {
        None => Ok(None),
        Some(d) => parse_day(&d)
            .map(Some)
            .ok_or_else(|| FilterError(format!("{what} {d:?} is not a date (YYYY-MM-DD)"))),
    };
    let from_ms = day(from, "from")?;
    let until_ms = day(until, "until")?.map(|d| d + DAY_MS);
    if let (Some(f), Some(u)) = (from_ms, until_ms) {
        if f >= u {
            return Err(FilterError("from must be on or before until".into()));
        }
    }
    Ok((from_ms, until_ms))
}

/// A page cursor `MILLISECONDS.ID`.
fn cursor(after: &Option<String>) -> Result<Option<(i64, String)>, FilterError> {
    let Some(a) = blank(after) else {
        return Ok(None);
    };
    let (t, id) = a.split_once('.').ok_or_else(not_a_cursor)?;
    let t = t.parse().map_err(|_| not_a_cursor())?;
    if id.is_empty() {
        return Err(not_a_cursor());
    }
    Ok(Some((t, id.to_string())))
}

fn not_a_cursor() -> FilterError {
    FilterError("after is not a page cursor".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_parameters_are_no_filter() {
        let (f, after) = audit_filter(&AuditParams {
            actor: Some("  ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(f, AuditFilter::default());
        assert_eq!(after, None);
    }

    #[test]
    fn days_are_a_half_open_utc_range_and_must_be_in_order() {
        let (f, _) = audit_filter(&AuditParams {
            from: Some("2026-11-01".into()),
            until: Some("2026-11-01".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(f.until_ms.unwrap() - f.from_ms.unwrap(), DAY_MS);
        let e = audit_filter(&AuditParams {
            from: Some("2026-11-02".into()),
            until: Some("2026-11-01".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.0, "from must be on or before until");
        let e = audit_filter(&AuditParams {
            from: Some("2026-02-30".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.0.contains("not a date"), "{e}");
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = DeployCursor {
            created_at_ms: 17,
            deploy_id: "abc.def".into(),
        };
        let (_, after) = deploy_filter(
            &[],
            &DeployParams {
                after: Some(deploy_cursor(&c)),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(after, Some(c));
        for bad in ["17", "x.1", "17."] {
            let p = AuditParams {
                after: Some(bad.into()),
                ..Default::default()
            };
            assert_eq!(audit_filter(&p).unwrap_err(), not_a_cursor(), "{bad}");
        }
        let p = AuditParams {
            after: Some("17.x".into()),
            ..Default::default()
        };
        assert_eq!(audit_filter(&p).unwrap_err(), not_a_cursor());
    }

    #[test]
    fn a_page_knows_whether_more_follow() {
        let (rows, next) = split_page(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!((rows, next.as_deref()), (vec![1, 2], Some("2")));
        let (rows, next) = split_page(vec![1, 2], 2, |n| n.to_string());
        assert_eq!((rows, next), (vec![1, 2], None));
    }

    #[test]
    fn a_site_needs_a_project_and_must_be_one_of_the_two() {
        let p = DeployParams {
            site: Some("staging".into()),
            ..Default::default()
        };
        assert_eq!(
            deploy_filter(&[], &p).unwrap_err().0,
            "pick a project to filter by site"
        );
        let p = DeployParams {
            project: Some("nope".into()),
            ..Default::default()
        };
        assert!(deploy_filter(&[], &p).unwrap_err().0.contains("no project"));
    }
}
