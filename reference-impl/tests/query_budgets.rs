//! Issue 13's query budgets over a real socket: nesting too deep for the parser, the `extern`
//! reader or the evaluator answers a 400 (never a crash); a runaway query ends with the memory
//! allocator's error or the timeout; `--query-concurrency`/`--query-queue-size` refuse with
//! 2.7's `queue length exceeded`; and while a query runs, health checks and writes complete
//! (the store is not locked while a query evaluates, evaluation is off the async executor).

mod common;

use common::{start, start_default, Server};
use influx_reference::query::QueryConfig;
use influx_reference::storage::Action;
use influx_reference::ServerConfig;
use rstest::rstest;

async fn raw_flux(s: &Server, token: &str, flux: String) -> common::Reply {
    let req = s
        .client
        .post(s.url("/api/v2/query?org=my-org"))
        .header("Authorization", format!("Token {token}"))
        .header("Content-Type", "application/vnd.flux")
        .body(flux);
    s.send(req).await
}

fn message(r: &common::Reply) -> String {
    serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A query that would list 1ns windows over 54 years: storage's window aggregate with
/// `createEmpty` (what 2.7 pushes `aggregateWindow` down to).
const RUNAWAY: &str =
    r#"from(bucket: "my-bucket") |> range(start: 0) |> aggregateWindow(every: 1ns, fn: mean)"#;

async fn seeded(config: ServerConfig) -> Server {
    let s = start(config).await;
    let w = s
        .write(
            "org=my-org&bucket=my-bucket",
            "cpu,host=a usage=1.5 1704067800000000000",
        )
        .await;
    assert_eq!(w.status, 204);
    s
}

// The parser's budgets are libflux's (`MAX_DEPTH` recursion and syntax-tree depth, `Program
// is nested too deep`): 100k-deep input of every nesting construct is refused with a 400.
#[rstest]
#[case::parentheses(format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)))]
#[case::not(format!("{}true", "not ".repeat(100_000)))]
#[case::minus(format!("{}1", "-".repeat(100_000)))]
#[case::plus(format!("{}1", "+".repeat(100_000)))]
#[case::brackets(format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)))]
#[case::braces(format!("{}{}", "{a: ".repeat(100_000), "}".repeat(100_000)))]
#[case::pipes(format!("x{}", " |> f()".repeat(100_000)))]
#[tokio::test]
async fn deep_scripts_are_refused(#[case] flux: String) {
    let s = start_default().await;
    let r = raw_flux(&s, "my-token", flux).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        message(&r).ends_with("Program is nested too deep"),
        "{}",
        r.body
    );
}

/// A 100k-deep `extern` is refused by the JSON decoder's own depth limit, as libflux's serde
/// reader refuses it.
#[tokio::test]
async fn deep_extern_is_refused() {
    let s = start_default().await;
    let e = format!(
        "{}{}{}",
        r#"{"type":"UnaryExpression","operator":"-","argument":"#.repeat(100_000),
        r#"{"type":"IntegerLiteral","value":"1"}"#,
        "}".repeat(100_000)
    );
    let body = format!(
        r#"{{"query":"x","extern":{{"type":"File","body":[{{"type":"ExpressionStatement","expression":{e}}}]}}}}"#
    );
    let req = s
        .client
        .post(s.url("/api/v2/query?org=my-org"))
        .header("Authorization", "Token my-token")
        .header("Content-Type", "application/json")
        .body(body);
    let r = s.send(req).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        message(&r).starts_with("failed to decode request body"),
        "{}",
        r.body
    );
}

// The evaluator: Flux binds a name after its value, so a function that calls itself is
// libflux's `undefined identifier`; a function handed itself recurses until the call-depth
// budget stops it.
#[rstest]
#[case::self_call(
    "f = (n) => f(n: n + 1)\nf(n: 0)",
    "error @1:12-1:13: undefined identifier f"
)]
#[case::mutual(
    "f = (n) => g(n: n)\ng = (n) => f(n: n)\nf(n: 0)",
    "error @1:12-1:13: undefined identifier g"
)]
#[case::self_application(
    "f = (g) => g(g: g)\nf(g: f)",
    "error @1:12-1:19: function calls nested deeper than 256 levels (a function that calls itself?)"
)]
#[tokio::test]
async fn recursion_ends_with_an_error(#[case] flux: &str, #[case] want: &str) {
    let s = start_default().await;
    let r = raw_flux(&s, "my-token", flux.to_string()).await;
    assert_eq!((r.status, message(&r).as_str()), (400, want));
}

/// `--query-memory-bytes`: the runaway query, with a read-only token, ends with Flux's
/// `LimitExceededError` text (codes.ResourceExhausted, a 400).
#[tokio::test]
async fn memory_budget_ends_a_runaway_query() {
    let s = seeded(ServerConfig {
        query: QueryConfig {
            memory_bytes: 1 << 20,
            ..QueryConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    s.add_token("reader", vec![s.bucket_permission(Action::Read)]);
    for every in ["1ns", "1s"] {
        let r = raw_flux(&s, "reader", RUNAWAY.replace("1ns", every)).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(
            message(&r)
                .starts_with("memory allocation limit reached: limit 1048576 bytes, allocated: "),
            "{}",
            r.body
        );
    }
}

/// `--query-timeout`: a query still running at the deadline ends with the timeout's error.
#[tokio::test]
async fn timeout_ends_a_long_query() {
    let s = seeded(ServerConfig {
        query: QueryConfig {
            timeout: Some(std::time::Duration::from_millis(20)),
            ..QueryConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let r = raw_flux(&s, "my-token", RUNAWAY.to_string()).await;
    assert_eq!(
        (r.status, message(&r).as_str()),
        (
            400,
            "query timeout exceeded: the query ran longer than the --query-timeout of 20ms"
        )
    );
}

/// `--query-concurrency 1 --query-queue-size 1`: with one query running and one waiting, the
/// next is refused (`Controller.enqueueQuery`: codes.ResourceExhausted, answered as invalid).
#[tokio::test]
async fn a_full_queue_refuses_queries() {
    let s = seeded(ServerConfig {
        query: QueryConfig {
            concurrency: 1,
            queue_size: 1,
            memory_bytes: 256 << 20,
            ..QueryConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let running = {
        let req = s
            .client
            .post(s.url("/api/v2/query?org=my-org"))
            .header("Authorization", "Token my-token")
            .header("Content-Type", "application/vnd.flux")
            .body(RUNAWAY);
        tokio::spawn(req.send())
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let waiting = {
        let req = s
            .client
            .post(s.url("/api/v2/query?org=my-org"))
            .header("Authorization", "Token my-token")
            .header("Content-Type", "application/vnd.flux")
            .body(RUNAWAY);
        tokio::spawn(req.send())
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let r = raw_flux(&s, "my-token", "buckets()".to_string()).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            r#"{"code":"invalid","message":"queue length exceeded"}"#
        )
    );
    for q in [running, waiting] {
        let resp = q.await.unwrap().unwrap();
        assert_eq!(resp.status(), 400);
    }
    // Slots free again: the next query runs.
    let r = raw_flux(
        &s,
        "my-token",
        "buckets() |> keep(columns: [\"name\"])".to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// While the runaway query evaluates (seconds under the default 1 GiB budget), `/health` and a
/// write complete: the query holds no store lock and runs on its own thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_writes_complete_while_a_query_runs() {
    let s = seeded(ServerConfig::default()).await;
    s.add_token("reader", vec![s.bucket_permission(Action::Read)]);
    let query = {
        let req = s
            .client
            .post(s.url("/api/v2/query?org=my-org"))
            .header("Authorization", "Token reader")
            .header("Content-Type", "application/vnd.flux")
            .body(RUNAWAY);
        tokio::spawn(req.send())
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let health = s.send(s.client.get(s.url("/health"))).await;
    assert_eq!(health.status, 200, "{}", health.body);
    let w = s
        .write(
            "org=my-org&bucket=my-bucket",
            "cpu,host=b usage=2 1704067800000000000",
        )
        .await;
    assert_eq!(w.status, 204, "{}", w.body);
    assert!(
        !query.is_finished(),
        "the query should still be running when health and the write answered"
    );
    let resp = query.await.unwrap().unwrap();
    assert_eq!(resp.status(), 400);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("memory allocation limit reached: limit 1073741824 bytes"),
        "{body}"
    );
}
