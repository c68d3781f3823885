//! Reddwarf's integration tests, gathered into one crate so they build once.
//!
//! - `store_contract`: the storage contract, against every backend, with the SIGKILL test.
#![allow(clippy::disallowed_methods, reason = "tests spawn the server, kubectl and python as real peers")]

mod store_contract;
