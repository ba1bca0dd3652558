//! The three write endpoints (spec `v3.md` §3, §4, §5): `POST /api/v3/write_lp` (`write_lp`),
//! `POST /write` (`parse_v1` then `write_lp_inner`) and `POST /api/v2/write` (`parse_v2` then
//! `write_lp_inner`, every error in the v2 shape).

use std::sync::Arc;

use axum::body::Body;
use axum::http::Response;

use super::error::{read_body, Error};
use super::{error_message, plain, Incoming, Routed};
use crate::http::AppState;
use crate::v3::params::{self, validate_db_name, WriteParams};
use crate::v3::write::{self as engine, Precision};

/// What `write_lp_inner` needs from the parameters.
struct Target {
    db: String,
    precision: Precision,
    accept_partial: bool,
}

/// `write_lp_inner`: the name rules, the body (encoding, size, gzip, UTF-8), the time once,
/// then the pipeline. Lines are parsed and stored on the blocking pool.
async fn write_lp_inner(state: &Arc<AppState>, target: Target, req: Incoming) -> Result<(), Error> {
    validate_db_name(&target.db)?;
    let body = read_body(&req, state.config.v3.max_request_bytes)?;
    std::str::from_utf8(&body).map_err(Error::NonUtf8Body)?;
    let default_time = state.clock.now_nanos();
    let state = Arc::clone(state);
    let result = tokio::task::spawn_blocking(move || {
        // Checked above; a body that stopped being UTF-8 cannot happen.
        let text = std::str::from_utf8(&body).unwrap_or_default();
        let mut v3 = state.v3();
        engine::write_lp(
            &mut v3.catalog,
            &engine::WriteRequest {
                db: &target.db,
                body: text,
                precision: target.precision,
                accept_partial: target.accept_partial,
                default_time,
            },
        )
    })
    .await;
    match result {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(Error::Query {
            status: 500,
            message: "internal error: the write failed".into(),
        }),
    }
}

fn no_content() -> Response<Body> {
    plain(204, "")
}

/// `POST /api/v3/write_lp`.
pub async fn write_lp(state: &Arc<AppState>, req: Incoming) -> Routed {
    let Some(query) = req.query.clone() else {
        return Err(Error::MissingWriteParams.into_response());
    };
    let p: WriteParams = serde_urlencoded::from_str(&query)
        .map_err(|e| Error::SerdeUrlDecoding(e.to_string()).into_response())?;
    // `no_sync` only changes durability; the reference is in memory and answers once stored.
    let target = Target {
        db: p.db,
        precision: p.precision.unwrap_or_default(),
        accept_partial: p.accept_partial.unwrap_or(true),
    };
    write_lp_inner(state, target, req)
        .await
        .map(|()| no_content())
        .map_err(Error::into_response)
}

/// `POST /write`: the v1 parameter errors are `{"error":...}` with status 400.
pub async fn v1_write(state: &Arc<AppState>, req: Incoming) -> Routed {
    let legacy = params::parse_v1(req.query.as_deref())
        .map_err(|e| error_message::<()>(400, &e.to_string(), None))?;
    let target = Target {
        db: legacy.db,
        precision: legacy.precision,
        accept_partial: false,
    };
    write_lp_inner(state, target, req)
        .await
        .map(|()| no_content())
        .map_err(Error::into_response)
}

/// `POST /api/v2/write`: everything after authentication in the v2 shape.
pub async fn v2_write(state: &Arc<AppState>, req: Incoming) -> Routed {
    let legacy = params::parse_v2(req.query.as_deref())
        .map_err(|e| Error::LegacyWriteParse(e).into_v2_response())?;
    let target = Target {
        db: legacy.db,
        precision: legacy.precision,
        accept_partial: false,
    };
    write_lp_inner(state, target, req)
        .await
        .map(|()| no_content())
        .map_err(Error::into_v2_response)
}
