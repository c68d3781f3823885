//! Field management on every write: who changed which fields (`metadata.managedFields`),
//! recorded as upstream's field manager records it, so that server-side apply can tell a
//! field another manager owns from one nobody cares about. The rules are
//! `model::apply`'s; this module picks the manager, the view of the object the write
//! touched (the main resource without its status, or the status), and the schema.

use actix_web::HttpRequest;
use jiff::Timestamp;
use serde_json::Value;

use crate::api::path::Route;
use crate::api::request::Params;
use crate::api::status::ApiError;
use crate::api::write::Part;
use crate::model::apply::{self, ApplyError, Writer, managed_fields_for_write, record_update, set_managed_fields};
use crate::model::patch::{TypeSchema, schema_for};
use crate::model::validation::FieldError;

/// The longest field manager name upstream accepts.
const MAX_FIELD_MANAGER: usize = 128;

/// Who is writing, through which part, and when.
pub(crate) struct FieldManager {
    manager: String,
    api_version: String,
    part: Part,
    now: Timestamp,
    schema: Option<&'static TypeSchema>,
}

/// The patch metadata of a resource's kind (core's for a version that shares it).
pub(crate) fn schema_of(route: &Route) -> Option<&'static TypeSchema> {
    schema_for(&route.def.api_version(), route.def.kind).or_else(|| schema_for("v1", route.def.kind))
}

impl FieldManager {
    /// The manager of a request: `fieldManager`, or upstream's default, the user agent's
    /// program name (`kubectl/v1.33.1 (...)` → `kubectl`).
    pub(crate) fn new(
        req: &HttpRequest,
        params: &Params,
        route: &Route,
        part: Part,
        now: Timestamp,
    ) -> Result<Self, ApiError> {
        let manager = match params.non_empty("fieldManager") {
            Some(manager) => manager.to_string(),
            None => {
                let agent = req.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("");
                let program = agent.split('/').next().unwrap_or("").trim();
                if program.is_empty() { "unknown".to_string() } else { program.to_string() }
            }
        };
        if manager.len() > MAX_FIELD_MANAGER {
            return Err(ApiError::bad_request(format!(
                "fieldManager: Too long: must have at most {MAX_FIELD_MANAGER} bytes"
            )));
        }
        Ok(Self { manager, api_version: route.def.api_version(), part, now, schema: schema_of(route) })
    }

    /// A manager that records nothing: for writes whose managedFields are already settled
    /// (server-side apply computes them itself).
    pub(crate) fn passthrough() -> Self {
        Self {
            manager: String::new(),
            api_version: String::new(),
            part: Part::Main,
            now: Timestamp::UNIX_EPOCH,
            schema: None,
        }
    }

    fn writer(&self) -> Writer<'_> {
        Writer {
            manager: &self.manager,
            api_version: &self.api_version,
            subresource: (self.part == Part::Status).then_some("status"),
            now: self.now,
        }
    }

    /// The part of an object this write's fields are counted in. A status write changes
    /// nothing but `status` (the rest is kept from the stored object), so only that
    /// subtree is compared: a pod's spec is most of its size, and the agent writes status
    /// several times per pod.
    fn view(&self, object: &Value, has_status: bool) -> Value {
        let Some(map) = object.as_object() else { return object.clone() };
        match self.part {
            Part::Status => {
                Value::Object(map.iter().filter(|(k, _)| *k == "status").map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            _ if has_status => {
                Value::Object(map.iter().filter(|(k, _)| *k != "status").map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            _ => object.clone(),
        }
    }

    /// Records this write (an Update) in `new`'s managedFields; `live` is the stored object,
    /// or None on create.
    pub(crate) fn record(&self, route: &Route, live: Option<&Value>, new: &mut Value) {
        let Some(schema) = self.schema else { return };
        let has_status = route.def.has_status;
        let starting = managed_fields_for_write(live, new, self.part == Part::Status);
        let live_view = live.map(|l| self.view(l, has_status));
        let entries = record_update(live_view.as_ref(), &self.view(new, has_status), starting, &self.writer(), schema);
        set_managed_fields(new, &entries);
    }

    /// Server-side apply of `config` onto `live` (None: create). Returns the object with
    /// its managedFields; defaulting and validation are the caller's.
    pub(crate) fn apply(
        &self,
        route: &Route,
        live: Option<&Value>,
        mut config: Value,
        force: bool,
    ) -> Result<Value, ApiError> {
        let schema = self
            .schema
            .ok_or_else(|| ApiError::unsupported_media_type_because("apply is not supported for this resource"))?;
        if route.def.has_status
            && let Some(map) = config.as_object_mut()
        {
            map.remove("status");
        }
        let managed = live.map(apply::managed_fields_of).transpose().map_err(|e| ApiError::internal(e.to_string()))?;
        let (object, _) = apply::apply(live, &config, managed.unwrap_or_default(), &self.writer(), force, schema)
            .map_err(|e| apply_error(route, e))?;
        Ok(object)
    }
}

fn apply_error(route: &Route, err: ApplyError) -> ApiError {
    match err {
        ApplyError::Conflicts(conflicts) => {
            let name = route.name.as_deref().unwrap_or("");
            let mut api = ApiError::conflict_because(route.subject(name), "");
            api.message = conflicts.message();
            api.details.causes = conflicts
                .causes()
                .into_iter()
                .map(|c| FieldError { reason: c.reason, message: c.message, field: c.field })
                .collect();
            api
        }
        ApplyError::BadRequest(message) => ApiError::bad_request(message),
        ApplyError::InvalidConfiguration(message) => ApiError::internal(message),
    }
}
