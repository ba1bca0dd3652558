//! `POST /api/v2/write` and v1-compat `POST /write`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Response};

use crate::api_error::{ApiError, Code};
use crate::config::Flavor;
use crate::engine::auth::{authenticate_v1, v1_credentials};
use crate::engine::v2::{self as engine, is_gzip_encoding, WriteConfig, HARD_BODY_LIMIT};
use crate::storage::{Authorization, Store};

use super::respond::{self, Encoder};
use super::{read_body, AppState, QueryParams};

fn write_config(state: &AppState) -> WriteConfig {
    WriteConfig {
        max_body_bytes: state.config.max_body_bytes,
        storage_version: state.config.storage_version,
    }
}

fn gzip_requested(headers: &HeaderMap) -> bool {
    is_gzip_encoding(headers.get(header::CONTENT_ENCODING).map(|v| v.as_bytes()))
}

/// The configured fault, when this write is one of the share that fails.
fn injected_fault(state: &AppState) -> Option<ApiError> {
    let fault = state.config.fault?;
    let n = state.writes_seen.fetch_add(1, Ordering::SeqCst);
    let fails = |k: u64| (k as f64 * fault.share).floor() as u64;
    if fails(n + 1) == fails(n) {
        return None;
    }
    // OSS 2.7 never sends these; the texts are ours and say so.
    let err = match fault.status {
        429 => ApiError::new(
            Code::TooManyRequests,
            "too many requests (fault injected by influx-reference)",
        ),
        _ => ApiError::new(
            Code::Unavailable,
            "service unavailable (fault injected by influx-reference)",
        ),
    };
    Some(err.with_retry_after(fault.retry_after))
}

/// A write on the cloud flavor: the gateway decides now, the queue applies later.
fn cloud_write(
    state: &AppState,
    mut store: StoreAccess<'_>,
    auth: &Authorization,
    request: &engine::WriteRequest<'_>,
) -> Response<Body> {
    use crate::engine::cloud;
    // Gunzip, parse and group before taking the store lock; free the points after.
    let pre = cloud::prepare(request, &state.config.cloud, state.clock.as_ref());
    let mut parsed = pre.parse(request);
    let result = cloud::write_prepared(
        &mut store.lock(),
        auth,
        request,
        &state.config.cloud,
        &pre,
        parsed.as_mut(),
    );
    drop(parsed);
    match result {
        Ok(_) => respond::no_content(),
        Err(e) => respond::error(&e, Encoder::Compact),
    }
}

fn answer(result: Result<crate::engine::WriteStats, ApiError>) -> Response<Body> {
    match result {
        Ok(_) => respond::no_content(),
        Err(e) => respond::error(&e, Encoder::Compact),
    }
}

/// Bodies up to this size are written on the async worker when the store is free at once (see
/// [`blocking`]): parsing and storing them takes microseconds. A gzipped body qualifies when it
/// is this small both as sent and gunzipped (see [`inline`]).
const INLINE_BODY_BYTES: usize = 32 * 1024;

/// The store lock of a write: already held (a small write on the async worker took it with
/// `try_lock`), or taken when the write gets there (on a write thread, after parsing).
struct StoreAccess<'a> {
    state: &'a AppState,
    held: Option<MutexGuard<'a, Store>>,
}

impl<'a> StoreAccess<'a> {
    fn lock(&mut self) -> MutexGuard<'a, Store> {
        self.held.take().unwrap_or_else(|| self.state.store())
    }
}

fn write_failed() -> Response<Body> {
    respond::error(
        &ApiError::new(Code::Internal, "internal error: the write failed"),
        Encoder::Compact,
    )
}

/// Runs a write's decoding and storing on a write thread (`write_threads`): gunzip, parsing
/// and the store lock can take a while for a large body, and must not hold an async worker
/// meanwhile; a write waits for a free write thread as a future holding no thread. A small
/// body (`inline`) whose store lock is free at once is written right here instead: the two
/// thread hand-offs cost more than such a write, and a write that would wait for the lock
/// still waits for a write thread. A panic is the same 500 either way.
async fn blocking(
    state: Arc<AppState>,
    inline: bool,
    f: impl FnOnce(&AppState, StoreAccess<'_>) -> Response<Body> + Send + 'static,
) -> Response<Body> {
    if inline {
        let held = match state.store.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        };
        if let Some(held) = held {
            let access = StoreAccess {
                state: &state,
                held: Some(held),
            };
            return std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&state, access)))
                .unwrap_or_else(|_| write_failed());
        }
    }
    super::write_threads::run(move || {
        let access = StoreAccess {
            state: &state,
            held: None,
        };
        f(&state, access)
    })
    .await
    .unwrap_or_else(write_failed)
}

/// Whether a write may run on the async worker (see [`blocking`]): its body is at most
/// [`INLINE_BODY_BYTES`], and so is what it gunzips to. Deflate expands up to ~1032:1, so a
/// small gzipped body is gunzipped here once, stopping one byte past the limit: at most
/// [`INLINE_BODY_BYTES`] in and out, microseconds of work whatever the bytes. A body that
/// gunzips larger, or fails to, goes to a write thread, which reads it again and answers
/// as it always does. Gunzipping a small body twice costs less than the two thread hand-offs
/// it spares (a tenth of the fuzzer's writes are gzipped).
fn inline(body: &bytes::Bytes, gzip: bool) -> bool {
    if body.len() > INLINE_BODY_BYTES {
        return false;
    }
    !gzip
        || matches!(
            crate::engine::gunzip::gunzip_capped(body, INLINE_BODY_BYTES),
            Ok((_, false))
        )
}

pub async fn api_v2_write(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let Some(auth) = parts.extensions.get::<Authorization>().cloned() else {
        return respond::error(
            &crate::engine::auth::unauthorized_access(),
            Encoder::Compact,
        );
    };
    if let Some(fault) = injected_fault(&state) {
        return respond::error(&fault, Encoder::Compact);
    }
    let params = QueryParams::parse(parts.uri.query());
    let gzip = gzip_requested(&parts.headers);
    let body = match read_body(body, HARD_BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => return respond::error(&e, Encoder::Compact),
    };
    let small = inline(&body, gzip);
    blocking(state, small, move |state, mut store| {
        let request = engine::WriteRequest {
            org: params.get_bytes("org"),
            org_id: params.get_bytes("orgID"),
            bucket: params.get_bytes("bucket"),
            precision: params.get("precision"),
            gzip,
            body: &body,
        };
        if state.config.flavor == Flavor::Cloud {
            return cloud_write(state, store, &auth, &request);
        }
        let config = write_config(state);
        // Gunzip and parse before taking the store lock: other requests keep the store
        // meanwhile.
        let pre = engine::prepare(&request, &config);
        let mut parsed = pre.parse(state.clock.as_ref());
        let result = engine::write_prepared(
            &mut store.lock(),
            &auth,
            &request,
            &config,
            state.clock.as_ref(),
            &pre,
            parsed.as_mut(),
        );
        let precision = parsed.as_ref().map(|p| p.precision);
        // The parsed body is freed here, after the store lock was released.
        drop(parsed);
        answer_or_stream(result, pre, &body, precision)
    })
    .await
}

/// The answer to a v2 or v1 write; a 400 naming more malformed lines than the engine keeps
/// is streamed from the body (see [`engine::MAX_KEPT_ERRORS`]).
fn answer_or_stream(
    result: Result<crate::engine::WriteStats, ApiError>,
    pre: engine::Prepared<'_>,
    request_body: &bytes::Bytes,
    precision: Option<crate::model::Precision>,
) -> Response<Body> {
    match (&result, precision) {
        (Err(e), Some(precision)) if e.message == engine::MALFORMED_STREAMED => {
            let body = match pre.into_body() {
                Some(std::borrow::Cow::Owned(gunzipped)) => bytes::Bytes::from(gunzipped),
                _ => request_body.clone(),
            };
            malformed_stream(body, precision)
        }
        _ => answer(result),
    }
}

/// `{"code":"invalid","message":"unable to parse '...': ...\n..."}` for every malformed line
/// of `body`, encoded as the compact error encoder would, but written as it is produced: the
/// body is parsed again on tokio's blocking pool (not a write thread: the parse waits whenever
/// the client has not read what came before, a bounded channel), so the answer never sits in
/// memory whole.
fn malformed_stream(body: bytes::Bytes, precision: crate::model::Precision) -> Response<Body> {
    const PIECE: usize = 64 * 1024;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = String::with_capacity(PIECE + 1024);
        out.push_str("{\"code\":\"invalid\",\"message\":\"");
        let mut first = true;
        let mut gone = false;
        let mut text = Vec::new();
        crate::line_protocol::parse_lines_ref(
            &body,
            precision,
            |_| {},
            |e| {
                if gone {
                    return;
                }
                if !first {
                    out.push_str("\\n");
                }
                first = false;
                text.clear();
                e.push_go_bytes(&mut text);
                crate::api_error::push_go_json_bytes_content(&mut out, &text);
                if out.len() >= PIECE {
                    let piece = std::mem::replace(&mut out, String::with_capacity(PIECE + 1024));
                    gone = tx.blocking_send(Ok(piece.into())).is_err();
                }
            },
        );
        out.push_str("\"}");
        let _ = tx.blocking_send(Ok(out.into()));
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece, rx))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(respond::JSON_UTF8),
    );
    headers.insert(
        respond::PLATFORM_ERROR_CODE,
        axum::http::HeaderValue::from_static("invalid"),
    );
    resp
}

pub async fn v1_write(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let params = QueryParams::parse(parts.uri.query());
    let gzip = gzip_requested(&parts.headers);
    let auth = match v1_authenticate(&state, &parts, &params).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    // Past authentication the legacy handler runs inside the gzip handler.
    respond::through_gzip_handler(v1_write_authenticated(state, body, auth, params, gzip).await)
}

/// Another method on `/write`. `Influx1xAuthenticationHandler` wraps the legacy router, so the
/// credentials are checked first (401 without them) and only then does the router answer 405.
pub async fn v1_write_other_method(
    State(state): State<Arc<AppState>>,
    req: Request,
) -> Response<Body> {
    let (parts, _body) = req.into_parts();
    let params = QueryParams::parse(parts.uri.query());
    if let Err(resp) = v1_authenticate(&state, &parts, &params).await {
        return resp;
    }
    respond::through_gzip_handler(super::method_not_allowed("POST"))
}

/// The v1 authentication handler: the credentials `parseCredentials` finds, looked up.
async fn v1_authenticate(
    state: &Arc<AppState>,
    parts: &axum::http::request::Parts,
    params: &QueryParams,
) -> Result<Authorization, Response<Body>> {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec());
    let creds = v1_credentials(params.get("u"), params.get("p"), header.as_deref());
    match state
        .with_store_quick(move |store| authenticate_v1(store, &creds).cloned())
        .await
    {
        Ok(Ok(a)) => Ok(a),
        Ok(Err(e)) | Err(e) => Err(respond::error(&e, Encoder::Compact)),
    }
}

async fn v1_write_authenticated(
    state: Arc<AppState>,
    body: Body,
    auth: Authorization,
    params: QueryParams,
    gzip: bool,
) -> Response<Body> {
    if let Some(fault) = injected_fault(&state) {
        return respond::error(&fault, Encoder::Compact);
    }
    let body = match read_body(body, HARD_BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => return respond::error(&e, Encoder::Compact),
    };
    let small = inline(&body, gzip);
    blocking(state, small, move |state, store| {
        v1_write_blocking(state, store, &auth, &params, gzip, &body)
    })
    .await
}

fn v1_write_blocking(
    state: &AppState,
    mut store: StoreAccess<'_>,
    auth: &Authorization,
    params: &QueryParams,
    gzip: bool,
    request_body: &bytes::Bytes,
) -> Response<Body> {
    let request = engine::V1WriteRequest {
        db: params.get("db"),
        rp: params.get("rp"),
        precision: params.get("precision"),
        gzip,
        body: request_body,
    };
    if state.config.flavor == Flavor::Cloud {
        // Cloud maps db[/rp] to a bucket name in the token's org; precision as v2 accepts it,
        // anything else read as ns (like the v1 endpoint everywhere).
        // As Go's strings hold them: a name is quoted back as it came.
        let db = params.get_bytes("db").unwrap_or_default();
        let mut bucket = db.to_vec();
        if let Some(rp) = params
            .get_bytes("rp")
            .filter(|rp| !rp.is_empty() && *rp != b"autogen")
        {
            bucket.push(b'/');
            bucket.extend_from_slice(rp);
        }
        if db.is_empty() {
            return respond::error(
                &ApiError::new(Code::Invalid, "missing db"),
                Encoder::Compact,
            );
        }
        let precision = request
            .precision
            .filter(|p| crate::model::Precision::from_v2_param(p).is_some());
        let v2 = engine::WriteRequest {
            org: None,
            org_id: None,
            bucket: Some(&bucket),
            precision,
            gzip: request.gzip,
            body: request.body,
        };
        return cloud_write(state, store, auth, &v2);
    }
    let config = write_config(state);
    // As for v2: read and parse before taking the store lock.
    let pre = engine::prepare_v1(&request, &config);
    let mut parsed = pre.parse(state.clock.as_ref());
    let result = engine::write_v1_prepared(
        &mut store.lock(),
        auth,
        &request,
        &config,
        state.clock.as_ref(),
        &pre,
        parsed.as_mut(),
    );
    let precision = parsed.as_ref().map(|p| p.precision);
    // The parsed body is freed here, after the store lock was released.
    drop(parsed);
    answer_or_stream(result, pre, request_body, precision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> bytes::Bytes {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        bytes::Bytes::from(e.finish().unwrap())
    }

    #[test]
    fn a_small_body_is_written_inline_and_a_large_one_is_not() {
        assert!(inline(&bytes::Bytes::from_static(b"m v=1"), false));
        let limit = bytes::Bytes::from(vec![b'a'; INLINE_BODY_BYTES]);
        assert!(inline(&limit, false));
        let over = bytes::Bytes::from(vec![b'a'; INLINE_BODY_BYTES + 1]);
        assert!(!inline(&over, false));
    }

    #[test]
    fn a_gzipped_body_is_inline_only_when_small_once_gunzipped() {
        assert!(inline(&gz(b"m v=1\nm v=2"), true));
        assert!(inline(&gz(&vec![b'a'; INLINE_BODY_BYTES]), true));
        // A few hundred bytes that inflate past the limit, and a bomb: a write thread.
        let past = gz(&vec![b'a'; INLINE_BODY_BYTES + 1]);
        assert!(past.len() < 1024);
        assert!(!inline(&past, true));
        let bomb = gz(&vec![0; 16 << 20]);
        assert!(bomb.len() <= INLINE_BODY_BYTES);
        assert!(!inline(&bomb, true));
        // Bodies that fail to gunzip are answered by a write thread, as before.
        assert!(!inline(&bytes::Bytes::from_static(b"m v=1"), true));
        let mut cut = gz(b"m v=1").to_vec();
        cut.truncate(cut.len() - 3);
        assert!(!inline(&bytes::Bytes::from(cut), true));
    }

    #[test]
    fn thousands_of_empty_members_fit_inline() {
        let one = gz(b"");
        let n = INLINE_BODY_BYTES / one.len();
        let body: Vec<u8> = one.iter().copied().cycle().take(n * one.len()).collect();
        assert!(inline(&bytes::Bytes::from(body), true));
    }
}
