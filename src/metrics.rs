//! Prometheus metrics, served at `GET /metrics`: reconciles by result and duration, external calls
//! by API, endpoint and status, time from work order assigned to Bound, and (through a collector
//! the runtime registers) bindings by phase, uninsured work and webhook deliveries.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::http::Observer;

/// Labels of `coverbridge_reconciles_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    /// `CoverageBinding` or `CategoryMapping`.
    pub kind: &'static str,
    /// `success`, or the error category (`Ten99PolicyUnavailable`, …).
    pub result: String,
}

/// Labels of `coverbridge_reconcile_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// `CoverageBinding` or `CategoryMapping`.
    pub kind: &'static str,
}

/// Labels of `coverbridge_external_calls_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// `workmarket` or `1099policy`.
    pub api: &'static str,
    /// Method and path with ids replaced by `:id`, e.g. `GET /api/v1/policies/:id`.
    pub endpoint: String,
    /// HTTP status, or `error` when no answer came.
    pub status: String,
}

/// The operator's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ReconcileLabels, Counter>,
    reconcile_duration: Family<KindLabels, Histogram>,
    external_calls: Family<CallLabels, Counter>,
    time_to_bound: Histogram,
}

impl Metrics {
    /// Every metric registered, plus `collectors` (gauges the runtime computes at scrape time).
    pub fn new(collectors: Vec<Box<dyn Collector>>) -> Self {
        let mut registry = Registry::with_prefix("coverbridge");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciles by kind and result (success or the error category)",
            reconciles.clone(),
        );
        let reconcile_duration = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        registry.register("reconcile_duration_seconds", "Time one reconcile took", reconcile_duration.clone());
        let external_calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "external_calls",
            "Calls to WorkMarket and 1099Policy by API, endpoint and status",
            external_calls.clone(),
        );
        let time_to_bound = Histogram::new(exponential_buckets(1.0, 2.0, 16));
        registry.register(
            "time_to_bound_seconds",
            "Time from a work order reaching its trigger (assigned) to its binding being Bound",
            time_to_bound.clone(),
        );
        for collector in collectors {
            registry.register_collector(collector);
        }
        Self { registry, reconciles, reconcile_duration, external_calls, time_to_bound }
    }

    /// Counts a reconcile and its duration.
    pub fn reconciled(&self, kind: &'static str, result: &str, seconds: f64) {
        self.reconciles.get_or_create(&ReconcileLabels { kind, result: result.to_owned() }).inc();
        self.reconcile_duration.get_or_create(&KindLabels { kind }).observe(seconds);
    }

    /// Records how long a binding took from its trigger to Bound.
    pub fn bound_after(&self, seconds: f64) {
        self.time_to_bound.observe(seconds);
    }

    /// An observer for the HTTP layer that counts every external call.
    pub fn http_observer(self: &Arc<Self>) -> Observer {
        let metrics = self.clone();
        Arc::new(move |api, method, path, status| {
            let labels = CallLabels {
                api,
                endpoint: format!("{method} {}", endpoint(path)),
                status: status.map_or_else(|| "error".to_owned(), |s| s.to_string()),
            };
            metrics.external_calls.get_or_create(&labels).inc();
        })
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// A path with its ids replaced by `:id`, so labels stay few: 1099Policy ids look like
/// `cn_Ehb3bYa`, WorkMarket's are numbers.
pub fn endpoint(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let numeric = !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit());
            // `cn_Ehb3bYa`, not `list_updated`: generated ids mix in capitals or digits.
            let prefixed = segment.split_once('_').is_some_and(|(prefix, rest)| {
                (2..=4).contains(&prefix.len())
                    && prefix.chars().all(|c| c.is_ascii_lowercase())
                    && rest.len() >= 5
                    && rest.chars().all(|c| c.is_ascii_alphanumeric())
                    && rest.chars().any(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            });
            if numeric || prefixed { ":id" } else { segment }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_hide_ids() {
        assert_eq!(endpoint("/api/v1/policies/pl_WzFRszJhoY"), "/api/v1/policies/:id");
        assert_eq!(endpoint("/api/v1/apply/sessions/ias_01FVCHXE7P/expire"), "/api/v1/apply/sessions/:id/expire");
        assert_eq!(endpoint("/api/v1/assignments/6029116324/unassign"), "/api/v1/assignments/:id/unassign");
        assert_eq!(endpoint("/api/v1/category_codes"), "/api/v1/category_codes");
        assert_eq!(endpoint("/api/v1/assignments/list_updated"), "/api/v1/assignments/list_updated");
    }

    #[test]
    fn encodes_what_was_counted() {
        let metrics = Arc::new(Metrics::new(Vec::new()));
        metrics.reconciled("CoverageBinding", "success", 0.02);
        (metrics.http_observer())("1099policy", &reqwest::Method::POST, "/api/v1/jobs", Some(201));
        (metrics.http_observer())("workmarket", &reqwest::Method::GET, "/api/v1/assignments/get", None);
        metrics.bound_after(12.0);
        let text = metrics.encode();
        assert!(text.contains(r#"coverbridge_reconciles_total{kind="CoverageBinding",result="success"} 1"#), "{text}");
        assert!(text.contains(
            r#"coverbridge_external_calls_total{api="1099policy",endpoint="POST /api/v1/jobs",status="201"} 1"#
        ));
        assert!(text.contains(r#"status="error""#));
        assert!(text.contains("coverbridge_time_to_bound_seconds_count 1"));
        assert!(text.contains("coverbridge_reconcile_duration_seconds_bucket"));
    }
}
