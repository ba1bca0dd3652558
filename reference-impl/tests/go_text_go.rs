//! The reference's ports of Go's text functions against Go: every input of
//! `fixtures/go_text/cases.tsv.gz` (`fixtures/go_text/gen.py`) with what Go answered
//! (`fixtures/go_text/main.go`): JSON string encoding (`json.Marshal` of a string of any
//! bytes, as every error body writes a line), `strconv.Quote` (`%q` in messages),
//! `time.Duration.String` (retention periods), `strconv.FormatFloat(v, 'f', -1, 64)` and
//! `Format(time.RFC3339Nano)` (Flux CSV cells, through the CSV cell formatter), `url.ParseQuery`
//! (every query string, the values as the bytes Go keeps), and the messages of `json.Unmarshal` and of
//! `json.Decoder.Decode` for broken JSON (request bodies).

mod go_fixture;

use go_fixture::{load, unhex};
use influx_reference::api_error::push_go_json_bytes_content;
use influx_reference::http::QueryParams;
use influx_reference::model::go_json::{decode_first, unmarshal};
use influx_reference::model::go_text::quote;
use influx_reference::model::time::format_go_duration;
use influx_reference::query::csv::format_value;
use influx_reference::query::Val;

fn ours(kind: &str, input: &[u8]) -> String {
    match kind {
        "jsonstring" => {
            let mut out = String::from("\"");
            push_go_json_bytes_content(&mut out, input);
            out.push('"');
            out
        }
        "quote" => quote(input),
        "duration" => {
            let n: i64 = std::str::from_utf8(input)
                .expect("ascii")
                .parse()
                .expect("an int64");
            format_go_duration(n)
        }
        "formatfloat" => {
            let bits = u64::from_str_radix(std::str::from_utf8(input).expect("ascii"), 16)
                .expect("hex bits");
            format_value(&Val::Double(f64::from_bits(bits)))
        }
        "rfc3339nano" => {
            let n: i64 = std::str::from_utf8(input)
                .expect("ascii")
                .parse()
                .expect("an int64");
            format_value(&Val::Time(n))
        }
        "query" => {
            let q = QueryParams::parse(Some(std::str::from_utf8(input).expect("a query is ASCII")));
            // Go's Values: each key's values in order, the keys in byte order.
            let mut keys: Vec<&[u8]> = q.pairs().map(|(k, _)| k).collect();
            keys.sort();
            keys.dedup();
            let hex = go_fixture::hex;
            let mut pairs = Vec::new();
            for key in keys {
                for (k, v) in q.pairs().filter(|(k, _)| *k == key) {
                    pairs.push(format!("{}={}", hex(k), hex(v)));
                }
            }
            pairs.join("&")
        }
        "unmarshal" => unmarshal(input).map_or_else(|e| e.unmarshal_message(), |_| "ok".into()),
        "decode" => decode_first(input).map_or_else(|e| e.decoder_message(), |_| "ok".into()),
        _ => panic!("unknown kind {kind}"),
    }
}

#[test]
fn every_input_answers_as_go_answers_it() {
    let text = load("go_text/cases.tsv.gz", "GO_TEXT_CASES");
    let mut failures = Vec::new();
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for (n, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        let [kind, input, want] = cols[..] else {
            panic!("line {}: three tab-separated columns", n + 1);
        };
        *kinds.entry(kind).or_default() += 1;
        let input = unhex(input);
        let want = String::from_utf8(unhex(want)).expect("Go's answer is UTF-8");
        let got = ours(kind, &input);
        if got != want {
            failures.push(format!(
                "line {}: {kind} {:?}\n  ours {got:?}\n  Go   {want:?}",
                n + 1,
                String::from_utf8_lossy(&input)
            ));
        }
    }
    assert_eq!(kinds.len(), 8, "{kinds:?}");
    assert!(
        failures.is_empty(),
        "{} inputs answer differently from Go ({kinds:?}):\n{}",
        failures.len(),
        failures[..failures.len().min(300)].join("\n")
    );
}
