//! Shared set-up for the socket-level tests: a reference server on 127.0.0.1:0 with a pinned
//! clock, and small helpers to send requests and read answers whole.
#![allow(dead_code)]

use std::sync::Arc;

use influx_reference::clock::ManualClock;
use influx_reference::model::time::parse_rfc3339_nano;
use influx_reference::storage::{Action, Permission, ResourceKind, Status, Store};
use influx_reference::{Reference, ServerConfig, ServerHandle};

/// 2025-05-20T11:00:00.123456789Z: with a 1h retention the lower bound is the spec's
/// 2025-05-20T10:00:00.123456789Z.
pub const NOW: &str = "2025-05-20T11:00:00.123456789Z";

pub struct Server {
    pub reference: Reference,
    pub handle: ServerHandle,
    pub clock: ManualClock,
    pub client: reqwest::Client,
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn start(config: ServerConfig) -> Server {
    let clock = ManualClock::new(parse_rfc3339_nano(NOW).unwrap());
    let reference = Reference::with_clock(config, Arc::new(clock.clone())).unwrap();
    let handle = reference
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .no_gzip()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    Server {
        reference,
        handle,
        clock,
        client,
    }
}

pub async fn start_default() -> Server {
    start(ServerConfig::default()).await
}

impl Server {
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.handle.url(), path_and_query)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// `POST /api/v2/write?<query>` with the operator token.
    pub async fn write(&self, query: &str, body: impl Into<reqwest::Body>) -> Reply {
        self.write_with(query, "Token my-token", body).await
    }

    pub async fn write_with(
        &self,
        query: &str,
        authorization: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let req = self
            .client
            .post(self.url(&format!("/api/v2/write?{query}")))
            .header("Authorization", authorization)
            .body(body);
        self.send(req).await
    }

    /// Adds a token to the bootstrap org with the given permissions.
    pub fn add_token(&self, token: &str, permissions: Vec<Permission>) {
        let b = self.reference.bootstrap().clone();
        self.reference.with_store(|s| {
            s.create_authorization(b.org_id, b.user_id, Some(token), "test", permissions, 0);
        });
    }

    pub fn bucket_permission(&self, action: Action) -> Permission {
        let b = self.reference.bootstrap();
        Permission {
            action,
            kind: ResourceKind::Buckets,
            org_id: Some(b.org_id),
            id: Some(b.bucket_id),
        }
    }

    pub fn deactivate_token(&self, token: &str) {
        self.reference.with_store(|s| {
            for a in s.authorizations.values_mut() {
                if a.token == token {
                    a.status = Status::Inactive;
                }
            }
        });
    }

    /// Every stored value of the bootstrap bucket as `measurement,tags field=value time`.
    pub fn landed(&self) -> Vec<String> {
        let bucket = self.reference.bootstrap().bucket_id;
        self.landed_in(bucket)
    }

    pub fn landed_in(&self, bucket: influx_reference::model::Id) -> Vec<String> {
        self.reference.with_store(|s: &mut Store| {
            s.data
                .get(&bucket)
                .map(|d| {
                    d.points()
                        .iter()
                        .map(|p| {
                            let mut key =
                                String::from_utf8_lossy(&p.series.measurement()).into_owned();
                            for (k, v) in p.series.tags() {
                                key.push_str(&format!(
                                    ",{}={}",
                                    String::from_utf8_lossy(&k),
                                    String::from_utf8_lossy(&v)
                                ));
                            }
                            format!(
                                "{key} {}={:?} {}",
                                String::from_utf8_lossy(p.field),
                                p.value,
                                p.time
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
