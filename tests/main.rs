//! Reddwarf's integration tests, gathered into one crate so they build once.
//!
//! - `store_contract`: the storage contract, against every backend, with the SIGKILL test.
//! - `api_http`: the API over HTTPS through the real router, including bad input.
//! - `kubectl`: the real kubectl binaries against `reddwarf serve`.
//! - `kubectl_scenarios`: every everyday kubectl workflow, on four kubectl versions.
//! - `openapi`: the OpenAPI v3 documents, through `kubectl explain`, `create -f` and `apply -f`.
//! - `python_client`: the Python `kubernetes` client against `reddwarf serve`.
//! - `kube_client`: kube-rs against `reddwarf serve`.
//! - `bench_tools`: every `reddwarf-bench` workload, at a small size, so the tools cannot rot.
//! - `agent`: the node agent end to end with `--runtime sim`: pods to Running and back,
//!   logs, injected host faults, and a SIGKILLed agent restarted.
//! - `agent_faults`: an in-process agent with test-only faults: a panicking pod actor.
//! - `fuzz`: the fuzz entry points on stable, with their corpus and seeded mutations.
//! - `join`: a node joining with a token from `reddwarf token create`, and refused tokens.
//! - `security`: authentication, node authorization, TLS verification by curl, Python and
//!   kubectl, overload (429) with heartbeats kept alive, `/metrics` and health checks.
//! - `smf`: the SMF manifests and method scripts (XML shape, `sh -n`, property → flag).
//! - `probes`: gRPC probes refused; an HTTP readiness probe end to end in sim mode.
#![allow(clippy::disallowed_methods, reason = "tests spawn the server, kubectl and python as real peers")]

mod support;

mod agent;
mod agent_faults;
mod api_http;
mod bench_tools;
mod fuzz;
mod join;
mod kube_client;
mod kubectl;
mod kubectl_scenarios;
mod openapi;
mod probes;
mod python_client;
mod security;
mod smf;
mod store_contract;
