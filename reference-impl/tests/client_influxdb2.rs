//! The `influxdb2` crate (0.5), a real Rust client, against the reference over a socket:
//! write data points and line protocol, read back with its annotated-CSV reader; and the
//! crate's own onboarding tests (tests/setup.rs) replayed.

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

// The crate's own tests/setup.rs, replayed against the reference. `new_server_needs_onboarded`
// and `onboarding` hold as written. `create_users` expects `POST /api/v2/setup/user` to create
// a user, org and bucket: InfluxDB 2.0 had that route; 2.0.7 deprecated it and 2.1 deleted the
// handler (influxdata/influxdb#21201, #21709), so InfluxDB 2.7 answers it like any unknown
// `/api/v2` path: 404 `path not found` with a token, 401 without (auth runs before routing).

#[tokio::test]
async fn influxdb2_crate_setup_new_server_needs_onboarded() {
    let s = common::start(influx_reference::ServerConfig {
        bootstrap: false,
        ..influx_reference::ServerConfig::default()
    })
    .await;
    let client = Client::new(s.handle.url(), "org", "");
    assert!(client.is_onboarding_allowed().await.unwrap());
    let err = client
        .post_setup_user(
            "some-user",
            "some-org",
            "some-bucket",
            Some("some-password".to_string()),
            Some(0),
            None,
        )
        .await
        .expect_err("Expected error, got success");
    match err {
        influxdb2::RequestError::Http { status, text } => {
            assert_eq!(status.as_u16(), 401);
            assert_eq!(
                text,
                r#"{"code":"unauthorized","message":"unauthorized access"}"#
            );
        }
        other => panic!("{other:?}"),
    }
    // Nothing was created.
    assert!(client.is_onboarding_allowed().await.unwrap());
}

#[tokio::test]
async fn influxdb2_crate_setup_onboarding() {
    let s = common::start(influx_reference::ServerConfig {
        bootstrap: false,
        ..influx_reference::ServerConfig::default()
    })
    .await;
    let client = Client::new(s.handle.url(), "org", "");
    let onboarded = client
        .onboarding(
            "some-user",
            "some-org",
            "some-bucket",
            Some("some-password".to_string()),
            Some(0),
            None,
        )
        .await
        .unwrap();
    let token = onboarded.auth.and_then(|a| a.token).unwrap();
    assert_eq!(token.len(), 88);
    assert!(!client.is_onboarding_allowed().await.unwrap());
    let err = client
        .onboarding(
            "some-user",
            "some-org",
            "some-bucket",
            Some("some-password".to_string()),
            Some(0),
            None,
        )
        .await
        .expect_err("Expected error, got success");
    assert!(
        matches!(err, influxdb2::RequestError::Http { status, .. } if status.as_u16() == 422),
        "{err:?}"
    );
    // The onboarded user signs in with the password it was given.
    let r = s
        .send(
            s.client
                .post(s.url("/api/v2/signin"))
                .basic_auth("some-user", Some("some-password")),
        )
        .await;
    assert_eq!(r.status, 204);
    // And the returned token works for the crate's writes.
    let authed = Client::new(s.handle.url(), "some-org", token);
    authed
        .write_line_protocol("some-org", "some-bucket", "m v=1 1")
        .await
        .unwrap();
}

#[tokio::test]
async fn influxdb2_crate_setup_create_users_is_gone_in_2_7() {
    // The crate's fixture onboards with its own user and keeps the operator token.
    let s = common::start_default().await;
    let client = Client::new(s.handle.url(), "org", "my-token");
    let err = client
        .post_setup_user(
            "another-user",
            "another-org",
            "another-bucket",
            Some("another-password".to_string()),
            Some(0),
            None,
        )
        .await
        .expect_err("InfluxDB 2.7 has no /api/v2/setup/user");
    match err {
        influxdb2::RequestError::Http { status, text } => {
            assert_eq!(status.as_u16(), 404);
            assert_eq!(text, r#"{"code":"not found","message":"path not found"}"#);
        }
        other => panic!("{other:?}"),
    }
    assert!(s
        .reference
        .with_store(|st| st.user_by_name("another-user").is_none()));
}
