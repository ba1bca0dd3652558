//! `GET /api/v2/me` and the password routes (`tenant/http_server_user.go`): `POST
//! /api/v2/users/{id}/password` sets a password; `PUT /api/v2/users/{id}/password` and `PUT
//! /api/v2/me/password` change one, the old password given as HTTP Basic credentials (so only
//! a session can, the `Authorization` header of a token request carrying the token).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::http::{Response, StatusCode};

use crate::api_error::{ApiError, Code};
use crate::engine::tenancy::users;
use crate::http::AppState;
use crate::model::Id;

use super::decode::{decode_struct, str_field};
use super::shapes::user_json;
use super::{authenticated, caller, err, locked, ok, Resp};

/// `GET /api/v2/me` (`MeHandler.handleMe`): the caller's user, read through the authorized
/// user service (`read:users/<id>`: operator tokens and sessions have it, an org's
/// all-access token as `influx auth create --all-access` makes it too).
pub async fn me(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    let auth = match caller(&req.into_parts().0) {
        Ok(a) => a,
        Err(e) => return err(&e),
    };
    let result = locked(&state, move |store| users::me(store, &auth).map(user_json)).await;
    match result {
        Ok(j) => ok(StatusCode::OK, j),
        Err(e) => err(&e),
    }
}

/// `POST` (`handlePostUserPassword`) or `PUT` (`handlePutUserPassword`)
/// `/api/v2/users/{id}/password`.
pub async fn user_password(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    req: Request,
) -> Resp {
    let method = req.method().clone();
    let (parts, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    if method == axum::http::Method::PUT {
        return put_password(&state, &parts, Some(&raw_id), &body, auth).await;
    }
    // The body first (`passwordSetRequest`; a decode error is `invalid` with Go's text), then
    // the route's ID (a code-less error, so `internal error`), then the rules.
    let wrap = |m: String| ApiError::new(Code::Invalid, m);
    let password = match decode_struct(&body, "tenant.passwordSetRequest", wrap)
        .and_then(|v| str_field(&v, "password", "passwordSetRequest", &wrap))
    {
        Ok(p) => p.unwrap_or_default(),
        Err(e) => return err(&e),
    };
    let Ok(id) = Id::parse(&raw_id) else {
        return err(&invalid_route_id());
    };
    let result = locked(&state, move |store| {
        users::set_password(store, &auth, id, &password)
    })
    .await;
    match result {
        Ok(()) => crate::http::respond::no_content(),
        Err(e) => err(&e),
    }
}

/// `PUT /api/v2/me/password` (`handlePutMePassword`): the caller's own user.
pub async fn me_password(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    let (parts, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    put_password(&state, &parts, None, &body, auth).await
}

fn invalid_route_id() -> ApiError {
    ApiError::new(Code::Internal, "invalid user ID provided in route")
}

/// `decodePasswordResetRequest`: HTTP Basic credentials (the old password; without them
/// `invalid basic auth`), then the body (`passwordResetRequestBody`).
fn decode_reset(parts: &Parts, body: &[u8]) -> Result<(String, String), String> {
    let (_, old) = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| crate::engine::auth::basic_auth(h.as_bytes()))
        .ok_or_else(|| "invalid basic auth".to_string())?;
    let wrap = |m: String| ApiError::new(Code::Invalid, m);
    let new = decode_struct(body, "tenant.passwordResetRequestBody", wrap)
        .and_then(|v| str_field(&v, "password", "passwordResetRequestBody", &wrap))
        .map_err(|e| e.message)?;
    Ok((old, new.unwrap_or_default()))
}

/// The two `PUT` password handlers. A request that does not decode answers 500 `error
/// decoding password reset request: <why>`; `/me/password` then goes on with a nil request
/// and panics, which chi's `Recoverer` turns into nothing more (the 500 is already written).
/// Then (`/users/{id}` only) the route's ID, then `CompareAndSetPassword`.
async fn put_password(
    state: &Arc<AppState>,
    parts: &Parts,
    raw_id: Option<&str>,
    body: &[u8],
    auth: crate::storage::Authorization,
) -> Resp {
    let (old, new) = match decode_reset(parts, body) {
        Ok(x) => x,
        Err(why) => {
            return err(&ApiError::new(
                Code::Internal,
                format!("error decoding password reset request: {why}"),
            ))
        }
    };
    let user = match raw_id {
        None => auth.user_id,
        Some(raw) => match Id::parse(raw) {
            Ok(id) => id,
            Err(_) => return err(&invalid_route_id()),
        },
    };
    let result = locked(state, move |store| {
        users::change_password(store, &auth, user, &old, &new)
    })
    .await;
    match result {
        Ok(()) => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            resp
        }
        Err(e) => err(&e),
    }
}
