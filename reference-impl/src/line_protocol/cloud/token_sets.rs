//! The byte sets `takeEsc` runs over (`decoder.go`: `measurementChars`, `tagKeyChars` =
//! `tagValChars` = `fieldKeyChars`, `fieldStringValChars`), each with a scalar test and, on
//! x86_64, a test of sixteen bytes at once with SSE2. A token in the escape-heavy corpus is
//! tens of bytes long and the byte-by-byte loop was a third of the Cloud decoder's time.
//!
//! `tests` checks the sixteen-byte test against the scalar one for every byte value.

/// A set of bytes a token is made of. `stops16` answers, for sixteen bytes, which of them end
/// the plain run: those outside the set and the backslash (which starts an escape).
pub(super) trait TokenSet {
    /// The byte belongs to a token.
    fn contains(c: u8) -> bool;

    /// Bit `k` is set when byte `k` of the sixteen at `p` is outside the set or is `\\`.
    ///
    /// # Safety
    /// `p` must point to sixteen readable bytes.
    #[cfg(target_arch = "x86_64")]
    unsafe fn stops16(p: *const u8) -> u32;
}

/// `measurementChars`: anything but `,`, space and the non-printable bytes.
pub(super) struct MeasurementChars;
/// `tagKeyChars`, `tagValChars`, `fieldKeyChars`: anything but `,`, `=`, white space and the
/// non-printable bytes.
pub(super) struct KeyChars;
/// `fieldStringValChars`: anything but `"`.
pub(super) struct StringChars;

use super::decoder::{non_printable, whitespace};

const fn key_char_test(c: u8) -> bool {
    !(c == b',' || c == b'=' || whitespace(c) || non_printable(c))
}
const fn measurement_char_test(c: u8) -> bool {
    !(c == b',' || c == b' ' || non_printable(c))
}

/// A byte set as a table: one load per byte in the scalar loop.
macro_rules! byte_table {
    ($test:ident) => {{
        let mut table = [false; 256];
        let mut i = 0;
        while i < 256 {
            table[i] = $test(i as u8);
            i += 1;
        }
        table
    }};
}
static KEY_CHARS: [bool; 256] = byte_table!(key_char_test);
static MEASUREMENT_CHARS: [bool; 256] = byte_table!(measurement_char_test);

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// The sixteen bytes at `p`.
    ///
    /// # Safety
    /// `p` must point to sixteen readable bytes.
    #[inline(always)]
    pub(super) unsafe fn load(p: *const u8) -> __m128i {
        // SAFETY: the caller guarantees sixteen readable bytes; no alignment is needed.
        unsafe { _mm_loadu_si128(p.cast::<__m128i>()) }
    }

    /// 0xFF where the byte equals `c`.
    #[inline(always)]
    pub(super) fn is(v: __m128i, c: u8) -> __m128i {
        // SAFETY: SSE2 is part of every x86_64 target.
        unsafe { _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)) }
    }

    /// 0xFF where the byte is 0x00-0x1F or 0x7F (`nonPrintable`), compared unsigned.
    #[inline(always)]
    pub(super) fn non_printable(v: __m128i) -> __m128i {
        // SAFETY: SSE2 is part of every x86_64 target.
        unsafe {
            let low = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
            _mm_or_si128(low, is(v, 0x7f))
        }
    }

    #[inline(always)]
    pub(super) fn or(a: __m128i, b: __m128i) -> __m128i {
        // SAFETY: SSE2 is part of every x86_64 target.
        unsafe { _mm_or_si128(a, b) }
    }

    #[inline(always)]
    pub(super) fn mask(v: __m128i) -> u32 {
        // SAFETY: SSE2 is part of every x86_64 target.
        unsafe { _mm_movemask_epi8(v) as u32 }
    }
}

impl TokenSet for MeasurementChars {
    #[inline(always)]
    fn contains(c: u8) -> bool {
        MEASUREMENT_CHARS[usize::from(c)]
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn stops16(p: *const u8) -> u32 {
        use sse2::{is, mask, non_printable, or};
        // SAFETY: forwarded from the caller.
        let v = unsafe { sse2::load(p) };
        mask(or(
            or(is(v, b','), is(v, b' ')),
            or(non_printable(v), is(v, b'\\')),
        ))
    }
}

impl TokenSet for KeyChars {
    #[inline(always)]
    fn contains(c: u8) -> bool {
        KEY_CHARS[usize::from(c)]
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn stops16(p: *const u8) -> u32 {
        use sse2::{is, mask, non_printable, or};
        // SAFETY: forwarded from the caller.
        let v = unsafe { sse2::load(p) };
        // White space is the space, `\r` and `\n`; the last two are non-printable too.
        mask(or(
            or(or(is(v, b','), is(v, b'=')), is(v, b' ')),
            or(non_printable(v), is(v, b'\\')),
        ))
    }
}

impl TokenSet for StringChars {
    #[inline(always)]
    fn contains(c: u8) -> bool {
        c != b'"'
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn stops16(p: *const u8) -> u32 {
        use sse2::{is, mask, or};
        // SAFETY: forwarded from the caller.
        let v = unsafe { sse2::load(p) };
        mask(or(is(v, b'"'), is(v, b'\\')))
    }
}

/// The first index `>= i` of `buf` whose byte is outside `S` or is `\\`, or `buf.len()`.
#[inline(always)]
pub(super) fn next_stop<S: TokenSet>(buf: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    while i + 16 <= buf.len() {
        // SAFETY: `i + 16 <= buf.len()`, so sixteen bytes from `i` are in `buf`.
        let stops = unsafe { S::stops16(buf.as_ptr().add(i)) };
        if stops != 0 {
            return i + stops.trailing_zeros() as usize;
        }
        i += 16;
    }
    while let Some(&c) = buf.get(i) {
        if c == b'\\' || !S::contains(c) {
            return i;
        }
        i += 1;
    }
    buf.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `decoder.go` declares, written out again as the sets it names.
    fn measurement(c: u8) -> bool {
        !(c == b',' || c == b' ' || c < 0x20 || c == 0x7f)
    }
    fn key(c: u8) -> bool {
        !(c == b',' || c == b'=' || matches!(c, b' ' | b'\r' | b'\n') || c < 0x20 || c == 0x7f)
    }
    fn string(c: u8) -> bool {
        c != b'"'
    }

    fn check<S: TokenSet>(declared: fn(u8) -> bool) {
        for c in 0..=255u8 {
            assert_eq!(S::contains(c), declared(c), "byte {c:#04x}");
            // The byte at every position of a run of bytes that all belong (`a`), and at the
            // end of input.
            for at in 0..20 {
                let mut buf = vec![b'a'; 20];
                buf[at] = c;
                let want = if c == b'\\' || !declared(c) { at } else { 20 };
                assert_eq!(next_stop::<S>(&buf, 0), want, "byte {c:#04x} at {at}");
                assert_eq!(next_stop::<S>(&buf, at), want, "byte {c:#04x} from {at}");
            }
        }
    }

    #[test]
    fn the_sixteen_byte_tests_agree_with_the_declared_sets_for_every_byte() {
        check::<MeasurementChars>(measurement);
        check::<KeyChars>(key);
        check::<StringChars>(string);
    }

    #[test]
    fn a_stop_is_found_after_long_plain_runs_and_none_means_the_end() {
        let mut buf = vec![b'x'; 100];
        assert_eq!(next_stop::<KeyChars>(&buf, 0), 100);
        assert_eq!(next_stop::<KeyChars>(&buf, 100), 100);
        buf[77] = b'=';
        assert_eq!(next_stop::<KeyChars>(&buf, 3), 77);
        assert_eq!(next_stop::<StringChars>(&buf, 3), 100);
        buf[90] = 0x80;
        assert_eq!(next_stop::<StringChars>(&buf, 78), 100);
        assert_eq!(next_stop::<KeyChars>(&buf, 78), 100);
    }
}
