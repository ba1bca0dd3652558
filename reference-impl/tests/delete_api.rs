//! `POST /api/v2/delete` over a real socket: spec/v2.md §7.2 (order and every message), §7.3
//! (predicate grammar), and that a delete really removes data, byte for byte.

mod common;

use common::{start_default, Server};
use influx_reference::storage::Action;
use rstest::rstest;

const JSON: &str = "application/json; charset=utf-8";
const RANGE: &str = r#""start":"1970-01-01T00:00:00Z","stop":"2100-01-01T00:00:00Z""#;

async fn delete(s: &Server, query: &str, auth: Option<&str>, body: &str) -> common::Reply {
    let mut req = s
        .client
        .post(s.url(&format!("/api/v2/delete?{query}")))
        .body(body.to_string());
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    s.send(req).await
}

fn with_predicate(p: &str) -> String {
    let mut quoted = String::new();
    influx_reference::api_error::push_go_json_string(&mut quoted, p);
    format!("{{{RANGE},\"predicate\":{quoted}}}")
}

// §7.2, one row per message, in the handler's order.
#[rstest]
#[case::no_token(
    None,
    "org=my-org&bucket=my-bucket",
    "{}",
    401,
    r#"{"code":"unauthorized","message":"unauthorized access"}"#
)]
#[case::empty_body(
    Some("Token my-token"),
    "org=my-org&bucket=my-bucket",
    "",
    400,
    r#"{"code":"invalid","message":"error decoding json body: EOF"}"#
)]
#[case::syntax(Some("Token my-token"), "org=my-org&bucket=my-bucket", "nope", 400, r#"{"code":"invalid","message":"error decoding json body: invalid character 'o' in literal null (expecting 'u')"}"#)]
#[case::truncated(
    Some("Token my-token"),
    "org=my-org&bucket=my-bucket",
    r#"{"start":"#,
    400,
    r#"{"code":"invalid","message":"error decoding json body: unexpected EOF"}"#
)]
#[case::type_error(Some("Token my-token"), "org=my-org&bucket=my-bucket", r#"{"start":1}"#, 400, r#"{"code":"invalid","message":"error decoding json body: Invalid delete predicate node request: json: cannot unmarshal number into Go struct field deleteRequestDecode.start of type string"}"#)]
#[case::start_missing(Some("Token my-token"), "org=my-org&bucket=my-bucket", r#"{"stop":"2009-01-01T23:00:00Z"}"#, 400, r#"{"code":"invalid","message":"error decoding json body: invalid RFC3339Nano for field start, please format your time with RFC3339Nano format, example: 2009-01-02T23:00:00Z"}"#)]
#[case::start_date_only(Some("Token my-token"), "org=my-org&bucket=my-bucket", r#"{"start":"2009-01-02","stop":"2009-01-03T00:00:00Z"}"#, 400, r#"{"code":"invalid","message":"error decoding json body: invalid RFC3339Nano for field start, please format your time with RFC3339Nano format, example: 2009-01-02T23:00:00Z"}"#)]
#[case::start_too_soon(Some("Token my-token"), "org=my-org&bucket=my-bucket", r#"{"start":"1500-01-01T00:00:00Z","stop":"2009-01-01T23:00:00Z"}"#, 400, r#"{"code":"invalid","message":"error decoding json body: invalid start time, start time must not be before 1677-09-21T00:12:43.145224194Z"}"#)]
#[case::start_too_late_same_message(Some("Token my-token"), "org=my-org&bucket=my-bucket", r#"{"start":"3000-01-01T00:00:00Z","stop":"2009-01-01T23:00:00Z"}"#, 400, r#"{"code":"invalid","message":"error decoding json body: invalid start time, start time must not be before 1677-09-21T00:12:43.145224194Z"}"#)]
#[case::stop_bad(Some("Token my-token"), "org=my-org&bucket=my-bucket", r#"{"start":"2009-01-01T23:00:00Z","stop":"tomorrow"}"#, 400, r#"{"code":"invalid","message":"error decoding json body: invalid RFC3339Nano for field stop, please format your time with RFC3339Nano format, example: 2009-01-01T23:00:00Z"}"#)]
#[case::stop_too_late(Some("Token my-token"), "org=my-org&bucket=my-bucket", r#"{"start":"2009-01-01T23:00:00Z","stop":"3000-01-01T00:00:00Z"}"#, 400, r#"{"code":"invalid","message":"error decoding json body: invalid stop time, stop time must not be after 2262-04-11T23:47:16.854775806Z"}"#)]
#[case::predicate_error(Some("Token my-token"), "org=my-org&bucket=my-bucket", &with_predicate("host=\"a\" OR region=\"b\""), 400, r#"{"code":"invalid","message":"error decoding json body: the logical operator OR is not supported yet at position 9"}"#)]
#[case::predicate_new_error(Some("Token my-token"), "org=my-org&bucket=my-bucket", &with_predicate("a=1 b=2"), 400, r#"{"code":"invalid","message":"error decoding json body: the logical operator '\\x00' is invalid"}"#)]
#[case::trailing_garbage(Some("Token my-token"), "org=my-org&bucket=my-bucket", &format!("{{{RANGE}}} x"), 400, r#"{"code":"invalid","message":"error decoding json body for predicate: invalid character 'x' after top-level value"}"#)]
#[case::influxql_error(Some("Token my-token"), "org=my-org&bucket=my-bucket", &with_predicate("a=1 AND"), 400, r#"{"code":"invalid","message":"invalid request; error parsing predicate: found EOF, expected identifier, string, number, bool at line 1, char 9"}"#)]
#[case::by_field(Some("Token my-token"), "org=my-org&bucket=my-bucket", &with_predicate("_field=\"usage\""), 501, r#"{"code":"not implemented","message":"delete by field is not supported"}"#)]
#[case::field_checked_before_org(Some("Token my-token"), "org=nope", &with_predicate("a=1 AND _field=x"), 501, r#"{"code":"not implemented","message":"delete by field is not supported"}"#)]
#[case::neither_org(Some("Token my-token"), "bucket=my-bucket", &format!("{{{RANGE}}}"), 400, r#"{"code":"invalid","message":"Please provide either orgID or org"}"#)]
#[case::org_name(Some("Token my-token"), "org=x&bucket=my-bucket", &format!("{{{RANGE}}}"), 404, r#"{"code":"not found","message":"organization name \"x\" not found"}"#)]
#[case::org_id(Some("Token my-token"), "orgID=00000000000000aa&bucket=my-bucket", &format!("{{{RANGE}}}"), 404, r#"{"code":"not found","message":"organization not found"}"#)]
#[case::no_bucket(Some("Token my-token"), "org=my-org", &format!("{{{RANGE}}}"), 400, r#"{"code":"invalid","message":"Please provide either bucketID or bucket"}"#)]
#[case::bucket_name(Some("Token my-token"), "org=my-org&bucket=x", &format!("{{{RANGE}}}"), 404, r#"{"code":"not found","message":"bucket \"x\" not found"}"#)]
#[case::bucket_as_id_no_name_fallback(Some("Token my-token"), "org=my-org&bucket=00000000000000aa", &format!("{{{RANGE}}}"), 404, r#"{"code":"not found","message":"bucket not found"}"#)]
#[case::bucket_id(Some("Token my-token"), "org=my-org&bucket=my-bucket&bucketID=00000000000000aa", &format!("{{{RANGE}}}"), 404, r#"{"code":"not found","message":"bucket not found"}"#)]
#[case::bucket_id_malformed(Some("Token my-token"), "org=my-org&bucketID=abc", &format!("{{{RANGE}}}"), 400, r#"{"code":"invalid","message":"id must have a length of 16 bytes"}"#)]
#[case::reader(Some("Token reader"), "org=my-org&bucket=my-bucket", &format!("{{{RANGE}}}"), 403, r#"{"code":"forbidden","message":"insufficient permissions to delete"}"#)]
#[tokio::test]
async fn status_table(
    #[case] auth: Option<&str>,
    #[case] query: &str,
    #[case] body: &str,
    #[case] status: u16,
    #[case] expected: &str,
) {
    let s = start_default().await;
    s.add_token("reader", vec![s.bucket_permission(Action::Read)]);
    let r = s.write("org=my-org&bucket=my-bucket", "m v=1 1").await;
    assert_eq!(r.status, 204);
    let r = delete(&s, query, auth, body).await;
    assert_eq!((r.status, r.body.as_str()), (status, expected));
    assert_eq!(r.header("content-type"), Some(JSON));
    let code = expected.split('"').nth(3).unwrap();
    assert_eq!(r.header("x-platform-error-code"), Some(code));
    assert_eq!(r.header("x-influxdb-build"), Some("OSS"));
    assert_eq!(s.landed().len(), 1, "nothing deleted on error");
}

// §7.3: every observed parser message, reaching the client through the handler.
#[rstest]
#[case::single_quotes("_measurement='cpu'", "bad tag value: \\\"cpu\\\", at position 12")]
#[case::or(
    "host=\"a\" OR region=\"b\"",
    "the logical operator OR is not supported yet at position 9"
)]
#[case::regex(
    "host=~/a/",
    "operator: \\\"=~\\\" at position: 4 is not supported yet"
)]
#[case::not_regex(
    "host!~/a/",
    "operator: \\\"!~\\\" at position: 4 is not supported yet"
)]
#[case::operator_html_escaped("host>1", "invalid operator \\\"\\u003e\\\" at position: 4")]
#[case::no_value("host=", "bad tag value: \\\"\\\", at position 5")]
#[case::no_key("host=a AND =b", "bad logical expression, at position 11")]
#[case::number_key("host=a AND 1=b", "bad tag key, at position 11")]
#[case::open_paren("(host=\"a\"", "extra ( seen")]
#[case::close_paren("host=\"a\")", "extra ) seen")]
#[case::nested_child(
    "(a=1 b=2) AND c=3",
    "Err in Child 0, err: the logical operator '\\\\x00' is invalid"
)]
#[tokio::test]
async fn predicate_messages(#[case] predicate: &str, #[case] message: &str) {
    let s = start_default().await;
    let r = delete(
        &s,
        "org=my-org&bucket=my-bucket",
        Some("Token my-token"),
        &with_predicate(predicate),
    )
    .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            format!(r#"{{"code":"invalid","message":"error decoding json body: {message}"}}"#)
                .as_str()
        )
    );
}

// §7.3: the accepted forms all delete (204).
#[rstest]
#[case::measurement("_measurement=\"cpu\"")]
#[case::bare("host=a")]
#[case::quoted_key("\"my tag\"=\"v\"")]
#[case::escaped("host = \"a\\\"b\"")]
#[case::values("a=1 AND b=-2 AND c=true AND d=2d AND e=1.5")]
#[case::parens("host=\"a\" AND (region=\"b\" AND z=\"c\")")]
#[case::lower_and("host=a and region=b")]
#[case::field_not_equal("_field!=\"x\"")]
#[case::empty("")]
#[tokio::test]
async fn accepted_predicates(#[case] predicate: &str) {
    let s = start_default().await;
    let r = delete(
        &s,
        "org=my-org&bucket=my-bucket",
        Some("Token my-token"),
        &with_predicate(predicate),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
}

async fn seed(s: &Server) {
    let r = s
        .write(
            "org=my-org&bucket=my-bucket",
            "cpu,host=a v=1 10\ncpu,host=a v=2 20\ncpu,host=a v=3 30\n\
             cpu,host=b v=4 20\nmem,host=a v=5 20\ncpu v=6 20\n",
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
}

fn body(start: &str, stop: &str, predicate: &str) -> String {
    let mut quoted = String::new();
    influx_reference::api_error::push_go_json_string(&mut quoted, predicate);
    format!(r#"{{"start":"{start}","stop":"{stop}","predicate":{quoted}}}"#)
}

#[tokio::test]
async fn delete_removes_inclusive_range_of_matching_series_only() {
    let s = start_default().await;
    seed(&s).await;
    let r = delete(
        &s,
        "org=my-org&bucket=my-bucket",
        Some("Token my-token"),
        // 10 ns .. 20 ns, both ends included.
        &body(
            "1970-01-01T00:00:00.00000001Z",
            "1970-01-01T00:00:00.00000002Z",
            "_measurement=\"cpu\" AND host=\"a\"",
        ),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_eq!(
        s.landed(),
        [
            "cpu v=Float(6.0) 20",
            "cpu,host=a v=Float(3.0) 30",
            "cpu,host=b v=Float(4.0) 20",
            "mem,host=a v=Float(5.0) 20",
        ]
    );
}

#[tokio::test]
async fn empty_predicate_deletes_everything_in_range() {
    let s = start_default().await;
    seed(&s).await;
    let b = s.reference.bootstrap().clone();
    let r = delete(
        &s,
        &format!("org=my-org&bucket={}", b.bucket_id),
        Some("Token my-token"),
        &format!("{{{RANGE}}}"),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(s.landed().is_empty());
}
