//! Gauges computed from the binding caches at scrape time (bindings by phase, work in progress
//! without coverage) and the webhook receiver's delivery counters.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use kube::runtime::reflector::Store;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::cached::CachedBinding;
use super::sweep::SweepRecord;
use super::uncovered::Uncovered;
use crate::webhooks::{Counters, Source};

/// Reads the caches and counters on every scrape.
#[derive(Debug)]
pub struct FleetCollector {
    /// One cache per watched namespace (filled in once the caches exist).
    pub bindings: Arc<std::sync::RwLock<Vec<Store<CachedBinding>>>>,
    /// The webhook receiver's counters.
    pub deliveries: Arc<Counters>,
    /// Work orders the sweep found assigned or in progress that no binding covers.
    pub uncovered: Arc<Uncovered>,
    /// When the sweep last read the change feed.
    pub sweeps: Arc<SweepRecord>,
}

impl Collector for FleetCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut phases: BTreeMap<String, i64> = BTreeMap::new();
        let mut uninsured = 0;
        let stores = self.bindings.read().unwrap_or_else(|p| p.into_inner()).clone();
        for binding in stores.iter().flat_map(|store| store.state()) {
            let phase = binding.phase().map_or_else(|| "Pending".to_owned(), |p| format!("{p:?}"));
            *phases.entry(phase).or_default() += 1;
            if binding.uninsured() {
                uninsured += 1;
            }
        }
        let gauge = ConstGauge::new(0i64);
        let mut family =
            encoder.encode_descriptor("bindings", "CoverageBindings by phase", None, gauge.metric_type())?;
        for (phase, count) in phases {
            ConstGauge::new(count).encode(family.encode_family(&[("phase", phase.as_str())])?)?;
        }
        let uninsured_gauge = ConstGauge::new(uninsured);
        uninsured_gauge.encode(encoder.encode_descriptor(
            "work_started_uninsured",
            "Work orders in progress (or done) with no coverage in force",
            None,
            uninsured_gauge.metric_type(),
        )?)?;
        self.encode_coverage(&mut encoder)?;
        let counter = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "webhook_deliveries",
            "Webhook deliveries by source and result",
            None,
            counter.metric_type(),
        )?;
        for source in [Source::WorkMarket, Source::Ten99Policy] {
            let i = source as usize;
            for (result, counts) in [
                ("accepted", &self.deliveries.accepted),
                ("unauthorized", &self.deliveries.unauthorized),
                ("malformed", &self.deliveries.malformed),
                ("too_large", &self.deliveries.too_large),
                ("timed_out", &self.deliveries.timed_out),
            ] {
                let labels = [("source", source.as_str()), ("result", result)];
                ConstCounter::new(counts[i].load(Ordering::Relaxed)).encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

impl FleetCollector {
    /// Uncovered work orders by status, and the sweep that finds them.
    fn encode_coverage(&self, encoder: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let gauge = ConstGauge::new(0i64);
        let mut family = encoder.encode_descriptor(
            "work_orders_uncovered",
            "WorkMarket work orders assigned or in progress that no CoverageBinding covers, by status",
            None,
            gauge.metric_type(),
        )?;
        for (stage, count) in self.uncovered.counts() {
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            ConstGauge::new(count).encode(family.encode_family(&[("status", stage.label())])?)?;
        }
        let sweeps = [
            (
                "sweep_last_success_timestamp_seconds",
                "When the last sweep read WorkMarket's whole change feed (Unix seconds; 0 before the first)",
                self.sweeps.last_success(),
            ),
            ("sweep_interval_seconds", "How often the change feed is swept", self.sweeps.interval()),
        ];
        for (name, help, value) in sweeps {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}
