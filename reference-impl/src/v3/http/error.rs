//! The errors of the write and configure endpoints with their texts (`influxdb3_server`'s
//! `Error`), how each answers (`impl IntoResponse for Error`, shape A plain text or shape B
//! `{"error":...}`), and how `/api/v2/write` re-encodes them (`V2WriteApiError`, shape D), plus
//! `read_body`, whose failures are among them.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, Response};
use bytes::Bytes;

use super::{error_message, plain, Incoming};
use crate::v3::catalog::CatalogError;
use crate::v3::params::{DbNameError, LegacyParamError};
use crate::v3::write::{WriteError, WriteLineError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("missing query parameter 'db'")]
    MissingWriteParams,
    #[error("missing query parameters 'db'")]
    MissingDeleteDatabaseParams,
    #[error("serde error: {0}")]
    SerdeUrlDecoding(String),
    #[error(transparent)]
    DbName(#[from] DbNameError),
    #[error("unacceptable content-encoding: {0}")]
    InvalidContentEncoding(String),
    #[error("invalid content-encoding header: failed to convert header to a str")]
    NonUtf8ContentEncodingHeader,
    #[error("max request size ({0} bytes) exceeded")]
    RequestSizeExceeded(usize),
    #[error("error decoding gzip stream: {0}")]
    InvalidGzip(String),
    #[error("body content is not valid utf8: {0}")]
    NonUtf8Body(std::str::Utf8Error),
    #[error("unacceptable content-type, expected: application/json")]
    InvalidContentType,
    #[error("serde json error: {0}")]
    SerdeJson(String),
    #[error("write buffer error: {}", write_buffer_text(.0))]
    WriteBuffer(WriteError),
    #[error("partial write of line protocol occurred")]
    PartialLpWrite(Vec<WriteLineError>),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    LegacyWriteParse(#[from] LegacyParamError),
    #[error("Cannot parse the timestamp: {0}")]
    ParsingTimestamp(String),
    #[error("invalid mime type ({0})")]
    InvalidMimeType(String),
    #[error("the mime type specified was not valid UTF8: {0}")]
    NonUtf8MimeType(String),
    #[error("missing query parameters 'db' and 'q'")]
    MissingQueryParams,
    /// A query the planner refuses (`DataFusionError` Display, status by its kind).
    #[error("{message}")]
    Query { status: u16, message: String },
    /// `QueryExecutorError::DatabaseNotFound` through `Error::Query`.
    #[error("query error: database not found: {0}")]
    QueryDatabaseNotFound(String),
    #[error("must provide only one InfluxQl statement per query")]
    InfluxqlSingleStatement,
    #[error("must specify a 'db' parameter, or provide the database in the InfluxQL query")]
    InfluxqlNoDatabase,
    #[error("provided a database in both the parameters ({param_db}) and query string ({query_db}) that do not match, if providing a query that specifies the database, you can omit the 'database' parameter from your request")]
    InfluxqlDatabaseMismatch { param_db: String, query_db: String },
    #[error("error in InfluxQL statement: {0}")]
    InfluxqlRewrite(String),
}

/// `write_buffer::Error`'s `Display` of the write errors that reach HTTP.
fn write_buffer_text(e: &WriteError) -> String {
    match e {
        WriteError::Line(l) => format!("line protocol parse failed: {}", l.error_message),
        WriteError::Empty => "incoming write was empty".into(),
        WriteError::Catalog(c) => format!("catalog update error: {c}"),
        WriteError::DatabaseDeleted(db) => {
            format!("cannot write to soft-deleted database '{db}' - it is marked for deletion")
        }
        // Never wrapped: partial writes are `Error::PartialLpWrite`.
        WriteError::Partial(_) => "partial write".into(),
    }
}

/// The first line of the spec's `is_limit` test: a partial write listing one of these answers
/// 422.
const LIMIT_PREFIXES: [&str; 2] = [
    "Update to schema would exceed number of",
    "Adding a new database would exceed limit of",
];

impl From<WriteError> for Error {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Partial(lines) => Self::PartialLpWrite(lines),
            other => Self::WriteBuffer(other),
        }
    }
}

/// `impl IntoResponse for CatalogError`: the limits are 422 `{"error":...}`, the rest plain.
pub fn catalog_response(e: &CatalogError) -> Response<Body> {
    if e.is_limit() {
        error_message::<()>(422, &e.to_string(), None)
    } else {
        plain(e.status(), e.to_string())
    }
}

impl Error {
    /// `impl IntoResponse for Error` (the v3 and v1 write endpoints, configure, queries).
    pub fn into_response(self) -> Response<Body> {
        let text = self.to_string();
        match self {
            Self::WriteBuffer(WriteError::Catalog(e)) | Self::Catalog(e) => catalog_response(&e),
            Self::WriteBuffer(WriteError::Line(line)) => {
                error_message(400, "line protocol parsing error", Some(&line))
            }
            Self::WriteBuffer(WriteError::Empty) => plain(400, "incoming write was empty"),
            Self::WriteBuffer(e @ WriteError::DatabaseDeleted(_)) => {
                error_message::<()>(400, &write_buffer_text(&e), None)
            }
            Self::WriteBuffer(WriteError::Partial(_)) => plain(500, text),
            Self::DbName(e) => error_message::<()>(400, &e.to_string(), None),
            Self::PartialLpWrite(lines) => {
                let limit_hit = lines.iter().any(|l| {
                    LIMIT_PREFIXES
                        .iter()
                        .any(|p| l.error_message.starts_with(p))
                });
                error_message(
                    if limit_hit { 422 } else { 400 },
                    "partial write of line protocol occurred",
                    Some(&lines),
                )
            }
            Self::RequestSizeExceeded(_) => plain(413, text),
            Self::InvalidContentType => plain(415, text),
            Self::LegacyWriteParse(_) => plain(400, text),
            Self::QueryDatabaseNotFound(_) => error_message::<()>(404, &text, None),
            Self::Query { status, .. } => plain(status, text),
            Self::MissingWriteParams
            | Self::MissingDeleteDatabaseParams
            | Self::SerdeUrlDecoding(_)
            | Self::InvalidContentEncoding(_)
            | Self::NonUtf8ContentEncodingHeader
            | Self::InvalidGzip(_)
            | Self::NonUtf8Body(_)
            | Self::SerdeJson(_)
            | Self::ParsingTimestamp(_)
            | Self::InvalidMimeType(_)
            | Self::NonUtf8MimeType(_)
            | Self::MissingQueryParams
            | Self::InfluxqlSingleStatement
            | Self::InfluxqlNoDatabase
            | Self::InfluxqlDatabaseMismatch { .. }
            | Self::InfluxqlRewrite(_) => plain(400, text),
        }
    }

    /// `V2WriteApiError`: `{"code":...,"message":...}` with the code's status.
    pub fn into_v2_response(self) -> Response<Body> {
        let (code, status) = match &self {
            Self::RequestSizeExceeded(_) => ("request too large", 413),
            Self::Catalog(
                CatalogError::NotFound(_)
                | CatalogError::DatabaseNotFound(_)
                | CatalogError::TableNotFound { .. },
            ) => ("not found", 404),
            Self::Catalog(
                CatalogError::CannotDeleteInternalDatabase
                | CatalogError::CannotModifyInternalDatabase,
            )
            | Self::PartialLpWrite(_) => ("internal error", 500),
            _ => ("invalid", 400),
        };
        #[derive(serde::Serialize)]
        struct V2ErrorResponse<'a> {
            code: &'a str,
            message: String,
        }
        let body = serde_json::to_vec(&V2ErrorResponse {
            code,
            message: self.to_string(),
        })
        .unwrap_or_default();
        let mut r = plain(status, "");
        *r.body_mut() = Body::from(body);
        r
    }
}

/// `read_body`: `Content-Encoding` absent, `identity` or `gzip` (exactly); the body at most the
/// limit as sent and, gunzipped (every member), at most the limit again.
pub fn read_body(req: &Incoming, limit: usize) -> Result<Bytes, Error> {
    let encoding = match req.headers.get(header::CONTENT_ENCODING) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| Error::NonUtf8ContentEncodingHeader)?,
        ),
    };
    let gzip = match encoding {
        None | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => return Err(Error::InvalidContentEncoding(other.to_string())),
    };
    if req.too_large || req.body.len() > limit {
        return Err(Error::RequestSizeExceeded(limit));
    }
    if !gzip {
        return Ok(req.body.clone());
    }
    let decoder = flate2::read::MultiGzDecoder::new(&req.body[..]);
    let mut decoder = decoder.take((limit as u64).saturating_add(1));
    let mut out = Vec::new();
    decoder
        .read_to_end(&mut out)
        .map_err(|e| Error::InvalidGzip(e.to_string()))?;
    if out.len() > limit {
        return Err(Error::RequestSizeExceeded(limit));
    }
    Ok(Bytes::from(out))
}
