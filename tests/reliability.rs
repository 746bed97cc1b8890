//! Reliability under hostile conditions, time-bounded: a fleet of bindings converges while both
//! sandboxes fail, stall, rate-limit and drop connections, while webhooks arrive duplicated, out
//! of order, forged and stale — and while the runtime is killed at random points. Every run ends
//! with exactly one of each external object per binding.

mod support;

use std::time::{Duration, Instant};

use coverbridge::resources::{CertificateStatus, Phase};
use coverbridge::secret::Secret;
use coverbridge_sandbox::harness::{Fault, FaultRule};
use coverbridge_sandbox::money::Cents;
use coverbridge_sandbox::ten99policy::CertificateReview;
use coverbridge_sandbox::workmarket::{NewWorkOrder, NewWorker, PricingSpec, SandboxAddress};
use support::world::{WEBHOOK_TOKEN, World};

const COLLECTIONS: [&str; 7] =
    ["contractors", "jobs", "quotes", "apply/sessions", "assignments", "files/certificates", "invoices"];

/// The four paths a binding can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    NewFlatFee,
    NewHourlyWithInvoice,
    Returning,
    OwnCertificate,
}

const PATHS: [Path; 4] = [Path::NewFlatFee, Path::NewHourlyWithInvoice, Path::Returning, Path::OwnCertificate];

/// Creates `n` work orders (cycling through the paths) with their workers and bindings; returns
/// (binding name, work order, worker, path) for each.
async fn fleet(world: &World, n: usize) -> Vec<(String, String, String, Path)> {
    let wm = &world.workmarket.sandbox;
    let start = wm.now() + jiff::SignedDuration::from_hours(48);
    let mut members = Vec::new();
    let mut manifests = String::new();
    for i in 0..n {
        let path = PATHS[i % PATHS.len()];
        let worker = if path == Path::Returning {
            "8823580".to_owned()
        } else {
            wm.create_worker(NewWorker {
                id: None,
                first_name: format!("Worker{i}"),
                last_name: "Fleet".into(),
                email: Some(format!("worker{i}@fleet.example.com")),
                phone: Some(format!("+1 415 555 {i:04}")),
                address: SandboxAddress {
                    line1: format!("{i} Market St"),
                    city: "San Francisco".into(),
                    state: "California".into(),
                    postal_code: "94105".into(),
                    country: "USA".into(),
                },
            })
            .unwrap()
        };
        let pricing = match path {
            Path::NewHourlyWithInvoice => PricingSpec::PerHour { rate: Cents(4550), max_hours: 8.0 },
            _ => PricingSpec::Flat { price: Cents(25_000 + i as i64 * 100) },
        };
        let mut order = NewWorkOrder::new(format!("Fleet job {i}"), pricing);
        order.location = Some(SandboxAddress {
            city: "San Jose".into(),
            state: "CA".into(),
            country: "USA".into(),
            ..Default::default()
        });
        order.window_start = Some(start);
        order.window_end = Some(start + jiff::SignedDuration::from_hours(24));
        let work_order = wm.create_work_order(order).unwrap();
        let name = format!("fleet-{i}");
        let extra = match path {
            Path::NewHourlyWithInvoice => {
                "  invoice: {grossPay: 41250, paycycleStart: \"2026-12-01T00:00:00Z\", paycycleEnd: \"2026-12-07T23:59:59Z\"}\n".to_owned()
            }
            Path::OwnCertificate => {
                let pdf = base64_pdf(i);
                manifests.push_str(&format!(
                    "apiVersion: v1\nkind: Secret\nmetadata: {{name: coi-{i}}}\ndata: {{certificate.pdf: {pdf}}}\n---\n"
                ));
                format!("  certificate: {{secretRef: {{name: coi-{i}, key: certificate.pdf}}}}\n")
            }
            _ => String::new(),
        };
        manifests.push_str(&format!(
            "apiVersion: coverbridge.io/v1alpha1\nkind: CoverageBinding\nmetadata: {{name: {name}}}\nspec:\n  workOrderId: \"{work_order}\"\n  coverageTypes: [general]\n  entity: en_Ah3tqYn\n  categoryCode: jc_MTqpkbkp6G\n{extra}---\n"
        ));
        members.push((name, work_order, worker, path));
    }
    world.apply(&manifests).await;
    for (_, work_order, worker, _) in &members {
        wm.assign(work_order, worker).unwrap();
    }
    members
}

fn base64_pdf(i: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("%PDF-1.4\n% certificate {i}\n%%EOF\n"))
}

/// What the fleet must create, per collection, beyond the seed.
fn expected_new(members: &[(String, String, String, Path)]) -> Vec<usize> {
    let count = |paths: &[Path]| members.iter().filter(|m| paths.contains(&m.3)).count();
    let new_workers = count(&[Path::NewFlatFee, Path::NewHourlyWithInvoice, Path::OwnCertificate]);
    vec![
        new_workers,
        count(&[Path::NewFlatFee, Path::NewHourlyWithInvoice, Path::Returning]),
        count(&[Path::NewFlatFee, Path::NewHourlyWithInvoice]),
        count(&[Path::NewFlatFee, Path::NewHourlyWithInvoice]),
        count(&[Path::Returning]),
        count(&[Path::OwnCertificate]),
        count(&[Path::NewHourlyWithInvoice]),
    ]
}

async fn counts(world: &World) -> Vec<usize> {
    let mut counts = Vec::new();
    for collection in COLLECTIONS {
        counts.push(world.count(collection).await);
    }
    counts
}

/// Plays the workers and the reviewer: completes applications and approves certificates that
/// are waiting.
fn play_people(world: &World, members: &[(String, String, String, Path)]) {
    for (name, ..) in members {
        let status = world.status(name);
        if let (Some(session), None) = (&status.application_session_id, &status.policy_id) {
            let _ = world.ten99policy.sandbox.complete_application(session);
        }
        if let (Some(id), Some(CertificateStatus::Pending)) = (&status.certificate_id, status.certificate_status) {
            let _ = world.ten99policy.sandbox.review_certificate(id, CertificateReview::Approve);
        }
    }
}

fn converged(world: &World, members: &[(String, String, String, Path)]) -> bool {
    members.iter().all(|(name, _, _, path)| {
        let status = world.status(name);
        status.phase == Some(Phase::Bound) && (*path != Path::NewHourlyWithInvoice || status.invoice_id.is_some())
    })
}

/// Drives the fleet until it converges or `limit` passes.
async fn converge(world: &World, members: &[(String, String, String, Path)], limit: Duration) {
    let until = Instant::now() + limit;
    while !converged(world, members) {
        if Instant::now() > until {
            let stuck: Vec<_> = members
                .iter()
                .filter(|m| world.status(&m.0).phase != Some(Phase::Bound))
                .map(|m| (m.0.clone(), world.status(&m.0)))
                .collect();
            panic!("did not converge within {limit:?}: {stuck:#?}");
        }
        play_people(world, members);
        world.runtime.trigger_all();
        world.settle().await;
    }
}

/// Deliveries a hostile or confused network produces: duplicated and out-of-order WorkMarket
/// events, 1099Policy events that lie about the policy, and forged and stale signatures.
async fn hostile_webhooks(world: &World, members: &[(String, String, String, Path)]) -> (usize, usize) {
    let http = reqwest::Client::new();
    let mut accepted = 0;
    let mut refused = 0;
    // Every event for every work order, backwards, twice.
    let events = ["Paid", "Approved", "Completed", "Check In", "Cancel", "Voided", "Accepted"];
    for _ in 0..2 {
        for (_, work_order, ..) in members.iter().rev() {
            for event in events {
                let body =
                    serde_json::json!({"event": event, "assignment_id": work_order, "status": "cancelled", "now": "1"});
                let status = http
                    .post(format!("{}/webhooks/workmarket", world.receiver_url))
                    .bearer_auth(WEBHOOK_TOKEN)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert_eq!(status, 202);
                accepted += 1;
            }
        }
    }
    // Correctly signed 1099Policy events claiming every policy was cancelled: only the API's
    // truth counts.
    let secret = Secret::new(world.ten99policy.sandbox.configured_webhook_secret().expose());
    let now = jiff::Timestamp::now().as_second();
    for (name, ..) in members {
        let Some(policy) = world.status(name).policy_id else { continue };
        let body = serde_json::json!({"id": format!("ev_fake{policy}"), "type": "policy.cancelled", "created": now, "data": {"id": policy, "object": "policy", "status": "cancelled"}});
        let body = serde_json::to_vec(&body).unwrap();
        for (key, at, expect) in [
            (secret.clone(), now, 200),
            (secret.clone(), now, 200),
            (Secret::new("whsec_forged"), now, 401),
            (secret.clone(), now - 3600, 401),
        ] {
            let header = coverbridge::ten99policy::webhook::sign(&key, at, &body);
            let status = http
                .post(format!("{}/webhooks/1099policy", world.receiver_url))
                .header(coverbridge::ten99policy::SIGNATURE_HEADER, header)
                .body(body.clone())
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status.as_u16(), expect);
            if expect == 200 { accepted += 1 } else { refused += 1 }
        }
    }
    (accepted, refused)
}

#[tokio::test]
async fn a_fleet_converges_exactly_once_through_faults_and_hostile_webhooks() {
    let world = World::start().await;
    let seeded = counts(&world).await;
    let t99 = world.ten99policy.sandbox.harness();
    for rule in [
        FaultRule::new("/api/v1/", Fault::Status { status: 503 }).probability(0.15),
        FaultRule::new("/api/v1/", Fault::RateLimit { retry_after_secs: 1 }).probability(0.03),
        FaultRule::new("/api/v1/", Fault::Latency { millis: 20 }).probability(0.2),
        FaultRule::new("/api/v1/", Fault::DropAfterProcessing).method("POST").probability(0.1),
        FaultRule::new("/api/v1/", Fault::StatusAfterProcessing { status: 500 }).method("POST").probability(0.05),
        FaultRule::new("/api/v1/", Fault::DropBeforeProcessing).probability(0.05),
    ] {
        t99.inject(rule);
    }
    let wm = world.workmarket.sandbox.harness();
    wm.inject(FaultRule::new("/api/v1/assignments", Fault::Status { status: 503 }).probability(0.15));
    wm.inject(FaultRule::new("/api/v1/assignments", Fault::DropBeforeProcessing).probability(0.05));
    wm.inject(FaultRule::new("/api/v1/", Fault::Latency { millis: 20 }).probability(0.2));

    let members = fleet(&world, 16).await;
    converge(&world, &members, Duration::from_secs(90)).await;
    let (accepted, refused) = hostile_webhooks(&world, &members).await;
    assert!(accepted > 0 && refused > 0);
    world.settle().await;
    converge(&world, &members, Duration::from_secs(30)).await;

    // Count with the faults off: the count itself must not fail.
    t99.clear_faults();
    wm.clear_faults();
    let created: Vec<usize> = counts(&world).await.iter().zip(&seeded).map(|(now, before)| now - before).collect();
    assert_eq!(created, expected_new(&members), "exactly one of each object per binding ({COLLECTIONS:?})");
    let faults_fired = t99.calls().iter().filter(|c| c.fault.is_some()).count();
    assert!(faults_fired > 10, "the faults really fired ({faults_fired})");
    let calls_per_binding = t99.calls().len() / members.len();
    assert!(calls_per_binding < 60, "1099Policy calls per binding stay bounded: {calls_per_binding}");
}

#[tokio::test]
async fn killing_the_runtime_at_random_points_never_duplicates() {
    for seed in 0..12u64 {
        let world = World::start().await;
        let seeded = counts(&world).await;
        // Slow 1099Policy a little so that kills land between calls and status writes.
        world.ten99policy.sandbox.harness().inject(FaultRule::new("/api/v1/", Fault::Latency { millis: 15 }));
        let members = fleet(&world, 4).await;
        let mut rng = fastrand::Rng::with_seed(seed);
        for _ in 0..4 {
            let runtime = world.runtime.clone();
            let running = tokio::spawn(async move { runtime.run().await });
            world.workmarket.sandbox.flush_webhooks().await;
            tokio::time::sleep(Duration::from_millis(rng.u64(5..200))).await;
            play_people(&world, &members);
            running.abort();
            let _ = running.await;
            // A new process knows nothing of the old one's queue.
            world.runtime.trigger_all();
        }
        let written_before_recovery = world.ten99_writes().len();
        world.ten99policy.sandbox.harness().clear_faults();
        converge(&world, &members, Duration::from_secs(30)).await;
        assert!(written_before_recovery > 0, "seed {seed}: the kills interrupted real work");
        let created: Vec<usize> = counts(&world).await.iter().zip(&seeded).map(|(now, before)| now - before).collect();
        assert_eq!(
            created,
            expected_new(&members),
            "seed {seed}: exactly one of each object per binding ({COLLECTIONS:?})"
        );
    }
}
