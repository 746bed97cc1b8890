//! The core's view of one binding in the cluster: status by server-side apply under one field
//! manager, the cleanup finalizer before the first external write, Secrets read on demand,
//! mappings from the controller's cache, and Events.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::reconcile::{Host, HostError, Notice};
use crate::resources::{CategoryMapping, CoverageBinding, CoverageBindingStatus, Phase};

/// The finalizer that holds a binding until its cleanup ran.
pub const FINALIZER: &str = "coverbridge.io/cleanup";
/// The field manager of every write coverbridge makes.
pub const FIELD_MANAGER: &str = "coverbridge";

/// One binding's host.
pub struct KubeHost<'a> {
    client: &'a kube::Client,
    recorder: &'a Recorder,
    mappings: &'a [Store<CategoryMapping>],
    has_finalizer: AtomicBool,
    saved_phase: Mutex<Option<Phase>>,
}

impl<'a> KubeHost<'a> {
    /// The host for `binding`.
    pub fn new(
        client: &'a kube::Client,
        recorder: &'a Recorder,
        mappings: &'a [Store<CategoryMapping>],
        binding: &CoverageBinding,
    ) -> Self {
        Self {
            client,
            recorder,
            mappings,
            has_finalizer: AtomicBool::new(has_finalizer(binding)),
            saved_phase: Mutex::new(None),
        }
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

fn failed(what: &str) -> impl FnOnce(kube::Error) -> HostError + '_ {
    move |error| HostError(format!("{what}: {error}"))
}

/// Adds the finalizer, guarded by a test of the current list so a concurrent edit fails
/// instead of being overwritten.
pub async fn add_finalizer(client: &kube::Client, binding: &CoverageBinding) -> Result<(), HostError> {
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
        .map(drop)
        .map_err(failed("adding the cleanup finalizer"))
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
        Err(error) => Err(failed("removing the cleanup finalizer")(error)),
    }
}

/// Applies `status` as the whole of coverbridge's part of the binding's status.
pub async fn apply_status(
    client: &kube::Client,
    binding: &CoverageBinding,
    status: &CoverageBindingStatus,
) -> Result<(), HostError> {
    let body = json!({
        "apiVersion": CoverageBinding::api_version(&()),
        "kind": CoverageBinding::kind(&()),
        "status": status,
    });
    api(client, binding)
        .patch_status(&binding.name_any(), &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(body))
        .await
        .map(drop)
        .map_err(failed("writing the status"))
}

impl Host for KubeHost<'_> {
    async fn before_write(&self, binding: &CoverageBinding) -> Result<(), HostError> {
        if !self.has_finalizer.load(Ordering::SeqCst) {
            add_finalizer(self.client, binding).await?;
            self.has_finalizer.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    async fn save_status(&self, binding: &CoverageBinding, status: &CoverageBindingStatus) -> Result<(), HostError> {
        apply_status(self.client, binding, status).await?;
        *self.saved_phase.lock().unwrap_or_else(|p| p.into_inner()) = status.phase;
        Ok(())
    }

    async fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Result<Option<Vec<u8>>, HostError> {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let secret = secrets.get_opt(name).await.map_err(failed("reading the certificate Secret"))?;
        Ok(secret.and_then(|s| s.data).and_then(|mut data| data.remove(key)).map(|bytes| bytes.0))
    }

    async fn mapping(&self, namespace: &str, name: &str) -> Result<Option<CategoryMapping>, HostError> {
        let key = ObjectRef::new(name).within(namespace);
        Ok(self.mappings.iter().find_map(|store| store.get(&key)).map(|m| (*m).clone()))
    }

    async fn notify(&self, binding: &CoverageBinding, notice: Notice) {
        publish(self.recorder, binding, notice).await;
    }
}

/// Publishes a notice as an events.k8s.io Event on the binding. The recorder folds repeats
/// into a series, so a recurring error is one Event with a count.
pub async fn publish(recorder: &Recorder, binding: &CoverageBinding, notice: Notice) {
    let event = Event {
        type_: if notice.warning { EventType::Warning } else { EventType::Normal },
        action: if notice.warning { "Reconciling".into() } else { notice.reason.clone() },
        reason: notice.reason,
        // The API server caps notes at 1 kB.
        note: Some(notice.message.chars().take(1000).collect()),
        secondary: None,
    };
    if let Err(error) = recorder.publish(&event, &binding.object_ref(&())).await {
        tracing::warn!(binding = %binding.name_any(), %error, "could not publish an event");
    }
}
