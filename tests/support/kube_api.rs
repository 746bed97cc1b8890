//! An in-process fake of the Kubernetes API, enough for the operator: list (in pages) and watch
//! (with label selectors), get, create (AlreadyExists), server-side apply, JSON and merge patches,
//! status subresources, finalizers and graceful deletion, generation bumps, `managedFields` for
//! every field manager that wrote (as a real server stores them, so caches that keep them pay for
//! them), and a Lease that refuses an apply by another field manager while held. Every request is recorded so tests can
//! assert the exact calls, in order.
//!
//! It also has a real server's unkind habits, each switched on per test: lists of one kind
//! answering late (so kinds arrive in any order), watch streams cut, the whole API unreachable
//! (connection refused) and back with `410 Gone` for every older resource version, and `403`
//! for lists and watches at the cluster scope (RBAC granted per namespace only).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string.
    pub query: String,
    /// Content type.
    pub content_type: String,
    /// Parsed JSON body (Null when none).
    pub body: Value,
}

type Key = (String, Option<String>, String);
type Hook = Arc<dyn Fn(&Recorded) + Send + Sync>;

#[derive(Default)]
struct Inner {
    objects: BTreeMap<Key, Value>,
    log: Vec<(u64, String, String, Value)>,
    rv: u64,
    requests: Vec<Recorded>,
    lease_owner: HashMap<Key, String>,
    hook: Option<Hook>,
    /// Lists of these kinds answer only after the delay.
    list_delays: HashMap<String, Duration>,
    /// Watches from a resource version below this answer 410 Gone.
    compacted: u64,
    /// Lists and watches of namespaced kinds across all namespaces answer 403.
    forbid_cluster_scope: bool,
    /// Watch events reach watchers this much later (a busy API server, a slow network).
    watch_delay: Option<Duration>,
    /// Every write answers this much later (etcd's commit, a loaded server).
    write_delay: Option<Duration>,
}

/// The fake API. Cheap to clone.
#[derive(Clone)]
pub struct FakeKube {
    inner: Arc<Mutex<Inner>>,
    events: broadcast::Sender<(u64, String, String, Value)>,
    /// Ends every open watch stream when it changes.
    cuts: tokio::sync::watch::Sender<u64>,
    server: Arc<Mutex<Option<Serving>>>,
    addr: SocketAddr,
    /// Base URL.
    pub url: String,
}

/// The accept loop and every open connection, so "down" can drop them all at once.
struct Serving {
    accept: tokio::task::JoinHandle<()>,
    connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Serving {
    fn stop(self) {
        self.accept.abort();
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

fn kind_of(plural: &str) -> (&'static str, &'static str) {
    match plural {
        "coveragebindings" => ("coverbridge.io/v1alpha1", "CoverageBinding"),
        "categorymappings" => ("coverbridge.io/v1alpha1", "CategoryMapping"),
        "secrets" => ("v1", "Secret"),
        "leases" => ("coordination.k8s.io/v1", "Lease"),
        "events" => ("events.k8s.io/v1", "Event"),
        "customresourcedefinitions" => ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        _ => ("v1", "Unknown"),
    }
}

struct Target {
    plural: String,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

fn parse_path(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match *parts.first()? {
        "api" => &parts[2..],
        "apis" => &parts[3..],
        _ => return None,
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
        rest => (None, rest),
    };
    Some(Target {
        plural: rest.first()?.to_string(),
        namespace,
        name: rest.get(1).map(|s| s.to_string()),
        subresource: rest.get(2).map(|s| s.to_string()),
    })
}

fn query_param(query: &str, key: &str) -> Option<String> {
    url_pairs(query).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default()
}

fn labels_match(object: &Value, selector: Option<&str>) -> bool {
    let Some(selector) = selector.filter(|s| !s.is_empty()) else { return true };
    selector.split(',').all(|term| match term.split_once('=') {
        Some((k, v)) => object["metadata"]["labels"][k.trim_end_matches('=')] == v,
        None => !object["metadata"]["labels"][term].is_null(),
    })
}

fn status(code: u16, reason: &str, message: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason, "code": code});
    (StatusCode::from_u16(code).unwrap(), axum::Json(body)).into_response()
}

/// JSON merge patch (RFC 7386): nulls delete.
fn merge(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// A field manager's write, as `managedFields` records it.
struct Owner<'a> {
    manager: &'a str,
    /// `Apply` (server-side apply) or `Update` (anything else).
    operation: &'static str,
    subresource: Option<&'a str>,
}

impl Owner<'_> {
    /// Sets this manager's entry (one per manager, operation and subresource) to own `written`.
    fn record(&self, object: &mut Value, written: &Value) {
        let mut entry = json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": object["apiVersion"],
            "time": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "fieldsType": "FieldsV1",
            "fieldsV1": fields_v1(written),
        });
        if let Some(subresource) = self.subresource {
            entry["subresource"] = json!(subresource);
        }
        let same = |e: &Value| {
            e["manager"] == self.manager && e["operation"] == self.operation && e["subresource"] == entry["subresource"]
        };
        let meta = &mut object["metadata"];
        let mut entries: Vec<Value> = meta["managedFields"].as_array().cloned().unwrap_or_default();
        entries.retain(|e| !same(e));
        entries.push(entry);
        meta["managedFields"] = Value::Array(entries);
    }
}

/// The fields a create or a kubectl apply writes: labels, annotations and the spec.
fn written_fields(object: &Value) -> Value {
    let mut written = json!({"spec": object["spec"]});
    for key in ["labels", "annotations", "finalizers"] {
        if !object["metadata"][key].is_null() {
            written["metadata"][key] = object["metadata"][key].clone();
        }
    }
    written
}

/// The API server's FieldsV1 set for `value`: every field as `f:<name>`, list items of objects
/// keyed by `type` or `name` as `k:{...}`, other items as `v:<value>`.
fn fields_v1(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut set = serde_json::Map::new();
            for (key, field) in map {
                let mut inner = fields_v1(field);
                if let Some(m) = inner.as_object_mut().filter(|_| field.is_object() || field.is_array()) {
                    m.insert(".".into(), json!({}));
                }
                set.insert(format!("f:{key}"), inner);
            }
            Value::Object(set)
        }
        Value::Array(items) => {
            let mut set = serde_json::Map::new();
            for item in items {
                let key = match item.get("type").or_else(|| item.get("name")) {
                    Some(id) if item.is_object() => {
                        let name = if item.get("type").is_some() { "type" } else { "name" };
                        format!("k:{}", json!({ name: id }))
                    }
                    _ => format!("v:{item}"),
                };
                let mut inner = fields_v1(item);
                if let Some(m) = inner.as_object_mut() {
                    m.insert(".".into(), json!({}));
                }
                set.insert(key, inner);
            }
            Value::Object(set)
        }
        _ => json!({}),
    }
}

impl FakeKube {
    /// Serves a fake API on a free loopback port, with the coverbridge CRDs installed.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (events, _) = broadcast::channel(65536);
        let fake = Self {
            inner: Arc::default(),
            events,
            cuts: tokio::sync::watch::channel(0).0,
            server: Arc::default(),
            addr,
            url: format!("http://{addr}"),
        };
        for name in ["coveragebindings.coverbridge.io", "categorymappings.coverbridge.io"] {
            fake.insert("customresourcedefinitions", None, json!({"metadata": {"name": name}}));
        }
        fake.serve(listener);
        fake
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let app = Router::new().fallback(handle).with_state(self.clone());
        let connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let open = connections.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                let connection = tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
                let mut open = open.lock().unwrap();
                open.retain(|c| !c.is_finished());
                open.push(connection.abort_handle());
            }
        });
        *self.server.lock().unwrap() = Some(Serving { accept, connections });
    }

    /// The API server goes away: its port refuses connections and every open request and watch
    /// breaks.
    pub fn go_down(&self) {
        if let Some(serving) = self.server.lock().unwrap().take() {
            serving.stop();
        }
    }

    /// The API server comes back on the same port, having forgotten every resource version the
    /// clients hold: a watch from one answers 410 Gone, as after etcd compaction.
    pub async fn come_back(&self) {
        {
            let mut inner = self.lock();
            inner.rv += 1000;
            inner.compacted = inner.rv;
        }
        let listener = tokio::net::TcpListener::bind(self.addr).await.expect("the port is free again");
        self.serve(listener);
    }

    /// Ends every open watch stream, as a load balancer or a server timeout does.
    pub fn cut_watches(&self) {
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Lists of `plural` answer only after `delay`.
    pub fn delay_lists(&self, plural: &str, delay: Duration) {
        self.lock().list_delays.insert(plural.to_owned(), delay);
    }

    /// Every watch event from now on reaches its watchers `delay` later than it happened, so a
    /// client's cache lags behind its own writes.
    pub fn delay_watch_events(&self, delay: Duration) {
        self.lock().watch_delay = Some(delay);
    }

    /// Every write (anything but GET) from now on answers `delay` later, as etcd commits take.
    pub fn delay_writes(&self, delay: Duration) {
        self.lock().write_delay = Some(delay);
    }

    /// Whether lists and watches across all namespaces answer 403, as for a ServiceAccount with
    /// per-namespace RBAC only.
    pub fn forbid_cluster_scope(&self, forbid: bool) {
        self.lock().forbid_cluster_scope = forbid;
    }

    /// Replaces an object's status without telling anybody why (a write the operator's cache may
    /// not have seen), as one more change.
    pub fn replace_status(&self, plural: &str, namespace: Option<&str>, name: &str, status: Value) {
        let key = (plural.to_owned(), namespace.map(str::to_owned), name.to_owned());
        let mut inner = self.lock();
        self.update(&mut inner, &key, |o| o["status"] = status);
    }

    /// Calls `visit` with every stored object of `plural`, without copying them (a fleet of
    /// thousands is polled this way).
    pub fn scan(&self, plural: &str, mut visit: impl FnMut(&Value)) {
        let inner = self.lock();
        inner.objects.iter().filter(|((p, ..), _)| p == plural).for_each(|(_, object)| visit(object));
    }

    /// How many requests the fake has received.
    pub fn request_count(&self) -> usize {
        self.lock().requests.len()
    }

    /// The requests received after the first `from`.
    pub fn requests_since(&self, from: usize) -> Vec<Recorded> {
        self.lock().requests.get(from..).map(<[Recorded]>::to_vec).unwrap_or_default()
    }

    /// A kubeconfig for this fake in a file of its own, for a `coverbridge` child process.
    pub fn kubeconfig(&self, name: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("coverbridge-{name}-{}.kubeconfig", std::process::id()));
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {{server: \"{}\"}}\nusers:\n- name: fake\n  user: {{}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: fake}}\ncurrent-context: fake\n",
            self.url
        );
        std::fs::write(&path, config).unwrap();
        path
    }

    /// A kube client talking to this fake.
    pub fn client(&self) -> kube::Client {
        let config = kube::Config::new(self.url.parse().unwrap());
        kube::Client::try_from(config).unwrap()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Calls `hook` on every request as it arrives (before it is served).
    pub fn on_request(&self, hook: impl Fn(&Recorded) + Send + Sync + 'static) {
        self.lock().hook = Some(Arc::new(hook));
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// An object, if stored.
    pub fn get(&self, plural: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        self.lock().objects.get(&(plural.to_owned(), namespace.map(str::to_owned), name.to_owned())).cloned()
    }

    /// Every stored object of a kind.
    pub fn list(&self, plural: &str) -> Vec<Value> {
        self.lock().objects.iter().filter(|((p, _, _), _)| p == plural).map(|(_, v)| v.clone()).collect()
    }

    /// Removes an object as if a CRD were uninstalled (no events).
    pub fn remove_quietly(&self, plural: &str, namespace: Option<&str>, name: &str) {
        self.lock().objects.remove(&(plural.to_owned(), namespace.map(str::to_owned), name.to_owned()));
    }

    /// Stores `object` (server-populated fields filled in) and tells watchers.
    pub fn insert(&self, plural: &str, namespace: Option<&str>, mut object: Value) -> Value {
        let mut inner = self.lock();
        let name = object["metadata"]["name"].as_str().unwrap().to_owned();
        let key = (plural.to_owned(), namespace.map(str::to_owned), name);
        inner.rv += 1;
        let rv = inner.rv;
        let (api_version, kind) = kind_of(plural);
        object["apiVersion"] = json!(api_version);
        object["kind"] = json!(kind);
        let meta = &mut object["metadata"];
        if let Some(ns) = namespace {
            meta["namespace"] = json!(ns);
        }
        meta["uid"] = json!(format!("uid-{rv}"));
        meta["resourceVersion"] = json!(rv.to_string());
        meta["generation"] = json!(1);
        meta["creationTimestamp"] = json!("2026-11-28T00:00:00Z");
        if meta["managedFields"].is_null() {
            let owner = Owner { manager: "kubectl-client-side-apply", operation: "Update", subresource: None };
            let written = written_fields(&object);
            owner.record(&mut object, &written);
        }
        inner.objects.insert(key, object.clone());
        inner.log.push((rv, "ADDED".into(), plural.to_owned(), object.clone()));
        let _ = self.events.send((rv, "ADDED".into(), plural.to_owned(), object.clone()));
        object
    }

    /// Replaces a stored object after `change`, bumping resourceVersion (and generation when
    /// the spec or deletion changed), and tells watchers; removes it when it is being deleted
    /// and has no finalizers left.
    fn update(&self, inner: &mut Inner, key: &Key, change: impl FnOnce(&mut Value)) -> Option<Value> {
        self.update_by(inner, key, None, change)
    }

    /// [`Self::update`], recording `owner` in `managedFields` for the fields `change` wrote (only
    /// when something changed: a no-op write leaves the object and its version alone).
    fn update_by(
        &self,
        inner: &mut Inner,
        key: &Key,
        owner: Option<(Owner<'_>, Value)>,
        change: impl FnOnce(&mut Value),
    ) -> Option<Value> {
        let before = inner.objects.get(key)?.clone();
        let mut after = before.clone();
        change(&mut after);
        let unchanged = after == before;
        if let Some((owner, written)) = owner.filter(|_| !unchanged) {
            owner.record(&mut after, &written);
        }
        after["metadata"]["uid"] = before["metadata"]["uid"].clone();
        after["metadata"]["creationTimestamp"] = before["metadata"]["creationTimestamp"].clone();
        let spec_changed = before["spec"] != after["spec"]
            || before["metadata"]["deletionTimestamp"].is_null() != after["metadata"]["deletionTimestamp"].is_null();
        let generation = before["metadata"]["generation"].as_i64().unwrap_or(1) + i64::from(spec_changed);
        after["metadata"]["generation"] = json!(generation);
        if after == before {
            return Some(after);
        }
        inner.rv += 1;
        let rv = inner.rv;
        after["metadata"]["resourceVersion"] = json!(rv.to_string());
        let finalizers_empty = after["metadata"]["finalizers"].as_array().is_none_or(Vec::is_empty);
        let kind = if !after["metadata"]["deletionTimestamp"].is_null() && finalizers_empty {
            inner.objects.remove(key);
            "DELETED"
        } else {
            inner.objects.insert(key.clone(), after.clone());
            "MODIFIED"
        };
        inner.log.push((rv, kind.into(), key.0.clone(), after.clone()));
        let _ = self.events.send((rv, kind.into(), key.0.clone(), after.clone()));
        Some(after)
    }

    /// Deletes as the API server does: at once without finalizers, else by deletionTimestamp.
    pub fn delete(&self, plural: &str, namespace: Option<&str>, name: &str) {
        let key = (plural.to_owned(), namespace.map(str::to_owned), name.to_owned());
        let mut inner = self.lock();
        let Some(object) = inner.objects.get(&key).cloned() else { return };
        if object["metadata"]["finalizers"].as_array().is_none_or(Vec::is_empty) {
            inner.objects.remove(&key);
            inner.rv += 1;
            let rv = inner.rv;
            inner.log.push((rv, "DELETED".into(), plural.to_owned(), object.clone()));
            let _ = self.events.send((rv, "DELETED".into(), plural.to_owned(), object));
        } else {
            self.update(&mut inner, &key, |o| o["metadata"]["deletionTimestamp"] = json!("2026-11-28T01:00:00Z"));
        }
    }
}

async fn handle(State(fake): State<FakeKube>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024).await.unwrap_or_default();
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let body_value: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).or_else(|_| serde_saphyr::from_slice(&bytes)).unwrap_or(Value::Null)
    };
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: query.clone(),
        content_type: content_type.clone(),
        body: body_value.clone(),
    };
    let hook = {
        let mut inner = fake.lock();
        inner.requests.push(recorded.clone());
        inner.hook.clone()
    };
    if let Some(hook) = hook {
        hook(&recorded);
    }
    let Some(target) = parse_path(parts.uri.path()) else { return status(404, "NotFound", "no such path") };
    let write_delay = fake.lock().write_delay;
    if let Some(delay) = write_delay.filter(|_| parts.method != Method::GET) {
        tokio::time::sleep(delay).await;
    }
    if parts.method == Method::GET && target.name.is_none() {
        if let Some(refusal) = refusal(&fake, &target, &query) {
            return refusal;
        }
        let delay = fake.lock().list_delays.get(&target.plural).copied();
        if let Some(delay) = delay.filter(|_| query_param(&query, "watch").as_deref() != Some("true")) {
            tokio::time::sleep(delay).await;
        }
    }
    match (&parts.method, &target.name) {
        (&Method::GET, None) if query_param(&query, "watch").as_deref() == Some("true") => {
            watch(&fake, &target, &query)
        }
        (&Method::GET, None) => list(&fake, &target, &query),
        (&Method::GET, Some(name)) => match fake.get(&target.plural, target.namespace.as_deref(), name) {
            Some(object) => axum::Json(object).into_response(),
            None => status(404, "NotFound", &format!("{} {name} not found", target.plural)),
        },
        (&Method::POST, _) => create(&fake, &target, body_value),
        (&Method::PATCH, Some(name)) => patch(&fake, &target, name, &parts.headers, &query, body_value),
        (&Method::PUT, Some(name)) => {
            let key = (target.plural.clone(), target.namespace.clone(), name.clone());
            let mut inner = fake.lock();
            match fake.update(&mut inner, &key, |o| *o = body_value) {
                Some(object) => axum::Json(object).into_response(),
                None => status(404, "NotFound", "not found"),
            }
        }
        (&Method::DELETE, Some(name)) => {
            fake.delete(&target.plural, target.namespace.as_deref(), name);
            axum::Json(json!({"kind": "Status", "status": "Success"})).into_response()
        }
        _ => status(405, "MethodNotAllowed", "not supported by the fake"),
    }
}

/// A 403 for a list or watch across all namespaces, worded as the API server words it.
fn refusal(fake: &FakeKube, target: &Target, query: &str) -> Option<Response> {
    let namespaced = ["coveragebindings", "categorymappings", "secrets"].contains(&target.plural.as_str());
    if !(fake.lock().forbid_cluster_scope && namespaced && target.namespace.is_none()) {
        return None;
    }
    let verb = if query_param(query, "watch").as_deref() == Some("true") { "watch" } else { "list" };
    let group = if target.plural == "secrets" { "" } else { "coverbridge.io" };
    let message = format!(
        "{plural}{dot}{group} is forbidden: User \"system:serviceaccount:coverbridge:coverbridge\" cannot {verb} resource \"{plural}\" in API group \"{group}\" at the cluster scope",
        plural = target.plural,
        dot = if group.is_empty() { "" } else { "." },
    );
    Some(status(403, "Forbidden", &message))
}

/// A list, in pages of `limit` with a `continue` token when asked, as the API server pages.
fn list(fake: &FakeKube, target: &Target, query: &str) -> Response {
    let selector = query_param(query, "labelSelector");
    let limit = query_param(query, "limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0);
    let after = query_param(query, "continue").filter(|c| !c.is_empty());
    let inner = fake.lock();
    let mut matching = inner.objects.iter().filter(|((p, ns, name), o)| {
        *p == target.plural
            && (target.namespace.is_none() || *ns == target.namespace)
            && after.as_deref().is_none_or(|after| page_key(ns, name).as_str() > after)
            && labels_match(o, selector.as_deref())
    });
    let mut items = Vec::new();
    let mut last = None;
    for ((_, ns, name), object) in matching.by_ref().take(limit.unwrap_or(usize::MAX)) {
        items.push(object.clone());
        last = Some(page_key(ns, name));
    }
    let more = limit.is_some() && matching.next().is_some();
    let mut metadata = json!({"resourceVersion": inner.rv.to_string()});
    if let (true, Some(last)) = (more, last) {
        metadata["continue"] = json!(last);
    }
    let (api_version, kind) = kind_of(&target.plural);
    axum::Json(json!({"apiVersion": api_version, "kind": format!("{kind}List"), "metadata": metadata, "items": items}))
        .into_response()
}

/// Where a page ends, in the order objects are stored (namespace, then name).
fn page_key(namespace: &Option<String>, name: &str) -> String {
    format!("{}/{name}", namespace.as_deref().unwrap_or(""))
}

fn watch(fake: &FakeKube, target: &Target, query: &str) -> Response {
    let from: u64 = query_param(query, "resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
    let compacted = fake.lock().compacted;
    if from != 0 && from < compacted {
        // As the API server answers a watch from a compacted version: 200, one ERROR event.
        let gone = json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": format!("too old resource version: {from} ({compacted})"), "reason": "Expired", "code": 410}});
        return Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(format!("{gone}\n")))
            .unwrap();
    }
    let selector = query_param(query, "labelSelector");
    let live = fake.events.subscribe();
    let backlog: Vec<(u64, String, String, Value)> =
        fake.lock().log.iter().filter(|(rv, ..)| *rv > from).cloned().collect();
    let (plural, namespace) = (target.plural.clone(), target.namespace.clone());
    let wanted = move |(_, _, p, o): &(u64, String, String, Value)| {
        *p == plural
            && namespace.as_deref().is_none_or(|ns| o["metadata"]["namespace"] == ns)
            && labels_match(o, selector.as_deref())
    };
    let last = backlog.last().map_or(from, |(rv, ..)| *rv);
    let line = |(_, kind, _, object): (u64, String, String, Value)| {
        Ok::<Bytes, std::convert::Infallible>(Bytes::from(format!("{}\n", json!({"type": kind, "object": object}))))
    };
    let wanted_backlog = wanted.clone();
    let backlog = futures::stream::iter(backlog.into_iter().filter(move |e| wanted_backlog(e)).map(line));
    let delay = fake.lock().watch_delay;
    let live = async_stream_live(live, last, delay).filter(move |e| futures::future::ready(wanted(e))).map(line);
    let mut cuts = fake.cuts.subscribe();
    let cut = async move {
        let _ = cuts.changed().await;
    };
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(backlog.chain(live).take_until(cut)))
        .unwrap()
}

/// Live events after `after`, from a broadcast receiver subscribed before the backlog was read
/// (so nothing falls between the two).
fn async_stream_live(
    receiver: broadcast::Receiver<(u64, String, String, Value)>,
    after: u64,
    delay: Option<Duration>,
) -> impl futures::Stream<Item = (u64, String, String, Value)> {
    futures::stream::unfold(receiver, move |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(event) if event.0 > after => {
                    if let Some(delay) = delay {
                        tokio::time::sleep(delay).await;
                    }
                    return Some((event, rx));
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

fn create(fake: &FakeKube, target: &Target, body: Value) -> Response {
    let name = body["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    if fake.get(&target.plural, target.namespace.as_deref(), &name).is_some() {
        return status(409, "AlreadyExists", &format!("{} \"{name}\" already exists", target.plural));
    }
    let name = if name.is_empty() {
        let generated = format!("{}{}", body["metadata"]["generateName"].as_str().unwrap_or("x-"), fake.lock().rv + 1);
        generated
    } else {
        name
    };
    let mut body = body;
    body["metadata"]["name"] = json!(name);
    (StatusCode::CREATED, axum::Json(fake.insert(&target.plural, target.namespace.as_deref(), body))).into_response()
}

/// The manager a write without `fieldManager` is recorded under (a real server takes the client's
/// user agent).
fn manager_or_agent(manager: &str) -> &str {
    if manager.is_empty() { "coverbridge" } else { manager }
}

fn patch(fake: &FakeKube, target: &Target, name: &str, headers: &HeaderMap, query: &str, body: Value) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let manager = query_param(query, "fieldManager").unwrap_or_default();
    let force = query_param(query, "force").as_deref() == Some("true");
    let key = (target.plural.clone(), target.namespace.clone(), name.to_owned());
    let mut inner = fake.lock();
    if !inner.objects.contains_key(&key) {
        if content_type.starts_with("application/apply-patch") && target.subresource.is_none() {
            drop(inner);
            let mut body = body;
            body["metadata"]["name"] = json!(name);
            return axum::Json(fake.insert(&target.plural, target.namespace.as_deref(), body)).into_response();
        }
        return status(404, "NotFound", &format!("{} {name} not found", target.plural));
    }
    // The Lease's holder belongs to the field manager that set it; another manager's apply
    // that would change it without force conflicts, as server-side apply does.
    if target.plural == "leases" {
        let holder_in_patch = body["spec"].get("holderIdentity");
        let current = inner.objects[&key]["spec"]["holderIdentity"].clone();
        if let Some(new) = holder_in_patch {
            let owner = inner.lease_owner.get(&key).cloned();
            let conflicts = content_type.starts_with("application/apply-patch")
                && !force
                && owner.as_deref().is_some_and(|o| o != manager)
                && !current.is_null()
                && *new != current;
            if conflicts {
                return status(
                    409,
                    "Conflict",
                    "Apply failed with 1 conflict: conflict with another manager using .spec.holderIdentity",
                );
            }
            if new.is_null() {
                inner.lease_owner.remove(&key);
            } else {
                inner.lease_owner.insert(key.clone(), manager.clone());
            }
        }
    }
    let subresource = target.subresource.clone();
    let result = if content_type.starts_with("application/json-patch") {
        // Like the API server (evanphx/json-patch), a `test` against null passes for an absent path.
        let current = inner.objects[&key].clone();
        let ops: Vec<Value> = body
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|op| {
                let absent = op["path"].as_str().is_some_and(|path| current.pointer(path).is_none());
                !(op["op"] == "test" && op["value"].is_null() && absent)
            })
            .collect();
        let patch: json_patch::Patch = match serde_json::from_value(Value::Array(ops)) {
            Ok(p) => p,
            Err(e) => return status(400, "BadRequest", &e.to_string()),
        };
        let mut failure = None;
        let owner = Owner { manager: manager_or_agent(&manager), operation: "Update", subresource: None };
        let written = json!({"metadata": {"finalizers": []}});
        let updated = fake.update_by(&mut inner, &key, Some((owner, written)), |o| {
            if let Err(e) = json_patch::patch(o, &patch) {
                failure = Some(e.to_string());
            }
        });
        match failure {
            // A failed test op leaves the object unchanged, as the API server does.
            Some(message) => return status(422, "Invalid", &message),
            None => updated,
        }
    } else {
        let apply = content_type.starts_with("application/apply-patch");
        let operation = if apply { "Apply" } else { "Update" };
        let owner = Owner { manager: manager_or_agent(&manager), operation, subresource: subresource.as_deref() };
        let written = match subresource.as_deref() {
            Some("status") => json!({"status": body["status"]}),
            _ => {
                let mut written = body.clone();
                if let Some(m) = written.as_object_mut() {
                    m.retain(|k, _| k == "spec" || k == "metadata");
                }
                written
            }
        };
        fake.update_by(&mut inner, &key, Some((owner, written)), |o| match subresource.as_deref() {
            Some("status") => {
                if content_type.starts_with("application/apply-patch") {
                    o["status"] = body["status"].clone();
                } else {
                    merge(&mut o["status"], &body["status"]);
                }
            }
            _ => {
                let mut patch = body.clone();
                if let Some(map) = patch.as_object_mut() {
                    map.remove("apiVersion");
                    map.remove("kind");
                    map.remove("status");
                }
                merge(o, &patch);
            }
        })
    };
    match result {
        Some(object) => axum::Json(object).into_response(),
        None => status(404, "NotFound", "gone"),
    }
}
