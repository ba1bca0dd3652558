//! The crate's own test vectors (`core/influxdb_line_protocol/src/lib.rs`, `mod test`) and the
//! spec's derived rows (`v3.md` §7.2, §7.3), as data.

use super::*;
use rstest::rstest;

fn first_error(lp: &str) -> String {
    match parse_lines(lp).next() {
        Some(Err(e)) => e.to_string(),
        other => panic!("{lp:?}: expected an error, got {other:?}"),
    }
}

fn one(lp: &str) -> ParsedLine<'_> {
    let mut lines: Vec<_> = parse_lines(lp).collect();
    assert_eq!(lines.len(), 1, "{lp:?}");
    match lines.remove(0) {
        Ok(l) => l,
        Err(e) => panic!("{lp:?}: {e}"),
    }
}

#[rstest]
// The crate's `better_error_messages`.
#[case(
    "measurement",
    "Expected at least one space character, got end of input"
)]
#[case(",", "Invalid measurement was provided")]
#[case("J,#", "Tag set malformed: could not find equals sign in `#`")]
#[case("J,", "Expected tag key, got end of input")]
#[case("testmeasure, bar=1i", "Expected tag key, got ` bar=1i`")]
#[case("0,,=", "Expected tag value, got end of input")]
#[case(
    "testmeasure,foo\\=\\,baz= bar=1i",
    "Expected tag value, got ` bar=1i`"
)]
#[case(
    "testmeasure,foo=,baz= bar=1i",
    "Expected tag value, got `,baz= bar=...`"
)]
#[case(
    "metrics,bananas=,platanos=great value=1.000000 1725629157696678000",
    "Expected tag value, got `,platanos=...`"
)]
#[case(
    "metrics,metrics_name=kube_node_spec_taint,node=10.0.213.170,itsEmpty=,effect=NoSchedule value=1.000000 1725628131752524000",
    "Expected tag value, got `,effect=No...`"
)]
#[case("testmeasure,foo= sed=1i", "Expected tag value, got ` sed=1i`")]
#[case(
    "testmeasure,foo=f bar=1i,baz=",
    "Could not parse entire line. Found trailing content: `baz=`"
)]
#[case("\u{1b}# /", "No fields were provided")]
#[case(
    ":\u{14}\\",
    "Measurements, tag keys and values, and field keys may not end with a backslash"
)]
#[case(
    "testmeasure field=3.0 188888888888888888888888888888888888888888888888888888888888888888888888",
    "Unable to parse timestamp value `188888888888888888888888888888888888888888888888888888888888888888888888`"
)]
#[case(
    "testmeasure field=66666666666666666666666666666666666666666666668i",
    "Unable to parse integer value `66666666666666666666666666666666666666666666668`"
)]
#[case("foo 1234", "No fields were provided")]
#[case("field=1 1234", "No fields were provided")]
#[case("\0 field=1 1234", "Invalid measurement was provided")]
#[case("m,tag1=one,tag2=2 value=\0 123", "No fields were provided")]
#[case(
    "m0 field=-1u 99",
    "Could not parse entire line. Found trailing content: `u 99`"
)]
#[case(
    "m0 field=99999999999999999999999999999999u 99",
    "Unable to parse unsigned integer value `99999999999999999999999999999999`"
)]
#[case(
    "foo,tag0=value1 asdf=23.1.22,jkl=4",
    "Could not parse entire line. Found trailing content: `.22,jkl=4`"
)]
#[case(
    "m0 field=-1.234456e 1615869152385000000",
    "Could not parse entire line. Found trailing content: `e 16158691...`"
)]
#[case(
    "m0 field=-1.234456E-",
    "Could not parse entire line. Found trailing content: `E-`"
)]
// The spec's derived rows (v3.md §7.3).
#[case("m,t=1", "Expected at least one space character, got end of input")]
#[case("bad", "Expected at least one space character, got end of input")]
#[case("\r", "Expected at least one space character, got end of input")]
#[case("m\tv=1", "Expected at least one space character, got `\tv=1`")]
#[case("m\0 v=1", "Expected at least one space character, got `\0 v=1`")]
#[case("m,", "Expected tag key, got end of input")]
#[case("m,t=1,", "Expected tag key, got end of input")]
#[case("m,=x v=1", "Expected tag key, got `=x v=1`")]
#[case("m,t=", "Expected tag value, got end of input")]
#[case(
    "m,host v=1",
    "Tag set malformed: could not find equals sign in `host v=1`"
)]
#[case(
    "m,t=1,u v=1",
    "Tag set malformed: could not find equals sign in `t=1,u v=1`"
)]
#[case("m ", "No fields were provided")]
#[case("m v=", "No fields were provided")]
#[case("m v=abc", "No fields were provided")]
#[case("m v=NaN", "No fields were provided")]
#[case("m v=.5", "No fields were provided")]
#[case("m v=+1", "No fields were provided")]
#[case("m v=-", "No fields were provided")]
#[case("m =1", "No fields were provided")]
#[case("m v=\"abc", "No fields were provided")]
#[case("m \"k y\"=1", "No fields were provided")]
#[case(
    "m v=9223372036854775808i",
    "Unable to parse integer value `9223372036854775808`"
)]
#[case(
    "m\\",
    "Measurements, tag keys and values, and field keys may not end with a backslash"
)]
#[case(
    "C:\\\\ v=1",
    "Measurements, tag keys and values, and field keys may not end with a backslash"
)]
#[case("m v=1\r", "Could not parse entire line. Found trailing content: `\r`")]
#[case(
    "m v=1 123\r",
    "Could not parse entire line. Found trailing content: `\r`"
)]
#[case("m v=1 ", "Could not parse entire line. Found trailing content: ` `")]
#[case(
    "m v=1 abc",
    "Could not parse entire line. Found trailing content: ` abc`"
)]
#[case(
    "m v=1 1 2",
    "Could not parse entire line. Found trailing content: `2`"
)]
#[case("m v=1.5i", "Could not parse entire line. Found trailing content: `i`")]
#[case("m v=-1u", "Could not parse entire line. Found trailing content: `u`")]
#[case(
    "m v=1 1.5",
    "Could not parse entire line. Found trailing content: `.5`"
)]
#[case(
    "m v=1 1e9",
    "Could not parse entire line. Found trailing content: `e9`"
)]
#[case("m v=1 -", "Could not parse entire line. Found trailing content: ` -`")]
#[case(
    "m v=1 1 # c",
    "Could not parse entire line. Found trailing content: `# c`"
)]
#[case(
    "m v=1 # c",
    "Could not parse entire line. Found trailing content: ` # c`"
)]
#[case("m v=tru", "Could not parse entire line. Found trailing content: `ru`")]
#[case(
    "m a=1,=2",
    "Could not parse entire line. Found trailing content: `=2`"
)]
#[case(
    "m a=1,b=2,",
    "Could not parse entire line. Found trailing content: `,`"
)]
#[case("m v=1.", "Could not parse entire line. Found trailing content: `.`")]
fn error_messages(#[case] lp: &str, #[case] want: &str) {
    assert_eq!(first_error(lp), want, "{lp:?}");
}

#[rstest]
#[case(r#"foo asdf="""#, "")]
#[case(r#"foo asdf="str val""#, "str val")]
#[case(r#"foo asdf="The \"string\" val""#, r#"The "string" val"#)]
#[case(r#"foo asdf="too hot/cold""#, "too hot/cold")]
#[case(r#"foo asdf="too hot\cold""#, r"too hot\cold")]
#[case(r#"foo asdf="too hot\\cold""#, r"too hot\cold")]
#[case(r#"foo asdf="too hot\\\cold""#, r"too hot\\cold")]
#[case(r#"foo asdf="too hot\\\\cold""#, r"too hot\\cold")]
#[case(r#"foo asdf="too hot\\\\\cold""#, r"too hot\\\cold")]
#[case(r#"foo asdf="too hot\\\\\\cold""#, r"too hot\\\cold")]
#[case("foo asdf=\"two\nlines\"", "two\nlines")]
fn string_values(#[case] lp: &str, #[case] want: &str) {
    let line = one(lp);
    assert_eq!(
        line.fields,
        vec![("asdf".into(), FieldValue::String(want.into()))]
    );
}

#[rstest]
#[case("t", true)]
#[case("T", true)]
#[case("true", true)]
#[case("True", true)]
#[case("TRUE", true)]
#[case("f", false)]
#[case("F", false)]
#[case("false", false)]
#[case("False", false)]
#[case("FALSE", false)]
fn booleans(#[case] text: &str, #[case] want: bool) {
    let lp = format!("foo asdf={text}");
    assert_eq!(one(&lp).fields[0].1, FieldValue::Boolean(want));
}

#[rstest]
#[case("m0 field=-1.234456e+06 1", -1.234456e6)]
#[case("m0 field=-1.234456E+3 1", -1.234456e3)]
#[case("m0 field=1.234456E-16", 1.234456e-16)]
#[case("m0 field=1.234456e-0", 1.234456)]
#[case("m0 field=1e-0", 1.0)]
#[case("m0 field=-1e-0", -1.0)]
#[case("m0 field=1.234456e06 1", 1.234456e6)]
#[case("m0 field2=-1 99", -1.0)]
#[case("foo asdf=44 546", 44.0)]
fn floats(#[case] lp: &str, #[case] want: f64) {
    assert_eq!(one(lp).fields[0].1, FieldValue::F64(want));
}

#[test]
fn out_of_range_floats_are_infinite() {
    assert_eq!(one("m v=1e400").fields[0].1, FieldValue::F64(f64::INFINITY));
    let long = format!("m0 field={v}.{v} 99", v = "9".repeat(1_000));
    assert_eq!(one(&long).fields[0].1, FieldValue::F64(f64::INFINITY));
}

#[test]
fn mixed_fields_tags_and_timestamp() {
    let line =
        one(r#"foo,tag1=1,tag2=2 asdf=23.1,bar=-5i,qux=9u,baz="the string",frab=false 1234"#);
    assert_eq!(line.measurement, "foo");
    assert_eq!(
        line.tags,
        vec![("tag1".into(), "1".into()), ("tag2".into(), "2".into())]
    );
    assert_eq!(
        line.fields,
        vec![
            ("asdf".into(), FieldValue::F64(23.1)),
            ("bar".into(), FieldValue::I64(-5)),
            ("qux".into(), FieldValue::U64(9)),
            ("baz".into(), FieldValue::String("the string".into())),
            ("frab".into(), FieldValue::Boolean(false)),
        ]
    );
    assert_eq!(line.timestamp, Some(1234));
}

#[rstest]
// Whitespace, comments, the swallowed first comma, negative timestamps.
#[case("  measurement  a=1i  123  ", Some(123))]
#[case("m v=1,", None)]
#[case("m v=1, 123", Some(123))]
#[case("foo value1=1i -123", Some(-123))]
#[case("m v=1 1   ", Some(1))]
fn accepted(#[case] lp: &str, #[case] ts: Option<i64>) {
    assert_eq!(one(lp).timestamp, ts);
}

#[test]
fn quirks_of_keys_and_values() {
    // A comma inside a tag key, `=` inside a tag value, duplicate tags kept in order.
    let line = one("m,a,b=1,t=a=b,t=2 v=1");
    assert_eq!(
        line.tags,
        vec![
            ("a,b".into(), "1".into()),
            ("t".into(), "a=b".into()),
            ("t".into(), "2".into())
        ]
    );
    // `\"` in a field key is kept as both characters; NUL is fine in tags and keys.
    assert_eq!(one("m k\\\"=1").fields[0].0, "k\\\"");
    assert_eq!(one("m,t=o\0ne v=1").tags[0].1, "o\0ne");
    // A BOM is part of the measurement.
    assert_eq!(one("\u{feff}m v=1").measurement, "\u{feff}m");
    // Unknown escapes stay, known ones unescape; an escaped newline joins lines.
    assert_eq!(one("\\wea\\ther v=1").measurement, "\\wea\\ther");
    assert_eq!(one("wea\\,ther\\ x v=1").measurement, "wea,ther x");
    assert_eq!(one("weat\\\nher v=1").measurement, "weat\\\nher");
    assert_eq!(one("m,wea\\=ther=x v=1").tags[0].0, "wea=ther");
}

#[test]
fn lines_blank_and_comments() {
    assert_eq!(parse_lines("").count(), 0);
    assert_eq!(parse_lines("\n\n\n").count(), 0);
    assert_eq!(parse_lines("# comment").count(), 0);
    assert_eq!(parse_lines("  \t# c\n \n").count(), 0);
    let lp = "goodline,tag1=one,tag2=2 value=1 123\n        badline,\n        anothergoodline,tag3=3,tag4=4 value=67 1234";
    let results: Vec<_> = parse_lines(lp).collect();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[2].is_ok());
    assert_eq!(
        results[1].as_ref().map_err(ToString::to_string).err(),
        Some("Expected tag key, got end of input".to_string())
    );
    // A CRLF blank line is a line `\r`.
    let crlf: Vec<_> = parse_lines("m v=1\r\n\r\n")
        .map(|r| r.map_err(|e| e.to_string()))
        .collect();
    assert_eq!(
        crlf,
        vec![
            Err("Could not parse entire line. Found trailing content: `\r`".to_string()),
            Err("Expected at least one space character, got end of input".to_string()),
        ]
    );
}

#[test]
fn split_lines_as_the_crate() {
    let split = |s| split_lines(s).collect::<Vec<_>>();
    assert_eq!(split(""), vec![""]);
    assert_eq!(split("foo\nbar\nbaz"), vec!["foo", "bar", "baz"]);
    assert_eq!(split("foo\\nbar\nbaz"), vec!["foo\\nbar", "baz"]);
    assert_eq!(
        split("meas tag=val field=1\nnext\n"),
        vec!["meas tag=val field=1", "next", ""]
    );
    assert_eq!(
        split("meas tag=val field=\"\nval\"\nnext"),
        vec!["meas tag=val field=\"\nval\"", "next"]
    );
    assert_eq!(
        split("meas tag=val field=\\\"\nval\"\nnext"),
        vec!["meas tag=val field=\\\"", "val\"", "next"]
    );
    assert_eq!(
        split("meas tag=val field=1,field=\"\nval\"\nnext"),
        vec!["meas tag=val field=1,field=\"\nval\"", "next"]
    );
    // A comment with an `=` and a quote opens a string that swallows what follows.
    assert_eq!(
        split("# a x=\"y\nm v=1\nn v=2"),
        vec!["# a x=\"y\nm v=1\nn v=2"]
    );
}

#[test]
fn string_limit_is_one_mebibyte() {
    let at = "a".repeat(STRING_LENGTH_LIMIT);
    let over = "a".repeat(STRING_LENGTH_LIMIT + 1);
    for ok in [
        format!("foo,tag={at} value=1i 123"),
        format!("foo value=\"{at}\" 123"),
        format!("{at},t=b value=1i 123"),
        format!("foo,{at}=bar value=1i 123"),
        format!("foo {at}=1i 123"),
    ] {
        assert!(parse_lines(&ok).all(|r| r.is_ok()));
    }
    for bad in [
        format!("foo,tag1=normal,tag={over} value=1i 123"),
        format!("foo value=\"{over}\" 123"),
        format!("{over},t=b value=1i 123"),
        format!("foo,{over}=bar value=1i 123"),
        format!("foo {over}=1i 123"),
    ] {
        assert_eq!(first_error(&bad), "String is greater than 1MB");
    }
}

#[test]
fn display_writes_the_line_back() {
    let line = one(r#"m\,and\ m,tag\ \,1=val\ \,1 field\ \,1="Foo\"Bar",f=1.0,i=1i,u=2u,b=t 33"#);
    assert_eq!(
        line.to_string(),
        r#"m\,and\ m,tag\ \,1=val\ \,1 field\ \,1=Foo\"Bar,f=1,i=1i,u=2u,b=true 33"#
    );
    assert_eq!(
        one("m,tag1=val1 field1=42.1").to_string(),
        "m,tag1=val1 field1=42.1"
    );
    assert_eq!(
        one("cpu,host=c usage=\"x\" 1").to_string(),
        "cpu,host=c usage=x 1"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any input parses without panicking, and every line is accounted for once.
        #[test]
        fn never_panics(s in "[ -~\\t\\n\\r\\\\\"=,#\u{e9}\u{0}]{0,64}") {
            let n = parse_lines(&s).count();
            prop_assert!(n <= s.split('\n').count());
        }

        /// A line written back parses to the same line (strings and keys without `\` at the
        /// end, which the writer does not escape).
        #[test]
        fn display_round_trips(
            m in "[a-z][a-z ,=]{0,6}[a-z]",
            k in "[a-z][a-z ,=]{0,4}",
            v in "[a-z][a-z ,=]{0,4}",
            i in any::<i64>(),
            ts in proptest::option::of(any::<i64>()),
        ) {
            let line = ParsedLine {
                measurement: m.clone().into(),
                tags: vec![(k.clone().into(), v.clone().into())],
                fields: vec![(k.clone().into(), FieldValue::I64(i))],
                timestamp: ts,
            };
            let text = line.to_string();
            let back: Vec<_> = parse_lines(&text).collect();
            prop_assert_eq!(back.len(), 1);
            prop_assert_eq!(back[0].as_ref().ok(), Some(&line));
        }
    }
}
