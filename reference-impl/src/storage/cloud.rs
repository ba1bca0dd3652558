//! State only the cloud flavor keeps: the apply queue, rate windows, explicit schemas, and the
//! clock of the `rejected_points` log.

use std::collections::{BTreeMap, VecDeque};

use crate::model::{FieldType, Id};

/// A point that passed the gateway, as the point-by-point apply model (tests) queues it.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedPoint {
    pub measurement: Vec<u8>,
    /// Sorted bytewise by key.
    pub tags: Vec<(Vec<u8>, Vec<u8>)>,
    pub fields: Vec<(Vec<u8>, crate::model::OwnedFieldValue)>,
    pub time: i64,
}

/// A queued delete: inclusive bounds and the predicate text (validated at the gateway,
/// parsed again when applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDelete {
    pub start: i64,
    pub stop: i64,
    pub predicate: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PendingOp {
    /// The accepted values of one write, grouped by series (built before the store lock).
    Write {
        bucket: Id,
        batch: super::batch::SeriesBatch,
    },
    Delete {
        bucket: Id,
        delete: PendingDelete,
    },
}

/// An acknowledged request waiting to be applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub org: Id,
    pub ready_at: i64,
    pub op: PendingOp,
}

/// Usage accrued in one fixed window (`start` is the window's first nanosecond).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateWindow {
    pub start: i64,
    pub used: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Timestamp,
    Tag,
    Field,
}

impl ColumnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timestamp => "timestamp",
            Self::Tag => "tag",
            Self::Field => "field",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaColumn {
    pub name: String,
    pub kind: ColumnKind,
    /// Fields only; `None` in the request means `string` (the documented default).
    pub data_type: Option<FieldType>,
}

/// An explicit bucket's schema for one measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasurementSchema {
    pub id: Id,
    pub org_id: Id,
    pub bucket_id: Id,
    pub name: String,
    pub columns: Vec<SchemaColumn>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct CloudState {
    pub queue: VecDeque<Pending>,
    /// Time of the last `rejected_points` row, so rows never share a timestamp (rows of one
    /// series at one time would overwrite each other, and every rejection must stay visible).
    pub last_logged: i64,
    pub write_windows: BTreeMap<Id, RateWindow>,
    pub delete_windows: BTreeMap<Id, RateWindow>,
    pub read_windows: BTreeMap<Id, RateWindow>,
    /// bucket → its measurement schemas.
    pub schemas: BTreeMap<Id, Vec<MeasurementSchema>>,
    /// Field values the apply wrote (each value once, even when a later one overwrote it):
    /// with the `rejected_points` rows this accounts for every value sent.
    pub values_written: u64,
}
