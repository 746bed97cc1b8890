//! Shared test support. Each test crate uses part of it.
#![allow(dead_code)]

pub mod cluster;
pub mod crd_validation;
pub mod kube_api;
pub mod platforms;
pub mod recording;
pub mod ten99policy;
pub mod tools;
pub mod workmarket;
pub mod world;

use std::time::{Duration, Instant};

/// coverbridge's clients for the running sandboxes (`running.client(…)`, `running.verifier()`).
#[allow(unused_imports)]
pub use coverbridge::sandbox_clients::{Ten99PolicySandboxClient, WorkMarketSandboxClient};

/// Polls `done` every 20 ms until it holds; panics naming `what` after `within`.
pub async fn eventually(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < until, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
