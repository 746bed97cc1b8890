//! Exactly once, under failure: a reconcile interrupted after any external call — by a lost
//! answer or by a crash before the status write — never creates a second object when it runs
//! again; transient errors are retried with backoff, terminal ones stop and say why.

mod support;

use coverbridge::reconcile::{Host, HostError, Notice, ObjectKey};
use coverbridge::resources::{CategoryMapping, ConditionType, CoverageBinding, CoverageBindingStatus, Phase};
use coverbridge::runtime::local::Store;
use coverbridge_sandbox::harness::{Fault, FaultRule};
use std::sync::atomic::{AtomicUsize, Ordering};
use support::platforms::manifest;
use support::world::{NAMESPACE, World};

const COLLECTIONS: [&str; 7] =
    ["contractors", "jobs", "quotes", "apply/sessions", "assignments", "files/certificates", "invoices"];

/// Counts of every kind of object 1099Policy holds.
async fn counts(world: &World) -> Vec<(&'static str, usize)> {
    let mut counts = Vec::new();
    for collection in COLLECTIONS {
        counts.push((collection, world.count(collection).await));
    }
    counts
}

/// The three flows side by side: a new worker with an invoice, a returning worker (assignment),
/// and a worker with their own certificate. Jordan Lee's seeded contractor, job and quote are
/// part of the baseline.
async fn three_flows(world: &World) {
    world.apply_example("binding-hourly.yaml").await;
    world.apply(&manifest("pos", "6029116326", "")).await;
    world.apply_example("binding-own-coi.yaml").await;
    let wm = &world.workmarket.sandbox;
    wm.assign("6029116325", "8823579").unwrap();
    wm.assign("6029116326", "8823580").unwrap();
    wm.assign("6029116327", "8823581").unwrap();
}

/// Drives the three flows to their end: the application completed, the certificate approved.
async fn finish(world: &World) {
    for _ in 0..20 {
        world.runtime.trigger_all();
        world.settle().await;
        let survey = world.status("site-survey-6029116325");
        if let (Some(session), None) = (&survey.application_session_id, &survey.policy_id) {
            let _ = world.ten99policy.sandbox.complete_application(session);
        }
        let repair = world.status("repair-6029116327");
        if let (Some(id), Some(coverbridge::resources::CertificateStatus::Pending)) =
            (&repair.certificate_id, repair.certificate_status)
        {
            let _ = world
                .ten99policy
                .sandbox
                .review_certificate(id, coverbridge_sandbox::ten99policy::CertificateReview::Approve);
        }
        let done = ["site-survey-6029116325", "pos", "repair-6029116327"]
            .iter()
            .all(|n| world.status(n).phase == Some(Phase::Bound))
            && world.status("site-survey-6029116325").invoice_id.is_some();
        if done {
            return;
        }
    }
    panic!("did not converge: {:#?}", ["site-survey-6029116325", "pos", "repair-6029116327"].map(|n| world.status(n)));
}

/// What a clean run creates, beyond the seed.
async fn expected() -> Vec<(&'static str, usize)> {
    let world = World::start().await;
    let seeded = counts(&world).await;
    three_flows(&world).await;
    finish(&world).await;
    let after = counts(&world).await;
    let created: Vec<usize> = after.iter().zip(&seeded).map(|(a, s)| a.1 - s.1).collect();
    // Two new contractors (Priya, Sam; Jordan's is adopted), one job and quote for Priya, one job
    // for Jordan, one session, one assignment, one certificate, one invoice.
    assert_eq!(created, [2, 2, 1, 1, 1, 1, 1], "{after:?} vs {seeded:?}");
    after
}

/// Runs the three flows with `fault` on every answer of one create path at a time (three times,
/// beyond the HTTP layer's retries) and checks that exactly the clean run's objects exist.
async fn no_duplicates_under(fault: Fault) {
    let clean = expected().await;
    for collection in COLLECTIONS {
        let world = World::start().await;
        let path = format!("/api/v1/{collection}");
        world.ten99policy.sandbox.harness().inject(FaultRule::new(&path, fault.clone()).method("POST").times(3));
        three_flows(&world).await;
        finish(&world).await;
        assert_eq!(counts(&world).await, clean, "after {fault:?} on {path}");
        let fired = world.ten99_calls().into_iter().filter(|c| c.fault.as_ref() == Some(&fault)).count();
        assert_eq!(fired, 3, "the fault on {path} fired");
    }
}

#[tokio::test]
async fn a_lost_answer_at_any_create_never_duplicates() {
    // The same key is retried; 1099Policy replays the stored creation.
    no_duplicates_under(Fault::DropAfterProcessing).await;
}

#[tokio::test]
async fn a_failure_answer_after_the_create_never_duplicates() {
    // The key is spent on a 5xx; the next attempt finds the object before using a fresh key.
    no_duplicates_under(Fault::StatusAfterProcessing { status: 500 }).await;
}

/// A host that "crashes" (fails) at its `fail_at`-th status write, after the external call it
/// records was made.
struct Crashing {
    store: Store,
    saves: AtomicUsize,
    fail_at: usize,
}

impl Host for Crashing {
    async fn before_write(&self, binding: &CoverageBinding) -> Result<(), HostError> {
        self.store.add_finalizer(&ObjectKey::of(binding), "coverbridge.io/cleanup");
        Ok(())
    }

    async fn save_status(&self, binding: &CoverageBinding, status: &CoverageBindingStatus) -> Result<(), HostError> {
        if self.saves.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            let killed = std::io::Error::other("process killed before the status write");
            return Err(HostError::Failed { action: "writing the status".into(), cause: std::sync::Arc::new(killed) });
        }
        self.store.set_binding_status(&ObjectKey::of(binding), status.clone());
        Ok(())
    }

    async fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Result<Option<Vec<u8>>, HostError> {
        Ok(self.store.secret_value(namespace, name, key))
    }

    async fn mapping(&self, namespace: &str, name: &str) -> Result<Option<CategoryMapping>, HostError> {
        Ok(self.store.mapping(&ObjectKey::new(namespace, name)))
    }

    async fn notify(&self, _binding: &CoverageBinding, _notice: Notice) {}
}

#[tokio::test]
async fn a_crash_between_any_call_and_its_status_write_never_duplicates() {
    let clean = expected().await;
    // The hourly binding writes: contractor, job, quote, session, then (after the application)
    // the invoice. Crash after each.
    for fail_at in 1..=5 {
        let world = World::start().await;
        three_flows(&world).await;
        world.workmarket.sandbox.flush_webhooks().await;
        let key = ObjectKey::new(NAMESPACE, "site-survey-6029116325");
        let host = Crashing { store: world.runtime.store().clone(), saves: AtomicUsize::new(0), fail_at };
        let reconciler = world.runtime.reconciler().clone();
        for _ in 0..3 {
            let binding = world.runtime.store().binding(&key).unwrap();
            if let Some(session) = binding.status.as_ref().and_then(|s| s.application_session_id.clone()) {
                let _ = world.ten99policy.sandbox.complete_application(&session);
            }
            if reconciler.reconcile(&binding, &host).await.is_err() {
                break;
            }
        }
        assert!(host.saves.load(Ordering::SeqCst) >= fail_at, "crash {fail_at} happened");
        finish(&world).await;
        assert_eq!(counts(&world).await, clean, "after a crash at status write {fail_at}");
    }
}

#[tokio::test]
async fn transient_errors_are_retried_under_a_fresh_key_and_converge() {
    let world = World::start().await;
    // Three 503s exhaust the HTTP layer's retries of the job create; 1099Policy stores a 5xx
    // under its key, so the next attempt must use a fresh one.
    world
        .ten99policy
        .sandbox
        .harness()
        .inject(FaultRule::new("/api/v1/jobs", Fault::Status { status: 503 }).method("POST").times(3));
    world.apply(&manifest("cabling", "6029116324", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::AwaitingApplication), "requeued with backoff and converged: {status:#?}");
    assert!(status.create_attempts.is_empty(), "the attempt count is cleared on success");
    let job_posts: Vec<_> = world.ten99_writes().into_iter().filter(|c| c.path == "/api/v1/jobs").collect();
    assert_eq!(job_posts.len(), 4, "{job_posts:#?}");
    assert!(
        job_posts[..3].iter().all(|c| c.status == 503 && !c.idempotency_key.as_deref().unwrap().contains(":attempt-"))
    );
    assert!(job_posts[3].idempotency_key.as_deref().unwrap().ends_with(":attempt-1"), "{job_posts:#?}");
    assert_eq!(world.count("jobs").await, 2, "Jordan's seeded job and this one");
    let warned = world.notices.lock().unwrap().iter().any(|(_, n)| n.warning && n.reason == "Ten99PolicyUnavailable");
    assert!(warned, "the failure was announced");
    let synced = status.conditions.iter().find(|c| c.type_ == "Synced").unwrap();
    assert_eq!(synced.status, "True");
}

#[tokio::test]
async fn terminal_errors_stop_with_the_apis_message_and_do_not_hammer() {
    let world = World::start().await;
    // A refusal nothing read beforehand could foresee: the API key may not create jobs.
    world
        .ten99policy
        .sandbox
        .harness()
        .inject(FaultRule::new("/api/v1/jobs", Fault::Status { status: 403 }).method("POST"));
    world.apply(&manifest("cabling", "6029116324", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::Failed), "{status:#?}");
    let ready = status.conditions.iter().find(|c| c.type_ == ConditionType::Ready.as_str()).unwrap();
    assert_eq!(ready.reason, "Ten99PolicyRejected");
    assert!(ready.message.contains("This key may not do that"), "the API's message: {}", ready.message);
    let posts = world.ten99_writes().iter().filter(|c| c.path == "/api/v1/jobs").count();
    assert_eq!(posts, 1);
    // The queue waits minutes before trying a terminal error again: nothing happens meanwhile.
    world.settle().await;
    assert_eq!(world.ten99_writes().iter().filter(|c| c.path == "/api/v1/jobs").count(), 1);
}

#[tokio::test]
async fn rate_limits_are_waited_out() {
    let world = World::start().await;
    world
        .ten99policy
        .sandbox
        .harness()
        .inject(FaultRule::new("/api/v1/", Fault::RateLimit { retry_after_secs: 1 }).times(2));
    world.apply(&manifest("cabling", "6029116324", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    assert_eq!(world.status("cabling").phase, Some(Phase::AwaitingApplication));
    assert_eq!(world.count("contractors").await, 2, "Jordan's and Alex's");
}

#[tokio::test]
async fn a_refused_invoice_does_not_fail_coverage_that_is_in_force() {
    let world = World::start().await;
    world
        .ten99policy
        .sandbox
        .harness()
        .inject(FaultRule::new("/api/v1/invoices", Fault::Status { status: 400 }).method("POST"));
    world.apply_example("binding-hourly.yaml").await;
    world.workmarket.sandbox.assign("6029116325", "8823579").unwrap();
    world.settle().await;
    let session = world.status("site-survey-6029116325").application_session_id.unwrap();
    world.ten99policy.sandbox.complete_application(&session).unwrap();
    world.settle().await;
    let status = world.status("site-survey-6029116325");
    assert_eq!(status.phase, Some(Phase::Bound), "{status:#?}");
    assert!(status.invoice_id.is_none());
    let ready = status.conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(ready.status, "True", "coverage is in force");
    let synced = status.conditions.iter().find(|c| c.type_ == "Synced").unwrap();
    assert_eq!((synced.status.as_str(), synced.reason.as_str()), ("False", "Ten99PolicyRejected"));
    assert!(synced.message.contains("invoice"), "{}", synced.message);
}
