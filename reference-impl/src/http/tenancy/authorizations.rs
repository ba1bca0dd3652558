//! `/api/v2/authorizations` and `/api/v2/authorizations/{id}` (`authorization/http_server.go`).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};

use crate::api_error::{ApiError, Code};
use crate::engine::tenancy::authorizations::{
    self, AuthorizationFilter, NewAuthorization, RequestedPermission,
};
use crate::http::json_out::{links, J};
use crate::http::{AppState, QueryParams};
use crate::model::go_json::{self, Value};

use super::decode::{decode_struct, id_field, str_field, str_field_of};
use super::shapes::auth_json;
use super::{authenticated, by_id, err, invalid, locked, ok, parse_id, reply, Resp};

pub async fn authorizations(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    let method = req.method().clone();
    let (parts, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    if method == Method::POST {
        let new = match decode_new(&body) {
            Ok(n) => n,
            Err(e) => return err(&e),
        };
        let result = locked(&state, move |store| {
            let id = authorizations::create(store, &auth, new, now)?;
            Ok(auth_json(store, &store.authorizations[&id]))
        })
        .await;
        return match result {
            Ok(j) => ok(StatusCode::CREATED, j),
            Err(e) => err(&e),
        };
    }
    let q = QueryParams::parse(parts.uri.query());
    let get = |k: &str| q.get(k).filter(|s| !s.is_empty()).map(str::to_string);
    // `decodeGetAuthorizationsRequest`: IDs that do not parse are 400.
    let filter = (|| -> Result<AuthorizationFilter, ApiError> {
        Ok(AuthorizationFilter {
            user_id: get("userID").map(|s| parse_id(&s)).transpose()?,
            user: get("user"),
            org_id: get("orgID").map(|s| parse_id(&s)).transpose()?,
            org: get("org"),
            id: get("id").map(|s| parse_id(&s)).transpose()?,
        })
    })();
    let filter = match filter {
        Ok(f) => f,
        Err(e) => return err(&e),
    };
    let result = locked(&state, move |store| {
        let found = authorizations::list(store, &auth, filter)?;
        Ok(J::Obj(vec![
            (
                "links",
                links(&[("self", "/api/v2/authorizations".to_string())]),
            ),
            (
                "authorizations",
                J::Arr(found.into_iter().map(|a| auth_json(store, a)).collect()),
            ),
        ]))
    })
    .await;
    match result {
        Ok(j) => ok(StatusCode::OK, j),
        Err(e) => err(&e),
    }
}

/// One `influxdb.Permission` of the body: `action` and `resource.type` as strings (checked by
/// the rules), `resource.id` and `resource.orgID` decoded as `platform.ID`.
fn decode_permission(
    v: &Value,
    wrap: &impl Fn(String) -> ApiError,
) -> Result<RequestedPermission, ApiError> {
    let action = str_field_of(v, "action", "Permission", "influxdb.Action", wrap)?;
    let null = Value::Null;
    let res = v.field("resource").unwrap_or(&null);
    if !matches!(res, Value::Object(_) | Value::Null) {
        return Err(wrap(go_json::struct_field_type_error(
            res.kind_word(),
            "postAuthorizationRequest",
            "permissions.resource",
            "influxdb.Resource",
        )));
    }
    let kind = str_field_of(res, "type", "Resource", "influxdb.ResourceType", wrap)?;
    Ok(RequestedPermission {
        action: action.unwrap_or_default(),
        kind: kind.unwrap_or_default(),
        org_id: id_field(res, "orgID", wrap)?,
        id: id_field(res, "id", wrap)?,
    })
}

/// `decodePostAuthorizationRequest`: 400 `invalid json structure: <err>`.
fn decode_new(body: &[u8]) -> Result<NewAuthorization, ApiError> {
    let wrap = |m: String| invalid(format!("invalid json structure: {m}"));
    let v = decode_struct(body, "authorization.postAuthorizationRequest", wrap)?;
    let org_id = id_field(&v, "orgID", &wrap)?;
    let user_id = id_field(&v, "userID", &wrap)?;
    let description =
        str_field(&v, "description", "postAuthorizationRequest", &wrap)?.unwrap_or_default();
    let status = str_field_of(
        &v,
        "status",
        "postAuthorizationRequest",
        "influxdb.Status",
        &wrap,
    )?
    .unwrap_or_default();
    let permissions = match v.field("permissions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|p| decode_permission(p, &wrap))
            .collect::<Result<Vec<_>, _>>()?,
        Some(other) => {
            return Err(wrap(go_json::struct_field_type_error(
                other.kind_word(),
                "postAuthorizationRequest",
                "permissions",
                "[]influxdb.Permission",
            )))
        }
    };
    Ok(NewAuthorization {
        org_id,
        user_id,
        description,
        status,
        permissions,
    })
}

pub async fn authorization_by_id(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    req: Request,
) -> Resp {
    let (method, body, auth, id) = match by_id(req, &raw_id).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    let result = match method {
        Method::GET => {
            locked(&state, move |store| {
                let a = authorizations::get(store, &auth, id)?;
                Ok((StatusCode::OK, Some(auth_json(store, a))))
            })
            .await
        }
        Method::DELETE => {
            locked(&state, move |store| {
                authorizations::delete(store, &auth, id).map(|()| (StatusCode::NO_CONTENT, None))
            })
            .await
        }
        _ => {
            // `decodeUpdateAuthorizationRequest`: a decode error reaches `api.Err` raw (500).
            let raw = |m: String| ApiError::new(Code::Internal, m);
            let decoded = decode_struct(&body, "influxdb.AuthorizationUpdate", raw).and_then(|v| {
                let status =
                    str_field_of(&v, "status", "AuthorizationUpdate", "influxdb.Status", &raw)?;
                let description = str_field(&v, "description", "AuthorizationUpdate", &raw)?;
                Ok((status, description))
            });
            match decoded {
                Err(e) => Err(e),
                Ok((status, description)) => {
                    locked(&state, move |store| {
                        let a = authorizations::update(store, &auth, id, status, description, now)?
                            .clone();
                        Ok((StatusCode::OK, Some(auth_json(store, &a))))
                    })
                    .await
                }
            }
        }
    };
    reply(result)
}
