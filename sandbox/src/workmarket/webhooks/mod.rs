//! WorkMarket's webhooks in the sandbox: per-event request templates the user saves, rendered
//! with the event's variables and delivered unsigned (reference §6).

mod deliver;
mod render;
pub(crate) mod variables;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub(crate) use deliver::masked as masked_url;
pub use deliver::{DeliveryRecord, Outcome};
pub(crate) use render::Values;

use deliver::{Dispatcher, Outgoing, masked};
use render::{Escape, render, variables_in};

/// Every event the README lists for the shipped template (the events coverbridge acts on).
pub const EVENTS: [&str; 9] = [
    "Accepted",
    "Check In",
    "Completed",
    "Approved",
    "Paid",
    "Voided",
    "Cancel",
    "Reschedule Approved",
    "Budget Increase Approved",
];

/// The template users paste into WorkMarket, as shipped in `examples/`.
pub const SHIPPED_TEMPLATE: &str = include_str!("../../../../examples/workmarket-webhook.json");

/// One saved webhook: an HTTP request template for one event. Values in the URL, header values
/// and body may use `${variables}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WebhookTemplate {
    /// The event's name in WorkMarket's UI, such as "Check In".
    pub event: String,
    /// Where to send it; `https://user:password@host/…` sends basic auth.
    pub url: String,
    /// POST (default), PUT, PATCH, DELETE or GET.
    #[serde(default = "post")]
    pub method: String,
    /// The Content-Type, which also decides how values are escaped in the body.
    #[serde(default = "json")]
    pub content_type: String,
    /// Custom headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body template.
    #[serde(default)]
    pub body: String,
}

fn post() -> String {
    "POST".to_owned()
}

fn json() -> String {
    "application/json".to_owned()
}

impl WebhookTemplate {
    /// The shipped `examples/workmarket-webhook.json` for `event`, as a user would save it:
    /// the `event` value set to the event's name, and the token as `Authorization: Bearer`.
    pub fn shipped(event: &str, url: &str, token: Option<&str>) -> Self {
        let mut body: serde_json::Value = serde_json::from_str(SHIPPED_TEMPLATE).expect("the shipped template is JSON");
        body["event"] = serde_json::Value::String(event.to_owned());
        let headers = token
            .map(|token| BTreeMap::from([("Authorization".to_owned(), format!("Bearer {token}"))]))
            .unwrap_or_default();
        Self {
            event: event.to_owned(),
            url: url.to_owned(),
            method: post(),
            content_type: json(),
            headers,
            body: serde_json::to_string_pretty(&body).expect("JSON values serialize"),
        }
    }
}

/// The webhooks of the sandbox's one company, and their delivery.
pub(crate) struct Webhooks {
    templates: Mutex<Vec<Saved>>,
    dispatcher: Dispatcher,
}

/// A saved template, with what every webhook rendered from it shares: its event name, masked
/// URL, content type, and URL and headers when they use no variables.
struct Saved {
    template: WebhookTemplate,
    event: Arc<str>,
    masked_url: Arc<str>,
    content_type: Arc<str>,
    url: Option<Arc<str>>,
    headers: Option<Arc<[(String, String)]>>,
}

impl Saved {
    fn new(template: WebhookTemplate) -> Self {
        let constant = |text: &str| !text.contains("${");
        Self {
            event: template.event.as_str().into(),
            masked_url: masked(&template.url).into(),
            content_type: template.content_type.as_str().into(),
            url: constant(&template.url).then(|| template.url.as_str().into()),
            headers: template
                .headers
                .values()
                .all(|v| constant(v))
                .then(|| template.headers.iter().map(|(n, v)| (n.clone(), v.clone())).collect()),
            template,
        }
    }
}

impl Webhooks {
    pub fn new(timeout: Duration) -> Self {
        Self { templates: Mutex::new(Vec::new()), dispatcher: Dispatcher::new(timeout) }
    }

    /// Saves a template after WorkMarket's checks: a known event, a known method, and a body
    /// using only variables that event has.
    pub fn register(&self, mut template: WebhookTemplate) -> Result<(), String> {
        template.event = variables::event_name(&template.event)
            .ok_or_else(|| format!("unknown event {:?}", template.event))?
            .to_owned();
        template.method = template.method.to_ascii_uppercase();
        if !["POST", "PUT", "PATCH", "DELETE", "GET"].contains(&template.method.as_str()) {
            return Err(format!("unsupported method {}", template.method));
        }
        if reqwest::Url::parse(&template.url.replace("${", "x").replace('}', "x")).is_err() {
            return Err(format!("invalid URL {}", masked(&template.url)));
        }
        for name in variables_in(&template.body) {
            if !variables::is_eligible(&template.event, name) {
                return Err(format!("variable ${{{name}}} is not available for event {}", template.event));
            }
        }
        lock(&self.templates).push(Saved::new(template));
        Ok(())
    }

    pub fn templates(&self) -> Vec<WebhookTemplate> {
        lock(&self.templates).iter().map(|s| s.template.clone()).collect()
    }

    pub fn clear(&self) {
        lock(&self.templates).clear();
    }

    /// Renders every template saved for `event` with `values` and queues the result.
    pub fn fire(&self, event: &str, assignment_id: &str, values: &Values) {
        let templates = lock(&self.templates);
        let rendered: Vec<_> = templates
            .iter()
            .filter(|s| s.template.event == event)
            .map(|saved| (saved.event.clone(), saved.masked_url.clone(), build(saved, values)))
            .collect();
        drop(templates);
        for (event, url, outgoing) in rendered {
            self.dispatcher.enqueue(event, assignment_id, url, outgoing);
        }
    }

    pub fn records(&self) -> Vec<DeliveryRecord> {
        self.dispatcher.records()
    }

    pub async fn flush(&self) {
        self.dispatcher.flush().await
    }

    pub fn start(&self) {
        self.dispatcher.start_worker();
    }
}

fn build(saved: &Saved, values: &Values) -> Result<Outgoing, String> {
    let template = &saved.template;
    let headers = match &saved.headers {
        Some(headers) => headers.clone(),
        None => {
            let mut headers = Vec::new();
            for (name, value) in &template.headers {
                headers.push((name.clone(), render(value, values, Escape::Header)?));
            }
            headers.into()
        }
    };
    let url = match &saved.url {
        Some(url) => url.clone(),
        None => render(&template.url, values, Escape::Url)?.into(),
    };
    Ok(Outgoing {
        method: template.method.parse().map_err(|_| format!("unsupported method {}", template.method))?,
        url,
        headers,
        content_type: saved.content_type.clone(),
        body: render(&template.body, values, Escape::for_body(&template.content_type))?.into(),
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_template_saves_for_every_listed_event() {
        let webhooks = Webhooks::new(Duration::from_secs(1));
        for event in EVENTS {
            let template = WebhookTemplate::shipped(event, "http://127.0.0.1:9/hook", Some("t"));
            webhooks.register(template).unwrap();
        }
        assert_eq!(webhooks.templates().len(), 9);
        let saved = &webhooks.templates()[1];
        assert_eq!(saved.event, "Check In");
        assert!(saved.body.contains("\"event\": \"Check In\""), "{}", saved.body);
        assert_eq!(saved.headers["Authorization"], "Bearer t");
    }

    #[test]
    fn saving_checks_event_method_and_variables() {
        let webhooks = Webhooks::new(Duration::from_secs(1));
        let template = |event: &str, body: &str| WebhookTemplate {
            event: event.into(),
            url: "http://127.0.0.1:9/${assignment_id}".into(),
            method: "post".into(),
            content_type: "application/json".into(),
            headers: BTreeMap::new(),
            body: body.into(),
        };
        assert!(webhooks.register(template("accepted", r#"{"w":"${resource_id}"}"#)).is_ok());
        let refused = webhooks.register(template("Check In", r#"{"w":"${resource_id}"}"#)).unwrap_err();
        assert_eq!(refused, "variable ${resource_id} is not available for event Check In");
        assert!(webhooks.register(template("Checked", "{}")).is_err());
        let mut bad_method = template("Paid", "{}");
        bad_method.method = "TRACE".into();
        assert!(webhooks.register(bad_method).is_err());
        assert_eq!(webhooks.templates()[0].event, "Accepted");
        assert_eq!(webhooks.templates()[0].method, "POST");
    }

    #[test]
    fn an_unknown_variable_outside_the_body_means_not_sent() {
        let webhooks = Webhooks::new(Duration::from_secs(1));
        let mut template = WebhookTemplate::shipped("Paid", "http://127.0.0.1:9/${bogus}", None);
        template.headers.insert("X-Id".into(), "${assignment_id}".into());
        webhooks.register(template).unwrap();
        webhooks.fire("Paid", "1", &Values::from([("assignment_id", "1".to_owned())]));
        let records = webhooks.records();
        assert_eq!(records[0].outcome, Outcome::NotSent { reason: "unknown variable ${bogus}".into() });
        assert_eq!(records[0].attempts, 0);
    }
}
