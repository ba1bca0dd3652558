//! `/api/v2/me` and the users' password routes (`tenant/http_server_user.go` through
//! `tenant/middleware_user_auth.go`).

use crate::api_error::{ApiError, Code};
use crate::engine::authorizer;
use crate::model::Id;
use crate::storage::{Action, Authorization, ResourceKind, Store, TenancyError, User};

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
