//! The endpoints outside the resource tree: `/version` (which picks the kubectl the gcloud
//! dispatcher runs, so it reports a version we test: v1.33) and the health checks
//! `/livez`, `/readyz` and `/healthz`, shaped like upstream's: `ok` or a 500; `?verbose`
//! lists each check (`[+]ping ok`, `[+]store ok`, ..., `readyz check passed`);
//! `?exclude=NAME` skips one; `/readyz/NAME` runs one. The reasons of failed checks are
//! shown only to authenticated callers (upstream withholds them from everyone).

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::api::ApiState;
use crate::api::request::Params;
use crate::api::status::ApiError;
use crate::logic::authorize::UserInfo;

/// The Kubernetes version Reddwarf implements.
pub const KUBERNETES_VERSION: &str = "v1.33.0";

/// `GET /version` (and `/version/`, which the Python client uses).
pub async fn version() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(
        json!({
            "major": "1",
            "minor": "33",
            "gitVersion": KUBERNETES_VERSION,
            "gitCommit": format!("reddwarf-{}", env!("CARGO_PKG_VERSION")),
            "gitTreeState": "clean",
            "buildDate": "2026-11-27T00:00:00Z",
            "goVersion": "n/a (rust)",
            "compiler": "rustc",
            "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        })
        .to_string(),
    )
}

/// One health check's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The check's name, as in `/readyz/<name>` and `?exclude=<name>`.
    pub name: &'static str,
    /// Ok, or why it failed.
    pub result: Result<(), String>,
}

/// The checks of one endpoint, with their current outcomes.
fn checks(endpoint: &str, state: &ApiState) -> Vec<Check> {
    let ping = Check { name: "ping", result: Ok(()) };
    let store = Check { name: "store", result: state.store.health() };
    let shutdown = Check {
        name: "shutdown",
        result: if *state.shutdown.borrow() { Err("the server is shutting down".into()) } else { Ok(()) },
    };
    match endpoint {
        "livez" => vec![ping],
        "readyz" => vec![ping, store, shutdown],
        _ => vec![ping, store],
    }
}

/// The body and success of a health endpoint, as upstream writes them.
pub fn render_health(
    endpoint: &str,
    checks: &[Check],
    verbose: bool,
    excluded: &[&str],
    reveal: bool,
) -> (bool, String) {
    let mut passed = true;
    let mut lines = String::new();
    for check in checks {
        if excluded.contains(&check.name) {
            lines.push_str(&format!("[+]{} excluded: ok\n", check.name));
            continue;
        }
        match &check.result {
            Ok(()) => lines.push_str(&format!("[+]{} ok\n", check.name)),
            Err(reason) => {
                passed = false;
                let reason = if reveal { reason.as_str() } else { "reason withheld" };
                lines.push_str(&format!("[-]{} failed: {reason}\n", check.name));
            }
        }
    }
    for name in excluded {
        if !checks.iter().any(|c| c.name == *name) {
            lines.push_str(&format!("warn: some health checks cannot be excluded: no matches for \"{name}\"\n"));
        }
    }
    if passed {
        if verbose { (true, format!("{lines}{endpoint} check passed\n")) } else { (true, "ok".into()) }
    } else {
        (false, format!("{lines}{endpoint} check failed\n"))
    }
}

fn text(ok: bool, body: String) -> HttpResponse {
    let mut response = if ok { HttpResponse::Ok() } else { HttpResponse::InternalServerError() };
    response.content_type("text/plain; charset=utf-8").insert_header(("X-Content-Type-Options", "nosniff")).body(body)
}

fn endpoint_of(req: &HttpRequest) -> &'static str {
    match req.path().trim_start_matches('/').split('/').next() {
        Some("livez") => "livez",
        Some("readyz") => "readyz",
        _ => "healthz",
    }
}

/// `GET /livez`, `/readyz` and `/healthz`.
pub async fn health(req: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let endpoint = endpoint_of(&req);
    let params = Params::parse(req.query_string());
    let excluded: Vec<&str> = params.all("exclude").collect();
    let reveal = req.extensions().get::<UserInfo>().is_some();
    let (ok, body) =
        render_health(endpoint, &checks(endpoint, &state), params.get("verbose").is_some(), &excluded, reveal);
    text(ok, body)
}

/// `GET /livez/<check>`, `/readyz/<check>` and `/healthz/<check>`: one check.
pub async fn health_check(
    req: HttpRequest,
    name: web::Path<(String,)>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let endpoint = endpoint_of(&req);
    let checks = checks(endpoint, &state);
    let check = checks.iter().find(|c| c.name == name.0).ok_or_else(ApiError::no_such_resource)?;
    Ok(match &check.result {
        Ok(()) => text(true, "ok".into()),
        Err(reason) => text(false, format!("internal server error: {reason}\n")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &'static str, result: Result<(), &str>) -> Check {
        Check { name, result: result.map_err(str::to_string) }
    }

    #[test]
    fn health_bodies_follow_upstream() {
        let good = [check("ping", Ok(())), check("store", Ok(()))];
        assert_eq!(render_health("readyz", &good, false, &[], false), (true, "ok".into()));
        assert_eq!(
            render_health("readyz", &good, true, &[], false),
            (true, "[+]ping ok\n[+]store ok\nreadyz check passed\n".into())
        );
        let bad = [check("ping", Ok(())), check("store", Err("disk full"))];
        assert_eq!(
            render_health("readyz", &bad, false, &[], false),
            (false, "[+]ping ok\n[-]store failed: reason withheld\nreadyz check failed\n".into())
        );
        assert_eq!(
            render_health("readyz", &bad, true, &[], true),
            (false, "[+]ping ok\n[-]store failed: disk full\nreadyz check failed\n".into())
        );
        assert_eq!(
            render_health("readyz", &bad, true, &["store"], false),
            (true, "[+]ping ok\n[+]store excluded: ok\nreadyz check passed\n".into())
        );
        let (ok, body) = render_health("livez", &good, true, &["bogus"], false);
        assert!(ok);
        assert!(body.contains("no matches for \"bogus\""), "{body}");
    }
}
