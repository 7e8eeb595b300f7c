//! The GCS operations bill (pure).
//!
//! Prices: Standard storage in a region, $0.05 per 10,000 Class A and $0.004 per 10,000
//! Class B operations (Google's published rate, $0.005 / $0.0004 per 1,000 — the figures of
//! issue 9). The monthly free allowance of 5,000 Class A and 50,000 Class B operations is
//! Google's "Always Free" tier, which covers Standard buckets in us-east1, us-west1 and
//! us-central1 only: a bucket elsewhere (Seoul, asia-northeast3) pays from the first
//! operation, hence both totals.

use serde::Serialize;

/// Prices and allowance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prices {
    /// USD per 10,000 Class A operations.
    pub class_a_per_10k: f64,
    /// USD per 10,000 Class B operations.
    pub class_b_per_10k: f64,
    /// Class A operations free each month.
    pub free_class_a: u64,
    /// Class B operations free each month.
    pub free_class_b: u64,
}

impl Default for Prices {
    fn default() -> Self {
        Prices {
            class_a_per_10k: 0.05,
            class_b_per_10k: 0.004,
            free_class_a: 5_000,
            free_class_b: 50_000,
        }
    }
}

/// One month's bill for operations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bill {
    /// Class A operations in the month.
    pub class_a: u64,
    /// Class B operations in the month.
    pub class_b: u64,
    /// Class A operations past the free allowance.
    pub billable_a: u64,
    /// Class B operations past the free allowance.
    pub billable_b: u64,
    /// USD for Class A, after the allowance.
    pub class_a_usd: f64,
    /// USD for Class B, after the allowance.
    pub class_b_usd: f64,
    /// USD in all, after the allowance.
    pub total_usd: f64,
    /// USD in all for a bucket outside the free tier's regions.
    pub total_without_free_tier_usd: f64,
}

impl Prices {
    /// The bill for `class_a` and `class_b` operations in one month.
    pub fn bill(&self, class_a: u64, class_b: u64) -> Bill {
        let billable_a = class_a.saturating_sub(self.free_class_a);
        let billable_b = class_b.saturating_sub(self.free_class_b);
        let a_usd = billable_a as f64 / 10_000.0 * self.class_a_per_10k;
        let b_usd = billable_b as f64 / 10_000.0 * self.class_b_per_10k;
        let all = class_a as f64 / 10_000.0 * self.class_a_per_10k
            + class_b as f64 / 10_000.0 * self.class_b_per_10k;
        Bill {
            class_a,
            class_b,
            billable_a,
            billable_b,
            class_a_usd: cents4(a_usd),
            class_b_usd: cents4(b_usd),
            total_usd: cents4(a_usd + b_usd),
            total_without_free_tier_usd: cents4(all),
        }
    }
}

/// Round to 1/100 of a cent.
fn cents4(usd: f64) -> f64 {
    (usd * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_billed_inside_the_allowance() {
        let bill = Prices::default().bill(5_000, 50_000);
        assert_eq!((bill.billable_a, bill.billable_b), (0, 0));
        assert_eq!(bill.total_usd, 0.0);
        assert_eq!(bill.total_without_free_tier_usd, 0.045);
    }

    #[test]
    fn operations_past_the_allowance_are_billed_per_ten_thousand() {
        let bill = Prices::default().bill(25_000, 150_000);
        assert_eq!(bill.billable_a, 20_000);
        assert_eq!(bill.billable_b, 100_000);
        assert_eq!(bill.class_a_usd, 0.1);
        assert_eq!(bill.class_b_usd, 0.04);
        assert_eq!(bill.total_usd, 0.14);
        assert_eq!(bill.total_without_free_tier_usd, 0.185);
    }
}
