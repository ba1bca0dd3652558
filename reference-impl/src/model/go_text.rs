//! Go's text conventions, once: `%q` (`strconv.Quote`, `strconv.QuoteRune`), the quoted byte
//! of `encoding/json`'s syntax errors (`quoteChar`), and `time`'s own quoting. InfluxDB puts
//! these in its messages (parse reasons, lookups, JSON and time errors), so every message that
//! quotes a value goes through here.
//!
//! "Printable" is Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols and
//! U+0020). This port knows the non-printable code points that matter in practice (controls,
//! spaces other than U+0020, line/paragraph separators, format characters, private use,
//! noncharacters); code points unassigned in Go's Unicode tables are treated as printable,
//! where Go would escape them.

/// `strconv.Quote(string(bytes))`: a double-quoted string; `"` and `\` escaped, printable
/// runes kept (non-ASCII too), `\a \b \f \n \r \t \v` short escapes, other runes below
/// U+0020 and U+007F as `\xNN`, other non-printable runes `\uNNNN` / `\UNNNNNNNN`, and each
/// byte that does not start a valid UTF-8 sequence as `\xNN`.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    let mut rest = bytes;
    while let Some(&first) = rest.first() {
        match decode_rune(rest) {
            Some((c, width)) => {
                push_escaped_rune(&mut out, c, '"');
                rest = &rest[width..];
            }
            None => {
                push_hex_byte(&mut out, first);
                rest = &rest[1..];
            }
        }
    }
    out.push('"');
    out
}

/// `fmt.Sprintf("%q", s)` for a Go string.
pub fn quote_str(s: &str) -> String {
    quote(s.as_bytes())
}

/// `strconv.QuoteRune`: a single-quoted rune (`%q` of a `rune`, or of a `byte` taken as the
/// code point U+0000..U+00FF, so `0xe9` prints as `'é'` and `0x85` as `'\u0085'`).
pub fn quote_rune(c: char) -> String {
    let mut out = String::with_capacity(4);
    out.push('\'');
    push_escaped_rune(&mut out, c, '\'');
    out.push('\'');
    out
}

/// `%q` of a Go integer (an enum printed with `%q`): `strconv.QuoteRune(rune(n))`; a value that
/// is no code point is U+FFFD, as Go's conversion gives.
pub fn quote_int(n: u32) -> String {
    quote_rune(char::from_u32(n).unwrap_or('\u{fffd}'))
}

/// `encoding/json`'s `quoteChar`: the byte of a syntax error in single quotes, `'` and `"`
/// special-cased, otherwise as `strconv.Quote(string(c))` escapes the rune U+00XX.
pub fn json_quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".to_string(),
        b'"' => "'\"'".to_string(),
        c => {
            let mut out = String::with_capacity(8);
            out.push('\'');
            push_escaped_rune(&mut out, char::from(c), '"');
            out.push('\'');
            out
        }
    }
}

/// The `time` package's own `quote`: `"` and `\` escaped, bytes outside printable ASCII as
/// `\xNN` (byte by byte, never a rune escape).
pub fn time_quote(s: &str) -> String {
    time_quote_bytes(s.as_bytes())
}

/// [`time_quote`] of any bytes (a value cut inside a character: Go's `time` package slices
/// by bytes, and its `quote` writes every byte past ASCII as `\xNN`).
pub fn time_quote_bytes(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s {
        if !(0x20..0x80).contains(&b) {
            push_hex_byte(&mut out, b);
        } else {
            if b == b'"' || b == b'\\' {
                out.push('\\');
            }
            out.push(char::from(b));
        }
    }
    out.push('"');
    out
}

/// `utf8.DecodeRune`: the first rune and its width, or `None` when the first byte does not
/// start a valid sequence (Go's `(RuneError, 1)`).
fn decode_rune(bytes: &[u8]) -> Option<(char, usize)> {
    let head = &bytes[..bytes.len().min(4)];
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
    };
    valid.chars().next().map(|c| (c, c.len_utf8()))
}

fn push_hex_byte(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\x");
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0xf)]));
}

/// `strconv.appendEscapedRune` (not ASCII-only, not graphic-only).
fn push_escaped_rune(out: &mut String, c: char, quote: char) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\x7f' => push_hex_byte(out, c as u8),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Go's `unicode.IsPrint`, up to unassigned code points (see the module docs).
pub fn is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    !matches!(u,
        // C1 controls, NBSP, soft hyphen.
        0x80..=0xa0 | 0xad
        // Format characters (Cf).
        | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2 | 0x180e
        | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f
        | 0xfeff | 0xfff9..=0xfffb | 0x110bd | 0x110cd | 0x13430..=0x1343f
        | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f
        // Space separators other than U+0020 (Zs), line and paragraph separators.
        | 0x1680 | 0x2000..=0x200a | 0x2028 | 0x2029 | 0x202f | 0x205f | 0x3000
        // Private use.
        | 0xe000..=0xf8ff | 0xf0000..=0xffffd | 0x100000..=0x10fffd
        // Noncharacters.
        | 0xfdd0..=0xfdef)
        && (u & 0xfffe) != 0xfffe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_like_strconv_quote() {
        assert_eq!(quote(b"abc"), r#""abc""#);
        assert_eq!(quote(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            quote(b"\x00\x07\x08\x0c\n\r\t\x0b\x1f\x7f"),
            r#""\x00\a\b\f\n\r\t\v\x1f\x7f""#
        );
        assert_eq!(quote("é€😀".as_bytes()), "\"é€😀\"");
        assert_eq!(
            quote("\u{85}\u{a0}\u{ad}\u{200b}".as_bytes()),
            r#""\u0085\u00a0\u00ad\u200b""#
        );
        assert_eq!(quote("\u{e0001}".as_bytes()), r#""\U000e0001""#);
        // Each byte of an invalid sequence is \xNN; valid runes around it stay.
        assert_eq!(
            quote(b"a\xf0\x90\x80b\xff\xc3\xa9"),
            r#""a\xf0\x90\x80b\xffé""#
        );
        assert_eq!(quote(b"\xef\xbf\xbd"), "\"\u{fffd}\"");
        assert_eq!(quote(b""), r#""""#);
    }

    #[test]
    fn quote_byte_like_quote_rune() {
        assert_eq!(quote_rune_byte(b'x'), "'x'");
        assert_eq!(quote_rune_byte(b' '), "' '");
        assert_eq!(quote_rune_byte(b'\''), r"'\''");
        assert_eq!(quote_rune_byte(b'"'), "'\"'");
        assert_eq!(quote_rune_byte(b'\\'), r"'\\'");
        assert_eq!(quote_rune_byte(b'\n'), r"'\n'");
        assert_eq!(quote_rune_byte(0), r"'\x00'");
        assert_eq!(quote_rune_byte(0x7f), r"'\x7f'");
        assert_eq!(quote_rune_byte(0x85), r"'\u0085'");
        assert_eq!(quote_rune_byte(0xa0), r"'\u00a0'");
        assert_eq!(quote_rune_byte(0xc3), "'Ã'");
        assert_eq!(quote_rune_byte(0xff), "'ÿ'");
    }

    fn quote_rune_byte(b: u8) -> String {
        quote_rune(char::from(b))
    }

    #[test]
    fn json_quote_char_like_encoding_json() {
        assert_eq!(json_quote_char(b'x'), "'x'");
        assert_eq!(json_quote_char(b'\''), "'\\''");
        assert_eq!(json_quote_char(b'"'), "'\"'");
        assert_eq!(json_quote_char(b'\n'), "'\\n'");
        assert_eq!(json_quote_char(0), "'\\x00'");
        assert_eq!(json_quote_char(0x85), "'\\u0085'");
        assert_eq!(json_quote_char(0xad), "'\\u00ad'");
        assert_eq!(json_quote_char(0xe9), "'é'");
        assert_eq!(json_quote_char(b'\\'), "'\\\\'");
    }

    #[test]
    fn time_quote_escapes_bytes() {
        assert_eq!(time_quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(time_quote("é"), "\"\\xc3\\xa9\"");
        assert_eq!(time_quote("\n"), "\"\\x0a\"");
    }

    #[test]
    fn quote_int_is_quote_rune() {
        assert_eq!(quote_int(1), "'\\x01'");
        assert_eq!(quote_int(u32::from(b'&')), "'&'");
    }
}
