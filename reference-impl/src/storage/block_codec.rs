//! How a sealed block of (time, value) pairs is laid out in bytes.
//!
//! Times: the first time, the first delta, then the deltas of the deltas (a regular series has
//! all of them 0) either as zigzag varints or frame-of-reference bit-packed (their minimum,
//! then each one's distance from it in as many bits as the largest distance needs: a regular
//! series takes no bits at all), whichever is shorter for the block. Integers and unsigned
//! integers: the values or their deltas, as varints or bit-packed, whichever of the four is
//! shortest. Floats: the varint of their bits XOR the previous value's bits, reversed (a value
//! close to the previous one takes a few bytes). Booleans a bit each, strings with their
//! length, values of several types each with a type byte.
//!
//! Every encoding is exact: decoding gives back the very bits that were encoded, for every
//! i64, u64 and f64 (NaN payloads included). Decoding never panics on short input (the store
//! only decodes what it encoded; missing bytes read as zero).

use crate::model::{FieldType, OwnedFieldValue, ValueColumn};

// ---------------------------------------------------------------------------------------------
// Varints.

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn get_varint(b: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(&byte) = b.get(*at) {
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 || shift >= 63 {
            break;
        }
        shift += 7;
    }
    v
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn varint_len(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).max(1).div_ceil(7)
}

fn get_u64(b: &[u8], at: &mut usize) -> u64 {
    let mut bytes = [0u8; 8];
    let end = at.saturating_add(8).min(b.len());
    let start = (*at).min(end);
    bytes[..end - start].copy_from_slice(&b[start..end]);
    *at = at.saturating_add(8);
    u64::from_le_bytes(bytes)
}

// ---------------------------------------------------------------------------------------------
// Frame of reference: u64 keys stored as their distance from the smallest, `width` bits each.

/// The smallest and largest of some u64 keys, gathered in the pass that also sizes varints.
#[derive(Clone, Copy)]
struct Frame {
    min: u64,
    max: u64,
}

impl Frame {
    const EMPTY: Frame = Frame {
        min: u64::MAX,
        max: 0,
    };

    fn add(&mut self, k: u64) {
        self.min = self.min.min(k);
        self.max = self.max.max(k);
    }

    /// The smallest key (0 when none) and the bits the largest distance from it needs.
    fn min_and_width(self) -> (u64, u32) {
        if self.min > self.max {
            return (0, 0);
        }
        (self.min, 64 - (self.max - self.min).leading_zeros())
    }
}

/// Bytes `n` keys take packed `width` bits each, after their 8-byte minimum and width byte.
fn packed_len(n: usize, width: u32) -> usize {
    9 + (n * width as usize).div_ceil(8)
}

/// The minimum (8 bytes), the width (a byte), then every key's distance from the minimum in
/// `width` bits, least significant bit first; `keys` yields `n` keys.
fn pack(out: &mut Vec<u8>, n: usize, keys: impl Iterator<Item = u64>, min: u64, width: u32) {
    out.extend_from_slice(&min.to_le_bytes());
    out.push(width as u8);
    if width == 0 {
        return;
    }
    let end = out.len() + (n * width as usize).div_ceil(8);
    out.reserve(end - out.len() + 8);
    let mut acc: u128 = 0;
    let mut bits = 0u32;
    for k in keys.take(n) {
        acc |= u128::from(k - min) << bits;
        bits += width;
        if bits >= 64 {
            out.extend_from_slice(&(acc as u64).to_le_bytes());
            acc >>= 64;
            bits -= 64;
        }
    }
    out.extend_from_slice(&(acc as u64).to_le_bytes());
    out.truncate(end);
}

/// Calls `f` with each of `n` keys [`pack`] wrote from `at`; `at` ends after them.
fn unpack(b: &[u8], at: &mut usize, n: usize, mut f: impl FnMut(u64)) {
    let min = get_u64(b, at);
    let width = u32::from(b.get(*at).copied().unwrap_or(0)).min(64);
    *at += 1;
    if width == 0 {
        (0..n).for_each(|_| f(min));
        return;
    }
    let mask = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    let mut acc: u128 = 0;
    let mut bits = 0u32;
    for _ in 0..n {
        while bits < width {
            acc |= u128::from(b.get(*at).copied().unwrap_or(0)) << bits;
            *at += 1;
            bits += 8;
        }
        f(min.wrapping_add(acc as u64 & mask));
        acc >>= width;
        bits -= width;
    }
}

/// An order-preserving map of i64 onto u64 (so that a frame's minimum is the smallest value).
fn signed_key(v: i64) -> u64 {
    (v as u64) ^ (1 << 63)
}

fn from_signed_key(k: u64) -> i64 {
    (k ^ (1 << 63)) as i64
}

// ---------------------------------------------------------------------------------------------
// Times.

const VARINTS: u8 = 0;
const PACKED: u8 = 1;
const DELTA_VARINTS: u8 = 2;
const DELTA_PACKED: u8 = 3;

/// The deltas of the deltas of `times` from the third time on (wrapping, like every delta
/// here: decoding wraps back).
fn delta_of_deltas(times: &[i64]) -> impl Iterator<Item = i64> + '_ {
    times.windows(3).map(|w| {
        w[2].wrapping_sub(w[1])
            .wrapping_sub(w[1].wrapping_sub(w[0]))
    })
}

pub fn encode_times(times: &[i64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    let Some(&first) = times.first() else {
        return out;
    };
    put_varint(&mut out, zigzag(first));
    if let Some(&second) = times.get(1) {
        put_varint(&mut out, zigzag(second.wrapping_sub(first)));
    }
    if times.len() < 3 {
        return out;
    }
    let (mut varints, mut frame) = (0usize, Frame::EMPTY);
    for d in delta_of_deltas(times) {
        varints += varint_len(zigzag(d));
        frame.add(signed_key(d));
    }
    let (min, width) = frame.min_and_width();
    if packed_len(times.len() - 2, width) < 1 + varints {
        out.push(PACKED);
        pack(
            &mut out,
            times.len() - 2,
            delta_of_deltas(times).map(signed_key),
            min,
            width,
        );
    } else {
        out.push(VARINTS);
        for d in delta_of_deltas(times) {
            put_varint(&mut out, zigzag(d));
        }
    }
    out
}

pub fn decode_times(b: &[u8], len: usize) -> Vec<i64> {
    let mut out = Vec::with_capacity(len);
    let mut at = 0;
    if len == 0 {
        return out;
    }
    let first = unzigzag(get_varint(b, &mut at));
    out.push(first);
    if len == 1 {
        return out;
    }
    let mut delta = unzigzag(get_varint(b, &mut at));
    let mut prev = first.wrapping_add(delta);
    out.push(prev);
    let mut next = |dod: i64| {
        delta = delta.wrapping_add(dod);
        prev = prev.wrapping_add(delta);
        out.push(prev);
    };
    let mode = b.get(at).copied().unwrap_or(VARINTS);
    at += 1;
    if mode == PACKED {
        unpack(b, &mut at, len - 2, |k| next(from_signed_key(k)));
    } else {
        for _ in 2..len {
            next(unzigzag(get_varint(b, &mut at)));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Integers (unsigned ones as their bits).

/// The shortest of four layouts, after a byte that names it: the values or their deltas
/// (from 0), as varints (signed values zigzagged) or bit-packed (signed values as order-
/// preserving keys; deltas always signed).
fn encode_ints(out: &mut Vec<u8>, values: &[i64], signed: bool) {
    let key = |v: i64| if signed { signed_key(v) } else { v as u64 };
    let code = |v: i64| if signed { zigzag(v) } else { v as u64 };
    let deltas = || {
        values.iter().scan(0i64, |prev, &v| {
            Some(v.wrapping_sub(std::mem::replace(prev, v)))
        })
    };
    // One pass sizes all four layouts.
    let (mut plain_varints, mut delta_varints) = (0usize, 0usize);
    let (mut plain, mut delta) = (Frame::EMPTY, Frame::EMPTY);
    let mut prev = 0i64;
    for &v in values {
        let d = v.wrapping_sub(prev);
        prev = v;
        plain_varints += varint_len(code(v));
        delta_varints += varint_len(zigzag(d));
        plain.add(key(v));
        delta.add(signed_key(d));
    }
    let n = values.len();
    let (plain, delta) = (plain.min_and_width(), delta.min_and_width());
    let sizes = [
        (VARINTS, plain_varints),
        (PACKED, packed_len(n, plain.1)),
        (DELTA_VARINTS, delta_varints),
        (DELTA_PACKED, packed_len(n, delta.1)),
    ];
    let mode = sizes
        .iter()
        .min_by_key(|(_, size)| *size)
        .map_or(VARINTS, |(mode, _)| *mode);
    out.push(mode);
    match mode {
        PACKED => pack(out, n, values.iter().map(|&v| key(v)), plain.0, plain.1),
        DELTA_VARINTS => deltas().for_each(|d| put_varint(out, zigzag(d))),
        DELTA_PACKED => pack(out, n, deltas().map(signed_key), delta.0, delta.1),
        _ => values.iter().for_each(|&v| put_varint(out, code(v))),
    }
}

fn decode_ints(b: &[u8], len: usize, signed: bool) -> Vec<i64> {
    let mut out = Vec::with_capacity(len);
    let Some(&mode) = b.first() else {
        return out;
    };
    let mut at = 1;
    let mut prev = 0i64;
    match mode {
        PACKED => unpack(b, &mut at, len, |k| {
            out.push(if signed { from_signed_key(k) } else { k as i64 })
        }),
        DELTA_PACKED => unpack(b, &mut at, len, |k| {
            prev = prev.wrapping_add(from_signed_key(k));
            out.push(prev);
        }),
        DELTA_VARINTS => {
            for _ in 0..len {
                prev = prev.wrapping_add(unzigzag(get_varint(b, &mut at)));
                out.push(prev);
            }
        }
        _ => {
            for _ in 0..len {
                let raw = get_varint(b, &mut at);
                out.push(if signed { unzigzag(raw) } else { raw as i64 });
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Floats, strings, booleans, mixed values.

fn encode_floats(out: &mut Vec<u8>, values: &[f64]) {
    let mut prev = 0u64;
    for v in values {
        let bits = v.to_bits();
        put_varint(out, (bits ^ prev).reverse_bits());
        prev = bits;
    }
}

fn decode_floats(b: &[u8], len: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(len);
    let mut at = 0;
    let mut prev = 0u64;
    for _ in 0..len {
        let bits = get_varint(b, &mut at).reverse_bits() ^ prev;
        out.push(f64::from_bits(bits));
        prev = bits;
    }
    out
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn decode_bytes(b: &[u8], at: &mut usize) -> Vec<u8> {
    let n = get_varint(b, at) as usize;
    let end = at.saturating_add(n).min(b.len());
    let s = b[(*at).min(end)..end].to_vec();
    *at = end;
    s
}

/// One value of a mixed block: a type byte, then the value.
fn encode_mixed(out: &mut Vec<u8>, v: &OwnedFieldValue) {
    match v {
        OwnedFieldValue::Float(f) => {
            out.push(0);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        OwnedFieldValue::Integer(i) => {
            out.push(1);
            put_varint(out, zigzag(*i));
        }
        OwnedFieldValue::Unsigned(u) => {
            out.push(2);
            put_varint(out, *u);
        }
        OwnedFieldValue::String(s) => {
            out.push(3);
            encode_bytes(out, s);
        }
        OwnedFieldValue::Boolean(x) => {
            out.push(4);
            out.push(u8::from(*x));
        }
    }
}

fn decode_mixed(b: &[u8], at: &mut usize) -> OwnedFieldValue {
    let tag = b.get(*at).copied().unwrap_or(4);
    *at += 1;
    match tag {
        0 => OwnedFieldValue::Float(f64::from_bits(get_u64(b, at))),
        1 => OwnedFieldValue::Integer(unzigzag(get_varint(b, at))),
        2 => OwnedFieldValue::Unsigned(get_varint(b, at)),
        3 => OwnedFieldValue::String(decode_bytes(b, at)),
        _ => {
            let x = b.get(*at).copied().unwrap_or(0) != 0;
            *at += 1;
            OwnedFieldValue::Boolean(x)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Columns.

/// Appends `values` encoded to `out`; the type of every value, or `None` for several types.
pub fn encode_column(out: &mut Vec<u8>, values: &ValueColumn) -> Option<FieldType> {
    match values {
        ValueColumn::Float(v) => {
            encode_floats(out, v);
            Some(FieldType::Float)
        }
        ValueColumn::Integer(v) => {
            encode_ints(out, v, true);
            Some(FieldType::Integer)
        }
        ValueColumn::Unsigned(v) => {
            let bits: Vec<i64> = v.iter().map(|&u| u as i64).collect();
            encode_ints(out, &bits, false);
            Some(FieldType::Unsigned)
        }
        ValueColumn::Boolean(v) => {
            for chunk in v.chunks(8) {
                out.push(
                    chunk
                        .iter()
                        .enumerate()
                        .fold(0u8, |acc, (i, &b)| acc | (u8::from(b) << i)),
                );
            }
            Some(FieldType::Boolean)
        }
        ValueColumn::String(v) => {
            for s in v {
                encode_bytes(out, s);
            }
            Some(FieldType::String)
        }
        ValueColumn::Mixed(v) => {
            for x in v {
                encode_mixed(out, x);
            }
            None
        }
    }
}

/// The `len` values [`encode_column`] wrote as `b` for type `ty`.
pub fn decode_column(b: &[u8], len: usize, ty: Option<FieldType>) -> ValueColumn {
    match ty {
        Some(FieldType::Float) => ValueColumn::Float(decode_floats(b, len)),
        Some(FieldType::Integer) => ValueColumn::Integer(decode_ints(b, len, true)),
        Some(FieldType::Unsigned) => ValueColumn::Unsigned(
            decode_ints(b, len, false)
                .into_iter()
                .map(|v| v as u64)
                .collect(),
        ),
        Some(FieldType::Boolean) => ValueColumn::Boolean(
            (0..len)
                .map(|i| b.get(i / 8).is_some_and(|byte| byte >> (i % 8) & 1 == 1))
                .collect(),
        ),
        Some(FieldType::String) => {
            let mut at = 0;
            ValueColumn::String((0..len).map(|_| decode_bytes(b, &mut at)).collect())
        }
        None => {
            let mut at = 0;
            ValueColumn::Mixed((0..len).map(|_| decode_mixed(b, &mut at)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ints_round_trip(values: &[i64], signed: bool) -> Vec<i64> {
        let mut out = Vec::new();
        encode_ints(&mut out, values, signed);
        decode_ints(&out, values.len(), signed)
    }

    #[test]
    fn a_regular_series_packs_its_times_in_no_bits() {
        let times: Vec<i64> = (0..256)
            .map(|i| 1_700_000_000_000_000_000 + i * 10_000_000_000)
            .collect();
        let b = encode_times(&times);
        // First time, first delta, the mode byte, the minimum and the width: nothing per value.
        assert!(b.len() <= 24, "{} bytes", b.len());
        assert_eq!(decode_times(&b, times.len()), times);
    }

    #[test]
    fn a_gap_in_a_regular_series_keeps_varints() {
        let mut times: Vec<i64> = (0..256).map(|i| i * 10).collect();
        for t in &mut times[100..] {
            *t += 3_600_000_000_000;
        }
        let b = encode_times(&times);
        // The first time (0) and delta (10) take a byte each; then the mode.
        assert_eq!(b[2], VARINTS);
        assert_eq!(decode_times(&b, times.len()), times);
    }

    #[test]
    fn small_integers_pack_in_seven_bits() {
        let values: Vec<i64> = (0..256).map(|i| (i * 37) % 101).collect();
        let mut out = Vec::new();
        encode_ints(&mut out, &values, true);
        assert_eq!(out[0], PACKED);
        assert_eq!(out.len(), 1 + packed_len(256, 7));
        assert_eq!(decode_ints(&out, 256, true), values);
    }

    #[test]
    fn extremes_round_trip_in_every_layout() {
        let extremes = [i64::MIN, i64::MAX, 0, -1, 1, i64::MIN + 1, i64::MAX - 1];
        for signed in [true, false] {
            assert_eq!(ints_round_trip(&extremes, signed), extremes);
            assert_eq!(ints_round_trip(&[i64::MIN; 5], signed), [i64::MIN; 5]);
            assert_eq!(ints_round_trip(&[], signed), Vec::<i64>::new());
        }
        let times = [i64::MIN, i64::MAX, i64::MIN, 0, i64::MAX, -1];
        assert_eq!(decode_times(&encode_times(&times), times.len()), times);
    }

    #[test]
    fn short_input_decodes_without_panicking() {
        let values: Vec<i64> = (0..100).map(|i| i * i).collect();
        let mut out = Vec::new();
        encode_ints(&mut out, &values, true);
        for cut in 0..out.len() {
            let _ = decode_ints(&out[..cut], values.len(), true);
        }
        let times = encode_times(&values);
        for cut in 0..times.len() {
            let _ = decode_times(&times[..cut], values.len());
        }
    }

    proptest! {
        #[test]
        fn integers_round_trip(values in proptest::collection::vec(any::<i64>(), 0..300),
                               small in proptest::collection::vec(-1000i64..1000, 0..300),
                               signed in any::<bool>()) {
            prop_assert_eq!(ints_round_trip(&values, signed), values);
            prop_assert_eq!(ints_round_trip(&small, signed), small);
        }

        #[test]
        fn times_round_trip(start in any::<i64>(),
                            steps in proptest::collection::vec(prop_oneof![Just(10i64), -3i64..3, any::<i64>()], 0..300)) {
            let times: Vec<i64> = steps
                .iter()
                .scan(start, |t, s| { *t = t.wrapping_add(*s); Some(*t) })
                .collect();
            prop_assert_eq!(decode_times(&encode_times(&times), times.len()), times);
        }
    }
}
