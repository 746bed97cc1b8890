//! The shared HTTP layer against a real server on loopback.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::net::TcpListener;

use super::*;

fn fast() -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_millis(500),
        retry: RetryPolicy {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        },
        requests_per_second: NonZeroU32::new(1000).unwrap(),
        ..HttpSettings::default()
    }
}

/// Serves `router` on a free loopback port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A server answering with `statuses` in turn (the last one repeats), recording the
/// idempotency key of every request.
async fn scripted(statuses: Vec<(StatusCode, Option<&'static str>)>) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let keys = Arc::new(std::sync::Mutex::new(Vec::new()));
    let count = Arc::new(AtomicU32::new(0));
    let seen = keys.clone();
    let router = Router::new().route(
        "/thing",
        post(move |headers: HeaderMap| {
            let n = count.fetch_add(1, Ordering::SeqCst) as usize;
            let key = headers.get("idempotency-key").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            seen.lock().unwrap().push(key);
            let (status, retry_after) = statuses[n.min(statuses.len() - 1)];
            async move {
                let mut headers = HeaderMap::new();
                if let Some(value) = retry_after {
                    headers.insert("retry-after", value.parse().unwrap());
                }
                (status, headers, format!("answer {n}"))
            }
        }),
    );
    (serve(router).await, keys)
}

fn post_thing(base: &str) -> impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + '_ {
    move |client| client.post(format!("{base}/thing")).header("idempotency-key", "key-1")
}

#[tokio::test]
async fn retries_server_errors_with_the_same_idempotency_key() {
    let (base, keys) = scripted(vec![
        (StatusCode::BAD_GATEWAY, None),
        (StatusCode::SERVICE_UNAVAILABLE, None),
        (StatusCode::CREATED, None),
    ])
    .await;
    let response = HttpClient::new(fast()).send("test", post_thing(&base)).await.unwrap();
    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(&response.body[..], b"answer 2");
    assert_eq!(*keys.lock().unwrap(), ["key-1", "key-1", "key-1"]);
}

#[tokio::test]
async fn gives_up_after_max_attempts_and_returns_the_last_answer() {
    let (base, keys) = scripted(vec![(StatusCode::INTERNAL_SERVER_ERROR, None)]).await;
    let response = HttpClient::new(fast()).send("test", post_thing(&base)).await.unwrap();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(keys.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (base, keys) = scripted(vec![(StatusCode::BAD_REQUEST, None), (StatusCode::CREATED, None)]).await;
    let response = HttpClient::new(fast()).send("test", post_thing(&base)).await.unwrap();
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(keys.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let (base, keys) = scripted(vec![(StatusCode::TOO_MANY_REQUESTS, Some("1")), (StatusCode::OK, None)]).await;
    let started = Instant::now();
    let response = HttpClient::new(fast()).send("test", post_thing(&base)).await.unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(keys.lock().unwrap().len(), 2);
    // A lower bound only: the server asked for a second and the backoff alone is 20 ms at most.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn hands_back_a_retry_after_longer_than_it_will_wait() {
    let (base, keys) = scripted(vec![(StatusCode::TOO_MANY_REQUESTS, Some("3600")), (StatusCode::OK, None)]).await;
    let response = HttpClient::new(fast()).send("test", post_thing(&base)).await.unwrap();
    assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(keys.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn timeouts_are_retryable_transport_errors() {
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let router = Router::new().route(
        "/thing",
        post(move || {
            seen.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }
        }),
    );
    let base = serve(router).await;
    let settings = HttpSettings {
        timeout: Duration::from_millis(100),
        retry: RetryPolicy { max_attempts: 2, ..fast().retry },
        ..fast()
    };
    let error = HttpClient::new(settings).send("test", post_thing(&base)).await.unwrap_err();
    assert!(matches!(error, TransportError::Timeout(_)), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn refused_connections_are_connect_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = HttpClient::new(fast()).send("test", post_thing(&base)).await.unwrap_err();
    assert!(matches!(error, TransportError::Connect(_)), "{error:?}");
}

#[tokio::test]
async fn a_connection_closed_mid_answer_is_interrupted() {
    // Raw TCP: promise 100 bytes, send 5, hang up.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 100\r\n\r\nhello").await;
        }
    });
    let error = HttpClient::new(fast()).send("test", post_thing(&base)).await.unwrap_err();
    assert!(matches!(error, TransportError::Interrupted(_)), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn the_rate_limit_spaces_requests() {
    let (base, keys) = scripted(vec![(StatusCode::OK, None)]).await;
    let client = HttpClient::new(HttpSettings { requests_per_second: NonZeroU32::new(4).unwrap(), ..fast() });
    let started = Instant::now();
    for _ in 0..8 {
        client.send("test", post_thing(&base)).await.unwrap();
    }
    assert_eq!(keys.lock().unwrap().len(), 8);
    // A burst of 4 passes at once; the other 4 wait for tokens at 4/s. Lower bound only.
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
}

#[test]
fn retry_after_accepts_seconds_and_http_dates() {
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", "7".parse().unwrap());
    assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120);
    headers.insert(
        "retry-after",
        jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&later).unwrap().parse().unwrap(),
    );
    let parsed = retry_after(&headers).unwrap();
    assert!(parsed > Duration::from_secs(100) && parsed <= Duration::from_secs(120), "{parsed:?}");
    headers.insert("retry-after", "soon".parse().unwrap());
    assert_eq!(retry_after(&headers), None);
}

#[tokio::test]
async fn the_observer_sees_every_attempt() {
    let (base, _) = scripted(vec![(StatusCode::SERVICE_UNAVAILABLE, None), (StatusCode::CREATED, None)]).await;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let client = HttpClient::new(fast()).with_observer(Arc::new(move |api, method, path, status| {
        record.lock().unwrap().push((api, method.to_string(), path.to_owned(), status));
    }));
    client.send("test", post_thing(&base)).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            ("test", "POST".to_owned(), "/thing".to_owned(), Some(503)),
            ("test", "POST".to_owned(), "/thing".to_owned(), Some(201))
        ]
    );
}

#[tokio::test]
async fn a_read_only_client_refuses_writes_before_they_leave() {
    let hits = Arc::new(AtomicU32::new(0));
    let counted = hits.clone();
    let count = move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { StatusCode::OK }
    };
    let router = Router::new().fallback(count);
    let base = serve(router).await;
    let client = HttpClient::new(fast()).read_only(&["/authorization/request"]);

    let refused = client.send("test", |c| c.post(format!("{base}/api/v1/jobs"))).await.unwrap_err();
    assert!(
        matches!(&refused, TransportError::ReadOnly { method, path } if method == "POST" && path == "/api/v1/jobs")
    );
    assert!(!refused.is_retryable());
    for write in [reqwest::Method::PUT, reqwest::Method::DELETE, reqwest::Method::PATCH] {
        let url = format!("{base}/api/v1/jobs/jb_1");
        assert!(client.send("test", |c| c.request(write.clone(), &url)).await.is_err(), "{write}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the server");

    assert_eq!(client.send("test", |c| c.get(format!("{base}/api/v1/jobs"))).await.unwrap().status, 200);
    let exchange = client.send("test", |c| c.post(format!("{base}/api/v1/authorization/request"))).await;
    assert_eq!(exchange.unwrap().status, 200, "the token exchange is the one POST allowed");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}
