//! `/api/v2/orgs` and `/api/v2/orgs/{id}` (`tenant/http_server_org.go`).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};

use crate::engine::tenancy::orgs::{self, OrgFilter};
use crate::http::json_out::{links, J};
use crate::http::{AppState, QueryParams};
use crate::model::Id;

use super::decode::{decode_struct, str_field, unmarshal_json};
use super::shapes::org_json;
use super::{authenticated, by_id, err, find_options, locked, ok, reply, Resp};

pub async fn orgs(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    let method = req.method().clone();
    let (parts, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    if method == Method::POST {
        // `DecodeJSON` into `influxdb.Organization`, then the authorized create.
        let decoded = decode_struct(&body, "influxdb.Organization", unmarshal_json).and_then(|v| {
            let name = str_field(&v, "name", "Organization", &unmarshal_json)?;
            let description = str_field(&v, "description", "Organization", &unmarshal_json)?;
            Ok((name.unwrap_or_default(), description.unwrap_or_default()))
        });
        let (name, description) = match decoded {
            Ok(x) => x,
            Err(e) => return err(&e),
        };
        let result = locked(&state, move |store| {
            let id = orgs::create(store, &auth, &name, &description, now)?;
            Ok(org_json(&store.orgs[&id]))
        })
        .await;
        return match result {
            Ok(j) => ok(StatusCode::CREATED, j),
            Err(e) => err(&e),
        };
    }
    let q = QueryParams::parse(parts.uri.query());
    let get = |k: &str| q.get(k).filter(|s| !s.is_empty()).map(str::to_string);
    let opts = match find_options(&q) {
        Ok(o) => o,
        Err(e) => return err(&e),
    };
    // `handleGetOrgs`: an `orgID` or `userID` that does not parse is ignored.
    let filter = OrgFilter {
        name: get("org"),
        id: get("orgID").and_then(|s| Id::parse(&s).ok()),
        user_id: get("userID").and_then(|s| Id::parse(&s).ok()),
    };
    let result = locked(&state, move |store| {
        let found = orgs::list(store, &auth, filter, &opts)?;
        Ok(J::Obj(vec![
            ("links", links(&[("self", "/api/v2/orgs".to_string())])),
            ("orgs", J::Arr(found.into_iter().map(org_json).collect())),
        ]))
    })
    .await;
    match result {
        Ok(j) => ok(StatusCode::OK, j),
        Err(e) => err(&e),
    }
}

/// `/api/v2/orgs/{id}`: GET, PATCH (`influxdb.OrganizationUpdate`: name, description) and
/// DELETE. The ID is parsed first, then the PATCH body, then the rules (permission, then the
/// lookup).
pub async fn org_by_id(
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
                orgs::get(store, &auth, id).map(|o| (StatusCode::OK, Some(org_json(o))))
            })
            .await
        }
        Method::DELETE => {
            locked(&state, move |store| {
                orgs::delete(store, &auth, id).map(|()| (StatusCode::NO_CONTENT, None))
            })
            .await
        }
        _ => {
            let decoded = decode_struct(&body, "influxdb.OrganizationUpdate", unmarshal_json)
                .and_then(|v| {
                    let name = str_field(&v, "name", "OrganizationUpdate", &unmarshal_json)?;
                    let description =
                        str_field(&v, "description", "OrganizationUpdate", &unmarshal_json)?;
                    Ok((name, description))
                });
            match decoded {
                Err(e) => Err(e),
                Ok((name, description)) => {
                    locked(&state, move |store| {
                        orgs::update(store, &auth, id, name, description, now)
                            .map(|o| (StatusCode::OK, Some(org_json(o))))
                    })
                    .await
                }
            }
        }
    };
    reply(result)
}
