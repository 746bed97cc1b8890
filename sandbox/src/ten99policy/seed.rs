//! The sandbox's starting data, shared with the WorkMarket sandbox's people: an entity, approved
//! and unapproved category codes, and a returning contractor who already holds a policy.

use std::fmt::Write;

use super::state::{PolicyRecord, Store, YEAR};
use crate::money::Cents;
use crate::ten99policy::wire::{CoverageType, PolicyStatus, WageType};
use crate::ten99policy::{
    Address, CategoryCode, CoiCertificates, Contractor, CoverageLimit, Entity, EpochSeconds, Job, Metadata, Policy,
    Quote,
};

/// The seeded entity.
pub const ENTITY_ID: &str = "en_Ah3tqYn";
/// Approved: "Computer Service or Repair".
pub const COMPUTER_REPAIR: &str = "jc_MTqpkbkp6G";
/// Approved: "Spokesperson / Influencer".
pub const SPOKESPERSON: &str = "jc_5Tqpkbkp6G";
/// Not approved: "Demolition".
pub const DEMOLITION: &str = "jc_Dm8qpkbkp6";
/// The returning contractor, Jordan Lee.
pub const JORDAN_CONTRACTOR_ID: &str = "cn_JL8823580";
/// Jordan Lee's WorkMarket worker id.
pub const JORDAN_WORKER_ID: &str = "8823580";
/// Jordan Lee's e-mail.
pub const JORDAN_EMAIL: &str = "jordan.lee@example.com";
/// Jordan Lee's earlier job.
pub const JORDAN_JOB_ID: &str = "jb_JL88235801";
/// The quote of Jordan Lee's policy.
pub const JORDAN_QUOTE_ID: &str = "qt_JL88235801";
/// Jordan Lee's active policy.
pub const JORDAN_POLICY_ID: &str = "pl_JL88235801";

/// Puts the seed into `store` at time `now`; `public_url` prefixes document links.
pub(crate) fn seed(store: &mut Store, now: EpochSeconds, public_url: &str) {
    store.entities.push(Entity {
        id: ENTITY_ID.into(),
        created: Some(now),
        name: Some("Acme Facilities".into()),
        coverage_limit: Some(CoverageLimit {
            aggregate_limit: Some(Cents(200_000_000)),
            occurrence_limit: Some(Cents(100_000_000)),
        }),
        required_coverage: vec!["general".into()],
        address: Some(Address {
            line1: Some("500 W 2nd St".into()),
            locality: Some("Austin".into()),
            region: Some("TX".into()),
            postalcode: Some("78701".into()),
            country: Some("US".into()),
            ..Address::default()
        }),
    });
    for (code, name, approved) in [
        (COMPUTER_REPAIR, "Computer Service or Repair", true),
        (SPOKESPERSON, "Spokesperson / Influencer", true),
        (DEMOLITION, "Demolition", false),
    ] {
        store.category_codes.push(CategoryCode {
            category_code: code.into(),
            name: Some(name.into()),
            approved: Some(approved),
        });
    }
    store.contractors.push(Contractor {
        id: JORDAN_CONTRACTOR_ID.into(),
        created: Some(now),
        first_name: Some("Jordan".into()),
        middle_name: None,
        last_name: Some("Lee".into()),
        email: Some(JORDAN_EMAIL.into()),
        phone: Some("+1 512 555 0199".into()),
        company_name: None,
        address: Some(Address {
            line1: Some("1100 Congress Ave".into()),
            locality: Some("Austin".into()),
            region: Some("TX".into()),
            postalcode: Some("78701".into()),
            country: Some("US".into()),
            ..Address::default()
        }),
        custom_metadata: Metadata::default().with("workmarket_worker_id", JORDAN_WORKER_ID),
        withhold_premium: Some(false),
    });
    store.jobs.push(Job {
        id: JORDAN_JOB_ID.into(),
        created: Some(now),
        name: Some("Workstation repair (earlier engagement)".into()),
        description: Some("Diagnose and repair office workstations".into()),
        entity: Some(ENTITY_ID.into()),
        category_code: Some(COMPUTER_REPAIR.into()),
        wage: Some(Cents(45_000)),
        wage_type: Some(WageType::Flatfee),
        years_experience: None,
        address: None,
        custom_metadata: Metadata::default(),
    });
    let end = now.plus_seconds(YEAR);
    store.quotes.push(Quote {
        id: JORDAN_QUOTE_ID.into(),
        created: Some(now),
        contractor: Some(JORDAN_CONTRACTOR_ID.into()),
        job: Some(JORDAN_JOB_ID.into()),
        coverage_type: vec![CoverageType::General],
        effective_date: Some(now),
        end_date: Some(end),
        eligible: Some(true),
        net_rate: Some(Cents(20)),
        gl_net_rate: Some(Cents(20)),
        wc_net_rate: None,
        quote_json: Some(serde_json::json!({"gl": {"net_rate": 20}})),
        custom_metadata: Metadata::default(),
    });
    let doc = |kind: &str| format!("{public_url}/_sandbox/documents/{JORDAN_POLICY_ID}/{kind}.pdf");
    store.policies.push(PolicyRecord {
        contractor: JORDAN_CONTRACTOR_ID.into(),
        policy: Policy {
            id: JORDAN_POLICY_ID.into(),
            created: Some(now),
            quote: Some(JORDAN_QUOTE_ID.into()),
            status: PolicyStatus::Active,
            is_active: Some(true),
            effective_date: Some(now),
            expiration_date: Some(end),
            pdf_url: Some(doc("policy")),
            certificates: Some(CoiCertificates { gl_coi_pdf_url: Some(doc("gl_coi")), wc_coi_pdf_url: None }),
        },
    });
}

/// What a person needs to start using the sandbox at `url`.
pub(crate) fn summary(url: &str, api_key: &str, webhook: Option<(&str, &str)>, seeded: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "1099Policy sandbox: {url}");
    let _ = writeln!(out, "  API key          {api_key}  (Authorization: Bearer <key>)");
    match webhook {
        Some((target, secret)) => {
            let _ = writeln!(out, "  webhooks         {target}  signed with {secret}");
        }
        None => {
            let _ = writeln!(out, "  webhooks         register with POST /api/v1/webhook_endpoints");
        }
    }
    if seeded {
        let _ = writeln!(out, "  entity           {ENTITY_ID}  Acme Facilities");
        let _ = writeln!(out, "  category codes   {COMPUTER_REPAIR}  Computer Service or Repair (approved)");
        let _ = writeln!(out, "                   {SPOKESPERSON}  Spokesperson / Influencer (approved)");
        let _ = writeln!(out, "                   {DEMOLITION}  Demolition (not approved)");
        let _ = writeln!(
            out,
            "  contractor       {JORDAN_CONTRACTOR_ID}  Jordan Lee <{JORDAN_EMAIL}>, WorkMarket worker {JORDAN_WORKER_ID}"
        );
        let _ = writeln!(
            out,
            "                   active policy {JORDAN_POLICY_ID} [general] for {COMPUTER_REPAIR} jobs, one year"
        );
    } else {
        let _ = writeln!(out, "  (started empty: seed with POST /_sandbox/entities and /_sandbox/category_codes)");
    }
    let _ = writeln!(
        out,
        "  control API      {url}/_sandbox/  (calls, faults, clock, applications, certificates, policies)"
    );
    out
}
