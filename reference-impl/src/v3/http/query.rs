//! The query endpoints (placeholder until the planner lands).

use std::sync::Arc;

use axum::body::Body;
use axum::http::Response;

use super::{plain, Incoming, Routed};
use crate::http::AppState;

pub async fn query_sql(_state: &Arc<AppState>, _req: Incoming) -> Routed {
    Err(plain(501, "not yet"))
}
pub async fn query_influxql(_state: &Arc<AppState>, _req: Incoming) -> Routed {
    Err(plain(501, "not yet"))
}
pub async fn v1_query(_state: &Arc<AppState>, _req: Incoming) -> Response<Body> {
    plain(501, "not yet")
}
