//! The line-protocol parser against InfluxDB's own: every body of
//! `fixtures/go_models/cases.tsv.gz` (generated from the pieces where the parser decides, some
//! damaged a byte or two; `fixtures/go_models/gen.py`) parsed by `line_protocol::parse_batch`,
//! compared with what InfluxDB 2.7.12's `models.ParsePointsWithPrecision` (the parser the
//! `/api/v2/write` handler calls) made of it (`fixtures/go_models/main.go`): the error text
//! byte for byte, and every point's measurement, tags in order, fields in order with their
//! types and values (floats bit for bit), and timestamp.

use std::io::Read;

use influx_reference::line_protocol::{parse_batch, FieldValue, Point, Precision};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A point as `main.go` prints Go's.
fn dump(p: &Point<'_>) -> String {
    let tags: Vec<String> = p
        .tags
        .iter()
        .map(|t| format!("{}={}", hex(&t.key), hex(&t.value)))
        .collect();
    let fields: Vec<String> = p
        .fields
        .iter()
        .map(|f| {
            let v = match &f.value {
                FieldValue::Integer(n) => format!("integer:{n}"),
                FieldValue::Unsigned(n) => format!("unsigned:{n}"),
                FieldValue::Float(x) => format!("float:{:016x}", x.to_bits()),
                FieldValue::Boolean(b) => format!("boolean:{b}"),
                FieldValue::String(s) => format!("string:{}", hex(s)),
            };
            format!("{}:{v}", hex(&f.key))
        })
        .collect();
    let time = p.timestamp.map_or("none".to_string(), |t| t.to_string());
    format!(
        "{}|{}|{}|{time}",
        hex(&p.measurement),
        tags.join(","),
        fields.join(",")
    )
}

#[test]
fn every_body_parses_as_influxdb_parses_it() {
    let path = std::env::var("LP_GO_CASES").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/go_models/cases.tsv.gz"
        )
        .to_string()
    });
    let raw = std::fs::read(&path).expect("the fixture");
    let mut text = String::new();
    if path.ends_with(".gz") {
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_string(&mut text)
            .expect("gzip");
    } else {
        text = String::from_utf8(raw).expect("utf-8");
    }
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
