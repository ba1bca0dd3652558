//! `influx-reference`: an executable model of InfluxDB's write semantics.
//!
//! See `ARCHITECTURE.md` at the repository root for the map of modules.

pub mod line_protocol;
pub mod model;
