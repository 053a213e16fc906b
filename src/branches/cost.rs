//! What branches cost. Supabase bills a branch's compute by the hour, outside
//! the organization's spend cap, and its API does not say a branch's compute
//! size: the price table says what a size costs and which size a branch is
//! taken to be (Supabase gives new branches micro compute).

use std::collections::BTreeMap;

/// Hours in an average month (365 × 24 / 12), as cloud bills project them.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Micro compute, USD per hour, from Supabase's pricing page.
pub const MICRO_USD_PER_HOUR: f64 = 0.01344;

pub const SPEND_CAP_WARNING: &str =
    "Branch compute is billed by the hour outside the organization's spend cap.";

#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    /// The size a branch is taken to run on.
    pub branch_size: String,
    /// USD per hour by compute size.
    pub usd_per_hour: BTreeMap<String, f64>,
}

impl Default for PriceTable {
    fn default() -> Self {
        Self {
            branch_size: "micro".into(),
            usd_per_hour: BTreeMap::from([("micro".to_owned(), MICRO_USD_PER_HOUR)]),
        }
    }
}

impl PriceTable {
    /// What one branch costs an hour; `None` when the table has no price for
    /// the branch size (shown as "price not configured", never as free).
    pub fn branch_hourly(&self) -> Option<f64> {
        self.usd_per_hour.get(&self.branch_size).copied()
    }

    /// What a branch has cost from `created_ms` to `now_ms`.
    pub fn cost_between(&self, created_ms: i64, now_ms: i64) -> Option<f64> {
        let hours = (now_ms - created_ms).max(0) as f64 / 3_600_000.0;
        self.branch_hourly().map(|h| h * hours)
    }

    /// A month of `running` branches, at the branch size's price.
    pub fn monthly(&self, running: usize) -> Option<f64> {
        self.branch_hourly()
            .map(|h| h * running as f64 * HOURS_PER_MONTH)
    }
}

/// `$9.81`; amounts under ten cents keep four places (`$0.0134`) so an
/// hourly price never reads as `$0.01`.
pub fn usd(amount: f64) -> String {
    if amount != 0.0 && amount.abs() < 0.1 {
        format!("${amount:.4}")
    } else {
        format!("${amount:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_compute_by_default_and_a_month_is_730_hours() {
        let prices = PriceTable::default();
        assert_eq!(prices.branch_hourly(), Some(0.01344));
        let month = prices.monthly(3).unwrap();
        assert!((month - 29.4336).abs() < 1e-9, "{month}");
        assert_eq!(usd(month), "$29.43");
        assert_eq!(usd(0.01344), "$0.0134");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.5), "$0.50");
        let day = prices.cost_between(0, 24 * 3_600_000).unwrap();
        assert!((day - 0.32256).abs() < 1e-9);
        assert_eq!(prices.cost_between(10, 0), Some(0.0));
    }

    #[test]
    fn a_size_without_a_price_is_not_free() {
        let prices = PriceTable {
            branch_size: "small".into(),
            ..PriceTable::default()
        };
        assert_eq!(prices.branch_hourly(), None);
        assert_eq!(prices.monthly(2), None);
    }
}
