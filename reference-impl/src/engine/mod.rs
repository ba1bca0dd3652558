//! The write pipelines as pure functions of (store, request, clock).
//!
//! The HTTP layer extracts a request into plain values, calls an engine function while holding
//! the store, and encodes the answer. Nothing here touches a socket or reads the wall clock.

pub mod auth;
pub mod authorizer;
pub mod chunks;
pub mod cloud;
pub mod delete;
pub mod delete_predicate;
pub mod gunzip;
mod inflate;
pub mod influxql_scan;
pub mod lookup;
pub mod points_writer;
pub mod series_batch;
pub mod tenancy;
pub mod v2;

pub use points_writer::{PartialWrite, StorageVersion, WriteStats};
