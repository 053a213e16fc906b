//! What one instance takes on at once, so that nobody's heavy use (an
//! export, a dozen open tabs, a burst of requests) makes the console slow
//! for everyone else: `[limits]` in the config, and the counted slots that
//! hold those bounds in all and per person.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// `[limits]` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Requests being answered at once; more wait (up to the request
    /// timeout) for one to finish. Streams count only until their first byte.
    pub requests_in_flight: usize,
    /// The longest a request may take to start its answer, in seconds;
    /// beyond it the answer is 503 (actions carry on: the server owns them).
    pub request_timeout_secs: u64,
    /// The largest request body, in bytes (the `.env.local` upload has its
    /// own limit).
    pub request_body_bytes: usize,
    /// Exports running at once on this instance.
    pub exports_at_once: usize,
    /// Exports one person may run at once.
    pub exports_per_person: usize,
    /// Live-view streams open at once on this instance.
    pub live_streams_at_once: usize,
    /// Live-view streams one person may hold open (one per tab).
    pub live_streams_per_person: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            requests_in_flight: 256,
            request_timeout_secs: 30,
            request_body_bytes: 256 * 1024,
            exports_at_once: 4,
            exports_per_person: 2,
            live_streams_at_once: 1000,
            live_streams_per_person: 8,
        }
    }
}

impl LimitsConfig {
    /// Each setting that is out of its range, with the range.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut check = |key: &'static str, value: u64, lo: u64, hi: u64| {
            if !(lo..=hi).contains(&value) {
                out.push((key, format!("must be between {lo} and {hi}")));
            }
        };
        check(
            "limits.requests_in_flight",
            self.requests_in_flight as u64,
            1,
            100_000,
        );
        check(
            "limits.request_timeout_secs",
            self.request_timeout_secs,
            1,
            600,
        );
        // Up to 2 MiB: the extractors that read a body stop there anyway
        // (axum's default), so a larger setting would promise what is refused.
        check(
            "limits.request_body_bytes",
            self.request_body_bytes as u64,
            1024,
            2 * 1024 * 1024,
        );
        check(
            "limits.exports_at_once",
            self.exports_at_once as u64,
            1,
            1000,
        );
        check(
            "limits.exports_per_person",
            self.exports_per_person as u64,
            1,
            1000,
        );
        check(
            "limits.live_streams_at_once",
            self.live_streams_at_once as u64,
            1,
            100_000,
        );
        check(
            "limits.live_streams_per_person",
            self.live_streams_per_person as u64,
            1,
            10_000,
        );
        out
    }
}

/// Counted places for one kind of long-running work (exports, live
/// streams): at most `at_once` in all and `per_person` for any one person.
#[derive(Debug)]
pub struct Slots {
    at_once: usize,
    per_person: usize,
    held: Mutex<HashMap<String, usize>>,
}

/// One place taken; given back when dropped (the work ended or its client
/// went away).
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    who: String,
}

/// Why no place was free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// This person already holds this many.
    Person(usize),
    /// The instance holds as many as it takes.
    Instance,
}

impl Slots {
    pub fn new(at_once: usize, per_person: usize) -> Arc<Self> {
        Arc::new(Self {
            at_once,
            per_person,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// A place for `who`, or why not.
    pub fn take(self: &Arc<Self>, who: &str) -> Result<Slot, Full> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let mine = held.get(who).copied().unwrap_or(0);
        if mine >= self.per_person {
            return Err(Full::Person(mine));
        }
        if held.values().sum::<usize>() >= self.at_once {
            return Err(Full::Instance);
        }
        *held.entry(who.to_string()).or_default() += 1;
        Ok(Slot {
            slots: self.clone(),
            who: who.to_string(),
        })
    }

    /// How many places are taken now.
    pub fn in_use(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.who) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.who);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_per_person_and_in_all_and_given_back_on_drop() {
        let slots = Slots::new(3, 2);
        let a1 = slots.take("ana").unwrap();
        let _a2 = slots.take("ana").unwrap();
        assert_eq!(slots.take("ana").unwrap_err(), Full::Person(2));
        let _b1 = slots.take("bo").unwrap();
        assert_eq!(slots.take("cy").unwrap_err(), Full::Instance);
        assert_eq!(slots.in_use(), 3);
        drop(a1);
        assert_eq!(slots.in_use(), 2);
        let _c1 = slots.take("cy").expect("a place was given back");
        assert_eq!(slots.take("ana").unwrap_err(), Full::Instance);
    }

    #[test]
    fn the_defaults_are_within_their_ranges_and_zero_is_not() {
        assert!(LimitsConfig::default().problems().is_empty());
        let zero = LimitsConfig {
            live_streams_per_person: 0,
            ..Default::default()
        };
        assert_eq!(
            zero.problems(),
            vec![(
                "limits.live_streams_per_person",
                "must be between 1 and 10000".to_string()
            )]
        );
    }
}
