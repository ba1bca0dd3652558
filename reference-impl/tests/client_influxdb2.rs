//! The `influxdb2` crate (0.5), a real Rust client, against the reference over a socket:
//! write data points and line protocol, read back with its annotated-CSV reader.

mod common;

use common::start_default;
use influxdb2::models::{DataPoint, Query};
use influxdb2::Client;

#[tokio::test]
async fn influxdb2_crate_writes_and_reads_back() {
    let s = start_default().await;
    let client = Client::new(s.handle.url(), "my-org", "my-token");

    let points = vec![
        DataPoint::builder("cpu")
            .tag("host", "server 1")
            .field("usage", 0.5)
            .field("cores", 8i64)
            .field("state", "idle, mostly")
            .field("up", true)
            .timestamp(1_704_067_200_000_000_000)
            .build()
            .unwrap(),
        DataPoint::builder("cpu")
            .tag("host", "server 2")
            .field("usage", 1.25)
            .timestamp(1_704_067_260_000_000_000)
            .build()
            .unwrap(),
    ];
    client
        .write("my-bucket", futures_util::stream::iter(points))
        .await
        .unwrap();

    let flux = r#"from(bucket: "my-bucket")
        |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-02T00:00:00Z)
        |> filter(fn: (r) => r._measurement == "cpu")"#;
    let records = client
        .query_raw(Some(Query::new(flux.to_string())))
        .await
        .unwrap();
    let mut seen: Vec<String> = records
        .iter()
        .map(|r| {
            let get = |k: &str| {
                r.values
                    .get(k)
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default()
            };
            format!(
                "{} {} {} {}",
                get("host"),
                get("_field"),
                get("_value"),
                get("_time")
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen.len(), 5, "{seen:#?}");
    let joined = seen.join("\n");
    for needle in [
        "server 1",
        "server 2",
        "idle, mostly",
        "0.5",
        "1.25",
        "8",
        "true",
    ] {
        assert!(joined.contains(needle), "{needle} missing from:\n{joined}");
    }

    // Errors come back as the client's HTTP error with InfluxDB's body.
    let err = client
        .write_line_protocol(
            "my-org",
            "my-bucket",
            "cpu,host=server\\ 1 usage=1i 1704067200000000000",
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("422") && text.contains("field type conflict"),
        "{text}"
    );
}
