//! Leader election with a Lease (kube-lease-manager): every replica campaigns; the holder
//! reconciles and writes. Releasing on shutdown hands over at once instead of after expiry.

use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Seconds a lease stays valid without renewal.
pub const LEASE_SECONDS: u64 = 15;
/// Seconds before expiry the holder renews.
pub const GRACE_SECONDS: u64 = 5;

/// A running campaign for a Lease.
pub struct Leadership {
    /// True while this replica holds the lease.
    pub is_leader: watch::Receiver<bool>,
    task: JoinHandle<kube_lease_manager::Result<LeaseManager>>,
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
        let manager = LeaseManagerBuilder::new(client, name)
            .with_namespace(namespace)
            .with_identity(identity)
            .with_duration(seconds)
            .with_grace(grace)
            .with_field_manager(format!("coverbridge-{identity}"))
            .build()
            .await?;
        let (is_leader, task) = manager.watch().await;
        Ok(Self { is_leader, task })
    }

    /// Stops campaigning and releases the lease if held.
    pub async fn resign(self) {
        drop(self.is_leader);
        match self.task.await {
            Ok(Ok(manager)) => {
                if let Err(error) = manager.release().await {
                    tracing::warn!(%error, "could not release the lease; it expires on its own");
                }
            }
            Ok(Err(error)) => tracing::warn!(%error, "leader election stopped with an error"),
            Err(error) => tracing::warn!(%error, "leader election task failed"),
        }
    }
}
