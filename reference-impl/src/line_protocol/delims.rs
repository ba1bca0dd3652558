//! The delimiters of a plain line (`,`, `=` and space) as bit masks, 64 bytes at a time, for
//! the v2 scanner's plain path.
//!
//! A plain line holds no `"` and no `\`, so every token of it (measurement, tag key, tag value,
//! field key, number or boolean) ends at one of these three bytes: the scanner asks for the next
//! one at or after a position, and the answer is a shift and a `trailing_zeros` of the block's
//! mask instead of a search loop per token (whose exit branch mispredicts on the varying token
//! lengths). Each 64-byte block of the line is classified once, when the scanner first reaches
//! it: SSE2 on x86_64 (baseline there), SWAR elsewhere (both tested against the byte loop).
//! Nothing is stored but the current block's mask: no memory grows with the line.

/// The bytes the masks flag.
const SET: [u8; 3] = [b',', b'=', b' '];

/// A forward cursor over the delimiters of one line.
pub(crate) struct Delims<'b> {
    buf: &'b [u8],
    /// Start of the block whose mask is held (`usize::MAX` before the first look).
    block: usize,
    /// Bit `k` is set when `buf[block + k]` is a delimiter.
    mask: u64,
}

impl<'b> Delims<'b> {
    #[inline(always)]
    pub(crate) fn new(buf: &'b [u8]) -> Self {
        Self {
            buf,
            block: usize::MAX,
            mask: 0,
        }
    }

    /// The first index `>= i` whose byte is `,`, `=` or a space (any `i`; the answer is the
    /// same as a byte loop's, however the calls move).
    #[inline(always)]
    pub(crate) fn next(&mut self, i: usize) -> Option<usize> {
        let mut base = i & !63;
        if base != self.block {
            if base >= self.buf.len() {
                return None;
            }
            self.load(base);
        }
        let mut m = self.mask & (u64::MAX << (i & 63));
        while m == 0 {
            base += 64;
            if base >= self.buf.len() {
                return None;
            }
            self.load(base);
            m = self.mask;
        }
        Some(base + m.trailing_zeros() as usize)
    }

    /// The first index `>= i` whose byte is `,` or a space (a measurement's delimiters).
    #[inline(always)]
    pub(crate) fn next_comma_or_space(&mut self, mut i: usize) -> Option<usize> {
        loop {
            let at = self.next(i)?;
            if self.buf[at] != b'=' {
                return Some(at);
            }
            i = at + 1;
        }
    }

    #[inline(always)]
    fn load(&mut self, base: usize) {
        self.block = base;
        self.mask = match self.buf.get(base..base + 64) {
            Some(chunk) => block_mask(chunk),
            None => {
                // The last, short block: zero bytes are not delimiters.
                let mut padded = [0u8; 64];
                let rest = self.buf.get(base..).unwrap_or_default();
                padded[..rest.len()].copy_from_slice(rest);
                block_mask(&padded)
            }
        };
    }
}

/// The delimiter mask of a 64-byte block (`chunk.len() == 64`).
#[inline(always)]
fn block_mask(chunk: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        sse2_mask(chunk)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        swar_mask(chunk)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_mask(chunk: &[u8]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut mask = 0u64;
    for (k, part) in chunk.chunks_exact(16).enumerate() {
        // SAFETY: `part` is 16 readable bytes and `_mm_loadu_si128` has no alignment
        // requirement; SSE2, which all these intrinsics need, is part of every x86_64 target.
        let bits = unsafe {
            let v = _mm_loadu_si128(part.as_ptr().cast::<__m128i>());
            let hits = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(SET[0] as i8)),
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(SET[1] as i8)),
                ),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(SET[2] as i8)),
            );
            _mm_movemask_epi8(hits) as u32 as u64
        };
        mask |= bits << (16 * k);
    }
    mask
}

/// [`block_mask`] eight bytes at a time in plain integer arithmetic (targets without SSE2).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn swar_mask(chunk: &[u8]) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut mask = 0u64;
    for (k, part) in chunk.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(part);
        let x = u64::from_le_bytes(word);
        let mut hits = 0u64;
        for c in SET {
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

    fn byte_loop(buf: &[u8], i: usize) -> Option<usize> {
        (i..buf.len()).find(|&k| SET.contains(&buf[k]))
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
            let mut d = Delims::new(&buf);
            for &i in &queries {
                prop_assert_eq!(d.next(i), byte_loop(&buf, i));
                let expected = (i..buf.len()).find(|&k| matches!(buf[k], b',' | b' '));
                prop_assert_eq!(d.next_comma_or_space(i), expected);
            }
        }

        /// The SWAR fallback computes the same masks as the byte loop (and, on x86_64, SSE2).
        #[test]
        fn swar_is_the_byte_loop(
            chunk in prop::collection::vec(any::<u8>(), 64),
            delims in prop::collection::vec((0usize..64, prop::sample::select(&SET[..])), 0..20),
        ) {
            let mut chunk = chunk;
            for (at, c) in delims {
                chunk[at] = c;
            }
            let expected = (0..64)
                .filter(|&k| SET.contains(&chunk[k]))
                .fold(0u64, |m, k| m | 1 << k);
            prop_assert_eq!(swar_mask(&chunk), expected);
            prop_assert_eq!(block_mask(&chunk), expected);
        }
    }
}
