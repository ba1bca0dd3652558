//! The tenant endpoints (spec/v2.md §9.2–§9.4): `/api/v2/setup`, `/api/v2/orgs`,
//! `/api/v2/buckets`, `/api/v2/authorizations`, `/api/v2/me` and the users' password routes. All answer through `kithttp.API`
//! (tab-indented JSON, Encoder B), the authorization handler included
//! (`authorization/http_server.go` uses `kithttp.NewAPI`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{Method, Response, StatusCode};

use crate::api_error::{ApiError, Code};
use crate::model::go_json::{self, Value};
use crate::model::time::{format_rfc3339_nano, NANOS_PER_HOUR, NANOS_PER_SECOND};
use crate::model::Id;
use crate::storage::{
    Action, Authorization, Bucket, BucketKind, Org, Permission, ResourceKind, SchemaType, Status,
    Store, TenancyError, User,
};

use super::json_out::{links, J};
use super::respond::{self, Encoder};
use super::{AppState, QueryParams};

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

fn unauthorized(perm: &str) -> ApiError {
    ApiError::new(Code::Unauthorized, format!("{perm} is unauthorized"))
}

fn time(t: i64) -> J {
    J::s(format_rfc3339_nano(t))
}

fn parse_id(raw: &str) -> Result<Id, ApiError> {
    Id::parse(raw).map_err(|e| invalid(e.to_string()))
}

async fn body_of(req: Request) -> Result<(axum::http::request::Parts, bytes::Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let body = super::body::read_json_body(body).await?;
    Ok((parts, body))
}

/// The request's parts, its body read whole, and the authorization the middleware found.
async fn authenticated(
    req: Request,
) -> Result<(axum::http::request::Parts, bytes::Bytes, Authorization), ApiError> {
    let (parts, body) = body_of(req).await?;
    let auth = caller(&parts)?;
    Ok((parts, body, auth))
}

fn caller(parts: &axum::http::request::Parts) -> Result<Authorization, ApiError> {
    parts
        .extensions
        .get::<Authorization>()
        .cloned()
        .ok_or_else(crate::engine::auth::unauthorized_access)
}

/// The caller may act when its token is active and a permission covers the request.
fn can(auth: &Authorization, action: Action, kind: ResourceKind, org: Id, id: Option<Id>) -> bool {
    auth.status == Status::Active && auth.allows(action, kind, org, id)
}

/// `authorizer.AuthorizeReadResource` / `AuthorizeWriteResource` (and `AuthorizeReadOrg`,
/// `AuthorizeWriteOrg`): the permission asked for names the resource ID but no org, so
/// (`Permission.Matches`) only a grant without org and ID, or one naming that very ID, covers it.
fn can_resource(auth: &Authorization, action: Action, kind: ResourceKind, id: Id) -> bool {
    auth.status == Status::Active
        && auth.permissions.iter().any(|p| {
            p.action == action
                && p.kind == kind
                && ((p.org_id.is_none() && p.id.is_none()) || p.id == Some(id))
        })
}

// ---------------------------------------------------------------------------------------------
// Shapes

/// `tenant.UserResponse`: `links` then the embedded `influxdb.User` (`oauthID` is omitempty
/// and never set here).
fn user_json(u: &User) -> J {
    J::Obj(vec![
        (
            "links",
            links(&[("self", format!("/api/v2/users/{}", u.id))]),
        ),
        ("id", J::s(u.id.to_string())),
        ("name", J::s(&u.name)),
        ("status", J::s(u.status.as_str())),
    ])
}

fn org_json(o: &Org) -> J {
    let id = o.id;
    J::Obj(vec![
        (
            "links",
            links(&[
                ("buckets", format!("/api/v2/buckets?org={}", o.name)),
                ("dashboards", format!("/api/v2/dashboards?org={}", o.name)),
                ("labels", format!("/api/v2/orgs/{id}/labels")),
                ("logs", format!("/api/v2/orgs/{id}/logs")),
                ("members", format!("/api/v2/orgs/{id}/members")),
                ("owners", format!("/api/v2/orgs/{id}/owners")),
                ("secrets", format!("/api/v2/orgs/{id}/secrets")),
                ("self", format!("/api/v2/orgs/{id}")),
                ("tasks", format!("/api/v2/tasks?org={}", o.name)),
            ]),
        ),
        ("id", J::s(id.to_string())),
        ("name", J::s(&o.name)),
        ("description", J::s(&o.description)),
        ("createdAt", time(o.created_at)),
        ("updatedAt", time(o.updated_at)),
    ])
}

/// `tenant.BucketResponse`: the bucket fields, then `links`, then `labels`. A retention rule
/// is listed when the bucket has a retention period or an explicit shard-group duration
/// (explicit = different from what the retention alone would give).
pub fn bucket_json(b: &Bucket) -> J {
    let mut fields: Vec<(&'static str, J)> = vec![
        ("id", J::s(b.id.to_string())),
        ("orgID", J::s(b.org_id.to_string())),
        ("type", J::s(b.kind.as_str())),
    ];
    if !b.description.is_empty() {
        fields.push(("description", J::s(&b.description)));
    }
    fields.push(("name", J::s(&b.name)));
    let implicit_sgd = crate::storage::normalise_shard_group_duration(b.retention, 0);
    let rules = if b.retention > 0 || b.shard_group_duration != implicit_sgd {
        vec![J::Obj(vec![
            ("type", J::s("expire")),
            ("everySeconds", J::Int(b.retention / NANOS_PER_SECOND)),
            (
                "shardGroupDurationSeconds",
                J::Int(b.shard_group_duration / NANOS_PER_SECOND),
            ),
        ])]
    } else {
        Vec::new()
    };
    fields.push(("retentionRules", J::Arr(rules)));
    fields.push(("createdAt", time(b.created_at)));
    fields.push(("updatedAt", time(b.updated_at)));
    let (id, org) = (b.id, b.org_id);
    fields.push((
        "links",
        links(&[
            ("labels", format!("/api/v2/buckets/{id}/labels")),
            ("members", format!("/api/v2/buckets/{id}/members")),
            ("org", format!("/api/v2/orgs/{org}")),
            ("owners", format!("/api/v2/buckets/{id}/owners")),
            ("self", format!("/api/v2/buckets/{id}")),
            ("write", format!("/api/v2/write?org={org}&bucket={id}")),
        ]),
    ));
    fields.push(("labels", J::Arr(Vec::new())));
    J::Obj(fields)
}

fn resource_name(store: &Store, kind: ResourceKind, id: Id) -> Option<String> {
    match kind {
        ResourceKind::Buckets => store.buckets.get(&id).map(|b| b.name.clone()),
        ResourceKind::Orgs => store.orgs.get(&id).map(|o| o.name.clone()),
        ResourceKind::Users => store.users.get(&id).map(|u| u.name.clone()),
        _ => None,
    }
}

fn permission_json(store: &Store, p: &Permission, with_names: bool) -> J {
    let mut res: Vec<(&'static str, J)> = vec![("type", J::s(p.kind.as_str()))];
    if let Some(id) = p.id {
        res.push(("id", J::s(id.to_string())));
    }
    if let Some(org) = p.org_id {
        res.push(("orgID", J::s(org.to_string())));
    }
    if with_names {
        if let Some(name) = p.id.and_then(|id| resource_name(store, p.kind, id)) {
            res.push(("name", J::s(name)));
        }
        if let Some(name) = p
            .org_id
            .and_then(|o| store.orgs.get(&o).map(|o| o.name.clone()))
        {
            res.push(("org", J::s(name)));
        }
    }
    J::Obj(vec![
        ("action", J::s(p.action.as_str())),
        ("resource", J::Obj(res)),
    ])
}

/// `authorization.authResponse` (UNCONFIRMED key order: the struct's field order as read
/// from `authorization/http_server.go`, `links` before the timestamps).
fn auth_json(store: &Store, a: &Authorization) -> J {
    let org_name = store
        .orgs
        .get(&a.org_id)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let user_name = store
        .users
        .get(&a.user_id)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    J::Obj(vec![
        ("id", J::s(a.id.to_string())),
        ("token", J::s(&a.token)),
        ("status", J::s(a.status.as_str())),
        ("description", J::s(&a.description)),
        ("orgID", J::s(a.org_id.to_string())),
        ("org", J::s(org_name)),
        ("userID", J::s(a.user_id.to_string())),
        ("user", J::s(user_name)),
        (
            "permissions",
            J::Arr(
                a.permissions
                    .iter()
                    .map(|p| permission_json(store, p, true))
                    .collect(),
            ),
        ),
        (
            "links",
            links(&[
                ("self", format!("/api/v2/authorizations/{}", a.id)),
                ("user", format!("/api/v2/users/{}", a.user_id)),
            ]),
        ),
        ("createdAt", time(a.created_at)),
        ("updatedAt", time(a.updated_at)),
    ])
}

// ---------------------------------------------------------------------------------------------
// JSON input helpers: `json.NewDecoder(r).Decode(&v)` into a Go struct.

/// Decodes the first JSON value and checks that it can go into a struct; `wrap` turns the Go
/// error text into the endpoint's error.
fn decode_struct(
    body: &[u8],
    go_type: &str,
    wrap: impl Fn(String) -> ApiError,
) -> Result<Value, ApiError> {
    let v = go_json::decode_first(body).map_err(|e| wrap(e.decoder_message()))?;
    match v {
        Value::Object(_) | Value::Null => Ok(v),
        other => Err(wrap(go_json::value_type_error(other.kind_word(), go_type))),
    }
}

fn str_field(
    v: &Value,
    key: &str,
    go_struct: &str,
    wrap: &impl Fn(String) -> ApiError,
) -> Result<Option<String>, ApiError> {
    match v.field(key) {
        None => Ok(None),
        Some(x) => go_json::as_go_string(x)
            .map(|s| s.map(str::to_string))
            .map_err(|what| {
                wrap(go_json::struct_field_type_error(
                    &what, go_struct, key, "string",
                ))
            }),
    }
}

fn int_field(
    v: &Value,
    key: &str,
    go_struct: &str,
    path: &str,
    wrap: &impl Fn(String) -> ApiError,
) -> Result<Option<i64>, ApiError> {
    match v.field(key) {
        None => Ok(None),
        Some(x) => go_json::as_go_int64(x).map_err(|what| {
            wrap(go_json::struct_field_type_error(
                &what, go_struct, path, "int64",
            ))
        }),
    }
}

/// A `platform.ID` field: JSON string of 16 hex digits (its `UnmarshalJSON` error as is).
fn id_field(
    v: &Value,
    key: &str,
    wrap: &impl Fn(String) -> ApiError,
) -> Result<Option<Id>, ApiError> {
    match v.field(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Id::parse(s).map(Some).map_err(|e| wrap(e.to_string())),
        Some(_) => Err(wrap("invalid ID".into())),
    }
}

// ---------------------------------------------------------------------------------------------
// /api/v2/setup

pub async fn setup(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    if req.method() == Method::GET {
        let allowed = state.store().onboarding_allowed();
        return ok(StatusCode::OK, J::Obj(vec![("allowed", J::Bool(allowed))]));
    }
    let (_, body) = match body_of(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    match post_setup(&mut state.store(), &body, now) {
        Ok(j) => ok(StatusCode::CREATED, j),
        Err(e) => err(&e),
    }
}

fn post_setup(store: &mut Store, body: &[u8], now: i64) -> Result<J, ApiError> {
    // A raw decode error: `internal error` with Go's text (spec §9.2).
    let raw = |m: String| ApiError::new(Code::Internal, m);
    let v = decode_struct(body, "influxdb.OnboardingRequest", raw)?;
    let s = |k: &str| str_field(&v, k, "OnboardingRequest", &raw);
    let username = s("username")?.unwrap_or_default();
    let password = s("password")?.unwrap_or_default();
    let org = s("org")?.unwrap_or_default();
    let bucket = s("bucket")?.unwrap_or_default();
    let token = s("token")?.unwrap_or_default();
    let retention_secs = int_field(
        &v,
        "retentionPeriodSeconds",
        "OnboardingRequest",
        "retentionPeriodSeconds",
        &raw,
    )?
    .unwrap_or(0);
    let retention_hrs = int_field(
        &v,
        "retentionPeriodHrs",
        "OnboardingRequest",
        "retentionPeriodHrs",
        &raw,
    )?
    .unwrap_or(0);
    if !store.onboarding_allowed() {
        return Err(ApiError::new(
            Code::Conflict,
            "onboarding has already been completed",
        ));
    }
    let missing: Vec<&str> = [("username", &username), ("org", &org), ("bucket", &bucket)]
        .into_iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(k, _)| k)
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::new(
            Code::UnprocessableEntity,
            format!(
                "onboarding failed: missing required fields [{}]",
                missing.join(",")
            ),
        ));
    }
    // `CreateUserWithPassword` sets a password only when one is given.
    if !password.is_empty() && !crate::storage::PASSWORD_LENGTHS.contains(&password.len()) {
        return Err(invalid(TenancyError::PasswordLength.to_string()));
    }
    // `retentionPeriodSeconds` wins; `retentionPeriodHrs` is a raw time.Duration (ns).
    let retention = if retention_secs > 0 {
        retention_secs.saturating_mul(NANOS_PER_SECOND)
    } else {
        retention_hrs.max(0)
    };
    if retention != 0 && retention < NANOS_PER_HOUR {
        return Err(ApiError::new(
            Code::Internal,
            "retention policy duration must be at least 1h0m0s",
        ));
    }
    let user_id = store.create_user(&username);
    if !password.is_empty() {
        store
            .set_password(user_id, &password)
            .map_err(|e| invalid(e.to_string()))?;
    }
    let org_id = store
        .create_org(&org, "", now)
        .map_err(|e| ApiError::new(Code::Conflict, e.to_string()))?;
    // The new user is in the context when the org is created, so it becomes the org's owner.
    store.add_org_owner(user_id, org_id);
    let bucket_id = store
        .create_bucket(org_id, &bucket, retention, 0, SchemaType::Implicit, now)
        .map_err(|e| ApiError::new(Code::Conflict, e.to_string()))?;
    let preset = (!token.is_empty()).then_some(token.as_str());
    let auth_id = store.create_authorization(
        org_id,
        user_id,
        preset,
        &format!("{username}'s Token"),
        Store::operator_permissions(),
        now,
    );
    let auth = store.authorizations[&auth_id].clone();
    let user = user_json(&store.users[&user_id]);
    let auth_j = J::Obj(vec![
        ("id", J::s(auth.id.to_string())),
        ("token", J::s(&auth.token)),
        ("status", J::s(auth.status.as_str())),
        ("description", J::s(&auth.description)),
        ("orgID", J::s(org_id.to_string())),
        ("userID", J::s(user_id.to_string())),
        (
            "permissions",
            J::Arr(
                auth.permissions
                    .iter()
                    .map(|p| permission_json(store, p, false))
                    .collect(),
            ),
        ),
        ("createdAt", time(auth.created_at)),
        ("updatedAt", time(auth.updated_at)),
        (
            "links",
            links(&[
                ("self", format!("/api/v2/authorizations/{}", auth.id)),
                ("user", format!("/api/v2/users/{user_id}")),
            ]),
        ),
    ]);
    Ok(J::Obj(vec![
        ("user", user),
        ("bucket", bucket_json(&store.buckets[&bucket_id])),
        ("org", org_json(&store.orgs[&org_id])),
        ("auth", auth_j),
    ]))
}

// ---------------------------------------------------------------------------------------------
// /api/v2/orgs

pub async fn orgs(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    let method = req.method().clone();
    let (parts, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    let mut store = state.store();
    let result = if method == Method::POST {
        post_org(&mut store, &auth, &body, now).map(|j| (StatusCode::CREATED, j))
    } else {
        let q = QueryParams::parse(parts.uri.query());
        list_orgs(&store, &auth, &q).map(|j| (StatusCode::OK, j))
    };
    match result {
        Ok((status, j)) => ok(status, j),
        Err(e) => err(&e),
    }
}

fn list_orgs(store: &Store, auth: &Authorization, q: &QueryParams) -> Result<J, ApiError> {
    let mut found: Vec<&Org> = store.orgs.values().collect();
    if let Some(raw) = q.get("orgID").filter(|s| !s.is_empty()) {
        let id = parse_id(raw)?;
        let o = store
            .orgs
            .get(&id)
            .ok_or_else(|| ApiError::new(Code::NotFound, "organization not found"))?;
        found = vec![o];
    } else if let Some(name) = q.get("org").filter(|s| !s.is_empty()) {
        let o = store.org_by_name(name).ok_or_else(|| {
            ApiError::new(
                Code::NotFound,
                format!("organization name \"{name}\" not found"),
            )
        })?;
        found = vec![o];
    }
    let orgs: Vec<J> = found
        .into_iter()
        .filter(|o| can(auth, Action::Read, ResourceKind::Orgs, o.id, Some(o.id)))
        .map(org_json)
        .collect();
    Ok(J::Obj(vec![
        ("links", links(&[("self", "/api/v2/orgs".to_string())])),
        ("orgs", J::Arr(orgs)),
    ]))
}

fn post_org(store: &mut Store, auth: &Authorization, body: &[u8], now: i64) -> Result<J, ApiError> {
    let wrap = |m: String| invalid(format!("failed to decode request body: {m}"));
    let v = decode_struct(body, "influxdb.Organization", wrap)?;
    let name = str_field(&v, "name", "Organization", &wrap)?.unwrap_or_default();
    let description = str_field(&v, "description", "Organization", &wrap)?.unwrap_or_default();
    let global = auth.status == Status::Active
        && auth.permissions.iter().any(|p| {
            p.action == Action::Write
                && p.kind == ResourceKind::Orgs
                && p.org_id.is_none()
                && p.id.is_none()
        });
    if !global {
        return Err(unauthorized("write:orgs"));
    }
    if name.is_empty() {
        return Err(ApiError::new(Code::Invalid, "org name is empty"));
    }
    let id = store
        .create_org(&name, &description, now)
        .map_err(|e| ApiError::new(Code::Conflict, e.to_string()))?;
    // `OrgSvc.CreateOrganization` makes the caller's user an owner of the new org.
    store.add_org_owner(auth.user_id, id);
    Ok(org_json(&store.orgs[&id]))
}

/// `/api/v2/orgs/{id}` (`tenant/http_server_org.go` through `AuthedOrgService`): GET, PATCH
/// (`influxdb.OrganizationUpdate`: name, description) and DELETE (the org's buckets and their
/// data and its owner mappings go with it, `OrgSvc.DeleteOrganization`; its tokens stay, as in
/// InfluxDB, where the authorization store is not touched). The ID is parsed first, then the
/// PATCH body, then the permission on that org is checked, then the org is looked up, so an
/// unknown org is 404 only for a caller allowed to see it.
pub async fn org_by_id(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    req: Request,
) -> Resp {
    let method = req.method().clone();
    let (_, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    let mut store = state.store();
    let not_found = || ApiError::new(Code::NotFound, "organization not found");
    let result = parse_id(&raw_id).and_then(|id| match method {
        Method::GET => {
            if !can_resource(&auth, Action::Read, ResourceKind::Orgs, id) {
                return Err(unauthorized(&format!("read:orgs/{id}")));
            }
            let o = store.orgs.get(&id).ok_or_else(not_found)?;
            Ok((StatusCode::OK, Some(org_json(o))))
        }
        Method::DELETE => {
            if !can_resource(&auth, Action::Write, ResourceKind::Orgs, id) {
                return Err(unauthorized(&format!("write:orgs/{id}")));
            }
            store.delete_org(id).ok_or_else(not_found)?;
            Ok((StatusCode::NO_CONTENT, None))
        }
        _ => patch_org(&mut store, &auth, id, &body, now).map(|j| (StatusCode::OK, Some(j))),
    });
    reply(result)
}

/// `PATCH /api/v2/orgs/{id}`: `tenant.Store.UpdateOrg`. `updatedAt` moves even when nothing
/// changes; a new name must be free (trimmed, as the name index keys it) and not empty.
fn patch_org(
    store: &mut Store,
    auth: &Authorization,
    id: Id,
    body: &[u8],
    now: i64,
) -> Result<J, ApiError> {
    let wrap = |m: String| invalid(format!("failed to decode request body: {m}"));
    let v = decode_struct(body, "influxdb.OrganizationUpdate", wrap)?;
    let name = str_field(&v, "name", "OrganizationUpdate", &wrap)?;
    let description = str_field(&v, "description", "OrganizationUpdate", &wrap)?;
    if !can_resource(auth, Action::Write, ResourceKind::Orgs, id) {
        return Err(unauthorized(&format!("write:orgs/{id}")));
    }
    let current = store
        .orgs
        .get(&id)
        .ok_or_else(|| ApiError::new(Code::NotFound, "organization not found"))?;
    if let Some(n) = &name {
        if *n != current.name {
            if n.trim().is_empty() {
                return Err(invalid("org name is empty"));
            }
            if store.orgs.values().any(|o| o.name.trim() == n.trim()) {
                return Err(ApiError::new(
                    Code::Conflict,
                    TenancyError::OrgExists(n.clone()).to_string(),
                ));
            }
        }
    }
    let entry = store
        .orgs
        .get_mut(&id)
        .ok_or_else(|| ApiError::new(Code::NotFound, "organization not found"))?;
    if let Some(n) = name {
        entry.name = n;
    }
    if let Some(d) = description {
        entry.description = d;
    }
    entry.updated_at = now;
    Ok(org_json(entry))
}

// ---------------------------------------------------------------------------------------------
// /api/v2/me

/// `GET /api/v2/me` (`tenant/http_server_user.go`, `handleGetMe`): the user the token belongs
/// to, read through `AuthedUserService.FindUserByID`, so the token needs `read:users/<id>`
/// (operator tokens have it; an org's all-access token does not, and gets 401).
pub async fn me(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    let auth = match caller(&req.into_parts().0) {
        Ok(a) => a,
        Err(e) => return err(&e),
    };
    let store = state.store();
    let id = auth.user_id;
    if !can_resource(&auth, Action::Read, ResourceKind::Users, id) {
        return err(&unauthorized(&format!("read:users/{id}")));
    }
    match store.users.get(&id) {
        Some(u) => ok(StatusCode::OK, user_json(u)),
        None => err(&ApiError::new(Code::NotFound, "user not found")),
    }
}

// ---------------------------------------------------------------------------------------------
// /api/v2/users/{id}/password, /api/v2/me/password

/// `POST /api/v2/users/{id}/password` (`handlePostUserPassword`) sets a password: 204.
/// `PUT` (`handlePutUserPassword`) changes one, old password as HTTP Basic, and never succeeds
/// in InfluxDB 2.7: see [`put_password`].
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
    if method == Method::PUT {
        return put_password(&parts, &raw_id, &body);
    }
    match post_user_password(&mut state.store(), &auth, &raw_id, &body) {
        Ok(()) => respond::no_content(),
        Err(e) => err(&e),
    }
}

/// `PUT /api/v2/me/password`: the user handler's `PUT /password` under the `/me` mount, which
/// reads an `id` route parameter that this route does not have.
pub async fn me_password(req: Request) -> Resp {
    let (parts, body, _) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    put_password(&parts, "", &body)
}

/// The body first (`passwordSetRequest`, a decode error is `invalid` with Go's text), then the
/// route's ID (a bad one is a code-less error, so `internal error`), then `write:users/<id>`
/// through the authorized password service (401), then `SetPassword`: 400 for a length outside
/// 8 to 72 bytes, 403 `your userID is incorrect` for an unknown user.
fn post_user_password(
    store: &mut Store,
    auth: &Authorization,
    raw_id: &str,
    body: &[u8],
) -> Result<(), ApiError> {
    let wrap = |m: String| ApiError::new(Code::Invalid, m);
    let v = decode_struct(body, "tenant.passwordSetRequest", wrap)?;
    let password = str_field(&v, "password", "passwordSetRequest", &wrap)?.unwrap_or_default();
    let id = Id::parse(raw_id)
        .map_err(|_| ApiError::new(Code::Internal, "invalid user ID provided in route"))?;
    if !can_resource(auth, Action::Write, ResourceKind::Users, id) {
        return Err(unauthorized(&format!("write:users/{id}")));
    }
    store.set_password(id, password.as_str()).map_err(|e| {
        let code = match e {
            TenancyError::IncorrectUser => Code::Forbidden,
            _ => Code::Invalid,
        };
        ApiError::new(code, e.to_string())
    })
}

/// `handlePutUserPassword` as InfluxDB 2.7 runs it (derived from the source, not observed):
/// - no HTTP Basic credentials (the old password): the raw error `invalid basic auth`, 500;
/// - a body that does not decode: 400 `invalid` with Go's text;
/// - a bad ID in the route: `putPassword` answers 500 `invalid user ID provided in route` and
///   then returns the ID error, which the handler answers too, so the body is both error
///   documents one after the other (the second status is dropped as superfluous);
/// - otherwise `CompareAndSetPassword` of the authorized password service, which panics
///   (`not implemented`): chi's `Recoverer` answers 500 with no body.
///
/// Basic credentials in `Authorization` mean the request got past the middleware with a
/// session cookie, which is how the UI calls it.
fn put_password(parts: &axum::http::request::Parts, raw_id: &str, body: &[u8]) -> Resp {
    let basic = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| crate::engine::auth::basic_auth(h.as_bytes()));
    if basic.is_none() {
        return err(&ApiError::new(Code::Internal, "invalid basic auth"));
    }
    let wrap = |m: String| ApiError::new(Code::Invalid, m);
    let decoded = decode_struct(body, "tenant.passwordResetRequestBody", wrap)
        .and_then(|v| str_field(&v, "password", "passwordResetRequestBody", &wrap).map(|_| ()));
    if let Err(e) = decoded {
        return err(&e);
    }
    match Id::parse(raw_id) {
        Err(id_err) => {
            let first = ApiError::new(Code::Internal, "invalid user ID provided in route");
            let second = invalid(id_err.to_string());
            let mut resp = err(&first);
            *resp.body_mut() = Body::from(first.indented_body() + &second.indented_body());
            resp
        }
        Ok(_) => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            resp
        }
    }
}

// ---------------------------------------------------------------------------------------------
// /api/v2/buckets

pub async fn buckets(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    let method = req.method().clone();
    let (parts, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    let mut store = state.store();
    let result = if method == Method::POST {
        let cloud =
            (state.config.flavor == crate::config::Flavor::Cloud).then_some(&state.config.cloud);
        post_bucket(&mut store, &auth, &body, now, cloud).map(|j| (StatusCode::CREATED, j))
    } else {
        let q = QueryParams::parse(parts.uri.query());
        list_buckets(&store, &auth, &q).map(|j| (StatusCode::OK, j))
    };
    match result {
        Ok((status, j)) => ok(status, j),
        Err(e) => err(&e),
    }
}

/// `influxdb.DecodeFindOptions`: limit 1–100 (default 20), offset ≥ 0, `descending`, `after`.
struct FindOptions {
    limit: usize,
    offset: usize,
    descending: bool,
    after: Option<Id>,
}

fn find_options(q: &QueryParams) -> Result<FindOptions, ApiError> {
    let mut o = FindOptions {
        limit: 20,
        offset: 0,
        descending: false,
        after: None,
    };
    if let Some(raw) = q.get("offset").filter(|s| !s.is_empty()) {
        o.offset = raw
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .map(|v| v as usize)
            .ok_or_else(|| invalid("offset must be greater than or equal to 0"))?;
    }
    if let Some(raw) = q.get("limit").filter(|s| !s.is_empty()) {
        o.limit = raw
            .parse::<i64>()
            .ok()
            .filter(|v| (1..=100).contains(v))
            .map(|v| v as usize)
            .ok_or_else(|| invalid("limit must be between 1 and 100"))?;
    }
    if let Some(raw) = q.get("descending").filter(|s| !s.is_empty()) {
        o.descending = raw == "true";
    }
    if let Some(raw) = q.get("after").filter(|s| !s.is_empty()) {
        o.after = Some(parse_id(raw)?);
    }
    Ok(o)
}

/// Go's `url.Values.Encode`: keys sorted, values query-escaped.
fn encode_query(mut pairs: Vec<(&str, String)>) -> String {
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn list_buckets(store: &Store, auth: &Authorization, q: &QueryParams) -> Result<J, ApiError> {
    let opts = find_options(q)?;
    let org_id = q
        .get("orgID")
        .filter(|s| !s.is_empty())
        .map(parse_id)
        .transpose()?;
    let org_name = q.get("org").filter(|s| !s.is_empty());
    let name = q.get("name").filter(|s| !s.is_empty());
    let id = q
        .get("id")
        .filter(|s| !s.is_empty())
        .map(parse_id)
        .transpose()?;

    let found: Vec<&Bucket> = if let Some(id) = id {
        vec![store
            .buckets
            .get(&id)
            .ok_or_else(|| ApiError::new(Code::NotFound, "bucket not found"))?]
    } else if let (Some(name), Some(org)) = (name, org_id) {
        vec![store
            .bucket_by_name(org, name)
            .ok_or_else(|| crate::engine::lookup::bucket_name_not_found(name))?]
    } else {
        let org = match (org_id, org_name) {
            (Some(id), _) => Some(id),
            (None, Some(n)) => Some(store.org_by_name(n).map(|o| o.id).ok_or_else(|| {
                ApiError::new(
                    Code::NotFound,
                    format!("organization name \"{n}\" not found"),
                )
            })?),
            _ => None,
        };
        let mut list: Vec<&Bucket> = store
            .buckets
            .values()
            .filter(|b| org.is_none_or(|o| b.org_id == o))
            .filter(|b| name.is_none_or(|n| b.name == n))
            .collect();
        // Within an org the kv index is keyed by name; across orgs, by ID.
        if org.is_some() {
            list.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        }
        if opts.descending {
            list.reverse();
        }
        if let Some(after) = opts.after {
            if let Some(pos) = list.iter().position(|b| b.id == after) {
                list.drain(..=pos);
            }
        }
        list.into_iter()
            .skip(opts.offset)
            .take(opts.limit)
            .collect()
    };
    let n = found.len();
    let buckets: Vec<J> = found
        .into_iter()
        .filter(|b| {
            can(
                auth,
                Action::Read,
                ResourceKind::Buckets,
                b.org_id,
                Some(b.id),
            )
        })
        .map(bucket_json)
        .collect();

    // influxdb.NewPagingLinks: filter params, then the find options.
    let mut params: Vec<(&str, String)> = Vec::new();
    if let Some(id) = id {
        params.push(("id", id.to_string()));
    }
    if let Some(o) = org_id {
        params.push(("orgID", o.to_string()));
    }
    if let Some(o) = org_name {
        params.push(("org", o.to_string()));
    }
    if let Some(n) = name {
        params.push(("name", n.to_string()));
    }
    params.push(("descending", opts.descending.to_string()));
    params.push(("limit", opts.limit.to_string()));
    params.push(("offset", opts.offset.to_string()));
    if let Some(a) = opts.after {
        params.push(("after", a.to_string()));
    }
    let with_offset = |off: usize| {
        let mut p = params.clone();
        if let Some(slot) = p.iter_mut().find(|(k, _)| *k == "offset") {
            slot.1 = off.to_string();
        }
        format!("/api/v2/buckets?{}", encode_query(p))
    };
    let mut link_fields: Vec<(&'static str, J)> = Vec::new();
    if opts.offset > 0 {
        link_fields.push((
            "prev",
            J::s(with_offset(opts.offset.saturating_sub(opts.limit))),
        ));
    }
    link_fields.push(("self", J::s(with_offset(opts.offset))));
    if n >= opts.limit {
        link_fields.push(("next", J::s(with_offset(opts.offset + opts.limit))));
    }
    Ok(J::Obj(vec![
        ("links", J::Obj(link_fields)),
        ("buckets", J::Arr(buckets)),
    ]))
}

fn validate_bucket_name(name: &str) -> Result<(), ApiError> {
    if name.starts_with('_') {
        return Err(invalid(format!(
            "bucket name {name} is invalid. Buckets may not start with underscore"
        )));
    }
    if name.contains('"') {
        return Err(invalid(format!(
            "bucket name {name} is invalid. Bucket names may not include quotation marks"
        )));
    }
    if name.is_empty() {
        return Err(invalid("name is empty"));
    }
    Ok(())
}

/// One retention rule of a request: `everySeconds` and `shardGroupDurationSeconds`, each
/// absent or given.
type Rule = (Option<i64>, Option<i64>);

/// The retention rules of a request.
fn retention_rules(
    v: &Value,
    go_struct: &str,
    wrap: &impl Fn(String) -> ApiError,
) -> Result<Vec<Rule>, ApiError> {
    let rules = match v.field("retentionRules") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(wrap(go_json::struct_field_type_error(
                other.kind_word(),
                go_struct,
                "retentionRules",
                "[]tenant.retentionRule",
            )))
        }
    };
    let mut out = Vec::new();
    for r in rules {
        if !matches!(r, Value::Object(_) | Value::Null) {
            return Err(wrap(go_json::struct_field_type_error(
                r.kind_word(),
                go_struct,
                "retentionRules",
                "tenant.retentionRule",
            )));
        }
        let every = int_field(
            r,
            "everySeconds",
            "retentionRule",
            "retentionRules.everySeconds",
            wrap,
        )?;
        let sgd = int_field(
            r,
            "shardGroupDurationSeconds",
            "retentionRule",
            "retentionRules.shardGroupDurationSeconds",
            wrap,
        )?;
        out.push((every, sgd));
    }
    Ok(out)
}

fn check_rules(rules: &[Rule]) -> Result<(), ApiError> {
    if rules.len() > 1 {
        return Err(ApiError::new(
            Code::UnprocessableEntity,
            "buckets cannot have more than one retention rule at this time",
        ));
    }
    if let Some((every, sgd)) = rules.first() {
        if every.is_some_and(|e| e < 0) {
            return Err(ApiError::new(
                Code::UnprocessableEntity,
                "expiration seconds cannot be negative",
            ));
        }
        if sgd.is_some_and(|s| s < 0) {
            return Err(ApiError::new(
                Code::UnprocessableEntity,
                "shard-group duration seconds cannot be negative",
            ));
        }
    }
    Ok(())
}

/// The storage engine's check on a retention period (`meta.RetentionPolicySpec`), raw error.
fn check_engine_retention(retention: i64) -> Result<(), ApiError> {
    if retention != 0 && retention < NANOS_PER_HOUR {
        return Err(ApiError::new(
            Code::Internal,
            "retention policy duration must be at least 1h0m0s",
        ));
    }
    Ok(())
}

fn post_bucket(
    store: &mut Store,
    auth: &Authorization,
    body: &[u8],
    now: i64,
    cloud: Option<&crate::engine::cloud::CloudConfig>,
) -> Result<J, ApiError> {
    // kithttp.API.DecodeJSON wraps decode errors (UNCONFIRMED exact wrapping).
    let wrap = |m: String| invalid(format!("failed to decode request body: {m}"));
    let v = decode_struct(body, "tenant.postBucketRequest", wrap)?;
    let org_id = id_field(&v, "orgID", &wrap)?;
    let name = str_field(&v, "name", "postBucketRequest", &wrap)?.unwrap_or_default();
    let description = str_field(&v, "description", "postBucketRequest", &wrap)?.unwrap_or_default();
    str_field(&v, "rp", "postBucketRequest", &wrap)?;
    let schema = str_field(&v, "schemaType", "postBucketRequest", &wrap)?;
    let rules = retention_rules(&v, "postBucketRequest", &wrap)?;
    // postBucketRequest.OK()
    let org_id = org_id.ok_or_else(|| invalid("organization id must be provided"))?;
    check_rules(&rules)?;
    let (every, sgd) = rules.first().copied().unwrap_or((None, None));
    // Cloud: `everySeconds` defaults to 2592000 (30 days) when no rule is sent.
    let every = match (cloud, rules.is_empty()) {
        (Some(_), true) => Some(2_592_000),
        _ => every,
    };
    let retention = every.unwrap_or(0).saturating_mul(NANOS_PER_SECOND);
    let sgd = sgd.unwrap_or(0).saturating_mul(NANOS_PER_SECOND);
    // The authorizer: write permission on the org's buckets.
    if !can(auth, Action::Write, ResourceKind::Buckets, org_id, None) {
        return Err(unauthorized(&format!("write:orgs/{org_id}/buckets")));
    }
    if !store.orgs.contains_key(&org_id) {
        return Err(ApiError::new(Code::NotFound, "organization not found"));
    }
    validate_bucket_name(&name)?;
    if store.bucket_by_name(org_id, &name).is_some() {
        return Err(ApiError::new(
            Code::Conflict,
            format!("bucket with name {name} already exists"),
        ));
    }
    // The tenant record would be created, then rolled back when the engine refuses it.
    check_engine_retention(retention)?;
    // Cloud's schemaType is kept on the bucket; OSS does not echo it.
    let schema_type = match schema.as_deref() {
        Some("explicit") => SchemaType::Explicit,
        _ => SchemaType::Implicit,
    };
    if let Some(cloud) = cloud {
        check_cloud_bucket_quota(store, org_id, retention, cloud)?;
    }
    let id = store
        .create_bucket_described(
            org_id,
            &name,
            &description,
            retention,
            sgd,
            schema_type,
            now,
        )
        .map_err(|e| match e {
            TenancyError::OrgNotFound => ApiError::new(Code::NotFound, "organization not found"),
            other => ApiError::new(Code::Conflict, other.to_string()),
        })?;
    let mut out = bucket_json(&store.buckets[&id]);
    if cloud.is_some() {
        add_schema_type(&mut out, schema_type);
    }
    Ok(out)
}

/// Cloud bucket objects carry `schemaType` (after `name`, as the Cloud contract lists it).
fn add_schema_type(j: &mut J, schema_type: SchemaType) {
    if let J::Obj(fields) = j {
        let at = fields
            .iter()
            .position(|(k, _)| *k == "name")
            .map_or(fields.len(), |i| i + 1);
        let value = match schema_type {
            SchemaType::Implicit => "implicit",
            SchemaType::Explicit => "explicit",
        };
        fields.insert(at, ("schemaType", J::s(value)));
    }
}

/// Cloud plan quotas on bucket creation (cloud.md §4.2): the bucket count (system buckets
/// excluded) and the longest retention. Both answers are UNCONFIRMED: no public source gives
/// Cloud's texts, so they say plainly which quota was hit.
fn check_cloud_bucket_quota(
    store: &Store,
    org_id: Id,
    retention: i64,
    cloud: &crate::engine::cloud::CloudConfig,
) -> Result<(), ApiError> {
    if let Some(max) = cloud.limits.max_buckets {
        let count = store
            .buckets
            .values()
            .filter(|b| b.org_id == org_id && b.kind == crate::storage::BucketKind::User)
            .count();
        if count >= max {
            return Err(ApiError::new(
                Code::Forbidden,
                format!("bucket quota exceeded: the plan allows {max} buckets (excluding _monitoring and _tasks)"),
            ));
        }
    }
    if let Some(max) = cloud.limits.max_retention {
        if retention == 0 || retention > max {
            return Err(ApiError::new(
                Code::UnprocessableEntity,
                format!(
                    "retention period exceeds the plan maximum of {}",
                    crate::model::time::format_go_duration(max)
                ),
            ));
        }
    }
    Ok(())
}

pub async fn bucket_by_id(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    req: Request,
) -> Resp {
    let method = req.method().clone();
    let (_, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    let mut store = state.store();
    let result = parse_id(&raw_id).and_then(|id| {
        let b = store
            .buckets
            .get(&id)
            .cloned()
            .ok_or_else(|| ApiError::new(Code::NotFound, "bucket not found"))?;
        match method {
            Method::GET => {
                if !can(
                    &auth,
                    Action::Read,
                    ResourceKind::Buckets,
                    b.org_id,
                    Some(id),
                ) {
                    return Err(unauthorized(&format!(
                        "read:orgs/{}/buckets/{id}",
                        b.org_id
                    )));
                }
                Ok((StatusCode::OK, Some(bucket_json(&b))))
            }
            Method::DELETE => {
                if !can(
                    &auth,
                    Action::Write,
                    ResourceKind::Buckets,
                    b.org_id,
                    Some(id),
                ) {
                    return Err(unauthorized(&format!(
                        "write:orgs/{}/buckets/{id}",
                        b.org_id
                    )));
                }
                if b.kind == BucketKind::System {
                    // UNCONFIRMED code: tenant's errDeleteSystemBucket.
                    return Err(invalid("system buckets cannot be deleted"));
                }
                store.delete_bucket(id);
                Ok((StatusCode::NO_CONTENT, None))
            }
            _ => patch_bucket(&mut store, &auth, b, &body, now).map(|j| (StatusCode::OK, Some(j))),
        }
    });
    reply(result)
}

fn patch_bucket(
    store: &mut Store,
    auth: &Authorization,
    b: Bucket,
    body: &[u8],
    now: i64,
) -> Result<J, ApiError> {
    let wrap = |m: String| invalid(format!("failed to decode request body: {m}"));
    let v = decode_struct(body, "tenant.bucketUpdate", wrap)?;
    let name = str_field(&v, "name", "bucketUpdate", &wrap)?;
    let description = str_field(&v, "description", "bucketUpdate", &wrap)?;
    let rules = retention_rules(&v, "bucketUpdate", &wrap)?;
    check_rules(&rules)?;
    if !can(
        auth,
        Action::Write,
        ResourceKind::Buckets,
        b.org_id,
        Some(b.id),
    ) {
        return Err(unauthorized(&format!(
            "write:orgs/{}/buckets/{}",
            b.org_id, b.id
        )));
    }
    if let Some(n) = &name {
        if *n != b.name {
            if b.kind == BucketKind::System {
                return Err(invalid("system buckets cannot be renamed"));
            }
            validate_bucket_name(n)?;
            if store.bucket_by_name(b.org_id, n).is_some() {
                return Err(ApiError::new(
                    Code::Conflict,
                    format!("bucket with name {n} already exists"),
                ));
            }
        }
    }
    let (every, sgd) = rules.first().copied().unwrap_or((None, None));
    let retention = every.map_or(b.retention, |e| e.saturating_mul(NANOS_PER_SECOND));
    check_engine_retention(retention)?;
    let entry = store
        .buckets
        .get_mut(&b.id)
        .ok_or_else(|| ApiError::new(Code::NotFound, "bucket not found"))?;
    if let Some(n) = name {
        entry.name = n;
    }
    if let Some(d) = description {
        entry.description = d;
    }
    entry.retention = retention;
    entry.shard_group_duration = crate::storage::normalise_shard_group_duration(
        retention,
        sgd.map_or(0, |s| s.saturating_mul(NANOS_PER_SECOND)),
    );
    entry.updated_at = now;
    Ok(bucket_json(entry))
}

// ---------------------------------------------------------------------------------------------
// /api/v2/authorizations

pub async fn authorizations(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    let method = req.method().clone();
    let (parts, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    let mut store = state.store();
    let result = if method == Method::POST {
        post_authorization(&mut store, &auth, &body, now).map(|j| (StatusCode::CREATED, j))
    } else {
        let q = QueryParams::parse(parts.uri.query());
        list_authorizations(&store, &auth, &q).map(|j| (StatusCode::OK, j))
    };
    match result {
        Ok((status, j)) => ok(status, j),
        Err(e) => err(&e),
    }
}

fn parse_permission(v: &Value, wrap: &impl Fn(String) -> ApiError) -> Result<Permission, ApiError> {
    let action = match v.field("action") {
        Some(Value::String(s)) if s == "read" => Action::Read,
        Some(Value::String(s)) if s == "write" => Action::Write,
        _ => return Err(invalid("invalid action type for permission")),
    };
    let null = Value::Null;
    let res = v.field("resource").unwrap_or(&null);
    let kind = match res.field("type") {
        Some(Value::String(s)) => ResourceKind::parse(s),
        _ => None,
    }
    .ok_or_else(|| invalid("invalid resource type for permission"))?;
    Ok(Permission {
        action,
        kind,
        org_id: id_field(res, "orgID", wrap)?,
        id: id_field(res, "id", wrap)?,
    })
}

fn post_authorization(
    store: &mut Store,
    auth: &Authorization,
    body: &[u8],
    now: i64,
) -> Result<J, ApiError> {
    let wrap = |m: String| invalid(format!("invalid json structure: {m}"));
    let v = decode_struct(body, "authorization.postAuthorizationRequest", wrap)?;
    let org_id = id_field(&v, "orgID", &wrap)?;
    let user_id = id_field(&v, "userID", &wrap)?;
    let description =
        str_field(&v, "description", "postAuthorizationRequest", &wrap)?.unwrap_or_default();
    let status = str_field(&v, "status", "postAuthorizationRequest", &wrap)?.unwrap_or_default();
    let perms = match v.field("permissions") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|p| parse_permission(p, &wrap))
            .collect::<Result<Vec<_>, _>>()?,
        _ => Vec::new(),
    };
    if perms.is_empty() {
        return Err(invalid("authorization must include permissions"));
    }
    let org_id = org_id.ok_or_else(|| invalid("org id required: invalid ID"))?;
    let status = match status.as_str() {
        "" | "active" => Status::Active,
        "inactive" => Status::Inactive,
        _ => return Err(invalid("status must be active or inactive")),
    };
    if !can(
        auth,
        Action::Write,
        ResourceKind::Authorizations,
        org_id,
        None,
    ) {
        return Err(unauthorized(&format!("write:orgs/{org_id}/authorizations")));
    }
    if !store.orgs.contains_key(&org_id) {
        return Err(invalid("unable to create token"));
    }
    let user = user_id.unwrap_or(auth.user_id);
    let id = store.create_authorization(org_id, user, None, &description, perms, now);
    if let Some(a) = store.authorizations.get_mut(&id) {
        a.status = status;
    }
    Ok(auth_json(store, &store.authorizations[&id]))
}

fn list_authorizations(
    store: &Store,
    auth: &Authorization,
    q: &QueryParams,
) -> Result<J, ApiError> {
    let user_id = q
        .get("userID")
        .filter(|s| !s.is_empty())
        .map(parse_id)
        .transpose()?;
    let org_id = q
        .get("orgID")
        .filter(|s| !s.is_empty())
        .map(parse_id)
        .transpose()?;
    let id = q
        .get("id")
        .filter(|s| !s.is_empty())
        .map(parse_id)
        .transpose()?;
    let user = q.get("user").filter(|s| !s.is_empty());
    let org = q.get("org").filter(|s| !s.is_empty());
    let list: Vec<J> = store
        .authorizations
        .values()
        .filter(|a| id.is_none_or(|i| a.id == i))
        .filter(|a| user_id.is_none_or(|u| a.user_id == u))
        .filter(|a| org_id.is_none_or(|o| a.org_id == o))
        .filter(|a| user.is_none_or(|n| store.users.get(&a.user_id).is_some_and(|u| u.name == n)))
        .filter(|a| org.is_none_or(|n| store.orgs.get(&a.org_id).is_some_and(|o| o.name == n)))
        .filter(|a| {
            a.user_id == auth.user_id
                || can(
                    auth,
                    Action::Read,
                    ResourceKind::Authorizations,
                    a.org_id,
                    Some(a.id),
                )
        })
        .map(|a| auth_json(store, a))
        .collect();
    Ok(J::Obj(vec![
        (
            "links",
            links(&[("self", "/api/v2/authorizations".to_string())]),
        ),
        ("authorizations", J::Arr(list)),
    ]))
}

pub async fn authorization_by_id(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    req: Request,
) -> Resp {
    let method = req.method().clone();
    let (_, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    let mut store = state.store();
    let result = parse_id(&raw_id).and_then(|id| {
        let a = store
            .authorizations
            .get(&id)
            .cloned()
            .ok_or_else(|| ApiError::new(Code::NotFound, "authorization not found"))?;
        let action = if method == Method::GET {
            Action::Read
        } else {
            Action::Write
        };
        if a.user_id != auth.user_id
            && !can(
                &auth,
                action,
                ResourceKind::Authorizations,
                a.org_id,
                Some(id),
            )
        {
            return Err(unauthorized(&format!(
                "{}:orgs/{}/authorizations/{id}",
                action.as_str(),
                a.org_id
            )));
        }
        match method {
            Method::GET => Ok(Some(auth_json(&store, &a))),
            Method::DELETE => {
                store.authorizations.remove(&id);
                Ok(None)
            }
            _ => {
                let v = go_json::decode_first(&body)
                    .map_err(|e| ApiError::new(Code::Internal, e.decoder_message()))?;
                let raw = |m: String| ApiError::new(Code::Internal, m);
                let status = str_field(&v, "status", "AuthorizationUpdate", &raw)?;
                let description = str_field(&v, "description", "AuthorizationUpdate", &raw)?;
                let status = match status.as_deref() {
                    None => None,
                    Some("active") => Some(Status::Active),
                    Some("inactive") => Some(Status::Inactive),
                    Some(_) => return Err(invalid("status must be active or inactive")),
                };
                let entry = store
                    .authorizations
                    .get_mut(&id)
                    .ok_or_else(|| ApiError::new(Code::NotFound, "authorization not found"))?;
                if let Some(s) = status {
                    entry.status = s;
                }
                if let Some(d) = description {
                    entry.description = d;
                }
                entry.updated_at = now;
                let a = entry.clone();
                Ok(Some(auth_json(&store, &a)))
            }
        }
    });
    match result {
        Ok(Some(j)) => ok(StatusCode::OK, j),
        Ok(None) => respond::no_content(),
        Err(e) => err(&e),
    }
}
