//! The bytes a scanner stops at, as bit masks, 64 bytes at a time.
//!
//! A plain line holds no `"` and no `\`, so every token of it (measurement, tag key, tag value,
//! field key, number or boolean) ends at `,`, `=` or a space: the scanner asks for the next
//! one at or after a position, and the answer is a shift and a `trailing_zeros` of the block's
//! mask instead of a search loop per token (whose exit branch mispredicts on the varying token
//! lengths). A line with quotes or backslashes is scanned the same way with `\` and `"` added
//! to the masks ([`Delims`] with `PLAIN` false). The line is walked with one [`Cursor`]: each
//! 64-byte block is classified once, when the scanner first reaches it: SSE2
//! on x86_64 (baseline there), SWAR elsewhere (both tested against the byte loop). Nothing is
//! stored but the current block's mask: no memory grows with the line.

/// What a plain line's tokens end at.
const PLAIN_SET: [u8; 3] = [b',', b'=', b' '];
/// What the scanners of a line with quotes or backslashes react to.
const ESCAPED_SET: [u8; 5] = [b',', b'=', b' ', b'\\', b'"'];
/// A forward cursor over one mask of `buf`, which `classify` makes for each 64-byte block
/// (one cursor always passes the same `classify`; it is a constant where the call is inlined).
struct Cursor<'b> {
    buf: &'b [u8],
    /// Start of the block whose mask is held (`usize::MAX` before the first look).
    block: usize,
    /// Bit `k` is set when `buf[block + k]` is in the set.
    mask: u64,
}

impl<'b> Cursor<'b> {
    #[inline(always)]
    fn new(buf: &'b [u8]) -> Self {
        Self {
            buf,
            block: usize::MAX,
            mask: 0,
        }
    }

    /// The first index `>= i` flagged in the mask (any `i`; the answer is the same as a byte
    /// loop's, however the calls move).
    #[inline(always)]
    fn next(&mut self, i: usize, classify: impl Fn(&[u8]) -> u64) -> Option<usize> {
        let mut base = i & !63;
        if base != self.block {
            if base >= self.buf.len() {
                return None;
            }
            self.load(base, &classify);
        }
        let mut m = self.mask & (u64::MAX << (i & 63));
        while m == 0 {
            base += 64;
            if base >= self.buf.len() {
                return None;
            }
            self.load(base, &classify);
            m = self.mask;
        }
        Some(base + m.trailing_zeros() as usize)
    }

    #[inline(always)]
    fn load(&mut self, base: usize, classify: &impl Fn(&[u8]) -> u64) {
        self.block = base;
        // The padding of a short last block is masked off (a zero byte may be in the set of no
        // scanner, but the answer must not depend on that).
        let (mask, len) = classify_block(self.buf, base, classify);
        self.mask = if len == 64 {
            mask
        } else {
            mask & (u64::MAX >> (64 - len))
        };
    }
}

/// `classify` of the 64 bytes of `buf` from `base` (`base < buf.len()`), a short last block
/// padded with zero bytes, and how many of the 64 are `buf`'s.
#[inline(always)]
pub(crate) fn classify_block<T>(
    buf: &[u8],
    base: usize,
    classify: impl Fn(&[u8]) -> T,
) -> (T, usize) {
    match buf.get(base..base + 64) {
        Some(chunk) => (classify(chunk), 64),
        None => {
            let mut padded = [0u8; 64];
            let rest = buf.get(base..).unwrap_or_default();
            padded[..rest.len()].copy_from_slice(rest);
            (classify(&padded), rest.len())
        }
    }
}

/// A forward cursor over the delimiters of one line: `,`, `=` and space, and with `PLAIN`
/// false also `\` and `"`.
pub(crate) struct Delims<'b, const PLAIN: bool>(Cursor<'b>);

impl<'b, const PLAIN: bool> Delims<'b, PLAIN> {
    #[inline(always)]
    pub(crate) fn new(buf: &'b [u8]) -> Self {
        Self(Cursor::new(buf))
    }

    /// The first index `>= i` whose byte is `,`, `=`, a space or (not `PLAIN`) `\` or `"`.
    #[inline(always)]
    pub(crate) fn next(&mut self, i: usize) -> Option<usize> {
        if PLAIN {
            self.0.next(i, |chunk| block_mask(chunk, &PLAIN_SET))
        } else {
            self.0.next(i, |chunk| block_mask(chunk, &ESCAPED_SET))
        }
    }

    /// The first index `>= i` whose byte is `,`, `=` or a space.
    #[inline(always)]
    pub(crate) fn next_delim(&mut self, mut i: usize) -> Option<usize> {
        loop {
            let at = self.next(i)?;
            if PLAIN || !matches!(self.0.buf[at], b'\\' | b'"') {
                return Some(at);
            }
            i = at + 1;
        }
    }

    /// The first index `>= i` whose byte is `,` or a space (a measurement's delimiters).
    #[inline(always)]
    pub(crate) fn next_comma_or_space(&mut self, mut i: usize) -> Option<usize> {
        loop {
            let at = self.next(i)?;
            if matches!(self.0.buf[at], b',' | b' ') {
                return Some(at);
            }
            i = at + 1;
        }
    }
}

/// The mask of the bytes of `set` in a 64-byte block (`chunk.len() == 64`).
#[inline(always)]
fn block_mask(chunk: &[u8], set: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        sse2_mask(chunk, set)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        swar_mask(chunk, set)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_mask(chunk: &[u8], set: &[u8]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128,
    };
    let mut mask = 0u64;
    for (k, part) in chunk.chunks_exact(16).enumerate() {
        // SAFETY: `part` is 16 readable bytes and `_mm_loadu_si128` has no alignment
        // requirement; SSE2, which all these intrinsics need, is part of every x86_64 target.
        let bits = unsafe {
            let v = _mm_loadu_si128(part.as_ptr().cast::<__m128i>());
            let mut hits = _mm_setzero_si128();
            for &c in set {
                hits = _mm_or_si128(hits, _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)));
            }
            _mm_movemask_epi8(hits) as u32 as u64
        };
        mask |= bits << (16 * k);
    }
    mask
}

/// [`block_mask`] eight bytes at a time in plain integer arithmetic (targets without SSE2).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
pub(crate) fn swar_mask(chunk: &[u8], set: &[u8]) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut mask = 0u64;
    for (k, part) in chunk.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(part);
        let x = u64::from_le_bytes(word);
        let mut hits = 0u64;
        for &c in set {
            // The exact zero-byte test (no false positives, unlike the borrow trick): the high
            // bit of each byte of `y` that is zero.
            let y = x ^ (LO * u64::from(c));
            hits |= !(((y & LOW7).wrapping_add(LOW7)) | y) & HI;
        }
        // Gather the high bits (bytes 0..8, lowest first) into eight bits.
        let packed = ((hits >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
        mask |= packed << (8 * k);
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn byte_loop(buf: &[u8], i: usize, set: &[u8]) -> Option<usize> {
        (i..buf.len()).find(|&k| set.contains(&buf[k]))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every query, in any order, answers as the byte loop does.
        #[test]
        fn next_is_the_byte_loop(
            buf in prop::collection::vec(
                prop::sample::select(&b"a,= \"\\\n\x00\xff9"[..]), 0..300),
            queries in prop::collection::vec(0usize..320, 1..40),
        ) {
            let mut plain = Delims::<true>::new(&buf);
            let mut escaped = Delims::<false>::new(&buf);
            for &i in &queries {
                prop_assert_eq!(plain.next(i), byte_loop(&buf, i, &PLAIN_SET));
                prop_assert_eq!(plain.next_delim(i), byte_loop(&buf, i, &PLAIN_SET));
                prop_assert_eq!(escaped.next(i), byte_loop(&buf, i, &ESCAPED_SET));
                prop_assert_eq!(escaped.next_delim(i), byte_loop(&buf, i, &PLAIN_SET));
                let expected = byte_loop(&buf, i, b", ");
                prop_assert_eq!(plain.next_comma_or_space(i), expected);
                prop_assert_eq!(escaped.next_comma_or_space(i), expected);
            }
        }

        /// A set holding the zero byte is not fooled by the short block's padding.
        #[test]
        fn padding_is_not_in_the_set(
            buf in prop::collection::vec(prop::sample::select(&b"a\x00 "[..]), 0..200),
            i in 0usize..220,
        ) {
            let mut zeros = Cursor::new(&buf);
            prop_assert_eq!(zeros.next(i, |c| block_mask(c, &[0])), byte_loop(&buf, i, &[0]));
        }

        /// The SWAR fallback computes the same masks as the byte loop (and, on x86_64, SSE2).
        #[test]
        fn swar_is_the_byte_loop(
            chunk in prop::collection::vec(any::<u8>(), 64),
            marks in prop::collection::vec((0usize..64, prop::sample::select(&b",= \\\"\n"[..])), 0..20),
        ) {
            let mut chunk = chunk;
            for (at, c) in marks {
                chunk[at] = c;
            }
            for set in [&PLAIN_SET[..], &ESCAPED_SET[..], &b"\\=,\"\n"[..]] {
                let expected = (0..64)
                    .filter(|&k| set.contains(&chunk[k]))
                    .fold(0u64, |m, k| m | 1 << k);
                prop_assert_eq!(swar_mask(&chunk, set), expected);
                prop_assert_eq!(block_mask(&chunk, set), expected);
            }
        }
    }
}
