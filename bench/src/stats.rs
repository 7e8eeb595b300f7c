//! Latency summaries: nearest-rank percentiles, as the baselines' Python computes them.

use serde::Serialize;

/// p50/p99/mean/max of a set of samples, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// How many samples.
    pub samples: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile (the maximum below 100 samples).
    pub p99_ms: f64,
    /// Mean.
    pub mean_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Summary {
    /// Summarise samples given in milliseconds; `None` when there are none.
    pub fn of(samples_ms: &[f64]) -> Option<Summary> {
        if samples_ms.is_empty() {
            return None;
        }
        let mut sorted = samples_ms.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
        Some(Summary {
            samples: sorted.len(),
            p50_ms: round3(percentile(&sorted, 50.0)),
            p99_ms: round3(percentile(&sorted, 99.0)),
            mean_ms: round3(mean),
            max_ms: round3(sorted[sorted.len() - 1]),
        })
    }
}

/// The `p`-th percentile of sorted samples by nearest rank: the smallest sample with at least
/// `p`% of the samples at or below it.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    assert!(!sorted.is_empty(), "percentile of no samples");
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Round to three decimals (microseconds, for milliseconds) to keep reports readable.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Round to one decimal.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 50.0), 50.0);
        assert_eq!(percentile(&sorted, 99.0), 99.0);
        assert_eq!(percentile(&sorted, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 50.0), 7.0);
        // below 100 samples, p99 is the maximum
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 99.0), 10.0);
        assert_eq!(percentile(&ten, 50.0), 5.0);
    }

    #[test]
    fn summary_sorts_and_rounds() {
        let s = Summary::of(&[3.0, 1.0, 2.00049, 10.0]).unwrap();
        assert_eq!(s.samples, 4);
        assert_eq!(s.p50_ms, 2.0);
        assert_eq!(s.p99_ms, 10.0);
        assert_eq!(s.max_ms, 10.0);
        assert_eq!(s.mean_ms, 4.0);
        assert!(Summary::of(&[]).is_none());
    }
}
