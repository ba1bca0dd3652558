//! The harness against servers that misbehave: every case ends in a clear verdict within the
//! configured timeouts, and a target fault is `error` (never `fail`, never a hang or a panic).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use influx_conformance::case::{load_file, LoadedCase, Profile};
use influx_conformance::fault::FaultKind;
use influx_conformance::run::{run_case, CaseResult, RunConfig};
use influx_conformance::server::url::{UrlConfig, UrlTarget};
use influx_conformance::verdict::Verdict;
use tokio::io::AsyncWriteExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Fixture cases (harness tests own their fixtures; the corpus is not touched).
const FIXTURES: &str = r#"
about: fixtures for misbehaving-server tests
spec: none
cases:
  - id: write_and_read
    description: one point
    expectation: 204 and the point lands
    steps:
      - write: {body: "m v=1 1"}
        expect: {status: 204, landed: ["m v=1 1"]}
  - id: parse_error
    description: a malformed line
    expectation: 400 JSON with the platform headers
    steps:
      - write: {body: "m"}
        expect:
          status: 400
          headers: {content-type: {equals: application/json; charset=utf-8}}
          message: {equals: "unable to parse 'm': missing fields"}
  - id: settles
    description: one point on an asynchronous server
    expectation: lands after settling
    profiles: cloud
    steps:
      - write: {body: "m v=1 1"}
      - settle: {}
      - landed: {}
        expect: {landed: ["m v=1 1"]}
  - id: onboards
    description: GET /api/v2/setup on a server with no tenant
    expectation: allowed
    setup: {onboarded: false}
    steps:
      - request: {path: /api/v2/setup, token: none}
        expect: {status: 200, json: {allowed: {equals: "true"}}}
"#;

fn case(id: &str) -> LoadedCase {
    let (_, cases) = load_file(
        std::path::Path::new("fixtures.yaml"),
        "fixtures.yaml",
        FIXTURES,
    )
    .expect("fixtures load");
    cases
        .into_iter()
        .find(|c| c.case.id == id)
        .expect("fixture exists")
}

const CSV_ONE_POINT: &str = "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string\r\n#group,false,false,true,true,false,false,true,true\r\n#default,_result,,,,,,,\r\n,result,table,_start,_stop,_time,_value,_field,_measurement\r\n,,0,1677-09-21T00:12:43.145224194Z,2262-04-11T23:47:16.854775807Z,1970-01-01T00:00:00.000000001Z,1,v,m\r\n\r\n";

/// A server with the tenancy API and a well-behaved write and query; tests mount the
/// misbehaviour on top (higher priority).
async fn server() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/orgs"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"orgs": [{"id": "0000000000000abc", "name": "o"}]}),
            ),
        )
        .with_priority(10)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/buckets"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": "00000000000000b1"})),
        )
        .with_priority(10)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(10)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/write"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(10)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/query"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/csv; charset=utf-8")
                .set_body_string(CSV_ONE_POINT),
        )
        .with_priority(10)
        .mount(&s)
        .await;
    s
}

fn target(url: &str, profile: Profile) -> UrlTarget {
    let mut c = UrlConfig::new(url, profile);
    c.token = "secret-token".into();
    c.org = "o".into();
    c.request_timeout = Duration::from_millis(800);
    c.connect_timeout = Duration::from_millis(500);
    c.settle_timeout = Duration::from_millis(1200);
    c.poll_interval = Duration::from_millis(100);
    c.max_body_bytes = 1 << 20;
    UrlTarget::new(c).expect("client builds")
}

/// Runs a fixture and checks it ended within `bound`.
async fn run(url: &str, id: &str, profile: Profile) -> CaseResult {
    let config = RunConfig {
        case_timeout: Duration::from_secs(8),
        request_timeout: Duration::from_secs(5),
        settle_timeout: Duration::from_millis(1200),
        ..RunConfig::default()
    };
    let started = Instant::now();
    let r = run_case(&case(id), &target(url, profile), profile, &config).await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{id} took {:?}: {}",
        started.elapsed(),
        r.reason
    );
    assert!(
        !r.reason.contains("secret-token"),
        "token leaked: {}",
        r.reason
    );
    r
}

fn assert_fault(r: &CaseResult, kind: FaultKind, words: &str) {
    assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
    assert_eq!(r.fault, Some(kind), "{}", r.reason);
    assert!(r.reason.contains(words), "{:?} lacks {words:?}", r.reason);
}

async fn on_write(s: &MockServer, t: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/api/v2/write"))
        .respond_with(t)
        .with_priority(1)
        .mount(s)
        .await;
}

async fn on_query(s: &MockServer, r: impl Respond + 'static) {
    Mock::given(method("POST"))
        .and(path("/api/v2/query"))
        .respond_with(r)
        .with_priority(1)
        .mount(s)
        .await;
}

#[tokio::test]
async fn well_behaved_server_passes() {
    let s = server().await;
    let r = run(&s.uri(), "write_and_read", Profile::V2).await;
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.reason);
}

#[tokio::test]
async fn hang() {
    let s = server().await;
    on_write(
        &s,
        ResponseTemplate::new(204).set_delay(Duration::from_secs(30)),
    )
    .await;
    let r = run(&s.uri(), "write_and_read", Profile::V2).await;
    assert_fault(&r, FaultKind::Timeout, "did not answer within 0.8s");
}

/// A raw socket server: `reply` is written after reading the request head, then the
/// connection stays open for `linger` (or closes at once).
async fn raw_server(reply: &'static [u8], linger: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut sock, &mut buf).await;
                let _ = sock.write_all(reply).await;
                tokio::time::sleep(linger).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn slow_body() {
    // Headers and half a body, then nothing: the body never finishes.
    let url = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"orgs\":[",
        Duration::from_secs(30),
    )
    .await;
    let r = run(&url, "write_and_read", Profile::V2).await;
    assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
    assert!(r.reason.contains("within 0.8s"), "{}", r.reason);
}

#[tokio::test]
async fn connection_reset() {
    let url = raw_server(b"", Duration::ZERO).await;
    let r = run(&url, "write_and_read", Profile::V2).await;
    assert_fault(&r, FaultKind::Reset, "the connection to");
}

#[tokio::test]
async fn connection_refused() {
    // Bind then drop: the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let r = run(
        &format!("http://127.0.0.1:{port}"),
        "write_and_read",
        Profile::V2,
    )
    .await;
    assert_fault(&r, FaultKind::Refused, "is the server running?");
}

#[tokio::test]
async fn unavailable_with_retry_after() {
    let s = server().await;
    on_write(
        &s,
        ResponseTemplate::new(503).insert_header("retry-after", "5"),
    )
    .await;
    let r = run(&s.uri(), "write_and_read", Profile::V2).await;
    assert_fault(
        &r,
        FaultKind::Unavailable,
        "answered 503 with Retry-After: 5",
    );
}

#[tokio::test]
async fn html_error_page() {
    let s = server().await;
    on_write(
        &s,
        ResponseTemplate::new(500)
            .insert_header("content-type", "text/html")
            .set_body_string("<html><body><h1>500 Internal Server Error</h1></body></html>"),
    )
    .await;
    let r = run(&s.uri(), "parse_error", Profile::V2).await;
    assert_eq!(r.verdict, Verdict::Fail, "{}", r.reason);
    assert!(
        r.reason.contains("status differs (expected 400, got 500)"),
        "{}",
        r.reason
    );
    assert!(
        r.mismatches
            .iter()
            .any(|m| m.actual.contains("(body is not JSON) <html>")),
        "{:?}",
        r.mismatches
    );
}

#[tokio::test]
async fn invalid_json_body() {
    let s = server().await;
    on_write(
        &s,
        ResponseTemplate::new(400).set_body_raw(
            "{\"code\":\"invalid\",\"message\":",
            "application/json; charset=utf-8",
        ),
    )
    .await;
    let r = run(&s.uri(), "parse_error", Profile::V2).await;
    assert_eq!(r.verdict, Verdict::Fail, "{}", r.reason);
    assert!(r.reason.contains("json.message differs"), "{}", r.reason);
}

#[tokio::test]
async fn wrong_content_type() {
    let s = server().await;
    on_write(
        &s,
        ResponseTemplate::new(400)
            .insert_header("content-type", "text/plain")
            .set_body_string(
                "{\"code\":\"invalid\",\"message\":\"unable to parse 'm': missing fields\"}",
            ),
    )
    .await;
    let r = run(&s.uri(), "parse_error", Profile::V2).await;
    assert_eq!(r.verdict, Verdict::Fail, "{}", r.reason);
    assert!(
        r.reason.contains("header content-type differs"),
        "{}",
        r.reason
    );
}

#[tokio::test]
async fn redirect_loop() {
    let s = server().await;
    on_write(
        &s,
        ResponseTemplate::new(307).insert_header("location", "/api/v2/write?org=o&bucket=b"),
    )
    .await;
    let r = run(&s.uri(), "write_and_read", Profile::V2).await;
    assert_fault(&r, FaultKind::Redirect, "redirect loop");
}

#[tokio::test]
async fn huge_body() {
    let s = server().await;
    on_write(
        &s,
        ResponseTemplate::new(400).set_body_bytes(vec![b'x'; 3 << 20]),
    )
    .await;
    let r = run(&s.uri(), "parse_error", Profile::V2).await;
    assert_fault(&r, FaultKind::TooLarge, "over 1048576 bytes");
}

#[tokio::test]
async fn csv_with_bad_annotations() {
    let s = server().await;
    on_query(
        &s,
        ResponseTemplate::new(200)
            .insert_header("content-type", "text/csv; charset=utf-8")
            .set_body_string(",result,table,_time,_value\r\n,,0,2024-01-01T00:00:00Z,1\r\n"),
    )
    .await;
    let r = run(&s.uri(), "write_and_read", Profile::V2).await;
    assert_fault(&r, FaultKind::Unparsable, "without a #datatype annotation");
}

#[tokio::test]
async fn query_answers_json_instead_of_csv() {
    let s = server().await;
    on_query(
        &s,
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"results": []})),
    )
    .await;
    let r = run(&s.uri(), "write_and_read", Profile::V2).await;
    assert_fault(&r, FaultKind::Unparsable, "not valid annotated CSV");
}

/// Every read answers a different value: the data never settles.
struct NeverSettles(AtomicUsize);

impl Respond for NeverSettles {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200)
            .insert_header("content-type", "text/csv; charset=utf-8")
            .set_body_string(CSV_ONE_POINT.replace(",1,v,m", &format!(",{n},v,m")))
    }
}

#[tokio::test]
async fn monitoring_never_settles() {
    let s = server().await;
    on_query(&s, NeverSettles(AtomicUsize::new(0))).await;
    let r = run(&s.uri(), "settles", Profile::Cloud).await;
    assert_fault(&r, FaultKind::NotSettled, "did not settle within 1.2s");
}

#[tokio::test]
async fn wrong_status() {
    let s = server().await;
    on_write(&s, ResponseTemplate::new(200)).await;
    let r = run(&s.uri(), "write_and_read", Profile::V2).await;
    assert_eq!(r.verdict, Verdict::Fail, "{}", r.reason);
    assert!(
        r.reason.contains("status differs (expected 204, got 200)"),
        "{}",
        r.reason
    );
    assert!(r
        .reproduce
        .as_deref()
        .is_some_and(|c| c.contains("$INFLUX_TOKEN")));
}

#[tokio::test]
async fn server_without_tenancy_api() {
    let s = MockServer::start().await;
    let r = run(&s.uri(), "write_and_read", Profile::V2).await;
    assert_fault(
        &r,
        FaultKind::Unsupported,
        "the server lacks the tenancy API (GET /api/v2/orgs answered 404); give a pre-made bucket with --bucket",
    );
}

fn deviation() -> influx_conformance::deviation::Deviation {
    influx_conformance::deviation::Deviation {
        cases: "fixtures.yaml::write_*".into(),
        kind: influx_conformance::deviation::DeviationKind::ByDesign,
        note: "answers 200 on success".into(),
        link: None,
        fault: None,
    }
}

#[tokio::test]
async fn known_deviation_turns_fail_into_xfail_and_pass_into_xpass() {
    let config = RunConfig::default();
    let s = server().await;
    let t = target(&s.uri(), Profile::V2).with_deviations(vec![deviation()]);
    let r = run_case(&case("write_and_read"), &t, Profile::V2, &config).await;
    assert_eq!(
        (r.raw_verdict, r.verdict),
        (Verdict::Pass, Verdict::Xpass),
        "{}",
        r.reason
    );
    on_write(&s, ResponseTemplate::new(200)).await;
    let r = run_case(&case("write_and_read"), &t, Profile::V2, &config).await;
    assert_eq!(
        (r.raw_verdict, r.verdict),
        (Verdict::Fail, Verdict::Xfail),
        "{}",
        r.reason
    );
}

async fn on_setup(s: &MockServer, allowed: bool) {
    Mock::given(method("GET"))
        .and(path("/api/v2/setup"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"allowed": allowed})),
        )
        .with_priority(1)
        .mount(s)
        .await;
}

/// `onboarded: false` runs only on a server that says setup is allowed; an onboarded server
/// skips the case (with the reason) instead of failing it or creating anything.
#[tokio::test]
async fn unonboarded_cases_need_a_fresh_server() {
    let s = server().await;
    on_setup(&s, false).await;
    let r = run(&s.uri(), "onboards", Profile::V2).await;
    assert_eq!(r.verdict, Verdict::Skipped, "{}", r.reason);
    assert!(r.reason.contains("/api/v2/setup"), "{}", r.reason);
    let fresh = server().await;
    on_setup(&fresh, true).await;
    let r = run(&fresh.uri(), "onboards", Profile::V2).await;
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.reason);
    let created = fresh
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() != "GET")
        .count();
    assert_eq!(
        created, 0,
        "nothing is created or removed on an un-onboarded server"
    );
}
