//! The OSS 2.x write endpoints, `POST /api/v2/write` and v1-compat `POST /write`, in the exact
//! order of checks of `http/write_handler.go` and `http/legacy/write_handler.go`.

use crate::api_error::{ApiError, Code};
use crate::clock::Clock;
use crate::line_protocol::{error_message_bytes, parse_lines_ref, Dialect, LineError};
use crate::model::precision::truncate_nanos;
use crate::model::Precision;
use crate::storage::{Action, Authorization, Bucket, ResourceKind, Status, Store};

use super::gunzip::{check_first_header, gunzip, GunzipError};
use super::lookup::{find_bucket_for_write, find_org};
use super::points_writer::{
    stored_column, write_chunk, write_points, GroupedLines, LineOf, Rows, StorageVersion,
    WriteProgress, WriteStats,
};
use super::series_batch::SeriesBatch;

/// Largest body this model ever reads, compressed or not, when no limit is configured: a
/// guard for the process, far above anything a conformance case sends.
pub const HARD_BODY_LIMIT: usize = 1 << 30;

pub use super::chunks::CHUNK_POINTS;
use super::chunks::{FirstChunk, Kept};

/// Malformed lines whose error a write keeps. The answer names every malformed line (spec
/// §3.2: never truncated); past this many, the message is not built in memory (a 128 MiB body
/// of 2-byte bad lines makes a 2.4 GB message) but streamed from the body by the HTTP layer,
/// which sees [`MALFORMED_STREAMED`] as the error's message.
pub const MAX_KEPT_ERRORS: usize = 10_000;

/// The message of the 400 a write answers when its malformed lines are too many to keep: the
/// HTTP layer replaces the body with the whole message, streamed (see [`MAX_KEPT_ERRORS`]).
pub const MALFORMED_STREAMED: &str = "\u{0}every malformed line, streamed";

/// Server settings that change write answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteConfig {
    /// `WithMaxBatchSizeBytes`: unset in a stock 2.7 server (no limit).
    pub max_body_bytes: Option<usize>,
    pub storage_version: StorageVersion,
}

impl WriteConfig {
    fn limit(&self) -> usize {
        self.max_body_bytes.unwrap_or(HARD_BODY_LIMIT)
    }
}

/// A request to `/api/v2/write`, as plain values.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteRequest<'a> {
    /// `org`, `orgID` and `bucket` as Go's strings hold them: the bytes the query's escapes
    /// decoded to, valid UTF-8 or not (they are quoted back in messages).
    pub org: Option<&'a [u8]>,
    pub org_id: Option<&'a [u8]>,
    pub bucket: Option<&'a [u8]>,
    pub precision: Option<&'a str>,
    /// `Content-Encoding` is exactly `gzip` or `x-gzip`.
    pub gzip: bool,
    pub body: &'a [u8],
}

impl WriteRequest<'_> {
    /// The `precision` parameter, validated as `models.ValidPrecision` does (empty is ns).
    pub fn precision(&self) -> Result<Precision, ApiError> {
        Precision::from_v2_param(self.precision.unwrap_or("")).ok_or_else(|| {
            ApiError::new(
                Code::Invalid,
                "invalid precision; valid precision units are ns, us, ms, and s",
            )
        })
    }

    /// The `bucket` parameter; absent or empty is 404 `bucket not found`.
    pub fn bucket_param(&self) -> Result<&[u8], ApiError> {
        self.bucket
            .filter(|b| !b.is_empty())
            .ok_or_else(|| ApiError::new(Code::NotFound, "bucket not found"))
    }
}

/// A request to v1-compat `/write`.
#[derive(Debug, Clone, Copy, Default)]
pub struct V1WriteRequest<'a> {
    pub db: Option<&'a str>,
    pub rp: Option<&'a str>,
    pub precision: Option<&'a str>,
    pub gzip: bool,
    pub body: &'a [u8],
}

/// Whether `Content-Encoding` asks for gunzip: exactly `gzip` or `x-gzip`, case-sensitive.
pub fn is_gzip_encoding(value: Option<&[u8]>) -> bool {
    matches!(value, Some(b"gzip") | Some(b"x-gzip"))
}

/// `POST /api/v2/write` after authentication. Returns what was stored, or the error the handler
/// answers with (its status is `error.status()`).
pub fn write(
    store: &mut Store,
    auth: &Authorization,
    req: &WriteRequest<'_>,
    config: &WriteConfig,
    clock: &dyn Clock,
) -> Result<WriteStats, ApiError> {
    let pre = prepare(req, config);
    let mut parsed = pre.parse(clock);
    write_prepared(store, auth, req, config, clock, &pre, parsed.as_mut())
}

/// The part of a v2 write that needs no store: the body, gunzipped and size-checked. The HTTP
/// handler prepares and parses before it takes the store lock, so requests decode in
/// parallel; `write_prepared` then reports every error in the original order (a lookup
/// error still wins over a body or parse error).
pub struct Prepared<'b> {
    precision: Option<Precision>,
    /// Units the request time is truncated to for points without a timestamp.
    truncation: i64,
    /// `None` when an error that comes before reading the body will be reported.
    body: Option<Result<std::borrow::Cow<'b, [u8]>, ApiError>>,
}

/// A body parsed before the store is taken: the points grouped by series when none failed
/// (each point kept only as its line), and the request time that stamps points without a
/// timestamp.
pub struct Parsed<'p> {
    /// The first [`MAX_KEPT_ERRORS`] malformed lines.
    pub errors: Vec<LineError<'p>>,
    pub grouped: Option<SeriesBatch>,
    /// Each point's line and line number, in input order (see [`Rows::Lines`]); empty when
    /// the body has more than [`CHUNK_POINTS`] points.
    pub lines: Vec<LineOf<'p>>,
    pub now: i64,
    /// The request time truncated to the precision: the time of points without one.
    pub default_time: i64,
    /// Set when the body holds more than [`CHUNK_POINTS`] points: only the errors were kept,
    /// and the points are parsed again from this body, a chunk at a time, as they are written.
    pub chunked: Option<(&'p [u8], Precision)>,
    /// Malformed lines in all; `errors` keeps the first [`MAX_KEPT_ERRORS`].
    pub error_count: usize,
    /// The precision the body was parsed with (to parse it again for a streamed error).
    pub precision: Precision,
}

impl<'b> Prepared<'b> {
    /// The body as read (gunzipped), when it was.
    pub fn into_body(self) -> Option<std::borrow::Cow<'b, [u8]>> {
        match self.body {
            Some(Ok(body)) => Some(body),
            _ => None,
        }
    }

    /// The parsed and grouped body, when it was read.
    pub fn parse(&self, clock: &dyn Clock) -> Option<Parsed<'_>> {
        match (&self.body, self.precision) {
            (Some(Ok(body)), Some(precision)) => {
                Some(parse_now(body, (precision, self.truncation), clock))
            }
            _ => None,
        }
    }
}

/// Reads the body of a v2 write without the store (see `Prepared`).
pub fn prepare<'b>(req: &WriteRequest<'b>, config: &WriteConfig) -> Prepared<'b> {
    let precision = Precision::from_v2_param(req.precision.unwrap_or(""));
    let early_error = precision.is_none()
        || req.bucket.is_none_or(<[u8]>::is_empty)
        || (req.gzip && check_first_header(req.body).is_err());
    Prepared {
        precision,
        truncation: precision.map_or(1, Precision::multiplier),
        body: (!early_error).then(|| read_body(req.body, req.gzip, config)),
    }
}

/// `write` with the body already read and parsed (`prepare`, `Prepared::parse`); the checks
/// run in the handler's order. The caller keeps `parsed` (its values are taken, its buffers
/// left): freeing them after the store is released keeps that work out of the lock.
pub fn write_prepared(
    store: &mut Store,
    auth: &Authorization,
    req: &WriteRequest<'_>,
    config: &WriteConfig,
    clock: &dyn Clock,
    pre: &Prepared<'_>,
    parsed: Option<&mut Parsed<'_>>,
) -> Result<WriteStats, ApiError> {
    // decodeWriteRequest: precision, bucket presence, gzip header.
    let precision = req.precision()?;
    let bucket_param = req.bucket_param()?;
    if req.gzip {
        check_first_header(req.body).map_err(|_| ApiError::internal_opaque())?;
    }
    let org_id = find_org(store, req.org, req.org_id)?;
    let bucket = find_bucket_for_write(store, org_id, bucket_param)?.clone();
    check_write_permission(auth, org_id, &bucket, "insufficient permissions for write")?;
    let read;
    let body: &[u8] = match &pre.body {
        Some(Ok(body)) => body,
        Some(Err(e)) => return Err(e.clone()),
        None => {
            read = read_body(req.body, req.gzip, config)?;
            &read
        }
    };
    match parsed {
        Some(p) => write_batch(store, &bucket, p, config),
        None => write_batch(
            store,
            &bucket,
            &mut parse_now(body, (precision, precision.multiplier()), clock),
            config,
        ),
    }
}

/// v1-compat `POST /write` after authentication (the token's org is used; `org` is ignored).
pub fn write_v1(
    store: &mut Store,
    auth: &Authorization,
    req: &V1WriteRequest<'_>,
    config: &WriteConfig,
    clock: &dyn Clock,
) -> Result<WriteStats, ApiError> {
    let pre = prepare_v1(req, config);
    let mut parsed = pre.parse(clock);
    write_v1_prepared(store, auth, req, config, clock, &pre, parsed.as_mut())
}

/// The `precision` of a v1 write. Not validated: explicit timestamps are multiplied only for
/// us/ms/s (everything else is ns, influxdata/influxdb#21625); the server time is truncated by
/// SetPrecision's units, which also know u, m and h.
fn v1_precision(req: &V1WriteRequest<'_>) -> (Precision, i64) {
    let raw = req.precision.filter(|p| !p.is_empty()).unwrap_or("ns");
    let precision = match raw {
        "us" => Precision::Microsecond,
        "ms" => Precision::Millisecond,
        "s" => Precision::Second,
        _ => Precision::Nanosecond,
    };
    let truncation = match raw {
        "u" | "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => 1,
    };
    (precision, truncation)
}

/// Reads the body of a v1 write without the store (see `Prepared`).
pub fn prepare_v1<'b>(req: &V1WriteRequest<'b>, config: &WriteConfig) -> Prepared<'b> {
    let (precision, truncation) = v1_precision(req);
    let early_error =
        req.db.is_none_or(str::is_empty) || (req.gzip && check_first_header(req.body).is_err());
    Prepared {
        precision: Some(precision),
        truncation,
        body: (!early_error).then(|| read_body(req.body, req.gzip, config)),
    }
}

/// `write_v1` with the body already read and parsed (`prepare_v1`, `Prepared::parse`).
pub fn write_v1_prepared(
    store: &mut Store,
    auth: &Authorization,
    req: &V1WriteRequest<'_>,
    config: &WriteConfig,
    clock: &dyn Clock,
    pre: &Prepared<'_>,
    parsed: Option<&mut Parsed<'_>>,
) -> Result<WriteStats, ApiError> {
    let db = req
        .db
        .filter(|d| !d.is_empty())
        .ok_or_else(|| ApiError::new(Code::Invalid, "missing db"))?;
    if req.gzip {
        check_first_header(req.body).map_err(|_| ApiError::internal_opaque())?;
    }
    let bucket = find_dbrp_bucket(store, auth, db, req.rp.unwrap_or(""))?.clone();
    check_write_permission(
        auth,
        bucket.org_id,
        &bucket,
        "insufficient permissions for write",
    )?;
    let read;
    let body: &[u8] = match &pre.body {
        Some(Ok(body)) => body,
        Some(Err(e)) => return Err(e.clone()),
        None => {
            read = read_body(req.body, req.gzip, config)?;
            &read
        }
    };
    match parsed {
        Some(p) => write_batch(store, &bucket, p, config),
        None => write_batch(
            store,
            &bucket,
            &mut parse_now(body, v1_precision(req), clock),
            config,
        ),
    }
}

/// Parses and groups `body` with the request time read now; past [`CHUNK_POINTS`] points only
/// the errors are kept (see [`Parsed::chunked`]).
fn parse_now<'p>(
    body: &'p [u8],
    (precision, truncation): (Precision, i64),
    clock: &dyn Clock,
) -> Parsed<'p> {
    let now = clock.now_nanos();
    let default_time = truncate_nanos(now, truncation);
    let mut first = FirstChunk::new(default_time, stored_column, body);
    let mut errors = Kept::new(MAX_KEPT_ERRORS);
    // Points are grouped where the parser lends them, not copied out; past the first chunk
    // they are only validated here (written by `write_in_chunks`).
    parse_lines_ref(
        body,
        precision,
        |p| first.push(&p),
        |e| errors.push_with(|| e),
    );
    let error_count = errors.count;
    let errors = errors.items;
    let too_many = first.overflowed();
    let (grouped, lines) = match first.finish() {
        Some((grouped, lines)) if errors.is_empty() => (Some(grouped), lines),
        _ => (None, Vec::new()),
    };
    Parsed {
        errors,
        grouped,
        lines,
        now,
        default_time,
        chunked: too_many.then_some((body, precision)),
        error_count,
        precision,
    }
}

/// The bucket of `db` and `rp` (`findMapping`, then the bucket by ID): see
/// [`super::tenancy::dbrps::find_for_write`].
fn find_dbrp_bucket<'s>(
    store: &'s Store,
    auth: &Authorization,
    db: &str,
    rp: &str,
) -> Result<&'s Bucket, ApiError> {
    super::tenancy::dbrps::find_for_write(store, auth, db, rp)
}

/// The write permission check shared by the write endpoints (and delete, with its message).
pub fn check_write_permission(
    auth: &Authorization,
    org_id: crate::model::Id,
    bucket: &Bucket,
    message: &str,
) -> Result<(), ApiError> {
    if auth.status == Status::Inactive {
        return Err(ApiError::new(
            Code::Forbidden,
            format!("{message}: token is inactive"),
        ));
    }
    if auth.allows(
        Action::Write,
        ResourceKind::Buckets,
        org_id,
        Some(bucket.id),
    ) {
        Ok(())
    } else {
        Err(ApiError::new(Code::Forbidden, message))
    }
}

/// Reads the whole body: gunzip when asked, then the decompressed size limit.
pub fn read_body<'b>(
    raw: &'b [u8],
    gzip: bool,
    config: &WriteConfig,
) -> Result<std::borrow::Cow<'b, [u8]>, ApiError> {
    let limit = config.limit();
    if !gzip {
        if raw.len() > limit {
            return Err(too_large());
        }
        return Ok(std::borrow::Cow::Borrowed(raw));
    }
    match gunzip(raw, limit) {
        Ok(bytes) => Ok(std::borrow::Cow::Owned(bytes)),
        Err(GunzipError::TooLarge) => Err(too_large()),
        Err(e @ (GunzipError::Header | GunzipError::Checksum)) => Err(ApiError::new(
            Code::Invalid,
            format!("unable to read data: {e}"),
        )),
        Err(e) => Err(ApiError::new(
            Code::Internal,
            format!("unable to read data: {e}"),
        )),
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        Code::TooLarge,
        "unable to read data: points batch is too large",
    )
}

/// A body of more than [`CHUNK_POINTS`] points (already known to parse): parsed again and
/// written a chunk at a time, reporting as one write.
fn write_in_chunks(
    data: &mut crate::storage::BucketData,
    bucket: &Bucket,
    body: &[u8],
    precision: Precision,
    now: i64,
    default_time: i64,
    config: &WriteConfig,
) -> (WriteStats, Option<super::PartialWrite>) {
    let mut progress = WriteProgress::default();
    let mut flush = |chunk: GroupedLines<'_>, progress: &mut WriteProgress| {
        let (mut grouped, lines) = chunk.finish();
        let rows = Rows::Lines {
            lines: &lines,
            precision,
            dialect: Dialect::V2,
        };
        write_chunk(progress, data, bucket, rows, &mut grouped, now);
    };
    let mut chunk = GroupedLines::new(default_time, stored_column);
    parse_lines_ref(
        body,
        precision,
        |p| {
            chunk.push(&p);
            if chunk.len() == CHUNK_POINTS {
                let full =
                    std::mem::replace(&mut chunk, GroupedLines::new(default_time, stored_column));
                flush(full, &mut progress);
            }
        },
        |_| {},
    );
    flush(chunk, &mut progress);
    progress.finish(bucket, now, config.storage_version)
}

fn write_batch(
    store: &mut Store,
    bucket: &Bucket,
    parsed: &mut Parsed<'_>,
    config: &WriteConfig,
) -> Result<WriteStats, ApiError> {
    if parsed.error_count > parsed.errors.len() {
        return Err(ApiError::new(Code::Invalid, MALFORMED_STREAMED));
    }
    if let Some(message) = error_message_bytes(&parsed.errors) {
        // Any malformed line rejects the whole batch.
        return Err(ApiError::from_go_bytes(Code::Invalid, message));
    }
    let Parsed {
        grouped,
        lines,
        now,
        default_time,
        chunked,
        precision,
        ..
    } = parsed;
    let data = store.data.entry(bucket.id).or_default();
    let (stats, partial) = match (chunked, grouped) {
        (Some((body, precision)), _) => {
            write_in_chunks(data, bucket, body, *precision, *now, *default_time, config)
        }
        (None, Some(grouped)) => write_points(
            data,
            bucket,
            Rows::Lines {
                lines,
                precision: *precision,
                dialect: Dialect::V2,
            },
            grouped,
            *now,
            config.storage_version,
        ),
        // Grouped whenever no line failed and the body is one chunk (`parse_now`): never
        // here, and a 500 rather than a write that silently stored nothing.
        (None, None) => return Err(ApiError::internal_opaque()),
    };
    match partial {
        Some(p) => Err(ApiError::new(
            Code::UnprocessableEntity,
            format!("failure writing points to database: {p}"),
        )),
        None => Ok(stats),
    }
}
