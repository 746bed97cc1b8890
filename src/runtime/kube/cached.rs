//! A CoverageBinding as the operator's watch cache keeps it. Each binding lives in the cache as
//! long as it exists but is read rarely — by its reconcile, or a lookup when a mapping or Secret
//! changes — so spec and status are kept as the compact JSON the API server sent and decoded
//! when read; decoded, a Bound binding takes about 2.8 kB (1.6 kB of it the structs' inline
//! size), serialized about half. Metadata stays decoded for the watch, the predicates and the
//! controller; phase and the uninsured flag for the metrics scraped every few seconds.

use std::borrow::Cow;

use k8s_openapi::NamespaceResourceScope;
use kube::Resource;
use kube::api::ObjectMeta;
use serde::{Deserialize, Deserializer};

use crate::reconcile::conditions::is_true;
use crate::resources::{ConditionType, CoverageBinding, CoverageBindingSpec, CoverageBindingStatus, Phase};

/// A cached binding: decoded metadata, serialized spec and status.
#[derive(Clone, Debug)]
pub struct CachedBinding {
    /// As the API server sent it (the watch drops `managedFields` and the last-applied copy).
    pub metadata: ObjectMeta,
    spec: Box<[u8]>,
    status: Option<Box<[u8]>>,
    phase: Option<Phase>,
    uninsured: bool,
}

fn encode<T: serde::Serialize>(value: &T) -> Box<[u8]> {
    serde_json::to_vec(value).expect("resource types serialize").into_boxed_slice()
}

fn decode<T: serde::de::DeserializeOwned>(json: &[u8]) -> T {
    serde_json::from_slice(json).expect("the cache reads back what it wrote")
}

impl From<CoverageBinding> for CachedBinding {
    fn from(binding: CoverageBinding) -> Self {
        let phase = binding.status.as_ref().and_then(|s| s.phase);
        let uninsured =
            binding.status.as_ref().is_some_and(|s| is_true(&s.conditions, ConditionType::WorkStartedUninsured));
        Self {
            metadata: binding.metadata,
            spec: encode(&binding.spec),
            status: binding.status.as_ref().map(encode),
            phase,
            uninsured,
        }
    }
}

impl CachedBinding {
    /// The whole binding, decoded.
    pub fn binding(&self) -> CoverageBinding {
        CoverageBinding { metadata: self.metadata.clone(), spec: self.spec(), status: self.status() }
    }

    /// The spec, decoded from its JSON (a few microseconds: lookups over a namespace may read
    /// thousands).
    pub fn spec(&self) -> CoverageBindingSpec {
        decode(&self.spec)
    }

    /// The status, decoded; `None` before the first status write.
    pub fn status(&self) -> Option<CoverageBindingStatus> {
        self.status.as_deref().map(decode)
    }

    /// `status.phase`.
    pub fn phase(&self) -> Option<Phase> {
        self.phase
    }

    /// Whether `WorkStartedUninsured` is True.
    pub fn uninsured(&self) -> bool {
        self.uninsured
    }
}

impl<'de> Deserialize<'de> for CachedBinding {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        CoverageBinding::deserialize(deserializer).map(Self::from)
    }
}

/// The same resource as [`CoverageBinding`]: same group, version, kind and paths.
impl Resource for CachedBinding {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(dt: &()) -> Cow<'_, str> {
        CoverageBinding::kind(dt)
    }

    fn group(dt: &()) -> Cow<'_, str> {
        CoverageBinding::group(dt)
    }

    fn version(dt: &()) -> Cow<'_, str> {
        CoverageBinding::version(dt)
    }

    fn plural(dt: &()) -> Cow<'_, str> {
        CoverageBinding::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{CoverageType, ObservedWorkOrder};

    #[test]
    fn a_cached_binding_decodes_to_what_was_sent_and_is_smaller() {
        let mut binding =
            CoverageBinding::new("cabling", CoverageBindingSpec::new("6029116324", vec![CoverageType::General]));
        binding.metadata.uid = Some("uid-1".into());
        binding.status = Some(CoverageBindingStatus {
            phase: Some(Phase::Bound),
            contractor_id: Some("cn_1".into()),
            work_order: Some(ObservedWorkOrder { title: Some("Low Voltage Cabling".into()), ..Default::default() }),
            ..Default::default()
        });
        let json = serde_json::to_value(&binding).unwrap();
        let cached: CachedBinding = serde_json::from_value(json).unwrap();
        assert_eq!(cached.binding(), binding);
        assert_eq!((cached.phase(), cached.uninsured()), (Some(Phase::Bound), false));
        assert_eq!(CachedBinding::plural(&()), "coveragebindings");
        assert_eq!(CachedBinding::api_version(&()), "coverbridge.io/v1alpha1");
        let kept =
            std::mem::size_of::<CachedBinding>() + cached.spec.len() + cached.status.as_ref().map_or(0, |s| s.len());
        assert!(kept < std::mem::size_of::<CoverageBinding>(), "{kept} bytes kept");
    }
}
