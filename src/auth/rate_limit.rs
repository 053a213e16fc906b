//! A per-IP limit on sign-in attempts: a fixed one-minute window per address,
//! in memory (each instance counts its own), bounded in size.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Addresses remembered at most; the table is cleared when it fills, which
/// can only make the limit more lenient for a moment, never stuck.
const MAX_ADDRESSES: usize = 10_000;

pub struct SignInLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl SignInLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt from `ip` at `now_ms`; `Err(seconds to wait)` when over.
    pub fn attempt(&self, ip: IpAddr, now_ms: i64) -> Result<(), u64> {
        let minute = now_ms.div_euclid(60_000);
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&ip) {
            map.clear();
        }
        let entry = map.entry(ip).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 >= self.per_minute {
            let wait = ((minute + 1) * 60_000 - now_ms).max(1000) / 1000;
            return Err(wait as u64);
        }
        entry.1 += 1;
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
            assert!(l.attempt(a, t).is_ok());
        }
        assert_eq!(l.attempt(a, t), Err(50));
        assert!(l.attempt(b, t).is_ok(), "per address");
        assert!(l.attempt(a, t + 60_000).is_ok(), "a new minute");
    }
}
