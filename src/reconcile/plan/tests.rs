//! The plan, scenario by scenario, with literal facts.

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::money::Cents;
use crate::reconcile::conditions::ConditionStatus;
use crate::reconcile::facts::*;
use crate::reconcile::mapping::Chosen;
use crate::reconcile::steps::Undo;
use crate::resources::*;

const NOW: i64 = 1_800_000_000;

fn at(offset_hours: i64) -> Timestamp {
    Timestamp::from_second(NOW + offset_hours * 3600).unwrap()
}

fn ctx() -> Context {
    Context {
        now: at(0),
        default_entity: None,
        proxy_email_domain: Some("relay.example.com".into()),
        workmarket_web_url: "https://www.workmarket.com".into(),
        effective_margin: SignedDuration::from_mins(10),
        listings_ttl: std::time::Duration::from_secs(300),
    }
}

fn spec() -> CoverageBindingSpec {
    CoverageBindingSpec {
        entity: Some("en_Ah3tqYn".into()),
        ..CoverageBindingSpec::new("6029116324", vec![CoverageType::General, CoverageType::WorkersComp])
    }
}

fn worker() -> WorkerFacts {
    WorkerFacts {
        id: "8823578".into(),
        first_name: "Alex".into(),
        last_name: "Nguyen".into(),
        email: Some("alex.nguyen@example.com".into()),
        phone: Some("+1 415 555 0101".into()),
        address: AddressFacts {
            city: Some("San Francisco".into()),
            region: Some("CA".into()),
            country: Some("US".into()),
            ..Default::default()
        },
    }
}

fn work_order(stage: WorkStage) -> WorkOrderFacts {
    WorkOrderFacts {
        id: "6029116324".into(),
        title: "Low Voltage Cabling".into(),
        description: "Install Cat6".into(),
        stage,
        status_code: format!("{stage:?}").to_lowercase(),
        window_start: Some(at(48)),
        window_end: Some(at(72)),
        location_region: Some("CA".into()),
        wage: Ok((Cents(32500), WageType::Flatfee)),
        total_cost: None,
        worker: (stage != WorkStage::Open).then(worker),
        last_modified: Some(at(-1)),
    }
}

fn facts(stage: WorkStage) -> Facts {
    let category = CategoryFact::Direct { code: "jc_MTqpkbkp6G".into(), listing: Listing::Listed };
    Facts { category, entity: Some(Listing::Listed), ..Facts::new(Some(work_order(stage))) }
}

fn terms() -> JobTerms {
    JobTerms {
        category_code: "jc_MTqpkbkp6G".into(),
        wage_cents: 32500,
        wage_type: WageType::Flatfee,
        region: "CA".into(),
    }
}

/// Status after contractor, job and quote exist.
fn quoted() -> CoverageBindingStatus {
    CoverageBindingStatus {
        contractor_id: Some("cn_1".into()),
        job_id: Some("jb_1".into()),
        job_terms: Some(terms()),
        quote_id: Some("qt_1".into()),
        work_order: Some(ObservedWorkOrder { worker_id: Some("8823578".into()), ..Default::default() }),
        ..Default::default()
    }
}

fn condition(plan: &Plan, type_: ConditionType) -> Option<&crate::reconcile::conditions::Desired> {
    plan.conditions.iter().find(|c| c.type_ == type_)
}

fn active_policy() -> PolicyFacts {
    PolicyFacts { id: "pl_1".into(), status: PolicyStatus::Active, pdf_url: None, gl_coi_url: None, wc_coi_url: None }
}

#[test]
fn nothing_happens_before_the_trigger() {
    let p = plan(&spec(), &Default::default(), &facts(WorkStage::Open), &ctx());
    assert_eq!(p.phase, Phase::WaitingForTrigger);
    assert_eq!(p.step, None);
    let ready = condition(&p, ConditionType::Ready).unwrap();
    assert_eq!((ready.status, ready.reason.as_str()), (ConditionStatus::False, "WaitingForTrigger"));
    assert!(ready.message.contains("to be assigned") && ready.message.contains("open"), "{}", ready.message);
    assert_eq!(p.work_order.unwrap().status.as_deref(), Some("open"));

    let in_progress = CoverageBindingSpec { trigger: Trigger::InProgress, ..spec() };
    let p = plan(&in_progress, &Default::default(), &facts(WorkStage::Assigned), &ctx());
    assert_eq!(p.phase, Phase::WaitingForTrigger);
    assert!(condition(&p, ConditionType::Ready).unwrap().message.contains("checked in"));
    let p = plan(&in_progress, &Default::default(), &facts(WorkStage::InProgress), &ctx());
    assert!(matches!(p.step, Some(Step::CreateContractor(_))));
}

#[test]
fn contractor_comes_from_the_worker_with_overrides_and_proxy_email() {
    let p = plan(&spec(), &Default::default(), &facts(WorkStage::Assigned), &ctx());
    assert_eq!(p.phase, Phase::Provisioning);
    let Some(Step::CreateContractor(draft)) = p.step else { panic!("{:?}", p.step) };
    assert_eq!(
        (draft.worker_id.as_str(), draft.email.as_str(), draft.first_name.as_str()),
        ("8823578", "alex.nguyen@example.com", "Alex")
    );
    assert_eq!(draft.address.region.as_deref(), Some("CA"));

    let mut f = facts(WorkStage::Assigned);
    f.work_order.as_mut().unwrap().worker.as_mut().unwrap().email = None;
    let Some(Step::CreateContractor(draft)) = plan(&spec(), &Default::default(), &f, &ctx()).step else { panic!() };
    assert_eq!(draft.email, "8823578@relay.example.com");

    let overridden = CoverageBindingSpec {
        contractor: Some(ContractorOverrides {
            email: Some("alex@acme.example".into()),
            phone: Some("+1 000".into()),
            address: Some(Address {
                region: Some("NV".into()),
                line1: None,
                line2: None,
                city: None,
                postal_code: None,
                country: None,
            }),
        }),
        ..spec()
    };
    let Some(Step::CreateContractor(draft)) = plan(&overridden, &Default::default(), &f, &ctx()).step else { panic!() };
    assert_eq!((draft.email.as_str(), draft.phone.as_str()), ("alex@acme.example", "+1 000"));
    assert_eq!((draft.address.region.as_deref(), draft.address.city.as_deref()), (Some("NV"), Some("San Francisco")));
}

#[test]
fn missing_contractor_data_is_named_not_invented() {
    let mut f = facts(WorkStage::Assigned);
    let w = f.work_order.as_mut().unwrap().worker.as_mut().unwrap();
    w.email = None;
    w.phone = None;
    w.address.region = None;
    let no_proxy = Context { proxy_email_domain: None, ..ctx() };
    let p = plan(&spec(), &Default::default(), &f, &no_proxy);
    assert_eq!(p.phase, Phase::Failed);
    assert_eq!(p.step, None);
    let c = condition(&p, ConditionType::ContractorIncomplete).unwrap();
    assert_eq!(c.status, ConditionStatus::True);
    for part in ["e-mail", "phone", "region"] {
        assert!(c.message.contains(part), "{}", c.message);
    }
    assert_eq!(condition(&p, ConditionType::Ready).unwrap().reason, "ContractorIncomplete");
}

#[test]
fn a_foreign_contractor_with_the_same_email_is_a_conflict() {
    let mut f = facts(WorkStage::Assigned);
    f.contractor_conflict = Some("alex.nguyen@example.com belongs to contractor cn_9 (worker 1)".into());
    let p = plan(&spec(), &Default::default(), &f, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Failed, None));
    assert_eq!(condition(&p, ConditionType::ContractorConflict).unwrap().status, ConditionStatus::True);
}

#[test]
fn a_different_worker_is_a_condition_not_a_silent_rebind() {
    let expecting = CoverageBindingSpec { worker_id: Some("1111".into()), ..spec() };
    let p = plan(&expecting, &Default::default(), &facts(WorkStage::Assigned), &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Failed, None));
    assert!(condition(&p, ConditionType::WorkerMismatch).unwrap().message.contains("1111"));

    let mut provisioned = quoted();
    provisioned.work_order.as_mut().unwrap().worker_id = Some("7777".into());
    let p = plan(&spec(), &provisioned, &facts(WorkStage::Assigned), &ctx());
    assert_eq!(p.phase, Phase::Failed);
    assert!(condition(&p, ConditionType::WorkerMismatch).unwrap().message.contains("7777"));
}

#[test]
fn job_carries_name_terms_and_metadata() {
    let status = CoverageBindingStatus { contractor_id: Some("cn_1".into()), ..Default::default() };
    let p = plan(&spec(), &status, &facts(WorkStage::Assigned), &ctx());
    let Some(Step::CreateJob(job)) = p.step.clone() else { panic!("{:?}", p.step) };
    assert_eq!(job.name, "WO 6029116324 — Low Voltage Cabling");
    assert_eq!((job.entity.as_str(), job.work_order_id.as_str()), ("en_Ah3tqYn", "6029116324"));
    assert_eq!(job.terms, terms());
    assert_eq!(condition(&p, ConditionType::Insured).unwrap().status, ConditionStatus::False);
}

#[test]
fn region_prefers_the_override_then_the_location_then_the_worker() {
    let status = CoverageBindingStatus { contractor_id: Some("cn_1".into()), ..Default::default() };
    let region_of = |spec: &CoverageBindingSpec, f: &Facts| match plan(spec, &status, f, &ctx()).step {
        Some(Step::CreateJob(job)) => job.terms.region,
        other => panic!("{other:?}"),
    };
    let mut f = facts(WorkStage::Assigned);
    assert_eq!(region_of(&CoverageBindingSpec { region: Some("NY".into()), ..spec() }, &f), "NY");
    assert_eq!(region_of(&spec(), &f), "CA");
    f.work_order.as_mut().unwrap().location_region = None;
    f.work_order.as_mut().unwrap().worker.as_mut().unwrap().address.region = Some("OR".into());
    assert_eq!(region_of(&spec(), &f), "OR");
}

#[test]
fn no_category_means_no_write_at_all_and_no_failure() {
    let mut f = facts(WorkStage::Assigned);
    f.category = CategoryFact::Unmapped { mapping: "default".into(), detail: "industry Marketing".into() };
    // Not even the contractor: the job it would be for cannot be created.
    let p = plan(&spec(), &Default::default(), &f, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Pending, None));
    let unmapped = condition(&p, ConditionType::CategoryUnmapped).unwrap();
    assert_eq!((unmapped.status, unmapped.reason.as_str()), (ConditionStatus::True, "NoMatchingRule"));
    assert!(unmapped.message.contains("Marketing"), "{}", unmapped.message);
    let ready = condition(&p, ConditionType::Ready).unwrap();
    assert_eq!((ready.status, ready.reason.as_str()), (ConditionStatus::False, "NoMatchingRule"), "Ready says why");
    assert_eq!(p.wait, Wait::ForChange, "a mapping change wakes it");

    // A contractor made before (by an earlier version, say): the phase says how far it got.
    let status = CoverageBindingStatus { contractor_id: Some("cn_1".into()), ..Default::default() };
    f.category = CategoryFact::MappingMissing { mapping: "default".into() };
    let p = plan(&spec(), &status, &f, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Provisioning, None));
    assert_eq!(condition(&p, ConditionType::CategoryUnmapped).unwrap().reason, "MappingNotFound");

    f.category = mapped("jc_X", Some(0), Listing::Listed);
    let Some(Step::CreateJob(job)) = plan(&spec(), &status, &f, &ctx()).step else { panic!() };
    assert_eq!(job.terms.category_code, "jc_X");
}

fn mapped(code: &str, rule: Option<usize>, listing: Listing) -> CategoryFact {
    CategoryFact::Mapped { mapping: "default".into(), chosen: Chosen { code: code.into(), rule }, listing }
}

#[test]
fn a_code_1099policy_would_refuse_holds_back_every_write_and_names_its_source() {
    let mut f = facts(WorkStage::Assigned);
    f.category = mapped("jc_Nope", Some(1), Listing::Unknown);
    let p = plan(&spec(), &Default::default(), &f, &ctx());
    assert_eq!((p.phase, p.step.clone(), p.problem.clone()), (Phase::Pending, None, None), "not Failed, no contractor");
    let unmapped = condition(&p, ConditionType::CategoryUnmapped).unwrap();
    assert_eq!((unmapped.status, unmapped.reason.as_str()), (ConditionStatus::True, "UnknownCategoryCode"));
    assert!(
        unmapped.message.contains("jc_Nope")
            && unmapped.message.contains("CategoryMapping default, spec.rules[1] (rule 2)"),
        "{}",
        unmapped.message
    );
    assert_eq!(
        p.wait,
        Wait::Poll(ctx().listings_ttl),
        "approval happens in 1099Policy: look again at the next refresh"
    );

    f.category = mapped("jc_Later", None, Listing::NotApproved);
    let p = plan(&spec(), &Default::default(), &f, &ctx());
    let unmapped = condition(&p, ConditionType::CategoryUnmapped).unwrap();
    assert_eq!(unmapped.reason, "UnapprovedCategoryCode");
    assert!(
        unmapped.message.contains("jc_Later (from CategoryMapping default, spec.defaultCategoryCode)"),
        "{}",
        unmapped.message
    );

    f.category = CategoryFact::Direct { code: "jc_Typo".into(), listing: Listing::Unknown };
    let p = plan(&spec(), &Default::default(), &f, &ctx());
    assert!(
        condition(&p, ConditionType::CategoryUnmapped).unwrap().message.contains("jc_Typo (from spec.categoryCode)")
    );

    // Before the trigger it is shown already, with the phase of a binding that waits.
    let mut open = facts(WorkStage::Open);
    open.category = f.category.clone();
    let p = plan(&spec(), &Default::default(), &open, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::WaitingForTrigger, None));
    assert_eq!(condition(&p, ConditionType::CategoryUnmapped).unwrap().reason, "UnknownCategoryCode");
    assert_eq!(p.wait, Wait::Poll(ctx().listings_ttl), "approval may come before the trigger");

    // A list 1099Policy would not show: not checked, so not held back either.
    f.category = CategoryFact::Direct { code: "jc_Any".into(), listing: Listing::Unchecked };
    f.entity = Some(Listing::Unchecked);
    let p = plan(&spec(), &Default::default(), &f, &ctx());
    assert!(matches!(p.step, Some(Step::CreateContractor(_))), "{:?}", p.step);
}

#[test]
fn an_entity_1099policy_does_not_list_holds_back_every_write() {
    let f = Facts { entity: Some(Listing::Unknown), ..facts(WorkStage::Assigned) };
    let p = plan(&spec(), &Default::default(), &f, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Pending, None), "not Failed, no contractor");
    let problem = p.problem.clone().unwrap();
    assert_eq!(problem.reason, "UnknownEntity");
    assert!(problem.message.contains("en_Ah3tqYn (from spec.entity)"), "{}", problem.message);
    let ready = condition(&p, ConditionType::Ready).unwrap();
    assert_eq!((ready.status, ready.message.as_str()), (ConditionStatus::False, problem.message.as_str()));
    assert_eq!(p.wait, Wait::Poll(ctx().listings_ttl));
}

#[test]
fn a_missing_certificate_secret_holds_back_the_contractor_too() {
    let spec = CoverageBindingSpec {
        certificate: Some(CertificateSource {
            secret_ref: SecretKeyRef { name: "coi".into(), key: "certificate.pdf".into() },
        }),
        ..spec()
    };
    let f = Facts {
        pdf: Some(PdfFact::Missing { detail: "Secret demo/coi has no key certificate.pdf".into() }),
        ..Facts::new(Some(work_order(WorkStage::Assigned)))
    };
    let p = plan(&spec, &Default::default(), &f, &ctx());
    assert_eq!(p.step, None);
    assert_eq!(p.problem.unwrap().reason, "CertificateMissing");
}

#[test]
fn a_category_problem_shows_before_the_trigger() {
    let mut f = facts(WorkStage::Open);
    f.category = CategoryFact::MappingMissing { mapping: "default".into() };
    let p = plan(&spec(), &Default::default(), &f, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::WaitingForTrigger, None));
    assert_eq!(condition(&p, ConditionType::CategoryUnmapped).unwrap().reason, "MappingNotFound");
}

#[test]
fn a_provisioned_binding_does_not_need_its_mapping_any_more() {
    let bound = CoverageBindingStatus {
        application_session_id: Some("ias_1".into()),
        policy_id: Some("pl_1".into()),
        policy_status: Some(PolicyStatus::Active),
        ..quoted()
    };
    // The observer no longer reads the mapping once the job exists.
    let mut f = Facts { category: CategoryFact::NotNeeded, ..facts(WorkStage::Assigned) };
    f.policy = Some(active_policy());
    let p = plan(&spec(), &bound, &f, &ctx());
    assert_eq!((p.phase, p.step.clone(), p.problem.clone()), (Phase::Bound, None, None));
    assert!(condition(&p, ConditionType::CategoryUnmapped).is_none());

    // Repricing still updates the job, with the category it was created with.
    f.work_order.as_mut().unwrap().wage = Ok((Cents(40000), WageType::Flatfee));
    let p = plan(&spec(), &bound, &f, &ctx());
    assert_eq!(
        p.step,
        Some(Step::UpdateJob { job_id: "jb_1".into(), terms: JobTerms { wage_cents: 40000, ..terms() } })
    );
    assert_eq!(p.phase, Phase::Bound);

    // Pricing WorkMarket now describes in a way no wage comes from: the job stays, coverage stays.
    f.work_order.as_mut().unwrap().wage = Err("pricing type internal".into());
    let p = plan(&spec(), &bound, &f, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Bound, None));
    assert_eq!(p.problem.unwrap().reason, "UnsupportedPricing");
}

#[test]
fn what_a_job_needs_is_checked_before_the_contractor_is_created() {
    let no_entity = CoverageBindingSpec { entity: None, ..spec() };
    let p = plan(&no_entity, &Default::default(), &facts(WorkStage::Assigned), &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Failed, None));
    assert_eq!(p.problem.unwrap().reason, "EntityMissing");
    let mut f = facts(WorkStage::Assigned);
    f.work_order.as_mut().unwrap().window_end = None;
    let p = plan(&spec(), &Default::default(), &f, &ctx());
    assert_eq!((p.step.clone(), p.problem.unwrap().reason), (None, "ScheduleMissing"));
}

#[test]
fn entity_falls_back_to_the_operator_default_or_blocks() {
    let status = CoverageBindingStatus { contractor_id: Some("cn_1".into()), ..Default::default() };
    let no_entity = CoverageBindingSpec { entity: None, ..spec() };
    let p = plan(&no_entity, &status, &facts(WorkStage::Assigned), &ctx());
    assert_eq!(p.phase, Phase::Failed);
    assert_eq!(p.problem.as_ref().unwrap().reason, "EntityMissing");
    let with_default = Context { default_entity: Some("en_default".into()), ..ctx() };
    let Some(Step::CreateJob(job)) = plan(&no_entity, &status, &facts(WorkStage::Assigned), &with_default).step else {
        panic!()
    };
    assert_eq!(job.entity, "en_default");
}

#[test]
fn quote_covers_the_work_order_window() {
    let status = CoverageBindingStatus { quote_id: None, ..quoted() };
    let p = plan(&spec(), &status, &facts(WorkStage::Assigned), &ctx());
    let Some(Step::CreateQuote { coverage, contractor_id, job_id, .. }) = p.step.clone() else {
        panic!("{:?}", p.step)
    };
    assert_eq!((contractor_id.as_str(), job_id.as_str()), ("cn_1", "jb_1"));
    assert_eq!((coverage.effective, coverage.end), (at(48), at(72)));
    assert_eq!(coverage.types, [CoverageType::General, CoverageType::WorkersComp]);
    assert!(condition(&p, ConditionType::EffectiveDateClamped).is_none());
}

#[test]
fn a_start_in_the_past_is_clamped_and_said_so() {
    let status = CoverageBindingStatus { quote_id: None, ..quoted() };
    let mut f = facts(WorkStage::Assigned);
    f.work_order.as_mut().unwrap().window_start = Some(at(-5));
    f.work_order.as_mut().unwrap().window_end = Some(at(-1));
    let p = plan(&spec(), &status, &f, &ctx());
    let Some(Step::CreateQuote { coverage, .. }) = p.step.clone() else { panic!() };
    assert_eq!(coverage.effective, at(0) + SignedDuration::from_mins(10));
    assert_eq!(coverage.end, coverage.effective + SignedDuration::from_hours(24), "the end follows the start");
    assert_eq!(coverage.window, (at(-5), at(-1)), "the key still derives from the work order's own window");
    assert_eq!(condition(&p, ConditionType::EffectiveDateClamped).unwrap().status, ConditionStatus::True);
}

#[test]
fn first_coverage_goes_through_an_application() {
    let p = plan(&spec(), &quoted(), &facts(WorkStage::Assigned), &ctx());
    let Some(Step::CreateSession { success_url, cancel_url, replaces, .. }) = p.step.clone() else {
        panic!("{:?}", p.step)
    };
    assert_eq!(success_url, "https://www.workmarket.com/assignments/details/6029116324?coverage=active");
    assert_eq!(cancel_url, "https://www.workmarket.com/assignments/details/6029116324?coverage=canceled");
    assert_eq!(replaces, None);

    let custom = CoverageBindingSpec {
        application: Some(ApplicationUrls { success_url: Some("https://x.example/ok".into()), cancel_url: None }),
        ..spec()
    };
    let Some(Step::CreateSession { success_url, cancel_url, .. }) =
        plan(&custom, &quoted(), &facts(WorkStage::Assigned), &ctx()).step
    else {
        panic!()
    };
    assert_eq!(success_url, "https://x.example/ok");
    assert!(cancel_url.ends_with("?coverage=canceled"));

    let awaiting = CoverageBindingStatus {
        application_session_id: Some("ias_1".into()),
        application_url: Some("https://apply".into()),
        ..quoted()
    };
    let p = plan(&spec(), &awaiting, &facts(WorkStage::Assigned), &ctx());
    assert_eq!((p.phase, p.step.clone(), p.wait), (Phase::AwaitingApplication, None, Wait::Poll(APPLICATION_POLL)));

    let mut expired = facts(WorkStage::Assigned);
    expired.session = Some(SessionFacts { url: "https://apply".into(), expired: true });
    let Some(Step::CreateSession { replaces, .. }) = plan(&spec(), &awaiting, &expired, &ctx()).step else { panic!() };
    assert_eq!(replaces.as_deref(), Some("ias_1"), "a new session, under a new key");
}

#[test]
fn an_active_policy_binds_and_a_cancelled_one_unprotects() {
    let awaiting = CoverageBindingStatus { application_session_id: Some("ias_1".into()), ..quoted() };
    let mut f = facts(WorkStage::Assigned);
    f.policy = Some(active_policy());
    let p = plan(&spec(), &awaiting, &f, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Bound, None));
    assert_eq!(condition(&p, ConditionType::Ready).unwrap().status, ConditionStatus::True);
    assert_eq!(condition(&p, ConditionType::Insured).unwrap().status, ConditionStatus::True);

    f.policy.as_mut().unwrap().status = PolicyStatus::Cancelled;
    let p = plan(&spec(), &awaiting, &f, &ctx());
    assert_eq!(p.phase, Phase::Unprotected);
    let insured = condition(&p, ConditionType::Insured).unwrap();
    assert_eq!((insured.status, insured.reason.as_str()), (ConditionStatus::False, "PolicyCancelled"));
}

#[test]
fn repeat_coverage_is_an_assignment() {
    let mut f = facts(WorkStage::Assigned);
    f.matching_policy = true;
    let status = CoverageBindingStatus { quote_id: None, ..quoted() };
    let Some(Step::CreateAssignment { coverage, job_id, .. }) = plan(&spec(), &status, &f, &ctx()).step else {
        panic!()
    };
    assert_eq!((job_id.as_str(), coverage.effective, coverage.end), ("jb_1", at(48), at(72)));

    let assigned = CoverageBindingStatus { assignment_id: Some("an_1".into()), ..status };
    f.assignment = Some(AssignmentFacts {
        policy_id: Some("pl_9".into()),
        effective: Some(at(48)),
        end: Some(at(72)),
        cancelled: false,
        eligible: true,
        eligibility_message: None,
        gl_coi_url: None,
        wc_coi_url: None,
    });
    let p = plan(&spec(), &assigned, &f, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Bound, None));

    // Rescheduled to end later: extend.
    f.work_order.as_mut().unwrap().window_end = Some(at(96));
    let p = plan(&spec(), &assigned, &f, &ctx());
    assert_eq!(p.step, Some(Step::ExtendAssignment { job_id: "jb_1".into(), end: at(96) }));

    f.assignment.as_mut().unwrap().cancelled = true;
    let p = plan(&spec(), &assigned, &f, &ctx());
    assert_eq!(p.phase, Phase::Unprotected);
    assert_eq!(condition(&p, ConditionType::Insured).unwrap().reason, "AssignmentCancelled");
}

#[test]
fn repricing_updates_the_job_once_and_a_refusal_does_not_loop() {
    let bound = CoverageBindingStatus {
        application_session_id: Some("ias_1".into()),
        policy_id: Some("pl_1".into()),
        policy_status: Some(PolicyStatus::Active),
        ..quoted()
    };
    let mut f = facts(WorkStage::Assigned);
    f.policy = Some(active_policy());
    f.work_order.as_mut().unwrap().wage = Ok((Cents(40000), WageType::Flatfee));
    let new_terms = JobTerms { wage_cents: 40000, ..terms() };
    let p = plan(&spec(), &bound, &f, &ctx());
    assert_eq!(p.step, Some(Step::UpdateJob { job_id: "jb_1".into(), terms: new_terms.clone() }));
    assert_eq!(p.phase, Phase::Bound, "coverage stays reported while the job is updated");

    let refused = CoverageBindingStatus { refused_job_terms: Some(new_terms), ..bound };
    let p = plan(&spec(), &refused, &f, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Bound, None));
    assert_eq!(p.problem.unwrap().reason, "JobNotUpdatable");
}

#[test]
fn invoices_are_recorded_once_and_only_when_pay_differs() {
    let bound = CoverageBindingStatus {
        application_session_id: Some("ias_1".into()),
        policy_id: Some("pl_1".into()),
        ..quoted()
    };
    let mut f = facts(WorkStage::Paid);
    f.policy = Some(active_policy());
    f.work_order.as_mut().unwrap().total_cost = Some(Cents(32500));
    let p = plan(&spec(), &bound, &f, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Completed, None), "paid exactly the wage: no invoice");

    f.work_order.as_mut().unwrap().total_cost = Some(Cents(41250));
    let p = plan(&spec(), &bound, &f, &ctx());
    assert_eq!(
        p.step,
        Some(Step::CreateInvoice {
            contractor_id: "cn_1".into(),
            job_id: "jb_1".into(),
            gross_pay: Cents(41250),
            start: at(48),
            end: at(72)
        })
    );

    let invoiced = CoverageBindingStatus { invoice_id: Some("in_1".into()), ..bound.clone() };
    assert_eq!(plan(&spec(), &invoiced, &f, &ctx()).step, None);

    let explicit = CoverageBindingSpec {
        invoice: Some(InvoiceSpec {
            gross_pay: 12345,
            paycycle_start: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(at(1)),
            paycycle_end: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(at(2)),
        }),
        ..spec()
    };
    let mut assigned = facts(WorkStage::Assigned);
    assigned.policy = Some(active_policy());
    let Some(Step::CreateInvoice { gross_pay, start, .. }) = plan(&explicit, &bound, &assigned, &ctx()).step else {
        panic!()
    };
    assert_eq!((gross_pay, start), (Cents(12345), at(1)));
}

#[test]
fn work_in_progress_without_coverage_is_flagged() {
    let awaiting = CoverageBindingStatus { application_session_id: Some("ias_1".into()), ..quoted() };
    let p = plan(&spec(), &awaiting, &facts(WorkStage::InProgress), &ctx());
    assert_eq!(p.phase, Phase::AwaitingApplication);
    let c = condition(&p, ConditionType::WorkStartedUninsured).unwrap();
    assert_eq!(c.status, ConditionStatus::True);
    assert!(c.message.contains("8823578"));

    let mut f = facts(WorkStage::InProgress);
    f.policy = Some(active_policy());
    assert!(condition(&plan(&spec(), &awaiting, &f, &ctx()), ConditionType::WorkStartedUninsured).is_none());

    let p = plan(&spec(), &Default::default(), &facts(WorkStage::Complete), &ctx());
    assert_eq!(p.phase, Phase::Failed);
    assert_eq!(p.problem.unwrap().reason, "CompletedUninsured");
}

#[test]
fn completion_while_covered_is_completed() {
    let bound = CoverageBindingStatus {
        application_session_id: Some("ias_1".into()),
        policy_id: Some("pl_1".into()),
        ..quoted()
    };
    let mut f = facts(WorkStage::Complete);
    f.policy = Some(active_policy());
    let p = plan(&spec(), &bound, &f, &ctx());
    assert_eq!(p.phase, Phase::Completed);
    assert_eq!(condition(&p, ConditionType::Ready).unwrap().status, ConditionStatus::True);
}

#[test]
fn cancellation_cancels_what_has_not_started_and_expires_open_applications() {
    let assigned = CoverageBindingStatus { assignment_id: Some("an_1".into()), ..quoted() };
    let mut f = facts(WorkStage::Cancelled);
    f.assignment = Some(AssignmentFacts {
        policy_id: None,
        effective: Some(at(48)),
        end: Some(at(72)),
        cancelled: false,
        eligible: true,
        eligibility_message: None,
        gl_coi_url: None,
        wc_coi_url: None,
    });
    let p = plan(&spec(), &assigned, &f, &ctx());
    assert_eq!(
        (p.phase, p.step.clone()),
        (Phase::Cancelled, Some(Step::CancelAssignment { job_id: "jb_1".into(), because: Undo::WorkOrderCancelled }))
    );

    f.assignment.as_mut().unwrap().effective = Some(at(-1));
    let p = plan(&spec(), &assigned, &f, &ctx());
    assert_eq!((p.phase, p.step.clone()), (Phase::Cancelled, None));
    assert_eq!(condition(&p, ConditionType::Insured).unwrap().reason, "AssignmentStarted");

    let awaiting = CoverageBindingStatus { application_session_id: Some("ias_1".into()), ..quoted() };
    let mut f = facts(WorkStage::Cancelled);
    f.session = Some(SessionFacts { url: "u".into(), expired: false });
    let p = plan(&spec(), &awaiting, &f, &ctx());
    assert_eq!(p.step, Some(Step::ExpireSession { session_id: "ias_1".into(), because: Undo::WorkOrderCancelled }));
    f.session.as_mut().unwrap().expired = true;
    assert_eq!(plan(&spec(), &awaiting, &f, &ctx()).step, None);
}

#[test]
fn deletion_undoes_by_policy_and_keeps_phase_and_conditions() {
    let insured = Desired::yes(ConditionType::Insured, "AssignmentActive", "coverage is in force");
    let assigned = CoverageBindingStatus {
        assignment_id: Some("an_1".into()),
        phase: Some(Phase::Bound),
        conditions: crate::reconcile::conditions::merge(
            &[],
            &[insured],
            Some(1),
            &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(at(-2)),
        ),
        ..quoted()
    };
    // Deleting needs no work order: WorkMarket is not read, and its absence is no failure.
    let mut f = Facts { deleting: true, ..Facts::new(None) };
    f.assignment = Some(AssignmentFacts {
        policy_id: Some("po_1".into()),
        effective: Some(at(48)),
        end: Some(at(72)),
        cancelled: false,
        eligible: true,
        eligibility_message: None,
        gl_coi_url: None,
        wc_coi_url: None,
    });
    let cancel = CoverageBindingSpec { deletion_policy: DeletionPolicy::Cancel, ..spec() };
    let p = plan(&cancel, &assigned, &f, &ctx());
    let step = Step::CancelAssignment { job_id: "jb_1".into(), because: Undo::BindingDeleted };
    assert_eq!((p.phase, p.step.clone(), p.problem.clone()), (Phase::Bound, Some(step), None));
    assert_eq!(condition(&p, ConditionType::Insured).unwrap().reason, "AssignmentActive", "kept while deleting");
    assert!(condition(&p, ConditionType::Ready).unwrap().message.contains("being deleted"));

    let orphan = CoverageBindingSpec { deletion_policy: DeletionPolicy::Orphan, ..spec() };
    assert_eq!(plan(&orphan, &assigned, &f, &ctx()).step, None, "Orphan touches nothing");

    f.assignment.as_mut().unwrap().cancelled = true;
    assert_eq!(plan(&cancel, &assigned, &f, &ctx()).step, None, "nothing left once cancelled");

    f.assignment.as_mut().unwrap().cancelled = false;
    f.assignment.as_mut().unwrap().effective = Some(at(-1));
    let p = plan(&cancel, &assigned, &f, &ctx());
    assert_eq!(p.step, None);
    let started = condition(&p, ConditionType::Insured).unwrap();
    assert_eq!((started.status, started.reason.as_str()), (ConditionStatus::True, "AssignmentStarted"));
    assert!(started.message.starts_with("the binding was deleted after"), "{}", started.message);

    let awaiting = CoverageBindingStatus {
        application_session_id: Some("ias_1".into()),
        phase: Some(Phase::AwaitingApplication),
        ..quoted()
    };
    let mut f = Facts { deleting: true, ..Facts::new(None) };
    f.session = Some(SessionFacts { url: "u".into(), expired: false });
    let p = plan(&cancel, &awaiting, &f, &ctx());
    assert_eq!(p.phase, Phase::AwaitingApplication);
    assert_eq!(p.step, Some(Step::ExpireSession { session_id: "ias_1".into(), because: Undo::BindingDeleted }));
    assert_eq!(plan(&orphan, &awaiting, &f, &ctx()).step, None);
}

fn own_coi() -> CoverageBindingSpec {
    CoverageBindingSpec {
        certificate: Some(CertificateSource {
            secret_ref: SecretKeyRef { name: "coi".into(), key: "certificate.pdf".into() },
        }),
        ..spec()
    }
}

fn pdf(digest: &str) -> Option<PdfFact> {
    Some(PdfFact::Present { bytes: b"%PDF-1.4".to_vec(), digest: digest.into() })
}

#[test]
fn own_certificate_is_uploaded_then_follows_review() {
    let contractor = CoverageBindingStatus { contractor_id: Some("cn_1".into()), ..Default::default() };
    let mut f = Facts { pdf: pdf("d1"), ..Facts::new(Some(work_order(WorkStage::Assigned))) };
    let p = plan(&own_coi(), &contractor, &f, &ctx());
    assert!(
        matches!(&p.step, Some(Step::UploadCertificate { digest, contractor_id, .. }) if digest == "d1" && contractor_id == "cn_1")
    );

    let uploaded = CoverageBindingStatus {
        certificate_id: Some("ci_1".into()),
        certificate_digest: Some("d1".into()),
        ..contractor
    };
    for (status, phase, valid) in [
        (CertificateStatus::Pending, Phase::AwaitingCertificateReview, ConditionStatus::Unknown),
        (CertificateStatus::Approved, Phase::Bound, ConditionStatus::True),
        (CertificateStatus::Flagged, Phase::NeedsReview, ConditionStatus::False),
        (CertificateStatus::Denied, Phase::Failed, ConditionStatus::False),
    ] {
        f.certificate = Some(CertificateFacts { status, pdf_url: None });
        let p = plan(&own_coi(), &uploaded, &f, &ctx());
        assert_eq!((p.phase, p.step.clone()), (phase, None), "{status:?}");
        assert_eq!(condition(&p, ConditionType::CertificateValid).unwrap().status, valid);
        assert!(condition(&p, ConditionType::Insured).is_none(), "no policy involved");
    }

    f.pdf = pdf("d2");
    assert!(
        matches!(plan(&own_coi(), &uploaded, &f, &ctx()).step, Some(Step::UploadCertificate { .. })),
        "a new PDF is uploaded anew"
    );

    f.pdf = Some(PdfFact::Missing { detail: "Secret demo/coi not found".into() });
    let p = plan(&own_coi(), &uploaded, &f, &ctx());
    assert_eq!(p.phase, Phase::Failed);
    assert_eq!(p.problem.unwrap().reason, "CertificateMissing");
}

#[test]
fn an_unknown_work_order_fails_with_a_clear_reason() {
    let p = plan(&spec(), &Default::default(), &Facts::new(None), &ctx());
    assert_eq!(p.phase, Phase::Failed);
    let ready = condition(&p, ConditionType::Ready).unwrap();
    assert_eq!(ready.reason, "WorkOrderNotFound");
    assert!(ready.message.contains("6029116324"));
}
