//! Leader election with a Lease (kube-lease-manager): every replica campaigns; the holder
//! reconciles and writes. The campaign loop is ours rather than the crate's `watch()`, whose
//! retries back off to 30 s: after the API server returns, a replica takes up its lease again
//! within a few seconds. Releasing on shutdown hands over at once instead of after expiry.

use std::time::{Duration, Instant};

use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::watch::RESTART;

/// Seconds a lease stays valid without renewal.
pub const LEASE_SECONDS: u64 = 15;
/// Seconds before expiry the holder renews.
pub const GRACE_SECONDS: u64 = 5;

/// A running campaign for a Lease.
pub struct Leadership {
    /// True while this replica holds the lease.
    pub is_leader: watch::Receiver<bool>,
    task: JoinHandle<()>,
}

impl Leadership {
    /// Campaigns for Lease `name` in `namespace` as `identity`.
    pub async fn campaign(
        client: kube::Client,
        namespace: &str,
        name: &str,
        identity: &str,
    ) -> kube_lease_manager::Result<Self> {
        Self::campaign_with(client, namespace, name, identity, LEASE_SECONDS, GRACE_SECONDS).await
    }

    /// [`Self::campaign`] with other timings: the lease lasts `seconds` and is renewed `grace`
    /// seconds before it ends.
    pub async fn campaign_with(
        client: kube::Client,
        namespace: &str,
        name: &str,
        identity: &str,
        seconds: u64,
        grace: u64,
    ) -> kube_lease_manager::Result<Self> {
        let lease = Lease {
            client,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            identity: identity.to_owned(),
            seconds,
            grace,
        };
        let manager = lease.manager().await?;
        let (sender, is_leader) = watch::channel(false);
        let task = tokio::spawn(campaign(Campaign { lease, manager }, sender));
        Ok(Self { is_leader, task })
    }

    /// Stops campaigning and releases the lease if held.
    pub async fn resign(self) {
        drop(self.is_leader);
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "leader election task failed");
        }
    }
}

/// The Lease campaigned for, and as whom.
struct Lease {
    client: kube::Client,
    namespace: String,
    name: String,
    identity: String,
    seconds: u64,
    grace: u64,
}

impl Lease {
    async fn manager(&self) -> kube_lease_manager::Result<LeaseManager> {
        LeaseManagerBuilder::new(self.client.clone(), &self.name)
            .with_namespace(&self.namespace)
            .with_identity(&self.identity)
            .with_duration(self.seconds)
            .with_grace(self.grace)
            .with_field_manager(format!("coverbridge-{}", self.identity))
            .build()
            .await
    }

    /// How long a failing campaign may go on leading: past it, another replica may take the
    /// lease, so this one steps down before.
    fn trust(&self) -> Duration {
        Duration::from_secs(self.seconds.saturating_sub(self.grace).max(1))
    }
}

struct Campaign {
    lease: Lease,
    manager: LeaseManager,
}

/// Follows the lease until nobody listens to `sender` any more, then releases it. A failure
/// keeps the lead only while the last renewal can still hold; after that this replica steps
/// down, and a fresh manager finds out where the lease stands once the API server answers.
async fn campaign(mut campaign: Campaign, sender: watch::Sender<bool>) {
    let mut failing: Option<(Instant, u32)> = None;
    loop {
        let changed = tokio::select! {
            biased;
            () = sender.closed() => break,
            changed = campaign.manager.changed() => changed,
        };
        match changed {
            Ok(leads) => {
                failing = None;
                lead(&sender, leads);
            }
            Err(error) => {
                let (since, failures) = failing.get_or_insert_with(|| {
                    tracing::warn!(%error, "leader election cannot reach the Lease; retrying within a few seconds");
                    (Instant::now(), 0)
                });
                *failures += 1;
                tokio::time::sleep(RESTART.delay(*failures, true)).await;
                if since.elapsed() >= campaign.lease.trust() && *sender.borrow() {
                    lead(&sender, false);
                }
                if !*sender.borrow()
                    && let Ok(fresh) = campaign.lease.manager().await
                {
                    campaign.manager = fresh;
                }
            }
        }
    }
    if let Err(error) = campaign.manager.release().await {
        tracing::warn!(%error, "could not release the lease; it expires on its own");
    }
}

/// Tells everyone following `sender` whether this replica leads, when that changed.
fn lead(sender: &watch::Sender<bool>, leads: bool) {
    if sender.send_if_modified(|current| std::mem::replace(current, leads) != leads) {
        tell(leads);
    }
}

fn tell(leads: bool) {
    if leads {
        tracing::info!("this replica leads: it reconciles and writes");
    } else {
        tracing::info!("this replica no longer leads");
    }
}
