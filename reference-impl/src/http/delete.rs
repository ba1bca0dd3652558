//! `POST /api/v2/delete`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Response;

use crate::engine::delete::{self as engine, DeleteRequest};
use crate::storage::Authorization;

use super::respond::{self, Encoder};
use super::{AppState, QueryParams};

pub async fn api_v2_delete(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let Some(auth) = parts.extensions.get::<Authorization>().cloned() else {
        return respond::error(
            &crate::engine::auth::unauthorized_access(),
            Encoder::Compact,
        );
    };
    let params = QueryParams::parse(parts.uri.query());
    let body = match super::body::read_limited(body, super::body::MAX_JSON_BODY_BYTES).await {
        Ok(b) => b,
        Err(super::body::BodyError::TooLarge) => {
            return respond::error(&super::body::json_too_large(), Encoder::Compact)
        }
        Err(super::body::BodyError::Read(m)) => {
            // `http/delete_handler.go`: a failed read is `invalid`, "error reading json body".
            let e = crate::api_error::ApiError::new(
                crate::api_error::Code::Invalid,
                format!("error reading json body: {m}"),
            );
            return respond::error(&e, Encoder::Compact);
        }
    };
    let request = DeleteRequest {
        org: params.get("org"),
        org_id: params.get("orgID"),
        bucket: params.get("bucket"),
        bucket_id: params.get("bucketID"),
        body: &body,
    };
    if state.config.flavor == crate::config::Flavor::Cloud {
        let now = state.clock.now_nanos();
        return match crate::engine::cloud::delete(
            &mut state.store(),
            &auth,
            &request,
            &state.config.cloud,
            now,
        ) {
            Ok(()) => respond::no_content(),
            Err(e) => respond::error(&e, Encoder::Compact),
        };
    }
    match engine::delete(&mut state.store(), &auth, &request) {
        Ok(()) => respond::no_content(),
        Err(e) => respond::error(&e, Encoder::Compact),
    }
}
