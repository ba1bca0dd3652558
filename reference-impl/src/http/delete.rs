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
    let param = |k: &str| params.get_bytes(k).map(<[u8]>::to_vec);
    let (org, org_id, bucket, bucket_id) = (
        param("org"),
        param("orgID"),
        param("bucket"),
        param("bucketID"),
    );
    let cloud = (state.config.flavor == crate::config::Flavor::Cloud).then_some(state.config.cloud);
    let now = state.clock.now_nanos();
    let result = state
        .with_store(move |store| {
            let request = DeleteRequest {
                org: org.as_deref(),
                org_id: org_id.as_deref(),
                bucket: bucket.as_deref(),
                bucket_id: bucket_id.as_deref(),
                body: &body,
            };
            match cloud {
                Some(config) => crate::engine::cloud::delete(store, &auth, &request, &config, now),
                None => engine::delete(store, &auth, &request),
            }
        })
        .await;
    match result {
        Ok(Ok(())) => respond::no_content(),
        Ok(Err(e)) | Err(e) => respond::error(&e, Encoder::Compact),
    }
}
