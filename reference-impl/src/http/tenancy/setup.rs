//! `/api/v2/setup` (no token needed).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};

use crate::api_error::{ApiError, Code};
use crate::engine::tenancy::setup::{onboard, OnboardingRequest};
use crate::http::json_out::J;
use crate::http::AppState;

use super::decode::{decode_struct, int_field, str_field};
use super::shapes::{bucket_json, org_json, setup_auth_json, user_json};
use super::{body_of, err, locked, ok, Resp};

pub async fn setup(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    if req.method() == Method::GET {
        let allowed = locked(&state, |store| Ok(store.onboarding_allowed())).await;
        return match allowed {
            Ok(allowed) => ok(StatusCode::OK, J::Obj(vec![("allowed", J::Bool(allowed))])),
            Err(e) => err(&e),
        };
    }
    let (_, body) = match body_of(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let req = match decode(&body) {
        Ok(r) => r,
        Err(e) => return err(&e),
    };
    let now = state.clock.now_nanos();
    let result = locked(&state, move |store| {
        let made = onboard(store, &req, now)?;
        let auth = setup_auth_json(store, &store.authorizations[&made.authorization]);
        Ok(J::Obj(vec![
            ("user", user_json(&store.users[&made.user])),
            ("bucket", bucket_json(&store.buckets[&made.bucket], false)),
            ("org", org_json(&store.orgs[&made.org])),
            ("auth", auth),
        ]))
    })
    .await;
    match result {
        Ok(j) => ok(StatusCode::CREATED, j),
        Err(e) => err(&e),
    }
}

/// `json.NewDecoder(r.Body).Decode(&req)`: a decode error reaches `api.Err` raw (500
/// `internal error` with Go's text, spec §9.2).
fn decode(body: &[u8]) -> Result<OnboardingRequest, ApiError> {
    let raw = |m: String| ApiError::new(Code::Internal, m);
    let v = decode_struct(body, "influxdb.OnboardingRequest", raw)?;
    let s = |k: &str| str_field(&v, k, "OnboardingRequest", &raw);
    let int = |k: &str| int_field(&v, k, "OnboardingRequest", k, &raw);
    Ok(OnboardingRequest {
        username: s("username")?.unwrap_or_default(),
        password: s("password")?.unwrap_or_default(),
        org: s("org")?.unwrap_or_default(),
        bucket: s("bucket")?.unwrap_or_default(),
        token: s("token")?.unwrap_or_default(),
        retention_period_seconds: int("retentionPeriodSeconds")?.unwrap_or(0),
        retention_period_hrs: int("retentionPeriodHrs")?.unwrap_or(0),
    })
}
