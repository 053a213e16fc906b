//! A per-address limit on sign-in attempts: a fixed one-minute window per
//! client address (an IPv6 client is its /64), counted in the database so that every instance sharing
//! it sees the same count. When the database cannot count, this instance
//! counts on its own (in memory, bounded) rather than refuse everyone.

use crate::storage::Storage;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

/// Addresses remembered at most; the table is cleared when it fills, which
/// can only make the limit more lenient for a moment, never stuck.
const MAX_ADDRESSES: usize = 10_000;

/// Who is counted: an IPv4 address, or an IPv6 address's /64 (one
/// subscriber's whole allocation, so hopping within it gains nothing).
fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
        v4 => v4,
    }
}

#[derive(Debug)]
pub struct SignInLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (i64, u32)>>,
    /// The minute before which this instance last dropped old counts.
    swept: AtomicI64,
}

impl SignInLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
            swept: AtomicI64::new(i64::MIN),
        }
    }

    /// Counts an attempt from `ip` at `now_ms` where all instances see it;
    /// `Err(seconds to wait)` when over the limit. This instance's own count
    /// is checked first, so a flood from one client is refused without a
    /// database write per request.
    pub async fn attempt(&self, storage: &Storage, ip: IpAddr, now_ms: i64) -> Result<(), u64> {
        let minute = now_ms.div_euclid(60_000);
        let client = client_of(ip);
        let here = self.count_here(client, minute);
        self.verdict(here, minute, now_ms)?;
        let attempts = match storage
            .count_sign_in_attempt(&client.to_string(), minute)
            .await
        {
            Ok(n) => u64::try_from(n).unwrap_or(u64::MAX),
            Err(e) => {
                tracing::warn!(error = %e, "could not count the sign-in attempt in the database; this instance counts it alone");
                here
            }
        };
        // Old minutes are dropped once a minute per instance, not per attempt.
        if self.swept.fetch_max(minute - 1, Ordering::Relaxed) < minute - 1 {
            if let Err(e) = storage.forget_sign_in_attempts_before(minute - 1).await {
                tracing::debug!(error = %e, "could not drop old sign-in counts; the next minute tries again");
            }
        }
        self.verdict(attempts, minute, now_ms)
    }

    /// Counts an attempt in this instance's memory only.
    pub fn attempt_here(&self, ip: IpAddr, now_ms: i64) -> Result<(), u64> {
        let minute = now_ms.div_euclid(60_000);
        let attempts = self.count_here(client_of(ip), minute);
        self.verdict(attempts, minute, now_ms)
    }

    fn count_here(&self, client: IpAddr, minute: i64) -> u64 {
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&client) {
            map.clear();
        }
        let entry = map.entry(client).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        u64::from(entry.1)
    }

    fn verdict(&self, attempts: u64, minute: i64, now_ms: i64) -> Result<(), u64> {
        if attempts > u64::from(self.per_minute) {
            let wait = ((minute + 1) * 60_000 - now_ms).max(1000) / 1000;
            return Err(wait as u64);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_over_the_limit_wait_for_the_next_minute() {
        let l = SignInLimiter::new(3);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let t = 1_000_000 * 60_000 + 10_000;
        for _ in 0..3 {
            assert!(l.attempt_here(a, t).is_ok());
        }
        assert_eq!(l.attempt_here(a, t), Err(50));
        assert!(l.attempt_here(b, t).is_ok(), "per address");
        assert!(l.attempt_here(a, t + 60_000).is_ok(), "a new minute");
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_is_itself() {
        let c = |s: &str| client_of(s.parse().unwrap()).to_string();
        assert_eq!(c("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::");
        assert_eq!(c("2001:db8:1:2::ffff"), c("2001:db8:1:2:aaaa::1"));
        assert_ne!(c("2001:db8:1:2::1"), c("2001:db8:1:3::1"));
        assert_eq!(c("::ffff:10.1.2.3"), "10.1.2.3");
        assert_eq!(c("10.1.2.3"), "10.1.2.3");
    }
}
