//! Property tests of the Cloud (`lineprotocol` decoder) dialect: no panics, every line
//! answered, round trip through an escaper for this dialect.

use proptest::prelude::*;

use super::*;
use crate::line_protocol::{escape_measurement, escape_string_value, escape_tag, FieldValue};

const PRECISIONS: [Precision; 4] = [
    Precision::Nanosecond,
    Precision::Microsecond,
    Precision::Millisecond,
    Precision::Second,
];

/// Bytes that matter to the decoder, biased towards its separators, escapes and failure cases.
const POOL: &[u8] = b"mxy019 ,=\\\"#\n\r\t.-_iutTfF\x00\x7f\xc3\xa9\xff";

const TEMPLATES: &[&[u8]] = &[
    b"m,t=v x=1i 5",
    b"m x=\"s\"",
    b"m,a=1,b=2 f=1.5,g=t",
    b"  # comment",
    b"",
    b"m x=1",
];

fn lp_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(POOL), 0..80),
        // Mostly well-formed lines, some with a damaged byte.
        prop::collection::vec(
            (
                prop::sample::select(TEMPLATES),
                any::<prop::sample::Index>(),
                prop::sample::select(POOL),
                any::<bool>(),
            ),
            0..6,
        )
        .prop_map(|lines| {
            let mut body = Vec::new();
            for (line, at, byte, damage) in lines {
                let mut line = line.to_vec();
                if damage && !line.is_empty() {
                    let i = at.index(line.len());
                    line[i] = byte;
                }
                body.extend_from_slice(&line);
                body.push(b'\n');
            }
            body
        }),
    ]
}

/// The lines the decoder must answer, for a body without `"` (so no entry spans lines):
/// `(1-based line number, text after leading spaces)`, skipping blank lines and comment lines
/// (spaces, `#`, then only printable bytes). A line ends at `\n` (a `\r` before it is part of
/// the terminator) or at the end of the body (a final `\r` is a terminator too).
fn reference_lines(body: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pieces: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    let last = pieces.len() - 1;
    for (i, piece) in pieces.iter_mut().enumerate() {
        if i < last || piece.last() == Some(&b'\r') {
            *piece = piece.strip_suffix(b"\r").unwrap_or(piece);
        }
        let start = piece.iter().position(|&b| b != b' ').unwrap_or(piece.len());
        let text = &piece[start..];
        let comment = text.first() == Some(&b'#') && text.iter().all(|&b| b >= 0x20 && b != 0x7f);
        if text.is_empty() || comment {
            continue;
        }
        out.push((i + 1, text.to_vec()));
    }
    out
}

fn name(pool: &'static [char], len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(pool), len).prop_map(|chars| {
        let mut s: String = chars.into_iter().collect();
        // A final backslash would escape the delimiter written after it.
        if s.ends_with('\\') {
            s.push('x');
        }
        s.into_bytes()
    })
}

const NAME_CHARS: &[char] = &[
    'a', 'b', 'Z', '0', ' ', ',', '=', '"', '\\', '#', '-', '.', 'é', '€', '😀', 'n', 't',
];
const STRING_CHARS: &[char] = &[
    'a', ' ', ',', '=', '"', '\\', 'n', 't', 'r', '\n', '\r', '\t', '\0', 'é', '😀',
];

#[derive(Debug, Clone)]
enum Value {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    String(Vec<u8>),
    Boolean(bool),
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        any::<i64>().prop_map(Value::Integer),
        any::<u64>().prop_map(Value::Unsigned),
        name(STRING_CHARS, 0..8).prop_map(Value::String),
        any::<bool>().prop_map(Value::Boolean),
    ]
}

fn same_value(got: &FieldValue<'_>, want: &Value) -> bool {
    match (got, want) {
        (FieldValue::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
        (FieldValue::Integer(a), Value::Integer(b)) => a == b,
        (FieldValue::Unsigned(a), Value::Unsigned(b)) => a == b,
        (FieldValue::String(a), Value::String(b)) => **a == b[..],
        (FieldValue::Boolean(a), Value::Boolean(b)) => a == b,
        _ => false,
    }
}

type Generated = (
    Vec<u8>,
    std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
    Vec<(Vec<u8>, Value)>,
    Option<i64>,
);

fn point() -> impl Strategy<Value = Generated> {
    (
        name(NAME_CHARS, 1..6).prop_map(|mut m| {
            if m[0] == b'#' {
                m.insert(0, b'm');
            }
            m
        }),
        prop::collection::btree_map(name(NAME_CHARS, 1..5), name(NAME_CHARS, 1..5), 0..4),
        prop::collection::vec((name(NAME_CHARS, 1..5), value()), 1..4),
        prop::option::of(any::<i64>()),
    )
}

/// Writes a point in this dialect: keys and tag values escape `,`, `=`, space; the measurement
/// `,` and space; string values `"` and `\`; tags in a scrambled order.
fn write_line(p: &Generated) -> Vec<u8> {
    let (measurement, tags, fields, ts) = p;
    let mut out = Vec::new();
    escape_measurement(&mut out, measurement);
    for (k, v) in tags.iter().rev() {
        out.push(b',');
        escape_tag(&mut out, k);
        out.push(b'=');
        escape_tag(&mut out, v);
    }
    out.push(b' ');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        escape_tag(&mut out, k);
        out.push(b'=');
        match v {
            Value::Float(f) => out.extend_from_slice(format!("{f:?}").as_bytes()),
            Value::Integer(n) => out.extend_from_slice(format!("{n}i").as_bytes()),
            Value::Unsigned(n) => out.extend_from_slice(format!("{n}u").as_bytes()),
            Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"FALSE" }),
            Value::String(s) => {
                out.push(b'"');
                escape_string_value(&mut out, s);
                out.push(b'"');
            }
        }
    }
    if let Some(ts) = ts {
        out.extend_from_slice(format!(" {ts}").as_bytes());
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Arbitrary bytes never panic, and positions are sane.
    #[test]
    fn never_panics(body in prop::collection::vec(any::<u8>(), 0..200), p in 0..4usize) {
        let batch = parse_batch_cloud(&body, PRECISIONS[p]);
        let lines = body.iter().filter(|&&b| b == b'\n').count() + 1;
        for e in &batch.errors {
            prop_assert!(e.line_number >= 1 && e.line_number <= lines);
            prop_assert!(e.column >= 1 && e.column <= body.len() + 1);
            prop_assert!(e.positioned().starts_with("at line "));
        }
        for p in &batch.points {
            prop_assert!(!p.fields.is_empty());
            prop_assert!(p.tags.windows(2).all(|w| w[0].key <= w[1].key));
        }
    }

    /// Without quotes no entry spans lines: every non-blank, non-comment line is answered,
    /// by one point or one error (two errors only where a lone CR splits the line), and a
    /// point's text is the line after its leading spaces.
    #[test]
    fn every_line_answered(body in lp_bytes(), p in 0..4usize) {
        let body: Vec<u8> = body.into_iter().filter(|&b| b != b'"').collect();
        let batch = parse_batch_cloud(&body, PRECISIONS[p]);
        let reference = reference_lines(&body);
        let mut counts = std::collections::BTreeMap::<usize, usize>::new();
        for n in batch.points.iter().map(|p| p.line_number)
            .chain(batch.errors.iter().map(|e| e.line_number)) {
            *counts.entry(n).or_default() += 1;
        }
        let answered: Vec<usize> = counts.keys().copied().collect();
        let expected: Vec<usize> = reference.iter().map(|(n, _)| *n).collect();
        prop_assert_eq!(answered, expected, "body {:?}", String::from_utf8_lossy(&body));
        for (n, text) in &reference {
            let c = counts[n];
            prop_assert!(c == 1 || (c == 2 && text.contains(&b'\r')), "line {} answered {} times", n, c);
        }
        for pt in &batch.points {
            let (_, text) = reference.iter().find(|(n, _)| *n == pt.line_number).unwrap();
            prop_assert_eq!(pt.line, &text[..]);
        }
    }

    /// Written with this dialect's escaping (tags out of order), parsed back to the same
    /// point with tags sorted; also as the second line of a body.
    #[test]
    fn round_trip(p in point(), prec in 0..4usize) {
        let line = write_line(&p);
        let (measurement, tags, fields, ts) = &p;
        let mut body = b"# first\nm x=1\n".to_vec();
        body.extend_from_slice(&line);
        let precision = PRECISIONS[prec];
        let batch = parse_batch_cloud(&body, precision);
        let want_ts = ts.map(|t| t.checked_mul(precision.multiplier()));
        if let Some(None) = want_ts {
            prop_assert_eq!(batch.points.len(), 1);
            prop_assert_eq!(batch.errors.len(), 1);
            prop_assert!(batch.errors[0].message.ends_with("line-protocol value out of range"));
            return Ok(());
        }
        prop_assert!(batch.errors.is_empty(), "{:?} for {:?}", batch.errors, String::from_utf8_lossy(&line));
        prop_assert_eq!(batch.points.len(), 2);
        let got = &batch.points[1];
        prop_assert_eq!(got.line_number, 3);
        prop_assert_eq!(got.line, &line[..]);
        prop_assert_eq!(&got.measurement[..], &measurement[..]);
        let got_tags: Vec<(Vec<u8>, Vec<u8>)> =
            got.tags.iter().map(|t| (t.key.to_vec(), t.value.to_vec())).collect();
        let want_tags: Vec<(Vec<u8>, Vec<u8>)> =
            tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        prop_assert_eq!(got_tags, want_tags);
        prop_assert_eq!(got.fields.len(), fields.len());
        for (g, (k, v)) in got.fields.iter().zip(fields) {
            prop_assert_eq!(&g.key[..], &k[..]);
            prop_assert!(same_value(&g.value, v), "{:?} vs {:?}", g.value, v);
        }
        prop_assert_eq!(got.timestamp, want_ts.flatten());
    }
}

/// Lines in the shape the shared fast path takes (measurement, tags, fields, timestamp), from
/// pieces both dialects read and pieces where they part (reserved and duplicate tag keys,
/// `NaN`, `1_0`, hex floats, timestamps outside v2's range, control bytes, invalid UTF-8).
fn shared_shape_lines() -> impl Strategy<Value = Vec<u8>> {
    const NAMES: &[&[u8]] = &[
        b"m",
        b"cpu",
        b"a",
        b"b",
        b"time",
        b"_field",
        b"_measurement",
        b"h\xc3\xa9",
        b"x\xff",
        b"t\tx",
        b"#c",
        b"k=v",
        b"e",
    ];
    const VALUES: &[&[u8]] = &[
        b"1",
        b"-1",
        b"1i",
        b"-9223372036854775808i",
        b"9223372036854775808i",
        b"1u",
        b"-1u",
        b"18446744073709551616u",
        b"1.5",
        b".5",
        b"5.",
        b"-.5",
        b"1e5",
        b"1E+5",
        b"1e400",
        b"NaN",
        b"1_0",
        b"0x1p3",
        b"t",
        b"TRUE",
        b"False",
        b"tru",
        b"-0",
        b"12345678901234567",
        b"0.1000000000000000055511151231257827",
        b"1i2",
        b"i",
    ];
    const TIMES: &[&[u8]] = &[
        b"",
        b" 0",
        b" -1",
        b" 1700000000000000000",
        b" 9223372036854775807",
        b" -9223372036854775808",
        b" 9223372036854775806",
        b" 12-3",
        b" +5",
        b" 5 ",
        b" 5 x",
        b"  5",
        b" 1.5",
    ];
    const SEPARATORS: &[&[u8]] = &[b" ", b"  ", b"\t", b" \r"];
    const LEADS: &[&[u8]] = &[b"", b"  ", b"\r", b"\t"];
    let name = prop::sample::select(NAMES);
    let value = prop::sample::select(VALUES);
    let line = (
        name.clone(),
        prop::collection::vec((name.clone(), name.clone()), 0..4),
        prop::collection::vec((name, value), 1..4),
        prop::sample::select(TIMES),
        prop::sample::select(SEPARATORS),
        prop::sample::select(LEADS),
    )
        .prop_map(|(m, tags, fields, time, sep, lead)| {
            let mut line = lead.to_vec();
            line.extend_from_slice(m);
            for (k, v) in tags {
                line.push(b',');
                line.extend_from_slice(k);
                line.push(b'=');
                line.extend_from_slice(v);
            }
            line.extend_from_slice(sep);
            for (i, (k, v)) in fields.into_iter().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                line.extend_from_slice(k);
                line.push(b'=');
                line.extend_from_slice(v);
            }
            line.extend_from_slice(time);
            line
        });
    prop::collection::vec(line, 1..5).prop_map(|lines| {
        let mut body = Vec::new();
        for l in lines {
            body.extend_from_slice(&l);
            body.push(b'\n');
        }
        body
    })
}

type Answers<'a> = (Vec<Point<'a>>, Vec<CloudLineError<'a>>);

fn answers(body: &[u8], precision: Precision, fast: bool) -> Answers<'_> {
    let (mut points, mut errors) = (Vec::new(), Vec::new());
    parse_lines_cloud_as(
        body,
        precision,
        fast,
        |p| points.push(p),
        |e| errors.push(e),
    );
    (points, errors)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The shared fast path answers every body exactly as the decoder alone: points (line,
    /// line number, series key bytes, tags, fields, timestamp) and errors.
    #[test]
    fn shared_fast_path_equals_decoder(
        body in prop_oneof![lp_bytes(), shared_shape_lines()],
        p in 0..4usize,
    ) {
        let precision = PRECISIONS[p];
        let fast = answers(&body, precision, true);
        let slow = answers(&body, precision, false);
        prop_assert_eq!(fast, slow, "body {:?}", String::from_utf8_lossy(&body));
    }
}

#[test]
fn tsbs_lines_same_through_both_paths() {
    let body = crate::tsbs::CpuOnly {
        hosts: 10,
        points: 50,
        batch: 50,
        start: 1_451_606_400_000_000_000,
    }
    .batches()
    .concat();
    let fast = answers(body.as_bytes(), Precision::Nanosecond, true);
    assert_eq!(fast.0.len(), 50);
    assert_eq!(fast, answers(body.as_bytes(), Precision::Nanosecond, false));
}

#[test]
fn blank_and_comment_only_bodies() {
    for body in [
        &b""[..],
        b"\n",
        b"  \n\n",
        b"# a\n  # b\r\n",
        b"\r\n\r",
        b" \r",
    ] {
        let batch = parse_batch_cloud(body, Precision::Nanosecond);
        assert!(
            batch.points.is_empty() && batch.errors.is_empty(),
            "{body:?}"
        );
    }
}

#[test]
fn field_value_count_counts_fields() {
    let batch = parse_batch_cloud(b"m a=1,b=2\nm c=3\nbad", Precision::Nanosecond);
    assert_eq!(field_value_count(&batch.points), 3);
    assert_eq!(batch.errors.len(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// A point's own line, decoded again alone, is the same point (a Cloud write keeps only
    /// the lines, and decodes again those an explicit schema must check).
    #[test]
    fn a_points_line_decodes_again_to_the_same_point(
        body in prop_oneof![lp_bytes(), shared_shape_lines()],
        p in 0..4usize,
    ) {
        let precision = PRECISIONS[p];
        let (points, _) = answers(&body, precision, true);
        for point in &points {
            let again = crate::line_protocol::Dialect::Cloud
                .parse_line_again(point.line, point.line_number, precision);
            prop_assert_eq!(again.as_ref(), Some(point), "body {:?}", String::from_utf8_lossy(&body));
        }
    }
}
