//! `/api/v2/authorizations` (`authorization/http_server.go` through
//! `authorization/middleware_auth.go` and `authorization/service.go`).
//!
//! Owning a token grants nothing over it: reading one needs
//! `read:orgs/<org>/authorizations/<id>` and `read:users/<user>`, changing or deleting one the
//! same with `write`, for every caller (the token itself included, so an inactive token cannot
//! re-activate itself). Creating one needs `write:orgs/<org>/authorizations` and
//! `write:users/<user>`, and the caller must hold every permission it grants.

use crate::api_error::{ApiError, Code};
use crate::engine::authorizer;
use crate::model::Id;
use crate::storage::{Authorization, Permission, ResourceKind, Status, Store};

use super::{invalid, not_found};

fn authorization_not_found() -> ApiError {
    not_found("authorization not found")
}

/// `influxdb.ErrUnableToCreateToken`.
fn unable_to_create_token() -> ApiError {
    invalid("unable to create token")
}

/// The filter of `GET /api/v2/authorizations`.
#[derive(Debug, Clone, Default)]
pub struct AuthorizationFilter {
    pub id: Option<Id>,
    pub user_id: Option<Id>,
    pub user: Option<String>,
    pub org_id: Option<Id>,
    pub org: Option<String>,
}

/// `GET /api/v2/authorizations`: names resolve first (unauthorized: 404 for an unknown user
/// or org), then `FindAuthorizations` (an `id` wins over every other filter and is 404 when
/// unknown; otherwise org and user narrow the list, in ID order), then every token the caller
/// may not read is dropped, and so is a token whose org or user is gone (its answer cannot be
/// built, `handleGetAuthorizations`).
pub fn list<'s>(
    store: &'s Store,
    auth: &Authorization,
    mut filter: AuthorizationFilter,
) -> Result<Vec<&'s Authorization>, ApiError> {
    if filter.user_id.is_none() {
        if let Some(name) = &filter.user {
            let u = store
                .user_by_name(name)
                .ok_or_else(|| not_found("user not found"))?;
            filter.user_id = Some(u.id);
        }
    }
    if filter.org_id.is_none() {
        if let Some(name) = &filter.org {
            let o = store
                .org_by_name(name)
                .ok_or_else(|| not_found(format!("organization name \"{name}\" not found")))?;
            filter.org_id = Some(o.id);
        }
    }
    let found: Vec<&Authorization> = match filter.id {
        Some(id) => vec![store
            .authorizations
            .get(&id)
            .ok_or_else(authorization_not_found)?],
        None => store
            .authorizations
            .values()
            .filter(|a| filter.org_id.is_none_or(|o| a.org_id == o))
            .filter(|a| filter.user_id.is_none_or(|u| a.user_id == u))
            .collect(),
    };
    Ok(found
        .into_iter()
        .filter(|a| authorizer::keeps(authorizer::read_authorization(auth, a)))
        .filter(|a| store.orgs.contains_key(&a.org_id) && store.users.contains_key(&a.user_id))
        .collect())
}

/// A token to create, as the request gave it (`postAuthorizationRequest`), with its
/// permissions already decoded; their validity is checked here in `Validate`'s order.
#[derive(Debug, Clone, Default)]
pub struct NewAuthorization {
    pub org_id: Option<Id>,
    pub user_id: Option<Id>,
    pub description: String,
    /// `""` is `active` (`SetDefaults`).
    pub status: String,
    pub permissions: Vec<RequestedPermission>,
}

/// A permission as the body named it: the action and type as sent (validated by
/// `Permission.Valid`), the IDs already decoded.
#[derive(Debug, Clone, Default)]
pub struct RequestedPermission {
    pub action: String,
    pub kind: String,
    pub org_id: Option<Id>,
    pub id: Option<Id>,
}

/// `postAuthorizationRequest.Validate`: permissions present, each valid (type, then action),
/// the org ID, the status.
fn validate(req: &NewAuthorization) -> Result<(Id, Vec<Permission>, Status), ApiError> {
    if req.permissions.is_empty() {
        return Err(invalid("authorization must include permissions"));
    }
    let mut perms = Vec::with_capacity(req.permissions.len());
    for p in &req.permissions {
        let kind = ResourceKind::parse(&p.kind).ok_or_else(|| {
            invalid("invalid resource type for permission: unknown resource type for permission")
        })?;
        let action = match p.action.as_str() {
            "read" => crate::storage::Action::Read,
            "write" => crate::storage::Action::Write,
            _ => {
                return Err(invalid(
                    "invalid action type for permission: unknown action for permission",
                ))
            }
        };
        perms.push(Permission {
            action,
            kind,
            org_id: p.org_id,
            id: p.id,
        });
    }
    let org_id = req
        .org_id
        .ok_or_else(|| invalid("org id required: invalid ID"))?;
    let status = match req.status.as_str() {
        "" => Status::Active,
        s => {
            Status::parse(s).ok_or_else(|| invalid("invalid status: must be active or inactive"))?
        }
    };
    Ok((org_id, perms, status))
}

/// `POST /api/v2/authorizations` after the body decoded, in the handler's and the decorator's
/// order: `Validate`; the caller's user must exist (else 400 `unable to create token`); the
/// body's `userID` or the caller's user; `write:orgs/<org>/authorizations`;
/// `write:users/<user>`; every granted permission held by the caller (403); no `instance`
/// permission (a raw error, 500); every permission in the token's org; user and org exist;
/// then the token is made.
pub fn create(
    store: &mut Store,
    auth: &Authorization,
    req: NewAuthorization,
    now: i64,
) -> Result<Id, ApiError> {
    let (org_id, permissions, status) = validate(&req)?;
    if !store.users.contains_key(&auth.user_id) {
        return Err(unable_to_create_token());
    }
    let user_id = req.user_id.unwrap_or(auth.user_id);
    authorizer::org_wide(
        auth,
        crate::storage::Action::Write,
        ResourceKind::Authorizations,
        org_id,
    )?;
    authorizer::resource(
        auth,
        crate::storage::Action::Write,
        ResourceKind::Users,
        user_id,
    )?;
    authorizer::verify_permissions(auth, &permissions)?;
    if permissions.iter().any(|p| p.kind == ResourceKind::Instance) {
        return Err(ApiError::new(
            Code::Internal,
            "authorizations cannot be created with the instance type, it is only used during setup",
        ));
    }
    if let Some(p) = permissions
        .iter()
        .find(|p| p.org_id.is_some_and(|o| o != org_id))
    {
        return Err(invalid(format!(
            "permission {p} is not for org id {org_id}"
        )));
    }
    if !store.users.contains_key(&user_id) || !store.orgs.contains_key(&org_id) {
        return Err(unable_to_create_token());
    }
    let id = store.create_authorization(org_id, user_id, None, &req.description, permissions, now);
    if let Some(a) = store.authorizations.get_mut(&id) {
        a.status = status;
    }
    Ok(id)
}

/// `GET /api/v2/authorizations/{id}`: the lookup (404), then the two read permissions.
pub fn get<'s>(
    store: &'s Store,
    auth: &Authorization,
    id: Id,
) -> Result<&'s Authorization, ApiError> {
    let a = store
        .authorizations
        .get(&id)
        .ok_or_else(authorization_not_found)?;
    authorizer::read_authorization(auth, a)?;
    Ok(a)
}

/// `PATCH /api/v2/authorizations/{id}` after the body decoded: the handler reads the token
/// through the authorized service (lookup, the two reads), then updates it (lookup, the two
/// writes). Only status and description change; a status other than `active`, `inactive` or
/// `""` (stored as `active`) is refused when stored.
pub fn update<'s>(
    store: &'s mut Store,
    auth: &Authorization,
    id: Id,
    status: Option<String>,
    description: Option<String>,
    now: i64,
) -> Result<&'s Authorization, ApiError> {
    get(store, auth, id)?;
    let a = store
        .authorizations
        .get(&id)
        .ok_or_else(authorization_not_found)?;
    authorizer::write_authorization(auth, a)?;
    let status = match status.as_deref() {
        None => None,
        Some("") => Some(Status::Active),
        Some(s) => Some(Status::parse(s).ok_or_else(|| invalid("unknown authorization status"))?),
    };
    let entry = store
        .authorizations
        .get_mut(&id)
        .ok_or_else(authorization_not_found)?;
    if let Some(s) = status {
        entry.status = s;
    }
    if let Some(d) = description {
        entry.description = d;
    }
    entry.updated_at = now;
    Ok(entry)
}

/// `DELETE /api/v2/authorizations/{id}`: lookup (404), the two write permissions.
pub fn delete(store: &mut Store, auth: &Authorization, id: Id) -> Result<(), ApiError> {
    let a = store
        .authorizations
        .get(&id)
        .ok_or_else(authorization_not_found)?;
    authorizer::write_authorization(auth, a)?;
    store.authorizations.remove(&id);
    Ok(())
}
