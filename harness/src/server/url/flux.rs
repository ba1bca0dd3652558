//! The Flux read adapter: landed rows and `_monitoring.rejected_points` read back through
//! `POST /api/v2/query`, the answer parsed as strict annotated CSV (`csv.rs`).

use serde_json::json;

use super::client::HttpClient;
use crate::fault::{Fault, FaultKind};
use crate::http::{encode, preview, HttpRequest};
use crate::observe::Row;

/// Reads rows back with a Flux query through `POST /api/v2/query` (annotated CSV).
pub async fn read(http: &HttpClient, org: &str, flux: String) -> Result<Vec<Row>, Fault> {
    let body = json!({
        "query": flux,
        "type": "flux",
        "dialect": {"annotations": ["datatype", "group", "default"]},
    });
    let resp = http
        .call(HttpRequest {
            method: "POST".into(),
            path_and_query: format!("/api/v2/query?org={}", encode(org)),
            headers: vec![
                http.auth(),
                ("Content-Type".into(), "application/json".into()),
                ("Accept".into(), "application/csv".into()),
            ],
            body: body.to_string().into_bytes(),
        })
        .await?;
    if resp.status != 200 {
        return Err(Fault::new(
            FaultKind::Unparsable,
            format!(
                "reading back with Flux (/api/v2/query) answered {}: {}; use --read none to skip reading back",
                resp.status,
                preview(&resp.body)
            ),
        ));
    }
    let text = crate::http::lossy(&resp.body);
    super::csv::landed_rows(&text).map_err(|e| {
        Fault::new(
            FaultKind::Unparsable,
            format!("the query answer is not valid annotated CSV: {e}"),
        )
    })
}
