//! `GET /debug/actors`: every live actor with its state, from the ActorDirectory;
//! `?kind=` filters, `?probe=1` pings each actor and marks the unresponsive ones. Admins
//! only: the gate (`api::auth`) refuses everyone outside `system:masters` with 403.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::api::ApiState;
use crate::api::request::Params;

/// How long a probed actor has to answer.
const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// `GET /debug/actors`.
pub async fn actors(req: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let params = Params::parse(req.query_string());
    let kind = params.non_empty("kind");
    let actors = if params.flag("probe") {
        state.directory.probe(kind, PROBE_TIMEOUT).await
    } else {
        state.directory.snapshot(kind)
    };
    let unresponsive = actors.iter().filter(|a| a.responsive == Some(false)).count();
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json!({"count": actors.len(), "unresponsive": unresponsive, "actors": actors}).to_string())
}
