//! `/api/v2/orgs` (`tenant/http_server_org.go` through `tenant/middleware_org_auth.go` and
//! `tenant/service_org.go`).

use crate::api_error::{ApiError, Code};
use crate::engine::authorizer;
use crate::model::Id;
use crate::storage::{Action, Authorization, Org, ResourceKind, Store, TenancyError};

use super::{invalid, not_found, FindOptions};

/// The filter of `GET /api/v2/orgs`: `org` (name), `orgID` and `userID` (the handler drops
/// an ID that does not parse).
#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub name: Option<String>,
    pub id: Option<Id>,
    pub user_id: Option<Id>,
}

fn org_not_found() -> ApiError {
    not_found("organization not found")
}

/// `AuthedOrgService.FindOrganizations`: with no filter, a caller without global
/// `read:orgs` (an inactive token included) is narrowed to the orgs its user has a mapping
/// on; an ID or name is looked up unauthorized (404s), then every org the caller cannot read
/// is dropped (`AuthorizeFindOrganizations`).
pub fn list<'s>(
    store: &'s Store,
    auth: &Authorization,
    mut filter: OrgFilter,
    opts: &FindOptions,
) -> Result<Vec<&'s Org>, ApiError> {
    let unfiltered = filter.name.is_none() && filter.id.is_none() && filter.user_id.is_none();
    if unfiltered && authorizer::global(auth, Action::Read, ResourceKind::Orgs).is_err() {
        filter.user_id = Some(auth.user_id);
    }
    let found: Vec<&Org> = if let Some(id) = filter.id {
        vec![store.orgs.get(&id).ok_or_else(org_not_found)?]
    } else if let Some(name) = &filter.name {
        vec![store
            .org_by_name(name)
            .ok_or_else(|| not_found(format!("organization name \"{name}\" not found")))?]
    } else if let Some(user) = filter.user_id {
        // The user's org mappings (paged), then each org by ID; a mapping whose org is gone
        // is skipped.
        store
            .org_owners
            .iter()
            .filter(|(u, _)| *u == user)
            .skip(opts.skip())
            .take(opts.limit)
            .filter_map(|(_, o)| store.orgs.get(o))
            .collect()
    } else {
        // `ListOrgs`: the kv bucket in ID order, offset then limit.
        store
            .orgs
            .values()
            .skip(opts.skip())
            .take(opts.limit)
            .collect()
    };
    Ok(found
        .into_iter()
        .filter(|o| authorizer::keeps(authorizer::org(auth, Action::Read, o.id)))
        .collect())
}

/// `POST /api/v2/orgs` after the body decoded: global `write:orgs`, then the name, then
/// creation; the caller's user becomes the new org's owner.
pub fn create(
    store: &mut Store,
    auth: &Authorization,
    name: &str,
    description: &str,
    now: i64,
) -> Result<Id, ApiError> {
    authorizer::global(auth, Action::Write, ResourceKind::Orgs)?;
    if name.is_empty() {
        return Err(invalid("org name is empty"));
    }
    let id = store
        .create_org(name, description, now)
        .map_err(|e| ApiError::new(Code::Conflict, e.to_string()))?;
    store.add_org_owner(auth.user_id, id);
    Ok(id)
}

/// `GET /api/v2/orgs/{id}`: `read:orgs/<id>` is checked before the lookup, so an unknown
/// org and one the caller cannot read answer alike.
pub fn get<'s>(store: &'s Store, auth: &Authorization, id: Id) -> Result<&'s Org, ApiError> {
    authorizer::org(auth, Action::Read, id)?;
    store.orgs.get(&id).ok_or_else(org_not_found)
}

/// `PATCH /api/v2/orgs/{id}` (`tenant.Store.UpdateOrg`): `write:orgs/<id>`, the lookup, then
/// a new name must be free (trimmed, as the name index keys it) and not empty. `updatedAt`
/// moves even when nothing changes.
pub fn update<'s>(
    store: &'s mut Store,
    auth: &Authorization,
    id: Id,
    name: Option<String>,
    description: Option<String>,
    now: i64,
) -> Result<&'s Org, ApiError> {
    authorizer::org(auth, Action::Write, id)?;
    let current = store.orgs.get(&id).ok_or_else(org_not_found)?;
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
    let entry = store.orgs.get_mut(&id).ok_or_else(org_not_found)?;
    if let Some(n) = name {
        entry.name = n;
    }
    if let Some(d) = description {
        entry.description = d;
    }
    entry.updated_at = now;
    Ok(entry)
}

/// `DELETE /api/v2/orgs/{id}`: `write:orgs/<id>`, then the org with its buckets, their data
/// and its owner mappings (`OrgSvc.DeleteOrganization`); its tokens stay, as in InfluxDB.
/// Each bucket goes through the DBRP-aware bucket service, which deletes its mappings.
pub fn delete(store: &mut Store, auth: &Authorization, id: Id) -> Result<(), ApiError> {
    authorizer::org(auth, Action::Write, id)?;
    let buckets: Vec<Id> = store
        .buckets
        .values()
        .filter(|b| b.org_id == id)
        .map(|b| b.id)
        .collect();
    store.delete_org(id).ok_or_else(org_not_found)?;
    for b in buckets {
        super::dbrps::bucket_deleted(store, auth, id, b);
    }
    Ok(())
}
