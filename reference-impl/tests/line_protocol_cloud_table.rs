//! Table test of the Cloud line-protocol dialect (`parse_batch_cloud`): the
//! influxdata/line-protocol v2 `lineprotocol` decoder, whose `DecodeError` texts Cloud returns.
//!
//! Sources of the expected results:
//! * `port_*` cases: the tables of `lineprotocol/decoder_test.go` (`decoderTests` and
//!   `scanEntriesBenchmarks`), with each `∑¹` error marker turned into its `line:column`
//!   (byte columns, as `makeErrPositions` counts them). The stored revision of that test file
//!   (a12b539b) predates three message changes of `decoder.go` HEAD; those cases carry HEAD's text
//!   (`value for field %q (%q) has unrecognized type`, `expected closing quote for string field
//!   %q, found end of input`, `expected tag key or field but found %q instead`) at the test's
//!   position.
//! * `corpus_*` cases: inputs of influxdata/line-protocol-corpus (`inputs-decode-*.cue`), whose
//!   generated outputs come from the same decoder.
//! * `blog_*`: spec `cloud.md` §1.5 (the error Cloud users saw).
//! * the other cases: worked out from `decoder.go` (method named in the case name or comment).
//!
//! # Dump format
//! As `tests/line_protocol_table.rs`: one entry per point or error, by line, joined by `\n`:
//! * a point: `<m>[ <tag key>=<tag value>]* | <field key>=<value>[ ...]* | <ts>` with byte
//!   strings quoted per byte by [`std::ascii::escape_default`], typed values (`1.0`, `1i`, `1u`,
//!   `true`, `"s"`) and `none` for no timestamp;
//! * an error: `error: ` and its `positioned()` text (`at line L:C: <message>`).

use influx_reference::line_protocol::{parse_batch_cloud, FieldValue, Point, Precision};
use rstest::rstest;

fn q(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        s.extend(std::ascii::escape_default(b).map(char::from));
    }
    s.push('"');
    s
}

fn dump_point(p: &Point<'_>) -> String {
    let mut s = q(&p.measurement);
    for t in &p.tags {
        s.push(' ');
        s.push_str(&q(&t.key));
        s.push('=');
        s.push_str(&q(&t.value));
    }
    s.push_str(" |");
    for f in &p.fields {
        s.push(' ');
        s.push_str(&q(&f.key));
        s.push('=');
        s.push_str(&match &f.value {
            FieldValue::Float(v) => format!("{v:?}"),
            FieldValue::Integer(v) => format!("{v}i"),
            FieldValue::Unsigned(v) => format!("{v}u"),
            FieldValue::Boolean(v) => format!("{v}"),
            FieldValue::String(v) => q(v),
        });
    }
    s.push_str(" | ");
    match p.timestamp {
        Some(ts) => s.push_str(&ts.to_string()),
        None => s.push_str("none"),
    }
    s
}

/// Dumps a body, points and errors interleaved by line number (stable: decoder order).
fn dump(body: &[u8], precision: Precision) -> String {
    let batch = parse_batch_cloud(body, precision);
    let mut entries: Vec<(usize, String)> = batch
        .points
        .iter()
        .map(|p| (p.line_number, dump_point(p)))
        .chain(
            batch
                .errors
                .iter()
                .map(|e| (e.line_number, format!("error: {}", e.positioned()))),
        )
        .collect();
    entries.sort_by_key(|(n, _)| *n);
    entries
        .into_iter()
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join("\n")
}

const NS: Precision = Precision::Nanosecond;

#[rstest]
// ---- decoder_test.go `decoderTests`
#[case::port_all_fields_present_no_escapes(
    b"\n   # comment\n somename,tag1=val1,tag2=val2  floatfield=1,strfield=\"hello\",intfield=-1i,uintfield=1u,boolfield=true  1602841605822791506\n",
    NS,
    r#""somename" "tag1"="val1" "tag2"="val2" | "floatfield"=1.0 "strfield"="hello" "intfield"=-1i "uintfield"=1u "boolfield"=true | 1602841605822791506"#
)]
#[case::port_multiple_entries(
    b"\n   # comment\n m1,tag1=val1  x=\"first\"  1602841605822791506\n  m2,foo=bar  x=\"second\"  1602841605822792000\n\n # last comment\n",
    NS,
    "\"m1\" \"tag1\"=\"val1\" | \"x\"=\"first\" | 1602841605822791506\n\"m2\" \"foo\"=\"bar\" | \"x\"=\"second\" | 1602841605822792000"
)]
#[case::port_multiple_entries_with_error_1(
    b"\nm1 value=12.0\nm2 value=2a.0\nm3 value=32.0\nm4 value=42.0\n",
    NS,
    "\"m1\" | \"value\"=12.0 | none\nerror: at line 3:10: cannot parse value for field key \"value\": invalid float value syntax\n\"m3\" | \"value\"=32.0 | none\n\"m4\" | \"value\"=42.0 | none"
)]
#[case::port_multiple_entries_with_error_2(
    b"\nm1 value=12.0\nm2\nm3 value=32.0\n",
    NS,
    "\"m1\" | \"value\"=12.0 | none\nerror: at line 3:3: expected tag key or field but found '\\n' instead\n\"m3\" | \"value\"=32.0 | none"
)]
#[case::port_escaped_values(
    b"\n comma\\,1,equals\\==e\\,x,two=val2 field\\=x=\"fir\\\"\n,st\\\\\"  1602841605822791506\n\n # last comment\n",
    NS,
    r#""comma,1" "equals="="e,x" "two"="val2" | "field=x"="fir\"\n,st\\" | 1602841605822791506"#
)]
#[case::port_missing_quotes(
    "TestBucket FieldOné=Happy,FieldTwo=sad".as_bytes(),
    NS,
    "error: at line 1:22: value for field \"FieldOné\" (\"Happy\") has unrecognized type"
)]
#[case::port_trailing_comma_after_measurement(
    "TestBuckét, FieldOne=Happy\nnext x=1".as_bytes(),
    NS,
    "error: at line 1:13: expected tag key after comma; got white space instead\n\"next\" | \"x\"=1.0 | none"
)]
#[case::port_missing_comma_after_field(
    "TestBuckét TagOné=\"Happy\" FieldOne=123.45".as_bytes(),
    NS,
    "error: at line 1:29: invalid timestamp (\"FieldOne=123.45\")"
)]
#[case::port_missing_timestamp(b"b f=1", NS, r#""b" | "f"=1.0 | none"#)]
#[case::port_missing_timestamp_with_newline(b"b f=1\n", NS, r#""b" | "f"=1.0 | none"#)]
#[case::port_field_with_space_and_no_timestamp(b"9 f=-7 ", NS, r#""9" | "f"=-7.0 | none"#)]
#[case::port_carriage_returns(b"# foo\r\nm x=1\r\n\r\n", NS, r#""m" | "x"=1.0 | none"#)]
#[case::port_carriage_return_in_comment(
    b"# foo\rxxx\nm x=1\r\n\r\n",
    NS,
    "error: at line 1:1: invalid character found in comment line\n\"m\" | \"x\"=1.0 | none"
)]
#[case::port_out_of_range_value(
    "mmmé é=1e9999999999999".as_bytes(),
    NS,
    "error: at line 1:10: cannot parse value for field key \"é\": line-protocol value out of range"
)]
#[case::port_field_key_error_after_newline_in_string(
    b"m f=1,\x01=1,\x01=2",
    NS,
    "error: at line 1:7: invalid character '\\x01' found at start of field key"
)]
#[case::port_field_value_error_after_newline_in_string(
    "m f=\"hello\ngoodbye\nx\",gé=invalid".as_bytes(),
    NS,
    "error: at line 3:8: value for field \"gé\" (\"invalid\") has unrecognized type"
)]
#[case::port_field_string_value_error_after_newline_in_string(
    b"m f=\"a\nb\",g=\"c\nd",
    NS,
    "error: at line 2:6: expected closing quote for string field \"g\", found end of input"
)]
#[case::port_non_printable_ascii_in_field_key(
    b"m foo\x01=bar x=1",
    NS,
    "error: at line 1:6: want '=' after field key \"foo\", found '\\x01'"
)]
#[case::port_non_printable_ascii_in_tag_key(
    b"m,foo\x03=bar x=1",
    NS,
    "error: at line 1:3: expected '=' after tag key \"foo\", but got '\\x03' instead"
)]
#[case::port_non_printable_ascii_in_tag_value(
    b"m,foo=bar\x02 x=1",
    NS,
    "error: at line 1:10: expected tag key or field but found '\\x02' instead"
)]
#[case::port_non_printable_ascii_in_field_key_no_fields(
    b"m foo\x01=bar",
    NS,
    "error: at line 1:6: want '=' after field key \"foo\", found '\\x01'"
)]
#[case::port_backslash_escapes_in_string_field(
    br#"m s="\t\r\n\v""#,
    NS,
    r#""m" | "s"="\t\r\n\\v" | none"#
)]
#[case::port_backslash_escapes_in_tags(
    br"m,s=\t\r\n\v x=1",
    NS,
    r#""m" "s"="\\t\\r\\n\\v" | "x"=1.0 | none"#
)]
// ---- decoder_test.go `scanEntriesBenchmarks`
#[case::port_single_short_line_with_escapes(
    br"x,t=y\,y y=1 1602841605822791506",
    NS,
    r#""x" "t"="y,y" | "y"=1.0 | 1602841605822791506"#
)]
#[case::port_field_key_escape_not_escapable(
    br"cpu va\lue=42 1602841605822791506",
    NS,
    r#""cpu" | "va\\lue"=42.0 | 1602841605822791506"#
)]
#[case::port_tag_value_triple_escape_space(
    br"cpu,host=two\\\ words value=42 1602841605822791506",
    NS,
    r#""cpu" "host"="two\\\\ words" | "value"=42.0 | 1602841605822791506"#
)]
#[case::port_long_lines_with_escapes(
    br#"name,ta\=g1=foo\ bar\,baz,tag2=asdfvdfsvdsvdfs,tag\=vdsvd=hello field="\"\"" 1602841605822791506"#,
    NS,
    r#""name" "ta=g1"="foo bar,baz" "tag2"="asdfvdfsvdsvdfs" "tag=vdsvd"="hello" | "field"="\"\"" | 1602841605822791506"#
)]
// ---- line-protocol-corpus inputs
#[case::corpus_tag_without_equals(
    b"cpu,host=serverA,region value=1i",
    NS,
    "error: at line 1:18: expected '=' after tag key \"region\", but got ' ' instead"
)]
#[case::corpus_missing_tag_value(
    b"cpu,something= value=42",
    NS,
    "error: at line 1:15: expected tag value after tag key \"something\", but none found"
)]
#[case::corpus_no_values(
    b"cpu_load_short,host=server01,region=us-west",
    NS,
    "error: at line 1:44: expected field key but none found"
)]
#[case::corpus_nul_measurement(
    b"\x00\x0bf=3,f=3",
    NS,
    "error: at line 1:1: invalid character '\\x00' found at start of measurement name"
)]
#[case::corpus_vertical_tab_after_measurement(
    b"m\x0b2=\"\x0bf=t",
    NS,
    "error: at line 1:2: expected tag key or field but found '\\v' instead"
)]
#[case::corpus_invalid_utf8_measurement(
    b"bad\xff v=1",
    NS,
    "error: at line 1:1: invalid utf-8 sequence in token \"bad\\xff\""
)]
#[case::corpus_invalid_utf8_tag_key(
    b"m,bad\xff=foo v=1",
    NS,
    "error: at line 1:3: invalid utf-8 sequence in token \"bad\\xff\""
)]
#[case::corpus_invalid_utf8_tag_value(
    b"m,foo=bad\xff v=1",
    NS,
    "error: at line 1:7: invalid utf-8 sequence in token \"bad\\xff\""
)]
#[case::corpus_invalid_utf8_field_key(
    b"m bad\xff=1",
    NS,
    "error: at line 1:3: invalid utf-8 sequence in token \"bad\\xff\""
)]
#[case::corpus_invalid_utf8_string_value(
    b"m f=\"bad\xff\"",
    NS,
    "error: at line 1:6: invalid utf-8 sequence in token \"bad\\xff\""
)]
#[case::corpus_unicode_white_space_is_not_a_separator(
    "m\u{a0}v=1".as_bytes(),
    NS,
    "error: at line 1:7: expected tag key or field but found end of input instead"
)]
#[case::corpus_tab_indentation(
    b"\tm v=1",
    NS,
    "error: at line 1:1: invalid character '\\t' found at start of measurement name"
)]
// ---- spec cloud.md §1.5: the error Cloud users saw (leading blank line, bad line 3)
#[case::blog_white_space_after_comma(
    b"\nairSensors,sensor_id=TLM0100 temperature=71.2 1637014074\nhome,room=k, temp=21.1 1637014074",
    Precision::Second,
    "\"airSensors\" \"sensor_id\"=\"TLM0100\" | \"temperature\"=71.2 | 1637014074000000000\nerror: at line 3:13: expected tag key after comma; got white space instead"
)]
// ---- Measurement / NextTag / advanceTagComma
#[case::measurement_only(
    b"m",
    NS,
    "error: at line 1:2: expected tag key or field but found end of input instead"
)]
#[case::measurement_space(b"m ", NS, "error: at line 1:3: expected field key but none found")]
#[case::tags_only_at_eof(b"m,t=v", NS, "error: at line 1:6: expected field key but none found")]
#[case::tags_only_newline(
    b"m,t=v\n",
    NS,
    "error: at line 1:6: expected tag key or field but found '\\n' instead"
)]
#[case::comma_at_eof(
    b"m,",
    NS,
    "error: at line 1:3: expected tag key after comma; got end of input"
)]
#[case::comma_after_tag_at_eof(
    b"m,t=v,",
    NS,
    "error: at line 1:7: expected tag key after comma; got end of input"
)]
#[case::comma_then_newline(b"m,t=v,\nm x=1", NS, "error: at line 1:7: expected tag key after comma; got white space instead\n\"m\" | \"x\"=1.0 | none")]
#[case::empty_tag_key(b"m,=v x=1", NS, "error: at line 1:3: empty tag key")]
#[case::tag_key_at_eof(
    b"m,t",
    NS,
    "error: at line 1:3: expected '=' after tag key \"t\", but got end of input instead"
)]
#[case::empty_tag_value(
    b"m,t= x=1",
    NS,
    "error: at line 1:5: expected tag value after tag key \"t\", but none found"
)]
#[case::unescaped_equals_in_tag_value(b"m,t=a=b x=1", NS, "error: at line 1:6: empty tag key")]
#[case::tab_separator(
    b"m\tx=1",
    NS,
    "error: at line 1:2: expected tag key or field but found '\\t' instead"
)]
#[case::missing_measurement(
    b",t=v x=1",
    NS,
    "error: at line 1:1: invalid character ',' found at start of measurement name"
)]
#[case::lone_cr_line(
    b"\rm x=1",
    NS,
    "error: at line 1:1: invalid character '\\r' found at start of measurement name"
)]
#[case::leading_spaces_are_not_counted_in_columns(
    b"   m,t=v, x=1",
    NS,
    "error: at line 1:7: expected tag key after comma; got white space instead"
)]
#[case::measurement_escapes(
    br"a\ b\,c\=d,t\ k=v\ w\=x f\ k=1",
    NS,
    r#""a b,c\\=d" "t k"="v w=x" | "f k"=1.0 | none"#
)]
#[case::measurement_may_hold_equals_and_quote(b"m\"=x y=1", NS, r#""m\"=x" | "y"=1.0 | none"#)]
#[case::backslash_at_end_of_measurement(
    b"m\\",
    NS,
    "error: at line 1:3: expected tag key or field but found end of input instead"
)]
#[case::tags_sorted_not_required(b"m,z=1,a=2 x=1", NS, r#""m" "a"="2" "z"="1" | "x"=1.0 | none"#)]
#[case::duplicate_tags_kept_in_input_order(
    b"m,b=2,a=1,b=1 x=1",
    NS,
    r#""m" "a"="1" "b"="2" "b"="1" | "x"=1.0 | none"#
)]
#[case::reserved_tag_keys_accepted(
    b"m,time=1,_field=f x=1",
    NS,
    r#""m" "_field"="f" "time"="1" | "x"=1.0 | none"#
)]
// ---- NextFieldBytes / NextField
#[case::field_key_at_eof(
    b"m x",
    NS,
    "error: at line 1:4: want '=' after field key \"x\", found end of input"
)]
#[case::field_key_space(
    b"m x y",
    NS,
    "error: at line 1:4: want '=' after field key \"x\", found ' '"
)]
#[case::field_value_at_eof(
    b"m x=",
    NS,
    "error: at line 1:5: expected value for field \"x\", found end of input"
)]
#[case::field_value_space(
    b"m x= 1",
    NS,
    "error: at line 1:5: missing field value for field \"x\""
)]
#[case::field_value_comma(
    b"m x=,y=1",
    NS,
    "error: at line 1:5: missing field value for field \"x\""
)]
#[case::field_value_crlf(b"a x=1\r\nb x=\r\n", NS, "\"a\" | \"x\"=1.0 | none\nerror: at line 2:5: value for field \"x\" (\"\") has unrecognized type")]
#[case::field_value_unrecognized(
    b"m x=abc",
    NS,
    "error: at line 1:5: value for field \"x\" (\"abc\") has unrecognized type"
)]
#[case::field_key_nbsp_quoted_like_go("m a\u{a0}b=x".as_bytes(), NS, "error: at line 1:8: value for field \"a\\u00a0b\" (\"x\") has unrecognized type")]
#[case::unterminated_string(
    b"m x=\"abc",
    NS,
    "error: at line 1:5: expected closing quote for string field \"x\", found end of input"
)]
#[case::unterminated_string_swallows_rest(
    b"m x=\"abc\nm y=1\nm z=2",
    NS,
    "error: at line 1:5: expected closing quote for string field \"x\", found end of input"
)]
#[case::trailing_comma_after_field(
    b"m x=1,",
    NS,
    "error: at line 1:7: expected field key but none found"
)]
#[case::byte_after_string(
    b"m x=\"a\"\xc3\xa9",
    NS,
    "error: at line 1:8: unexpected character '\u{c3}' after field \"x\""
)]
#[case::quote_in_field_key_is_plain(
    br#"m a"b=1,c\"d=2"#,
    NS,
    r#""m" | "a\"b"=1.0 "c\\\"d"=2.0 | none"#
)]
#[case::field_key_escapes(br"m a\,b\=c\ d=1", NS, r#""m" | "a,b=c d"=1.0 | none"#)]
#[case::duplicate_fields_kept(b"m x=1,x=2i", NS, r#""m" | "x"=1.0 "x"=2i | none"#)]
#[case::string_escapes(
    br#"m s="a\"b\\c\nd\re\tf\g""#,
    NS,
    r#""m" | "s"="a\"b\\c\nd\re\tf\\g" | none"#
)]
#[case::string_with_raw_newline_spans_lines(
    b"m x=\"a\nb\" 5\nn y=1",
    NS,
    "\"m\" | \"x\"=\"a\\nb\" | 5\n\"n\" | \"y\"=1.0 | none"
)]
#[case::string_with_control_bytes(b"m s=\"\x00\t\x7f\"", NS, r#""m" | "s"="\x00\t\x7f" | none"#)]
#[case::booleans(b"m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE", NS, r#""m" | "a"=true "b"=true "c"=true "d"=true "e"=true "f"=false "g"=false "h"=false "i"=false "j"=false | none"#)]
#[case::bad_boolean(
    b"m x=tRUE",
    NS,
    "error: at line 1:5: cannot parse value for field key \"x\": invalid bool value \"tRUE\""
)]
#[case::bad_boolean_invalid_utf8(
    b"m x=t\xff",
    NS,
    "error: at line 1:5: cannot parse value for field key \"x\": invalid bool value \"t\\xff\""
)]
#[case::int_syntax(
    b"m x=1.5i",
    NS,
    "error: at line 1:5: cannot parse value for field key \"x\": invalid integer value syntax"
)]
#[case::int_range(
    b"m x=9223372036854775808i",
    NS,
    "error: at line 1:5: cannot parse value for field key \"x\": line-protocol value out of range"
)]
#[case::int_min(
    b"m x=-9223372036854775808i",
    NS,
    r#""m" | "x"=-9223372036854775808i | none"#
)]
#[case::int_leading_zeros(b"m x=007i", NS, r#""m" | "x"=7i | none"#)]
#[case::uint_negative(b"m x=-1u", NS, "error: at line 1:5: cannot parse value for field key \"x\": invalid unsigned integer value syntax")]
#[case::uint_max(
    b"m x=18446744073709551615u",
    NS,
    r#""m" | "x"=18446744073709551615u | none"#
)]
#[case::uint_range(
    b"m x=18446744073709551616u",
    NS,
    "error: at line 1:5: cannot parse value for field key \"x\": line-protocol value out of range"
)]
#[case::float_digit_separators(b"m x=1_000.5", NS, r#""m" | "x"=1000.5 | none"#)]
#[case::float_hex(b"m x=0x1.8p3", NS, r#""m" | "x"=12.0 | none"#)]
#[case::float_leading_dot(b"m x=.5,y=-.5,z=5.", NS, r#""m" | "x"=0.5 "y"=-0.5 "z"=5.0 | none"#)]
#[case::float_exponent(b"m x=1E+2,y=-1e-2", NS, r#""m" | "x"=100.0 "y"=-0.01 | none"#)]
#[case::float_underflow_is_zero(b"m x=1e-400", NS, r#""m" | "x"=0.0 | none"#)]
#[case::float_overflow(
    b"m x=1e400",
    NS,
    "error: at line 1:5: cannot parse value for field key \"x\": line-protocol value out of range"
)]
#[case::float_negative_infinity(b"m x=-Inf", NS, "error: at line 1:5: cannot parse value for field key \"x\": non-number \"-Inf\" cannot be represented as a line-protocol field value")]
#[case::float_dot_only(
    b"m x=.",
    NS,
    "error: at line 1:5: cannot parse value for field key \"x\": invalid float value syntax"
)]
#[case::float_minus_only(
    b"m x=-",
    NS,
    "error: at line 1:5: cannot parse value for field key \"x\": invalid float value syntax"
)]
#[case::float_with_control_byte(
    b"m x=1\x002",
    NS,
    "error: at line 1:5: cannot parse value for field key \"x\": invalid float value syntax"
)]
#[case::value_error_column_uses_escaped_key(
    br"m a\ b=1x",
    NS,
    "error: at line 1:8: cannot parse value for field key \"a b\": invalid float value syntax"
)]
#[case::value_error_on_second_field(
    b"m a=1,b=2i,c=zz 5",
    NS,
    "error: at line 1:14: value for field \"c\" (\"zz\") has unrecognized type"
)]
// ---- TimeBytes / Time
#[case::second_field_after_space(
    b"m x=1 y=2",
    NS,
    "error: at line 1:7: invalid timestamp (\"y=2\")"
)]
#[case::timestamp_with_letters(
    b"m x=1 123abc",
    NS,
    "error: at line 1:7: invalid timestamp (\"123abc\")"
)]
#[case::text_after_timestamp(
    b"m x=1 123 456",
    NS,
    "error: at line 1:11: unexpected text after timestamp (\"456\")"
)]
#[case::timestamp_syntax(
    b"m x=1 1-2",
    NS,
    "error: at line 1:7: invalid timestamp (\"1-2\"): invalid syntax"
)]
#[case::timestamp_minus_only(
    b"m x=1 -",
    NS,
    "error: at line 1:7: invalid timestamp (\"-\"): invalid syntax"
)]
#[case::timestamp_range(b"m x=1 99999999999999999999", NS, "error: at line 1:7: invalid timestamp (\"99999999999999999999\"): line-protocol value out of range")]
#[case::timestamp_precision_overflow(b"m x=1 9223372036854775807", Precision::Second, "error: at line 1:7: invalid timestamp (\"9223372036854775807\"): line-protocol value out of range")]
#[case::timestamp_extremes_accepted(
    b"m x=1 -9223372036854775808\nm x=1 9223372036854775807",
    NS,
    "\"m\" | \"x\"=1.0 | -9223372036854775808\n\"m\" | \"x\"=1.0 | 9223372036854775807"
)]
#[case::timestamp_negative(b"m x=1 -1", NS, r#""m" | "x"=1.0 | -1"#)]
#[case::precision_ms(b"m x=1 5", Precision::Millisecond, r#""m" | "x"=1.0 | 5000000"#)]
#[case::precision_us(b"m x=1 5", Precision::Microsecond, r#""m" | "x"=1.0 | 5000"#)]
#[case::comment_after_timestamp(
    b"m x=1 5 # c",
    NS,
    "error: at line 1:9: unexpected text after timestamp (\"# c\")"
)]
#[case::comment_instead_of_timestamp(
    b"m x=1 # c",
    NS,
    "error: at line 1:7: invalid timestamp (\"# c\")"
)]
#[case::backslash_instead_of_timestamp(
    b"m x=1 \\",
    NS,
    "error: at line 1:7: invalid timestamp (\"\\\\\")"
)]
#[case::spaces_around_timestamp(
    b"m x=1   5   \r\nm y=2",
    NS,
    "\"m\" | \"x\"=1.0 | 5\n\"m\" | \"y\"=2.0 | none"
)]
#[case::cr_at_end_of_input(b"m x=1\r", NS, r#""m" | "x"=1.0 | none"#)]
#[case::lone_cr_after_field_two_errors(
    b"m x=1\rfoo\nm y=2",
    NS,
    "error: at line 1:6: unexpected text after timestamp (\"\")\nerror: at line 1:1: invalid character '\\r' found at start of measurement name\n\"m\" | \"y\"=2.0 | none"
)]
#[case::lone_cr_after_timestamp(
    b"m x=1 5\rfoo\nm y=2",
    NS,
    "error: at line 1:8: unexpected text after timestamp (\"\")\n\"m\" | \"y\"=2.0 | none"
)]
// ---- skipEmptyLines / comments / line splitting
#[case::empty_body(b"", NS, "")]
#[case::blank_and_comment_lines(b"\n\n   \n# c\n  # d\r\n\r\n", NS, "")]
#[case::crlf_line_numbers(b"\r\n\r\nm x=1\r\nbad\r\n", NS, "\"m\" | \"x\"=1.0 | none\nerror: at line 4:4: expected tag key or field but found '\\r' instead")]
#[case::tab_in_comment(
    b"# a\tb\nm x=1",
    NS,
    "error: at line 1:1: invalid character found in comment line\n\"m\" | \"x\"=1.0 | none"
)]
#[case::tab_in_indented_comment(b"  # a\tb\nm x=1", NS, "error: at line 1:1: invalid character ' ' found at start of measurement name\n\"m\" | \"x\"=1.0 | none")]
#[case::invalid_utf8_in_comment_is_fine(b"# \xff\nm x=1", NS, r#""m" | "x"=1.0 | none"#)]
#[case::tab_only_line(b"\t\nm x=1", NS, "error: at line 1:1: invalid character '\\t' found at start of measurement name\n\"m\" | \"x\"=1.0 | none")]
#[case::hash_inside_measurement(b"m#x y=1", NS, r#""m#x" | "y"=1.0 | none"#)]
#[case::many_errors_each_reported(
    b"m x=1\nbad\nm x=2 2\nalsobad x=\nm,t=1 x=\"\xff\"",
    NS,
    "\"m\" | \"x\"=1.0 | none\nerror: at line 2:4: expected tag key or field but found '\\n' instead\n\"m\" | \"x\"=2.0 | 2\nerror: at line 4:11: value for field \"x\" (\"\") has unrecognized type\nerror: at line 5:10: invalid utf-8 sequence in token \"\\xff\""
)]
fn table(#[case] body: &[u8], #[case] precision: Precision, #[case] expected: &str) {
    assert_eq!(dump(body, precision), expected, "body: {}", q(body));
}

#[test]
fn positioned_and_fields_of_an_error() {
    let body = b"\nm x=1\nhome,room=k, temp=21.1\n";
    let batch = parse_batch_cloud(body, Precision::Nanosecond);
    assert_eq!(batch.points.len(), 1);
    assert_eq!(batch.points[0].line, b"m x=1");
    assert_eq!(batch.points[0].line_number, 2);
    let e = &batch.errors[0];
    assert_eq!(e.line, b"home,room=k, temp=21.1");
    assert_eq!(e.line_number, 3);
    assert_eq!(e.column, 13);
    assert_eq!(
        e.message,
        "expected tag key after comma; got white space instead"
    );
    assert_eq!(
        e.positioned(),
        "at line 3:13: expected tag key after comma; got white space instead"
    );
    assert_eq!(e.to_string(), e.positioned());
    assert_eq!(batch.first_error(), Some(e.positioned()));
}

#[test]
fn point_lines_exclude_leading_spaces_and_line_ends() {
    let body = b"  m x=1 5  \r\nn,t=v y=\"a\nb\"\n";
    let batch = parse_batch_cloud(body, Precision::Nanosecond);
    assert!(batch.errors.is_empty());
    assert_eq!(batch.points[0].line, b"m x=1 5  ");
    assert_eq!(batch.points[0].line_number, 1);
    assert_eq!(batch.points[1].line, b"n,t=v y=\"a\nb\"");
    assert_eq!(batch.points[1].line_number, 2);
}

#[test]
fn error_line_runs_to_where_the_decoder_resumed() {
    let body = b"m x=\"a\nb\",y=zz tail\nm x=1";
    let batch = parse_batch_cloud(body, Precision::Nanosecond);
    assert_eq!(batch.errors.len(), 1);
    let e = &batch.errors[0];
    assert_eq!(e.line, b"m x=\"a\nb\",y=zz tail");
    assert_eq!(
        e.positioned(),
        "at line 2:6: value for field \"y\" (\"zz\") has unrecognized type"
    );
    assert_eq!(batch.points.len(), 1);
    assert_eq!(batch.points[0].line_number, 3);
}

#[test]
fn borrowed_unless_unescaped() {
    use std::borrow::Cow;
    let batch = parse_batch_cloud(br#"m\ x,t=v a=1,s="q\"""#, Precision::Nanosecond);
    let p = &batch.points[0];
    assert!(matches!(p.measurement, Cow::Owned(_)));
    assert!(matches!(p.tags[0].key, Cow::Borrowed(_)));
    assert!(matches!(p.fields[0].key, Cow::Borrowed(_)));
    assert!(matches!(
        p.fields[1].value,
        FieldValue::String(Cow::Owned(_))
    ));
}
