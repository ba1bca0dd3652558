//! `/api/v2/users` (create, list, get, update, delete, permissions), `GET /api/v2/me` and the
//! password routes (`tenant/http_server_user.go`): `POST
//! /api/v2/users/{id}/password` sets a password; `PUT /api/v2/users/{id}/password` and `PUT
//! /api/v2/me/password` change one, the old password given as HTTP Basic credentials (so only
//! a session can, the `Authorization` header of a token request carrying the token).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, Response, StatusCode};

use crate::api_error::{ApiError, Code};
use crate::engine::tenancy::users::{self, NewUser};
use crate::http::json_out::{links, J};
use crate::http::{AppState, QueryParams};
use crate::model::Id;
use crate::storage::Status;

use super::decode::{decode_struct, str_field, str_field_of};
use super::shapes::{permission_json, user_json};
use super::{authenticated, by_id, caller, err, find_options, locked, ok, parse_id, reply, Resp};

/// The user handlers decode with `json.NewDecoder(r.Body).Decode`, not `DecodeJSON`: a
/// decode error is answered as it is, a code-less error, so 500 `internal error` with Go's
/// text (`EOF`, `json: cannot unmarshal number into Go struct field User.name of type
/// string`).
fn raw_decode_error(m: String) -> ApiError {
    ApiError::new(Code::Internal, m)
}

/// `POST /api/v2/users` into `influxdb.User`. An `id` that is text but no ID fails the
/// decode at once with `UnmarshalText`'s own error (400); other type errors are 500.
fn decode_new_user(body: &[u8]) -> Result<NewUser, ApiError> {
    let w = raw_decode_error;
    let v = decode_struct(body, "influxdb.User", w)?;
    let id = str_field_of(&v, "id", "User", "platform.ID", &w)?
        .map(|raw| Id::parse(&raw).map_err(|e| ApiError::new(Code::Invalid, e.to_string())))
        .transpose()?;
    Ok(NewUser {
        id,
        oauth_id: str_field(&v, "oauthID", "User", &w)?.unwrap_or_default(),
        name: str_field(&v, "name", "User", &w)?.unwrap_or_default(),
        status: str_field_of(&v, "status", "User", "influxdb.Status", &w)?.unwrap_or_default(),
    })
}

/// `PATCH /api/v2/users/{id}` into `influxdb.UserUpdate`, then `UserUpdate.Valid`: a status
/// given must be `active` or `inactive`.
fn decode_user_update(body: &[u8]) -> Result<(Option<String>, Option<Status>), ApiError> {
    let w = raw_decode_error;
    let v = decode_struct(body, "influxdb.UserUpdate", w)?;
    let name = str_field(&v, "name", "UserUpdate", &w)?;
    let status = str_field_of(&v, "status", "UserUpdate", "influxdb.Status", &w)?;
    let status = status
        .map(|s| {
            Status::parse(&s).ok_or_else(|| {
                ApiError::new(Code::Invalid, "invalid status: must be active or inactive")
            })
        })
        .transpose()?;
    Ok((name, status))
}

/// `GET` and `POST /api/v2/users`.
pub async fn users(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    let method = req.method().clone();
    let (parts, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    if method == Method::POST {
        let new = match decode_new_user(&body) {
            Ok(n) => n,
            Err(e) => return err(&e),
        };
        let result = locked(&state, move |store| {
            let id = users::create(store, &auth, new)?;
            Ok(user_json(&store.users[&id]))
        })
        .await;
        return match result {
            Ok(j) => ok(StatusCode::CREATED, j),
            Err(e) => err(&e),
        };
    }
    // `decodeGetUsersRequest`: the find options, then `id` (its parse error as is), `name`.
    let q = QueryParams::parse(parts.uri.query());
    let get = |k: &str| q.get(k).filter(|s| !s.is_empty()).map(str::to_string);
    let decoded = find_options(&q).and_then(|opts| {
        let id = get("id").map(|raw| parse_id(&raw)).transpose()?;
        Ok((opts, id, get("name")))
    });
    let (opts, id, name) = match decoded {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let result = locked(&state, move |store| {
        let found = users::list(store, &auth, id, name.as_deref(), &opts)?;
        Ok(J::Obj(vec![
            ("links", links(&[("self", "/api/v2/users".to_string())])),
            ("users", J::Arr(found.into_iter().map(user_json).collect())),
        ]))
    })
    .await;
    match result {
        Ok(j) => ok(StatusCode::OK, j),
        Err(e) => err(&e),
    }
}

/// `/api/v2/users/{id}`: GET, PATCH and DELETE. The route's ID first, then the PATCH body,
/// then the authed service (permission, lookup, rules).
pub async fn user_by_id(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    req: Request,
) -> Resp {
    let (method, body, auth, id) = match by_id(req, &raw_id).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let result = match method {
        Method::GET => {
            locked(&state, move |store| {
                users::get(store, &auth, id).map(|u| (StatusCode::OK, Some(user_json(u))))
            })
            .await
        }
        Method::DELETE => {
            locked(&state, move |store| {
                users::delete(store, &auth, id).map(|()| (StatusCode::NO_CONTENT, None))
            })
            .await
        }
        _ => match decode_user_update(&body) {
            Err(e) => Err(e),
            Ok((name, status)) => {
                locked(&state, move |store| {
                    users::update(store, &auth, id, name, status)
                        .map(|u| (StatusCode::OK, Some(user_json(u))))
                })
                .await
            }
        },
    };
    reply(result)
}

/// `GET /api/v2/users/{id}/permissions` (`handleGetPermissions`): a bare JSON array.
pub async fn user_permissions(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    req: Request,
) -> Resp {
    let (_, _, auth, id) = match by_id(req, &raw_id).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let result = locked(&state, move |store| {
        let ps = users::permissions(store, &auth, id)?;
        Ok(J::Arr(
            ps.iter()
                .map(|p| permission_json(store, p, false))
                .collect(),
        ))
    })
    .await;
    match result {
        Ok(j) => ok(StatusCode::OK, j),
        Err(e) => err(&e),
    }
}

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
