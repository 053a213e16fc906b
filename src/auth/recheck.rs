//! Membership re-checks that never make a request wait on GitHub for long.
//!
//! Each person's re-check runs at most once at a time (single flight, shared
//! by every session and request of that login on this instance) as a task of
//! its own with a deadline. A request that finds a re-check due waits for it
//! only briefly; if GitHub is slower than that, the request goes on with the
//! last known role and a later request picks the verdict up. The caller
//! decides how long a person may keep their last role while GitHub cannot
//! answer (the grace).

use super::membership::Refusal;
use crate::domain::Role;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// What a finished re-check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Still a member, with this role.
    Role(Role),
    /// No longer allowed in.
    Refused(Refusal),
    /// GitHub could not say (down, slow, rate-limited); the text says why.
    Unknown(String),
}

#[derive(Debug, Clone)]
struct Outcome {
    verdict: Verdict,
    at_ms: i64,
}

/// One login's latest re-check: in flight (`None` in the channel) or done.
struct Entry {
    started_ms: i64,
    rx: watch::Receiver<Option<Outcome>>,
}

/// The re-checks of this instance, keyed by login.
#[derive(Default)]
pub struct Rechecks {
    entries: Mutex<HashMap<String, Entry>>,
}

/// What a request learns about a person whose re-check is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A verdict taken at `at_ms` (newer than the session's last check).
    Done { verdict: Verdict, at_ms: i64 },
    /// Still running after the request's wait: go on with the last role.
    Pending,
}

/// How long a request waits for a re-check.
#[derive(Debug, Clone, Copy)]
pub enum Wait {
    /// This long if the request started it; not at all if it was running.
    IfStarted(Duration),
    /// This long in any case (the caller cannot go on without a verdict).
    Always(Duration),
}

/// How long one re-check may take in all before it counts as unknown.
pub const CHECK_DEADLINE: Duration = Duration::from_secs(15);
/// After GitHub could not answer, the next re-check starts this much later.
const RETRY_UNKNOWN_MS: i64 = 30_000;
/// Bounded memory: entries beyond this many are dropped, oldest first.
const MAX_ENTRIES: usize = 10_000;

impl Rechecks {
    /// The newest verdict for `login` taken after `since_ms`; starts a
    /// re-check (`check`) if none is running or newer, and then waits for it
    /// as `wait` says.
    pub async fn due<F, Fut>(
        self: &Arc<Self>,
        login: &str,
        since_ms: i64,
        now_ms: i64,
        wait: Wait,
        check: F,
    ) -> Seen
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Verdict> + Send + 'static,
    {
        let mut started_here = false;
        let mut rx = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let reusable = entries.get(login).filter(|e| {
                let outcome = e.rx.borrow().clone();
                match outcome {
                    // Running: join it.
                    None => true,
                    // Done after the session's last check: use it, but ask
                    // GitHub again soon when it could not answer.
                    Some(o) => {
                        o.at_ms > since_ms
                            && e.started_ms > since_ms
                            && !(matches!(o.verdict, Verdict::Unknown(_))
                                && now_ms - o.at_ms > RETRY_UNKNOWN_MS)
                    }
                }
            });
            match reusable {
                Some(e) => e.rx.clone(),
                None => {
                    if entries.len() >= MAX_ENTRIES {
                        if let Some(oldest) = entries
                            .iter()
                            .min_by_key(|(_, e)| e.started_ms)
                            .map(|(k, _)| k.clone())
                        {
                            entries.remove(&oldest);
                        }
                    }
                    let (tx, rx) = watch::channel(None);
                    started_here = true;
                    let work = check();
                    tokio::spawn(async move {
                        // A check that panics still ends as unknown, so the
                        // login is not left "running" for ever.
                        let tx = SendOnDrop(Some(tx));
                        let verdict = match tokio::time::timeout(CHECK_DEADLINE, work).await {
                            Ok(v) => v,
                            Err(_) => Verdict::Unknown(format!(
                                "GitHub did not answer the membership check within {} s",
                                CHECK_DEADLINE.as_secs()
                            )),
                        };
                        tx.send(verdict);
                    });
                    entries.insert(
                        login.to_string(),
                        Entry {
                            started_ms: now_ms,
                            rx: rx.clone(),
                        },
                    );
                    rx
                }
            }
        };
        let wait = match wait {
            Wait::Always(d) => d,
            Wait::IfStarted(d) if started_here => d,
            Wait::IfStarted(_) => Duration::ZERO,
        };
        let done = match tokio::time::timeout(wait, rx.wait_for(Option::is_some)).await {
            Ok(Ok(o)) => o.clone(),
            _ => None,
        };
        match done {
            Some(o) => Seen::Done {
                verdict: o.verdict,
                at_ms: o.at_ms,
            },
            None => Seen::Pending,
        }
    }
}

struct SendOnDrop(Option<watch::Sender<Option<Outcome>>>);

impl SendOnDrop {
    fn send(mut self, verdict: Verdict) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(Some(Outcome {
                verdict,
                at_ms: crate::storage::now_ms(),
            }));
        }
    }
}

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(Some(Outcome {
                verdict: Verdict::Unknown("the membership check stopped unexpectedly".into()),
                at_ms: crate::storage::now_ms(),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_slow_check_runs_once_and_nobody_waits_for_it_long() {
        let rechecks = Arc::new(Rechecks::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = |calls: Arc<AtomicUsize>| {
            move || {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    Verdict::Role(Role::Deployer)
                }
            }
        };
        let started = std::time::Instant::now();
        let mut waits = Vec::new();
        for _ in 0..10 {
            let (r, c) = (rechecks.clone(), calls.clone());
            waits.push(tokio::spawn(async move {
                r.due(
                    "ana",
                    0,
                    1,
                    Wait::IfStarted(Duration::from_millis(50)),
                    slow(c),
                )
                .await
            }));
        }
        for w in waits {
            assert_eq!(w.await.unwrap(), Seen::Pending);
        }
        assert!(started.elapsed() < Duration::from_millis(300));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "single flight");
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Done: a later request sees the verdict without a new call.
        let seen = rechecks
            .due(
                "ana",
                0,
                2,
                Wait::IfStarted(Duration::from_millis(50)),
                slow(calls.clone()),
            )
            .await;
        assert!(
            matches!(
                seen,
                Seen::Done {
                    verdict: Verdict::Role(Role::Deployer),
                    ..
                }
            ),
            "{seen:?}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_fast_check_answers_the_request_that_started_it() {
        let rechecks = Arc::new(Rechecks::default());
        let seen = rechecks
            .due(
                "bo",
                0,
                1,
                Wait::IfStarted(Duration::from_millis(500)),
                || async { Verdict::Refused(Refusal::NotInOrg { org: "acme".into() }) },
            )
            .await;
        assert!(
            matches!(
                seen,
                Seen::Done {
                    verdict: Verdict::Refused(_),
                    ..
                }
            ),
            "{seen:?}"
        );
    }

    #[tokio::test]
    async fn a_caller_that_cannot_go_on_waits_for_a_running_check() {
        let rechecks = Arc::new(Rechecks::default());
        let first = rechecks
            .due("cy", 0, 1, Wait::IfStarted(Duration::ZERO), || async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Verdict::Role(Role::Viewer)
            })
            .await;
        assert_eq!(first, Seen::Pending);
        let joined = rechecks
            .due("cy", 0, 1, Wait::Always(Duration::from_secs(2)), || async {
                Verdict::Unknown("a second check ran".into())
            })
            .await;
        assert!(
            matches!(
                joined,
                Seen::Done {
                    verdict: Verdict::Role(Role::Viewer),
                    ..
                }
            ),
            "{joined:?}"
        );
    }

    #[tokio::test]
    async fn a_check_that_panics_ends_as_unknown() {
        let rechecks = Arc::new(Rechecks::default());
        let seen = rechecks
            .due(
                "dee",
                0,
                1,
                Wait::Always(Duration::from_secs(2)),
                || async {
                    if 1 + 1 == 2 {
                        panic!("boom")
                    }
                    Verdict::Role(Role::Admin)
                },
            )
            .await;
        assert!(
            matches!(&seen, Seen::Done { verdict: Verdict::Unknown(why), .. } if why.contains("unexpectedly")),
            "{seen:?}"
        );
    }
}
