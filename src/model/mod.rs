//! The Kubernetes data model as Reddwarf sees it: the wire types (re-exported from
//! `k8s-openapi`), object names, quantities, label and field selectors, defaulting and
//! validation. Nothing here may import actix, tokio, sled or the process API, or read a
//! clock: everything is a pure function of its arguments.

pub mod apply;
pub mod brands;
pub mod convert;
pub mod defaults;
pub mod fields;
pub mod labels;
pub mod names;
pub mod patch;
pub mod probes;
pub mod quantity;
pub mod rules;
pub mod validation;
pub mod zone_annotations;

/// The Kubernetes wire types, from `k8s-openapi` (API version v1.33).
pub use k8s_openapi::api as k8s;
pub use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
