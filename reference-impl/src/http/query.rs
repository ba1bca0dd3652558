//! `POST /api/v2/query` (spec/v2.md §8): request decoding with InfluxDB's messages, the Flux
//! subset, annotated CSV.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::Value as Json;

use crate::api_error::{ApiError, Code};
use crate::engine::lookup::find_org;
use crate::engine::v2::HARD_BODY_LIMIT;
use crate::model::go_mime;
use crate::query::csv::{encode_outcome, Annotation, Dialect};
use crate::query::go_time::{decode_now, Now};
use crate::query::{execute, Limits, QueryConfig};
use crate::storage::Authorization;

use super::respond::{self, Encoder};
use super::{read_body, AppState, QueryParams};

/// NYTimes gziphandler's default minimum size: smaller bodies go out uncompressed.
const GZIP_MIN_SIZE: usize = 1400;

/// A decoded query request.
#[derive(Debug)]
struct QueryRequest {
    query: String,
    /// `extern`: a Flux `File` AST evaluated before the query (`json.RawMessage` in InfluxDB,
    /// so any JSON decodes; its shape is checked when the query is compiled).
    extern_file: Json,
    /// `ast`: a Flux `Package` in JSON, compiled when `query` is empty.
    ast: Option<Json>,
    dialect: Dialect,
    now: Option<Now>,
    prefer: Prefer,
}

/// The `Prefer` header's dialects (`http/query.go`, `query/encode.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Prefer {
    /// Annotated CSV.
    #[default]
    Csv,
    /// `return-no-content`: `NoContentDialect.SetHeaders` writes 204 before the query runs,
    /// so whatever happens next (an error included) has no body to go into.
    NoContent,
    /// `return-no-content-with-error`: the results are read and dropped; an error that
    /// reaches the encoder is written as the CSV error table, with a 200. Only an error the
    /// controller returns before the program starts (a compile error) is answered as JSON.
    NoContentWithError,
}

fn decode_error(inner: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        Code::Invalid,
        format!("failed to decode request body: {inner}"),
    )
}

/// Finds a JSON object key the way Go's `encoding/json` does: exact match first, then
/// case-insensitive.
fn field<'a>(obj: &'a serde_json::Map<String, Json>, name: &str) -> Option<&'a Json> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn type_error(v: &Json, path: &str, go_type: &str) -> String {
    format!(
        "failed parsing request body as JSON; if sending a raw Flux script, set 'Content-Type: application/vnd.flux' in your request headers: json: cannot unmarshal {} into Go struct field {path} of type {go_type}",
        json_kind(v)
    )
}

fn opt_string(
    obj: &serde_json::Map<String, Json>,
    name: &str,
    path: &str,
) -> Result<Option<String>, String> {
    match field(obj, name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(type_error(other, path, "string")),
    }
}

/// A body serde refused, worded as Go's `json.Decoder` words it: the same body read by
/// `model::go_json` gives Go's exact syntax error; a body Go reads but serde does not (nested
/// past serde's 128 levels) keeps serde's text.
fn go_syntax_error(body: &[u8], err: &serde_json::Error) -> String {
    let inner = match crate::model::go_json::decode_first(body) {
        Err(e) => e.decoder_message(),
        Ok(_) => err.to_string(),
    };
    format!("failed parsing request body as JSON; if sending a raw Flux script, set 'Content-Type: application/vnd.flux' in your request headers: {inner}")
}

/// The body as `json.NewDecoder(body).Decode(&req)` reads it: the first value only (bytes
/// after it are not looked at), invalid UTF-8 and lone surrogates as U+FFFD, and for the
/// request's struct fields (its own and its dialect's) the last key naming a field, in any
/// case, wins. `ast` and `extern` stay as written (`json.RawMessage`).
fn decode_json(body: &[u8]) -> Result<Json, String> {
    use crate::model::go_json;
    match go_json::decode_first(body) {
        Ok(v) if !v.deeper_than(go_json::SERDE_MAX_DEPTH) => {
            let Json::Object(mut top) = v.to_serde(1) else {
                return Ok(v.to_serde(0));
            };
            // The dialect is a struct too; its value was converted without folding.
            let dialect = v.field("dialect").map(|d| d.to_serde(1));
            if let Some(d) = dialect {
                let key = top
                    .keys()
                    .find(|k| k.eq_ignore_ascii_case("dialect"))
                    .cloned();
                if let Some(k) = key {
                    top.insert(k, d);
                }
            }
            Ok(Json::Object(top))
        }
        // Deeper than serde nests (Go reads it): serde's own refusal, as before.
        _ => serde_json::from_slice(body).map_err(|e| go_syntax_error(body, &e)),
    }
}

fn decode(headers: &HeaderMap, body: &[u8]) -> Result<QueryRequest, String> {
    // `r.Header.Get`: the first value; an empty one reads as the default.
    let media_type = match headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()) {
        None | Some(b"") => "application/json".to_string(),
        Some(ct) => go_mime::parse_media_type(ct)?,
    };
    let mut req = QueryRequest {
        query: String::new(),
        extern_file: Json::Null,
        ast: None,
        dialect: Dialect::default(),
        now: None,
        prefer: Prefer::Csv,
    };
    let mut query_type: Option<String> = None;
    let mut delimiter: Option<String> = None;
    let mut comment_prefix = String::new();
    let mut date_time_format: Option<String> = None;
    let mut annotations: Vec<String> = Vec::new();
    let mut has_ast = false;
    if media_type == "application/vnd.flux" {
        req.query = String::from_utf8_lossy(body).into_owned();
    } else {
        let v = decode_json(body)?;
        let Json::Object(obj) = v else {
            return Err(type_error(&v, "QueryRequest", "http.QueryRequest").replace(
                " into Go struct field QueryRequest of type http.QueryRequest",
                " into Go value of type http.QueryRequest",
            ));
        };
        // `Time.UnmarshalJSON` fails the whole decode at once (type errors of other fields
        // are only remembered), so a bad `now` is the error whatever else is wrong.
        if let Some(now) = field(&obj, "now") {
            req.now = decode_now(now).map_err(|e| {
                format!("failed parsing request body as JSON; if sending a raw Flux script, set 'Content-Type: application/vnd.flux' in your request headers: {e}")
            })?;
        }
        req.query = opt_string(&obj, "query", "QueryRequest.query")?.unwrap_or_default();
        query_type = opt_string(&obj, "type", "QueryRequest.type")?;
        // A `json.RawMessage`: present unless absent or null.
        req.ast = field(&obj, "ast").filter(|a| !a.is_null()).cloned();
        has_ast = req.ast.is_some();
        req.extern_file = field(&obj, "extern").cloned().unwrap_or(Json::Null);
        match field(&obj, "dialect") {
            None | Some(Json::Null) => {}
            Some(Json::Object(d)) => {
                match field(d, "header") {
                    None | Some(Json::Null) => {}
                    Some(Json::Bool(b)) => req.dialect.header = *b,
                    Some(other) => {
                        return Err(type_error(other, "QueryRequest.dialect.header", "bool"))
                    }
                }
                delimiter = opt_string(d, "delimiter", "QueryRequest.dialect.delimiter")?;
                comment_prefix =
                    opt_string(d, "commentPrefix", "QueryRequest.dialect.commentPrefix")?
                        .unwrap_or_default();
                date_time_format =
                    opt_string(d, "dateTimeFormat", "QueryRequest.dialect.dateTimeFormat")?;
                match field(d, "annotations") {
                    None | Some(Json::Null) => {}
                    Some(Json::Array(items)) => {
                        for item in items {
                            match item {
                                Json::String(s) => annotations.push(s.clone()),
                                other => {
                                    return Err(type_error(
                                        other,
                                        "QueryRequest.dialect.annotations",
                                        "string",
                                    ))
                                }
                            }
                        }
                    }
                    Some(other) => {
                        return Err(type_error(
                            other,
                            "QueryRequest.dialect.annotations",
                            "[]string",
                        ))
                    }
                }
            }
            Some(other) => return Err(type_error(other, "QueryRequest.dialect", "http.Dialect")),
        }
    }
    // Prefer header.
    match headers.get("prefer").map(HeaderValue::as_bytes) {
        Some(b"return-no-content") => req.prefer = Prefer::NoContent,
        Some(b"return-no-content-with-error") => req.prefer = Prefer::NoContentWithError,
        _ => {}
    }
    // WithDefaults, then Validate, in InfluxDB's order.
    let query_type = query_type
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "flux".into());
    let delimiter = delimiter
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| ",".into());
    let date_time_format = date_time_format
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "RFC3339".into());
    if req.query.is_empty() && !has_ast {
        return Err("request body requires either query or AST".into());
    }
    if query_type != "flux" {
        return Err(format!("unknown query type: {query_type}"));
    }
    if comment_prefix.len() > 1 {
        return Err("invalid dialect comment prefix: must be length 0 or 1".into());
    }
    if delimiter.len() != 1 {
        return Err("invalid dialect delimeter: must be length 1".into());
    }
    let delim = delimiter.chars().next().unwrap_or(',');
    if matches!(delim, '"' | '\r' | '\n') {
        return Err("invalid dialect delimeter character".into());
    }
    req.dialect.delimiter = delim;
    for a in &annotations {
        let parsed =
            Annotation::parse(a).ok_or_else(|| format!("unknown dialect annotation type: {a}"))?;
        req.dialect.annotations.push(parsed);
    }
    if !matches!(date_time_format.as_str(), "RFC3339" | "RFC3339Nano") {
        return Err(format!(
            "unknown dialect date time format: {date_time_format}"
        ));
    }
    Ok(req)
}

fn csv_response(body: Vec<u8>, headers: &HeaderMap) -> Response<Body> {
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|e| {
                e.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("gzip")
            })
        });
    let (bytes, gzipped) = if accepts_gzip && body.len() >= GZIP_MIN_SIZE {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        // Writing to a Vec cannot fail.
        let _ = enc.write_all(&body);
        (enc.finish().unwrap_or_default(), true)
    } else {
        (body, false)
    };
    // A stream body goes out chunked, as InfluxDB's does.
    let stream =
        futures_util::stream::once(async move { Ok::<_, Infallible>(bytes::Bytes::from(bytes)) });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if gzipped {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

/// The query controller's admission: `--query-concurrency` slots, and at most
/// `--query-queue-size` queries waiting for one (`Controller.enqueueQuery`).
#[derive(Debug)]
pub struct QueryGate {
    slots: Option<Arc<tokio::sync::Semaphore>>,
    waiting: AtomicUsize,
    queue_size: usize,
    config: QueryConfig,
}

/// A queued query leaves the queue when it gets a slot or its client goes away.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl QueryGate {
    pub fn new(config: &QueryConfig) -> Self {
        Self {
            slots: (config.concurrency > 0)
                .then(|| Arc::new(tokio::sync::Semaphore::new(config.concurrency))),
            waiting: AtomicUsize::new(0),
            queue_size: config.queue_size,
            config: config.clone(),
        }
    }

    async fn admit(&self) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, ApiError> {
        let Some(slots) = &self.slots else {
            return Ok(None);
        };
        if let Ok(p) = slots.clone().try_acquire_owned() {
            return Ok(Some(p));
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue_size {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            // codes.ResourceExhausted, which handleFluxError maps to invalid.
            return Err(ApiError::new(Code::Invalid, "queue length exceeded"));
        }
        let _waiting = Waiting(&self.waiting);
        slots.clone().acquire_owned().await.map(Some).map_err(|_| {
            ApiError::new(
                Code::Internal,
                "controller is shutting down, query not runnable",
            )
        })
    }
}

/// Sets the query's cancel flag when the handler's future is dropped (the client went away)
/// or finishes.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What the query thread hands back.
enum Answer {
    Error(ApiError),
    NoContent,
    Csv(Vec<u8>),
}

pub async fn api_v2_query(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    // InfluxDB registers the query handler inside the gzip handler: every answer it gives,
    // the JSON errors included, passes through it.
    respond::through_gzip_handler(answer_query(state, req).await)
}

async fn answer_query(state: Arc<AppState>, req: Request) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let Some(auth) = parts.extensions.get::<Authorization>().cloned() else {
        return respond::error(
            &ApiError::new(
                Code::Unauthorized,
                "authorization is invalid or missing in the query request",
            ),
            Encoder::Compact,
        );
    };
    let params = QueryParams::parse(parts.uri.query());
    let body = match read_body(body, HARD_BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => return respond::error(&e, Encoder::Compact),
    };
    let request = match decode(&parts.headers, &body) {
        Ok(r) => r,
        Err(inner) => return respond::error(&decode_error(inner), Encoder::Compact),
    };
    let org_id = {
        let mut store = state.store();
        let org_id = match find_org(&store, params.get_bytes("org"), params.get_bytes("orgID")) {
            Ok(id) => id,
            Err(e) => return respond::error(&decode_error(e.message), Encoder::Compact),
        };
        if state.config.flavor == crate::config::Flavor::Cloud {
            // Cloud's read quota ("Read: Rate of 300 MB per 5 minutes", response bytes).
            let limit = state.config.cloud.limits.read_bytes_per_window;
            let now = state.clock.now_nanos();
            let exhausted = crate::engine::cloud::charge(
                &mut store.cloud.read_windows,
                org_id,
                now,
                0,
                limit,
                "limited_query",
            );
            if let Err(e) = exhausted {
                return respond::error(&e, Encoder::Compact);
            }
        }
        org_id
    };
    // proxyRequest: the zero time (what Go sends for an unset `now`) is the server's now.
    let now = match request.now {
        Some(Now::At(t)) => t,
        None | Some(Now::Zero) => state.clock.now_nanos(),
    };
    let gate = &state.queries;
    let queued_from = std::time::Instant::now();
    let permit = match gate.admit().await {
        Ok(p) => p,
        Err(e) => return respond::error(&e, Encoder::Compact),
    };
    let queued_nanos = i64::try_from(queued_from.elapsed().as_nanos()).unwrap_or(i64::MAX);
    let cancel = Arc::new(AtomicBool::new(false));
    let _cancel_on_drop = CancelOnDrop(cancel.clone());
    let config = &gate.config;
    let limits = Limits {
        memory_bytes: (config.memory_bytes > 0).then_some(config.memory_bytes),
        deadline: config.timeout.map(|t| std::time::Instant::now() + t),
        timeout: config.timeout,
        cancel,
        ..Limits::default()
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let thread_state = state.clone();
    // On a query thread (large stack, reused: see `query_threads`).
    let spawned = super::query_threads::spawn(move || {
        let _permit = permit;
        let state = thread_state;
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let outcome = execute(crate::query::Request {
                store: &state.store,
                auth: &auth,
                org_id,
                extern_file: &request.extern_file,
                ast: request.ast.as_ref(),
                script: &request.query,
                now,
                clock: state.clock.as_ref(),
                storage_version: state.config.storage_version,
                limits,
                queued_nanos,
            });
            let error = outcome.error.as_ref();
            match (request.prefer, error) {
                (Prefer::NoContent, _) => return Answer::NoContent,
                (Prefer::NoContentWithError, Some(e)) if e.compile => {
                    return Answer::Error(ApiError::new(e.code, e.message.clone()))
                }
                (Prefer::NoContentWithError, e) => {
                    let mut out = Vec::new();
                    if let Some(e) = e {
                        crate::query::csv::encode_error(
                            &e.message,
                            &request.dialect,
                            false,
                            &mut out,
                        );
                    }
                    return Answer::Csv(out);
                }
                (Prefer::Csv, _) => {}
            }
            match encode_outcome(
                &outcome.results,
                error.map(|e| e.message.as_str()),
                &request.dialect,
            ) {
                Ok(out) => Answer::Csv(out),
                Err(_) => {
                    let e = outcome
                        .error
                        .unwrap_or_else(|| crate::query::FluxError::invalid(""));
                    Answer::Error(ApiError::new(e.code, e.message))
                }
            }
        }));
        let answer = run.unwrap_or_else(|_| {
            Answer::Error(ApiError::new(
                Code::Internal,
                "the query failed unexpectedly",
            ))
        });
        let _ = tx.send(answer);
    });
    if spawned.is_err() {
        return respond::error(
            &ApiError::new(Code::Internal, "could not start the query"),
            Encoder::Compact,
        );
    }
    let answer = rx.await.unwrap_or_else(|_| {
        Answer::Error(ApiError::new(
            Code::Internal,
            "the query failed unexpectedly",
        ))
    });
    let out = match answer {
        Answer::Error(e) => return respond::error(&e, Encoder::Compact),
        Answer::NoContent => return respond::no_content(),
        Answer::Csv(out) => out,
    };
    if state.config.flavor == crate::config::Flavor::Cloud {
        // Response bytes accrue to the window; the answer that crosses the quota is still
        // served, the ones after it are refused until the window resets.
        let now = state.clock.now_nanos();
        let windows = &mut state.store().cloud.read_windows;
        let _ = crate::engine::cloud::charge(
            windows,
            org_id,
            now,
            out.len() as u64,
            None,
            "limited_query",
        );
    }
    csv_response(out, &parts.headers)
}
