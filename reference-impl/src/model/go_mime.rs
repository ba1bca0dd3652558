//! Go's `mime.ParseMediaType` (Go 1.23, `mime/mediatype.go`), as far as its answer shows:
//! the media type, lowered and trimmed, or the error it returns. 2.7's `/api/v2/query`
//! decoder (`http/query.go` `decodeQueryRequest`) parses the `Content-Type` with it and fails
//! the request with that error, so a malformed header is refused even when its media type
//! part reads as JSON.
//!
//! Go works on the header's bytes. Parameters are read here on bytes too, so two values
//! that differ only in invalid UTF-8 stay different, as Go's duplicate check sees them. The
//! base is read as text: an invalid byte there is a `RuneError`, which is neither a space
//! nor a token character, so a lossy read changes no answer.

use std::collections::HashMap;

/// Each error `ParseMediaType` can return, worded as Go words it.
pub const NO_MEDIA_TYPE: &str = "mime: no media type";
pub const EXPECTED_SLASH: &str = "mime: expected slash after first token";
pub const EXPECTED_TOKEN_AFTER_SLASH: &str = "mime: expected token after slash";
pub const UNEXPECTED_CONTENT: &str = "mime: unexpected content after media subtype";
pub const INVALID_MEDIA_PARAMETER: &str = "mime: invalid media parameter";
pub const DUPLICATE_PARAMETER: &str = "mime: duplicate parameter name";

/// The media type of `v`, lowered and trimmed, or `ParseMediaType`'s error.
pub fn parse_media_type(v: &[u8]) -> Result<String, &'static str> {
    let base_len = v.iter().position(|&b| b == b';').unwrap_or(v.len());
    let base = String::from_utf8_lossy(&v[..base_len]);
    let lowered: String = base.chars().map(go_to_lower).collect();
    let media_type = lowered.trim_matches(char::is_whitespace);
    check_media_type_disposition(media_type.as_bytes())?;

    // Parameter names to values; a name with a `*` (an RFC 2231 piece) goes to a map of its
    // base name, as Go keeps them. Only a duplicate can fail, so pieces are not stitched.
    let mut params: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let mut continuation: HashMap<Vec<u8>, HashMap<Vec<u8>, Vec<u8>>> = HashMap::new();
    let mut rest = &v[base_len..];
    loop {
        rest = trim_left_space(rest);
        if rest.is_empty() {
            break;
        }
        let Some((key, value, after)) = consume_media_param(rest) else {
            if trim_space(rest) == b";" {
                // Trailing semicolons are not an error.
                break;
            }
            return Err(INVALID_MEDIA_PARAMETER);
        };
        let pmap = match key.iter().position(|&b| b == b'*') {
            Some(star) => continuation.entry(key[..star].to_vec()).or_default(),
            None => &mut params,
        };
        // Go allows a repeated name only with an equal value.
        if pmap.get(&key).is_some_and(|existing| *existing != value) {
            return Err(DUPLICATE_PARAMETER);
        }
        pmap.insert(key, value);
        rest = after;
    }
    Ok(media_type.to_string())
}

/// `unicode.ToLower` of one rune. Rust's lowering agrees except for U+0130 (`İ`), whose
/// full lowercase is two runes; Go's simple mapping gives `i`.
fn go_to_lower(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn check_media_type_disposition(s: &[u8]) -> Result<(), &'static str> {
    let (typ, rest) = consume_token(s);
    if typ.is_empty() {
        return Err(NO_MEDIA_TYPE);
    }
    if rest.is_empty() {
        return Ok(());
    }
    let Some(rest) = rest.strip_prefix(b"/") else {
        return Err(EXPECTED_SLASH);
    };
    let (subtype, rest) = consume_token(rest);
    if subtype.is_empty() {
        return Err(EXPECTED_TOKEN_AFTER_SLASH);
    }
    if !rest.is_empty() {
        return Err(UNEXPECTED_CONTENT);
    }
    Ok(())
}

/// RFC 2045's `tspecials`.
fn is_tspecial(b: u8) -> bool {
    b"()<>@,;:\\\"/[]?=".contains(&b)
}

/// Any US-ASCII character but space, controls and `tspecials`.
fn is_token_char(b: u8) -> bool {
    b > 0x20 && b < 0x7f && !is_tspecial(b)
}

fn consume_token(v: &[u8]) -> (&[u8], &[u8]) {
    let end = v.iter().position(|&b| !is_token_char(b)).unwrap_or(v.len());
    v.split_at(end)
}

/// A token or a quoted string, unescaped; `None` where Go answers `("", v)`. An empty
/// quoted string is a value (`Some` of nothing).
fn consume_value(v: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    if v.first() != Some(&b'"') {
        let (token, rest) = consume_token(v);
        return (!token.is_empty()).then(|| (token.to_vec(), rest));
    }
    let mut value = Vec::new();
    let mut i = 1;
    while i < v.len() {
        let b = v[i];
        if b == b'"' {
            return Some((value, &v[i + 1..]));
        }
        // A backslash escapes only a `tspecial` (MSIE sends paths unescaped).
        if b == b'\\' && i + 1 < v.len() && is_tspecial(v[i + 1]) {
            value.push(v[i + 1]);
            i += 2;
            continue;
        }
        if b == b'\r' || b == b'\n' {
            return None;
        }
        value.push(b);
        i += 1;
    }
    // No closing quote.
    None
}

/// `; name = value`, the name lowered; `None` where Go answers an empty name.
fn consume_media_param(v: &[u8]) -> Option<(Vec<u8>, Vec<u8>, &[u8])> {
    let rest = trim_left_space(v).strip_prefix(b";")?;
    let (param, rest) = consume_token(trim_left_space(rest));
    if param.is_empty() {
        return None;
    }
    let rest = trim_left_space(rest).strip_prefix(b"=")?;
    let (value, rest) = consume_value(trim_left_space(rest))?;
    Some((param.to_ascii_lowercase(), value, rest))
}

/// `strings.TrimLeftFunc(v, unicode.IsSpace)` on bytes: whole UTF-8 runes that are white
/// space (Rust's `char::is_whitespace` is the same Unicode property); an invalid byte stops.
fn trim_left_space(mut v: &[u8]) -> &[u8] {
    loop {
        let Some(chunk) = v.utf8_chunks().next() else {
            return v;
        };
        match chunk.valid().chars().next() {
            Some(c) if c.is_whitespace() => v = &v[c.len_utf8()..],
            _ => return v,
        }
    }
}

/// `strings.TrimSpace` on bytes, as [`trim_left_space`] from both ends.
fn trim_space(v: &[u8]) -> &[u8] {
    let mut v = trim_left_space(v);
    loop {
        // The last rune, if the tail is valid UTF-8.
        let start = v.len().saturating_sub(4);
        let tail = (start..v.len())
            .find_map(|i| std::str::from_utf8(&v[i..]).ok().map(|s| (i, s)))
            .and_then(|(i, s)| s.chars().next_back().map(|c| (i, s, c)));
        match tail {
            Some((i, s, c)) if c.is_whitespace() => {
                v = &v[..i + s.len() - c.len_utf8()];
            }
            _ => return v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::absent_parameters("application/json", Ok("application/json"))]
    #[case::lowered_and_trimmed(" Application/VND.Flux \t", Ok("application/vnd.flux"))]
    #[case::parameter("application/json; charset=utf-8", Ok("application/json"))]
    #[case::quoted_parameter("text/plain; a=\"x;y\\\"z\"", Ok("text/plain"))]
    #[case::empty_quoted_value("text/plain; a=\"\"", Ok("text/plain"))]
    #[case::trailing_semicolon("application/json;", Ok("application/json"))]
    #[case::trailing_semicolon_spaced("application/json; charset=x ; ", Ok("application/json"))]
    #[case::equal_duplicates("text/plain; a=1; A=1", Ok("text/plain"))]
    #[case::type_only("json", Ok("json"))]
    #[case::dotted_i_lowers_to_i("applİcation/json", Ok("application/json"))]
    #[case::kelvin_sign_lowers_to_k("\u{212a}/x", Ok("k/x"))]
    #[case::nbsp_trimmed("application/json\u{a0}", Ok("application/json"))]
    #[case::empty("", Err(NO_MEDIA_TYPE))]
    #[case::only_parameters("; charset=utf-8", Err(NO_MEDIA_TYPE))]
    #[case::leading_slash("/json", Err(NO_MEDIA_TYPE))]
    #[case::space_inside("application json", Err(EXPECTED_SLASH))]
    #[case::no_subtype("application/", Err(EXPECTED_TOKEN_AFTER_SLASH))]
    #[case::two_slashes("application/json/x", Err(UNEXPECTED_CONTENT))]
    #[case::double_semicolon("application/json;;", Err(INVALID_MEDIA_PARAMETER))]
    #[case::name_without_value("application/json; charset", Err(INVALID_MEDIA_PARAMETER))]
    #[case::empty_value("application/json; charset=", Err(INVALID_MEDIA_PARAMETER))]
    #[case::unclosed_quote("text/plain; a=\"x", Err(INVALID_MEDIA_PARAMETER))]
    #[case::junk_after_value("text/plain; a=b c", Err(INVALID_MEDIA_PARAMETER))]
    #[case::different_duplicates("text/plain; a=1; a=2", Err(DUPLICATE_PARAMETER))]
    #[case::different_piece_duplicates("text/plain; a*0=1; a*0=2", Err(DUPLICATE_PARAMETER))]
    #[case::piece_and_plain_apart("text/plain; a*0=1; a=2", Ok("text/plain"))]
    fn reads_as_go_does(#[case] header: &str, #[case] expected: Result<&str, &str>) {
        assert_eq!(
            parse_media_type(header.as_bytes()),
            expected.map(str::to_string)
        );
    }

    #[test]
    fn invalid_utf8_values_are_compared_as_bytes() {
        assert_eq!(
            parse_media_type(b"text/plain; a=\"\xff\"; a=\"\xfe\""),
            Err(DUPLICATE_PARAMETER)
        );
        assert_eq!(
            parse_media_type(b"text/plain; a=\"\xff\"; a=\"\xff\""),
            Ok("text/plain".to_string())
        );
        // An invalid byte in the base is no token character.
        assert_eq!(
            parse_media_type(b"appl\xffcation/json"),
            Err(EXPECTED_SLASH)
        );
    }

    #[test]
    fn trim_space_takes_whole_runes_from_both_ends() {
        assert_eq!(trim_space(" \u{a0}; \u{2003}".as_bytes()), b";");
        assert_eq!(trim_space(b"\xff;\xa0"), b"\xff;\xa0");
        assert_eq!(trim_space(b""), b"");
    }
}
