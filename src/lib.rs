//! Reddwarf: a Kubernetes-compatible control plane and node agent for illumos, where each
//! pod runs as an illumos zone.
//!
//! The crate is layered (see `ARCHITECTURE.md` §2); each layer may use only those to its left:
//!
//! ```text
//! model  <-  logic  <-  store, illumos  <-  actors  <-  api  <-  main
//! ```
//!
//! - [`model`]: Kubernetes types, selectors, names and validation. No IO, no clock.
//! - [`logic`]: pure decisions. Time and randomness arrive as arguments.
//! - [`store`]: the durable, revisioned object store and its watch cache.
//! - [`illumos`]: the host boundary (commands, parsers, and the in-memory `FakeHost`).
//! - [`actors`]: the actix shells that run the decisions.
//! - [`api`]: the Kubernetes HTTP API.
//! - [`fuzzing`]: the byte-level entry points the fuzz targets and `tests/fuzz.rs` share.
//! - [`join`]: a node joining with a token (the agent's side); [`tokens`]: creating them.
//! - [`durable_file`]: crash-safe whole-file writes for small state files.
//! - [`metrics`]: the shared Prometheus registry every layer above `logic` observes into.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod actors;
pub mod api;
pub mod clock;
pub mod durable_file;
pub mod fuzzing;
pub mod illumos;
pub mod join;
pub mod logic;
pub mod metrics;
pub mod model;
pub mod store;
pub mod tokens;
