//! The core's view for `coverbridge plan`: mappings and Secrets from the manifests under review,
//! else (with `--cluster`) from the cluster, read with GET only. Nothing is ever written: the
//! forecast makes no write, and every write this host is asked for is refused.

use std::sync::Mutex;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use super::manifests::Manifests;
use crate::reconcile::{Host, HostError, Notice};
use crate::resources::{CategoryMapping, CoverageBinding, CoverageBindingStatus, ObjectKey};

/// Manifests first, then the cluster.
pub struct PreviewHost<'a> {
    manifests: &'a Manifests,
    cluster: Option<&'a kube::Client>,
    /// Objects asked for that neither the manifests nor the cluster had, e.g. `Secret a/coi`.
    unseen: Mutex<Vec<String>>,
}

impl<'a> PreviewHost<'a> {
    /// A host over `manifests`, reading what they lack from `cluster` when given.
    pub fn new(manifests: &'a Manifests, cluster: Option<&'a kube::Client>) -> Self {
        Self { manifests, cluster, unseen: Mutex::default() }
    }

    /// Objects asked for since the last call that were found nowhere, e.g. `Secret a/coi`.
    pub fn take_unseen(&self) -> Vec<String> {
        std::mem::take(&mut *self.unseen.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn unseen(&self, what: String) {
        self.unseen.lock().unwrap_or_else(|p| p.into_inner()).push(what);
    }
}

fn refused(action: &str) -> HostError {
    HostError::Forbidden {
        action: action.to_owned(),
        permission: "write anything".into(),
        remedy: "coverbridge plan only reads",
    }
}

fn failed(action: String) -> impl FnOnce(kube::Error) -> HostError {
    move |error| HostError::Failed { action, cause: std::sync::Arc::new(error) }
}

impl Host for PreviewHost<'_> {
    async fn before_write(&self, _: &CoverageBinding) -> Result<(), HostError> {
        Err(refused("adding the finalizer"))
    }

    async fn save_status(&self, _: &CoverageBinding, _: &CoverageBindingStatus) -> Result<(), HostError> {
        Err(refused("saving the status"))
    }

    async fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Result<Option<Vec<u8>>, HostError> {
        let secret_key = ObjectKey::new(namespace, name);
        if let Some(data) = self.manifests.secrets.get(&secret_key) {
            return Ok(data.get(key).cloned());
        }
        if let Some(client) = self.cluster {
            let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
            let found = secrets.get_opt(name).await.map_err(failed(format!("reading Secret {secret_key}")))?;
            if let Some(secret) = found {
                return Ok(secret.data.and_then(|mut data| data.remove(key)).map(|bytes| bytes.0));
            }
        }
        self.unseen(format!("Secret {secret_key}"));
        Ok(None)
    }

    async fn mapping(&self, namespace: &str, name: &str) -> Result<Option<CategoryMapping>, HostError> {
        let given =
            self.manifests.mappings.iter().find(|m| {
                m.metadata.namespace.as_deref() == Some(namespace) && m.metadata.name.as_deref() == Some(name)
            });
        if let Some(mapping) = given {
            return Ok(Some(mapping.clone()));
        }
        let found = match self.cluster {
            Some(client) => Api::<CategoryMapping>::namespaced(client.clone(), namespace)
                .get_opt(name)
                .await
                .map_err(failed(format!("reading CategoryMapping {namespace}/{name}")))?,
            None => None,
        };
        if found.is_none() {
            self.unseen(format!("CategoryMapping {namespace}/{name}"));
        }
        Ok(found)
    }

    async fn notify(&self, _: &CoverageBinding, _: Notice) {}
}
