//! The actix shells. Each actor owns an entity's lifecycle, timers and failure handling,
//! feeds its inputs to the pure decisions in `logic`, and carries out the effects they
//! return. Shared machinery:
//!
//! - [`directory`]: every live actor and its state, for `/debug/actors`;
//! - [`supervision`]: parent-driven respawn with backoff, and the singleton watchdog;
//! - [`coalesce`]: newest-value slots and content-free kicks, so mailboxes stay O(1);
//! - [`events`]: the Event recorder.

pub mod coalesce;
pub mod directory;
pub mod events;
pub mod namespaces;
pub mod node_lifecycle;
pub mod scheduler;
pub mod supervision;
