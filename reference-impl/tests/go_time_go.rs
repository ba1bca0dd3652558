//! RFC 3339 times against Go: every input of `fixtures/go_time/cases.tsv.gz`
//! (`fixtures/go_time/gen.py`) with what `time.Parse` answers as go1.23 reads it
//! (`fixtures/go_time/main.go`): `query::go_time::parse_rfc3339` (a query's `now`, with Go's
//! `ParseError` texts) and `model::time::parse_rfc3339_nano_wide` (delete's start and stop,
//! Flux time literals: accepted or not, and the instant).

mod go_fixture;

use go_fixture::{load, unhex};
use influx_reference::model::time::parse_rfc3339_nano_wide;
use influx_reference::query::go_time::parse_rfc3339;

#[test]
fn times_parse_as_go_parses_them() {
    let text = load("go_time/cases.tsv.gz", "GO_TIME_CASES");
    let mut failures = Vec::new();
    let mut counts = (0, 0);
    for (n, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        let [kind, input, want] = cols[..] else {
            panic!("line {}: three tab-separated columns", n + 1);
        };
        let input = String::from_utf8(unhex(input)).expect("ASCII input");
        let want = String::from_utf8(unhex(want)).expect("Go's answer is UTF-8");
        let (got, want) = match kind {
            "plain" => {
                counts.0 += 1;
                let got = match parse_rfc3339(&input) {
                    Ok(v) => format!("ok:{v}"),
                    Err(e) => format!("err:{e}"),
                };
                (got, want)
            }
            "nano" => {
                counts.1 += 1;
                // Only acceptance and the instant: the callers word their own errors.
                let got =
                    parse_rfc3339_nano_wide(&input).map_or("err".into(), |v| format!("ok:{v}"));
                let want = if want.starts_with("err:") {
                    "err".into()
                } else {
                    want
                };
                (got, want)
            }
            _ => panic!("line {}: unknown kind {kind}", n + 1),
        };
        if got != want {
            failures.push(format!(
                "line {}: {kind} {input:?}\n  ours {got}\n  Go   {want}",
                n + 1
            ));
        }
    }
    assert!(counts.0 > 1000 && counts.1 > 1000, "{counts:?}");
    assert!(
        failures.is_empty(),
        "{} of {} inputs parse differently from Go:\n{}",
        failures.len(),
        counts.0 + counts.1,
        failures[..failures.len().min(30)].join("\n")
    );
}
