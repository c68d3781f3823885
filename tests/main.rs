//! Reddwarf's integration tests, gathered into one crate so they build once.
//!
//! - `store_contract`: the storage contract, against every backend, with the SIGKILL test.

mod store_contract;
