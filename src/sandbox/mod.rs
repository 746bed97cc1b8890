//! Faithful local simulators of WorkMarket and 1099Policy (DESIGN §3), served by
//! `coverbridge sandbox` and used in-process by the tests and the demo.

pub mod harness;
pub mod ten99policy;
pub mod workmarket;
