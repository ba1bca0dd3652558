//! The line-protocol parser against InfluxDB's own: every body of
//! `fixtures/go_models/cases.tsv.gz` (generated from the pieces where the parser decides, some
//! damaged a byte or two; `fixtures/go_models/gen.py`) parsed by `line_protocol::parse_batch`,
//! compared with what InfluxDB 2.7.12's `models.ParsePointsWithPrecision` (the parser the
//! `/api/v2/write` handler calls) made of it (`fixtures/go_models/main.go`): the error text
//! byte for byte, and every point's measurement, tags in order, fields in order with their
//! types and values (floats bit for bit), and timestamp.

mod go_fixture;

use go_fixture::{dump_point as dump, hex, load, unhex};
use influx_reference::line_protocol::{parse_batch, Precision};

#[test]
fn every_body_parses_as_influxdb_parses_it() {
    let text = load("go_models/cases.tsv.gz", "LP_GO_CASES");
    let mut failures = Vec::new();
    let mut bodies = 0;
    for (n, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        let [precision, body, message, points] = cols[..] else {
            panic!("line {}: four tab-separated columns", n + 1);
        };
        bodies += 1;
        let precision = Precision::from_v2_param(precision).expect("a valid precision");
        let body = unhex(body);
        let batch = parse_batch(&body, precision);
        let got_message = batch
            .error_message_bytes()
            .map_or("-".to_string(), |m| hex(&m));
        let got_points: Vec<String> = batch.points.iter().map(dump).collect();
        let got_points = got_points.join(";");
        if got_message != message || got_points != points {
            failures.push(format!(
                "line {}: body {:?} ({precision:?})\n  message: ours {:?}\n           Go   {:?}\n  points:  ours {got_points}\n           Go   {points}",
                n + 1,
                String::from_utf8_lossy(&body),
                String::from_utf8_lossy(&unhex(if got_message == "-" { "" } else { &got_message })),
                String::from_utf8_lossy(&unhex(if message == "-" { "" } else { message })),
            ));
        }
    }
    assert!(bodies > 0);
    assert!(
        failures.is_empty(),
        "{} of {bodies} bodies parse differently from InfluxDB:\n{}",
        failures.len(),
        failures[..failures.len().min(30)].join("\n")
    );
}
