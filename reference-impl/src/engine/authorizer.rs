//! InfluxDB 2.7's `authorizer` package: the permission each tenancy operation asks for, and
//! the errors it answers with (`authorizer/authorize.go`, `authorizer/auth.go`).
//!
//! Every check goes through [`is_allowed`]: an inactive token's permission set is an error of
//! its own (`401 token is inactive`, `auth.go`), anything else not covered is
//! `401 <permission> is unauthorized`. List endpoints drop what [`is_allowed`] refuses
//! (`authorizer/authorize_find.go`), so an inactive token lists nothing.

use crate::api_error::{ApiError, Code};
use crate::model::Id;
use crate::storage::{Action, Authorization, Bucket, BucketKind, Permission, ResourceKind, Status};

fn want(action: Action, kind: ResourceKind, org_id: Option<Id>, id: Option<Id>) -> Permission {
    Permission {
        action,
        kind,
        org_id,
        id,
    }
}

/// `Authorization.PermissionSet()`: an inactive token has none (`401 token is inactive`).
pub fn permission_set(auth: &Authorization) -> Result<&[Permission], ApiError> {
    if auth.status == Status::Inactive {
        return Err(ApiError::new(Code::Unauthorized, "token is inactive"));
    }
    Ok(&auth.permissions)
}

/// `isAllowed`: the token is active and a permission covers `p`, else `<p> is unauthorized`.
pub fn is_allowed(auth: &Authorization, p: &Permission) -> Result<(), ApiError> {
    let set = permission_set(auth)?;
    if set.iter().any(|held| held.matches(p)) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Unauthorized,
            format!("{p} is unauthorized"),
        ))
    }
}

/// `AuthorizeRead`/`AuthorizeWrite`: `orgs/<org>/<kind>/<id>`.
pub fn in_org(
    auth: &Authorization,
    action: Action,
    kind: ResourceKind,
    id: Id,
    org: Id,
) -> Result<(), ApiError> {
    is_allowed(auth, &want(action, kind, Some(org), Some(id)))
}

/// `AuthorizeReadResource`/`AuthorizeWriteResource`: `<kind>/<id>`, no org.
pub fn resource(
    auth: &Authorization,
    action: Action,
    kind: ResourceKind,
    id: Id,
) -> Result<(), ApiError> {
    is_allowed(auth, &want(action, kind, None, Some(id)))
}

/// `AuthorizeCreate` / `AuthorizeOrgReadResource`: `orgs/<org>/<kind>`.
pub fn org_wide(
    auth: &Authorization,
    action: Action,
    kind: ResourceKind,
    org: Id,
) -> Result<(), ApiError> {
    is_allowed(auth, &want(action, kind, Some(org), None))
}

/// `AuthorizeReadOrg`/`AuthorizeWriteOrg`: `orgs/<id>`.
pub fn org(auth: &Authorization, action: Action, id: Id) -> Result<(), ApiError> {
    resource(auth, action, ResourceKind::Orgs, id)
}

/// `AuthorizeReadGlobal`/`AuthorizeWriteGlobal`: the whole type.
pub fn global(auth: &Authorization, action: Action, kind: ResourceKind) -> Result<(), ApiError> {
    is_allowed(auth, &want(action, kind, None, None))
}

/// `AuthorizeReadBucket`: a system bucket (`_tasks`, `_monitoring`) needs `read:orgs/<org>`; a
/// user bucket `read:orgs/<org>/buckets/<id>`.
pub fn read_bucket(auth: &Authorization, bucket: &Bucket) -> Result<(), ApiError> {
    match bucket.kind {
        BucketKind::System => org(auth, Action::Read, bucket.org_id),
        BucketKind::User => in_org(
            auth,
            Action::Read,
            ResourceKind::Buckets,
            bucket.id,
            bucket.org_id,
        ),
    }
}

/// `AuthorizeWrite(buckets, id, org)` on a bucket.
pub fn write_bucket(auth: &Authorization, bucket: &Bucket) -> Result<(), ApiError> {
    in_org(
        auth,
        Action::Write,
        ResourceKind::Buckets,
        bucket.id,
        bucket.org_id,
    )
}

/// `AuthorizeFindAuthorizations` for one token, and the read half of GET and PATCH:
/// `read:orgs/<org>/authorizations/<id>`, then `read:users/<user>`.
pub fn read_authorization(auth: &Authorization, a: &Authorization) -> Result<(), ApiError> {
    in_org(
        auth,
        Action::Read,
        ResourceKind::Authorizations,
        a.id,
        a.org_id,
    )?;
    resource(auth, Action::Read, ResourceKind::Users, a.user_id)
}

/// The write half of PATCH and DELETE of a token: `write:orgs/<org>/authorizations/<id>`,
/// then `write:users/<user>` (`authorization/middleware_auth.go`).
pub fn write_authorization(auth: &Authorization, a: &Authorization) -> Result<(), ApiError> {
    in_org(
        auth,
        Action::Write,
        ResourceKind::Authorizations,
        a.id,
        a.org_id,
    )?;
    resource(auth, Action::Write, ResourceKind::Users, a.user_id)
}

/// `authorizer.VerifyPermissions`: a caller may grant only what it holds. The first permission
/// it lacks answers `403 permission <p> is not allowed: <why>` (the inner error is the
/// `isAllowed` text).
pub fn verify_permissions(auth: &Authorization, wanted: &[Permission]) -> Result<(), ApiError> {
    for p in wanted {
        if let Err(e) = is_allowed(auth, p) {
            return Err(ApiError::new(
                Code::Forbidden,
                format!("permission {p} is not allowed: {}", e.message),
            ));
        }
    }
    Ok(())
}

/// Whether a list keeps an item: `authorize_find.go` drops what the check refuses as
/// unauthorized (an inactive token included, whose error has that code too).
pub fn keeps(check: Result<(), ApiError>) -> bool {
    check.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> Id {
        Id::new(n).expect("non-zero")
    }

    fn token(status: Status, permissions: Vec<Permission>) -> Authorization {
        Authorization {
            id: id(100),
            token: "t".into(),
            org_id: id(1),
            user_id: id(2),
            status,
            description: String::new(),
            permissions,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn inactive_tokens_are_refused_before_any_permission_is_looked_at() {
        let all = crate::storage::Store::operator_permissions();
        let t = token(Status::Inactive, all.clone());
        let e = org(&t, Action::Read, id(1)).unwrap_err();
        assert_eq!((e.status(), e.message.as_str()), (401, "token is inactive"));
        let e = verify_permissions(&t, &all[..1]).unwrap_err();
        assert_eq!(e.status(), 403);
        assert_eq!(
            e.message,
            format!("permission {} is not allowed: token is inactive", all[0])
        );
        assert!(org(&token(Status::Active, all), Action::Read, id(1)).is_ok());
    }

    #[test]
    fn refusals_name_the_permission_as_go_prints_it() {
        let t = token(
            Status::Active,
            vec![want(Action::Read, ResourceKind::Buckets, Some(id(1)), None)],
        );
        let e = org_wide(&t, Action::Write, ResourceKind::Buckets, id(1)).unwrap_err();
        assert_eq!(
            e.message,
            "write:orgs/0000000000000001/buckets is unauthorized"
        );
        let e = resource(&t, Action::Write, ResourceKind::Users, id(2)).unwrap_err();
        assert_eq!(e.message, "write:users/0000000000000002 is unauthorized");
        let e = verify_permissions(
            &t,
            &[want(Action::Write, ResourceKind::Orgs, None, Some(id(1)))],
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "permission write:orgs/0000000000000001 is not allowed: write:orgs/0000000000000001 is unauthorized"
        );
    }
}
