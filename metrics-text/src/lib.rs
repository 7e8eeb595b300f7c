//! metrics-text: a small metrics registry — counters, gauges and histograms with labels —
//! rendered in the Prometheus text exposition format (version 0.0.4). The ingress and the
//! workers serve it on `GET /metrics`; nothing here does I/O.
//!
//! Map of the crate:
//!
//! - [`Registry`] and the three handles [`Counter`], [`Gauge`], [`Histogram`] — registration
//!   (names and labels checked once, at start) and updates (a mutex per family; updates are
//!   rare next to the store round trips they count).
//! - [`render`] — the exposition text: `# HELP`, `# TYPE`, samples, escaping.
//! - `parse` (feature `parse`, for tests) — a strict reader of that text, so tests check the
//!   format rules and read values back.
//!
//! ```
//! use metrics_text::Registry;
//!
//! let registry = Registry::new();
//! let claims = registry.counter("claims_total", "Tasks claimed.", &["class"]);
//! claims.inc(&["light"]);
//! let text = registry.render();
//! assert!(text.contains("# TYPE claims_total counter\n"));
//! assert!(text.contains("claims_total{class=\"light\"} 1\n"));
//! ```

#[cfg(feature = "parse")]
pub mod parse;
pub mod render;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The `Content-Type` of the rendered text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a family measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (resets when the process restarts). Names end in `_total`.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations counted into buckets, with their sum and count.
    Histogram,
}

impl Kind {
    /// The word in `# TYPE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One series' state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Series {
    Value(f64),
    Histogram {
        /// Observations per bucket (not cumulative), one per upper bound.
        buckets: Vec<u64>,
        sum: f64,
        count: u64,
    },
}

/// A metric family: a name, its help, its label names, and one series per label values.
#[derive(Debug)]
pub(crate) struct Family {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) kind: Kind,
    pub(crate) labels: Vec<String>,
    /// Histogram upper bounds, ascending and finite (`+Inf` is implied).
    pub(crate) bounds: Vec<f64>,
    pub(crate) series: Mutex<BTreeMap<Vec<String>, Series>>,
}

impl Family {
    fn update(&self, values: &[&str], f: impl FnOnce(&mut Series)) {
        assert_eq!(
            values.len(),
            self.labels.len(),
            "metric {} takes the labels {:?}",
            self.name,
            self.labels
        );
        let key = values.iter().map(|v| v.to_string()).collect();
        let mut series = self.series.lock().expect("metric family lock");
        let entry = series.entry(key).or_insert_with(|| match self.kind {
            Kind::Histogram => Series::Histogram {
                buckets: vec![0; self.bounds.len()],
                sum: 0.0,
                count: 0,
            },
            Kind::Counter | Kind::Gauge => Series::Value(0.0),
        });
        f(entry);
    }

    fn value(&self, values: &[&str]) -> Option<Series> {
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        self.series
            .lock()
            .expect("metric family lock")
            .get(&key)
            .cloned()
    }
}

/// Every family of one process. Cheap to clone (clones share the families).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    families: Arc<Mutex<Vec<Arc<Family>>>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Register a counter. `name` must end in `_total`.
    ///
    /// # Panics
    /// On a name or label name the format does not allow, or a name registered twice:
    /// families are registered once at start from constants, so this is a programming error.
    pub fn counter(&self, name: &str, help: &str, labels: &[&str]) -> Counter {
        assert!(
            name.ends_with("_total"),
            "counter names end in _total: {name}"
        );
        Counter(self.register(name, help, Kind::Counter, labels, Vec::new()))
    }

    /// Register a gauge.
    ///
    /// # Panics
    /// As [`Registry::counter`].
    pub fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> Gauge {
        Gauge(self.register(name, help, Kind::Gauge, labels, Vec::new()))
    }

    /// Register a histogram with these bucket upper bounds (ascending, finite; `+Inf` is
    /// added).
    ///
    /// # Panics
    /// As [`Registry::counter`], and on bounds that are not ascending and finite or a label
    /// named `le`.
    pub fn histogram(&self, name: &str, help: &str, labels: &[&str], bounds: &[f64]) -> Histogram {
        assert!(
            bounds.iter().all(|b| b.is_finite()) && bounds.windows(2).all(|w| w[0] < w[1]),
            "histogram {name}: bounds must be finite and ascending: {bounds:?}"
        );
        assert!(
            !labels.contains(&"le"),
            "histogram {name}: `le` is reserved"
        );
        Histogram(self.register(name, help, Kind::Histogram, labels, bounds.to_vec()))
    }

    fn register(
        &self,
        name: &str,
        help: &str,
        kind: Kind,
        labels: &[&str],
        bounds: Vec<f64>,
    ) -> Arc<Family> {
        assert!(render::is_metric_name(name), "bad metric name: {name:?}");
        for label in labels {
            assert!(
                render::is_label_name(label),
                "metric {name}: bad label name {label:?}"
            );
        }
        let family = Arc::new(Family {
            name: name.to_string(),
            help: help.to_string(),
            kind,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            bounds,
            series: Mutex::new(BTreeMap::new()),
        });
        let mut families = self.families.lock().expect("registry lock");
        assert!(
            families.iter().all(|f| f.name != name),
            "metric {name} registered twice"
        );
        families.push(family.clone());
        family
    }

    /// The exposition text of every family, in registration order.
    pub fn render(&self) -> String {
        let families = self.families.lock().expect("registry lock").clone();
        let mut out = String::new();
        for family in &families {
            render::family(&mut out, family);
        }
        out
    }
}

/// A counter family. Cheap to clone.
#[derive(Clone)]
pub struct Counter(Arc<Family>);

impl Counter {
    /// Add one to the series with these label values (in the order registered).
    pub fn inc(&self, labels: &[&str]) {
        self.add(labels, 1);
    }

    /// Add `n`.
    pub fn add(&self, labels: &[&str], n: u64) {
        self.0.update(labels, |s| {
            if let Series::Value(v) = s {
                *v += n as f64;
            }
        });
    }

    /// Mirror a count kept elsewhere that only grows (e.g. a store's operation counts):
    /// the series takes `total`.
    pub fn set_total(&self, labels: &[&str], total: u64) {
        self.0.update(labels, |s| *s = Series::Value(total as f64));
    }

    /// The series' value (0 when never touched).
    pub fn get(&self, labels: &[&str]) -> u64 {
        match self.0.value(labels) {
            Some(Series::Value(v)) => v as u64,
            _ => 0,
        }
    }
}

/// A gauge family. Cheap to clone.
#[derive(Clone)]
pub struct Gauge(Arc<Family>);

impl Gauge {
    /// Set the series with these label values.
    pub fn set(&self, labels: &[&str], value: f64) {
        self.0.update(labels, |s| *s = Series::Value(value));
    }

    /// The series' value, if it was ever set.
    pub fn get(&self, labels: &[&str]) -> Option<f64> {
        match self.0.value(labels) {
            Some(Series::Value(v)) => Some(v),
            _ => None,
        }
    }
}

/// A histogram family. Cheap to clone.
#[derive(Clone)]
pub struct Histogram(Arc<Family>);

impl Histogram {
    /// Count one observation.
    pub fn observe(&self, labels: &[&str], value: f64) {
        let slot = self.0.bounds.iter().position(|b| value <= *b);
        self.0.update(labels, |s| {
            if let Series::Histogram {
                buckets,
                sum,
                count,
            } = s
            {
                if let Some(i) = slot {
                    buckets[i] += 1;
                }
                *sum += value;
                *count += 1;
            }
        });
    }

    /// How many observations the series has.
    pub fn count(&self, labels: &[&str]) -> u64 {
        match self.0.value(labels) {
            Some(Series::Histogram { count, .. }) => count,
            _ => 0,
        }
    }
}

macro_rules! debug_by_name {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($t)).field(&self.0.name).finish()
            }
        }
    )*};
}
debug_by_name!(Counter, Gauge, Histogram);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_per_label_values() {
        let r = Registry::new();
        let c = r.counter("x_total", "X.", &["a", "b"]);
        c.inc(&["1", "2"]);
        c.add(&["1", "2"], 4);
        c.inc(&["1", "3"]);
        assert_eq!(c.get(&["1", "2"]), 5);
        assert_eq!(c.get(&["1", "3"]), 1);
        assert_eq!(c.get(&["9", "9"]), 0);
        c.set_total(&["1", "2"], 40);
        assert_eq!(c.get(&["1", "2"]), 40);
    }

    #[test]
    fn histograms_count_into_the_first_bucket_that_holds_the_value() {
        let r = Registry::new();
        let h = r.histogram("d_seconds", "D.", &[], &[1.0, 5.0]);
        for v in [0.5, 1.0, 3.0, 60.0] {
            h.observe(&[], v);
        }
        assert_eq!(h.count(&[]), 4);
        let text = r.render();
        assert!(text.contains("d_seconds_bucket{le=\"1\"} 2\n"), "{text}");
        assert!(text.contains("d_seconds_bucket{le=\"5\"} 3\n"), "{text}");
        assert!(text.contains("d_seconds_bucket{le=\"+Inf\"} 4\n"), "{text}");
        assert!(text.contains("d_seconds_sum 64.5\n"), "{text}");
        assert!(text.contains("d_seconds_count 4\n"), "{text}");
    }

    #[test]
    #[should_panic(expected = "end in _total")]
    fn a_counter_without_total_is_refused() {
        Registry::new().counter("claims", "C.", &[]);
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn a_name_registered_twice_is_refused() {
        let r = Registry::new();
        r.gauge("g", "G.", &[]);
        r.gauge("g", "G.", &[]);
    }

    #[test]
    #[should_panic(expected = "takes the labels")]
    fn the_wrong_number_of_label_values_is_refused() {
        Registry::new().gauge("g", "G.", &["a"]).set(&[], 1.0);
    }

    #[test]
    #[should_panic(expected = "bad label name")]
    fn reserved_label_names_are_refused() {
        Registry::new().gauge("g", "G.", &["__x"]);
    }
}
