//! Property tests of the parser: round trip through the escaping serializer, no panics on
//! arbitrary bytes, every line accounted for once, and the fast paths equal the literal ports.

use std::borrow::Cow;
use std::collections::BTreeMap;

use proptest::prelude::*;

use super::escape::{escape_tag, FIELD_KEY_SET, MEASUREMENT_SET, TAG_SET};
use super::scan::{self, Scratch};
use super::*;

// ---------------------------------------------------------------------------------------------
// Generators

/// Bytes for names and keys: letters, every byte that needs escaping somewhere, characters
/// that are special elsewhere in line protocol, multi-byte UTF-8 pieces and invalid UTF-8.
/// No newline: an escaper has no escape for it, so a raw newline in a name would split the line
/// (scanLine only joins lines at a newline inside a quoted field value).
const NAME_POOL: &[u8] = b"abzAZ09 ,=\"\\\t\r#-._'\x00\xc3\xa9\xe2\x82\xac\xff";
/// Bytes for string field values: anything goes, including raw newlines.
const STRING_POOL: &[u8] = b"ab ,=\"\\\n\r\t#\x00\xc3\xa9\xff";

fn bytes_from(pool: &'static [u8], len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(pool), len)
}

/// Makes a name representable. Line protocol cannot represent, in a measurement, tag key, tag
/// value or field key, a backslash that is the last byte (the delimiter after it would look
/// escaped: Go's scanners test "previous byte is a backslash") or that is followed by a byte
/// the element escapes (the escaper would write `\\,`, which the pair-skipping scanners
/// `scanLine`/`scanFields` read as an escaped backslash followed by a real delimiter). Such a
/// backslash gets an `x` after it.
fn representable(mut v: Vec<u8>, set: &[u8]) -> Vec<u8> {
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' {
            match v.get(i + 1) {
                Some(&n) if !set.contains(&n) && n != b'\\' => i += 2,
                Some(&b'\\') => i += 1,
                _ => {
                    v.insert(i + 1, b'x');
                    i += 2;
                }
            }
        } else {
            i += 1;
        }
    }
    v
}

/// A measurement: non-empty; not starting with `#` (a comment line) or with a tab or NUL
/// (stripped as leading whitespace; a leading space is fine, it is escaped).
fn measurement() -> impl Strategy<Value = Vec<u8>> {
    bytes_from(NAME_POOL, 1..8).prop_map(|mut v| {
        if matches!(v[0], b'#' | b'\t' | 0) {
            v.insert(0, b'm');
        }
        representable(v, MEASUREMENT_SET)
    })
}

/// Tag keys: non-empty and not one of the reserved keys (`time`, `_field`, `_measurement`,
/// `\x00`, `\xff`), which the v2 parser refuses.
fn tag_key() -> impl Strategy<Value = Vec<u8>> {
    bytes_from(NAME_POOL, 1..6).prop_map(|v| {
        let mut v = representable(v, TAG_SET);
        if ReservedTagKey::from_raw(&v).is_some() {
            v.push(b'x');
        }
        v
    })
}

fn tag_value() -> impl Strategy<Value = Vec<u8>> {
    bytes_from(NAME_POOL, 1..6).prop_map(|v| representable(v, TAG_SET))
}

/// Field keys: non-empty; not starting with a tab or NUL (`scanFields` skips leading
/// whitespace of the first key).
fn field_key() -> impl Strategy<Value = Vec<u8>> {
    bytes_from(NAME_POOL, 1..6).prop_map(|mut v| {
        if matches!(v[0], b'\t' | 0) {
            v.insert(0, b'k');
        }
        representable(v, FIELD_KEY_SET)
    })
}

/// Field values of all five types. Floats are finite: line protocol has no NaN or infinity.
fn field_value() -> impl Strategy<Value = FieldValue<'static>> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(FieldValue::Float),
        any::<i64>().prop_map(FieldValue::Integer),
        any::<u64>().prop_map(FieldValue::Unsigned),
        any::<bool>().prop_map(FieldValue::Boolean),
        bytes_from(STRING_POOL, 0..10).prop_map(|v| FieldValue::String(Cow::Owned(v))),
    ]
}

fn owned_point() -> impl Strategy<Value = Point<'static>> {
    (
        measurement(),
        prop::collection::vec((tag_key(), tag_value()), 0..5),
        prop::collection::vec((field_key(), field_value()), 1..6),
        prop::option::of(MIN_NANO_TIME..=MAX_NANO_TIME),
    )
        .prop_map(|(m, tags, fields, timestamp)| {
            // Unique keys, in series-key order: sorted by the escaped key.
            let mut by_escaped: BTreeMap<Vec<u8>, Tag<'static>> = BTreeMap::new();
            for (k, v) in tags {
                let mut escaped = Vec::new();
                escape_tag(&mut escaped, &k);
                by_escaped.insert(
                    escaped,
                    Tag {
                        key: Cow::Owned(k),
                        value: Cow::Owned(v),
                    },
                );
            }
            Point {
                line: b"",
                line_number: 1,
                raw_key: b"",
                measurement: Cow::Owned(m),
                tags: by_escaped.into_values().collect(),
                fields: fields
                    .into_iter()
                    .map(|(k, value)| Field {
                        key: Cow::Owned(k),
                        value,
                    })
                    .collect(),
                timestamp,
            }
        })
}

/// Bytes that look like line protocol often enough to reach every branch.
fn lp_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(&b"mv=1i,\"\\ \n\t\x00#.-eE+tfuN\r59"[..]),
            2 => any::<u8>(),
        ],
        0..160,
    )
}

// ---------------------------------------------------------------------------------------------
// A literal reference of the line loop of `ParsePointsWithPrecision`.

fn reference_scan_line(buf: &[u8], mut i: usize) -> usize {
    let (mut quoted, mut fields, mut equals, mut commas) = (false, false, 0, 0);
    while i < buf.len() {
        if buf[i] == b'\\' && i + 2 < buf.len() {
            i += 2;
            continue;
        }
        if buf[i] == b' ' {
            fields = true;
        }
        if fields {
            if !quoted && buf[i] == b'=' {
                i += 1;
                equals += 1;
                continue;
            } else if !quoted && buf[i] == b',' {
                i += 1;
                commas += 1;
                continue;
            } else if buf[i] == b'"' && equals > commas {
                i += 1;
                quoted = !quoted;
                continue;
            }
        }
        if buf[i] == b'\n' && !quoted {
            break;
        }
        i += 1;
    }
    i
}

/// Every line of `body`, cut by `scan_line` one after another, ends where the literal port
/// ends it, with the newlines inside it counted.
fn lines_end_as_go_ends_them(body: &[u8]) -> Result<(), TestCaseError> {
    let mut pos = 0;
    while pos < body.len() {
        let (fast, newlines) = scan::scan_line_for_tests(body, pos);
        prop_assert_eq!(fast, reference_scan_line(body, pos));
        prop_assert_eq!(
            newlines,
            body[pos..fast].iter().filter(|&&b| b == b'\n').count()
        );
        pos = fast + 1;
    }
    Ok(())
}

/// `(line number, line)` of every line the parser must answer for.
fn reference_lines(buf: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let end = reference_scan_line(buf, pos);
        let mut block = &buf[pos..end];
        let number = 1 + buf[..pos].iter().filter(|&&b| b == b'\n').count();
        pos = end + 1;
        if block.is_empty() {
            continue;
        }
        let start = block
            .iter()
            .position(|&b| !matches!(b, b' ' | b'\t' | 0))
            .unwrap_or(block.len());
        if start >= block.len() || block[start] == b'#' {
            continue;
        }
        if block.last() == Some(&b'\n') {
            block = &block[..block.len() - 1];
        }
        out.push((number, block[start..].to_vec()));
    }
    out
}

// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Serialize with escaping, parse, get the same point back.
    #[test]
    fn round_trip(point in owned_point()) {
        let line = point.to_line();
        let batch = parse_batch(&line, Precision::Nanosecond);
        prop_assert!(batch.errors.is_empty(), "{:?} for {:?}", batch.errors, String::from_utf8_lossy(&line));
        prop_assert_eq!(batch.points.len(), 1);
        let got = &batch.points[0];
        prop_assert_eq!(got.line, &line[..]);
        prop_assert_eq!(&got.measurement, &point.measurement);
        prop_assert_eq!(&got.tags, &point.tags);
        prop_assert_eq!(&got.fields, &point.fields);
        prop_assert_eq!(got.timestamp, point.timestamp);
        // Several points in one body, with the same answers.
        let mut body = line.clone();
        body.push(b'\n');
        body.extend_from_slice(&line);
        let batch = parse_batch(&body, Precision::Nanosecond);
        prop_assert_eq!(batch.points.len(), 2);
        prop_assert_eq!(&batch.points[1].fields, &point.fields);
    }

    /// Arbitrary bytes never panic, and every non-blank, non-comment line is answered exactly
    /// once, with its line number and its text.
    #[test]
    fn every_line_accounted_once(body in lp_bytes(), precision in prop_oneof![
        Just(Precision::Nanosecond), Just(Precision::Microsecond),
        Just(Precision::Millisecond), Just(Precision::Second)]) {
        let batch = parse_batch(&body, precision);
        let mut got: Vec<(usize, Vec<u8>)> = batch.points.iter().map(|p| (p.line_number, p.line.to_vec()))
            .chain(batch.errors.iter().map(|e| (e.line_number, e.line.to_vec())))
            .collect();
        got.sort();
        prop_assert_eq!(got, reference_lines(&body));
        let _ = batch.error_message();
        for p in &batch.points {
            let _ = p.to_line();
            for f in &p.fields {
                let _ = f.value.to_owned_value();
            }
        }
    }

    /// Arbitrary raw bytes (not biased) never panic either.
    #[test]
    fn raw_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..300)) {
        let batch = parse_batch(&body, Precision::Second);
        prop_assert_eq!(batch.points.len() + batch.errors.len(), reference_lines(&body).len());
    }

    /// The memchr fast path and the jumping loop of scanLine equal the literal port, and the
    /// newlines inside a line are counted.
    #[test]
    fn scan_line_fast_path_is_exact(body in lp_bytes()) {
        lines_end_as_go_ends_them(&body)?;
    }

    /// Long lines dense in what `scanLine` reacts to (backslash runs across 64-byte blocks,
    /// quotes opened and closed many times, newlines skipped and quoted) end where the literal
    /// port ends them, with their newlines counted.
    #[test]
    fn scan_line_masks_are_exact_over_many_blocks(
        body in prop::collection::vec(
            prop_oneof![
                6 => prop::sample::select(&b"\\\"= ,\n"[..]),
                4 => Just(b'a'),
            ],
            0..700,
        ),
    ) {
        lines_end_as_go_ends_them(&body)?;
    }

    /// The fast field path (no quote, no backslash in the fields block) equals Go's walk.
    #[test]
    fn fast_fields_equal_walked_fields(body in lp_bytes()) {
        for line in body.split(|&b| b == b'\n') {
            let mut fast = Scratch::default();
            let mut walked = Scratch::default();
            walked.force_walk = true;
            let a = scan::parse_point(line, 1, &mut fast);
            let b = scan::parse_point(line, 1, &mut walked);
            prop_assert_eq!(a, b);
        }
    }
}

proptest! {
    /// A lent point (`parse_lines_ref`) shows what the owned one (`parse_batch`) holds, line
    /// after line on reused vectors, whether or not the line before was kept (`into_point`
    /// takes the vectors), and the same errors come out.
    #[test]
    fn lent_points_equal_owned_points(
        points in prop::collection::vec(owned_point(), 1..8),
        junk in lp_bytes(),
        keep in any::<u64>(),
    ) {
        // Valid lines (escapes, strings, any number of tags and fields) around arbitrary bytes.
        let mut body = Vec::new();
        for (i, p) in points.iter().enumerate() {
            body.extend_from_slice(&p.to_line());
            body.push(b'\n');
            if i == points.len() / 2 {
                body.extend_from_slice(&junk);
                body.push(b'\n');
            }
        }
        let owned = parse_batch(&body, Precision::Nanosecond);
        let mut lent = Vec::new();
        let mut errors = Vec::new();
        let mut n = 0u32;
        parse_lines_ref(
            &body,
            Precision::Nanosecond,
            |p| {
                let point = if keep >> (n % 64) & 1 == 1 {
                    p.into_point()
                } else {
                    Point {
                        line: p.line,
                        line_number: p.line_number,
                        raw_key: p.raw_key,
                        measurement: Cow::Owned(p.measurement().to_vec()),
                        tags: p.tags().to_vec(),
                        fields: p.fields().to_vec(),
                        timestamp: p.timestamp,
                    }
                };
                n += 1;
                lent.push(point);
            },
            |e| errors.push(e),
        );
        prop_assert_eq!(lent, owned.points);
        prop_assert_eq!(errors, owned.errors);
    }
}

/// A series key: a measurement and tags drawn from small pools, so that keys repeat, come
/// unsorted, duplicated or reserved, hold escapes, or are not keys at all.
fn pooled_key() -> impl Strategy<Value = Vec<u8>> {
    let part = |pool: &'static [&'static str]| prop::sample::select(pool);
    (
        part(&["m", "cpu", "m\\ x", "m\\,y", ",", "m=", "\\"]),
        prop::collection::vec(
            (
                part(&[
                    "a", "b", "host", "time", "_field", "a\\ b", "k\\=", "", "a=b",
                ]),
                part(&["1", "x", "=y", "v\\ w", "", "c,d", "é"]),
            ),
            0..5,
        ),
    )
        .prop_map(|(m, tags)| {
            let mut key = m.as_bytes().to_vec();
            for (k, v) in tags {
                key.push(b',');
                key.extend_from_slice(k.as_bytes());
                key.push(b'=');
                key.extend_from_slice(v.as_bytes());
            }
            key
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A line parsed in a body, after lines with the same key ([`super::key_cache`]), answers
    /// as the same line parsed alone.
    #[test]
    fn repeated_keys_parse_as_lines_alone(
        keys in prop::collection::vec(pooled_key(), 1..6),
        lines in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(&[
            "v=1", "v=1i,w=2", "time=1", "v=", "v=1 123", "v=1 abc", "v=\"s\"", "v=1  9", "=1",
        ][..])), 1..40),
    ) {
        let mut body = Vec::new();
        for (k, fields) in &lines {
            body.extend_from_slice(k.get::<Vec<u8>>(&keys));
            body.push(b' ');
            body.extend_from_slice(fields.as_bytes());
            body.push(b'\n');
        }
        // Parsed twice: the second parse takes the cache the first gave back to the pool
        // (unless a test on another thread took it first), full of this body's keys.
        let parse = || {
            let got = std::cell::RefCell::new(Vec::new());
            parse_lines(
                &body,
                Precision::Nanosecond,
                |p| got.borrow_mut().push(Ok((p.line.to_vec(), p.measurement.into_owned(), p.tags.iter().map(|t| (t.key.to_vec(), t.value.to_vec())).collect::<Vec<_>>(), p.fields.len(), p.timestamp))),
                |e| got.borrow_mut().push(Err((e.line.to_vec(), e.reason))),
            );
            got.into_inner()
        };
        let (got, again) = (parse(), parse());
        let mut want = Vec::new();
        for line in body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            want.push(match scan::parse_point(line, 1, &mut Scratch::default()) {
                Ok((m, tags, fields, ts)) => Ok((line.to_vec(), m.into_owned(), tags.iter().map(|t| (t.key.to_vec(), t.value.to_vec())).collect(), fields.len(), ts)),
                Err(reason) => Err((line.to_vec(), reason)),
            });
        }
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(again, want);
    }
}

proptest! {
    /// The one-pass line classifier equals `memchr3` followed by a byte-at-a-time look at the
    /// line.
    #[test]
    fn classify_line_is_exact(rest in prop::collection::vec(prop_oneof![
        4 => any::<u8>(),
        1 => prop::sample::select(&b"\n\"\\"[..]),
    ], 0..80)) {
        let want = match memchr::memchr3(b'\n', b'"', b'\\', &rest) {
            Some(off) if rest[off] != b'\n' => None,
            found => {
                let len = found.unwrap_or(rest.len());
                let line = &rest[..len];
                Some(scan::LineClass {
                    len,
                    newline: found.is_some(),
                    control: line.iter().any(|&b| b < 0x20 || b == 0x7f),
                    high: line.iter().any(|&b| b >= 0x80),
                })
            }
        };
        prop_assert_eq!(scan::classify_line(&rest), want);
    }
}

#[test]
fn escapes_round_trip_through_series_key() {
    let tags = vec![Tag {
        key: Cow::Borrowed(&b"a b"[..]),
        value: Cow::Borrowed(&b"c,d=e"[..]),
    }];
    assert_eq!(series_key(b"m x,y", &tags), b"m\\ x\\,y,a\\ b=c\\,d\\=e");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The `PLAIN` instantiation (no `"`, no `\` in the line) equals the general one.
    #[test]
    fn plain_path_equals_general_path(body in lp_bytes()) {
        let body: Vec<u8> = body.into_iter().filter(|&b| b != b'"' && b != b'\\').collect();
        for line in body.split(|&b| b == b'\n') {
            let mut parts = [scan::PointParts::default(), scan::PointParts::default()];
            let [pa, pb] = &mut parts;
            let a = scan::parse_point_as::<true>(line, 1000, &mut Scratch::default(), pa)
                .map(|p| (pa.measurement.clone(), pa.tags.clone(), pa.fields.clone(), p.timestamp));
            let b = scan::parse_point_as::<false>(line, 1000, &mut Scratch::default(), pb)
                .map(|p| (pb.measurement.clone(), pb.tags.clone(), pb.fields.clone(), p.timestamp));
            prop_assert_eq!(a, b);
        }
    }
}

/// `point` as a line whose tags are written rotated by `rot` (unsorted input).
fn line_with_rotated_tags(point: &Point<'_>, rot: usize) -> Vec<u8> {
    let mut tags = point.tags.clone();
    if !tags.is_empty() {
        let n = rot % tags.len();
        tags.rotate_left(n);
    }
    let reordered = Point {
        tags,
        ..point.clone()
    };
    reordered.to_line()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Several lines in one body (the tag-order cache and the capacity hint carry over from
    /// line to line) give what each line gives alone, and tags come back sorted whatever
    /// their input order.
    #[test]
    fn body_equals_lines_alone(
        points in prop::collection::vec((owned_point(), 0usize..5, 1usize..4), 1..6)
    ) {
        let mut body = Vec::new();
        let mut expected = Vec::new();
        for (point, rot, repeat) in &points {
            for _ in 0..*repeat {
                let line = line_with_rotated_tags(point, *rot);
                body.extend_from_slice(&line);
                body.push(b'\n');
                expected.push(point.clone());
            }
        }
        let batch = parse_batch(&body, Precision::Nanosecond);
        prop_assert!(batch.errors.is_empty(), "{:?}", batch.errors);
        prop_assert_eq!(batch.points.len(), expected.len());
        for (got, want) in batch.points.iter().zip(&expected) {
            let alone = parse_batch(got.line, Precision::Nanosecond);
            prop_assert_eq!(&alone.points[0].tags, &got.tags);
            prop_assert_eq!(&alone.points[0].fields, &got.fields);
            prop_assert_eq!(&got.measurement, &want.measurement);
            prop_assert_eq!(&got.tags, &want.tags);
            prop_assert_eq!(&got.fields, &want.fields);
            prop_assert_eq!(got.timestamp, want.timestamp);
        }
    }
}

/// Lines of more tags than the tag-order cache keeps are sorted on their own, between lines
/// that use the cache: sorted tags, duplicates found, and the cached order of the short lines
/// still right after them.
#[test]
fn lines_of_many_tags_sort_outside_the_cache() {
    let long = |keys: &mut dyn Iterator<Item = usize>| {
        let tags: Vec<String> = keys.map(|k| format!("t{k:04}=v")).collect();
        format!("m,{} f=1", tags.join(","))
    };
    let n = 300;
    let unsorted = long(&mut (0..n).rev());
    let duplicated = long(&mut (0..n).map(|k| k.min(n - 2)));
    let body = [
        "m,b=1,a=2 f=1",
        unsorted.as_str(),
        "m,b=3,a=4 f=1",
        duplicated.as_str(),
        "m,b=5,a=6 f=1",
    ]
    .join("\n");
    let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
    let keys = |p: &Point<'_>| -> Vec<Vec<u8>> { p.tags.iter().map(|t| t.key.to_vec()).collect() };
    assert_eq!(batch.points.len(), 4);
    let want: Vec<Vec<u8>> = (0..n).map(|k| format!("t{k:04}").into_bytes()).collect();
    assert_eq!(keys(&batch.points[1]), want);
    for (p, value) in [(0, b"2"), (2, b"4"), (3, b"6")] {
        assert_eq!(keys(&batch.points[p]), [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(&*batch.points[p].tags[0].value, value);
    }
    assert_eq!(batch.errors.len(), 1);
    assert_eq!(batch.errors[0].reason, Reason::DuplicateTags);
}

/// A line that follows leading whitespace is cut by `scanLine` counting quotes from its first
/// byte (a space), so ` ="m⏎mm m=51` is one line; parsed again, the stripped line is not cut
/// anew (cut alone it would end at the newline and parse as `mm m=51`). Found by the property
/// below.
#[test]
fn a_line_after_leading_whitespace_parses_again_whole() {
    let body = b" =\"m\nmm m=51";
    let batch = parse_batch(body, Precision::Nanosecond);
    assert_eq!(batch.points.len(), 1);
    let p = &batch.points[0];
    assert_eq!(&*p.measurement, b"=\"m\nmm");
    let again = Dialect::V2.parse_line_again(p.line, p.line_number, Precision::Nanosecond);
    assert_eq!(again.as_ref(), Some(p));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// A point's own line, parsed again alone, is the same point: a write that keeps only the
    /// lines (`points_writer::Rows::Lines`) looks at the points it must check this way.
    #[test]
    fn a_points_line_parses_again_to_the_same_point(body in lp_bytes(), precision in prop_oneof![
        Just(Precision::Nanosecond), Just(Precision::Second)
    ]) {
        let batch = parse_batch(&body, precision);
        for p in &batch.points {
            let again = Dialect::V2.parse_line_again(p.line, p.line_number, precision);
            prop_assert_eq!(again.as_ref(), Some(p), "{:?}", String::from_utf8_lossy(&body));
        }
    }
}
