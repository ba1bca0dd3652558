//! The tenant endpoints (spec/v2.md §9.2–§9.4): `/api/v2/setup`, `/api/v2/orgs`,
//! `/api/v2/buckets`, `/api/v2/authorizations`, `/api/v2/me` and the users' password routes,
//! one file per resource. Handlers decode (Go's `encoding/json` texts, each endpoint's
//! wrapping), call the rules in `engine::tenancy` with the store held on a store thread,
//! and encode through `kithttp.API` (tab-indented JSON, Encoder B), the authorization handler
//! included (`authorization/http_server.go` uses `kithttp.NewAPI`).

mod authorizations;
mod buckets;
mod dbrps;
mod decode;
mod orgs;
mod setup;
pub mod shapes;
mod users;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{Response, StatusCode};

use crate::api_error::{ApiError, Code};
use crate::engine::tenancy::FindOptions;
use crate::model::Id;
use crate::storage::{Authorization, Store};

use super::json_out::J;
use super::respond::{self, Encoder};
use super::AppState;
use super::QueryParams;

pub use authorizations::{authorization_by_id, authorizations};
pub use buckets::{bucket_by_id, buckets};
pub use dbrps::{dbrp_by_id, dbrps};
pub use orgs::{org_by_id, orgs};
pub use setup::setup;
pub use users::{me, me_password, user_by_id, user_password, user_permissions, users};

type Resp = Response<Body>;

fn err(e: &ApiError) -> Resp {
    respond::error(e, Encoder::Indented)
}

fn ok(status: StatusCode, body: J) -> Resp {
    respond::json(status, body.indented())
}

/// A resource handler's outcome: a JSON body with its status, 204 without one, or the error.
fn reply(result: Result<(StatusCode, Option<J>), ApiError>) -> Resp {
    match result {
        Ok((status, Some(j))) => ok(status, j),
        Ok((_, None)) => respond::no_content(),
        Err(e) => err(&e),
    }
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(Code::Invalid, msg)
}

/// `influxdb.DecodeFindOptions` over a request's query (an empty parameter is an absent one).
fn find_options(q: &QueryParams) -> Result<FindOptions, ApiError> {
    let get = |k: &str| q.get(k).filter(|s| !s.is_empty());
    FindOptions::decode(get("offset"), get("after"), get("limit"), get("descending"))
}

/// A route's `{id}`: `platform.IDFromString` (400 with its text).
fn parse_id(raw: &str) -> Result<Id, ApiError> {
    Id::parse(raw).map_err(|e| invalid(e.to_string()))
}

/// The authorization the `/api/v2` middleware found (a token's, or a session's).
fn caller(parts: &Parts) -> Result<Authorization, ApiError> {
    parts
        .extensions
        .get::<Authorization>()
        .cloned()
        .ok_or_else(crate::engine::auth::unauthorized_access)
}

/// The request's parts and its body (a small JSON document, capped).
async fn body_of(req: Request) -> Result<(Parts, bytes::Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let body = super::body::read_json_body(body).await?;
    Ok((parts, body))
}

/// The parts, the body and the caller: what every authenticated handler starts with.
async fn authenticated(req: Request) -> Result<(Parts, bytes::Bytes, Authorization), ApiError> {
    let (parts, body) = body_of(req).await?;
    let auth = caller(&parts)?;
    Ok((parts, body, auth))
}

/// What every `/{id}` handler starts with: the method, the body, the caller (the middleware's
/// authorization) and the route's ID, parsed (400 with `IDFromString`'s text).
async fn by_id(
    req: Request,
    raw_id: &str,
) -> Result<(axum::http::Method, bytes::Bytes, Authorization, Id), ApiError> {
    let method = req.method().clone();
    let (_, body, auth) = authenticated(req).await?;
    Ok((method, body, auth, parse_id(raw_id)?))
}

/// Runs `f` with the store held, on a store thread ([`AppState::with_store`]): waiting for the lock while a large
/// write holds it must not take an async worker away from `/health` and the other routes.
async fn locked<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    state.with_store(f).await.and_then(|r| r)
}
