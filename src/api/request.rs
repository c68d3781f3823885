//! Reading requests: the body (size-limited, decoded by content type), the query
//! parameters, and the content negotiation kubectl relies on (`as=Table`, aggregated
//! discovery).

use actix_web::HttpRequest;
use actix_web::error::PayloadError;
use actix_web::web::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use serde_json::Value;

use crate::api::status::ApiError;

/// The largest request body accepted (3 MiB, as upstream).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Reads the whole body, refusing more than `limit` bytes. `payload` is a handler's
/// `web::Payload` or a middleware's `dev::Payload`.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: impl Stream<Item = Result<Bytes, PayloadError>> + Unpin,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared =
        req.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::too_large(limit));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The media type of the request body, without parameters; a missing Content-Type means
/// JSON, as upstream.
pub fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "application/json".into())
}

/// Decodes an object body. `kind` names what was expected, for the error message.
pub fn decode_object(media_type: &str, body: &[u8], kind: &str) -> Result<Value, ApiError> {
    let value: Value = match media_type {
        "application/json" | "*/*" => serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!(
                "the object provided is unrecognized (must be of type {kind}): couldn't get version/kind; json parse error: {e}"
            ))
        })?,
        "application/yaml" | "application/x-yaml" | "text/yaml" => serde_yaml::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("the object provided is unrecognized (must be of type {kind}): yaml: {e}"))
        })?,
        crate::api::protobuf::CONTENT_TYPE => crate::api::protobuf::decode_body(body).map_err(|e| match e {
            crate::api::protobuf::ProtobufError::UnknownKind { .. } => ApiError::unsupported_media_type_because(e.to_string()),
            other => ApiError::bad_request(format!("the object provided is unrecognized (must be of type {kind}): {other}")),
        })?,
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    if !value.is_object() {
        return Err(ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {kind}): the body is not a JSON object"
        )));
    }
    Ok(value)
}

/// Query parameters, keeping repeats.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a query string.
    pub fn parse(query: &str) -> Self {
        Self(form_urlencoded::parse(query.as_bytes()).into_owned().collect())
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of `key`.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A boolean parameter (`true`/`1`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | "True"))
    }

    /// An integer parameter.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.non_empty(key) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid value for {key}: {v:?}: not an integer"))),
        }
    }

    /// True when `dryRun=All` was asked for; any other dry-run value is an error.
    pub fn dry_run(&self) -> Result<bool, ApiError> {
        let mut dry = false;
        for value in self.all("dryRun") {
            match value {
                "All" => dry = true,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid dryRun value: {other:?}: supported values: \"All\""
                    )));
                }
            }
        }
        Ok(dry)
    }
}

/// One entry of an Accept header: the media type and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRange {
    /// `application/json`.
    pub media_type: String,
    /// The `;k=v` parameters.
    pub params: Vec<(String, String)>,
}

impl MediaRange {
    /// A parameter's value.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The Accept header, in order.
pub fn accept(req: &HttpRequest) -> Vec<MediaRange> {
    let header = req.headers().get("accept").and_then(|v| v.to_str().ok()).unwrap_or("");
    parse_accept(header)
}

/// Parses an Accept header value.
pub fn parse_accept(header: &str) -> Vec<MediaRange> {
    header
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.split(';').map(str::trim);
            let media_type = parts.next()?.to_ascii_lowercase();
            if media_type.is_empty() {
                return None;
            }
            let params = parts
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            Some(MediaRange { media_type, params })
        })
        .collect()
}

/// True when the client asked for a `meta.k8s.io` Table (kubectl get).
pub fn wants_table(ranges: &[MediaRange]) -> bool {
    ranges.iter().any(|r| {
        r.media_type == "application/json"
            && r.param("as") == Some("Table")
            && r.param("g") == Some("meta.k8s.io")
            && matches!(r.param("v"), Some("v1" | "v1beta1"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_negotiation() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert!(wants_table(&parse_accept(kubectl)));
        assert!(!wants_table(&parse_accept("application/json")));
        assert!(!wants_table(&parse_accept("application/json;as=Table;v=v2;g=meta.k8s.io")));
    }

    #[test]
    fn bodies() {
        assert!(decode_object("application/json", br#"{"a":1}"#, "Pod").is_ok());
        let err = decode_object("application/json", b"{nope", "Pod").unwrap_err();
        assert_eq!(err.code, 400);
        assert!(err.message.starts_with("the object provided is unrecognized (must be of type Pod)"));
        assert_eq!(decode_object("application/json", b"[1]", "Pod").unwrap_err().code, 400);
        assert_eq!(
            decode_object("application/yaml", b"metadata:\n  name: x\n", "Pod").unwrap()["metadata"]["name"],
            "x"
        );
        assert_eq!(decode_object("text/plain", b"x", "Pod").unwrap_err().code, 415);
        assert_eq!(decode_object("application/vnd.kubernetes.protobuf", b"{}", "Pod").unwrap_err().code, 400);
        let configmap = hex::decode("6b3873000a0f0a0276311209436f6e6669674d6170121d0a130a03636d3112001a0022002a0032003800420012060a01611201621a002200").unwrap();
        let decoded = decode_object("application/vnd.kubernetes.protobuf", &configmap, "ConfigMap").unwrap();
        assert_eq!(decoded["data"]["a"], "b");
    }

    #[test]
    fn params() {
        let p = Params::parse("labelSelector=app%3Dweb&dryRun=All&limit=5&watch=true&command=ls&command=%2F");
        assert_eq!(p.get("labelSelector"), Some("app=web"));
        assert!(p.dry_run().unwrap());
        assert_eq!(p.int("limit").unwrap(), Some(5));
        assert!(p.flag("watch"));
        assert_eq!(p.all("command").collect::<Vec<_>>(), ["ls", "/"]);
        assert!(Params::parse("limit=x").int("limit").is_err());
        assert!(Params::parse("dryRun=Some").dry_run().is_err());
    }
}
