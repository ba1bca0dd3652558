//! The measurement schemas of a case's explicit buckets, created through the schema API
//! (`POST /api/v2/buckets/{id}/schema/measurements`, cloud.md §3.2) the same way on every
//! target, in-process or by URL.

use std::collections::BTreeMap;

use super::{Context, Session};
use crate::case::LoadedCase;
use crate::fault::{Fault, FaultKind};
use crate::http::HttpRequest;

/// The schema-API requests that create the measurement schemas of a case's explicit buckets
/// (`POST /api/v2/buckets/{id}/schema/measurements`, cloud.md §3.2), the same on every target.
pub fn schema_requests(case: &LoadedCase, ctx: &Context, token: &str) -> Vec<HttpRequest> {
    let mut out = Vec::new();
    for b in &case.case.setup.buckets {
        let Some(info) = ctx.buckets.get(&b.name) else {
            continue;
        };
        for m in &b.measurements {
            out.push(HttpRequest {
                method: "POST".into(),
                path_and_query: format!("/api/v2/buckets/{}/schema/measurements", info.id),
                headers: vec![
                    ("Authorization".into(), format!("Token {token}")),
                    ("Content-Type".into(), "application/json".into()),
                ],
                body: m.to_json().to_string().into_bytes(),
            });
        }
    }
    out
}

/// Sends the schema requests of `schema_requests`; each must answer 201. Returns measurement
/// name → the ID the server gave it, for `{schema_id:NAME}`.
pub async fn create_schemas(
    session: &mut dyn Session,
    case: &LoadedCase,
    token: &str,
) -> Result<BTreeMap<String, String>, Fault> {
    let mut ids = BTreeMap::new();
    // The same walk as `schema_requests`, so names and requests pair up.
    let names: Vec<String> = case
        .case
        .setup
        .buckets
        .iter()
        .filter(|b| session.context().buckets.contains_key(&b.name))
        .flat_map(|b| b.measurements.iter().map(|m| m.name.clone()))
        .collect();
    for (req, name) in schema_requests(case, session.context(), token)
        .into_iter()
        .zip(names)
    {
        let path = req.path_and_query.clone();
        let resp = session.send(req).await?;
        if resp.status != 201 {
            return Err(Fault::new(
                FaultKind::Setup,
                format!(
                    "creating a measurement schema (POST {path}) answered {}: {}",
                    resp.status,
                    String::from_utf8_lossy(&resp.body)
                ),
            ));
        }
        let id = serde_json::from_slice::<serde_json::Value>(&resp.body)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_string));
        if let Some(id) = id {
            ids.entry(name).or_insert(id);
        }
    }
    Ok(ids)
}
