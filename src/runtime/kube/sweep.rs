//! The missed-webhook sweep: every few minutes the leader reads WorkMarket's change feed
//! (`list_updated`) and wakes the bindings of every changed work order that have not read it
//! since it changed, or offers unbound ones to auto-binding. A lost webhook costs at most one
//! sweep; a webhook handled already costs no second read.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use super::fleet::Fleet;
use crate::webhooks::Bindings;
use crate::workmarket::WorkMarketClient;

/// Sweeps every `interval` until `stop` resolves.
pub async fn run(
    workmarket: WorkMarketClient,
    fleet: Fleet,
    leader: watch::Receiver<bool>,
    interval: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut cursor = Timestamp::now() - SignedDuration::try_from(interval).unwrap_or_default();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = &mut stop => return,
        }
        if !*leader.borrow() {
            continue;
        }
        match sweep_once(&workmarket, &fleet, cursor).await {
            Ok(next) => cursor = next,
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
            fleet.consider_unbound(&change.id);
            continue;
        }
        let keys = fleet.unseen_change(&change.id, change.last_modified.map(|t| t.as_second()));
        woken += keys.len();
        if !keys.is_empty() {
            fleet.trigger(keys);
        }
    }
    tracing::debug!(changed = updated.changes.len(), woken, "swept WorkMarket's change feed");
    Ok(updated.cursor)
}
