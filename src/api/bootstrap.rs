//! What a fresh cluster has before anyone asks: the namespaces `default`, `kube-system`,
//! `kube-public` and `kube-node-lease`. Creating them is idempotent, so every start runs it.

use serde_json::json;

use crate::api::objects::ServerMeta;
use crate::api::registry;
use crate::clock::Clock;
use crate::store::{Store, StoreError};

/// The namespaces every cluster has.
pub const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Creates the system namespaces that are missing.
pub async fn ensure_system_namespaces(store: &Store, clock: &Clock) -> Result<(), StoreError> {
    let def = registry::core("namespaces");
    for name in SYSTEM_NAMESPACES {
        let key = def.key(None, name);
        if store.get(&key).is_some() {
            continue;
        }
        let meta = ServerMeta { uid: uuid::Uuid::new_v4().to_string(), created: clock.now(), namespace: None };
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let object = def.codec.create(def, body, &meta).map_err(|e| StoreError::Invalid(e.message))?.object;
        match store.create(key, object).await {
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
