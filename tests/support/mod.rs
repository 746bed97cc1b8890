//! Shared test support. Each test crate uses part of it.
#![allow(dead_code)]

pub mod apiserver;
pub mod kube_api;
pub mod recording;
pub mod ten99policy;
pub mod workmarket;
pub mod world;
