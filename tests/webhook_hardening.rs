//! Webhook hardening, over real HTTP against the receiver on loopback: oversize bodies, slow
//! bodies, wrong content types and bad authentication of every kind. Each refused delivery gets
//! its status with a body that says nothing specific, is counted, and changes nothing: the
//! runtime behind the receiver is not even asked which bindings it concerns.

mod support;

use std::time::{Duration, Instant};

use base64::Engine;
use coverbridge::secret::Secret;
use coverbridge::ten99policy::{SIGNATURE_HEADER, webhook};
use coverbridge::webhooks::{MAX_BODY, READ_TIMEOUT, Source};
use support::recording::logs::LogBuffer;
use support::recording::receiver::{Receiver, SECRET, TOKEN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A delivery of the shipped template, as WorkMarket sends it.
const DELIVERY: &str = r#"{"event":"Accepted","assignment_id":"6029116324","status":"active","now":"1764000000"}"#;
/// A 1099Policy event about a policy.
const EVENT: &str = r#"{"id":"ev_1","type":"policy.active","created":1706745620,"data":{"id":"pl_1","quote":"qt_1"}}"#;
/// What every refused delivery is told.
const REFUSAL: &str = "unauthorized\n";

const WORKMARKET: &str = "/webhooks/workmarket";
const TEN99POLICY: &str = "/webhooks/1099policy";

fn bearer() -> (String, String) {
    ("authorization".into(), format!("Bearer {TOKEN}"))
}

fn basic(user_password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_password))
}

fn signature_for(body: &[u8]) -> (String, String) {
    let now = jiff::Timestamp::now().as_second();
    (SIGNATURE_HEADER.into(), webhook::sign(&Secret::new(SECRET), now, body))
}

/// POSTs `body` with `headers`; the status and the answer's body. The client gives up after a
/// generous 30 s, so a receiver that hangs fails the test instead of stalling it.
async fn post(url: String, headers: &[(String, String)], body: Vec<u8>) -> (u16, String) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut request = client.post(url).body(body);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn accepted_deliveries_reach_the_runtime() {
    // The control for every "changes nothing" below: what is accepted does show up.
    let receiver = Receiver::start(READ_TIMEOUT).await;
    let (status, _) = post(format!("{}{WORKMARKET}", receiver.url), &[bearer()], DELIVERY.into()).await;
    assert_eq!(status, 202);
    let (status, _) =
        post(format!("{}{TEN99POLICY}", receiver.url), &[signature_for(EVENT.as_bytes())], EVENT.into()).await;
    assert_eq!(status, 200);
    let calls = receiver.recorder.calls();
    assert!(calls.contains(&"trigger ns/6029116324".to_owned()), "{calls:?}");
    assert!(calls.contains(&"trigger ns/pl_1".to_owned()), "{calls:?}");
    assert_eq!(receiver.counts(Source::WorkMarket), (1, 0, 0));
    assert_eq!(receiver.counts(Source::Ten99Policy), (1, 0, 0));
}

/// `body` padded with trailing spaces (still valid JSON) to `len` bytes.
fn padded(body: &str, len: usize) -> Vec<u8> {
    let mut bytes = body.as_bytes().to_vec();
    bytes.resize(len, b' ');
    bytes
}

#[tokio::test]
async fn oversize_bodies_are_413_and_change_nothing() {
    let receiver = Receiver::start(READ_TIMEOUT).await;
    for (path, content) in [(WORKMARKET, DELIVERY), (TEN99POLICY, EVENT)] {
        let body = padded(content, MAX_BODY + 1);
        let auth = if path == WORKMARKET { bearer() } else { signature_for(&body) };
        let (status, _) = post(format!("{}{path}", receiver.url), std::slice::from_ref(&auth), body.clone()).await;
        assert_eq!(status, 413, "{path} with a Content-Length");
        // Without a Content-Length the limit holds while reading.
        let status = chunked(&receiver, path, &auth, &body).await;
        assert_eq!(status, 413, "{path} chunked");
        // Unauthenticated: refused for its size before anything else.
        let (status, _) = post(format!("{}{path}", receiver.url), &[], body).await;
        assert_eq!(status, 413, "{path} unauthenticated");
    }
    assert_eq!(receiver.recorder.calls(), Vec::<String>::new());
    for source in [Source::WorkMarket, Source::Ten99Policy] {
        assert_eq!(receiver.counts(source), (0, 0, 0));
        assert_eq!(receiver.refusals(source), (3, 0), "{source:?}: counted as too large");
    }

    // Exactly the limit is fine.
    let body = padded(DELIVERY, MAX_BODY);
    let (status, _) = post(format!("{}{WORKMARKET}", receiver.url), &[bearer()], body).await;
    assert_eq!(status, 202);
}

/// Sends `body` in 64 KiB chunks with chunked transfer encoding; the answer's status.
async fn chunked(receiver: &Receiver, path: &str, auth: &(String, String), body: &[u8]) -> u16 {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\n{}: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        auth.0, auth.1
    );
    let mut framed = head.into_bytes();
    for chunk in body.chunks(64 * 1024) {
        framed.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
    }
    framed.extend_from_slice(b"0\r\n\r\n");
    let stream = TcpStream::connect(receiver.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    // The receiver may answer and close before taking it all; a failed write is expected then.
    let writer = tokio::spawn(async move { write.write_all(&framed).await.is_ok() });
    let status = read_status(&mut read).await;
    writer.abort();
    status
}

/// Reads an HTTP/1.1 answer's status line.
async fn read_status(read: &mut (impl AsyncReadExt + Unpin)) -> u16 {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(30), read.read(&mut buffer))
            .await
            .expect("an answer within 30 s")
            .expect("the answer is readable");
        assert!(n > 0, "closed without an answer: {:?}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buffer[..n]);
    }
    let line = String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned();
    line.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("status line {line:?}"))
}

#[tokio::test]
async fn slow_bodies_are_answered_408_before_they_finish() {
    let timeout = Duration::from_millis(300);
    let receiver = Receiver::start(timeout).await;
    for path in [WORKMARKET, TEN99POLICY] {
        for chunked in [false, true] {
            let started = Instant::now();
            let status = trickle(&receiver, path, chunked).await;
            assert_eq!(status, 408, "{path}, chunked: {chunked}");
            assert!(started.elapsed() >= timeout, "answered before the timeout: {:?}", started.elapsed());
        }
    }
    assert_eq!(receiver.recorder.calls(), Vec::<String>::new());
    for source in [Source::WorkMarket, Source::Ten99Policy] {
        assert_eq!(receiver.refusals(source), (0, 2), "{source:?}: counted as timed out");
    }
}

/// Sends the head of a delivery, then its body one byte every 50 ms: at most 400 bytes of the
/// 10 000 it announces, so at least 20 s. Returns the status of the answer, which must come
/// while the body is still trickling.
async fn trickle(receiver: &Receiver, path: &str, chunked: bool) -> u16 {
    let (name, value) = if path == WORKMARKET { bearer() } else { signature_for(b"never complete") };
    let framing = if chunked { "Transfer-Encoding: chunked".to_owned() } else { "Content-Length: 10000".to_owned() };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\n{name}: {value}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    );
    let stream = TcpStream::connect(receiver.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write.write_all(head.as_bytes()).await.unwrap();
    let trickling = async move {
        if chunked {
            let _ = write.write_all(b"2710\r\n").await;
        }
        for _ in 0..400 {
            if write.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::select! {
        status = read_status(&mut read) => status,
        () = trickling => panic!("{path} gave no answer while the body trickled in"),
    }
}

#[tokio::test]
async fn wrong_content_types_are_400_and_change_nothing() {
    let receiver = Receiver::start(READ_TIMEOUT).await;
    let xml = "<webhook><assignment_id>6029116324</assignment_id></webhook>";
    let multipart = "--b\r\nContent-Disposition: form-data; name=\"assignment_id\"\r\n\r\n6029116324\r\n--b--\r\n";
    let cases: [(Option<&str>, &str); 6] = [
        (Some("application/xml"), xml),
        (Some("text/xml"), xml),
        (None, xml),
        (Some("multipart/form-data; boundary=b"), multipart),
        (Some("application/json"), "assignment_id=6029116324"),
        (Some("application/x-www-form-urlencoded"), DELIVERY),
    ];
    for (content_type, body) in cases {
        for path in [WORKMARKET, TEN99POLICY] {
            if path == TEN99POLICY && body == DELIVERY {
                continue; // JSON, if not an event; covered by its own case below.
            }
            let mut headers = vec![if path == WORKMARKET { bearer() } else { signature_for(body.as_bytes()) }];
            if let Some(content_type) = content_type {
                headers.push(("content-type".into(), content_type.into()));
            }
            let (status, answer) = post(format!("{}{path}", receiver.url), &headers, body.into()).await;
            assert_eq!(status, 400, "{path} {content_type:?}: {answer}");
            assert!(!answer.contains("6029116324"), "the answer quotes no input: {answer}");
        }
    }
    // Signed JSON that is not an event.
    let (status, _) =
        post(format!("{}{TEN99POLICY}", receiver.url), &[signature_for(DELIVERY.as_bytes())], DELIVERY.into()).await;
    assert_eq!(status, 400);
    assert_eq!(receiver.recorder.calls(), Vec::<String>::new());
    assert_eq!(receiver.counts(Source::WorkMarket), (0, 0, 6));
    assert_eq!(receiver.counts(Source::Ten99Policy), (0, 0, 6));
}

/// A refused delivery: what the log must say about it, its headers and its body.
type Case = (&'static str, Vec<(String, String)>, Vec<u8>);

/// Posts each case to `path` and checks it is refused with the bare 401, changes nothing, is
/// counted, and that the log names each case's reason.
async fn assert_refused(path: &str, cases: Vec<Case>, source: Source) {
    let logs = LogBuffer::default();
    // The test's runtime is single-threaded, so the receiver logs on this thread.
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    let receiver = Receiver::start(READ_TIMEOUT).await;
    for (i, (reason, headers, body)) in cases.iter().enumerate() {
        let before = logs.text().len();
        let (status, answer) = post(format!("{}{path}", receiver.url), headers, body.clone()).await;
        assert_eq!((status, answer.as_str()), (401, REFUSAL), "{reason}");
        assert_eq!(receiver.counts(source), (0, i as u64 + 1, 0), "{reason}");
        let logged = logs.text()[before..].to_owned();
        assert!(logged.contains(reason), "the log says why ({reason}): {logged}");
        assert!(!logged.contains(TOKEN) && !logged.contains(SECRET), "{logged}");
    }
    assert_eq!(receiver.recorder.calls(), Vec::<String>::new());
}

#[tokio::test]
async fn bad_workmarket_auth_is_401_without_detail() {
    let header = |name: &str, value: String| vec![(name.to_owned(), value)];
    let body = DELIVERY.as_bytes().to_vec();
    let cases = vec![
        ("missing_token", vec![], body.clone()),
        ("wrong_token", header("authorization", "Bearer wm-hook-guess".into()), body.clone()),
        ("wrong_token", header("x-coverbridge-token", "wm-hook-guess".into()), body.clone()),
        ("unsupported_scheme", header("authorization", format!("Digest {TOKEN}")), body.clone()),
        ("wrong_token", header("authorization", basic("workmarket:wm-hook-guess")), body.clone()),
        ("wrong_token", header("authorization", basic(&format!("{TOKEN}:guess"))), body.clone()),
        ("malformed_credentials", header("authorization", "Basic %%%not-base64".into()), body.clone()),
        ("missing_token", header("authorization", "Bearer ".into()), body.clone()),
        // Authentication comes first: an unauthenticated caller learns nothing about bodies.
        ("wrong_token", header("authorization", "Bearer wm-hook-guess".into()), b"{not json".to_vec()),
    ];
    assert_refused(WORKMARKET, cases, Source::WorkMarket).await;
}

#[tokio::test]
async fn bad_1099policy_signatures_are_401_without_detail() {
    let body = EVENT.as_bytes().to_vec();
    let now = jiff::Timestamp::now().as_second();
    let sign = |secret: &str, at: i64, body: &[u8]| webhook::sign(&Secret::new(secret), at, body);
    let header = |value: String| vec![(SIGNATURE_HEADER.to_owned(), value)];
    let genuine = webhook::signature(&Secret::new(SECRET), now, &body);
    let cases = vec![
        ("header is missing", vec![], body.clone()),
        ("s old", header(sign(SECRET, now - 3600, &body)), body.clone()),
        ("no signature matches", header(format!("t={now},v1={}", "3f".repeat(32))), body.clone()),
        ("no signature matches", header(sign(SECRET, now, b"{\"type\":\"policy.cancelled\"}")), body.clone()),
        ("no signature matches", header(sign("whsec_someone_else", now, &body)), body.clone()),
        ("header is malformed", header("garbage".into()), body.clone()),
        ("has no timestamp", header(format!("v1={genuine}")), body.clone()),
        ("has no v1 signature", header(format!("t={now},v0={}", "3f".repeat(32))), body.clone()),
        ("no signature matches", header(sign("whsec_someone_else", now, b"{not json")), b"{not json".to_vec()),
    ];
    assert_refused(TEN99POLICY, cases, Source::Ten99Policy).await;
}

#[tokio::test]
async fn a_receiver_without_secrets_refuses_everything() {
    let receiver = Receiver::with_credentials(Default::default(), READ_TIMEOUT).await;
    let (status, answer) = post(format!("{}{WORKMARKET}", receiver.url), &[bearer()], DELIVERY.into()).await;
    assert_eq!((status, answer.as_str()), (401, REFUSAL));
    let signed = signature_for(EVENT.as_bytes());
    let (status, answer) = post(format!("{}{TEN99POLICY}", receiver.url), &[signed], EVENT.into()).await;
    assert_eq!((status, answer.as_str()), (401, REFUSAL));
    assert_eq!(receiver.recorder.calls(), Vec::<String>::new());
    assert_eq!((receiver.counts(Source::WorkMarket).1, receiver.counts(Source::Ten99Policy).1), (1, 1));
}
