//! `POST /api/v2/setup` (`tenant/http_server_onboarding.go`, `tenant/service_onboarding.go`):
//! the first user, org, bucket and operator token, as `influx setup` makes them.

use crate::api_error::{ApiError, Code};
use crate::model::time::NANOS_PER_SECOND;
use crate::model::Id;
use crate::storage::{SchemaType, Store, TenancyError, PASSWORD_LENGTHS};

use super::invalid;

/// An onboarding request (`influxdb.OnboardingRequest`), decoded.
#[derive(Debug, Clone, Default)]
pub struct OnboardingRequest {
    pub username: String,
    pub password: String,
    pub org: String,
    pub bucket: String,
    pub token: String,
    pub retention_period_seconds: i64,
    /// A raw `time.Duration` in nanoseconds despite its name.
    pub retention_period_hrs: i64,
}

/// What onboarding made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Onboarded {
    pub user: Id,
    pub org: Id,
    pub bucket: Id,
    pub authorization: Id,
}

/// Onboarding after the body decoded: refused once done (422 `conflict`), then the required
/// fields and the password length; then the user (with the `instance` owner mapping), the org
/// it owns, the engine's retention floor (which leaves them in place), the bucket and an
/// operator token.
pub fn onboard(
    store: &mut Store,
    req: &OnboardingRequest,
    now: i64,
) -> Result<Onboarded, ApiError> {
    if !store.onboarding_allowed() {
        return Err(ApiError::new(
            Code::Conflict,
            "onboarding has already been completed",
        ));
    }
    let missing: Vec<&str> = [
        ("username", &req.username),
        ("org", &req.org),
        ("bucket", &req.bucket),
    ]
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
    if !req.password.is_empty() && !PASSWORD_LENGTHS.contains(&req.password.len()) {
        return Err(invalid(TenancyError::PasswordLength.to_string()));
    }
    // `retentionPeriodSeconds` wins; `retentionPeriodHrs` is a raw time.Duration (ns).
    let retention = if req.retention_period_seconds > 0 {
        req.retention_period_seconds
            .saturating_mul(NANOS_PER_SECOND)
    } else {
        req.retention_period_hrs.max(0)
    };
    let user = store.create_user(&req.username);
    if !req.password.is_empty() {
        store
            .set_password(user, &req.password)
            .map_err(|e| invalid(e.to_string()))?;
    }
    let org = store
        .create_org(&req.org, "", now)
        .map_err(|e| ApiError::new(Code::Conflict, e.to_string()))?;
    // The new user is in the context when the org is created, so it becomes the org's owner;
    // it also gets the instance owner mapping.
    store.add_org_owner(user, org);
    store.instance_owners.insert(user);
    // The engine refuses the bucket (`storage/bucket_service.go` rolls back only the bucket),
    // so the user, the org and its owners stay: onboarding is then complete, and a retry is
    // 422 (`tenant/service_onboarding.go` creates them first and cleans none of them up).
    super::buckets::check_engine_retention(retention)?;
    let bucket = store
        .create_bucket(org, &req.bucket, retention, 0, SchemaType::Implicit, now)
        .map_err(|e| ApiError::new(Code::Conflict, e.to_string()))?;
    let preset = (!req.token.is_empty()).then_some(req.token.as_str());
    let authorization = store.create_authorization(
        org,
        user,
        preset,
        &format!("{}'s Token", req.username),
        Store::operator_permissions(),
        now,
    );
    Ok(Onboarded {
        user,
        org,
        bucket,
        authorization,
    })
}
