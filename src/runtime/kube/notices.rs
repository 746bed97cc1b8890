//! Notices as events.k8s.io Events on their binding. Warnings, which repeat while a problem
//! lasts, fold into one Event with a count (kube's Recorder, which keeps every Event it folds
//! for six minutes). Normal notices mark a moment that does not repeat (a phase reached), so
//! they are created as they come and nothing is kept: at fleet scale the Recorder's copies were
//! the operator's largest allocation. A notice told once per object — an object's creation — is
//! an Event whose name comes from the binding and the object, so another replica, or a retry
//! that finds the same object through an idempotent replay or adoption, meets "already exists"
//! instead of reporting it twice.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Resource, ResourceExt};

use crate::reconcile::Notice;
use crate::reconcile::keys::sha256_hex;
use crate::resources::CoverageBinding;

/// The API server caps an Event's note at 1 kB.
const NOTE_LIMIT: usize = 1000;

/// Publishes notices for every binding of one replica.
pub struct Notices {
    client: kube::Client,
    recorder: Recorder,
    reporter: Reporter,
}

impl Notices {
    /// A publisher reporting as `reporter`.
    pub fn new(client: kube::Client, reporter: Reporter) -> Self {
        Self { recorder: Recorder::new(client.clone(), reporter.clone()), client, reporter }
    }

    /// Publishes `notice` on `binding`; a failure is logged, never fatal.
    pub async fn publish(&self, binding: &CoverageBinding, notice: Notice) {
        let reference = binding.object_ref(&());
        let result = match (&notice.once_for, notice.warning) {
            (Some(id), _) => self.create(binding, &reference, &notice, Some(once_name(binding, id))).await,
            (None, true) => self.recorder.publish(&event(&notice), &reference).await,
            (None, false) => self.create(binding, &reference, &notice, None).await,
        };
        if let Err(error) = result {
            tracing::warn!(binding = %binding.name_any(), reason = notice.reason, %error, "could not publish an event");
        }
    }

    /// Creates the Event for `notice` under `name`, or a generated name when `None`. A named
    /// Event that exists already was reported by someone else: that is success.
    async fn create(
        &self,
        binding: &CoverageBinding,
        reference: &ObjectReference,
        notice: &Notice,
        name: Option<String>,
    ) -> Result<(), kube::Error> {
        let namespace = binding.namespace().unwrap_or_default();
        let generate_name =
            name.is_none().then(|| format!("{}.", binding.name_any().chars().take(200).collect::<String>()));
        let body = K8sEvent {
            metadata: ObjectMeta { name, generate_name, namespace: Some(namespace.clone()), ..ObjectMeta::default() },
            action: Some(notice.reason.clone()),
            reason: Some(notice.reason.clone()),
            note: Some(note(&notice.message)),
            event_time: Some(MicroTime(jiff::Timestamp::now())),
            regarding: Some(reference.clone()),
            reporting_controller: Some(self.reporter.controller.clone()),
            reporting_instance: Some(
                self.reporter.instance.clone().unwrap_or_else(|| self.reporter.controller.clone()),
            ),
            type_: Some(if notice.warning { "Warning" } else { "Normal" }.to_owned()),
            ..K8sEvent::default()
        };
        match Api::<K8sEvent>::namespaced(self.client.clone(), &namespace).create(&PostParams::default(), &body).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.is_already_exists() => {
                tracing::debug!(binding = %binding.name_any(), reason = notice.reason, "already reported");
                Ok(())
            }
            Err(error) => Err(error),
        }
    }
}

fn event(notice: &Notice) -> Event {
    Event {
        type_: if notice.warning { EventType::Warning } else { EventType::Normal },
        action: if notice.warning { "Reconciling".into() } else { notice.reason.clone() },
        reason: notice.reason.clone(),
        note: Some(note(&notice.message)),
        secondary: None,
    }
}

fn note(message: &str) -> String {
    message.chars().take(NOTE_LIMIT).collect()
}

/// The Event name for "this binding, this object": the same on every replica, and different for
/// a binding of the same name created again (its UID differs).
fn once_name(binding: &CoverageBinding, id: &str) -> String {
    let uid = binding.uid().unwrap_or_default();
    let digest = sha256_hex(format!("{uid}/{id}").as_bytes());
    let name: String = binding.name_any().chars().take(200).collect();
    format!("{name}.{}", &digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{CoverageBindingSpec, CoverageType};

    fn binding(uid: &str) -> CoverageBinding {
        let mut b = CoverageBinding::new("cabling", CoverageBindingSpec::new("1", vec![CoverageType::General]));
        b.metadata.uid = Some(uid.into());
        b
    }

    #[test]
    fn once_names_depend_on_the_binding_and_the_object_only() {
        let name = once_name(&binding("uid-1"), "cn_1");
        assert_eq!(name, once_name(&binding("uid-1"), "cn_1"), "every replica derives the same name");
        assert_ne!(name, once_name(&binding("uid-1"), "jb_1"));
        assert_ne!(name, once_name(&binding("uid-2"), "cn_1"), "a recreated binding reports afresh");
        assert!(name.starts_with("cabling.") && name.len() == "cabling.".len() + 16, "{name}");
        let long = CoverageBinding::new(&"x".repeat(253), CoverageBindingSpec::new("1", vec![CoverageType::General]));
        assert!(once_name(&long, "cn_1").len() <= 253);
    }
}
