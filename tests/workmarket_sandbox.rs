//! The WorkMarket sandbox as a raw HTTP client sees it: the reference's quirks (token exchange,
//! token transport, envelopes, errors inside HTTP 200, list filters) and the control API.

// Each test binary uses only part of the shared support.
mod support;

use coverbridge_sandbox::workmarket::{API_SECRET, API_TOKEN, RunningSandbox, WorkMarketSandboxConfig};
use serde_json::{Value, json};
use support::workmarket::{calls_to, seeded, start};

async fn token(sandbox: &RunningSandbox, prefix: &str) -> String {
    let reply: Value = reqwest::Client::new()
        .post(format!("{}{prefix}/authorization/request", sandbox.url))
        .form(&[("token", API_TOKEN), ("secret", API_SECRET)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["meta"]["status_code"], 200);
    reply["response"]["access_token"].as_str().unwrap().to_owned()
}

async fn get(sandbox: &RunningSandbox, path_and_query: &str, bearer: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{}{path_and_query}", sandbox.url));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn token_exchange_on_both_families_from_form_or_query() {
    let sandbox = seeded().await;
    let from_form = token(&sandbox, "/v1/employer").await;
    assert!(from_form.starts_with("wm_at_"));
    let url = format!("{}/api/v1/authorization/request?token={API_TOKEN}&secret={API_SECRET}", sandbox.url);
    let reply: Value = reqwest::Client::new().post(url).send().await.unwrap().json().await.unwrap();
    let meta = &reply["meta"];
    assert_eq!(meta["version"], 1);
    assert!(meta["requestId"].is_string() && meta["execution_time"].is_number());
    assert!(meta["timestamp"].as_i64().unwrap() > 1_700_000_000, "Unix seconds");

    let refused = reqwest::Client::new()
        .post(format!("{}/api/v1/authorization/request", sandbox.url))
        .form(&[("token", API_TOKEN), ("secret", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["meta"]["status_code"], 401, "the v1 envelope");
    assert!(body["meta"]["errors"][0].as_str().unwrap().contains("requestId"));
}

#[tokio::test]
async fn access_token_by_header_or_parameter_and_the_auth_errors() {
    let sandbox = seeded().await;
    let access = token(&sandbox, "/api/v1").await;
    let (status, _) = get(&sandbox, "/api/v1/assignments/get?id=6029116324", Some(&access)).await;
    assert_eq!(status, 200);
    let by_parameter = format!("/v1/employer/assignments/get?id=6029116324&access_token={access}");
    assert_eq!(get(&sandbox, &by_parameter, None).await.0, 200);

    let (status, body) = get(&sandbox, "/api/v1/assignments/get?id=6029116324", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["meta"]["message"], "Not authorized to perform this request.");
    assert_eq!(body["results"], json!([]), "the v2 envelope");
    assert_eq!(get(&sandbox, "/api/v1/assignments/get?id=1", Some("forged")).await.0, 401);

    sandbox.sandbox.set_api_user_admin(false);
    let (status, body) = get(&sandbox, "/api/v1/assignments/statuses", Some(&access)).await;
    assert_eq!(status, 403);
    assert_eq!(body["meta"]["statusCode"], 403);
    // Public constants need no token.
    assert_eq!(get(&sandbox, "/api/v1/constants/industries", None).await.0, 200);
}

#[tokio::test]
async fn get_answers_errors_inside_http_200_and_escapes_text() {
    let sandbox = seeded().await;
    let access = token(&sandbox, "/api/v1").await;
    let (status, body) = get(&sandbox, "/api/v1/assignments/get?id=42", Some(&access)).await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["status_code"], 401);
    assert_eq!(body["meta"]["errors"], json!(["User not authorized to modify assignment 42."]));
    assert_eq!(body["response"], json!([]));
    let (status, body) = get(&sandbox, "/api/v1/assignments/get", Some(&access)).await;
    assert_eq!((status, body["meta"]["status_code"].as_u64()), (200, Some(400)));

    let (_, body) = get(&sandbox, "/api/v1/assignments/get?id=6029116324", Some(&access)).await;
    let order = &body["response"];
    assert_eq!(order["description"], "Run and terminate Cat6 drops &amp; patch them in.");
    assert_eq!(order["pricing"]["type"], "FLAT FEE");
    assert_eq!(order["pricing"]["spend_limit"], "325.00");
    assert_eq!(order["pricing"]["budget_increases"], "0.0");
    assert!(order["pricing"]["flat_price"].is_number());
    assert_eq!(order["active_resource"], Value::Null);
    assert_eq!(order["location"]["country"], "USA");
    assert!(order["assignment_window_start"].is_i64());
}

#[tokio::test]
async fn list_filters_like_workmarket() {
    let sandbox = seeded().await;
    let access = token(&sandbox, "/api/v1").await;
    // With no status, /list shows only work in progress.
    let (_, body) = get(&sandbox, "/api/v1/assignments/list", Some(&access)).await;
    assert_eq!(body["response"]["total_results"], 0);
    sandbox.sandbox.assign("6029116324", "8823578").unwrap();
    sandbox.sandbox.check_in("6029116324").unwrap();
    let (_, body) = get(&sandbox, "/api/v1/assignments/list", Some(&access)).await;
    let rows = body["response"]["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "active", "list rows hold the raw code");
    assert_eq!(rows[0]["modified_status"], "In Progress");
    assert_eq!(rows[0]["resource_user_number"], "8823578");
    assert!(rows[0]["total_cost"].is_string());

    let (_, body) = get(&sandbox, "/api/v1/assignments/list?status=sent&limit=2&start=1", Some(&access)).await;
    let page = &body["response"];
    assert_eq!((page["total_results"].as_u64(), page["count"].as_u64()), (Some(3), Some(2)));
    // An unknown status silently becomes "exception".
    let (_, body) = get(&sandbox, "/api/v1/assignments/list?status=bogus", Some(&access)).await;
    assert_eq!(body["response"]["total_results"], 0);
}

#[tokio::test]
async fn list_updated_requires_a_recent_modified_since() {
    let sandbox = seeded().await;
    let access = token(&sandbox, "/api/v1").await;
    let (status, body) = get(&sandbox, "/api/v1/assignments/list_updated", Some(&access)).await;
    assert_eq!(status, 400);
    assert_eq!(body["meta"]["status_code"], 400);
    let old = sandbox.sandbox.now().as_second() - 62 * 24 * 3600;
    let (status, _) =
        get(&sandbox, &format!("/api/v1/assignments/list_updated?modified_since={old}"), Some(&access)).await;
    assert_eq!(status, 400);
    let recent = sandbox.sandbox.now().as_second() - 60;
    let (status, body) =
        get(&sandbox, &format!("/api/v1/assignments/list_updated?modified_since={recent}"), Some(&access)).await;
    assert_eq!(status, 200);
    assert_eq!(body["response"]["total_results"], 4, "all statuses");
}

#[tokio::test]
async fn the_control_api_drives_a_work_order() {
    let sandbox = start(WorkMarketSandboxConfig { seed: false, ..WorkMarketSandboxConfig::default() }).await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}/_sandbox/{path}", sandbox.url);
    // An empty sandbox has no industries: a work order is refused with the way out, which works.
    let order = json!({"title": "Kiosk", "pricing": {"type": "per_unit", "price": 1250, "max_units": 10.0}});
    let refused = http.post(url("work_orders")).json(&order).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let said: Value = refused.json().await.unwrap();
    assert!(said["error"].as_str().unwrap().contains("POST /_sandbox/industries"), "{said}");
    let industry = http.post(url("industries")).json(&json!({"id": 1000, "name": "Retail"})).send().await.unwrap();
    assert_eq!(industry.status(), 201);
    let created = http.post(url("work_orders")).json(&order).send().await.unwrap();
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    let listed = get(&sandbox, "/api/v1/constants/industries", None).await.1;
    assert_eq!(listed["response"][0]["name"], "Retail", "{listed}");

    let sandbox = seeded().await;
    let url = |path: &str| format!("{}/_sandbox/{path}", sandbox.url);
    let worker: Value = http
        .post(url("workers"))
        .json(&json!({"first_name": "Casey", "last_name": "Park", "phone": "+1 303 555 0100",
                      "address": {"city": "Denver", "state": "CO", "country": "US"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let worker_id = worker["id"].as_str().unwrap().to_owned();
    let created = http.post(url("work_orders")).json(&order).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    let act = |action: &str, body: Value| {
        let request = http.post(url(&format!("work_orders/{id}/{action}"))).json(&body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(act("cancel", json!({})).await, 409, "not assigned yet");
    assert_eq!(act("assign", json!({})).await, 400, "needs worker_id");
    assert_eq!(act("assign", json!({"worker_id": "1"})).await, 404);
    assert_eq!(act("assign", json!({"worker_id": worker_id})).await, 204);
    assert_eq!(act("check_in", json!({})).await, 204);
    assert_eq!(
        act("budget_increase", json!({"pricing": {"type": "per_unit", "price": 1250, "max_units": 12.0}})).await,
        204
    );
    assert_eq!(
        act("reschedule", json!({"window_start": "2030-01-01T09:00:00Z", "window_end": "2030-01-01T17:00:00Z"})).await,
        204
    );
    assert_eq!(act("complete", json!({})).await, 204);
    assert_eq!(act("approve", json!({})).await, 204);
    assert_eq!(act("pay", json!({"total": 15000})).await, 204);
    assert_eq!(act("fly", json!({})).await, 400);
    let missing = http.post(url("work_orders/1/void")).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    let access = token(&sandbox, "/api/v1").await;
    let (_, body) = get(&sandbox, &format!("/api/v1/assignments/get?id={id}"), Some(&access)).await;
    let order = &body["response"];
    assert_eq!(order["status"], "paid");
    assert_eq!(order["payment"]["total_cost"], "150.00");
    assert_eq!(order["pricing"]["budget_increases"], "25.0");
    assert_eq!(order["assignment_window_start"], 1893488400);
    assert_eq!(order["active_resource"]["phone_numbers"][0]["phone"], "303 555 0100");

    // Settings, clock, token revocation, canned replies and the harness's routes.
    let mut settings: Value = http.get(url("settings")).send().await.unwrap().json().await.unwrap();
    settings["quirks"]["total_results_camel_case"] = json!(true);
    assert_eq!(http.put(url("settings")).json(&settings).send().await.unwrap().status(), 204);
    assert!(sandbox.sandbox.quirks().total_results_camel_case);
    let before = sandbox.sandbox.now();
    http.post(url("clock/advance")).json(&json!({"seconds": 3600})).send().await.unwrap();
    assert!(sandbox.sandbox.now().duration_since(before).as_secs() >= 3600);
    http.post(url("tokens/revoke")).send().await.unwrap();
    assert_eq!(get(&sandbox, "/api/v1/assignments/statuses", Some(&access)).await.0, 401);
    let access = token(&sandbox, "/api/v1").await;
    let canned = json!({"path": "/api/v1/assignments/statuses", "body": {"meta": {"status_code": 200}, "response": {"successful": false}}, "times": 1});
    assert_eq!(http.post(url("replies")).json(&canned).send().await.unwrap().status(), 201);
    let (_, body) = get(&sandbox, "/api/v1/assignments/statuses", Some(&access)).await;
    assert_eq!(body["response"]["successful"], false);
    let (_, body) = get(&sandbox, "/api/v1/assignments/statuses", Some(&access)).await;
    assert!(body["response"].is_array(), "the canned reply was used once");
    let calls: Vec<Value> = http.get(url("calls")).send().await.unwrap().json().await.unwrap();
    assert!(calls.iter().all(|c| !c["path"].as_str().unwrap().starts_with("/_sandbox")));
    assert_eq!(calls_to(sandbox.sandbox.harness(), "/statuses"), 3);
}

#[tokio::test]
async fn webhook_templates_through_the_control_api() {
    let sandbox = seeded().await;
    let http = reqwest::Client::new();
    let url = format!("{}/_sandbox/webhooks", sandbox.url);
    let template =
        json!({"event": "check in", "url": "http://127.0.0.1:9/hook", "body": "{\"a\":\"${assignment_id}\"}"});
    assert_eq!(http.post(&url).json(&template).send().await.unwrap().status(), 201);
    let bad = json!({"event": "Check In", "url": "http://127.0.0.1:9/hook", "body": "${resource_email}"});
    let refused = http.post(&url).json(&bad).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let message: Value = refused.json().await.unwrap();
    assert!(message["error"].as_str().unwrap().contains("resource_email"));
    let saved: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(saved[0]["event"], "Check In");
    assert_eq!(saved[0]["content_type"], "application/json");
    let deliveries: Value = http.get(format!("{url}/deliveries")).send().await.unwrap().json().await.unwrap();
    assert_eq!(deliveries, json!([]));
    assert_eq!(http.delete(&url).send().await.unwrap().status(), 204);
    assert!(sandbox.sandbox.webhooks().is_empty());
}

#[tokio::test]
async fn the_summary_prints_the_seed_and_the_webhooks() {
    let (running, summary) = coverbridge_sandbox::workmarket::serve(
        WorkMarketSandboxConfig {
            webhook_url: Some("http://127.0.0.1:8080/webhooks/workmarket".into()),
            webhook_token: Some("t".into()),
            ..WorkMarketSandboxConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    for expected in [
        running.url.as_str(),
        "wm_sandbox_token",
        "wm_sandbox_secret",
        "1000 Technology, 1001 Marketing, 1002 Construction",
        "8823578 Alex Nguyen <alex.nguyen@example.com> +1 415 555 0101 — San Francisco, California, USA",
        "8823579 Priya Raman <no e-mail> +1 212 555 0148 — New York, NY, US",
        "8823580 Jordan Lee <jordan.lee@example.com> +1 512 555 0199 — Austin, Texas, USA",
        "8823581 Sam Ortiz <sam.ortiz@example.com> +1 619 555 0123 — San Diego, CA, US",
        "6029116324 \"Low Voltage Cabling\" FLAT FEE $325.00 — San Jose CA USA, sent",
        "6029116325 \"Retail Site Survey\" PER HOUR $364.00 — New York NY USA, sent",
        "6029116326 \"POS Terminal Install\" FLAT FEE $180.00 — Austin TX USA, sent",
        "6029116327 \"Network Closet Repair\" FLAT FEE $412.50 — San Diego CA USA, sent",
        "Accepted, Check In, Completed, Approved, Paid, Voided, Cancel, Reschedule Approved, Budget Increase Approved → http://127.0.0.1:8080/webhooks/workmarket",
    ] {
        assert!(summary.contains(expected), "{expected:?} missing from:\n{summary}");
    }
    let empty = start(WorkMarketSandboxConfig { seed: false, ..Default::default() }).await;
    let summary = empty.summary();
    assert!(summary.contains("workers: none") && summary.contains("work orders: none"), "{summary}");
}
