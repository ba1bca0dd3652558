//! The synchronous half of a cloud write: everything InfluxDB Cloud checks before it answers.

use std::borrow::Cow;

use crate::api_error::{ApiError, Code};
use crate::clock::Clock;
use crate::engine::chunks::{FirstChunk, Kept, CHUNK_POINTS};
use crate::engine::gunzip::{check_first_header, gunzip_capped, GunzipError};
use crate::engine::points_writer::{GroupedLines, LineOf, Rows};
use crate::engine::series_batch::SeriesBatch;
use crate::engine::v2::WriteRequest;
use crate::line_protocol::cloud::parse_lines_cloud;
use crate::line_protocol::Dialect;
use crate::model::precision::truncate_nanos;
use crate::model::{Id, Precision};
use crate::storage::cloud::{Pending, PendingOp};
use crate::storage::{Action, Authorization, ResourceKind, SchemaType, Status, Store};

use super::monitoring::{self, reasons, Rejection};
use super::{quota, schema, CloudConfig};

/// What the gateway did with a write it answered 204, 400 or 413 to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CloudWriteReport {
    /// Field values queued for the asynchronous apply.
    pub accepted: usize,
    /// Field values rejected now (and logged).
    pub rejected: usize,
}

const SUFFIX: &str = " (check rejected_points in your _monitoring bucket for further information)";

/// Most `rejected_points` rows one write logs. Every rejection still counts in the answer
/// (`N/M points rejected`); past this many, the rest are not logged one by one, so a body of
/// millions of malformed lines cannot turn into millions of rows. UNCONFIRMED: InfluxDB
/// Cloud's own bound is not public; no realistic write comes near it.
pub const MAX_LOGGED_REJECTIONS: usize = 100_000;

fn too_large() -> ApiError {
    ApiError::new(
        Code::TooLarge,
        "cannot read data: points in batch is too large",
    )
}

/// A parse failure as the Cloud decoder reports it.
struct LineFailure {
    positioned: String,
}

/// `POST /api/v2/write` on the cloud flavor, after authentication.
pub fn write(
    store: &mut Store,
    auth: &Authorization,
    req: &WriteRequest<'_>,
    config: &CloudConfig,
    clock: &dyn Clock,
) -> Result<CloudWriteReport, ApiError> {
    let pre = prepare(req, config, clock);
    let mut parsed = pre.parse(req);
    write_prepared(store, auth, req, config, &pre, parsed.as_mut())
}

/// A body as read: the bytes, and whether they were cut at the decompression limit.
type ReadBody<'b> = (Cow<'b, [u8]>, bool);

/// The part of a cloud write that needs no store: the request time and the body, size-checked,
/// gunzipped and cut at the decompression limit. The HTTP handler prepares and parses before
/// it takes the store lock; `write_prepared` still reports every error in the gateway's order.
pub struct Prepared<'b> {
    now: i64,
    /// `None` when an error that comes before reading the body will be reported.
    body: Option<Result<ReadBody<'b>, ApiError>>,
}

/// A body parsed with the Cloud decoder before the store is taken, grouped by series.
pub struct Parsed<'p> {
    /// Each point's line and line number, in input order: an explicit bucket's schemas decode
    /// them again ([`Rows::Lines`]).
    lines: Vec<LineOf<'p>>,
    precision: Precision,
    /// The first [`MAX_LOGGED_REJECTIONS`] parse failures.
    failures: Vec<LineFailure>,
    /// Every parse failure.
    failure_count: usize,
    /// Taken when queued.
    batch: SeriesBatch,
    /// Set when the body holds more than `CHUNK_POINTS` points: `lines` and `batch` stay
    /// empty, and the body is parsed again and grouped a chunk at a time when accepted.
    chunked: Option<(&'p [u8], Precision, i64)>,
}

/// Reads the body of a cloud write without the store (see `Prepared`).
pub fn prepare<'b>(
    req: &WriteRequest<'b>,
    config: &CloudConfig,
    clock: &dyn Clock,
) -> Prepared<'b> {
    let early_error = req.precision().is_err() || req.bucket_param().is_err();
    Prepared {
        now: clock.now_nanos(),
        body: (!early_error).then(|| read_body(req, config)),
    }
}

impl Prepared<'_> {
    /// The parsed and grouped body, when it was read.
    pub fn parse(&self, req: &WriteRequest<'_>) -> Option<Parsed<'_>> {
        let (Some(Ok((body, cut))), Ok(precision)) = (&self.body, req.precision()) else {
            return None;
        };
        Some(parse_grouped(usable(body, *cut), precision, self.now))
    }
}

/// The 50 MB limit, then gunzip with the 250 MB cut-off: the body and whether it was cut.
fn read_body<'b>(req: &WriteRequest<'b>, config: &CloudConfig) -> Result<ReadBody<'b>, ApiError> {
    if req.body.len() > config.max_request_bytes {
        return Err(too_large());
    }
    if !req.gzip {
        return Ok((req.body.into(), false));
    }
    check_first_header(req.body).map_err(|_| ApiError::internal_opaque())?;
    match gunzip_capped(req.body, config.max_decompressed_bytes) {
        Ok((bytes, cut)) => Ok((bytes.into(), cut)),
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

/// Past the decompression cut-off only whole lines before it are written.
fn usable(body: &[u8], cut: bool) -> &[u8] {
    if cut {
        let end = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        &body[..end]
    } else {
        body
    }
}

/// Parses with the Cloud dialect (the `lineprotocol` decoder, errors read
/// `at line L:C: <reason>`) and groups by series; past `CHUNK_POINTS` points only the
/// failures are kept (see [`Parsed::chunked`]).
fn parse_grouped(body: &[u8], precision: Precision, now: i64) -> Parsed<'_> {
    let default_time = truncate_nanos(now, precision.multiplier());
    // Cloud keeps every field (a field named `time` included). Each point is grouped as it is
    // decoded and freed at once: only its line is kept.
    let mut first = FirstChunk::new(default_time, every_field, body);
    let mut kept = Kept::new(MAX_LOGGED_REJECTIONS);
    parse_lines_cloud(
        body,
        precision,
        |p| first.push(&p),
        |e| {
            kept.push_with(|| LineFailure {
                positioned: e.positioned(),
            })
        },
    );
    let (failures, failure_count) = (kept.items, kept.count);
    let too_many = first.overflowed();
    let (batch, lines) = first.finish().unwrap_or_default();
    Parsed {
        lines,
        precision,
        failures,
        failure_count,
        batch,
        chunked: too_many.then_some((body, precision, default_time)),
    }
}

/// Every field gets a column on Cloud.
fn every_field(_: &[u8]) -> bool {
    true
}

/// `write` with the body already read and parsed (`prepare`, `Prepared::parse`). The caller
/// keeps `parsed` (the queued batch is taken from it): freeing its lines and the grouping's
/// buffers after the store is released keeps that work out of the lock.
pub fn write_prepared(
    store: &mut Store,
    auth: &Authorization,
    req: &WriteRequest<'_>,
    config: &CloudConfig,
    pre: &Prepared<'_>,
    parsed: Option<&mut Parsed<'_>>,
) -> Result<CloudWriteReport, ApiError> {
    let now = pre.now;
    let precision = req.precision()?;
    // `org` and `orgID` are accepted and ignored: the token's org is used.
    let bucket_param = req.bucket_param()?;
    let bucket =
        crate::engine::lookup::find_bucket_in_org(store, auth.org_id, bucket_param)?.clone();
    // The seed's Cloud table: a token without permission to write is 401.
    if auth.status == Status::Inactive
        || !auth.allows(
            Action::Write,
            ResourceKind::Buckets,
            bucket.org_id,
            Some(bucket.id),
        )
    {
        return Err(ApiError::new(Code::Unauthorized, "unauthorized access"));
    }
    let read;
    let (body, cut) = match &pre.body {
        Some(Ok((body, cut))) => (usable(body, *cut), *cut),
        Some(Err(e)) => return Err(e.clone()),
        None => {
            read = read_body(req, config)?;
            (usable(&read.0, read.1), read.1)
        }
    };
    quota::charge(
        &mut store.cloud.write_windows,
        bucket.org_id,
        now,
        body.len() as u64,
        config.limits.write_bytes_per_window,
        "limited_write",
    )?;
    if let Some(limit) = config.limits.cardinality {
        if org_cardinality(store, bucket.org_id) >= limit {
            let message = format!(
                "org {} has exceeded limited_cardinality plan limit",
                bucket.org_id
            );
            return Err(if config.cardinality_status == 429 {
                ApiError::new(Code::TooManyRequests, message)
            } else {
                ApiError::new(Code::Unavailable, message)
                    .with_retry_after(quota::seconds_to_window_end(now))
            });
        }
    }

    match parsed {
        Some(p) => accept(store, &bucket, p, config, now, cut),
        None => accept(
            store,
            &bucket,
            &mut parse_grouped(body, precision, now),
            config,
            now,
            cut,
        ),
    }
}

/// The rejections of one write: the first [`MAX_LOGGED_REJECTIONS`] to log, and how many
/// there were in all.
#[derive(Default)]
struct Rejections {
    logged: Vec<Rejection>,
    count: usize,
}

impl Rejections {
    fn add(&mut self, more: impl IntoIterator<Item = Rejection>) {
        for r in more {
            self.count += 1;
            if self.logged.len() < MAX_LOGGED_REJECTIONS {
                self.logged.push(r);
            }
        }
    }
}

/// An explicit bucket's schemas on the points of `batch` (one chunk of a write, or all of it):
/// the values they refuse leave the batch and become rejections.
fn apply_schemas(
    schemas: &[crate::storage::cloud::MeasurementSchema],
    bucket: Id,
    points: Rows<'_, '_>,
    batch: &mut SeriesBatch,
    rejections: &mut Rejections,
) {
    // Ordinals of the values the schemas refuse, in increasing order.
    let mut refused: Vec<usize> = Vec::new();
    for row in 0..points.len() {
        // A point's own line always decodes again; one that did not could not be checked, so
        // none of its values would be written.
        let Some(p) = points.point(row) else {
            let first = batch.row_first_ordinal.get(row).copied().unwrap_or(0);
            let end = batch
                .row_first_ordinal
                .get(row + 1)
                .copied()
                .unwrap_or(first);
            refused.extend(first..end);
            continue;
        };
        let (ok, rejected) = schema::check(schemas, bucket, &p);
        rejections.add(rejected);
        if ok.len() < p.fields.len() {
            let first = batch.row_first_ordinal.get(row).copied().unwrap_or(0);
            refused.extend(
                (0..p.fields.len())
                    .filter(|i| ok.binary_search(i).is_err())
                    .map(|i| first + i),
            );
        }
    }
    if !refused.is_empty() {
        let mut kept = 0;
        for series in &mut batch.series {
            for column in &mut series.columns {
                column.retain_ordinals(|o| refused.binary_search(&o).is_err());
                kept += column.len();
            }
        }
        batch.value_count = kept;
    }
}

/// The gateway's verdict on a parsed body: parse failures and explicit-schema violations are
/// rejected (and logged) now, the rest is queued.
fn accept(
    store: &mut Store,
    bucket: &crate::storage::Bucket,
    parsed: &mut Parsed<'_>,
    config: &CloudConfig,
    now: i64,
    cut: bool,
) -> Result<CloudWriteReport, ApiError> {
    let Parsed {
        lines,
        precision: body_precision,
        failures,
        failure_count,
        batch,
        chunked,
    } = parsed;
    let mut rejections = Rejections::default();
    rejections.add(failures.iter().map(|f| Rejection {
        bucket: bucket.id,
        measurement: None,
        field: None,
        reason: reasons::PARSE_ERROR.into(),
        got: None,
        want: None,
        error: Some(f.positioned.clone()),
    }));
    // Failures past the kept ones count without being logged.
    rejections.count += failure_count.saturating_sub(failures.len());
    let schemas = (bucket.schema_type == SchemaType::Explicit).then(|| {
        store
            .cloud
            .schemas
            .get(&bucket.id)
            .cloned()
            .unwrap_or_default()
    });
    let batch = match chunked {
        None => {
            let mut batch = std::mem::take(batch);
            if let Some(schemas) = &schemas {
                let rows = Rows::Lines {
                    lines,
                    precision: *body_precision,
                    dialect: Dialect::Cloud,
                };
                apply_schemas(schemas, bucket.id, rows, &mut batch, &mut rejections);
            }
            batch
        }
        Some((body, precision, default_time)) => {
            // Grouped a chunk at a time, so the points never all exist at once.
            let mut whole = SeriesBatch::default();
            let mut index = crate::storage::batch::AbsorbIndex::default();
            let mut base = 0;
            let mut flush = |chunk: GroupedLines<'_>, whole: &mut SeriesBatch| {
                let (mut grouped, lines) = chunk.finish();
                if let Some(schemas) = &schemas {
                    let rows = Rows::Lines {
                        lines: &lines,
                        precision: *precision,
                        dialect: Dialect::Cloud,
                    };
                    apply_schemas(schemas, bucket.id, rows, &mut grouped, &mut rejections);
                }
                let fields = grouped.ordinals();
                whole.absorb(grouped, &mut index, base);
                base += fields;
            };
            let mut chunk = GroupedLines::new(*default_time, every_field);
            parse_lines_cloud(
                body,
                *precision,
                |p| {
                    chunk.push(&p);
                    if chunk.len() == CHUNK_POINTS {
                        let full = std::mem::replace(
                            &mut chunk,
                            GroupedLines::new(*default_time, every_field),
                        );
                        flush(full, &mut whole);
                    }
                },
                |_| {},
            );
            flush(chunk, &mut whole);
            whole
        }
    };
    let accepted = batch.value_count;
    let total = accepted + rejections.count;
    monitoring::log(store, bucket.org_id, &rejections.logged, now);
    if accepted > 0 {
        store.cloud.queue.push_back(Pending {
            org: bucket.org_id,
            ready_at: now.saturating_add(config.apply_delay),
            op: PendingOp::Write {
                bucket: bucket.id,
                batch,
            },
        });
    }
    let report = CloudWriteReport {
        accepted,
        rejected: rejections.count,
    };
    if cut {
        return Err(too_large());
    }
    if rejections.count == 0 {
        return Ok(report);
    }
    let prefix = if accepted > 0 {
        format!("partial write error ({accepted} accepted): ")
    } else {
        String::new()
    };
    let message = match failures.first() {
        Some(first) => format!(
            "{prefix}{}/{total} points rejected; first error: {}{SUFFIX}",
            rejections.count, first.positioned
        ),
        None => format!(
            "{prefix}{} out of {total} points rejected{SUFFIX}",
            rejections.count
        ),
    };
    Err(ApiError::new(Code::Invalid, message))
}

/// Series cardinality of an org as Cloud counts it: distinct (measurement, tag set, field key)
/// over its user buckets.
pub fn org_cardinality(store: &Store, org: Id) -> usize {
    store
        .buckets
        .values()
        .filter(|b| b.org_id == org && b.kind == crate::storage::BucketKind::User)
        .filter_map(|b| store.data.get(&b.id))
        .map(|d| {
            // Within one shard group every (series, field) pair is distinct already: count
            // them without building the set (this runs on every write and every apply).
            if d.shard_groups.len() <= 1 {
                return d
                    .shard_groups
                    .values()
                    .flat_map(|g| g.series.values())
                    .map(|fields| fields.len())
                    .sum();
            }
            d.shard_groups
                .values()
                .flat_map(|g| {
                    g.series
                        .iter()
                        .flat_map(|(k, fields)| fields.keys().map(move |f| (k, f)))
                })
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        })
        .sum()
}
