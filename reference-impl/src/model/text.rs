//! Byte strings as Go shows them.
//!
//! InfluxDB keeps measurement names, keys and values as raw bytes (invalid UTF-8 is accepted by
//! the parser), and Go's `encoding/json` replaces **each** byte of an invalid sequence with
//! U+FFFD. Rust's `String::from_utf8_lossy` replaces a maximal invalid subsequence with one
//! U+FFFD, which differs for truncated multi-byte sequences, so messages that must match InfluxDB
//! byte for byte go through [`go_lossy`].

use std::borrow::Cow;

/// Converts bytes to text the way Go's `encoding/json` (and `strings.ToValidUTF8`-free
/// `utf8.DecodeRune` loops) do: every byte that does not start a valid UTF-8 sequence becomes
/// one U+FFFD.
pub fn go_lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(go_lossy_owned(bytes)),
    }
}

fn go_lossy_owned(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                // `valid` is valid UTF-8 by construction of `valid_up_to`.
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push('\u{FFFD}');
                // Go advances one byte per invalid rune, whatever follows.
                bytes = &rest[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_is_borrowed() {
        assert!(matches!(go_lossy(b"h\xc3\xa9"), Cow::Borrowed("hé")));
    }

    #[test]
    fn each_invalid_byte_is_one_replacement() {
        // A truncated 4-byte sequence: Rust's lossy gives one U+FFFD, Go gives three.
        assert_eq!(go_lossy(b"a\xf0\x90\x80b"), "a\u{FFFD}\u{FFFD}\u{FFFD}b");
        assert_eq!(go_lossy(b"\xff"), "\u{FFFD}");
        assert_eq!(go_lossy(b"\xc3"), "\u{FFFD}");
    }
}
