//! The host boundary: everything Reddwarf does to an illumos host goes through here.
//!
//! - [`exec`]: the [`exec::Executor`] trait and [`exec::ProcessExecutor`], the one place a
//!   process is spawned.
//! - [`profile`]: distribution differences and every fact the reference marks `[verify]`.
//! - One module per tool ([`zonecfg`], [`zoneadm`], [`zlogin`], [`dladm`], [`ipadm`],
//!   [`zfs`]): pure command builders (returning [`exec::CommandSpec`]s, argv only, never a
//!   shell line) and pure parsers of their output.
//! - [`runtime`]: [`runtime::IllumosRuntime`], idempotent and resumable steps over an
//!   `Arc<dyn Executor>`, each one deciding what to do from observation.
//! - [`fake`]: [`fake::FakeHost`], an `Executor` that emulates an illumos host in memory at
//!   the command level, for tests and `--runtime sim`.
//!
//! This module may use tokio (processes, time) but never actix.

pub mod dladm;
pub mod exec;
pub mod fake;
pub mod ipadm;
pub mod ofmt;
pub mod profile;
pub mod runtime;
pub mod zfs;
pub mod zlogin;
pub mod zoneadm;
pub mod zonecfg;
