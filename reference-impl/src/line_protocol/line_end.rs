//! `scanLine` for a line with quotes or backslashes: where it ends, found 64 bytes at a time.
//!
//! Go's loop (`models/points.go`, v2.7) skips a backslash and the byte after it when two bytes
//! follow the backslash, enters the fields at the first space it does not skip, counts `=` and
//! `,` in the fields outside quotes, opens or closes a quote at a `"` while `equals > commas`,
//! and ends at a `\n` outside quotes. Which bytes the backslash pairs skip is known for a whole
//! block at once (the odd-length backslash runs, found with one add as simdjson finds escaped
//! quotes), so the walk stops only where its state can change: the first space it does not
//! skip (before the fields), a `"` (in the fields), a `\n` (outside quotes). The `=` and `,`
//! between two stops are counted with `popcount`, and the newlines inside the line are all the
//! `\n` bytes before its end (each one either skipped or quoted, or the line would have ended
//! there). `tests.rs` compares every answer with the literal loop.

/// The bytes of one 64-byte block that `scanLine` reacts to: bit `k` of a mask is set when byte
/// `k` of the block is that byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct BlockMasks {
    backslash: u64,
    newline: u64,
    quote: u64,
    space: u64,
    equals: u64,
    comma: u64,
}

/// The bytes of [`BlockMasks`], in its order.
const SET: [u8; 6] = [b'\\', b'\n', b'"', b' ', b'=', b','];

impl BlockMasks {
    fn from_array(m: [u64; 6]) -> Self {
        let [backslash, newline, quote, space, equals, comma] = m;
        Self {
            backslash,
            newline,
            quote,
            space,
            equals,
            comma,
        }
    }

    /// The masks of the 64 bytes of `buf` from `base` (`base < buf.len()`); a shorter last
    /// block is padded with zero bytes, which are in no mask.
    #[inline(always)]
    fn at(buf: &[u8], base: usize) -> Self {
        super::delims::classify_block(buf, base, Self::of).0
    }

    /// The masks of a 64-byte block: SSE2 on x86_64, SWAR elsewhere.
    #[inline(always)]
    fn of(chunk: &[u8]) -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            Self::from_array(sse2_masks(chunk))
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Self::from_array(SET.map(|c| super::delims::swar_mask(chunk, &[c])))
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_masks(chunk: &[u8]) -> [u64; 6] {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let mut masks = [0u64; 6];
    for (k, part) in chunk.chunks_exact(16).enumerate() {
        // SAFETY: `part` is 16 readable bytes and `_mm_loadu_si128` has no alignment
        // requirement; SSE2, which all these intrinsics need, is part of every x86_64 target.
        let bits = unsafe {
            let v = _mm_loadu_si128(part.as_ptr().cast::<__m128i>());
            SET.map(|c| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u32 as u64)
        };
        for (mask, part_bits) in masks.iter_mut().zip(bits) {
            *mask |= part_bits << (16 * k);
        }
    }
    masks
}

/// The bytes of a block that a backslash pair skips (the byte after each backslash that is
/// not itself skipped), given `carry`, whether the block's first byte is skipped by the last
/// backslash of the block before; `carry` is updated for the next block. simdjson's
/// `find_escaped_branchless`: a run of backslashes skips its every other byte from its start,
/// and the byte after it when the run is odd; adding each run's odd start to the run carries
/// past the runs that start on an odd bit, which flips their parity.
#[inline(always)]
fn skipped_bytes(backslash: u64, carry: &mut u64) -> u64 {
    const EVEN_BITS: u64 = 0x5555_5555_5555_5555;
    let backslash = backslash & !*carry;
    let follows = (backslash << 1) | *carry;
    let odd_starts = backslash & !EVEN_BITS & !follows;
    let (even_runs, overflow) = odd_starts.overflowing_add(backslash);
    *carry = u64::from(overflow);
    (EVEN_BITS ^ (even_runs << 1)) & follows
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the fields: a space enters them, a `\n` ends the line.
    Key,
    /// In the fields outside quotes: `=` and `,` are counted, a `"` opens a quote while
    /// `equals > commas`, a `\n` ends the line.
    Fields,
    /// Inside quotes: only a `"` matters (it closes them: `equals > commas` still holds).
    Quoted,
}

/// `scanLine` from `pos`: the index of the `\n` that ends the line (or `buf.len()`) and the
/// number of `\n` bytes inside the line. `buf` is the rest of the body: the last byte of the
/// body is never skipped (Go pairs a backslash only when `i+2 < len(buf)`).
pub(crate) fn scan_line(buf: &[u8], pos: usize) -> (usize, usize) {
    // The counts are `popcount`s, which baseline x86_64 code computes in about fifteen
    // instructions each: the same walk is compiled a second time for the POPCNT instruction,
    // taken when the CPU has it (the detection is cached after the first call).
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has POPCNT, the only feature `scan_line_popcnt` is compiled for.
        return unsafe { scan_line_popcnt(buf, pos) };
    }
    scan_line_walk(buf, pos)
}

/// [`scan_line_walk`] compiled with POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn scan_line_popcnt(buf: &[u8], pos: usize) -> (usize, usize) {
    scan_line_walk(buf, pos)
}

/// The walk of [`scan_line`], inlined into each of its two compilations.
#[inline(always)]
fn scan_line_walk(buf: &[u8], pos: usize) -> (usize, usize) {
    let len = buf.len();
    let mut state = State::Key;
    // `equals - commas` so far.
    let mut balance = 0i64;
    let mut carry = 0u64;
    let mut newlines = 0usize;
    let mut base = pos;
    while base < len {
        let m = BlockMasks::at(buf, base);
        let mut skipped = skipped_bytes(m.backslash, &mut carry);
        if len - base <= 64 {
            // This block holds the body's last byte: no pair can skip it.
            skipped &= !(1u64 << (len - 1 - base));
        }
        let quote = m.quote & !skipped;
        let newline = m.newline & !skipped;
        let space = m.space & !skipped;
        let equals = m.equals & !skipped;
        let comma = m.comma & !skipped;
        // The first bit of the block not walked yet.
        let mut from = 0u32;
        while from < 64 {
            let live = u64::MAX << from;
            let stops = live
                & match state {
                    State::Key => space | newline,
                    State::Fields => quote | newline,
                    State::Quoted => quote,
                };
            if state == State::Fields {
                // The bits walked before the stop (all the rest of the block without one).
                let walked = live & (stops & stops.wrapping_neg()).wrapping_sub(1);
                balance += i64::from((equals & walked).count_ones())
                    - i64::from((comma & walked).count_ones());
            }
            if stops == 0 {
                break;
            }
            let k = stops.trailing_zeros();
            let bit = 1u64 << k;
            if newline & bit != 0 {
                newlines += (m.newline & (bit - 1)).count_ones() as usize;
                return (base + k as usize, newlines);
            }
            state = match state {
                State::Key => State::Fields,
                State::Fields if balance > 0 => State::Quoted,
                State::Fields => State::Fields,
                State::Quoted => State::Fields,
            };
            from = k + 1;
        }
        if m.newline != 0 {
            newlines += m.newline.count_ones() as usize;
        }
        base += 64;
    }
    (len, newlines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The skipped bytes one bit at a time.
    fn skipped_loop(backslash: u64, carry_in: bool) -> (u64, bool) {
        let (mut skipped, mut open) = (0u64, carry_in);
        for k in 0..64 {
            if open {
                skipped |= 1 << k;
                open = false;
            } else if backslash >> k & 1 == 1 {
                open = true;
            }
        }
        (skipped, open)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// The branch-free skipped bytes are the bit loop's, carry in and out, for sparse
        /// and dense backslashes.
        #[test]
        fn skipped_bytes_are_the_bit_loop(
            a in any::<u64>(), b in any::<u64>(), dense in any::<bool>(), carry_in in any::<bool>(),
        ) {
            let backslash = if dense { a | b } else { a & b };
            let mut carry = u64::from(carry_in);
            let skipped = skipped_bytes(backslash, &mut carry);
            let (expected, open) = skipped_loop(backslash, carry_in);
            prop_assert_eq!(skipped, expected);
            prop_assert_eq!(carry == 1, open);
        }

        /// The SSE2 masks are the byte loop's (and, on every target, the SWAR fallback's).
        #[test]
        fn block_masks_are_the_byte_loop(
            chunk in prop::collection::vec(
                prop::sample::select(&b"\\\n\" =,a\x00\xff\x5c\x8a"[..]), 64),
        ) {
            let expected = BlockMasks::from_array(SET.map(|c| {
                (0..64).filter(|&k| chunk[k] == c).fold(0u64, |m, k| m | 1 << k)
            }));
            prop_assert_eq!(BlockMasks::of(&chunk), expected);
            prop_assert_eq!(
                BlockMasks::from_array(SET.map(|c| super::super::delims::swar_mask(&chunk, &[c]))),
                expected
            );
        }
    }

    proptest! {
        /// Both compilations of the walk answer alike (the other tests reach the one this
        /// CPU takes).
        #[test]
        fn both_compilations_agree(
            body in prop::collection::vec(prop::sample::select(&b"\\\"= ,\na"[..]), 0..300),
            pos in 0usize..300,
        ) {
            let pos = pos.min(body.len().saturating_sub(1));
            prop_assume!(pos < body.len());
            prop_assert_eq!(scan_line(&body, pos), scan_line_walk(&body, pos));
        }
    }

    #[test]
    fn a_run_of_backslashes_across_blocks() {
        // 62 bytes, then a run of three backslashes over the block boundary, then a `\n` the
        // run's last backslash skips, then the line's end.
        let mut line = vec![b'a'; 62];
        line.extend_from_slice(b"\\\\\\\nb c=1\nnext");
        let (end, newlines) = scan_line(&line, 0);
        assert_eq!(&line[end..], b"\nnext");
        assert_eq!(newlines, 1);
    }
}
