//! The Cloud line-protocol decoder against the Go decoder it ports: every body of
//! `fixtures/go_lineprotocol/cases.tsv.gz` (the bodies of `fixtures/go_models/gen.py`)
//! parsed by `line_protocol::cloud::parse_lines_cloud`, compared with what
//! influxdata/line-protocol v2's `lineprotocol.Decoder` at 08518c8f made of it, read entry by
//! entry as the Cloud flavor reads it (`fixtures/go_lineprotocol/main.go`): each entry's
//! error (`at line L:C: ...`, byte for byte) or point (measurement, tags sorted by key, fields
//! in order with their types and values, floats bit for bit, timestamp).

mod go_fixture;

use go_fixture::{dump_point as dump, hex, load, unhex};
use influx_reference::line_protocol::cloud::parse_lines_cloud;
use influx_reference::line_protocol::Precision;

#[test]
fn every_body_decodes_as_the_go_decoder_decodes_it() {
    let text = load("go_lineprotocol/cases.tsv.gz", "LPC_GO_CASES");
    let mut failures = Vec::new();
    let mut bodies = 0;
    for (n, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        let [precision, body, entries] = cols[..] else {
            panic!("line {}: three tab-separated columns", n + 1);
        };
        bodies += 1;
        let precision = Precision::from_v2_param(precision).expect("a valid precision");
        let body = unhex(body);
        let mut got = Vec::new();
        // Points and errors arrive in entry order through two callbacks: a shared cell
        // keeps that order.
        let order = std::cell::RefCell::new(&mut got);
        parse_lines_cloud(
            &body,
            precision,
            |p| order.borrow_mut().push(format!("P:{}", dump(&p))),
            |e| {
                order
                    .borrow_mut()
                    .push(format!("E:{}", hex(e.positioned().as_bytes())))
            },
        );
        let got = got.join(";");
        if got != entries {
            let show = |entries: &str| {
                entries
                    .split(';')
                    .map(|e| match e.strip_prefix("E:") {
                        Some(h) => format!("E:{:?}", String::from_utf8_lossy(&unhex(h))),
                        None => e.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("\n           ")
            };
            failures.push(format!(
                "line {}: body {:?} ({precision:?})\n  ours     {}\n  Go       {}",
                n + 1,
                String::from_utf8_lossy(&body),
                show(&got),
                show(entries),
            ));
        }
    }
    assert!(bodies > 0);
    assert!(
        failures.is_empty(),
        "{} of {bodies} bodies decode differently from the Go decoder:\n{}",
        failures.len(),
        failures[..failures.len().min(30)].join("\n")
    );
}
