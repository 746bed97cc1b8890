//! The missed-webhook sweep: every few minutes the leader reads WorkMarket's change feed
//! (`list_updated`) and wakes the bindings of every changed work order that have not read it
//! since it changed; then it lists the work orders assigned or in progress and counts those no
//! binding covers, offering the newly uncovered ones to auto-binding. A lost webhook costs at most one
//! sweep; a webhook handled already costs no second read.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use super::fleet::Fleet;
use crate::webhooks::Bindings;
use crate::workmarket::WorkMarketClient;

/// How far back WorkMarket's change feed may be read: two months, less a day's margin.
const FEED_HORIZON_HOURS: i64 = 59 * 24;

/// When the last sweep that read the whole change feed ended, and how often sweeps run: what
/// `coverbridge_sweep_last_success_timestamp_seconds` and `coverbridge_sweep_interval_seconds`
/// report, so an alert can tell a sweep that stopped working.
#[derive(Debug, Default)]
pub struct SweepRecord {
    last_success: AtomicI64,
    interval: AtomicI64,
}

impl SweepRecord {
    /// Unix seconds of the last complete sweep; 0 before the first.
    pub fn last_success(&self) -> i64 {
        self.last_success.load(Ordering::Relaxed)
    }

    /// The sweep interval in seconds; 0 until sweeping starts.
    pub fn interval(&self) -> i64 {
        self.interval.load(Ordering::Relaxed)
    }

    fn succeeded(&self) {
        self.last_success.store(Timestamp::now().as_second(), Ordering::Relaxed);
    }
}

/// Sweeps every `interval` until `stop` resolves.
pub async fn run(
    workmarket: WorkMarketClient,
    fleet: Fleet,
    leader: watch::Receiver<bool>,
    interval: Duration,
    record: std::sync::Arc<SweepRecord>,
    stop: impl std::future::Future<Output = ()>,
) {
    record.interval.store(i64::try_from(interval.as_secs()).unwrap_or(i64::MAX), Ordering::Relaxed);
    let mut cursor = Timestamp::now() - SignedDuration::try_from(interval).unwrap_or_default();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = &mut stop => return,
        }
        if !*leader.borrow() {
            fleet.forget_uncovered();
            continue;
        }
        // WorkMarket refuses a feed older than two months (a replica that followed that long).
        cursor = cursor.max(Timestamp::now() - SignedDuration::from_hours(FEED_HORIZON_HOURS));
        match sweep_once(&workmarket, &fleet, cursor).await {
            Ok(next) => {
                cursor = next;
                record.succeeded();
            }
            Err(error) => tracing::warn!(%error, "sweep of WorkMarket's change feed failed; retrying next interval"),
        }
    }
}

/// One sweep from `since`; returns the cursor for the next.
pub async fn sweep_once(
    workmarket: &WorkMarketClient,
    fleet: &Fleet,
    since: Timestamp,
) -> Result<Timestamp, crate::workmarket::WorkMarketError> {
    let updated = workmarket.list_updated(since).await?;
    let mut woken = 0;
    for change in &updated.changes {
        if fleet.by_work_order(&change.id).is_empty() {
            // Nothing to wake; an unbound work order that needs coverage shows in the list below.
            continue;
        }
        let keys = fleet.unseen_change(&change.id, change.last_modified.map(|t| t.as_second()));
        woken += keys.len();
        if !keys.is_empty() {
            fleet.trigger(keys);
        }
    }
    let working = workmarket.list_assignments(&["active", "inprogress"]).await?;
    fleet.note_uncovered(&working);
    tracing::debug!(changed = updated.changes.len(), woken, working = working.len(), "swept WorkMarket's change feed");
    Ok(updated.cursor)
}
