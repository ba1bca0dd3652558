//! Issue 14's read-back rules over a real socket, byte for byte (annotated CSV as `flux/csv`
//! writes it, errors as 2.7 words them): `now` as Go decodes it, table order after `group()`,
//! points in overlapping shard groups read once, `import`, the functions clients use, `to()`
//! as a write path, and the profiler's `_profiler` result. Expected bytes were checked
//! against InfluxDB 2.7.12 and Flux v0.196.1 (the source each comment names).

mod common;

use common::{start_default, Server};
use rstest::rstest;

/// The data every case reads: 2024-01-01T00:10:00Z and 00:20:00Z.
async fn seed(s: &Server) {
    let body = "cpu,host=a usage=1.5 1704067800000000000\n\
                cpu,host=a usage=2.5 1704068400000000000\n\
                cpu,host=b usage=4 1704067800000000000\n\
                cpu,host=a idle=10i 1704067800000000000\n\
                mem,host=a used=3u 1704067800000000000\n\
                mem,host=a ok=true 1704067800000000000\n\
                mem,host=a note=\"x\" 1704067800000000000";
    let r = s.write("org=my-org&bucket=my-bucket", body).await;
    assert_eq!(r.status, 204, "{}", r.body);
}

/// POSTs a JSON query body.
async fn post(s: &Server, body: serde_json::Value) -> common::Reply {
    let req = s
        .client
        .post(s.url("/api/v2/query?org=my-org"))
        .header("Authorization", "Token my-token")
        .header("Content-Type", "application/json")
        .body(body.to_string());
    s.send(req).await
}

/// Runs `flux` with `now` pinned to 2024-01-01T01:00:00Z and all three annotations.
async fn annotated(s: &Server, flux: &str) -> common::Reply {
    post(
        s,
        serde_json::json!({
            "query": flux,
            "now": "2024-01-01T01:00:00Z",
            "dialect": {"annotations": ["datatype", "group", "default"]},
        }),
    )
    .await
}

// Rule 5: the functions clients use. Storage-pushed reads keep storage's layouts
// (`storage/flux/reader.go`); Flux transformations theirs (`stdlib/universe/*.go`,
// `universe.flux`): `map` sorts its columns, `group`/`map` regroup, `keep`-like functions emit
// sorted by key, `difference`/`derivative`/`elapsed` keep empty tables, tableFind's miss is
// `codes.NotFound`.
#[rstest]
#[case::window_every_15m(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> window(every: 15m)",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T00:15:00Z,2024-01-01T00:10:00Z,1.5,usage,cpu,a\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T00:15:00Z,2024-01-01T00:10:00Z,4,usage,cpu,b\r\n\
         ,,2,2024-01-01T00:15:00Z,2024-01-01T00:30:00Z,2024-01-01T00:20:00Z,2.5,usage,cpu,a\r\n\
         \r\n"
)]
#[case::window_period_create_empty(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> window(every: 20m, period: 40m, createEmpty: true) |> count()",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,string,string,string,long\r\n\
         #group,false,false,true,true,true,true,true,false\r\n\
         #default,_result,,,,,,,\r\n\
         ,result,table,_start,_stop,_field,_measurement,host,_value\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T00:20:00Z,usage,cpu,a,1\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T00:20:00Z,usage,cpu,b,1\r\n\
         ,,2,2024-01-01T00:00:00Z,2024-01-01T00:40:00Z,usage,cpu,a,2\r\n\
         ,,3,2024-01-01T00:00:00Z,2024-01-01T00:40:00Z,usage,cpu,b,1\r\n\
         ,,4,2024-01-01T00:20:00Z,2024-01-01T01:00:00Z,usage,cpu,a,1\r\n\
         ,,5,2024-01-01T00:20:00Z,2024-01-01T01:00:00Z,usage,cpu,b,0\r\n\
         ,,6,2024-01-01T00:40:00Z,2024-01-01T01:00:00Z,usage,cpu,a,0\r\n\
         ,,7,2024-01-01T00:40:00Z,2024-01-01T01:00:00Z,usage,cpu,b,0\r\n\
         \r\n"
)]
#[case::map_with_and_regroup(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> map(fn: (r) => ({r with _value: r._value * 2.0, doubled: true}))",
    200,
    "#datatype,string,long,string,string,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,boolean,string\r\n\
         #group,false,false,true,true,true,true,false,false,false,true\r\n\
         #default,_result,,,,,,,,,\r\n\
         ,result,table,_field,_measurement,_start,_stop,_time,_value,doubled,host\r\n\
         ,,0,usage,cpu,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,3,true,a\r\n\
         ,,0,usage,cpu,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,5,true,a\r\n\
         ,,1,usage,cpu,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,8,true,b\r\n\
         \r\n"
)]
#[case::map_new_record(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> map(fn: (r) => ({_time: r._time, v: r._value, host: r.host}))",
    200,
    "#datatype,string,long,dateTime:RFC3339,string,double\r\n\
         #group,false,false,false,true,false\r\n\
         #default,_result,,,,\r\n\
         ,result,table,_time,host,v\r\n\
         ,,0,2024-01-01T00:10:00Z,a,1.5\r\n\
         ,,0,2024-01-01T00:20:00Z,a,2.5\r\n\
         ,,1,2024-01-01T00:10:00Z,b,4\r\n\
         \r\n"
)]
#[case::fill_value_and_previous(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> aggregateWindow(every: 20m, fn: last, createEmpty: true) |> fill(usePrevious: true)",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,1.5,usage,cpu,a\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:40:00Z,2.5,usage,cpu,a\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T01:00:00Z,2.5,usage,cpu,a\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,4,usage,cpu,b\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:40:00Z,4,usage,cpu,b\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T01:00:00Z,4,usage,cpu,b\r\n\
         \r\n"
)]
#[case::fill_value(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> aggregateWindow(every: 20m, fn: mean) |> fill(value: 0.0)",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,1.5,usage,cpu,a\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:40:00Z,2.5,usage,cpu,a\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T01:00:00Z,0,usage,cpu,a\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,4,usage,cpu,b\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:40:00Z,0,usage,cpu,b\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T01:00:00Z,0,usage,cpu,b\r\n\
         \r\n"
)]
#[case::duplicate_set(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> duplicate(column: \"host\", as: \"server\") |> set(key: \"env\", value: \"prod\")",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true,false,false\r\n\
         #default,_result,,,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host,server,env\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,1.5,usage,cpu,a,a,prod\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,2.5,usage,cpu,a,a,prod\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,4,usage,cpu,b,b,prod\r\n\
         \r\n"
)]
#[case::union_of_two(
    "a = from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> filter(fn: (r) => r.host == \"a\")\nb = from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> filter(fn: (r) => r.host == \"b\")\nunion(tables: [a, b])",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,1.5,usage,cpu,a\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,2.5,usage,cpu,a\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,4,usage,cpu,b\r\n\
         \r\n"
)]
#[case::unique_column(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> group() |> unique(column: \"host\")",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,false,false,false\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,1.5,usage,cpu,a\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,4,usage,cpu,b\r\n\
         \r\n"
)]
#[case::tail_n1(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> tail(n: 1)",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,2.5,usage,cpu,a\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,4,usage,cpu,b\r\n\
         \r\n"
)]
#[case::top_bottom(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> group() |> top(n: 2)",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,false,false,false\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,4,usage,cpu,b\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,2.5,usage,cpu,a\r\n\
         \r\n"
)]
#[case::bottom_n1(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> group() |> bottom(n: 1)",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,false,false,false\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,1.5,usage,cpu,a\r\n\
         \r\n"
)]
#[case::difference_default(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> difference()",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,1,usage,cpu,a\r\n\
         \r\n\
         #datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,,,usage,cpu,b\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         \r\n"
)]
#[case::difference_nonnegative_keepfirst(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> difference(nonNegative: true, keepFirst: true)",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,,usage,cpu,a\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,1,usage,cpu,a\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,,usage,cpu,b\r\n\
         \r\n"
)]
#[case::derivative_unit_1m(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> derivative(unit: 1m)",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,0.1,usage,cpu,a\r\n\
         \r\n\
         #datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,,,usage,cpu,b\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         \r\n"
)]
#[case::elapsed_unit_1m(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> elapsed(unit: 1m)",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string,long\r\n\
         #group,false,false,true,true,false,false,true,true,true,false\r\n\
         #default,_result,,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host,elapsed\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,2.5,usage,cpu,a,10\r\n\
         \r\n\
         #datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string,long\r\n\
         #group,false,false,true,true,false,false,true,true,true,false\r\n\
         #default,_result,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,,,usage,cpu,b,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host,elapsed\r\n\
         \r\n"
)]
#[case::timeshift_minus_1h(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> timeShift(duration: -1h)",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2023-12-31T23:00:00Z,2024-01-01T00:00:00Z,2023-12-31T23:10:00Z,1.5,usage,cpu,a\r\n\
         ,,0,2023-12-31T23:00:00Z,2024-01-01T00:00:00Z,2023-12-31T23:20:00Z,2.5,usage,cpu,a\r\n\
         ,,1,2023-12-31T23:00:00Z,2024-01-01T00:00:00Z,2023-12-31T23:10:00Z,4,usage,cpu,b\r\n\
         \r\n"
)]
#[case::truncate_time_column(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> truncateTimeColumn(unit: 15m)",
    200,
    "#datatype,string,long,string,string,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string\r\n\
         #group,false,false,true,true,true,true,false,false,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_field,_measurement,_start,_stop,_time,_value,host\r\n\
         ,,0,usage,cpu,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:00:00Z,1.5,a\r\n\
         ,,0,usage,cpu,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:15:00Z,2.5,a\r\n\
         ,,1,usage,cpu,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:00:00Z,4,b\r\n\
         \r\n"
)]
#[case::median_default(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> median()",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,string,string,string,double\r\n\
         #group,false,false,true,true,true,true,true,false\r\n\
         #default,_result,,,,,,,\r\n\
         ,result,table,_start,_stop,_field,_measurement,host,_value\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,usage,cpu,a,2\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,usage,cpu,b,4\r\n\
         \r\n"
)]
#[case::quantile_exact_mean(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> quantile(q: 0.99, method: \"exact_mean\")",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,string,string,string,double\r\n\
         #group,false,false,true,true,true,true,true,false\r\n\
         #default,_result,,,,,,,\r\n\
         ,result,table,_start,_stop,_field,_measurement,host,_value\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,usage,cpu,a,2.49\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,usage,cpu,b,4\r\n\
         \r\n"
)]
#[case::quantile_exact_selector(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> quantile(q: 0.99, method: \"exact_selector\")",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,2.5,usage,cpu,a\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,4,usage,cpu,b\r\n\
         \r\n"
)]
#[case::conversions(
    "import \"array\"\narray.from(rows: [{s: \"12\", f: 1.9, i: -3, b: true, t: 2024-01-01T00:00:00Z}])\n  |> map(fn: (r) => ({fi: int(v: r.f), sf: float(v: r.s), is: string(v: r.i), bs: string(v: r.b), ti: int(v: r.t), iu: uint(v: 5), ib: bool(v: \"true\"), ts: time(v: \"2024-01-01T00:00:00Z\")}))",
    200,
    "#datatype,string,long,string,long,boolean,string,unsignedLong,double,long,dateTime:RFC3339\r\n\
         #group,false,false,false,false,false,false,false,false,false,false\r\n\
         #default,_result,,,,,,,,,\r\n\
         ,result,table,bs,fi,ib,is,iu,sf,ti,ts\r\n\
         ,,0,true,1,true,-3,5,12,1704067200000000000,2024-01-01T00:00:00Z\r\n\
         \r\n"
)]
#[case::to_float_int_string(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"idle\") |> toFloat()",
    200,
    "#datatype,string,long,string,string,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string\r\n\
         #group,false,false,true,true,true,true,false,false,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_field,_measurement,_start,_stop,_time,_value,host\r\n\
         ,,0,idle,cpu,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,10,a\r\n\
         \r\n"
)]
#[case::to_bool_uint(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"used\") |> toUInt()",
    200,
    "#datatype,string,long,string,string,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,unsignedLong,string\r\n\
         #group,false,false,true,true,true,true,false,false,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_field,_measurement,_start,_stop,_time,_value,host\r\n\
         ,,0,used,mem,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,3,a\r\n\
         \r\n"
)]
#[case::tablefind_getcolumn(
    "import \"array\"\nt = from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> tableFind(fn: (key) => key.host == \"a\")\nv = t |> getColumn(column: \"_value\")\narray.from(rows: [{n: length(arr: v), first: v[0]}])",
    200,
    "#datatype,string,long,long,double\r\n\
         #group,false,false,false,false\r\n\
         #default,_result,,,\r\n\
         ,result,table,n,first\r\n\
         ,,0,2,1.5\r\n\
         \r\n"
)]
#[case::import_after_statement(
    "x = 1\nimport \"array\"\narray.from(rows: [{x: x}])",
    400,
    "{\"code\":\"invalid\",\"message\":\"compilation failed: error @2:1-2:7: invalid statement: import\"}"
)]
#[case::getrecord_findrecord(
    "import \"array\"\nr = from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> findRecord(fn: (key) => key.host == \"b\", idx: 0)\nc = from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> findColumn(fn: (key) => key.host == \"a\", column: \"_value\")\narray.from(rows: [{host: r.host, v: r._value, n: length(arr: c)}])",
    200,
    "#datatype,string,long,string,double,long\r\n\
         #group,false,false,false,false,false\r\n\
         #default,_result,,,,\r\n\
         ,result,table,host,v,n\r\n\
         ,,0,b,4,2\r\n\
         \r\n"
)]
#[case::tablefind_no_table(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> tableFind(fn: (key) => key.host == \"zzz\") |> getColumn(column: \"_value\")",
    404,
    "{\"code\":\"not found\",\"message\":\"error calling function \\\"tableFind\\\" @1:138-1:179: no table found\"}"
)]
#[tokio::test]
async fn functions_answer_like_flux(#[case] flux: &str, #[case] status: u16, #[case] body: &str) {
    let s = start_default().await;
    seed(&s).await;
    let r = annotated(&s, flux).await;
    assert_eq!((r.status, r.body.as_str()), (status, body), "{flux}");
}

// Errors name the step of the query that found them, as InfluxDB's controller and Flux's
// program wrap them: parsing (`compilation failed`, `query/control/controller.go`), the query
// spec and the planner (`flux:lang/compiler.go`, `AstProgram.Start`); evaluation errors carry
// none. The Java client's `ITFluxClient.error` and other clients' tests against 2.7 assert the
// planner's prefix on unbounded reads and empty ranges.
#[rstest]
#[case::parse_error_is_compilation_failed(
    "x = ",
    400,
    "{\"code\":\"invalid\",\"message\":\"compilation failed: error @1:5-1:5: invalid expression: invalid token for primary expression: EOF\"}"
)]
#[case::no_stream_is_a_spec_error(
    "x = 1",
    400,
    "{\"code\":\"invalid\",\"message\":\"error in query specification while starting program: this Flux script returns no streaming data. Consider adding a \\\"yield\\\" or invoking streaming functions directly, without performing an assignment\"}"
)]
#[case::unbounded_read_is_a_plan_error(
    "from(bucket: \"my-bucket\")",
    400,
    "{\"code\":\"invalid\",\"message\":\"error in building plan while starting program: cannot submit unbounded read to \\\"my-bucket\\\"; try bounding 'from' with a call to 'range'\"}"
)]
#[case::empty_range_is_a_plan_error(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-02T00:00:00Z, stop: 2024-01-01T00:00:00Z)",
    400,
    "{\"code\":\"invalid\",\"message\":\"error in building plan while starting program: cannot query an empty range\"}"
)]
#[case::duplicate_yield_is_a_plan_error(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z) |> yield(name: \"a\")\nfrom(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z) |> yield(name: \"a\")",
    400,
    "{\"code\":\"invalid\",\"message\":\"error in building plan while starting program: found more than one call to yield() with the name \\\"a\\\"\"}"
)]
#[case::from_without_bucket(
    "from() |> range(start: -1h)",
    400,
    "{\"code\":\"invalid\",\"message\":\"error calling function \\\"from\\\" @1:1-1:7: must specify bucket or bucketID\"}"
)]
#[case::from_with_both_buckets(
    "from(bucket: \"my-bucket\", bucketID: \"0000000000000001\") |> range(start: -1h)",
    400,
    "{\"code\":\"invalid\",\"message\":\"error calling function \\\"from\\\" @1:1-1:56: must specify only one of bucket or bucketID\"}"
)]
#[case::filter_on_empty_value(
    "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z) |> filter(fn: (r) => true, onEmpty: \"x\")",
    400,
    "{\"code\":\"invalid\",\"message\":\"error calling function \\\"filter\\\" @1:68-1:105: onEmpty must be keep or drop, was \\\"x\\\"\"}"
)]
#[tokio::test]
async fn errors_carry_the_stage_that_found_them(
    #[case] flux: &str,
    #[case] status: u16,
    #[case] body: &str,
) {
    let s = start_default().await;
    seed(&s).await;
    let r = annotated(&s, flux).await;
    assert_eq!((r.status, r.body.as_str()), (status, body), "{flux}");
}

/// `limit` and `tail` do not check `n`: at 0 or below every table passes on with no rows
/// (`universe/limit.go`, `processChunk`; `universe/tail.go`), so the answer is the tables'
/// `#default` rows and headers, not an error.
#[rstest]
#[case::limit_zero("limit(n: 0)")]
#[case::limit_negative("limit(n: -1)")]
#[case::tail_zero("tail(n: 0)")]
#[tokio::test]
async fn limit_and_tail_of_no_rows_keep_the_tables(#[case] call: &str) {
    let s = start_default().await;
    seed(&s).await;
    let flux = format!(
        "from(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == \"usage\") |> {call}"
    );
    let r = annotated(&s, &flux).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
             #group,false,false,true,true,false,false,true,true,true\r\n\
             #default,_result,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,,,usage,cpu,a\r\n\
             ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
             \r\n\
             #datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
             #group,false,false,true,true,false,false,true,true,true\r\n\
             #default,_result,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,,,usage,cpu,b\r\n\
             ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
             \r\n"
        ),
        "{flux}"
    );
}

// Rule 4: the packages clients import (`influxdata/influxdb/schema` as the UI and Grafana
// browse a bucket, `influxdata/influxdb` cardinality, `strings`, `date`, `array`,
// `experimental`); an unknown package is libflux's `invalid import path`.
#[rstest]
#[case::schema_measurements(
    "import \"influxdata/influxdb/schema\"\nschema.measurements(bucket: \"my-bucket\", start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z)",
    200,
    "#datatype,string,long,string\r\n\
         #group,false,false,false\r\n\
         #default,_result,,\r\n\
         ,result,table,_value\r\n\
         ,,0,cpu\r\n\
         ,,0,mem\r\n\
         \r\n"
)]
#[case::schema_tag_keys(
    "import \"influxdata/influxdb/schema\"\nschema.tagKeys(bucket: \"my-bucket\", start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z)",
    200,
    "#datatype,string,long,string\r\n\
         #group,false,false,false\r\n\
         #default,_result,,\r\n\
         ,result,table,_value\r\n\
         ,,0,_start\r\n\
         ,,0,_stop\r\n\
         ,,0,_field\r\n\
         ,,0,_measurement\r\n\
         ,,0,host\r\n\
         \r\n"
)]
#[case::schema_tag_values(
    "import \"influxdata/influxdb/schema\"\nschema.tagValues(bucket: \"my-bucket\", tag: \"host\", start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z)",
    200,
    "#datatype,string,long,string\r\n\
         #group,false,false,false\r\n\
         #default,_result,,\r\n\
         ,result,table,_value\r\n\
         ,,0,a\r\n\
         ,,0,b\r\n\
         \r\n"
)]
#[case::schema_field_keys(
    "import \"influxdata/influxdb/schema\"\nschema.fieldKeys(bucket: \"my-bucket\", start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z)",
    200,
    "#datatype,string,long,string\r\n\
         #group,false,false,false\r\n\
         #default,_result,,\r\n\
         ,result,table,_value\r\n\
         ,,0,idle\r\n\
         ,,0,note\r\n\
         ,,0,ok\r\n\
         ,,0,usage\r\n\
         ,,0,used\r\n\
         \r\n"
)]
#[case::schema_measurement_field_keys(
    "import \"influxdata/influxdb/schema\"\nschema.measurementFieldKeys(bucket: \"my-bucket\", measurement: \"cpu\", start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z)",
    200,
    "#datatype,string,long,string\r\n\
         #group,false,false,false\r\n\
         #default,_result,,\r\n\
         ,result,table,_value\r\n\
         ,,0,idle\r\n\
         ,,0,usage\r\n\
         \r\n"
)]
#[case::schema_fields_as_cols(
    "import \"influxdata/influxdb/schema\"\nfrom(bucket: \"my-bucket\") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._measurement == \"cpu\") |> schema.fieldsAsCols()",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,string,string,long,double\r\n\
         #group,false,false,true,true,false,true,true,false,false\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_measurement,host,idle,usage\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,cpu,a,10,1.5\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,cpu,a,,2.5\r\n\
         \r\n\
         #datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,string,string,double\r\n\
         #group,false,false,true,true,false,true,true,false\r\n\
         #default,_result,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_measurement,host,usage\r\n\
         ,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,cpu,b,4\r\n\
         \r\n"
)]
#[case::influxdb_cardinality(
    "import \"influxdata/influxdb\"\ninfluxdb.cardinality(bucket: \"my-bucket\", start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z)",
    200,
    "#datatype,string,long,long\r\n\
         #group,false,false,false\r\n\
         #default,_result,,\r\n\
         ,result,table,_value\r\n\
         ,,0,6\r\n\
         \r\n"
)]
#[case::strings_functions(
    "import \"strings\"\nimport \"array\"\narray.from(rows: [{a: strings.toUpper(v: \"ab\"), b: strings.split(v: \"a,b\", t: \",\")[1], c: strings.containsStr(v: \"hello\", substr: \"ell\"), d: strings.replaceAll(v: \"aaa\", t: \"a\", u: \"b\"), e: strings.trimSpace(v: \"  x \"), f: strings.hasPrefix(v: \"abc\", prefix: \"ab\"), g: strings.strlen(v: \"héllo\"), h: strings.substring(v: \"hello\", start: 1, end: 3)}])",
    200,
    "#datatype,string,long,string,string,boolean,string,string,boolean,long,string\r\n\
         #group,false,false,false,false,false,false,false,false,false,false\r\n\
         #default,_result,,,,,,,,,\r\n\
         ,result,table,a,b,c,d,e,f,g,h\r\n\
         ,,0,AB,b,true,bbb,x,true,5,el\r\n\
         \r\n"
)]
#[case::date_functions(
    "import \"date\"\nimport \"array\"\nt = 2024-03-05T13:14:15.5Z\narray.from(rows: [{y: date.year(t: t), m: date.month(t: t), d: date.monthDay(t: t), wd: date.weekDay(t: t), h: date.hour(t: t), yd: date.yearDay(t: t), tr: date.truncate(t: t, unit: 1d), ms: date.millisecond(t: t)}])",
    200,
    "#datatype,string,long,long,long,long,long,long,long,dateTime:RFC3339,long\r\n\
         #group,false,false,false,false,false,false,false,false,false,false\r\n\
         #default,_result,,,,,,,,,\r\n\
         ,result,table,y,m,d,wd,h,yd,tr,ms\r\n\
         ,,0,2024,3,5,2,13,65,2024-03-05T00:00:00Z,500\r\n\
         \r\n"
)]
#[case::array_from_concat_map_filter(
    "import \"array\"\na = array.concat(arr: [1, 2], v: [3, 4])\narray.from(rows: array.map(arr: array.filter(arr: a, fn: (x) => x > 1), fn: (x) => ({v: x * 10})))",
    200,
    "#datatype,string,long,long\r\n\
         #group,false,false,false\r\n\
         #default,_result,,\r\n\
         ,result,table,v\r\n\
         ,,0,20\r\n\
         ,,0,30\r\n\
         ,,0,40\r\n\
         \r\n"
)]
#[case::experimental_functions(
    "import \"experimental\"\nimport \"array\"\narray.from(rows: [{t: experimental.addDuration(d: 1h, to: 2024-01-01T00:00:00Z), s: experimental.subDuration(d: 1d, from: 2024-01-01T00:00:00Z)}])",
    200,
    "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339\r\n\
         #group,false,false,false,false\r\n\
         #default,_result,,,\r\n\
         ,result,table,t,s\r\n\
         ,,0,2024-01-01T01:00:00Z,2023-12-31T00:00:00Z\r\n\
         \r\n"
)]
#[case::unknown_package(
    "import \"nope/nope\"\nbuckets()",
    400,
    "{\"code\":\"invalid\",\"message\":\"error @1:1-1:19: invalid import path nope/nope\"}"
)]
#[case::unsupported_package(
    "import \"sql\"\nbuckets()",
    400,
    "{\"code\":\"invalid\",\"message\":\"error @1:1-1:13: package \\\"sql\\\" is not supported by influx-reference\"}"
)]
#[tokio::test]
async fn imports_answer_like_flux(#[case] flux: &str, #[case] status: u16, #[case] body: &str) {
    let s = start_default().await;
    seed(&s).await;
    let r = annotated(&s, flux).await;
    assert_eq!((r.status, r.body.as_str()), (status, body), "{flux}");
}

fn now_query(now: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "query": "import \"array\"\narray.from(rows: [{n: now()}])",
        "now": now,
    })
}

// Rule 1: `now` as Go 1.23 decodes a `time.Time` (`Time.UnmarshalJSON`, `time.Parse` with
// RFC3339): the zero time Go sends for an unset `now` is the server's clock
// (`QueryRequest.proxyRequest`), any RFC 3339 time of years 0000-9999 decodes (outside the i64
// range `UnixNano` wraps), and the errors are Go's.
#[rstest]
#[case::go_zero_time(serde_json::json!("0001-01-01T00:00:00Z"), 200, ",result,table,n\r\n,_result,0,2025-05-20T11:00:00.123456789Z\r\n\r\n")]
#[case::zero_time_in_another_offset(serde_json::json!("0001-01-01T01:00:00+01:00"), 200, ",result,table,n\r\n,_result,0,2025-05-20T11:00:00.123456789Z\r\n\r\n")]
#[case::null(
    serde_json::Value::Null,
    200,
    ",result,table,n\r\n,_result,0,2025-05-20T11:00:00.123456789Z\r\n\r\n"
)]
#[case::offset(serde_json::json!("2024-01-01T02:00:00.5+01:00"), 200, ",result,table,n\r\n,_result,0,2024-01-01T01:00:00.5Z\r\n\r\n")]
#[case::one_digit_hour(serde_json::json!("2024-01-01T1:00:00Z"), 200, ",result,table,n\r\n,_result,0,2024-01-01T01:00:00Z\r\n\r\n")]
#[case::year_zero_wraps(serde_json::json!("0000-01-01T00:00:00Z"), 200, ",result,table,n\r\n,_result,0,1753-08-29T22:43:41.128654848Z\r\n\r\n")]
#[case::not_a_string(serde_json::json!(5), 400, "{\"code\":\"invalid\",\"message\":\"failed to decode request body: failed parsing request body as JSON; if sending a raw Flux script, set 'Content-Type: application/vnd.flux' in your request headers: Time.UnmarshalJSON: input is not a JSON string\"}")]
#[case::not_a_time(serde_json::json!("yesterday"), 400, "{\"code\":\"invalid\",\"message\":\"failed to decode request body: failed parsing request body as JSON; if sending a raw Flux script, set 'Content-Type: application/vnd.flux' in your request headers: parsing time \\\"yesterday\\\" as \\\"2006-01-02T15:04:05Z07:00\\\": cannot parse \\\"yesterday\\\" as \\\"2006\\\"\"}")]
#[case::month_out_of_range(serde_json::json!("2024-13-01T00:00:00Z"), 400, "{\"code\":\"invalid\",\"message\":\"failed to decode request body: failed parsing request body as JSON; if sending a raw Flux script, set 'Content-Type: application/vnd.flux' in your request headers: parsing time \\\"2024-13-01T00:00:00Z\\\": month out of range\"}")]
#[tokio::test]
async fn now_decodes_as_go_does(
    #[case] now: serde_json::Value,
    #[case] status: u16,
    #[case] body: &str,
) {
    let s = start_default().await;
    let r = post(&s, now_query(now)).await;
    assert_eq!((r.status, r.body.as_str()), (status, body));
}

/// A request without `now` (a client that omits it) also reads the server's clock.
#[tokio::test]
async fn absent_now_is_the_server_clock() {
    let s = start_default().await;
    let mut q = now_query(serde_json::Value::Null);
    q.as_object_mut().unwrap().remove("now");
    let r = post(&s, q).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            ",result,table,n\r\n,_result,0,2025-05-20T11:00:00.123456789Z\r\n\r\n"
        )
    );
}

// Rule 2: `group()` emits its tables when its input ends, ordered by group key
// (`execute/groupkey/groupkey.go` groupKeyLess: column by column in label order, a key
// missing a column first), whatever order the rows arrived in.
#[tokio::test]
async fn group_emits_tables_ordered_by_key() {
    let s = start_default().await;
    seed(&s).await;
    let r = s
        .write(
            "org=my-org&bucket=my-bucket",
            "cpu,host=c,region=eu usage=7 1704068100000000000",
        )
        .await;
    assert_eq!(r.status, 204);
    let base = r#"from(bucket: "my-bucket") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == "usage")"#;
    // Rows of host a arrive first; their key "z" sorts after "y".
    let r = annotated(
        &s,
        &format!(r#"{base} |> map(fn: (r) => ({{r with k: if r.host == "a" then "z" else "y"}})) |> group(columns: ["k"]) |> keep(columns: ["k", "_value", "host"])"#),
    )
    .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            "#datatype,string,long,double,string,string\r\n\
             #group,false,false,false,false,true\r\n\
             #default,_result,,,,\r\n\
             ,result,table,_value,host,k\r\n\
             ,,0,4,b,y\r\n\
             ,,0,7,c,y\r\n\
             ,,1,1.5,a,z\r\n\
             ,,1,2.5,a,z\r\n\
             \r\n"
        )
    );
    // Tables without `region` have a key missing the column: they sort first.
    let r = annotated(
        &s,
        &format!(r#"{base} |> map(fn: (r) => r) |> group(columns: ["region"]) |> keep(columns: ["region", "_value", "host"])"#),
    )
    .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            "#datatype,string,long,double,string\r\n\
             #group,false,false,false,false\r\n\
             #default,_result,,,\r\n\
             ,result,table,_value,host\r\n\
             ,,0,1.5,a\r\n\
             ,,0,2.5,a\r\n\
             ,,0,4,b\r\n\
             \r\n\
             #datatype,string,long,double,string,string\r\n\
             #group,false,false,false,false,true\r\n\
             #default,_result,,,,\r\n\
             ,result,table,_value,host,region\r\n\
             ,,1,7,c,eu\r\n\
             \r\n"
        )
    );
}

// Rule 3: InfluxDB's own TestLauncher_OverlappingShards (cmd/influxd/launcher/storage_test.go):
// after the shard-group duration grows, a point goes to the existing group that holds its
// time (`ShardGroupAt`) and is read once.
#[tokio::test]
async fn points_in_overlapping_shard_groups_are_read_once() {
    let s = start_default().await;
    let org_id = s.reference.bootstrap().org_id.to_string();
    let req = s
        .client
        .post(s.url("/api/v2/buckets"))
        .header("Authorization", "Token my-token")
        .json(&serde_json::json!({"orgID": org_id, "name": "test", "retentionRules": [{"type": "expire", "everySeconds": 0, "shardGroupDurationSeconds": 3600}]}));
    let r = s.send(req).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let w = s
        .write(
            "org=my-org&bucket=test",
            "m,s=0 n=0 1626416520000000000\nm,s=0 n=1 1626420120000000000\n",
        )
        .await;
    assert_eq!(w.status, 204);
    let req = s
        .client
        .patch(s.url(&format!("/api/v2/buckets/{id}")))
        .header("Authorization", "Token my-token")
        .json(&serde_json::json!({"retentionRules": [{"type": "expire", "everySeconds": 0, "shardGroupDurationSeconds": 86400}]}));
    assert_eq!(s.send(req).await.status, 200);
    let w = s
        .write(
            "org=my-org&bucket=test",
            "m,s=0 n=0 1626416520000000000\nm,s=0 n=1 1626420120000000000\nm,s=1 n=1 1626412920000000000\n",
        )
        .await;
    assert_eq!(w.status, 204);
    let r = post(
        &s,
        serde_json::json!({"query": r#"from(bucket:"test") |> range(start:2000-01-01T00:00:00Z,stop:2050-01-01T00:00:00Z) |> drop(columns:["_start","_stop"])"#}),
    )
    .await;
    assert_eq!(
        r.body,
        ",result,table,_time,_value,_field,_measurement,s\r\n\
         ,_result,0,2021-07-16T06:22:00Z,0,n,m,0\r\n\
         ,_result,0,2021-07-16T07:22:00Z,1,n,m,0\r\n\
         ,_result,1,2021-07-16T05:22:00Z,1,n,m,1\r\n\r\n"
    );
}

/// A field whose type changes in a later shard group (each group has its own field types) is
/// read only up to the change: the multi-shard cursor takes the first shard's type and ends at
/// a shard of another (`storage/reads/array_cursor.gen.go`, `nextArrayCursor`). A read that
/// starts after the float's week sees the integers.
#[tokio::test]
async fn a_type_change_in_a_later_shard_group_ends_the_read() {
    let s = start_default().await;
    let w = s
        .write(
            "org=my-org&bucket=my-bucket&precision=ns",
            "tyx v=1.5 5\ntyx v=1i 1000000000000000\ntyx v=2i 1000000000000001\n",
        )
        .await;
    assert_eq!(w.status, 204, "{}", w.body);
    let read = |start: &str| {
        serde_json::json!({"query": format!(
            r#"from(bucket:"my-bucket") |> range(start: {start}, stop: 2000000) |> keep(columns: ["_time", "_value"])"#
        )})
    };
    let r = post(&s, read("0")).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            ",result,table,_time,_value\r\n,_result,0,1970-01-01T00:00:00.000000005Z,1.5\r\n\r\n"
        )
    );
    let r = post(&s, read("1970-01-08T00:00:00Z")).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            ",result,table,_time,_value\r\n\
             ,_result,0,1970-01-12T13:46:40Z,1\r\n\
             ,_result,0,1970-01-12T13:46:40.000000001Z,2\r\n\r\n"
        )
    );
}

/// Replaces every run of digits after a comma in a profiler row, so durations and sizes
/// (which vary run to run, as 2.7's do) compare as `N`.
fn mask_numbers(body: &str) -> String {
    let mut out = String::new();
    for line in body.split("\r\n") {
        if line.starts_with(",,") {
            let cells: Vec<String> = line
                .split(',')
                .enumerate()
                .map(|(i, c)| {
                    if i > 2 && !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) {
                        "N".to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            out.push_str(&cells.join(","));
        } else {
            out.push_str(line);
        }
        out.push_str("\r\n");
    }
    out
}

// Rule 4, the profiler: what the Python client sends for `profilers=["query", "operator"]`
// (its stock config.ini): `import "profiler"` and `option profiler.enabledProfilers` in
// `extern`. The `_profiler` result follows the data: the query table (`execute/profiler.go`
// QueryProfiler: one row keyed by `_measurement`, the statistics, then the metadata columns)
// and the operator table (one row per operation).
#[tokio::test]
async fn profiler_tables_follow_the_data() {
    let s = start_default().await;
    seed(&s).await;
    let body = serde_json::json!({
        "query": r#"from(bucket: "my-bucket") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == "usage" and r.host == "a") |> last()"#,
        "now": "2024-01-01T01:00:00Z",
        "extern": {"type": "File", "package": null, "imports": [{"type": "ImportDeclaration", "path": {"type": "StringLiteral", "value": "profiler"}}],
            "body": [{"type": "OptionStatement", "assignment": {"type": "MemberAssignment",
                "member": {"type": "MemberExpression", "object": {"type": "Identifier", "name": "profiler"}, "property": {"type": "Identifier", "name": "enabledProfilers"}},
                "init": {"type": "ArrayExpression", "elements": [{"type": "StringLiteral", "value": "query"}, {"type": "StringLiteral", "value": "operator"}]}}}]},
        "dialect": {"annotations": ["datatype", "group", "default"]},
    });
    let r = post(&s, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (data, profiler) = r
        .body
        .split_at(r.body.find("#datatype,string,long,string,long").unwrap());
    assert_eq!(
        data,
        "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
         #group,false,false,true,true,false,false,true,true,true\r\n\
         #default,_result,,,,,,,,\r\n\
         ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
         ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:20:00Z,2.5,usage,cpu,a\r\n\
         \r\n"
    );
    let masked = mask_numbers(profiler);
    assert!(
        masked.starts_with(
            "#datatype,string,long,string,long,long,long,long,long,long,long,long,long,string,long,long,string\r\n\
             #group,false,false,true,false,false,false,false,false,false,false,false,false,false,false,false,false\r\n\
             #default,_profiler,,,,,,,,,,,,,,,\r\n\
             ,result,table,_measurement,TotalDuration,CompileDuration,QueueDuration,PlanDuration,RequeueDuration,ExecuteDuration,Concurrency,MaxAllocated,TotalAllocated,RuntimeErrors,influxdb/scanned-bytes,influxdb/scanned-values,flux/query-plan\r\n\
             ,,0,profiler/query,N,N,N,N,N,N,N,N,N,,N,N,\"digraph {\r\n"
        ),
        "{masked}"
    );
    assert!(
        masked.contains(
            "#datatype,string,long,string,string,string,long,long,long,long,double\r\n\
             #group,false,false,true,false,false,false,false,false,false,false\r\n\
             #default,_profiler,,,,,,,,,\r\n\
             ,result,table,_measurement,Type,Label,Count,MinDuration,MaxDuration,DurationSum,MeanDuration\r\n\
             ,,1,profiler/operator,"
        ),
        "{masked}"
    );
    assert!(masked.ends_with("\r\n\r\n"), "{masked}");
    // Without the option there is no `_profiler` result.
    let plain = annotated(&s, r#"import "profiler"
from(bucket: "my-bucket") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z) |> filter(fn: (r) => r._field == "usage" and r.host == "a") |> last()"#).await;
    assert_eq!(plain.body, data);
}

// Rule 5, `to()`: a write path with the write API's validation and partial-write rules
// (`Provider.WriterFor` in query/stdlib/influxdata/influxdb/provider.go finds the bucket and
// checks write permission when the transformation is created; the points writer's partial
// write keeps the valid points). A terminal `to` is a result named for its plan node.
#[tokio::test]
async fn to_writes_through_the_write_path() {
    let s = start_default().await;
    seed(&s).await;
    let rows = r#"import "array"
array.from(rows: [{_time: 2024-01-01T00:30:00Z, _measurement: "cpu", _field: "usage", _value: "text", host: "a"}, {_time: 2024-01-01T00:31:00Z, _measurement: "cpu", _field: "usage2", _value: 1.0, host: "a"}])"#;
    let r = annotated(&s, &format!(r#"{rows} |> to(bucket: "my-bucket")"#)).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            r#"{"code":"invalid","message":"runtime error @2:213-2:236: to: partial write: field type conflict: input field \"usage\" on measurement \"cpu\" is type string, already exists as type float dropped=1"}"#
        )
    );
    assert!(s
        .landed()
        .contains(&"cpu,host=a usage2=Float(1.0) 1704069060000000000".to_string()));
    let r = annotated(&s, &format!(r#"{rows} |> to(bucket: "nope")"#)).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            404,
            r#"{"code":"not found","message":"failed to initialize execute state: could not find bucket \"nope\""}"#
        )
    );
    let r = annotated(
        &s,
        &format!(r#"{rows} |> to(bucket: "my-bucket", org: "zzz")"#),
    )
    .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            404,
            r#"{"code":"not found","message":"failed to initialize execute state: could not find org \"zzz\""}"#
        )
    );
    let one = r#"import "array"
array.from(rows: [{_time: 2024-01-01T00:40:00Z, _measurement: "cpu", _field: "x", _value: 2, t: "v"}])"#;
    let r = post(
        &s,
        serde_json::json!({"query": format!(r#"{one} |> to(bucket: "my-bucket")"#), "now": "2024-01-01T01:00:00Z"}),
    )
    .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            ",result,table,_time,_measurement,_field,_value,t\r\n,to1,0,2024-01-01T00:40:00Z,cpu,x,2,v\r\n\r\n"
        )
    );
    assert!(s
        .landed()
        .contains(&"cpu,t=v x=Integer(2) 1704069600000000000".to_string()));
    // A token that may read but not write the bucket.
    s.add_token(
        "reader",
        vec![s.bucket_permission(influx_reference::storage::Action::Read)],
    );
    let req = s
        .client
        .post(s.url("/api/v2/query?org=my-org"))
        .header("Authorization", "Token reader")
        .header("Content-Type", "application/json")
        .body(
            serde_json::json!({"query": format!(r#"{one} |> to(bucket: "my-bucket")"#)})
                .to_string(),
        );
    let r = s.send(req).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            403,
            r#"{"code":"forbidden","message":"failed to initialize execute state: user not authorized to write"}"#
        )
    );
}

// InfluxDB's own TestLauncher_Query_ExperimentalTo (cmd/influxd/launcher/query_test.go):
// `experimental.to` (`influxdb.wideTo`, flux stdlib/influxdata/influxdb/wide_to.go) writes
// pivoted rows and echoes its input; what it stored reads back as the CSV it came from.
#[tokio::test]
async fn experimental_to_writes_pivoted_rows() {
    let s = start_default().await;
    let data = "#datatype,string,long,dateTime:RFC3339,double,string,string,string,string\n\
                #group,false,false,false,false,true,true,true,true\n\
                #default,_result,,,,,,,\n\
                ,result,table,_time,_value,_field,_measurement,cpu,host\n\
                ,,0,2018-05-22T19:53:26Z,1.0,usage_guest,cpu,cpu-total,host.local\n\
                ,,0,2018-05-22T19:53:36Z,1.1,usage_guest,cpu,cpu-total,host.local\n\
                ,,1,2018-05-22T19:53:26Z,91.7364670583823,usage_idle,cpu,cpu-total,host.local\n\
                ,,1,2018-05-22T19:53:36Z,,usage_idle,cpu,cpu-total,host.local\n";
    let pivot = format!(
        "import \"csv\"\nimport \"experimental\"\nimport \"influxdata/influxdb/v1\"\ncsv.from(csv: {})\n    |> range(start: 2018-05-21T00:00:00Z, stop: 2018-05-23T00:00:00Z)\n    |> v1.fieldsAsCols()\n",
        serde_json::to_string(data).unwrap()
    );
    let pivoted = annotated(&s, &pivot).await;
    assert_eq!(pivoted.status, 200, "{}", pivoted.body);
    let written = annotated(
        &s,
        &format!("{pivot}|> experimental.to(bucket: \"my-bucket\", org: \"my-org\") |> yield(name: \"_result\")"),
    )
    .await;
    assert_eq!(written.body, pivoted.body);
    let mut landed = s.landed();
    landed.sort();
    assert_eq!(
        landed,
        vec![
            "cpu,cpu=cpu-total,host=host.local usage_guest=Float(1.0) 1527018806000000000",
            "cpu,cpu=cpu-total,host=host.local usage_guest=Float(1.1) 1527018816000000000",
            "cpu,cpu=cpu-total,host=host.local usage_idle=Float(91.7364670583823) 1527018806000000000",
        ]
    );
}
