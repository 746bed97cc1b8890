//! Condition bookkeeping with Kubernetes semantics: one entry per type, and
//! `lastTransitionTime` moves only when the status flips.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::resources::ConditionType;

/// A condition's status, as Kubernetes spells it in `metav1.Condition`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// It does not.
    False,
    /// Nobody can tell yet.
    Unknown,
}

impl ConditionStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::True => "True",
            Self::False => "False",
            Self::Unknown => "Unknown",
        }
    }

    /// Reads a stored condition's status; anything but `True` or `False` is `Unknown`.
    pub fn of(condition: &Condition) -> Self {
        match condition.status.as_str() {
            "True" => Self::True,
            "False" => Self::False,
            _ => Self::Unknown,
        }
    }
}

/// The desired state of one condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    /// The condition's `type`.
    pub type_: ConditionType,
    /// Whether it holds.
    pub status: ConditionStatus,
    /// PascalCase reason; doubles as Event reason and metric label.
    pub reason: String,
    /// Human-readable `message`: what happened or what to fix.
    pub message: String,
}

impl Desired {
    /// A condition with status True.
    pub fn yes(type_: ConditionType, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self { type_, status: ConditionStatus::True, reason: reason.into(), message: message.into() }
    }

    /// A condition with status False.
    pub fn no(type_: ConditionType, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self { type_, status: ConditionStatus::False, reason: reason.into(), message: message.into() }
    }

    /// A condition with status Unknown.
    pub fn unknown(type_: ConditionType, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self { type_, status: ConditionStatus::Unknown, reason: reason.into(), message: message.into() }
    }
}

/// Replaces `current` with exactly the `desired` conditions (types not desired are dropped),
/// keeping each surviving condition's `lastTransitionTime` unless its status flipped. The result
/// is sorted by type so that equal states serialize equally.
pub fn merge(current: &[Condition], desired: &[Desired], generation: Option<i64>, now: &Time) -> Vec<Condition> {
    let mut merged: Vec<Condition> = desired
        .iter()
        .map(|want| {
            let status = want.status;
            let last_transition_time = current
                .iter()
                .find(|c| c.type_ == want.type_.as_str() && c.status == status.as_str())
                .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
            Condition {
                type_: want.type_.as_str().to_owned(),
                status: status.as_str().to_owned(),
                reason: want.reason.clone(),
                message: want.message.clone(),
                observed_generation: generation,
                last_transition_time,
            }
        })
        .collect();
    merged.sort_by(|a, b| a.type_.cmp(&b.type_));
    merged.dedup_by(|a, b| a.type_ == b.type_);
    merged
}

/// The condition of `type_`, if present.
pub fn find(conditions: &[Condition], type_: ConditionType) -> Option<&Condition> {
    conditions.iter().find(|c| c.type_ == type_.as_str())
}

/// Whether the condition of `type_` is present with status True.
pub fn is_true(conditions: &[Condition], type_: ConditionType) -> bool {
    find(conditions, type_).is_some_and(|c| ConditionStatus::of(c) == ConditionStatus::True)
}

/// The `current` conditions, except the types in `except`, as desired conditions: what a
/// decision that does not speak about them keeps.
pub fn carried_over(current: &[Condition], except: &[ConditionType]) -> Vec<Desired> {
    current
        .iter()
        .filter_map(|c| {
            let type_ = ConditionType::ALL.into_iter().find(|t| t.as_str() == c.type_)?;
            (!except.contains(&type_)).then(|| Desired {
                type_,
                status: ConditionStatus::of(c),
                reason: c.reason.clone(),
                message: c.message.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Time {
        Time(jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn transition_time_moves_only_when_status_flips() {
        let first =
            merge(&[], &[Desired::no(ConditionType::Ready, "Provisioning", "creating the job")], Some(1), &at(100));
        assert_eq!(first[0].last_transition_time, at(100));

        let same_status = merge(
            &first,
            &[Desired::no(ConditionType::Ready, "AwaitingApplication", "the worker must apply")],
            Some(2),
            &at(200),
        );
        assert_eq!(same_status[0].last_transition_time, at(100), "reason changed, status did not");
        assert_eq!(same_status[0].reason, "AwaitingApplication");
        assert_eq!(same_status[0].observed_generation, Some(2));

        let flipped = merge(&same_status, &[Desired::yes(ConditionType::Ready, "Bound", "covered")], Some(2), &at(300));
        assert_eq!(flipped[0].last_transition_time, at(300));
        assert_eq!(flipped[0].status, "True");
    }

    #[test]
    fn conditions_not_desired_are_removed_and_order_is_stable() {
        let current = merge(
            &[],
            &[
                Desired::yes(ConditionType::WorkerMismatch, "WorkerMismatch", "x"),
                Desired::yes(ConditionType::Synced, "Synced", ""),
            ],
            None,
            &at(1),
        );
        let next = merge(
            &current,
            &[Desired::yes(ConditionType::Synced, "Synced", ""), Desired::no(ConditionType::Ready, "Provisioning", "")],
            None,
            &at(2),
        );
        let types: Vec<_> = next.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, ["Ready", "Synced"]);
        assert_eq!(find(&next, ConditionType::Synced).unwrap().last_transition_time, at(1));
        assert!(is_true(&next, ConditionType::Synced));
        assert!(!is_true(&next, ConditionType::Ready));
        assert!(find(&next, ConditionType::WorkerMismatch).is_none());
    }
}
