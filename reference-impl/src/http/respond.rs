//! Building responses: the two error encoders and the headers every response carries.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};

use crate::api_error::ApiError;

pub const PLATFORM_ERROR_CODE: &str = "x-platform-error-code";
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// Which of InfluxDB's two error encoders an endpoint uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoder {
    /// `ErrorHandler.HandleHTTPError`: write, delete, query, v1, auth middleware, routing.
    Compact,
    /// `kithttp.API.Err`: the tenant handlers (setup, orgs, buckets).
    Indented,
}

pub fn error(err: &ApiError, encoder: Encoder) -> Response<Body> {
    let body = match encoder {
        Encoder::Compact => err.compact_body(),
        Encoder::Indented => err.indented_body(),
    };
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    if let Ok(v) = HeaderValue::from_str(err.code.as_str()) {
        headers.insert(PLATFORM_ERROR_CODE, v);
    }
    if let Some(secs) = err.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// `resp` as it leaves NYTimes' `gziphandler` (v1.0.1), which InfluxDB wraps around the query
/// handler and the legacy `/ping` and `/write` (past their authentication): every answer gets
/// `Vary: Accept-Encoding`, whether or not it is compressed (`gzip.go`, `GzipHandlerWithOpts`).
pub fn through_gzip_handler(mut resp: Response<Body>) -> Response<Body> {
    resp.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    resp
}

pub fn no_content() -> Response<Body> {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    resp
}

/// A JSON body already encoded, with InfluxDB's JSON content type.
pub fn json(status: StatusCode, body: String) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    resp
}

/// Go's `http.Error(w, text, status)`: plain text with a newline, `nosniff` (`http.NotFound` is
/// `http.Error(w, "404 page not found", 404)`).
pub fn go_http_error(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(format!("{text}\n")));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}
