//! coverbridge: a Kubernetes operator that makes sure every WorkMarket work order carries
//! insurance from 1099Policy before work begins.

pub mod audit;
pub mod config;
pub mod connect;
pub mod demo;
pub mod http;
pub mod insurance;
pub mod metrics;
pub mod money;
pub mod preview;
pub mod reconcile;
pub mod resources;
pub mod runtime;
#[cfg(feature = "sandbox")]
pub mod sandbox_clients;
pub mod secret;
pub mod server;
pub mod table;
pub mod telemetry;
pub mod ten99policy;
pub mod webhooks;
pub mod workmarket;
