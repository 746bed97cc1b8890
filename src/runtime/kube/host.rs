//! The core's view of one binding in the cluster: status by server-side apply under one field
//! manager, the cleanup finalizer before the first external write, Secrets read on demand,
//! mappings from the controller's cache, and Events.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::caches::Caches;
use super::notices::Notices;
use crate::reconcile::{Host, HostError, Notice};
use crate::resources::{CategoryMapping, CoverageBinding, CoverageBindingStatus, Phase};

/// The finalizer that holds a binding until its cleanup ran.
pub const FINALIZER: &str = "coverbridge.io/cleanup";
/// The field manager of every write coverbridge makes.
pub const FIELD_MANAGER: &str = "coverbridge";

/// One binding's host.
pub struct KubeHost<'a> {
    client: &'a kube::Client,
    notices: &'a Notices,
    caches: &'a Caches,
    has_finalizer: AtomicBool,
    saved_phase: Mutex<Option<Phase>>,
    written_version: Mutex<Option<String>>,
}

impl<'a> KubeHost<'a> {
    /// The host for `binding`.
    pub fn new(client: &'a kube::Client, notices: &'a Notices, caches: &'a Caches, binding: &CoverageBinding) -> Self {
        Self {
            client,
            notices,
            caches,
            has_finalizer: AtomicBool::new(has_finalizer(binding)),
            saved_phase: Mutex::new(None),
            written_version: Mutex::new(None),
        }
    }

    /// The resourceVersion of the binding after this host's last write to it, if it wrote.
    pub fn written_version(&self) -> Option<String> {
        self.written_version.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn wrote(&self, written: CoverageBinding) {
        *self.written_version.lock().unwrap_or_else(|p| p.into_inner()) = written.resource_version();
    }

    /// The phase of the last status this host saved, if it saved one.
    pub fn saved_phase(&self) -> Option<Phase> {
        *self.saved_phase.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether `binding` carries coverbridge's finalizer.
pub fn has_finalizer(binding: &CoverageBinding) -> bool {
    binding.finalizers().iter().any(|f| f == FINALIZER)
}

fn api(client: &kube::Client, binding: &CoverageBinding) -> Api<CoverageBinding> {
    Api::namespaced(client.clone(), &binding.namespace().unwrap_or_default())
}

/// A Kubernetes call the core depended on, for its error: what was done, and the permission it
/// takes, which a 403 names.
pub struct Call<'a> {
    /// What was being done, e.g. `writing the status`.
    pub action: &'a str,
    /// The RBAC verb.
    pub verb: &'a str,
    /// The resource (with subresource), e.g. `coveragebindings/status`.
    pub resource: &'a str,
    /// Namespace the call was made in; with the verb and resource, what a Role must grant.
    pub namespace: &'a str,
}

impl Call<'_> {
    /// The core's error for this call failing with `error`.
    pub fn failed(&self, error: kube::Error) -> HostError {
        match error {
            kube::Error::Api(status) if status.is_forbidden() => HostError::Forbidden {
                action: self.action.to_owned(),
                permission: format!("{} {} in namespace {}", self.verb, self.resource, self.namespace),
                remedy: "grant it in the operator's Role or ClusterRole (the chart's RBAC does)",
            },
            error => HostError::Failed { action: self.action.to_owned(), cause: Arc::new(error) },
        }
    }
}

fn binding_call<'a>(action: &'a str, verb: &'a str, resource: &'a str, binding: &'a CoverageBinding) -> Call<'a> {
    Call { action, verb, resource, namespace: binding.meta().namespace.as_deref().unwrap_or_default() }
}

/// Adds the finalizer, guarded by a test of the current list so a concurrent edit fails
/// instead of being overwritten; returns the binding as written.
pub async fn add_finalizer(client: &kube::Client, binding: &CoverageBinding) -> Result<CoverageBinding, HostError> {
    // The API server omits an empty list, and its `test` of an absent path against null passes.
    let current = binding.finalizers();
    let patch = if current.is_empty() {
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},
        ])
    } else {
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": current},
            {"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER},
        ])
    };
    let patch: json_patch::Patch = serde_json::from_value(patch).expect("a well-formed JSON patch");
    api(client, binding)
        .patch(&binding.name_any(), &PatchParams::default(), &Patch::<()>::Json(patch))
        .await
        .map_err(|e| binding_call("adding the cleanup finalizer", "patch", "coveragebindings", binding).failed(e))
}

/// Removes the finalizer (the binding then goes), guarded like [`add_finalizer`].
pub async fn remove_finalizer(client: &kube::Client, binding: &CoverageBinding) -> Result<(), HostError> {
    let Some(index) = binding.finalizers().iter().position(|f| f == FINALIZER) else { return Ok(()) };
    let patch = json!([
        {"op": "test", "path": format!("/metadata/finalizers/{index}"), "value": FINALIZER},
        {"op": "remove", "path": format!("/metadata/finalizers/{index}")},
    ]);
    let patch: json_patch::Patch = serde_json::from_value(patch).expect("a well-formed JSON patch");
    match api(client, binding).patch(&binding.name_any(), &PatchParams::default(), &Patch::<()>::Json(patch)).await {
        Ok(_) => Ok(()),
        // Already gone: nothing holds it any more.
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => {
            Err(binding_call("removing the cleanup finalizer", "patch", "coveragebindings", binding).failed(error))
        }
    }
}

/// Applies `status` as the whole of coverbridge's part of the binding's status; returns the
/// binding as written.
pub async fn apply_status(
    client: &kube::Client,
    binding: &CoverageBinding,
    status: &CoverageBindingStatus,
) -> Result<CoverageBinding, HostError> {
    let body = json!({
        "apiVersion": CoverageBinding::api_version(&()),
        "kind": CoverageBinding::kind(&()),
        "status": status,
    });
    api(client, binding)
        .patch_status(&binding.name_any(), &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(body))
        .await
        .map_err(|e| binding_call("writing the status", "patch", "coveragebindings/status", binding).failed(e))
}

impl Host for KubeHost<'_> {
    async fn before_write(&self, binding: &CoverageBinding) -> Result<(), HostError> {
        if !self.has_finalizer.load(Ordering::SeqCst) {
            self.wrote(add_finalizer(self.client, binding).await?);
            self.has_finalizer.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    async fn save_status(&self, binding: &CoverageBinding, status: &CoverageBindingStatus) -> Result<(), HostError> {
        self.wrote(apply_status(self.client, binding, status).await?);
        *self.saved_phase.lock().unwrap_or_else(|p| p.into_inner()) = status.phase;
        Ok(())
    }

    async fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Result<Option<Vec<u8>>, HostError> {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let call = Call { action: "reading the certificate Secret", verb: "get", resource: "secrets", namespace };
        let secret = secrets.get_opt(name).await.map_err(|e| call.failed(e))?;
        Ok(secret.and_then(|s| s.data).and_then(|mut data| data.remove(key)).map(|bytes| bytes.0))
    }

    async fn mapping(&self, namespace: &str, name: &str) -> Result<Option<CategoryMapping>, HostError> {
        Ok(self.caches.mapping(namespace, name)?.map(|m| (*m).clone()))
    }

    async fn notify(&self, binding: &CoverageBinding, notice: Notice) {
        self.notices.publish(binding, notice).await;
    }
}
