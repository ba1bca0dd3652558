//! How a reference server is set up: flavor, the tenant created at start, limits, faults.

use crate::engine::cloud::CloudConfig;
use crate::engine::StorageVersion;
use crate::model::time::{NANOS_PER_DAY, NANOS_PER_HOUR, NANOS_PER_SECOND};
use crate::Error;

/// Which InfluxDB the server models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// InfluxDB OSS 2.x: synchronous writes.
    #[default]
    V2,
    /// InfluxDB Cloud (TSM): asynchronous writes, `_monitoring.rejected_points`.
    Cloud,
    /// InfluxDB 3 Core 3.10.1: `/api/v3/write_lp`, partial writes, a catalog with limits.
    V3,
}

impl Flavor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2 => "v2",
            Self::Cloud => "cloud",
            Self::V3 => "v3",
        }
    }
}

impl std::str::FromStr for Flavor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "v2" => Ok(Self::V2),
            "cloud" => Ok(Self::Cloud),
            "v3" => Ok(Self::V3),
            other => Err(Error::Config(format!(
                "unknown flavor {other:?}: expected v2, cloud or v3"
            ))),
        }
    }
}

/// Answer a share of writes with an error, to test clients' retry paths. Deterministic: with
/// `share = 0.25`, writes 4, 8, 12, ... fail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultInjection {
    /// 429 or 503.
    pub status: u16,
    /// Fraction of writes that fail, in (0, 1].
    pub share: f64,
    /// Seconds sent in `Retry-After`.
    pub retry_after: u64,
}

/// Everything a reference server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub flavor: Flavor,
    /// The tenant created at start, like `influx setup`.
    pub org: String,
    pub bucket: String,
    pub token: String,
    pub username: String,
    /// The user's password, for `POST /api/v2/signin` (8 to 72 bytes, as `influx setup`
    /// requires; empty: the user has none and cannot sign in).
    pub password: String,
    /// Retention of the initial bucket in nanoseconds; 0 is infinite.
    pub retention: i64,
    pub max_body_bytes: Option<usize>,
    pub fault: Option<FaultInjection>,
    pub storage_version: StorageVersion,
    /// Sent in `X-Influxdb-Version` and `/health`.
    pub version: String,
    pub commit: String,
    /// Seed of the ID generator, so IDs are the same run after run.
    pub id_seed: u64,
    /// Where tokens and session keys come from: the OS's CSPRNG (the default), or a fixed seed
    /// for reproducible tests.
    pub secrets: crate::storage::Secrets,
    /// Cloud flavor settings: plan quotas, apply delay, size limits.
    pub cloud: CloudConfig,
    /// Create the tenant above at start (like `influx setup`). When false the server starts
    /// un-onboarded (no user, org or token) and `POST /api/v2/setup` does it.
    pub bootstrap: bool,
    /// Timeouts, the connection cap and the shutdown bound when listening on a socket.
    pub http: crate::net::HttpLimits,
    /// v3 flavor settings: `--without-auth`, `--disable-authz`, the request size limit.
    pub v3: crate::v3::V3Config,
    /// Query controller budgets (`--query-concurrency`, `--query-queue-size`,
    /// `--query-memory-bytes`, `--query-timeout`).
    pub query: crate::query::QueryConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            flavor: Flavor::V2,
            org: "my-org".into(),
            bucket: "my-bucket".into(),
            token: "my-token".into(),
            username: "my-user".into(),
            // What the official clients' CI passes to `influx setup` (the Python client's own
            // tests sign in as my-user / my-password).
            password: "my-password".into(),
            retention: 0,
            max_body_bytes: None,
            fault: None,
            storage_version: StorageVersion::V2_7,
            // The release tag with its `v`, as release builds send it (UNCONFIRMED in the spec).
            version: "v2.7.12".into(),
            commit: "ec9dcde5d6f0".into(),
            id_seed: 0x1f2e_3d4c_5b6a_7988,
            secrets: crate::storage::Secrets::OsRandom,
            cloud: CloudConfig::default(),
            bootstrap: true,
            http: crate::net::HttpLimits::default(),
            v3: crate::v3::V3Config::default(),
            query: crate::query::QueryConfig::default(),
        }
    }
}

/// Parses a duration as the `influx` CLI and Flux literals write them: one or more
/// `<integer><unit>` pairs with units `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`, `d`, `w`; `0` alone
/// is zero (infinite retention).
pub fn parse_duration(s: &str) -> Result<i64, Error> {
    let bad = || {
        Error::Config(format!(
            "invalid duration {s:?}: expected e.g. 1h, 30d, 1h30m or 0"
        ))
    };
    if s == "0" {
        return Ok(0);
    }
    let mut total: i64 = 0;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .chars()
            .take_while(|c| c.is_alphabetic())
            .map(char::len_utf8)
            .sum::<usize>();
        let unit = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SECOND,
            "m" => 60 * NANOS_PER_SECOND,
            "h" => NANOS_PER_HOUR,
            "d" => NANOS_PER_DAY,
            "w" => 7 * NANOS_PER_DAY,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h").unwrap(), NANOS_PER_HOUR);
        assert_eq!(
            parse_duration("1h30m").unwrap(),
            NANOS_PER_HOUR + 30 * 60 * NANOS_PER_SECOND
        );
        assert_eq!(parse_duration("30d").unwrap(), 30 * NANOS_PER_DAY);
        assert_eq!(parse_duration("0").unwrap(), 0);
        for bad in ["", "h", "1x", "1h-", "-1h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
