//! Idempotency keys: derived from the binding's UID, the step and the terms it sends, so a
//! crash and retry can never create a second contractor, job, quote, session, assignment,
//! certificate or invoice.

use sha2::{Digest, Sha256};

use super::steps::Step;
use crate::resources::CoverageBindingStatus;
use crate::ten99policy::IdempotencyKey;

/// The key for `step` of the binding with `uid`, at attempt `attempt` (0 for the first).
///
/// The contractor key is the guide's `workmarket-worker-<worker_id>`: one contractor per worker
/// across bindings. Every other key is `cb:<uid>:<step>:<first 16 hex digits of the SHA-256 of
/// the step's terms>`. A fresh attempt, needed when 1099Policy stored a failure under the key,
/// appends `:attempt-<n>`.
pub fn key(uid: &str, step: &Step, attempt: u32) -> IdempotencyKey {
    let base = match step {
        Step::CreateContractor(draft) => IdempotencyKey::new(format!("workmarket-worker-{}", draft.worker_id)),
        _ => {
            let terms = serde_json::to_vec(&step.key_terms()).expect("key terms serialize");
            let digest = hex::encode(Sha256::digest(terms));
            IdempotencyKey::from_parts(["cb", uid, step.kind().as_str(), &digest[..16]])
        }
    };
    base.attempt(attempt)
}

/// The attempt number `step`'s key carries now: how many earlier attempts 1099Policy may have
/// stored a failure for (`status.createAttempts`).
pub fn attempt_of(status: &CoverageBindingStatus, step: &Step) -> u32 {
    status.create_attempts.get(&step.kind()).copied().unwrap_or(0).max(0) as u32
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::facts::AddressFacts;
    use crate::reconcile::steps::ContractorDraft;

    fn job_update(wage: i64) -> Step {
        Step::UpdateJob {
            job_id: "jb_1".into(),
            terms: crate::resources::JobTerms {
                category_code: "jc_1".into(),
                wage_cents: wage,
                wage_type: crate::resources::WageType::Hourly,
                region: "CA".into(),
            },
        }
    }

    #[test]
    fn keys_are_deterministic_and_change_with_terms_uid_and_attempt() {
        let a = key("uid-1", &job_update(100), 0);
        assert_eq!(a, key("uid-1", &job_update(100), 0));
        assert!(a.as_str().starts_with("cb:uid-1:job-update:"), "{a}");
        assert_ne!(a, key("uid-1", &job_update(200), 0));
        assert_ne!(a, key("uid-2", &job_update(100), 0));
        assert_eq!(key("uid-1", &job_update(100), 2).as_str(), format!("{a}:attempt-2"));
    }

    #[test]
    fn the_contractor_key_is_the_guides_per_worker_key() {
        let draft = ContractorDraft {
            worker_id: "8823578".into(),
            first_name: "A".into(),
            last_name: "N".into(),
            email: "a@example.com".into(),
            phone: "1".into(),
            address: AddressFacts::default(),
        };
        let step = Step::CreateContractor(draft);
        assert_eq!(key("uid-1", &step, 0).as_str(), "workmarket-worker-8823578");
        assert_eq!(key("uid-2", &step, 0), key("uid-1", &step, 0), "one contractor per worker");
    }
}
