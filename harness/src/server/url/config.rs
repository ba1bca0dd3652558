//! What a URL target is told: its name and URL, the profile it claims, the operator token and
//! org, the adapters, the isolation and the limits of every request.

use std::time::Duration;

use crate::case::Profile;
use crate::server::adapter::{Isolation, ReadAdapter, WriteAdapter};

#[derive(Debug, Clone)]
pub struct UrlConfig {
    pub name: String,
    pub url: String,
    pub profile: Profile,
    pub token: String,
    pub org: String,
    pub write: WriteAdapter,
    pub read: ReadAdapter,
    /// Use this pre-made bucket instead of creating one per case (no isolation).
    pub bucket: Option<String>,
    /// v1 servers: use this database instead of creating buckets.
    pub database: Option<String>,
    pub isolation: Isolation,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    pub settle_timeout: Duration,
    pub poll_interval: Duration,
    pub max_body_bytes: usize,
    /// The server was started for the case about to run, with its `setup.server` flags (a
    /// fresh InfluxDB 3 server per case): such cases run instead of being skipped.
    pub started_for_case: bool,
}

impl UrlConfig {
    pub fn new(url: &str, profile: Profile) -> Self {
        Self {
            name: url.to_string(),
            url: url.trim_end_matches('/').to_string(),
            profile,
            token: String::new(),
            org: String::new(),
            write: WriteAdapter::V2,
            read: ReadAdapter::Flux,
            bucket: None,
            database: None,
            isolation: Isolation::Buckets,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            settle_timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
            max_body_bytes: 4 << 20,
            started_for_case: false,
        }
    }
}
