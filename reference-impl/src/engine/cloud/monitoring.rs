//! The `rejected_points` log in each org's `_monitoring` bucket (cloud.md §2.2): tags
//! `bucket`, `field`, `gotType`, `measurement`, `reason`, `wantType` (those that apply, sorted
//! by key), field `count=1i` for type and schema rejections or `error="..."` for parse errors,
//! timestamped with the time it was logged.

use crate::model::{FieldType, Id, OwnedFieldValue};
use crate::storage::{SeriesKey, Store};

/// Why one field value (or one unparsable line) was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub bucket: Id,
    pub measurement: Option<Vec<u8>>,
    pub field: Option<Vec<u8>>,
    pub reason: String,
    pub got: Option<FieldType>,
    pub want: Option<FieldType>,
    /// Parse errors carry their text in the `error` field instead of `count`.
    pub error: Option<String>,
}

/// Reasons this model logs. The first four are InfluxDB Cloud's documented strings; the others
/// are UNCONFIRMED (no public source gives them) and chosen to read like them.
pub mod reasons {
    pub const TYPE_CONFLICT_BATCH: &str = "type conflict in batch write";
    pub const TYPE_CONFLICT_EXISTING: &str = "type conflict with existing data";
    pub const MEASUREMENT_NOT_ALLOWED: &str = "measurement not allowed by schema";
    pub const FIELD_TYPE_MISMATCH: &str = "field type mismatch with schema";
    pub const FIELD_NOT_ALLOWED: &str = "field not allowed by schema";
    pub const TAG_NOT_ALLOWED: &str = "tag not allowed by schema";
    pub const PARSE_ERROR: &str = "line protocol parse error";
    pub const RETENTION: &str = "point outside retention period";
    pub const CARDINALITY: &str = "series cardinality exceeds plan limit";
}

/// Writes one row per rejection into `org`'s `_monitoring` bucket at `now` (bumped by 1 ns
/// per row so rows never overwrite each other).
pub fn log(store: &mut Store, org: Id, rejections: &[Rejection], now: i64) {
    let Some(monitoring) = store
        .buckets
        .values()
        .find(|b| b.org_id == org && b.name == "_monitoring")
        .map(|b| (b.id, b.shard_group_duration))
    else {
        return;
    };
    for r in rejections {
        let t = now.max(store.cloud.last_logged.saturating_add(1));
        store.cloud.last_logged = t;
        let mut tags: Vec<(Vec<u8>, Vec<u8>)> =
            vec![(b"bucket".to_vec(), r.bucket.to_string().into_bytes())];
        if let Some(f) = &r.field {
            tags.push((b"field".to_vec(), f.clone()));
        }
        if let Some(g) = r.got {
            tags.push((b"gotType".to_vec(), g.cloud_name().as_bytes().to_vec()));
        }
        if let Some(m) = &r.measurement {
            tags.push((b"measurement".to_vec(), m.clone()));
        }
        tags.push((b"reason".to_vec(), r.reason.as_bytes().to_vec()));
        if let Some(w) = r.want {
            tags.push((b"wantType".to_vec(), w.cloud_name().as_bytes().to_vec()));
        }
        tags.sort();
        let (field, value) = match &r.error {
            Some(e) => (
                b"error".to_vec(),
                OwnedFieldValue::String(e.as_bytes().to_vec()),
            ),
            None => (b"count".to_vec(), OwnedFieldValue::Integer(1)),
        };
        let key = SeriesKey::new(
            b"rejected_points",
            tags.iter().map(|(k, v)| (k.as_slice(), v.as_slice())),
        );
        let data = store.data.entry(monitoring.0).or_default();
        data.shard_group_mut(t, monitoring.1)
            .series
            .entry(key)
            .or_default()
            .entry(field)
            .or_default()
            .insert(t, value);
    }
}
