//! `influx-reference`: an executable model of InfluxDB's write semantics.
//!
//! - [`line_protocol`]: the parser, with InfluxDB's exact error texts.
//! - [`model`]: precision, IDs, field types, Go-compatible text and time formats.
//! - [`storage`]: orgs, buckets, tokens, shard groups, series and values, in memory.
//! - [`engine`]: the write pipelines as pure functions of (store, request, clock).
//! - [`http`]: the HTTP API (axum) over the engines.
//! - [`net`]: serving the router on a socket: timeouts, a connection cap, bounded shutdown.
//! - [`server`]: [`Reference`], callable in-process or listening on a socket.
//! - [`cli`]: the `influx-reference` command line (`serve` and its flags).
//! - [`v3`]: the InfluxDB 3 Core flavor, its parser, catalog, write path, queries and HTTP.
//!
//! See `ARCHITECTURE.md` at the repository root for the map and its invariants.

pub mod allocator;
pub mod api_error;
pub mod cli;
pub mod clock;
pub mod config;
pub mod engine;
mod error;
pub mod http;
pub mod line_protocol;
pub mod model;
pub mod net;
pub mod query;
pub mod server;
pub mod storage;
pub mod tsbs;
pub mod v3;

pub use config::{Flavor, ServerConfig};
pub use error::Error;
pub use server::{Bootstrap, FullResponse, Reference, ServerHandle};
