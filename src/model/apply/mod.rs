//! Server-side apply and field management (`metadata.managedFields`), as pure functions:
//! which manager owns which field, what an update takes over, and how an applied
//! configuration merges into an object, prunes what its manager gave up, and conflicts with
//! other managers. The semantics are structured-merge-diff's and the apiserver's field
//! manager's; list semantics come from the patch metadata in [`crate::model::patch::schema`].
//!
//! - [`element`] and [`fieldset`]: field paths and sets of them, and the `FieldsV1` format;
//! - `shape`: how the schema makes a value a leaf, a map or a keyed list;
//! - [`fields`]: the fields of an object, and what changed between two versions;
//! - `merge`: merging a configuration in, removing fields;
//! - [`managed`]: the entries, and the `Update` operation every write records;
//! - [`conflict`]: apply conflicts and the 409 `Status` reporting them;
//! - [`last_applied`]: the crossing from client-side apply for the manager `kubectl`;
//! - [`server_side`]: the `Apply` operation.
//!
//! Nothing here does IO or reads a clock: the time to record arrives in a [`Writer`].

pub mod conflict;
pub mod element;
pub mod fields;
pub mod fieldset;
pub mod last_applied;
pub mod managed;
mod merge;
pub mod server_side;
mod shape;

pub use conflict::{Conflict, ConflictCause, ConflictingManager, Conflicts};
pub use element::PathElement;
pub use fields::{Comparison, changed_fields, compare, fields_of};
pub use fieldset::{FieldPath, FieldSet, FieldsV1Error};
pub use last_applied::LAST_APPLIED_ANNOTATION;
pub use managed::{
    ManagedFieldsEntry, ManagedFieldsError, Operation, Writer, decode_managed_fields, managed_fields_for_write,
    managed_fields_of, record_update, set_managed_fields,
};
pub use server_side::{ApplyError, BEFORE_FIRST_APPLY, apply};
