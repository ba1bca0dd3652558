//! InfluxDB Cloud (TSM) write semantics (spec/cloud.md): a synchronous gateway that validates,
//! rejects what it can see at once (parse errors, explicit-schema violations, quotas) and
//! queues the rest; an asynchronous apply that finds type conflicts, retention violations and
//! cardinality overflow later. Every rejected field value becomes one `rejected_points` row in
//! the org's `_monitoring` bucket.
//!
//! Invariant: every field value sent is written, rejected in the response, or logged in
//! `rejected_points` — exactly once (a malformed line counts as one value).

mod apply;
#[cfg(test)]
mod apply_model;
mod gateway;
pub mod monitoring;
mod quota;
pub mod schema;

pub use apply::{apply_due, apply_due_keeping, settle, Spent};
pub use gateway::{prepare, write, write_prepared, CloudWriteReport, Parsed, Prepared};
pub use quota::{charge, check_delete_rate, window_start, WINDOW};

use crate::model::time::NANOS_PER_DAY;

/// Plan quotas. `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Uncompressed line-protocol bytes accepted per 5-minute window.
    pub write_bytes_per_window: Option<u64>,
    /// Series (measurement, tag set, field key) per org.
    pub cardinality: Option<usize>,
    /// User buckets per org (system buckets excluded).
    pub max_buckets: Option<usize>,
    /// Longest bucket retention in ns.
    pub max_retention: Option<i64>,
    /// Delete requests per 5-minute window (a global limit: 300).
    pub deletes_per_window: Option<u64>,
    /// Query response bytes per 5-minute window.
    pub read_bytes_per_window: Option<u64>,
}

/// The plans of cloud.md §4 with their documented figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Plan {
    /// 5 MB per 5 min, 10k series, 2 buckets, 30 days of retention.
    #[default]
    Free,
    /// 300 MB per 5 min, 1M series, unlimited buckets and retention.
    UsageBased,
}

impl Plan {
    pub fn limits(self) -> Limits {
        match self {
            Self::Free => Limits {
                // "Rate of 5 MB per 5 minutes" (decimal megabytes, as the docs write them).
                write_bytes_per_window: Some(5_000_000),
                cardinality: Some(10_000),
                max_buckets: Some(2),
                max_retention: Some(30 * NANOS_PER_DAY),
                deletes_per_window: Some(300),
                // "Read: Rate of 300 MB per 5 minutes".
                read_bytes_per_window: Some(300_000_000),
            },
            Self::UsageBased => Limits {
                write_bytes_per_window: Some(300_000_000),
                cardinality: Some(1_000_000),
                max_buckets: None,
                max_retention: None,
                deletes_per_window: Some(300),
                // "Read: Rate of 3 GB data per 5 minutes".
                read_bytes_per_window: Some(3_000_000_000),
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::UsageBased => "usage-based",
        }
    }
}

/// Cloud-only server settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudConfig {
    pub plan: Plan,
    pub limits: Limits,
    /// How long after the 204 a write becomes visible (and its late rejections logged).
    pub apply_delay: i64,
    /// Status for series cardinality over quota: 503 with Retry-After (the seed), or 429.
    pub cardinality_status: u16,
    /// "50 MB maximum HTTP request batch size (compressed or uncompressed)".
    pub max_request_bytes: usize,
    /// "250 MB maximum HTTP request batch size after decompression".
    pub max_decompressed_bytes: usize,
}

impl Default for CloudConfig {
    fn default() -> Self {
        Self::for_plan(Plan::Free)
    }
}

impl CloudConfig {
    pub fn for_plan(plan: Plan) -> Self {
        Self {
            plan,
            limits: plan.limits(),
            apply_delay: 300_000_000,
            cardinality_status: 503,
            max_request_bytes: 50_000_000,
            max_decompressed_bytes: 250_000_000,
        }
    }
}

/// `POST /api/v2/delete` on the cloud flavor, after authentication: validated now (deleting by
/// `_field` is allowed in Cloud), rate-limited (300 requests per 5 minutes), applied later in
/// order with the writes.
pub fn delete(
    store: &mut crate::storage::Store,
    auth: &crate::storage::Authorization,
    req: &crate::engine::delete::DeleteRequest<'_>,
    config: &CloudConfig,
    now: i64,
) -> Result<(), crate::api_error::ApiError> {
    use crate::api_error::{ApiError, Code};
    use crate::storage::cloud::{Pending, PendingDelete, PendingOp};
    use crate::storage::{Action, ResourceKind, Status};

    let range = crate::engine::delete::decode_body_with(req.body, true)?;
    // `org`/`orgID` are not used: the bucket is looked up in the token's org.
    let bucket_ref = req
        .bucket_id
        .filter(|b| !b.is_empty())
        .or(req.bucket.filter(|b| !b.is_empty()));
    let Some(bucket_ref) = bucket_ref else {
        return Err(ApiError::new(
            Code::Invalid,
            "Please provide either bucketID or bucket",
        ));
    };
    let bucket = crate::engine::lookup::find_bucket_in_org(store, auth.org_id, bucket_ref)?.clone();
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
    quota::check_delete_rate(
        &mut store.cloud.delete_windows,
        bucket.org_id,
        now,
        config.limits.deletes_per_window,
    )?;
    store.cloud.queue.push_back(Pending {
        org: bucket.org_id,
        ready_at: now.saturating_add(config.apply_delay),
        op: PendingOp::Delete {
            bucket: bucket.id,
            delete: PendingDelete {
                start: range.start,
                stop: range.stop,
                predicate: range.predicate_text,
            },
        },
    });
    Ok(())
}
