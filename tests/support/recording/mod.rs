//! Support that records what the code under test did: the log lines it wrote, and what the
//! webhook receiver asked of the runtime.

pub mod logs;
pub mod receiver;
