//! The synchronous half of a cloud write: everything InfluxDB Cloud checks before it answers.

use crate::api_error::{ApiError, Code};
use crate::clock::Clock;
use crate::engine::gunzip::{check_first_header, gunzip_capped, GunzipError};
use crate::engine::v2::WriteRequest;
use crate::line_protocol::cloud::parse_batch_cloud;
use crate::line_protocol::Point;
use crate::model::precision::truncate_nanos;
use crate::model::{Id, Precision};
use crate::storage::cloud::{OwnedPoint, Pending, PendingOp};
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

/// Parses with the Cloud dialect (the `lineprotocol` decoder): errors read
/// `at line L:C: <reason>`.
fn parse(body: &[u8], precision: Precision) -> (Vec<Point<'_>>, Vec<LineFailure>) {
    let batch = parse_batch_cloud(body, precision);
    let failures = batch
        .errors
        .iter()
        .map(|e| LineFailure {
            positioned: e.positioned(),
        })
        .collect();
    (batch.points, failures)
}

/// `POST /api/v2/write` on the cloud flavor, after authentication.
pub fn write(
    store: &mut Store,
    auth: &Authorization,
    req: &WriteRequest<'_>,
    config: &CloudConfig,
    clock: &dyn Clock,
) -> Result<CloudWriteReport, ApiError> {
    let now = clock.now_nanos();
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
    if req.body.len() > config.max_request_bytes {
        return Err(too_large());
    }
    let (body, cut): (std::borrow::Cow<'_, [u8]>, bool) = if req.gzip {
        check_first_header(req.body).map_err(|_| ApiError::internal_opaque())?;
        match gunzip_capped(req.body, config.max_decompressed_bytes) {
            Ok((bytes, cut)) => (bytes.into(), cut),
            Err(e @ (GunzipError::Header | GunzipError::Checksum)) => {
                return Err(ApiError::new(
                    Code::Invalid,
                    format!("unable to read data: {e}"),
                ))
            }
            Err(e) => {
                return Err(ApiError::new(
                    Code::Internal,
                    format!("unable to read data: {e}"),
                ))
            }
        }
    } else {
        (req.body.into(), false)
    };
    // Past the decompression cut-off only whole lines before it are written.
    let body: &[u8] = if cut {
        let end = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        &body[..end]
    } else {
        &body
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

    let (points, failures) = parse(body, precision);
    let default_time = truncate_nanos(now, precision.multiplier());
    let schemas = if bucket.schema_type == SchemaType::Explicit {
        Some(
            store
                .cloud
                .schemas
                .get(&bucket.id)
                .cloned()
                .unwrap_or_default(),
        )
    } else {
        None
    };
    let mut rejections: Vec<Rejection> = failures
        .iter()
        .map(|f| Rejection {
            bucket: bucket.id,
            measurement: None,
            field: None,
            reason: reasons::PARSE_ERROR.into(),
            got: None,
            want: None,
            error: Some(f.positioned.clone()),
        })
        .collect();
    let mut queued: Vec<OwnedPoint> = Vec::new();
    let mut accepted = 0;
    for p in &points {
        let keep: Vec<usize> = match &schemas {
            Some(s) => {
                let (ok, rejected) = schema::check(s, bucket.id, p);
                rejections.extend(rejected);
                ok
            }
            None => (0..p.fields.len()).collect(),
        };
        if keep.is_empty() {
            continue;
        }
        accepted += keep.len();
        queued.push(OwnedPoint {
            measurement: p.measurement.to_vec(),
            tags: p
                .tags
                .iter()
                .map(|t| (t.key.to_vec(), t.value.to_vec()))
                .collect(),
            fields: keep
                .iter()
                .map(|&i| (p.fields[i].key.to_vec(), p.fields[i].value.to_owned_value()))
                .collect(),
            time: p.timestamp.unwrap_or(default_time),
        });
    }
    let total = accepted + rejections.len();
    monitoring::log(store, bucket.org_id, &rejections, now);
    if !queued.is_empty() {
        store.cloud.queue.push_back(Pending {
            org: bucket.org_id,
            ready_at: now.saturating_add(config.apply_delay),
            op: PendingOp::Write {
                bucket: bucket.id,
                points: queued,
            },
        });
    }
    let report = CloudWriteReport {
        accepted,
        rejected: rejections.len(),
    };
    if cut {
        return Err(too_large());
    }
    if rejections.is_empty() {
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
            rejections.len(),
            first.positioned
        ),
        None => format!(
            "{prefix}{} out of {total} points rejected{SUFFIX}",
            rejections.len()
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
