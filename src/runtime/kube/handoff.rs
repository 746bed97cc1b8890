//! Wakes that reach a replica which is not the leader. Every replica serves webhooks (the
//! Service spreads deliveries over them), but only the leader reconciles; a follower passes a
//! wake on by stamping the binding with an annotation, which the leader's watch sees as a change
//! worth reconciling. A stamp made while nobody leads is not lost either: a new leader
//! reconciles every binding.

use kube::Client;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use tokio::sync::watch;

use crate::resources::CoverageBinding;
use crate::resources::ObjectKey;

/// Annotation a follower stamps on a binding (with the time) to have the leader reconcile it.
pub const WAKE_ANNOTATION: &str = "coverbridge.io/wake";

/// Passes wakes on to the leader when this replica is not it.
#[derive(Clone)]
pub struct Handoff {
    client: Client,
    leader: watch::Receiver<bool>,
}

impl Handoff {
    /// A hand-off over `client`, following this replica's leadership.
    pub fn new(client: Client, leader: watch::Receiver<bool>) -> Self {
        Self { client, leader }
    }

    /// Whether this replica leads (and so reconciles wakes itself).
    pub fn is_leader(&self) -> bool {
        *self.leader.borrow()
    }

    /// Stamps each binding so the leader reconciles it. In the background: the webhook that
    /// asked is answered at once, and a failed stamp is logged.
    pub fn pass_on(&self, keys: Vec<ObjectKey>) {
        let client = self.client.clone();
        tokio::spawn(async move {
            let patch = json!({"metadata": {"annotations": {WAKE_ANNOTATION: jiff::Timestamp::now().to_string()}}});
            for key in keys {
                let api: Api<CoverageBinding> = Api::namespaced(client.clone(), &key.namespace);
                match api.patch(&key.name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                    Ok(_) => tracing::debug!(binding = %key, "passed a wake on to the leader"),
                    Err(error) => tracing::warn!(binding = %key, %error, "could not pass a wake on to the leader"),
                }
            }
        });
    }
}
