//! `/api/v2/users`, `/api/v2/me` and the users' password routes (`tenant/http_server_user.go`
//! through `tenant/middleware_user_auth.go`, `tenant/service_user.go`, `tenant/
//! storage_user.go`). Every check is the authed service's: a refusal is 401 `<permission> is
//! unauthorized`, and it comes before the user is looked up.

use crate::api_error::{ApiError, Code};
use crate::engine::authorizer;
use crate::model::Id;
use crate::storage::{
    Action, Authorization, Permission, ResourceKind, Status, Store, TenancyError, User,
};

use super::FindOptions;

/// `GET /api/v2/me`: the caller's user through `AuthedUserService.FindUserByID`
/// (`read:users/<id>`).
pub fn me<'s>(store: &'s Store, auth: &Authorization) -> Result<&'s User, ApiError> {
    authorizer::resource(auth, Action::Read, ResourceKind::Users, auth.user_id)?;
    store
        .users
        .get(&auth.user_id)
        .ok_or_else(|| ApiError::new(Code::NotFound, "user not found"))
}

fn password_error(e: TenancyError) -> ApiError {
    let code = match e {
        TenancyError::IncorrectUser | TenancyError::IncorrectPassword => Code::Forbidden,
        _ => Code::Invalid,
    };
    ApiError::new(code, e.to_string())
}

/// `AuthedPasswordService.SetPassword`: `write:users/<id>`, then the length (400) and the
/// user (403 `your userID is incorrect`).
pub fn set_password(
    store: &mut Store,
    auth: &Authorization,
    user: Id,
    password: &str,
) -> Result<(), ApiError> {
    authorizer::resource(auth, Action::Write, ResourceKind::Users, user)?;
    store.set_password(user, password).map_err(password_error)
}

/// `AuthedPasswordService.CompareAndSetPassword`: `write:users/<id>`, the old password
/// (403 `your userID is incorrect` for an unknown user, `your username or password is
/// incorrect` for a wrong one or none set), then as [`set_password`].
pub fn change_password(
    store: &mut Store,
    auth: &Authorization,
    user: Id,
    old: &str,
    new: &str,
) -> Result<(), ApiError> {
    authorizer::resource(auth, Action::Write, ResourceKind::Users, user)?;
    if !store.users.contains_key(&user) {
        return Err(password_error(TenancyError::IncorrectUser));
    }
    if !store.password_matches(user, old) {
        return Err(password_error(TenancyError::IncorrectPassword));
    }
    store.set_password(user, new).map_err(password_error)
}

fn user_not_found() -> ApiError {
    ApiError::new(Code::NotFound, "user not found")
}

/// A user name the kv index refuses: the empty key (bolt's `key required`, `empty value`).
fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::new(Code::EmptyValue, "key required"));
    }
    Ok(())
}

fn name_taken(store: &Store, name: &str) -> Result<(), ApiError> {
    if store.user_by_name(name).is_some() {
        return Err(ApiError::new(
            Code::Conflict,
            format!("user with name {name} already exists"),
        ));
    }
    Ok(())
}

/// What `POST /api/v2/users` decoded into an `influxdb.User`.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub id: Option<Id>,
    pub name: String,
    pub oauth_id: String,
    /// Empty means `active` (`handlePostUser`); any other text is stored as given.
    pub status: String,
}

/// `POST /api/v2/users`: global `write:users`, then the name (422 when taken), then the ID
/// the body gave (422 when taken), then the index's empty-key refusal.
pub fn create(store: &mut Store, auth: &Authorization, new: NewUser) -> Result<Id, ApiError> {
    authorizer::global(auth, Action::Write, ResourceKind::Users)?;
    name_taken(store, &new.name)?;
    if let Some(id) = new.id.filter(|id| store.users.contains_key(id)) {
        return Err(ApiError::new(
            Code::Conflict,
            format!("user with ID {id} already exists"),
        ));
    }
    check_name(&new.name)?;
    let (status, status_text) = match (new.status.as_str(), Status::parse(&new.status)) {
        ("", _) => (Status::Active, None),
        (_, Some(status)) => (status, None),
        (other, None) => (Status::Active, Some(other.to_string())),
    };
    let id = new.id.unwrap_or_else(|| store.next_id());
    let user = User {
        id,
        name: new.name,
        status,
        status_text,
        oauth_id: new.oauth_id,
        password: None,
    };
    store.users.insert(id, user);
    Ok(id)
}

/// `GET /api/v2/users/{id}`: `read:users/<id>`, then the lookup.
pub fn get<'s>(store: &'s Store, auth: &Authorization, id: Id) -> Result<&'s User, ApiError> {
    authorizer::resource(auth, Action::Read, ResourceKind::Users, id)?;
    store.users.get(&id).ok_or_else(user_not_found)
}

/// `GET /api/v2/users`. An `id` or `name` filter is one lookup (404 when missing, whatever the
/// caller may read; paging ignored). Otherwise the users in ID order from `after` (descending:
/// backwards from the first ID past `after`, or the last), the offset and limit applied
/// before the read filter, so a page may come back short or empty. Users the caller may not
/// read are left out, never refused.
pub fn list<'s>(
    store: &'s Store,
    auth: &Authorization,
    id: Option<Id>,
    name: Option<&str>,
    opts: &FindOptions,
) -> Result<Vec<&'s User>, ApiError> {
    let found: Vec<&User> = if let Some(id) = id {
        vec![store.users.get(&id).ok_or_else(user_not_found)?]
    } else if let Some(name) = name {
        vec![store.user_by_name(name).ok_or_else(user_not_found)?]
    } else {
        let all: Vec<&User> = store.users.values().collect();
        let page: Box<dyn Iterator<Item = &&User>> = if opts.descending {
            let end = match opts.after {
                // The cursor seeks the first ID past `after` and walks back from it.
                Some(after) => all
                    .iter()
                    .position(|u| u.id > after)
                    .map_or(all.len(), |i| i + 1),
                None => all.len(),
            };
            Box::new(all[..end].iter().rev())
        } else {
            let start = opts
                .after
                .map_or(0, |after| all.partition_point(|u| u.id <= after));
            Box::new(all[start..].iter())
        };
        page.skip(opts.skip()).take(opts.limit).copied().collect()
    };
    Ok(found
        .into_iter()
        .filter(|u| {
            authorizer::keeps(authorizer::resource(
                auth,
                Action::Read,
                ResourceKind::Users,
                u.id,
            ))
        })
        .collect())
}

/// `PATCH /api/v2/users/{id}` after the body decoded and `UserUpdate.Valid` passed:
/// `write:users/<id>`, the lookup, then a new name (422 when another user has it, the empty
/// key refused) and the status.
pub fn update<'s>(
    store: &'s mut Store,
    auth: &Authorization,
    id: Id,
    name: Option<String>,
    status: Option<Status>,
) -> Result<&'s User, ApiError> {
    authorizer::resource(auth, Action::Write, ResourceKind::Users, id)?;
    let current = store.users.get(&id).ok_or_else(user_not_found)?;
    if let Some(name) = name.as_deref().filter(|n| *n != current.name) {
        name_taken(store, name)?;
        check_name(name)?;
    }
    let user = store.users.get_mut(&id).ok_or_else(user_not_found)?;
    if let Some(name) = name {
        user.name = name;
    }
    if let Some(status) = status {
        user.status = status;
        user.status_text = None;
    }
    Ok(user)
}

/// `DELETE /api/v2/users/{id}`: `write:users/<id>`, the lookup, then the user with its
/// password and resource mappings ([`Store::delete_user`]).
pub fn delete(store: &mut Store, auth: &Authorization, id: Id) -> Result<(), ApiError> {
    authorizer::resource(auth, Action::Write, ResourceKind::Users, id)?;
    store.delete_user(id).map(|_| ()).ok_or_else(user_not_found)
}

/// `GET /api/v2/users/{id}/permissions`: `read:users/<id>`, then the permissions of any ID
/// (no lookup: an unknown user has its `MePermissions` only).
pub fn permissions(
    store: &Store,
    auth: &Authorization,
    id: Id,
) -> Result<Vec<Permission>, ApiError> {
    authorizer::resource(auth, Action::Read, ResourceKind::Users, id)?;
    Ok(store.user_permissions(id))
}
