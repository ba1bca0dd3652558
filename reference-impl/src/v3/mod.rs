//! The third flavor: InfluxDB 3 Core 3.10.1's write path and read-back (spec `v3.md`), served
//! with `influx-reference serve --flavor v3` or in-process (`Flavor::V3`).
//!
//! Layered like the rest of the crate, in a room of its own:
//! - [`line_protocol`]: the `influxdb-line-protocol` 1.0.0 parser of that release, ported;
//! - [`catalog`]: databases, tables and typed columns, soft deletion, the Core limits, rows;
//! - [`write`]: the write pipeline shared by `/api/v3/write_lp`, `/api/v2/write` and `/write`;
//! - [`params`]: the endpoints' query parameters and name rules (serde's own messages);
//! - [`query`]: the SQL and InfluxQL subsets that read back what landed, and their output
//!   formats;
//! - [`http`]: routing in InfluxDB 3's order (CORS preflight, auth, exact route), the five
//!   error shapes, the handlers.

pub mod catalog;
pub mod http;
pub mod line_protocol;
pub mod params;
pub mod query;
pub mod write;

use catalog::Catalog;

/// `X-Influxdb-Version` and the `/ping` version: the workspace version of the tag.
pub const VERSION: &str = "3.10.1";
/// `X-Influxdb-Build`.
pub const BUILD: &str = "Core";
/// `PRODUCT_NAME`.
pub const PRODUCT_NAME: &str = "InfluxDB 3 Core";
/// `GIT_HASH_SHORT` of the release commit `ff6872a3d8917a4a2cb91d27f4e606369c5bbca0` (the
/// first 7 characters, as `influxdb3_process/build.rs` takes them from `GIT_HASH`).
pub const REVISION: &str = "ff6872a";
/// `--max-http-request-size` default.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 10_485_760;

/// How a v3 server is started (the `influxdb3 serve` flags the reference models).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Config {
    /// `--without-auth`: every token, or none, is accepted (the header is still checked).
    pub without_auth: bool,
    /// `--disable-authz`: resources whose paths need no token (`health`, `ping`, `metrics`,
    /// `ready`, `pprof`).
    pub disable_authz: Vec<String>,
    /// `--max-http-request-size`.
    pub max_request_bytes: usize,
}

impl Default for V3Config {
    fn default() -> Self {
        Self {
            without_auth: false,
            disable_authz: Vec::new(),
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
        }
    }
}

impl V3Config {
    /// `DisableAuthzList::from_str`: at most 6 comma-separated names from a fixed set.
    pub fn parse_disable_authz(s: &str) -> Result<Vec<String>, crate::Error> {
        let resources: Vec<String> = s.split(',').map(|r| r.trim().to_string()).collect();
        if resources.len() > 6 {
            return Err(crate::Error::Config(
                "--disable-authz cannot take more than 6 items".into(),
            ));
        }
        for r in &resources {
            if !["health", "ping", "metrics", "ready", "pprof", "node_stop"].contains(&r.as_str()) {
                return Err(crate::Error::Config(
                    "invalid value passed in for --disable-authz, allowed values are health, ping, metrics, ready, pprof, and node_stop".into(),
                ));
            }
        }
        Ok(resources)
    }

    /// The paths `--disable-authz` frees from authentication.
    pub fn paths_without_authz(&self) -> Vec<&'static str> {
        self.disable_authz
            .iter()
            .flat_map(|r| match r.as_str() {
                "health" => &["/health", "/api/v1/health"][..],
                "ping" => &["/ping"][..],
                "metrics" => &["/metrics"][..],
                "ready" => &["/ready"][..],
                "pprof" => &["/debug/pprof/heap"][..],
                "node_stop" => &["/api/v3/enterprise/configure/node/stop"][..],
                _ => &[][..],
            })
            .copied()
            .collect()
    }
}

/// The v3 store: the catalog with its rows, the admin token, the server's identities.
#[derive(Debug, Clone)]
pub struct Store {
    pub catalog: Catalog,
    /// The operator (`_admin`) token; requests are authenticated against it.
    pub admin_token: String,
    /// `cluster-uuid` on every response (the catalog's UUID).
    pub catalog_uuid: String,
    /// `process_id` in `/ping`.
    pub process_id: String,
    /// Counts `/ping` answers, for their `Request-Id`.
    pub pings: u64,
}

impl Store {
    pub fn new(admin_token: &str, seed: u64) -> Self {
        Self {
            catalog: Catalog::new(),
            admin_token: admin_token.to_string(),
            catalog_uuid: uuid_v4(seed),
            process_id: uuid_v4(seed.rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15),
            pings: 0,
        }
    }
}

/// splitmix64, for identifiers that are the same run after run.
fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` of the 16 bytes `hi`, `lo` (big-endian), lowercase.
/// Written digit by digit: a store is made for every reset of a pooled in-process server, and
/// `format!` was most of it.
fn uuid_text(hi: u64, lo: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, b) in hi
        .to_be_bytes()
        .into_iter()
        .chain(lo.to_be_bytes())
        .enumerate()
    {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// A version-4 UUID from a seed.
pub fn uuid_v4(seed: u64) -> String {
    let mut s = seed;
    let hi = (splitmix(&mut s) & !0xf000) | 0x4000;
    let lo = (splitmix(&mut s) & !(0xc000 << 48)) | (0x8000 << 48);
    uuid_text(hi, lo)
}

/// A version-7 UUID (`Uuid::now_v7`): milliseconds first, then deterministic bits.
pub fn uuid_v7(now_nanos: i64, counter: u64) -> String {
    let ms = u64::try_from(now_nanos / 1_000_000).unwrap_or(0) & 0xffff_ffff_ffff;
    let mut s = counter;
    let rand_a = splitmix(&mut s) & 0x0fff;
    let hi = (ms << 16) | 0x7000 | rand_a;
    let lo = (splitmix(&mut s) & !(0xc000 << 48)) | (0x8000 << 48);
    uuid_text(hi, lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_text_is_the_formatted_fields() {
        let mut x = 7u64;
        for _ in 0..1000 {
            let (hi, lo) = (splitmix(&mut x), splitmix(&mut x) >> (x % 64));
            let formatted = format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                hi >> 32,
                (hi >> 16) & 0xffff,
                hi & 0xffff,
                lo >> 48,
                lo & 0xffff_ffff_ffff
            );
            assert_eq!(uuid_text(hi, lo), formatted);
        }
    }

    #[test]
    fn uuids_have_their_version_and_variant() {
        let v4 = uuid_v4(1);
        assert_eq!(v4.len(), 36);
        assert_eq!(&v4[14..15], "4");
        assert!(matches!(&v4[19..20], "8" | "9" | "a" | "b"));
        let v7 = uuid_v7(1_700_000_000_000_000_000, 3);
        assert_eq!(&v7[14..15], "7");
        assert!(v7.starts_with("018bcfe5-6800"));
    }

    #[test]
    fn disable_authz_list() {
        let c = V3Config {
            disable_authz: V3Config::parse_disable_authz("health, ping").unwrap(),
            ..V3Config::default()
        };
        assert_eq!(
            c.paths_without_authz(),
            vec!["/health", "/api/v1/health", "/ping"]
        );
        assert!(V3Config::parse_disable_authz("write").is_err());
    }
}
