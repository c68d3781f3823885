//! The typed write pipeline. A body is decoded into its `k8s-openapi` struct (a body that
//! does not decode is a 400, as upstream), then given the server's metadata, defaulted and
//! validated by the kind's [`ObjectRules`], and encoded back to JSON for the store. Unknown
//! fields do not survive the round trip, exactly as with the real apiserver.

use std::marker::PhantomData;

use bytes::Bytes;
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;

use crate::api::registry::ResourceDef;
use crate::api::status::{ApiError, Subject};
use crate::model::convert::{event_core_to_v1, event_v1_field_to_core, event_v1_to_core};
use crate::model::k8s::core::v1::Event as CoreEvent;
use crate::model::k8s::events::v1::Event as EventV1;
use crate::model::rules::ObjectRules;
use crate::model::validation::FieldError;

/// Server-assigned metadata for a new object.
#[derive(Clone, Debug)]
pub struct ServerMeta {
    /// The new object's uid.
    pub uid: String,
    /// Its creation time.
    pub created: Timestamp,
    /// Its namespace (None for cluster-scoped resources).
    pub namespace: Option<String>,
}

/// An object ready to store, and the fields of the request that its type does not have
/// (dropped, as upstream; `fieldValidation` decides whether that is an error).
#[derive(Debug)]
pub struct Prepared {
    /// The object to store.
    pub object: Value,
    /// Paths of unknown fields in the request, such as `spec.containers[0].bogus`.
    pub unknown_fields: Vec<String>,
}

/// Decoding, defaulting and validation for one kind, with the kind erased.
pub trait Codec: Send + Sync {
    /// Turns a create body into the object to store.
    fn create(&self, def: &ResourceDef, body: Value, meta: &ServerMeta) -> Result<Prepared, ApiError>;

    /// Turns a changed object into the object to store, given the stored `current` one.
    fn update(&self, def: &ResourceDef, new: Value, current: &Value) -> Result<Prepared, ApiError>;

    /// Decodes and re-encodes without rules: what a typed client would read back.
    fn normalize(&self, def: &ResourceDef, value: Value) -> Result<Value, ApiError>;

    /// A stored object as this resource's clients see it. The identity, except for a
    /// resource that is another version of a shared stored type.
    fn present(&self, stored: Value) -> Value {
        stored
    }

    /// [`Codec::present`] on encoded bytes; the identity is free.
    fn present_bytes(&self, stored: &Bytes) -> Bytes {
        stored.clone()
    }

    /// The stored field a field selector of this resource names.
    fn stored_field(&self, field: &str) -> String {
        field.to_string()
    }

    /// The OpenAPI schema of the kind clients send and receive: a `$ref` to it, with the
    /// schema and everything it references added to `generator` (see `api::openapi`).
    fn schema(&self, generator: &mut SchemaGenerator) -> Schema;
}

/// The [`Codec`] of a `k8s-openapi` type with [`ObjectRules`].
pub struct Typed<K>(pub PhantomData<fn() -> K>);

fn subject<'a>(def: &'a ResourceDef, name: &'a str) -> Subject<'a> {
    Subject { resource: def.plural, group: def.group, kind: def.kind, name }
}

fn decode<K: ObjectRules>(def: &ResourceDef, value: Value) -> Result<K, ApiError> {
    decode_as(def, value)
}

/// Renders a serde_ignored path the way upstream names fields (`spec.containers[0].x`).
fn field_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => {
            let parent = field_path(parent);
            if parent.is_empty() { key.clone() } else { format!("{parent}.{key}") }
        }
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => field_path(parent),
    }
}

/// Decodes like [`decode_as`], collecting the paths of fields the type does not have.
fn decode_tracking<T: serde::de::DeserializeOwned>(
    def: &ResourceDef,
    value: Value,
) -> Result<(T, Vec<String>), ApiError> {
    let mut unknown = Vec::new();
    let decoded =
        serde_ignored::deserialize(value, |path| unknown.push(field_path(&path))).map_err(|e: serde_json::Error| {
            ApiError::bad_request(format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: {e}",
                kind = def.kind,
                version = def.version
            ))
        })?;
    Ok((decoded, unknown))
}

fn encode<K: ObjectRules>(object: &K) -> Result<Value, ApiError> {
    serde_json::to_value(object).map_err(ApiError::internal)
}

fn check<K: ObjectRules>(def: &ResourceDef, object: &K, old: Option<&K>) -> Result<(), ApiError> {
    let errors = object.all_errors(old);
    if errors.is_empty() {
        Ok(())
    } else {
        let name = object.metadata().name.clone().unwrap_or_default();
        Err(ApiError::invalid(subject(def, &name), errors))
    }
}

impl<K: ObjectRules + JsonSchema> Codec for Typed<K> {
    fn create(&self, def: &ResourceDef, body: Value, server: &ServerMeta) -> Result<Prepared, ApiError> {
        let (mut object, unknown_fields): (K, _) = decode_tracking(def, body)?;
        let meta = object.metadata_mut();
        meta.uid = Some(server.uid.clone());
        meta.creation_timestamp = Some(Time(server.created));
        meta.resource_version = None;
        meta.self_link = None;
        meta.deletion_timestamp = None;
        meta.deletion_grace_period_seconds = None;
        meta.namespace = server.namespace.clone();
        meta.generation = K::TRACKS_GENERATION.then_some(1);
        object.apply_defaults(true);
        check(def, &object, None)?;
        Ok(Prepared { object: encode(&object)?, unknown_fields })
    }

    fn update(&self, def: &ResourceDef, new: Value, current: &Value) -> Result<Prepared, ApiError> {
        let spec_changed = new.get("spec") != current.get("spec");
        let (mut object, unknown_fields): (K, _) = decode_tracking(def, new)?;
        let old: K = decode(def, current.clone())?;
        let (old_meta, meta) = (old.metadata(), object.metadata_mut());
        if meta.uid.as_deref().is_some_and(|u| !u.is_empty()) && meta.uid != old_meta.uid {
            let name = old_meta.name.clone().unwrap_or_default();
            return Err(ApiError::conflict_because(
                subject(def, &name),
                &format!(
                    "Precondition failed: UID in precondition: {}, UID in object meta: {}",
                    meta.uid.as_deref().unwrap_or(""),
                    old_meta.uid.as_deref().unwrap_or("")
                ),
            ));
        }
        meta.uid = old_meta.uid.clone();
        meta.creation_timestamp = old_meta.creation_timestamp.clone();
        meta.deletion_timestamp = old_meta.deletion_timestamp.clone();
        meta.deletion_grace_period_seconds = old_meta.deletion_grace_period_seconds;
        meta.namespace = old_meta.namespace.clone();
        meta.resource_version = None;
        meta.self_link = None;
        meta.generation = if K::TRACKS_GENERATION {
            Some(old_meta.generation.unwrap_or(1) + i64::from(spec_changed))
        } else {
            old_meta.generation
        };
        if old_meta.deletion_timestamp.is_some() {
            let added = meta.finalizers.iter().flatten().any(|f| !old_meta.finalizers.iter().flatten().any(|o| o == f));
            if added {
                return Err(ApiError::invalid(
                    subject(def, old_meta.name.as_deref().unwrap_or("")),
                    vec![FieldError::forbidden(
                        "metadata.finalizers",
                        "no new finalizers can be added if the object is being deleted",
                    )],
                ));
            }
        }
        object.apply_defaults(false);
        check(def, &object, Some(&old))?;
        Ok(Prepared { object: encode(&object)?, unknown_fields })
    }

    fn normalize(&self, def: &ResourceDef, value: Value) -> Result<Value, ApiError> {
        let object: K = decode(def, value)?;
        encode(&object)
    }

    fn schema(&self, generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<K>()
    }
}

/// `events.k8s.io/v1` Events: decoded and validated in their own version, stored as core
/// `v1` Events (see `model::convert`), presented back converted.
pub struct EventsV1;

const CORE_EVENTS: Typed<CoreEvent> = Typed(PhantomData);

impl EventsV1 {
    /// Decodes the body as an events.k8s.io/v1 Event and applies the rules that version
    /// adds: an event time and a reporting controller are required.
    fn check_v1(def: &ResourceDef, value: &Value) -> Result<Vec<String>, ApiError> {
        let (event, unknown): (EventV1, _) = decode_tracking(def, value.clone())?;
        let mut errors = Vec::new();
        if event.event_time.is_none() {
            errors.push(FieldError::required("eventTime", ""));
        }
        if event.reporting_controller.as_deref().unwrap_or("").is_empty() {
            errors.push(FieldError::required("reportingController", ""));
        }
        if errors.is_empty() {
            return Ok(unknown);
        }
        let name = event.metadata.name.unwrap_or_default();
        Err(ApiError::invalid(subject(def, &name), errors))
    }
}

fn decode_as<T: serde::de::DeserializeOwned>(def: &ResourceDef, value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| {
        ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {e}",
            kind = def.kind,
            version = def.version
        ))
    })
}

impl Codec for EventsV1 {
    fn create(&self, def: &ResourceDef, body: Value, meta: &ServerMeta) -> Result<Prepared, ApiError> {
        let unknown_fields = Self::check_v1(def, &body)?;
        let core = CORE_EVENTS.create(def, event_v1_to_core(&body), meta)?;
        Ok(Prepared { object: core.object, unknown_fields })
    }

    fn update(&self, def: &ResourceDef, new: Value, current: &Value) -> Result<Prepared, ApiError> {
        let unknown_fields = Self::check_v1(def, &new)?;
        let core = CORE_EVENTS.update(def, event_v1_to_core(&new), current)?;
        Ok(Prepared { object: core.object, unknown_fields })
    }

    fn normalize(&self, def: &ResourceDef, value: Value) -> Result<Value, ApiError> {
        let event: EventV1 = decode_as(def, value)?;
        serde_json::to_value(event).map_err(ApiError::internal)
    }

    fn present(&self, stored: Value) -> Value {
        event_core_to_v1(&stored)
    }

    fn present_bytes(&self, stored: &Bytes) -> Bytes {
        let value: Value = serde_json::from_slice(stored).unwrap_or(Value::Null);
        Bytes::from(serde_json::to_vec(&self.present(value)).unwrap_or_default())
    }

    fn stored_field(&self, field: &str) -> String {
        event_v1_field_to_core(field)
    }

    fn schema(&self, generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<EventV1>()
    }
}

/// A timestamp as the API writes `metav1.Time` (RFC 3339, whole seconds, UTC).
pub fn format_time(timestamp: Timestamp) -> String {
    serde_json::to_value(Time(timestamp)).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}
