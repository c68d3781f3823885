//! Pure decisions. Every function here is a deterministic function of its arguments: time
//! (`now`) and randomness arrive as arguments, nothing reads a clock or does IO, and
//! nothing may import actix, tokio, sled or the process API. The shells (API handlers and
//! actors) gather inputs, call these, and carry out what they return.

pub mod authorize;
pub mod backoff;
pub mod binding;
pub mod deletion;
pub mod events;
pub mod inflight;
pub mod ipam;
pub mod join_token;
pub mod lifecycle;
pub mod naming;
pub mod node_health;
pub mod probe;
pub mod schedule;
pub mod zone_plan;
