//! Table test of the line-protocol parser: every example of spec `v2.md` §3 and the tricky
//! inputs where Go's scanners (models/points.go) decide, each with its exact expected result.
//!
//! # Dump format
//! A body is shown as one entry per non-blank, non-comment line, in order, joined by `\n`:
//! * a point: `<m>[ <tag key>=<tag value>]* | <field key>=<value>[ <field key>=<value>]* | <ts>`
//!   - every byte string is quoted `"..."` with [`std::ascii::escape_default`] per byte
//!     (so `\\`, `\"`, `\n`, `\r`, `\t`, `\xNN` are exact bytes), unescaped as the parser
//!     returns it;
//!   - tags in the order the parser returns them (series-key order);
//!   - values show their type: float as Rust `{:?}` (`1.0`, `1e300`), integer `<n>i`,
//!     unsigned `<n>u`, boolean `true`/`false`, string quoted like the byte strings;
//!   - `<ts>` is the nanosecond timestamp or `none`;
//! * an error: `error: <reason text>`.

use influx_reference::line_protocol::{
    parse_batch, FieldValue, Point, Precision, Reason, ReservedTagKey,
};
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

/// Dumps a body, interleaving points and errors by line number.
fn dump(body: &[u8], precision: Precision) -> String {
    let batch = parse_batch(body, precision);
    let mut entries: Vec<(usize, String)> = batch
        .points
        .iter()
        .map(|p| (p.line_number, dump_point(p)))
        .chain(
            batch
                .errors
                .iter()
                .map(|e| (e.line_number, format!("error: {}", e.reason))),
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
// ---- §3.1 splitting, CR, trailing bytes, BOM
#[case::cr_after_timestamp(b"m v=1 123\r", NS, "error: bad timestamp")]
#[case::cr_after_float(b"m v=1\r", NS, "error: invalid number")]
#[case::cr_after_bool(b"m v=t\r", NS, "error: invalid boolean")]
#[case::cr_after_string_is_kept(b"m v=\"x\"\r", NS, r#""m" | "v"="x\"" | none"#)]
#[case::crlf_body(
    b"m v=1\r\nm v=2\r\n",
    NS,
    "error: invalid number\nerror: invalid number"
)]
#[case::cr_in_tag_value(b"m,t=a\r v=1i", NS, r#""m" "t"="a\r" | "v"=1i | none"#)]
#[case::comment_after_timestamp(b"m v=1 1 # c", NS, "error: point is invalid")]
#[case::trailing_spaces_after_timestamp(b"m v=1 5   ", NS, r#""m" | "v"=1.0 | 5"#)]
#[case::trailing_spaces_without_timestamp(b"m v=1   ", NS, r#""m" | "v"=1.0 | none"#)]
#[case::trailing_tab_nul_without_timestamp(b"m v=1 \t\x00", NS, r#""m" | "v"=1.0 | none"#)]
#[case::tab_right_after_timestamp(b"m v=1 5\t", NS, "error: bad timestamp")]
#[case::tab_after_timestamp_space(b"m v=1 5 \t", NS, "error: point is invalid")]
#[case::bom_is_part_of_measurement(b"\xef\xbb\xbfm v=1", NS, r#""\xef\xbb\xbfm" | "v"=1.0 | none"#)]
#[case::leading_space_tab_nul(b" \t\x00m v=1i", NS, r#""m" | "v"=1i | none"#)]
#[case::blank_and_comment_lines(b"# c\n\n   \n\t# x\n\x00\nm v=1i\n", NS, r#""m" | "v"=1i | none"#)]
#[case::only_comments(b"#a\n #b\n", NS, "")]
#[case::empty_body(b"", NS, "")]
#[case::hash_inside_measurement(b"m#x v=1i", NS, r#""m#x" | "v"=1i | none"#)]
#[case::raw_newline_in_string(
    b"m s=\"a\nb\" 1\nm v=2i 2",
    NS,
    "\"m\" | \"s\"=\"a\\nb\" | 1\n\"m\" | \"v\"=2i | 2"
)]
#[case::raw_crlf_in_string(b"m s=\"a\r\nb\"", NS, r#""m" | "s"="a\r\nb" | none"#)]
#[case::newline_in_unclosed_string_at_eof(b"m v=\"abc\n", NS, "error: unbalanced quotes")]
#[case::escaped_newline_in_measurement(b"m\\\nx v=1i", NS, r#""m\\\nx" | "v"=1i | none"#)]
#[case::scanline_quote_past_escaped_space(
    b"m\\\\ a=\"x\nm v=1i",
    NS,
    r#""m\\ a=\"x\nm" | "v"=1i | none"#
)]
// ---- §3.2 several errors, every one reported
#[case::multi_error(b"m v=1\nbad\nm v=2 2\nalsobad v=", NS, "\"m\" | \"v\"=1.0 | none\nerror: missing fields\n\"m\" | \"v\"=2.0 | 2\nerror: missing field value")]
// ---- §3.3 every reason with its example triggers
#[case::missing_measurement(b",t=1 v=1", NS, "error: missing measurement")]
#[case::missing_fields_bare(b"m", NS, "error: missing fields")]
#[case::missing_fields_bad(b"bad", NS, "error: missing fields")]
#[case::missing_fields_tags_only(b"m,t=1", NS, "error: missing fields")]
#[case::missing_fields_escaped_space(b"m\\ v=1", NS, "error: missing fields")]
// Spec §3.3 lists `m\tv=1` under `invalid field format`; Go's scanMeasurement ends the
// measurement only at ',' or ' ', so it runs to the end of the line: `missing fields`.
#[case::tab_is_not_a_separator(b"m\tv=1", NS, "error: missing fields")]
#[case::missing_tag_key(b"m,=x v=1", NS, "error: missing tag key")]
#[case::missing_tag_key_empty(b"m, v=1", NS, "error: missing tag key")]
#[case::missing_tag_key_trailing_comma(b"m,t=1,", NS, "error: missing tag key")]
#[case::missing_tag_value_no_equals(b"m,t v=1", NS, "error: missing tag value")]
#[case::missing_tag_value_empty(b"m,t= v=1", NS, "error: missing tag value")]
#[case::invalid_tag_format(b"m,t=a=b v=1", NS, "error: invalid tag format")]
#[case::duplicate_tags(b"m,t=1,t=2 v=1", NS, "error: duplicate tags")]
#[case::duplicate_tags_unsorted(b"m,b=1,a=2,b=3 v=1", NS, "error: duplicate tags")]
#[case::reserved_time(b"m,time=1 v=1", NS, r#"error: cannot use reserved tag key "time""#)]
#[case::reserved_field(
    b"m,a=1,_field=1 v=1",
    NS,
    r#"error: cannot use reserved tag key "_field""#
)]
#[case::reserved_measurement(
    b"m,_measurement=1 v=1",
    NS,
    r#"error: cannot use reserved tag key "_measurement""#
)]
#[case::reserved_nul(b"m,\x00=1 v=1", NS, r#"error: cannot use reserved tag key "\x00""#)]
#[case::reserved_xff(b"m,\xff=1 v=1", NS, r#"error: cannot use reserved tag key "\xff""#)]
#[case::reserved_before_duplicate(
    b"m,b=1,b=2,time=1 v=1",
    NS,
    r#"error: cannot use reserved tag key "time""#
)]
#[case::time_field_is_not_reserved(b"m time=1", NS, r#""m" | "time"=1.0 | none"#)]
#[case::missing_field_key(b"m =1", NS, "error: missing field key")]
#[case::missing_field_key_after_comma(b"m a=1,=2", NS, "error: missing field key")]
#[case::missing_field_value_end(b"m v=", NS, "error: missing field value")]
#[case::missing_field_value_comma(b"m v=,w=1", NS, "error: missing field value")]
#[case::missing_field_value_space(b"m v= 1", NS, "error: missing field value")]
#[case::invalid_field_format_nothing(b"m ", NS, "error: invalid field format")]
#[case::invalid_field_format_key_only(b"m v", NS, "error: invalid field format")]
#[case::invalid_field_format_trailing_comma(b"m v=1,", NS, "error: invalid field format")]
#[case::invalid_field_format_second_key(b"m v=1,w", NS, "error: invalid field format")]
#[case::invalid_field_format_space_after_comma(b"m v=1, w=2", NS, "error: invalid field format")]
#[case::invalid_field_format_quoted_key(b"m \"k y\"=1", NS, "error: invalid field format")]
#[case::invalid_field_format_tags_then_space(b"m,t=1 ", NS, "error: invalid field format")]
#[case::unbalanced_quotes(b"m v=\"abc", NS, "error: unbalanced quotes")]
#[case::unbalanced_escaped_quote(b"m v=\"abc\\\"", NS, "error: unbalanced quotes")]
#[case::invalid_number_float_i(b"m v=1.5i", NS, "error: invalid number")]
#[case::invalid_number_i_inside(b"m v=1i5", NS, "error: invalid number")]
#[case::invalid_number_negative_unsigned(b"m v=-1u", NS, "error: invalid number")]
#[case::invalid_number_two_points(b"m v=1.1.1", NS, "error: invalid number")]
#[case::invalid_number_minus(b"m v=-", NS, "error: invalid number")]
#[case::invalid_number_minus_comma(b"m v=-,w=1", NS, "error: invalid number")]
#[case::invalid_number_nan(b"m v=NaN", NS, "error: invalid number")]
#[case::invalid_number_nan_lower(b"m v=nan", NS, "error: invalid number")]
#[case::invalid_number_n(b"m v=N", NS, "error: invalid number")]
#[case::invalid_number_minus_inf(b"m v=-Inf", NS, "error: invalid number")]
#[case::invalid_number_hex(b"m v=0x10", NS, "error: invalid number")]
#[case::invalid_number_underscore(b"m v=1_000", NS, "error: invalid number")]
#[case::invalid_number_sci_int(b"m v=1E5i", NS, "error: invalid number")]
#[case::invalid_number_dot(b"m v=.", NS, "error: invalid number")]
#[case::invalid_number_minus_dot(b"m v=-.", NS, "error: invalid number")]
#[case::invalid_number_minus_i(b"m v=-i", NS, "error: invalid number")]
#[case::invalid_number_double_i(b"m v=1ii", NS, "error: invalid number")]
#[case::invalid_number_float_u(b"m v=1.5u", NS, "error: invalid number")]
#[case::invalid_number_quote_after(b"m v=1\"", NS, "error: invalid number")]
#[case::invalid_float_overflow(b"m v=1e400", NS, "error: invalid float")]
#[case::invalid_float_no_exponent_digits(b"m v=1e", NS, "error: invalid float")]
#[case::invalid_float_no_mantissa(b"m v=.e5", NS, "error: invalid float")]
#[case::invalid_float_minus_e(b"m v=-e5", NS, "error: invalid float")]
#[case::integer_out_of_range(b"m v=9223372036854775808i", NS, r#"error: unable to parse integer 9223372036854775808: strconv.ParseInt: parsing "9223372036854775808": value out of range"#)]
#[case::integer_out_of_range_negative(b"m v=-9223372036854775809i", NS, r#"error: unable to parse integer -9223372036854775809: strconv.ParseInt: parsing "-9223372036854775809": value out of range"#)]
#[case::unsigned_out_of_range(b"m v=18446744073709551616u", NS, r#"error: unable to parse unsigned 18446744073709551616: strconv.ParseUint: parsing "18446744073709551616": value out of range"#)]
#[case::invalid_boolean_abc(b"m v=abc", NS, "error: invalid boolean")]
#[case::invalid_boolean_tru(b"m v=tru", NS, "error: invalid boolean")]
#[case::invalid_boolean_mixed_case(b"m v=tRUE", NS, "error: invalid boolean")]
#[case::invalid_boolean_inf(b"m v=inf", NS, "error: invalid boolean")]
#[case::invalid_boolean_plus(b"m v=+1", NS, "error: invalid boolean")]
#[case::invalid_boolean_suffix(b"m v=t\"x\"", NS, "error: invalid boolean")]
#[case::bad_timestamp_letter(b"m v=1 12a", NS, "error: bad timestamp")]
#[case::bad_timestamp_plus(b"m v=1 +1", NS, "error: bad timestamp")]
#[case::bad_timestamp_cr(b"m v=1 1\r", NS, "error: bad timestamp")]
#[case::bad_timestamp_double_minus(b"m v=1 --1", NS, "error: bad timestamp")]
#[case::timestamp_beyond_int64(
    b"m v=1 99999999999999999999",
    NS,
    r#"error: strconv.ParseInt: parsing "99999999999999999999": value out of range"#
)]
#[case::timestamp_minus_only(
    b"m v=1 -",
    NS,
    r#"error: strconv.ParseInt: parsing "-": invalid syntax"#
)]
#[case::time_above_max(
    b"m v=1 9223372036854775807",
    NS,
    "error: time outside range -9223372036854775806 - 9223372036854775806"
)]
#[case::time_below_min(
    b"m v=1 -9223372036854775807",
    NS,
    "error: time outside range -9223372036854775806 - 9223372036854775806"
)]
#[case::time_int64_min(
    b"m v=1 -9223372036854775808",
    NS,
    "error: time outside range -9223372036854775806 - 9223372036854775806"
)]
#[case::time_max_bound(
    b"m v=1 9223372036854775806",
    NS,
    r#""m" | "v"=1.0 | 9223372036854775806"#
)]
#[case::time_min_bound(
    b"m v=1 -9223372036854775806",
    NS,
    r#""m" | "v"=1.0 | -9223372036854775806"#
)]
#[case::time_overflow_in_multiplication(
    b"m v=1 9223372037",
    Precision::Second,
    "error: time outside range -9223372036854775806 - 9223372036854775806"
)]
#[case::time_seconds_in_range(
    b"m v=1 9223372036",
    Precision::Second,
    r#""m" | "v"=1.0 | 9223372036000000000"#
)]
#[case::time_ms_negative_overflow(
    b"m v=1 -9223372036855",
    Precision::Millisecond,
    "error: time outside range -9223372036854775806 - 9223372036854775806"
)]
#[case::point_is_invalid(b"m v=1 123 456", NS, "error: point is invalid")]
// ---- §3.4 measurement
#[case::measurement_escaped_comma(b"m\\,x v=1i", NS, r#""m,x" | "v"=1i | none"#)]
#[case::measurement_escaped_space(b"m\\ x v=1i", NS, r#""m x" | "v"=1i | none"#)]
#[case::measurement_other_escape_literal(b"m\\=x\\\"y v=1i", NS, r#""m\\=x\\\"y" | "v"=1i | none"#)]
#[case::measurement_with_equals(b"m=x v=1i", NS, r#""m=x" | "v"=1i | none"#)]
#[case::measurement_quoted(b"\"m\" v=1i", NS, r#""\"m\"" | "v"=1i | none"#)]
#[case::measurement_underscore_measurement(
    b"_measurement v=1i",
    NS,
    r#""_measurement" | "v"=1i | none"#
)]
#[case::measurement_utf8(b"m\xc3\xa9 v=1i", NS, r#""m\xc3\xa9" | "v"=1i | none"#)]
#[case::measurement_backslash_before_space(b"m\\\\ v=1i 5", NS, "error: invalid field format")]
#[case::measurement_ends_in_backslash(b"m\\\\", NS, "error: missing fields")]
// ---- tags
#[case::tag_escapes(b"m,t\\,k=a\\ b\\=c v=1i", NS, r#""m" "t,k"="a b=c" | "v"=1i | none"#)]
#[case::tag_double_backslash_kept(b"m,t=a\\\\b v=1i", NS, r#""m" "t"="a\\\\b" | "v"=1i | none"#)]
#[case::tag_value_starting_with_equals(b"m,t==x v=1i", NS, r#""m" "t"="=x" | "v"=1i | none"#)]
#[case::tags_resorted(
    b"m,b=2,a=1,c=3 v=1i",
    NS,
    r#""m" "a"="1" "b"="2" "c"="3" | "v"=1i | none"#
)]
#[case::tags_sorted_by_escaped_key(
    b"m,a\\ b=2,a!=1 v=1i",
    NS,
    r#""m" "a!"="1" "a b"="2" | "v"=1i | none"#
)]
#[case::tag_value_backslash_before_space(b"m,t=a\\\\ v=1i 5", NS, "error: invalid tag format")]
#[case::tag_key_backslash_before_space(b"m,t\\\\ v=1i 5", NS, "error: invalid field format")]
#[case::tag_key_ends_in_backslash(b"m,t\\\\", NS, "error: missing tag value")]
#[case::tag_value_ends_in_backslash(b"m,t=a\\\\", NS, "error: missing fields")]
#[case::tag_key_escaped_equals(b"m,t\\\\=1 v=1i", NS, "error: missing tag value")]
#[case::tag_utf8_invalid(b"m,t=\xfe v=\"\xfd\"", NS, r#""m" "t"="\xfe" | "v"="\xfd" | none"#)]
// ---- field keys
#[case::field_key_escaped_quote(b"m g\\\"h=1i", NS, r#""m" | "g\"h"=1i | none"#)]
#[case::field_key_escapes(
    b"m a\\ b=1i,c\\,d=2i,e\\=f=3i",
    NS,
    r#""m" | "a b"=1i "c,d"=2i "e=f"=3i | none"#
)]
#[case::field_key_literal_quote(b"m a\"b=1i", NS, r#""m" | "a\"b"=1i | none"#)]
#[case::field_key_escaped_space_only(b"m v=1,\\ =2", NS, r#""m" | "v"=1.0 " "=2.0 | none"#)]
#[case::field_key_underscore_names(
    b"m _field=1i,_measurement=2i",
    NS,
    r#""m" | "_field"=1i "_measurement"=2i | none"#
)]
#[case::duplicate_field_keys_kept(b"m v=1,v=2", NS, r#""m" | "v"=1.0 "v"=2.0 | none"#)]
#[case::empty_field_key_after_tab(b"m \t=1", NS, r#""m" | ""=1.0 | none"#)]
#[case::field_key_ends_in_backslash(
    b"m v\\\\=1i 5",
    NS,
    r#"error: invalid value: field-key=v\\=1i"#
)]
#[case::second_field_key_ends_in_backslash(
    b"m v=1i,w\\\\=1i",
    NS,
    r#"error: invalid value: field-key=w\\=1i"#
)]
#[case::field_key_backslash_merges_fields(b"m a\\\\=1,b=2", NS, r#""m" | "a\\=1,b"=2.0 | none"#)]
#[case::field_key_backslash_before_space(b"m v\\\\ =1i 5", NS, "error: invalid field format")]
#[case::undecodable_after_misaligned_walk(
    b"m a\\\\=\"p=q\"",
    NS,
    r#"error: strconv.ParseBool: parsing "q\"": invalid syntax"#
)]
// ---- field values: floats
#[case::float_trailing_point(b"m v=1.", NS, r#""m" | "v"=1.0 | none"#)]
#[case::float_leading_point(b"m v=.5", NS, r#""m" | "v"=0.5 | none"#)]
#[case::float_negative_leading_point(b"m v=-.5", NS, r#""m" | "v"=-0.5 | none"#)]
#[case::float_point_exponent(b"m v=1.e5", NS, r#""m" | "v"=100000.0 | none"#)]
#[case::float_exponent(b"m v=1e5", NS, r#""m" | "v"=100000.0 | none"#)]
#[case::float_negative_exponent(b"m v=1E-5", NS, r#""m" | "v"=1e-5 | none"#)]
#[case::float_plus_exponent(b"m v=-2.5e+3", NS, r#""m" | "v"=-2500.0 | none"#)]
#[case::float_negative_zero(b"m v=-0", NS, r#""m" | "v"=-0.0 | none"#)]
#[case::float_underflow_is_zero(b"m v=1e-400", NS, r#""m" | "v"=0.0 | none"#)]
#[case::float_long_plain(
    b"m v=12345678901234567890123456",
    NS,
    r#""m" | "v"=1.2345678901234568e25 | none"#
)]
#[case::float_leading_zeros(b"m v=007.25", NS, r#""m" | "v"=7.25 | none"#)]
// ---- integers and unsigned
#[case::integer(b"m v=1i", NS, r#""m" | "v"=1i | none"#)]
#[case::integer_negative_zero(b"m v=-0i", NS, r#""m" | "v"=0i | none"#)]
#[case::integer_leading_zero(b"m v=01i", NS, r#""m" | "v"=1i | none"#)]
#[case::integer_many_leading_zeros(b"m v=0000000000000000000001i", NS, r#""m" | "v"=1i | none"#)]
#[case::integer_max(
    b"m v=9223372036854775807i",
    NS,
    r#""m" | "v"=9223372036854775807i | none"#
)]
#[case::integer_min(
    b"m v=-9223372036854775808i",
    NS,
    r#""m" | "v"=-9223372036854775808i | none"#
)]
#[case::unsigned(b"m v=1u,w=0u", NS, r#""m" | "v"=1u "w"=0u | none"#)]
#[case::unsigned_max(
    b"m v=18446744073709551615u",
    NS,
    r#""m" | "v"=18446744073709551615u | none"#
)]
// ---- booleans: all ten spellings
#[case::booleans(b"m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE", NS, r#""m" | "a"=true "b"=true "c"=true "d"=true "e"=true "f"=false "g"=false "h"=false "i"=false "j"=false | none"#)]
// ---- strings
#[case::string_backslash_n_is_literal(b"m s=\"a\\nb\"", NS, r#""m" | "s"="a\\nb" | none"#)]
#[case::string_escapes(b"m s=\"a\\\"b\\\\c\"", NS, r#""m" | "s"="a\"b\\c" | none"#)]
#[case::string_trailing_escaped_backslash(b"m s=\"a\\\\\"", NS, r#""m" | "s"="a\\" | none"#)]
#[case::string_with_separators(b"m s=\"a, b=c\",v=1i", NS, r#""m" | "s"="a, b=c" "v"=1i | none"#)]
#[case::string_empty(b"m s=\"\"", NS, r#""m" | "s"="" | none"#)]
#[case::string_trailing_garbage(b"m v=\"x\"abc", NS, r#""m" | "v"="x\"ab" | none"#)]
#[case::string_escaped_comma_after(b"m v=\"x\"\\,,w=1", NS, r#""m" | "v"="x\"" ",w"=1.0 | none"#)]
#[case::mixed_types(
    b"m,t=1 f=1.5,i=-3i,u=7u,s=\"x\",b=F 5",
    NS,
    r#""m" "t"="1" | "f"=1.5 "i"=-3i "u"=7u "s"="x" "b"=false | 5"#
)]
// ---- timestamps and precision
#[case::timestamp_leading_zeros(b"m v=1 0005", NS, r#""m" | "v"=1.0 | 5"#)]
#[case::timestamp_negative_zero(b"m v=1 -0", NS, r#""m" | "v"=1.0 | 0"#)]
#[case::timestamp_negative(b"m v=1 -5", NS, r#""m" | "v"=1.0 | -5"#)]
#[case::precision_us(b"m v=1 5", Precision::Microsecond, r#""m" | "v"=1.0 | 5000"#)]
#[case::precision_ms(b"m v=1 5", Precision::Millisecond, r#""m" | "v"=1.0 | 5000000"#)]
#[case::precision_s(b"m v=1 5", Precision::Second, r#""m" | "v"=1.0 | 5000000000"#)]
#[case::precision_s_no_timestamp(b"m v=1", Precision::Second, r#""m" | "v"=1.0 | none"#)]
// ---- separators
#[case::several_spaces(b"m  v=1  1", NS, r#""m" | "v"=1.0 | 1"#)]
#[case::several_spaces_after_tags(b"m,t=1  v=1 1", NS, r#""m" "t"="1" | "v"=1.0 | 1"#)]
#[case::missing_field_key_after_two_spaces_before_equals(b"m  =1", NS, "error: missing field key")]
#[case::tsbs_like(b"cpu,hostname=host_0,region=eu-central-1,datacenter=eu-central-1a usage_user=58i,usage_system=2i 1451606400000000000", NS, r#""cpu" "datacenter"="eu-central-1a" "hostname"="host_0" "region"="eu-central-1" | "usage_user"=58i "usage_system"=2i | 1451606400000000000"#)]
fn table(#[case] body: &[u8], #[case] precision: Precision, #[case] expected: &str) {
    assert_eq!(dump(body, precision), expected, "body: {}", q(body));
}

#[test]
fn multi_error_message_is_exact() {
    let batch = parse_batch(b"m v=1\nbad\nm v=2 2\nalsobad v=", Precision::Nanosecond);
    assert_eq!(batch.points.len(), 2);
    assert_eq!(
        batch.error_message().as_deref(),
        Some("unable to parse 'bad': missing fields\nunable to parse 'alsobad v=': missing field value")
    );
    assert_eq!(batch.errors[0].line_number, 2);
    assert_eq!(batch.errors[1].line_number, 4);
}

#[test]
fn no_error_message_without_errors() {
    assert_eq!(
        parse_batch(b"m v=1\n# c\n", Precision::Nanosecond).error_message(),
        None
    );
}

#[test]
fn error_message_keeps_cr_and_whole_line_and_strips_leading_whitespace() {
    let long = format!("m v={}", "x".repeat(5000));
    let body = format!(" \tm v=1 123\r\n{long}");
    let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
    assert_eq!(
        batch.error_message().unwrap(),
        format!("unable to parse 'm v=1 123\r': bad timestamp\nunable to parse '{long}': invalid boolean")
    );
}

#[test]
fn error_message_renders_invalid_utf8_per_byte() {
    let batch = parse_batch(b"m\xf0\x90\x80 v=", Precision::Nanosecond);
    assert_eq!(
        batch.error_message().unwrap(),
        "unable to parse 'm\u{FFFD}\u{FFFD}\u{FFFD} v=': missing field value"
    );
}

#[test]
fn line_numbers_and_lines() {
    let body = b"# c\n  m v=1i\n\nm s=\"a\nb\" 1\nbad\n";
    let batch = parse_batch(body, Precision::Nanosecond);
    let lines: Vec<_> = batch
        .points
        .iter()
        .map(|p| (p.line_number, p.line))
        .collect();
    assert_eq!(
        lines,
        vec![(2, &b"m v=1i"[..]), (4, &b"m s=\"a\nb\" 1"[..])]
    );
    assert_eq!(batch.errors.len(), 1);
    assert_eq!(batch.errors[0].line_number, 6);
    assert_eq!(batch.errors[0].line, b"bad");
}

#[test]
fn max_key_length_on_the_series_key() {
    let ok = format!("{} v=1", "m".repeat(65535 - 6));
    assert!(parse_batch(ok.as_bytes(), Precision::Nanosecond)
        .errors
        .is_empty());
    // measurement + tags longer than 65535 bytes (escaped)
    let body = format!("{},t=1 v=1", "m".repeat(65532));
    let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
    assert_eq!(batch.errors[0].reason, Reason::MaxKeyLength(65536));
    assert_eq!(
        batch.errors[0].reason.to_string(),
        "max key length exceeded: 65536 > 65535"
    );
    // escaped bytes count: 32768 escaped commas are 65536 bytes
    let body = format!("{} v=1", "\\,".repeat(32768));
    let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
    assert_eq!(batch.errors[0].reason, Reason::MaxKeyLength(65536));
}

#[test]
fn max_key_length_with_the_field_key() {
    // len(key) + 4 + len(field key) > 65535 for the second field
    let m = "m".repeat(65529);
    let ok = format!("{m} ab=1");
    assert!(parse_batch(ok.as_bytes(), Precision::Nanosecond)
        .errors
        .is_empty());
    let body = format!("{m} a=1,abc=2");
    let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
    assert_eq!(batch.errors[0].reason, Reason::MaxKeyLength(65536));
    // the escaped length of the field key counts
    let body = format!("{m} a\\ b=1");
    let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
    assert_eq!(batch.errors[0].reason, Reason::MaxKeyLength(65537));
}

#[test]
fn float_range_checked_when_long() {
    let body = format!("m v=1{}", "0".repeat(400));
    let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
    assert_eq!(batch.errors[0].reason, Reason::InvalidFloat);
    let body = format!("m v=0.{}1", "0".repeat(400));
    let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
    assert!(batch.errors.is_empty());
}

#[test]
fn reserved_keys_are_matched_raw() {
    // an escaped spelling is a different key
    let batch = parse_batch(b"m,ti\\me=1 v=1", Precision::Nanosecond);
    assert!(batch.errors.is_empty());
    let batch = parse_batch(b"m,_field=1 v=1", Precision::Nanosecond);
    assert_eq!(
        batch.errors[0].reason,
        Reason::ReservedTagKey(ReservedTagKey::Field)
    );
}

#[test]
fn borrowed_unless_unescaped() {
    use std::borrow::Cow;
    let batch = parse_batch(b"m,t=a\\ b,u=c v=1i,s=\"x\"", Precision::Nanosecond);
    let p = &batch.points[0];
    assert!(matches!(p.measurement, Cow::Borrowed(_)));
    assert!(matches!(p.tags[0].value, Cow::Owned(_)));
    assert!(matches!(p.tags[1].value, Cow::Borrowed(_)));
    assert!(matches!(
        p.fields[1].value,
        FieldValue::String(Cow::Borrowed(_))
    ));
}

#[test]
fn to_line_round_trips() {
    let body = b"m\\ x,a=1,b\\,c=d\\=e s=\"q\\\"\\\\\",f=1.5,i=-2i,u=3u,t=true 42";
    let batch = parse_batch(body, Precision::Nanosecond);
    let p = &batch.points[0];
    let line = p.to_line();
    assert_eq!(
        line,
        b"m\\ x,a=1,b\\,c=d\\=e s=\"q\\\"\\\\\",f=1.5,i=-2i,u=3u,t=true 42"
    );
    let again = parse_batch(&line, Precision::Nanosecond);
    assert_eq!(again.points[0].fields, p.fields);
    assert_eq!(
        influx_reference::line_protocol::series_key(&p.measurement, &p.tags),
        b"m\\ x,a=1,b\\,c=d\\=e"
    );
}
