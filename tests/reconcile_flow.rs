//! The guide end to end, against both sandboxes over loopback: each behaviour of issue 5 as a
//! scenario driven the way users drive it (manifests, WorkMarket lifecycle, webhooks).

mod support;

use std::time::Duration;

use coverbridge::reconcile::Settings;
use coverbridge::resources::{ConditionType, Phase, PolicyStatus};
use support::Ten99PolicySandboxClient;
use support::platforms::manifest;
use support::world::World;

fn condition(
    status: &coverbridge::resources::CoverageBindingStatus,
    type_: ConditionType,
) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    status.conditions.iter().find(|c| c.type_ == type_.as_str())
}

#[tokio::test]
async fn new_worker_flat_fee_from_assignment_to_bound() {
    let world = World::start().await;
    world.apply_example("category-mapping.yaml").await;
    world.apply_example("binding-flat-fee.yaml").await;
    world.settle().await;

    // 1. Nothing in 1099Policy before the trigger.
    let status = world.status("cabling-6029116324");
    assert_eq!(status.phase, Some(Phase::WaitingForTrigger));
    assert!(world.ten99_writes().is_empty(), "{:?}", world.ten99_writes());
    let ready = condition(&status, ConditionType::Ready).unwrap();
    assert!(ready.message.contains("assigned"), "{}", ready.message);

    // The worker accepts: WorkMarket's webhook wakes the binding.
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    let status = world.status("cabling-6029116324");
    assert_eq!(status.phase, Some(Phase::AwaitingApplication), "{status:#?}");
    for id in [
        &status.contractor_id,
        &status.job_id,
        &status.quote_id,
        &status.application_session_id,
        &status.application_url,
    ] {
        assert!(id.is_some(), "{status:#?}");
    }
    let work_order = status.work_order.clone().unwrap();
    assert_eq!(
        (work_order.wage_cents, work_order.worker_id.as_deref(), work_order.region.as_deref()),
        (Some(32500), Some("8823578"), Some("CA"))
    );
    assert!(world.notice_reasons("cabling-6029116324").contains(&"ApplicationStarted".to_owned()));

    // The worker finishes the application: 1099Policy's policy.active webhook wakes the binding.
    world.ten99policy.sandbox.complete_application(status.application_session_id.as_deref().unwrap()).unwrap();
    world.settle().await;
    let status = world.status("cabling-6029116324");
    assert_eq!(status.phase, Some(Phase::Bound), "{status:#?}");
    assert_eq!(status.policy_status, Some(PolicyStatus::Active));
    assert!(status.policy_id.as_deref().unwrap().starts_with("pl_"));
    assert_eq!(condition(&status, ConditionType::Insured).unwrap().status, "True");
    assert_eq!(condition(&status, ConditionType::Ready).unwrap().status, "True");
    assert!(status.coi_links.is_some(), "COI links stored: {status:#?}");

    // Exactly one of each object, and a converged binding writes nothing on resync.
    let writes = world.ten99_writes();
    let paths: Vec<&str> = writes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/api/v1/contractors", "/api/v1/jobs", "/api/v1/quotes", "/api/v1/apply/sessions"],
        "{writes:#?}"
    );
    world.runtime.trigger_all();
    world.settle().await;
    assert_eq!(world.ten99_writes().len(), 4, "resync wrote nothing");
}

/// Contractors 1099Policy holds for `email` (replayed answers are not new contractors).
async fn contractors_for(world: &World, email: &str) -> usize {
    world.ten99policy.client(support::world::fast_http()).list_contractors_by_email(email).await.unwrap().len()
}

#[tokio::test]
async fn in_progress_trigger_waits_for_check_in() {
    let world = World::start().await;
    world.apply(&manifest("survey", "6029116325", "  trigger: InProgress\n  region: NY\n")).await;
    world.workmarket.sandbox.assign("6029116325", "8823579").unwrap();
    world.settle().await;
    assert_eq!(world.status("survey").phase, Some(Phase::WaitingForTrigger));
    // Before the trigger only the account-wide lists are read, to show a bad code or entity early.
    let calls: Vec<String> = world.ten99_calls().into_iter().map(|c| format!("{} {}", c.method, c.path)).collect();
    assert_eq!(calls, ["GET /api/v1/category_codes", "GET /api/v1/entities/en_Ah3tqYn"]);
    world.workmarket.sandbox.check_in("6029116325").unwrap();
    world.settle().await;
    let status = world.status("survey");
    assert_eq!(status.phase, Some(Phase::AwaitingApplication), "{status:#?}");
    // Work started before coverage: the one fact a compliance team must never miss.
    let uninsured = condition(&status, ConditionType::WorkStartedUninsured).unwrap();
    assert_eq!(uninsured.status, "True");
    assert!(world.notice_reasons("survey").contains(&"WorkStartedUninsured".to_owned()));
}

#[tokio::test]
async fn hourly_worker_without_email_gets_a_proxy_contractor_and_an_hourly_job() {
    let world = World::start().await;
    world.apply_example("binding-hourly.yaml").await;
    world.workmarket.sandbox.assign("6029116325", "8823579").unwrap();
    world.settle().await;
    let status = world.status("site-survey-6029116325");
    assert_eq!(status.phase, Some(Phase::AwaitingApplication), "{status:#?}");
    let calls = world.ten99_writes();
    let contractor_call = calls.iter().find(|c| c.path == "/api/v1/contractors").unwrap();
    assert_eq!(contractor_call.idempotency_key.as_deref(), Some("workmarket-worker-8823579"));
    let client = world.ten99policy.client(support::world::fast_http());
    let contractor = client.get_contractor(status.contractor_id.as_deref().unwrap()).await.unwrap();
    assert_eq!(contractor.email.as_deref(), Some("8823579@relay.example.com"));
    assert_eq!(contractor.custom_metadata.get("workmarket_worker_id"), Some("8823579"));
    assert_eq!(contractor.phone.as_deref(), Some("+1 212 555 0148"));
    let job = client.get_job(status.job_id.as_deref().unwrap()).await.unwrap();
    assert_eq!(job.name.as_deref(), Some("WO 6029116325 — Retail Site Survey"));
    assert_eq!(
        (job.wage.map(|w| w.get()), job.wage_type),
        (Some(4550), Some(coverbridge::resources::WageType::Hourly))
    );
    assert_eq!(job.address.and_then(|a| a.region).as_deref(), Some("NY"), "spec.region overrides");
    assert_eq!(job.custom_metadata.get("work_order_id"), Some("6029116325"));
    let quote = client.get_quote(status.quote_id.as_deref().unwrap()).await.unwrap();
    assert_eq!(quote.coverage_type, [coverbridge::resources::CoverageType::General]);
    assert_eq!(quote.custom_metadata.get("work_order_id"), Some("6029116325"));
    let window = status.work_order.unwrap();
    assert_eq!(quote.effective_date.and_then(|d| d.to_timestamp()), window.window_start.map(|t| t.0));
    assert_eq!(quote.end_date.and_then(|d| d.to_timestamp()), window.window_end.map(|t| t.0));
}

#[tokio::test]
async fn one_contractor_per_worker_across_bindings() {
    let world = World::start().await;
    world.apply(&manifest("first", "6029116324", "")).await;
    world.apply(&manifest("second", "6029116327", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.workmarket.sandbox.assign("6029116327", "8823578").unwrap();
    world.settle().await;
    let (a, b) = (world.status("first"), world.status("second"));
    assert_eq!(a.contractor_id, b.contractor_id);
    assert!(a.contractor_id.is_some());
    assert_eq!(contractors_for(&world, "alex.nguyen@example.com").await, 1);
}

#[tokio::test]
async fn a_foreign_contractor_with_the_workers_email_is_a_conflict() {
    let world = World::start().await;
    // Someone created a contractor with Alex's e-mail outside coverbridge.
    let client = world.ten99policy.client(support::world::fast_http());
    let foreign = coverbridge::ten99policy::NewContractor {
        first_name: "Other".into(),
        last_name: "Person".into(),
        email: "alex.nguyen@example.com".into(),
        phone: "+1 000".into(),
        address: coverbridge::ten99policy::Address {
            region: Some("CA".into()),
            country: Some("US".into()),
            ..Default::default()
        },
        middle_name: None,
        company_name: None,
        custom_metadata: Default::default(),
        withhold_premium: None,
    };
    client.create_contractor(&foreign, &coverbridge::ten99policy::IdempotencyKey::new("outside")).await.unwrap();
    world.apply(&manifest("cabling", "6029116324", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::Failed));
    assert!(status.contractor_id.is_none());
    let conflict = condition(&status, ConditionType::ContractorConflict).unwrap();
    assert!(conflict.message.contains("alex.nguyen@example.com"), "{}", conflict.message);
    assert!(!world.ten99_writes().iter().any(|c| c.path == "/api/v1/jobs"), "no job without a contractor");
}

#[tokio::test]
async fn an_unmapped_category_writes_nothing_and_fails_nothing() {
    let world = World::start().await;
    world.apply(
        "apiVersion: coverbridge.io/v1alpha1\nkind: CategoryMapping\nmetadata: {name: default}\nspec:\n  rules:\n    - {industry: Marketing, categoryCode: jc_5Tqpkbkp6G}\n",
    )
    .await;
    world.apply(&manifest("cabling", "6029116324", "").replace("  categoryCode: jc_MTqpkbkp6G\n", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::Pending), "blocked, not failed: {status:#?}");
    let unmapped = condition(&status, ConditionType::CategoryUnmapped).unwrap();
    assert_eq!(unmapped.reason, "NoMatchingRule");
    assert!(unmapped.message.contains("Technology"), "{}", unmapped.message);
    assert!(status.contractor_id.is_none() && status.job_id.is_none());
    let writes = world.ten99_writes();
    assert!(writes.is_empty(), "not even the contractor is created: {writes:?}");

    // A rule for Technology fixes it.
    world.apply(
        "apiVersion: coverbridge.io/v1alpha1\nkind: CategoryMapping\nmetadata: {name: default}\nspec:\n  rules:\n    - {industry: technology, categoryCode: jc_MTqpkbkp6G}\n",
    )
    .await;
    world.runtime.trigger_all();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::AwaitingApplication), "{status:#?}");
    assert!(condition(&status, ConditionType::CategoryUnmapped).is_none());
}

/// A world whose 1099Policy lists are read again after a second.
async fn quick_listings() -> World {
    World::with_settings(Settings {
        proxy_email_domain: Some("relay.example.com".into()),
        listings_ttl: Duration::from_secs(1),
        ..Settings::default()
    })
    .await
}

async fn after_listings_refresh(world: &World) {
    tokio::time::sleep(Duration::from_millis(1200)).await;
    world.settle().await;
}

#[tokio::test]
async fn a_code_1099policy_would_refuse_writes_nothing_until_fixed_or_approved() {
    let world = quick_listings().await;
    let mapping = |code: &str| {
        format!(
            "apiVersion: coverbridge.io/v1alpha1\nkind: CategoryMapping\nmetadata: {{name: default}}\nspec:\n  rules:\n    - {{industry: Technology, categoryCode: {code}}}\n"
        )
    };
    world.apply(&mapping("jc_Nope")).await;
    world.apply(&manifest("cabling", "6029116324", "").replace("  categoryCode: jc_MTqpkbkp6G\n", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::Pending), "held back, not failed: {status:#?}");
    let unmapped = condition(&status, ConditionType::CategoryUnmapped).unwrap();
    assert_eq!((unmapped.status.as_str(), unmapped.reason.as_str()), ("True", "UnknownCategoryCode"));
    assert!(
        unmapped.message.contains("jc_Nope (from CategoryMapping default, spec.rules[0] (rule 1))"),
        "{}",
        unmapped.message
    );
    assert!(world.ten99_writes().is_empty(), "not even the contractor: {:?}", world.ten99_writes());

    // Fixing the mapping wakes the binding at once; this code is known but not approved.
    world.apply(&mapping("jc_Dm8qpkbkp6")).await;
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::Pending), "{status:#?}");
    assert_eq!(condition(&status, ConditionType::CategoryUnmapped).unwrap().reason, "UnapprovedCategoryCode");
    assert!(world.ten99_writes().is_empty(), "{:?}", world.ten99_writes());

    // Approved in 1099Policy's dashboard: the next read of the list unblocks it, with no edit.
    world.ten99policy.sandbox.add_category_code(Some("jc_Dm8qpkbkp6"), "Demolition", true);
    after_listings_refresh(&world).await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::AwaitingApplication), "{status:#?}");
    assert!(condition(&status, ConditionType::CategoryUnmapped).is_none());
    assert_eq!(status.job_terms.unwrap().category_code, "jc_Dm8qpkbkp6");
}

#[tokio::test]
async fn an_entity_1099policy_does_not_list_writes_nothing_until_it_does() {
    let world = quick_listings().await;
    world.apply(&manifest("cabling", "6029116324", "").replace("en_Ah3tqYn", "en_Later1")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::Pending), "held back, not failed: {status:#?}");
    let synced = condition(&status, ConditionType::Synced).unwrap();
    assert_eq!((synced.status.as_str(), synced.reason.as_str()), ("False", "UnknownEntity"));
    assert!(synced.message.contains("en_Later1 (from spec.entity)"), "{}", synced.message);
    assert!(world.ten99_writes().is_empty(), "{:?}", world.ten99_writes());

    world.ten99policy.sandbox.add_entity(Some("en_Later1"), "Later Corp");
    after_listings_refresh(&world).await;
    assert_eq!(world.status("cabling").phase, Some(Phase::AwaitingApplication));
}

#[tokio::test]
async fn lists_1099policy_will_not_show_this_key_are_not_checked_and_hold_nothing_back() {
    use coverbridge_sandbox::harness::{Fault, FaultRule};
    let world = World::start().await;
    let harness = world.ten99policy.sandbox.harness();
    harness.inject(FaultRule::new("/api/v1/category_codes", Fault::Status { status: 403 }).method("GET"));
    harness.inject(FaultRule::new("/api/v1/entities/", Fault::Status { status: 403 }).method("GET"));
    world.apply(&manifest("cabling", "6029116324", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::AwaitingApplication), "{status:#?}");
    let lists = world.ten99_calls().into_iter().filter(|c| c.status == 403).count();
    assert_eq!(lists, 2, "each list asked once, its refusal remembered");
}

#[tokio::test]
async fn repeat_coverage_is_an_assignment() {
    let world = World::start().await;
    world.apply(&manifest("pos", "6029116326", "")).await;
    world.workmarket.sandbox.assign("6029116326", "8823580").unwrap();
    world.settle().await;
    let status = world.status("pos");
    assert_eq!(status.phase, Some(Phase::Bound), "{status:#?}");
    assert!(status.assignment_id.as_deref().unwrap().starts_with("an_"));
    assert!(status.quote_id.is_none() && status.application_session_id.is_none());
    assert_eq!(status.policy_status, Some(PolicyStatus::Active), "the underlying policy is read");
    assert_eq!(condition(&status, ConditionType::Insured).unwrap().reason, "AssignmentActive");
    let reasons = world.notice_reasons("pos");
    assert!(reasons.contains(&"ContractorAdopted".to_owned()), "{reasons:?}");
    assert!(reasons.contains(&"RepeatCoverage".to_owned()), "{reasons:?}");

    // Rescheduled to end a day later: the assignment is extended.
    let window = status.work_order.clone().unwrap();
    let (start, end) = (window.window_start.unwrap().0, window.window_end.unwrap().0);
    let later = end + jiff::SignedDuration::from_hours(24);
    world.workmarket.sandbox.reschedule("6029116326", start, later).unwrap();
    world.settle().await;
    let client = world.ten99policy.client(support::world::fast_http());
    let assignment = client.get_assignment(status.assignment_id.as_deref().unwrap()).await.unwrap();
    assert_eq!(assignment.end_date.and_then(|d| d.to_timestamp()), Some(later));

    // Cancelled before it starts: the assignment is cancelled.
    world.workmarket.sandbox.cancel("6029116326").unwrap();
    world.settle().await;
    let status = world.status("pos");
    assert_eq!(status.phase, Some(Phase::Cancelled));
    let assignment = client.get_assignment(status.assignment_id.as_deref().unwrap()).await.unwrap();
    assert!(assignment.cancelled);
}

#[tokio::test]
async fn own_certificate_follows_review() {
    let world = World::start().await;
    world.apply_example("binding-own-coi.yaml").await;
    world.workmarket.sandbox.assign("6029116327", "8823581").unwrap();
    world.settle().await;
    let status = world.status("repair-6029116327");
    assert_eq!(status.phase, Some(Phase::AwaitingCertificateReview), "{status:#?}");
    assert!(status.job_id.is_none() && status.quote_id.is_none(), "no job, quote or session");
    let upload = world.ten99_writes().into_iter().find(|c| c.path == "/api/v1/files/certificates").unwrap();
    assert_eq!(upload.status, 201);
    let id = status.certificate_id.clone().unwrap();

    use coverbridge_sandbox::ten99policy::CertificateReview;
    world.ten99policy.sandbox.review_certificate(&id, CertificateReview::Flag).unwrap();
    world.settle().await;
    let status = world.status("repair-6029116327");
    assert_eq!(status.phase, Some(Phase::NeedsReview));
    assert!(world.notices.lock().unwrap().iter().any(|(_, n)| n.reason == "CertificateFlagged" && n.warning));

    world.ten99policy.sandbox.review_certificate(&id, CertificateReview::Approve).unwrap();
    world.settle().await;
    let status = world.status("repair-6029116327");
    assert_eq!(status.phase, Some(Phase::Bound));
    assert_eq!(condition(&status, ConditionType::CertificateValid).unwrap().status, "True");
    assert!(status.coi_links.and_then(|l| l.certificate_pdf_url).is_some());

    world.ten99policy.sandbox.review_certificate(&id, CertificateReview::Deny).unwrap();
    world.settle().await;
    let status = world.status("repair-6029116327");
    assert_eq!(condition(&status, ConditionType::CertificateValid).unwrap().status, "False");
    assert_eq!(status.phase, Some(Phase::Failed));
}

async fn bound(world: &World, name: &str) -> coverbridge::resources::CoverageBindingStatus {
    world.settle().await;
    let session = world.status(name).application_session_id.expect("an application");
    world.ten99policy.sandbox.complete_application(&session).unwrap();
    world.settle().await;
    let status = world.status(name);
    assert_eq!(status.phase, Some(Phase::Bound), "{status:#?}");
    status
}

#[tokio::test]
async fn invoices_are_recorded_once_when_pay_differs() {
    let world = World::start().await;
    world.apply_example("binding-hourly.yaml").await;
    world.workmarket.sandbox.assign("6029116325", "8823579").unwrap();
    let status = bound(&world, "site-survey-6029116325").await;
    let invoice = status.invoice_id.expect("spec.invoice is recorded once bound");
    let client = world.ten99policy.client(support::world::fast_http());
    let recorded = client.get_invoice(&invoice).await.unwrap();
    assert_eq!(recorded.gross_pay.map(|c| c.get()), Some(41250));
    world.runtime.trigger_all();
    world.settle().await;
    assert_eq!(world.ten99_writes().iter().filter(|c| c.path == "/api/v1/invoices").count(), 1);

    // Paid at exactly the job's wage: no invoice. Paid at more: one.
    world.apply(&manifest("exact", "6029116324", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    bound(&world, "exact").await;
    world.workmarket.sandbox.complete("6029116324").unwrap();
    world.workmarket.sandbox.approve("6029116324").unwrap();
    world.workmarket.sandbox.pay("6029116324", Some(coverbridge_sandbox::money::Cents(32500))).unwrap();
    world.settle().await;
    let status = world.status("exact");
    assert_eq!(status.phase, Some(Phase::Completed));
    assert!(status.invoice_id.is_none());

    world.apply(&manifest("more", "6029116327", "")).await;
    world.workmarket.sandbox.assign("6029116327", "8823581").unwrap();
    bound(&world, "more").await;
    world.workmarket.sandbox.complete("6029116327").unwrap();
    world.workmarket.sandbox.approve("6029116327").unwrap();
    world.workmarket.sandbox.pay("6029116327", Some(coverbridge_sandbox::money::Cents(45000))).unwrap();
    world.settle().await;
    let status = world.status("more");
    let recorded = client.get_invoice(status.invoice_id.as_deref().expect("paid more than the wage")).await.unwrap();
    assert_eq!(recorded.gross_pay.map(|c| c.get()), Some(45000));
}

#[tokio::test]
async fn lapsed_coverage_is_unprotected_until_reactivated() {
    let world = World::start().await;
    world.apply(&manifest("cabling", "6029116324", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    let status = bound(&world, "cabling").await;
    let policy = status.policy_id.unwrap();
    world.ten99policy.sandbox.cancel_policy(&policy).unwrap();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::Unprotected));
    let insured = condition(&status, ConditionType::Insured).unwrap();
    assert_eq!((insured.status.as_str(), insured.reason.as_str()), ("False", "PolicyCancelled"));
    assert!(world.notices.lock().unwrap().iter().any(|(_, n)| n.reason == "PolicyCancelled" && n.warning));
    world.workmarket.sandbox.check_in("6029116324").unwrap();
    world.settle().await;
    assert_eq!(condition(&world.status("cabling"), ConditionType::WorkStartedUninsured).unwrap().status, "True");

    world.ten99policy.sandbox.reactivate_policy(&policy).unwrap();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::Bound));
    assert!(condition(&status, ConditionType::WorkStartedUninsured).is_none());
}

#[tokio::test]
async fn cancelled_work_order_expires_the_open_application() {
    let world = World::start().await;
    world.apply(&manifest("cabling", "6029116324", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    let session = world.status("cabling").application_session_id.unwrap();
    world.workmarket.sandbox.cancel("6029116324").unwrap();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::Cancelled));
    let client = world.ten99policy.client(support::world::fast_http());
    assert!(client.get_application_session(&session).await.unwrap().expired);
}

#[tokio::test]
async fn repricing_updates_the_job() {
    let world = World::start().await;
    world.apply(&manifest("cabling", "6029116324", "")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    use coverbridge_sandbox::workmarket::PricingSpec;
    world
        .workmarket
        .sandbox
        .increase_budget("6029116324", PricingSpec::Flat { price: coverbridge_sandbox::money::Cents(40000) })
        .unwrap();
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.job_terms.as_ref().map(|t| t.wage_cents), Some(40000));
    let client = world.ten99policy.client(support::world::fast_http());
    assert_eq!(client.get_job(status.job_id.as_deref().unwrap()).await.unwrap().wage.map(|w| w.get()), Some(40000));
    assert!(world.notice_reasons("cabling").contains(&"JobUpdated".to_owned()));
}

#[tokio::test]
async fn mapping_codes_are_checked_and_users_counted() {
    let world = World::start().await;
    world.apply_example("binding-flat-fee.yaml").await;
    world
        .apply(
            "apiVersion: coverbridge.io/v1alpha1\nkind: CategoryMapping\nmetadata: {name: default}\nspec:\n  rules:\n    - {industry: Technology, categoryCode: jc_MTqpkbkp6G}\n    - {label: Demolition, categoryCode: jc_Dm8qpkbkp6}\n    - {label: Mystery, categoryCode: jc_Nope}\n",
        )
        .await;
    let mapping = world
        .runtime
        .store()
        .mapping(&coverbridge::reconcile::ObjectKey::new(support::world::NAMESPACE, "default"))
        .unwrap();
    let status = mapping.status.unwrap();
    assert_eq!(status.unknown_codes, ["jc_Nope"]);
    assert_eq!(status.unapproved_codes, ["jc_Dm8qpkbkp6"]);
    assert_eq!((status.rule_count, status.binding_count), (Some(3), Some(1)));
    let ready = status.conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("False", "UnknownCodes"));

    world.apply_example("category-mapping.yaml").await;
    let status = world
        .runtime
        .store()
        .mapping(&coverbridge::reconcile::ObjectKey::new(support::world::NAMESPACE, "default"))
        .unwrap()
        .status
        .unwrap();
    assert!(status.unknown_codes.is_empty() && status.unapproved_codes.is_empty());
    assert_eq!(status.conditions.iter().find(|c| c.type_ == "Ready").unwrap().status, "True");
}

#[tokio::test]
async fn webhooks_only_trigger_a_fresh_read() {
    let world = World::start().await;
    world.apply(&manifest("cabling", "6029116324", "")).await;
    world.settle().await;
    // A delivery claiming the work order was paid, while WorkMarket says it is only sent.
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/workmarket", world.receiver_url))
        .bearer_auth(support::world::WEBHOOK_TOKEN)
        .json(&serde_json::json!({"event": "Paid", "assignment_id": "6029116324", "status": "paid", "now": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    world.settle().await;
    let status = world.status("cabling");
    assert_eq!(status.phase, Some(Phase::WaitingForTrigger), "the API's truth wins: {status:#?}");
    assert_eq!(status.work_order.unwrap().status.as_deref(), Some("sent"));
    assert!(world.ten99_writes().is_empty());
}

/// The same bindings, deletions and expected calls as the operator's
/// `deletion_cleans_up_by_policy_and_then_releases` in tests/kube_runtime.rs, in the local
/// runtime: deletion is one path in the core, whichever runtime runs it.
#[tokio::test]
async fn deletion_undoes_by_policy_and_then_releases() {
    let world = World::start().await;
    world.apply(&manifest("pos", "6029116326", "  deletionPolicy: Cancel\n")).await;
    world.apply(&manifest("cabling", "6029116324", "  deletionPolicy: Orphan\n")).await;
    world.apply(&manifest("idle", "6029116325", "  deletionPolicy: Cancel\n")).await;
    world.workmarket.sandbox.assign("6029116326", "8823580").unwrap();
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    assert_eq!(world.status("pos").phase, Some(Phase::Bound));
    assert_eq!(world.status("cabling").phase, Some(Phase::AwaitingApplication));
    assert_eq!(world.status("idle").phase, Some(Phase::WaitingForTrigger));
    let key = |name: &str| coverbridge::reconcile::ObjectKey::new(support::world::NAMESPACE, name);
    let gone = |name: &str| world.runtime.store().binding(&key(name)).is_none();

    // Never wrote outside: no finalizer, gone at once.
    world.runtime.delete(&key("idle"));
    assert!(gone("idle"));

    // Cancel: held by its finalizer until the assignment is cancelled, then gone.
    world.runtime.delete(&key("pos"));
    assert!(!gone("pos"), "held until its deletion policy is carried out");
    world.settle().await;
    assert!(gone("pos"));
    let cancels: Vec<_> = world.ten99_calls().into_iter().filter(|c| c.path == "/api/v1/assignments/cancel").collect();
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].status, 200);
    let cancelled = world.notices.lock().unwrap().iter().find(|(_, n)| n.reason == "AssignmentCancelled").cloned();
    let (_, notice) = cancelled.expect("the cancellation is announced");
    assert!(notice.message.ends_with(": the binding was deleted"), "{}", notice.message);

    // Orphan: nothing is touched; the binding goes.
    let before = world.ten99_writes().len();
    world.runtime.delete(&key("cabling"));
    world.settle().await;
    assert!(gone("cabling"));
    assert_eq!(world.ten99_writes().len(), before, "Orphan leaves coverage alone");
}

/// With `deletionPolicy: Cancel`, an application nobody finished is expired before the binding
/// goes, and only then.
#[tokio::test]
async fn deleting_a_binding_expires_its_unfinished_application() {
    let world = World::start().await;
    world.apply(&manifest("cabling", "6029116324", "  deletionPolicy: Cancel\n")).await;
    world.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    world.settle().await;
    let session = world.status("cabling").application_session_id.unwrap();
    world.runtime.delete(&coverbridge::reconcile::ObjectKey::new(support::world::NAMESPACE, "cabling"));
    world.settle().await;
    assert!(world.runtime.store().bindings().is_empty());
    let client = world.ten99policy.client(support::world::fast_http());
    assert!(client.get_application_session(&session).await.unwrap().expired);
    assert!(world.notice_reasons("cabling").contains(&"ApplicationExpired".to_owned()));
}
