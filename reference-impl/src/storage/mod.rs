//! The in-memory store: tenancy (orgs, users and their passwords, org owners, sessions, buckets,
//! authorizations) and the data of each bucket (shard groups, per-shard field types, series,
//! values).
//!
//! Invariant: the store is plain data. It never reads a clock or does I/O; the engines pass in
//! every time they need, so the same calls on the same store give the same results. The one
//! exception is secrets: tokens and session keys come from the OS's CSPRNG unless the store was
//! made with [`Secrets::Deterministic`].

pub mod batch;
mod block_codec;
pub mod cloud;
mod data;
mod secrets;
mod series_key;
mod tenancy;
mod time_values;

pub use data::{
    series_entry, shard_group_start, BucketData, SeriesFields, SeriesKey, ShardGroup, StoredPoint,
};
pub use secrets::Secrets;
pub use series_key::Tags;
pub use tenancy::{
    normalise_shard_group_duration, seconds_to_nanos, Action, Authorization, Bucket, BucketKind,
    DbrpMapping, Org, Password, Permission, ResourceKind, SchemaType, Session, Status, Store,
    TenancyError, User, PASSWORD_LENGTHS,
};
pub use time_values::TimeValues;

/// Longest string field value a shard accepts (`tsdb.MaxFieldValueLength`).
pub const MAX_FIELD_VALUE_LENGTH: usize = 1_048_576;
