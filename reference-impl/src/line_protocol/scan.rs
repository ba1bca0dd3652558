//! The scanner: a faithful port of `ParsePointsWithPrecision`, `scanLine`, `parsePoint`,
//! `scanKey`, `scanFields`, `walkFields`, `scanNumber`, `scanBoolean` and `scanTime` from
//! `models/points.go`, with fast paths that give the same answers.
//!
//! Go's scanners disagree with each other on escapes in a few places, and the model keeps
//! every disagreement:
//! * `scanMeasurement`, `scanTagsKey`, `scanTagsValue` and `scanTo` treat a delimiter as
//!   escaped when the *previous byte* is a backslash (so in `a\\ b` the space is escaped);
//! * `scanFields` and `scanLine` skip a backslash *and the byte after it* (pairs);
//! * `scanFieldValue` (used by `walkFields` and the field iterator that stores values) pairs
//!   only `\"` and `\\`.
//!
//! The stored field keys and values are the ones `walkFields`/`fieldIterator` cut out of the
//! fields block, not the ones `scanFields` validated. When the fields block has no `"` and no
//! `\` the two agree exactly (each `=` ends a key and each value ends at `,`), which is the
//! fast path; otherwise the block is walked again the way Go walks it.
//!
//! Fast paths, each checked against the literal code by a property test (`tests.rs`):
//! * `scanLine` is one `memchr3('\n', '"', '\\')` unless a quote or backslash comes first;
//!   otherwise it stops only where its state can change, found in 64-byte masks that already
//!   leave out the bytes backslash pairs skip ([`super::line_end`]);
//! * a line without `"` and `\` ("plain") is parsed by the `PLAIN` instantiation of
//!   [`parse_point_as`], with the escape and quote branches compiled out;
//! * every delimiter of a line comes from 64-byte masks of its `,` `=` and spaces, and (not
//!   plain) its `\` and `"` ([`super::delims`]); the walk's searches go sixteen bytes at a time
//!   (SSE2) or eight (SWAR); digits are read eight at a time;
//! * the tag order of the previous line is reused while lines repeat its tag keys, and a key
//!   scanned before is taken from [`super::key_cache`];
//! * a lent point's unescaped buffers serve the next line's ([`super::escape::SpareBuffers`]),
//!   and where the walk cuts a field exactly as `scanFields` did, the number or boolean
//!   `scanFields` decoded is kept rather than decoded again.

use std::borrow::Cow;

use super::delims::Delims;
use super::escape::{
    unescape_in, unescape_string_in, SpareBuffers, FIELD_KEY_MASK, MEASUREMENT_MASK, TAG_MASK,
};
use super::key_cache::{self, PooledKeyCache};
use super::line_end;
use super::reason::{
    go_quote, Reason, ReservedTagKey, MAX_KEY_LENGTH, MAX_NANO_TIME, MIN_NANO_TIME,
};
use super::{Field, FieldValue, LineError, PointRef, Tag};

/// Byte classes for the table-driven loops.
const fn table(bytes: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

static T_BACKSLASH: [bool; 256] = table(b"\\");
static T_EQUALS: [bool; 256] = table(b"=");

/// The first backslash at or after `i` ([`find`]: short tokens are most of what is searched,
/// where a call into `memchr` costs more than the search).
#[inline]
pub(crate) fn find_backslash(buf: &[u8], i: usize) -> Option<usize> {
    find(buf, i, &T_BACKSLASH, b"\\")
}

/// What `scanFieldValue` reacts to.
static T_FIELD_VALUE: [bool; 256] = table(b"\\\",");
const S_FIELD_VALUE: &[u8] = b"\\\",";

/// First index `>= i` whose byte is in `t` (the same set as `set`): sixteen bytes at a time
/// with SSE2 on x86_64, then eight at a time (SWAR), then byte by byte for the tail.
#[inline(always)]
fn find(buf: &[u8], mut i: usize, t: &[bool; 256], set: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(found) = sse2::find16(buf, &mut i, set) {
        return Some(found);
    }
    while let Some(chunk) = buf.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let mut hits = 0u64;
        for &c in set {
            let y = x ^ (LO * u64::from(c));
            hits |= y.wrapping_sub(LO) & !y;
        }
        hits &= HI;
        // The lowest flagged byte is always a true match (false positives of this test only
        // appear above a true match), and little-endian puts the first byte lowest.
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while let Some(&b) = buf.get(i) {
        if t[b as usize] {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_setzero_si128,
    };

    /// [`super::classify_line`] over the whole sixteen-byte chunks of `rest`: the answer when
    /// a chunk holds a `\n`, `"` or `\\`; otherwise the index of the first byte not looked at
    /// and whether a control byte or a high byte came before it.
    #[inline]
    pub(super) fn classify16(rest: &[u8]) -> Result<Option<super::LineClass>, (usize, bool, bool)> {
        // SAFETY: the one load reads 16 bytes of a chunk `get` returned, and
        // `_mm_loadu_si128` has no alignment requirement; SSE2, which all these intrinsics
        // need, is part of every x86_64 target.
        unsafe {
            // The control and high bytes are gathered as vectors over the chunks before the
            // stop byte's chunk: one mask per chunk (the stop test) instead of three.
            let (mut low_acc, mut high_acc) = (_mm_setzero_si128(), _mm_setzero_si128());
            let mut i = 0;
            while let Some(chunk) = rest.get(i..i + 16) {
                let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
                let stop = _mm_or_si128(
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)),
                    _mm_or_si128(
                        _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8)),
                        _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)),
                    ),
                );
                let stop = _mm_movemask_epi8(stop) as u32;
                // b <= 0x1F exactly when min(b, 0x1F) == b (unsigned); DEL is 0x7F.
                let control = _mm_or_si128(
                    _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v),
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)),
                );
                if stop != 0 {
                    let at = stop.trailing_zeros();
                    // Only the bytes before the stop byte count (a `\n` is a control byte).
                    let before = (1u32 << at) - 1;
                    let ctl = _mm_movemask_epi8(control) as u32 & before;
                    // The sign bit of each byte is its high bit.
                    let hi = _mm_movemask_epi8(v) as u32 & before;
                    let len = i + at as usize;
                    return Ok((rest[len] == b'\n').then_some(super::LineClass {
                        len,
                        newline: true,
                        control: ctl != 0 || _mm_movemask_epi8(low_acc) != 0,
                        high: hi != 0 || _mm_movemask_epi8(high_acc) != 0,
                    }));
                }
                low_acc = _mm_or_si128(low_acc, control);
                high_acc = _mm_or_si128(high_acc, v);
                i += 16;
            }
            Err((
                i,
                _mm_movemask_epi8(low_acc) != 0,
                _mm_movemask_epi8(high_acc) != 0,
            ))
        }
    }

    /// The first index `>= *i` whose byte is in `set`, looking sixteen bytes at a time while
    /// sixteen remain; when none is found `*i` is left at the first byte not looked at.
    #[inline(always)]
    pub(super) fn find16(buf: &[u8], i: &mut usize, set: &[u8]) -> Option<usize> {
        while let Some(chunk) = buf.get(*i..*i + 16) {
            // SAFETY: `chunk` is 16 readable bytes and `_mm_loadu_si128` has no alignment
            // requirement; SSE2, which all these intrinsics need, is part of every x86_64 target.
            let mask = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
                let mut hits = _mm_setzero_si128();
                for &c in set {
                    hits = _mm_or_si128(hits, _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)));
                }
                _mm_movemask_epi8(hits) as u32
            };
            if mask != 0 {
                return Some(*i + mask.trailing_zeros() as usize);
            }
            *i += 16;
        }
        None
    }
}

/// What the Cloud decoder's fast path needs to know of the line at the start of `rest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineClass {
    /// Length of the line without its `\n`.
    pub len: usize,
    /// A `\n` ends the line (otherwise the line runs to the end of `rest`).
    pub newline: bool,
    /// The line holds a control byte (0x00-0x1F or 0x7F).
    pub control: bool,
    /// The line holds a byte of 0x80 or above.
    pub high: bool,
}

/// The line at the start of `rest` (up to the first `\n`) classified in one pass, or `None`
/// when a `"` or `\\` comes before the first `\n`: sixteen bytes at a time with SSE2 on
/// x86_64, byte by byte for the rest. The same answer as `memchr3('\n', '"', '\\')` followed
/// by a look at every byte of the line (`tests.rs` compares them), in one pass instead of two.
pub(crate) fn classify_line(rest: &[u8]) -> Option<LineClass> {
    #[cfg(target_arch = "x86_64")]
    let (mut i, mut control, mut high) = match sse2::classify16(rest) {
        Ok(answer) => return answer,
        Err(state) => state,
    };
    #[cfg(not(target_arch = "x86_64"))]
    let (mut i, mut control, mut high) = (0, false, false);
    while let Some(&b) = rest.get(i) {
        match b {
            b'\n' => {
                return Some(LineClass {
                    len: i,
                    newline: true,
                    control,
                    high,
                })
            }
            b'"' | b'\\' => return None,
            _ => {}
        }
        control |= b < 0x20 || b == 0x7f;
        high |= b >= 0x80;
        i += 1;
    }
    Some(LineClass {
        len: rest.len(),
        newline: false,
        control,
        high,
    })
}

/// `skipWhitespace`: spaces, tabs and NUL bytes.
#[inline]
pub(crate) fn skip_whitespace(buf: &[u8], mut i: usize) -> usize {
    while let Some(&b) = buf.get(i) {
        if b != b' ' && b != b'\t' && b != 0 {
            break;
        }
        i += 1;
    }
    i
}

/// `scanLine`: the end of the line that starts at `pos` (the index of the terminating `\n`, or
/// `buf.len()`), how many `\n` bytes lie inside it, and whether it is plain (holds no `"` and
/// no `\\`).
#[inline]
fn scan_line(buf: &[u8], pos: usize) -> (usize, usize, bool) {
    let rest = &buf[pos..];
    match memchr::memchr3(b'\n', b'"', b'\\', rest) {
        None => (buf.len(), 0, true),
        // No quote and no backslash before the newline: Go's loop cannot be quoted or skip it.
        Some(off) if rest[off] == b'\n' => (pos + off, 0, true),
        Some(_) => {
            let (end, newlines) = line_end::scan_line(buf, pos);
            (end, newlines, false)
        }
    }
}

/// A number or boolean as the scanner decoded it: a [`FieldValue`] without a string, kept as
/// two words. The hot loop stores these plain words; building the `Field` enum there made the
/// compiler assemble it on the stack and copy it with wider loads than its stores, which stalls
/// store forwarding (a tenth of the cpu-only profile). The enum is built once, in place, when
/// the point's vector is collected.
#[derive(Clone, Copy)]
struct Scanned {
    kind: ScannedKind,
    bits: u64,
}

#[derive(Clone, Copy)]
enum ScannedKind {
    Float,
    Integer,
    Unsigned,
    Boolean,
}

impl Scanned {
    #[inline(always)]
    fn float(v: f64) -> Self {
        Self {
            kind: ScannedKind::Float,
            bits: v.to_bits(),
        }
    }
    #[inline(always)]
    fn integer(v: i64) -> Self {
        Self {
            kind: ScannedKind::Integer,
            bits: v as u64,
        }
    }
    #[inline(always)]
    fn unsigned(v: u64) -> Self {
        Self {
            kind: ScannedKind::Unsigned,
            bits: v,
        }
    }
    #[inline(always)]
    fn boolean(v: bool) -> Self {
        Self {
            kind: ScannedKind::Boolean,
            bits: u64::from(v),
        }
    }
    #[inline(always)]
    fn value<'a>(self) -> FieldValue<'a> {
        match self.kind {
            ScannedKind::Float => FieldValue::Float(f64::from_bits(self.bits)),
            ScannedKind::Integer => FieldValue::Integer(self.bits as i64),
            ScannedKind::Unsigned => FieldValue::Unsigned(self.bits),
            ScannedKind::Boolean => FieldValue::Boolean(self.bits != 0),
        }
    }
}

/// A field of a simple fields block: its key's span and its value.
#[derive(Clone, Copy)]
struct SimpleField {
    key_start: usize,
    key_end: usize,
    /// Where the value's scanner stopped.
    value_end: usize,
    value: Scanned,
}

#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct TagSpan {
    /// [`key_prefix`] of the key, for sorting.
    pub(crate) prefix: u128,
    pub(crate) key_start: usize,
    pub(crate) key_end: usize,
    pub(crate) value_start: usize,
    pub(crate) value_end: usize,
}

/// Spans reused from line to line.
#[derive(Default)]
pub(crate) struct Scratch {
    tags: Vec<TagSpan>,
    /// The fields `scanFields` decoded while the block was simple.
    simple_fields: Vec<SimpleField>,
    /// `(key_start, key_end, value_start, value_end)` as `walkFields` cuts them.
    walked: Vec<(usize, usize, usize, usize)>,
    /// The tag order of a previous line, reused while lines repeat its tag keys.
    sort_cache: SortCache,
    /// Spare buffer for permuting spans.
    sorted: Vec<TagSpan>,
    /// Keys scanned before (in this body or, through the pool, in earlier ones), and their
    /// scans.
    key_cache: PooledKeyCache,
    /// Tests: always take the `walkFields` path, to compare it with the fast path.
    #[cfg(test)]
    pub(crate) force_walk: bool,
}

impl Scratch {
    /// Scratch whose key cache comes from the pool (parses of whole bodies; tests take
    /// `default()`, an empty cache, to parse a line alone).
    pub(crate) fn pooled() -> Self {
        Self {
            key_cache: PooledKeyCache::take(),
            ..Self::default()
        }
    }
}

/// Lines of more tags than this are not cached by [`SortCache`]: lines that repeat a tag order
/// have a few tags, and a cached line of 400,000 tags cost ~90 bytes a tag more while parsed.
const MAX_CACHED_TAGS: usize = 256;

/// The raw tag keys of a line (in input order) that sorted without duplicates, and the order
/// they sorted into. Lines usually repeat the same tag keys in the same order (every line of a
/// series does); for those the sort is a lookup. The cache holds the keys by value (prefix,
/// length and the bytes past the prefix), so a hit means the very same key sequence.
#[derive(Default)]
struct SortCache {
    keys: Vec<(u128, usize)>,
    tails: Vec<u8>,
    order: Vec<usize>,
    /// The keys were already in order (`order` is `0..n`): nothing to permute.
    identity: bool,
}

impl SortCache {
    fn matches(&self, buf: &[u8], tags: &[TagSpan]) -> bool {
        if self.keys.len() != tags.len() || tags.is_empty() {
            return false;
        }
        let mut tail_at = 0;
        for (t, &(prefix, len)) in tags.iter().zip(&self.keys) {
            if t.prefix != prefix || t.key_end - t.key_start != len {
                return false;
            }
            if len > 16 {
                let tail = &buf[t.key_start + 16..t.key_end];
                if self.tails.get(tail_at..tail_at + tail.len()) != Some(tail) {
                    return false;
                }
                tail_at += tail.len();
            }
        }
        true
    }

    fn store(&mut self, buf: &[u8], unsorted: &[TagSpan], sorted: &[TagSpan]) {
        self.keys.clear();
        self.tails.clear();
        self.order.clear();
        for t in unsorted {
            let len = t.key_end - t.key_start;
            self.keys.push((t.prefix, len));
            if len > 16 {
                self.tails
                    .extend_from_slice(&buf[t.key_start + 16..t.key_end]);
            }
        }
        // Positions in the input of the sorted keys: key starts are unique and increase in
        // input order, so each is found by a binary search (a linear one was quadratic in a
        // line of many tags).
        for t in sorted {
            if let Ok(k) = unsorted.binary_search_by_key(&t.key_start, |u| u.key_start) {
                self.order.push(k);
            }
        }
        self.identity = self.order.len() == unsorted.len()
            && self.order.iter().enumerate().all(|(i, &k)| i == k);
    }
}

#[cfg(test)]
pub(crate) fn scan_line_for_tests(buf: &[u8], pos: usize) -> (usize, usize) {
    let (end, newlines, _) = scan_line(buf, pos);
    (end, newlines)
}

/// The parse of one line, without its position; its tags and fields are in the
/// [`PointParts`] the parse was given.
pub(crate) struct Parsed<'a> {
    /// Length of the series key (measurement and tags) at the start of the line.
    pub key_len: usize,
    pub timestamp: Option<i64>,
    /// Ties the answer to the line it was parsed from.
    line: std::marker::PhantomData<&'a [u8]>,
}

/// The tags and fields of the line last parsed: filled by [`parse_point_as`], which clears
/// them first, so that one pair of vectors serves every line of a body (a line then costs no
/// allocation unless a consumer keeps its point). Only meaningful after an `Ok` parse.
#[derive(Debug, Default)]
pub(crate) struct PointParts<'a> {
    pub measurement: Cow<'a, [u8]>,
    pub tags: Vec<Tag<'a>>,
    pub fields: Vec<Field<'a>>,
    /// The unescaped buffers of the previous line's tags and fields, for this line's.
    spare: SpareBuffers,
    /// Whether the line may hold an unescaped (owned) part: only a line with a backslash can.
    unescaped: bool,
}

impl PointParts<'_> {
    /// Empties the vectors for the next line, keeping the buffers of what was unescaped.
    #[inline]
    fn reset(&mut self) {
        if self.unescaped {
            self.spare.give(&mut self.measurement);
            for tag in &mut self.tags {
                self.spare.give(&mut tag.key);
                self.spare.give(&mut tag.value);
            }
            for field in &mut self.fields {
                self.spare.give(&mut field.key);
                if let FieldValue::String(text) = &mut field.value {
                    self.spare.give(text);
                }
            }
            self.tags.clear();
            self.fields.clear();
        } else {
            // SAFETY: a length of 0 is within any capacity and leaves no element exposed. The
            // elements are not dropped: a line without a backslash borrows every name, key
            // and value from the body, so there is nothing to drop (`clear` would walk the
            // vectors to find that out: 5% of a plain line's instructions).
            unsafe {
                self.tags.set_len(0);
                self.fields.set_len(0);
            }
        }
    }
}

/// `ParsePointsWithPrecision` without the collection: calls back for every line in order,
/// lending each point its tags and fields in `parts` (reused for the next line).
pub(crate) fn parse_lines<'a>(
    body: &'a [u8],
    multiplier: i64,
    on_point: &mut impl FnMut(PointRef<'_, 'a>),
    on_error: &mut impl FnMut(LineError<'a>),
) {
    let mut scratch = Scratch::pooled();
    let mut parts = PointParts::default();
    let mut pos = 0usize;
    let mut line_number = 1usize;
    while pos < body.len() {
        let (end, inner_newlines, plain) = scan_line(body, pos);
        let mut block = &body[pos..end];
        let this_line = line_number;
        line_number += inner_newlines + 1;
        pos = end + 1;

        if block.is_empty() {
            continue;
        }
        let start = skip_whitespace(block, 0);
        if start >= block.len() || block[start] == b'#' {
            continue;
        }
        if block.last() == Some(&b'\n') {
            block = &block[..block.len() - 1];
        }
        let line = block.get(start..).unwrap_or_default();
        // A line that is not plain holds a quote or a backslash: `scan_line` found one.
        let parsed = if plain {
            parse_point_as::<true>(line, multiplier, &mut scratch, &mut parts)
        } else {
            parse_point_as::<false>(line, multiplier, &mut scratch, &mut parts)
        };
        match parsed {
            Ok(p) => on_point(PointRef::new(
                line,
                this_line,
                line.get(..p.key_len).unwrap_or_default(),
                p.timestamp,
                &mut parts,
            )),
            Err(reason) => on_error(LineError {
                line,
                line_number: this_line,
                reason,
            }),
        }
    }
}

/// The point of one line exactly as [`parse_lines`] cut it (its leading whitespace stripped,
/// no newline after it), owned; `None` when it does not parse. The line is not cut again:
/// `scanLine` counts quotes only from a line's first space on, so a line that followed
/// leading whitespace (` ="m⏎mm m=1` is one line) could end elsewhere when cut alone.
pub(crate) fn parse_cut_line(
    line: &[u8],
    line_number: usize,
    multiplier: i64,
) -> Option<crate::line_protocol::Point<'_>> {
    let mut scratch = Scratch::pooled();
    let mut parts = PointParts::default();
    let p = parse_point_either(line, multiplier, &mut scratch, &mut parts).ok()?;
    let raw_key = line.get(..p.key_len).unwrap_or_default();
    Some(PointRef::new(line, line_number, raw_key, p.timestamp, &mut parts).into_point())
}

/// `parsePoint` for one line (leading whitespace already stripped), choosing the instantiation
/// itself, with its tags and fields returned (tests; `parse_lines` knows from `scan_line`
/// whether the line is plain).
#[cfg(test)]
#[allow(clippy::type_complexity)]
pub(crate) fn parse_point<'a>(
    buf: &'a [u8],
    multiplier: i64,
    s: &mut Scratch,
) -> Result<(Cow<'a, [u8]>, Vec<Tag<'a>>, Vec<Field<'a>>, Option<i64>), Reason> {
    let mut parts = PointParts::default();
    let p = parse_point_either(buf, multiplier, s, &mut parts)?;
    Ok((parts.measurement, parts.tags, parts.fields, p.timestamp))
}

/// [`parse_point_as`] with the instantiation chosen by whether `buf` holds a quote or a
/// backslash (for a line no `scan_line` has looked at).
fn parse_point_either<'a>(
    buf: &'a [u8],
    multiplier: i64,
    s: &mut Scratch,
    out: &mut PointParts<'a>,
) -> Result<Parsed<'a>, Reason> {
    if memchr::memchr2(b'"', b'\\', buf).is_none() {
        parse_point_as::<true>(buf, multiplier, s, out)
    } else {
        parse_point_as::<false>(buf, multiplier, s, out)
    }
}

/// `parsePoint`. With `PLAIN` the caller guarantees that `buf` holds no `"` and no `\`, so
/// no escape, quote or `walkFields` disagreement can occur and those branches are compiled
/// out; the answers are the same (a property test compares both instantiations).
pub(crate) fn parse_point_as<'a, const PLAIN: bool>(
    buf: &'a [u8],
    multiplier: i64,
    s: &mut Scratch,
    out: &mut PointParts<'a>,
) -> Result<Parsed<'a>, Reason> {
    // ---- scanKey / scanMeasurement
    if buf.first().is_none_or(|&b| b == b',') {
        return Err(Reason::MissingMeasurement);
    }
    // The scanners find every byte they react to in the line's masks ([`Delims`]).
    let mut delims = Delims::<PLAIN>::new(buf);
    // A line whose key (the bytes before its first unescaped space) scanned before takes
    // that scan ([`KeyCache`]: same bytes, same spans, same order).
    let key_hit = key_cache::key_end(buf).and_then(|end| s.key_cache.get(&buf[..end]));
    let (measurement_end, key_end, permuted, cached) = match key_hit {
        Some((scan, sorted)) => (scan.measurement_end, scan.key_end, false, Some(sorted)),
        None => {
            let mut i = 1;
            let (has_tags, measurement_end) = loop {
                let found = delims.next_comma_or_space(i);
                match found {
                    None => return Err(Reason::MissingFields),
                    Some(j) if !PLAIN && buf[j - 1] == b'\\' => i = j + 1,
                    Some(j) => break (buf[j] == b',', j),
                }
            };

            // ---- scanTags
            s.tags.clear();
            let key_end = if has_tags {
                scan_tags::<PLAIN>(buf, measurement_end + 1, &mut s.tags, &mut delims)?
            } else {
                measurement_end
            };

            // Reserved tag keys (v2 `scanKey`: checked before the sort, in input order).
            for t in &s.tags {
                // All five reserved keys start with one of these bytes.
                if matches!(buf[t.key_start], b't' | b'_' | 0 | 0xff) {
                    if let Some(reserved) = ReservedTagKey::from_raw(&buf[t.key_start..t.key_end]) {
                        return Err(Reason::ReservedTagKey(reserved));
                    }
                }
            }

            // Sortedness and duplicates, on the raw (escaped) keys as Go compares them.
            let cache_hit = s.sort_cache.matches(buf, &s.tags);
            // On a hit with a permutation, `s.tags` stays in input order and the point's tags are
            // built in the cached order below (no copy of the spans into series-key order first).
            let permuted = cache_hit && !s.sort_cache.identity;
            if !cache_hit && !s.tags.is_empty() {
                if s.tags.len() > MAX_CACHED_TAGS {
                    // A line of many tags is sorted on its own: caching its order cost more memory
                    // than its spans (a copy, the keys and the order: ~90 bytes a tag).
                    sort_tags(buf, &mut s.tags)?;
                } else {
                    s.sorted.clear();
                    s.sorted.extend_from_slice(&s.tags);
                    sort_tags(buf, &mut s.tags)?;
                    s.sort_cache.store(buf, &s.sorted, &s.tags);
                }
            }
            if key_end > MAX_KEY_LENGTH {
                return Err(Reason::MaxKeyLength(key_end));
            }
            // Kept in series-key order.
            let sorted = if permuted {
                s.sorted.clear();
                let (tags, order) = (&s.tags, &s.sort_cache.order);
                s.sorted
                    .extend(order.iter().filter_map(|&k| tags.get(k).copied()));
                &s.sorted
            } else {
                &s.tags
            };
            s.key_cache.insert(&buf[..key_end], measurement_end, sorted);
            (measurement_end, key_end, permuted, None)
        }
    };

    // ---- scanFields; in the simple case the fields come out directly.
    s.simple_fields.clear();
    #[allow(unused_mut)]
    let (fields_start, fields_end, mut simple, long_key, mut exact_spans) = scan_fields::<PLAIN>(
        buf,
        key_end,
        &mut s.simple_fields,
        &mut s.walked,
        &mut delims,
    )?;
    #[cfg(test)]
    if s.force_walk {
        simple = false;
        exact_spans = false;
    }
    if fields_end == fields_start {
        return Err(Reason::MissingFields);
    }

    // ---- walkFields: the stored keys and values, and the per-field key length check.
    if simple {
        if let Some(size) = long_key {
            return Err(Reason::MaxKeyLength(size));
        }
    } else if exact_spans {
        // `scan_fields` cut the fields as the walk would; its key length check, in order.
        for &(ks, ke, _, _) in &s.walked {
            let size = key_end + 4 + (ke - ks);
            if size > MAX_KEY_LENGTH {
                return Err(Reason::MaxKeyLength(size));
            }
        }
    } else {
        walk_fields(buf, fields_start, fields_end, key_end, &mut s.walked)?;
    }

    // ---- scanTime
    let timestamp = scan_time(buf, fields_end, multiplier)?;

    // ---- build the point
    let key_escaped = !PLAIN && find_backslash(&buf[..key_end], 0).is_some();
    out.reset();
    out.unescaped = !PLAIN;
    let spare = &mut out.spare;
    out.measurement = if key_escaped {
        unescape_in::<MEASUREMENT_MASK>(&buf[..measurement_end], spare)
    } else {
        Cow::Borrowed(&buf[..measurement_end])
    };
    // On a permuted cache hit the tags are built in the cached order; on a key cache hit
    // from the kept spans, already in series-key order.
    let order = permuted.then_some(s.sort_cache.order.as_slice());
    let spans = cached.unwrap_or(&s.tags);
    if key_escaped {
        build_tags(&mut out.tags, spans, order, |t| Tag {
            key: unescape_in::<TAG_MASK>(&buf[t.key_start..t.key_end], spare),
            value: unescape_in::<TAG_MASK>(&buf[t.value_start..t.value_end], spare),
        });
    } else {
        build_tags(
            &mut out.tags,
            spans,
            order,
            #[inline(always)]
            |t| Tag {
                key: Cow::Borrowed(&buf[t.key_start..t.key_end]),
                value: Cow::Borrowed(&buf[t.value_start..t.value_end]),
            },
        );
    }
    if simple {
        out.fields.extend(s.simple_fields.iter().map(|f| Field {
            key: Cow::Borrowed(&buf[f.key_start..f.key_end]),
            value: f.value.value(),
        }));
    } else {
        out.fields.reserve(s.walked.len());
        // With exact spans, a number or boolean `scan_fields` scanned over exactly the span
        // the walk gives its field is taken as scanned (as the simple path takes it); both
        // lists are in field order.
        let scanned: &[SimpleField] = if exact_spans { &s.simple_fields } else { &[] };
        let mut next = 0;
        for &(ks, ke, vs, ve) in &s.walked {
            let key = unescape_in::<FIELD_KEY_MASK>(&buf[ks..ke], spare);
            while scanned.get(next).is_some_and(|f| f.key_start < ks) {
                next += 1;
            }
            let value = match scanned.get(next) {
                Some(f) if f.key_start == ks && f.key_end == ke && f.value_end == ve => {
                    next += 1;
                    f.value.value()
                }
                _ => decode_value(&key, &buf[vs..ve], spare)?,
            };
            out.fields.push(Field { key, value });
        }
    }
    Ok(Parsed {
        key_len: key_end,
        timestamp,
        line: std::marker::PhantomData,
    })
}

/// Appends the point's tags from their spans to `out`, in input order or in `order` (positions
/// into `spans`). Extended from a mapped slice iterator (exact length, `tag` inlined), so each tag is
/// written in place: building a tag per `push`, or in a closure that is not inlined, put it
/// on the stack with 8-byte stores and copied it with 16-byte loads, a store-forwarding stall
/// on every tag (12% of the cpu-only profile).
#[inline(always)]
fn build_tags<'a>(
    out: &mut Vec<Tag<'a>>,
    spans: &[TagSpan],
    order: Option<&[usize]>,
    mut tag: impl FnMut(&TagSpan) -> Tag<'a>,
) {
    match order {
        // Every cached position is below `spans.len()`: the cache matched this many keys.
        Some(order) => {
            let empty = TagSpan::default();
            out.extend(order.iter().map(|&k| tag(spans.get(k).unwrap_or(&empty))));
        }
        None => out.extend(spans.iter().map(&mut tag)),
    }
}

/// The first 16 bytes of `buf[start..end]`, big-endian, zero-padded: comparing these orders
/// keys like a bytewise comparison does, except that equal prefixes need the full comparison.
#[inline]
fn key_prefix(buf: &[u8], start: usize, end: usize) -> u128 {
    let len = end - start;
    let raw = match buf.get(start..start + 16) {
        Some(chunk) => {
            let mut word = [0u8; 16];
            word.copy_from_slice(chunk);
            u128::from_be_bytes(word)
        }
        None => {
            let mut word = [0u8; 16];
            let n = len.min(16);
            word[..n].copy_from_slice(&buf[start..start + n]);
            u128::from_be_bytes(word)
        }
    };
    if len >= 16 {
        raw
    } else {
        raw & !(u128::MAX >> (len * 8))
    }
}

/// `scanKey`'s sortedness check, sort and duplicate check. Stable, like Go's insertion sort;
/// the result is the same as sorting by the raw keys.
fn sort_tags(buf: &[u8], tags: &mut [TagSpan]) -> Result<(), Reason> {
    use std::cmp::Ordering;
    let key = |t: &TagSpan| &buf[t.key_start..t.key_end];
    let cmp = |a: &TagSpan, b: &TagSpan| match a.prefix.cmp(&b.prefix) {
        Ordering::Equal if a.key_end - a.key_start > 16 || b.key_end - b.key_start > 16 => {
            key(a).cmp(key(b))
        }
        // Both keys fit in the prefix: equal prefixes with different lengths differ only by
        // trailing zero bytes, which the length orders.
        Ordering::Equal => (a.key_end - a.key_start).cmp(&(b.key_end - b.key_start)),
        other => other,
    };
    let mut sorted = true;
    for w in tags.windows(2) {
        match cmp(&w[0], &w[1]) {
            Ordering::Greater => {
                sorted = false;
                break;
            }
            Ordering::Equal => return Err(Reason::DuplicateTags),
            Ordering::Less => {}
        }
    }
    if sorted {
        return Ok(());
    }
    // Go sorts with an insertion sort, which is stable; a stable merge sort gives the same
    // order without its quadratic time on a line of many unsorted tags.
    tags.sort_by(cmp);
    if tags
        .windows(2)
        .any(|w| cmp(&w[0], &w[1]) == Ordering::Equal)
    {
        return Err(Reason::DuplicateTags);
    }
    Ok(())
}

/// `scanTags` with `scanTagsKey` and `scanTagsValue`; returns the index of the space that
/// ends the key.
fn scan_tags<const PLAIN: bool>(
    buf: &[u8],
    mut i: usize,
    tags: &mut Vec<TagSpan>,
    delims: &mut Delims<'_, PLAIN>,
) -> Result<usize, Reason> {
    loop {
        // scanTagsKey
        let key_start = i;
        match buf.get(i) {
            None | Some(b' ' | b',' | b'=') => return Err(Reason::MissingTagKey),
            Some(_) => {}
        }
        let mut j = i + 1;
        let key_end = loop {
            let found = delims.next_delim(j);
            match found {
                None => return Err(Reason::MissingTagValue),
                Some(k) if !PLAIN && buf[k - 1] == b'\\' => j = k + 1,
                Some(k) if buf[k] == b'=' => break k,
                Some(_) => return Err(Reason::MissingTagValue),
            }
        };
        // scanTagsValue
        let value_start = key_end + 1;
        match buf.get(value_start) {
            None | Some(b',' | b' ') => return Err(Reason::MissingTagValue),
            Some(_) => {}
        }
        let mut j = value_start + 1;
        loop {
            let found = delims.next_delim(j);
            match found {
                None => return Err(Reason::MissingFields),
                Some(k) if !PLAIN && buf[k - 1] == b'\\' => j = k + 1,
                Some(k) => {
                    let span = TagSpan {
                        prefix: key_prefix(buf, key_start, key_end),
                        key_start,
                        key_end,
                        value_start,
                        value_end: k,
                    };
                    match buf[k] {
                        b'=' => return Err(Reason::InvalidTagFormat),
                        b',' => {
                            tags.push(span);
                            i = k + 1;
                            break;
                        }
                        _ => {
                            tags.push(span);
                            return Ok(k);
                        }
                    }
                }
            }
        }
    }
}

/// `scanFields`. Returns `(start, end, simple, long_key)`: the fields block is
/// `buf[start..end]`; `simple` is true when the block holds no `"` and no `\`, in which case
/// `out` holds the fields exactly as `walkFields` and the field iterator would cut and decode
/// them, and `long_key` the first `max key length exceeded` size among them. Otherwise `out`
/// holds the numbers and booleans this scan decoded, with the spans it read them from.
///
/// Without `PLAIN`, `walked` gets the `(key_start, key_end, value_start, value_end)` spans of
/// the fields as this scan delimits them, and the last result says whether they are exactly
/// the spans `walkFields` cuts ([`FieldSpans`]); then the second walk is not needed.
fn scan_fields<const PLAIN: bool>(
    buf: &[u8],
    pos: usize,
    out: &mut Vec<SimpleField>,
    walked: &mut Vec<(usize, usize, usize, usize)>,
    delims: &mut Delims<'_, PLAIN>,
) -> Result<(usize, usize, bool, Option<usize>, bool), Reason> {
    let start = skip_whitespace(buf, pos);
    let mut i = start;
    let mut quoted = false;
    let mut equals = 0usize;
    let mut commas = 0usize;
    let mut simple = true;
    let mut key_start = start;
    let mut long_key = None;
    let long_line = buf.len() + 4 > MAX_KEY_LENGTH;
    let mut spans = FieldSpans::new(walked);
    loop {
        // Skip the bytes that none of the branches below reacts to.
        let found = delims.next(i);
        let Some(at) = found else {
            i = buf.len();
            break;
        };
        i = at;
        let c = buf[i];
        if !PLAIN && c == b'\\' {
            simple = false;
            spans.backslash(quoted);
            if i + 1 < buf.len() {
                i += 2;
                continue;
            }
        }
        if !PLAIN && c == b'"' {
            simple = false;
            if equals > commas {
                quoted = !quoted;
                i += 1;
                continue;
            }
        }
        if c == b'=' && !quoted {
            equals += 1;
            if !PLAIN {
                spans.equals(buf, key_start, i);
            }
            // i >= start >= 2: the measurement and its separator come first.
            let before = buf[i - 1];
            let before2 = buf.get(i.wrapping_sub(2)).copied().unwrap_or(0);
            if (before == b' ' || before == b',') && before2 != b'\\' {
                return Err(Reason::MissingFieldKey);
            }
            let Some(&next) = buf.get(i + 1) else {
                return Err(Reason::MissingFieldValue);
            };
            if next == b',' || next == b' ' {
                return Err(Reason::MissingFieldValue);
            }
            if PLAIN || next != b'"' {
                let (end, value) = if next.is_ascii_digit()
                    || next == b'.'
                    || next == b'-'
                    || next == b'N'
                    || next == b'n'
                {
                    scan_number(buf, i + 1)?
                } else {
                    let (end, value) = scan_boolean(buf, i + 1)?;
                    (end, Scanned::boolean(value))
                };
                // `size < buf.len() + 4`: only a line that long needs the check.
                if simple && long_line {
                    let size = pos + 4 + (i - key_start);
                    if size > MAX_KEY_LENGTH && long_key.is_none() {
                        long_key = Some(size);
                    }
                }
                // Kept when the block is not simple too: where the walk cuts this very
                // field, its value is this one.
                out.push(SimpleField {
                    key_start,
                    key_end: i,
                    value_end: end,
                    value,
                });
                // Every value scanner stops at a `,` or a space (outside quotes: this branch
                // is not quoted) or at the end: take that delimiter here, as the branches
                // below would, instead of searching for it again.
                match buf.get(end) {
                    Some(b',') => {
                        if !PLAIN {
                            spans.field_end(key_start, end);
                        }
                        commas += 1;
                        key_start = end + 1;
                        i = end + 1;
                        continue;
                    }
                    Some(b' ') => {
                        i = end;
                        break;
                    }
                    None => {
                        i = buf.len();
                        break;
                    }
                    Some(_) => {
                        i = end;
                        continue;
                    }
                }
            }
            // A string value: the opening quote is handled on the next byte.
        }
        if c == b',' && !quoted {
            if !PLAIN {
                spans.field_end(key_start, i);
            }
            commas += 1;
            key_start = i + 1;
        }
        if c == b' ' && !quoted {
            break;
        }
        i += 1;
    }
    if quoted {
        return Err(Reason::UnbalancedQuotes);
    }
    if equals == 0 || commas != equals - 1 {
        return Err(Reason::InvalidFieldFormat);
    }
    let exact = !PLAIN && spans.finish(key_start, i, equals);
    Ok((start, i, simple, long_key, exact))
}

/// The field spans of a fields block with quotes or backslashes as `scanFields` delimits them
/// (each field from its key's start to the `,` or the end of the block after its value, split
/// at its `=`), and whether they are exactly what `walkFields` cuts. They are when, in a block
/// `scanFields` accepts,
/// * every field has one counted `=` and is ended by one counted `,` (or the block's end);
/// * that `=` does not follow a backslash: `scanFields` skips backslash pairs, so only the `=`
///   of a `\\=` follows one, and `scanTo` (previous byte is a backslash) would pass it; every
///   `=` that `scanFields` skipped as the second byte of a pair `scanTo` passes too;
/// * no backslash stands outside quotes after a field's `=`: inside quotes `scanFieldValue`
///   (pairs only `\"` and `\\`) toggles on the same quotes as `scanFields` (pairs everything),
///   since a backslash that pairs in one but not the other is followed by neither `"` nor `\\`;
///   outside quotes `\,` is a pair for `scanFields` but ends the value for `scanFieldValue`.
///
/// Unquoted values (numbers, booleans) hold no quote and no backslash (their scanners refuse
/// them) and end at the first `,` or space, where `scanFieldValue` ends them too (a space can
/// only be the end of the block there). The proptests compare these spans with the walk.
struct FieldSpans<'w> {
    out: &'w mut Vec<(usize, usize, usize, usize)>,
    /// The counted `=` of the field being read.
    equals_at: Option<usize>,
    exact: bool,
}

impl<'w> FieldSpans<'w> {
    fn new(out: &'w mut Vec<(usize, usize, usize, usize)>) -> Self {
        out.clear();
        Self {
            out,
            equals_at: None,
            exact: true,
        }
    }

    #[inline]
    fn backslash(&mut self, quoted: bool) {
        if !quoted && self.equals_at.is_some() {
            self.exact = false;
        }
    }

    #[inline]
    fn equals(&mut self, buf: &[u8], key_start: usize, at: usize) {
        if self.equals_at.is_some() || (at > key_start && buf[at - 1] == b'\\') {
            self.exact = false;
        }
        self.equals_at = Some(at);
    }

    /// A counted `,` (or the end of the block) at `end` ends the field that began at
    /// `key_start`.
    #[inline]
    fn field_end(&mut self, key_start: usize, end: usize) {
        match self.equals_at.take() {
            Some(eq) => self.out.push((key_start, eq, eq + 1, end)),
            None => self.exact = false,
        }
    }

    /// The block ended at `end`; whether the spans are exactly the walk's.
    fn finish(mut self, key_start: usize, end: usize, equals: usize) -> bool {
        self.field_end(key_start, end);
        self.exact && self.out.len() == equals
    }
}

#[inline]
fn is_numeric(b: u8) -> bool {
    b.is_ascii_digit() || b == b'.'
}

/// `scanNumber`, returning the end and the value the storage would decode. The common shapes
/// (`123`, `123i`, `123u` before a delimiter) are answered inline; everything else goes
/// through the literal port in [`scan_number_general`].
#[inline(always)]
fn scan_number(buf: &[u8], i: usize) -> Result<(usize, Scanned), Reason> {
    let negative = buf.get(i) == Some(&b'-');
    let digits_start = i + usize::from(negative);
    let (end, acc) = read_digits(buf, digits_start);
    let plain_digits = end - digits_start;
    // What the general loop concludes for these shapes (no range check can fail).
    if plain_digits > 0 {
        let delimited = |at: usize| matches!(buf.get(at), None | Some(b',' | b' '));
        match buf.get(end) {
            None | Some(b',' | b' ') if plain_digits < 16 => {
                let v = acc as f64;
                return Ok((end, Scanned::float(if negative { -v } else { v })));
            }
            Some(b'i') if plain_digits < 19 && delimited(end + 1) => {
                let v = acc as i64;
                return Ok((end + 1, Scanned::integer(if negative { -v } else { v })));
            }
            Some(b'u') if !negative && plain_digits < 20 && delimited(end + 1) => {
                return Ok((end + 1, Scanned::unsigned(acc)));
            }
            _ => {}
        }
    }
    scan_number_general(buf, i, end, acc)
}

/// The literal port of `scanNumber`; `i` is the start of the value, `digits_end` the end of
/// the run of digits after the optional sign and `acc` their value (modulo 2^64).
#[inline(never)]
fn scan_number_general(
    buf: &[u8],
    mut i: usize,
    digits_end: usize,
    acc: u64,
) -> Result<(usize, Scanned), Reason> {
    let start = i;
    let negative = buf.get(i) == Some(&b'-');
    if negative {
        i += 1;
        if i == buf.len() {
            return Err(Reason::InvalidNumber);
        }
    }
    let plain_digits = digits_end - i;
    i = digits_end;

    let mut decimal = false;
    let mut scientific = false;
    let mut is_int = false;
    let mut is_unsigned = false;
    while let Some(&c) = buf.get(i) {
        if c == b',' || c == b' ' {
            break;
        }
        if c == b'i' && i > start && !(is_int || is_unsigned) {
            is_int = true;
            i += 1;
            continue;
        } else if c == b'u' && i > start && !(is_int || is_unsigned) {
            is_unsigned = true;
            i += 1;
            continue;
        }
        if c == b'.' {
            if decimal {
                return Err(Reason::InvalidNumber);
            }
            decimal = true;
        }
        if i > start && (c == b'e' || c == b'E') {
            scientific = true;
            i += 1;
            continue;
        }
        if (c == b'+' || c == b'-') && matches!(buf[i - 1], b'e' | b'E') {
            i += 1;
            continue;
        }
        // `NaN`/`nan` and everything else that is not a digit or '.'.
        if !is_numeric(c) {
            return Err(Reason::InvalidNumber);
        }
        i += 1;
    }

    if (is_int || is_unsigned) && (decimal || scientific) {
        return Err(Reason::InvalidNumber);
    }
    let mut numeric_digits = i - start;
    if is_int {
        numeric_digits -= 1;
    }
    if decimal {
        numeric_digits -= 1;
    }
    if negative {
        numeric_digits -= 1;
    }
    if numeric_digits == 0 {
        return Err(Reason::InvalidNumber);
    }

    if is_int {
        if buf[i - 1] != b'i' {
            return Err(Reason::InvalidNumber);
        }
        let text = &buf[start..i - 1];
        // The fast accumulation is exact when the digit run is the whole text and short.
        let value = if plain_digits == text.len() - usize::from(negative) && plain_digits < 19 {
            if negative {
                (acc as i64).wrapping_neg()
            } else {
                acc as i64
            }
        } else {
            match parse_i64(text) {
                Some(v) => v,
                None => return Err(Reason::IntegerOutOfRange(ascii(text))),
            }
        };
        Ok((i, Scanned::integer(value)))
    } else if is_unsigned {
        if buf[i - 1] != b'u' {
            return Err(Reason::InvalidNumber);
        }
        if negative {
            return Err(Reason::InvalidNumber);
        }
        let text = &buf[start..i - 1];
        let value = if plain_digits == text.len() && plain_digits < 20 {
            acc
        } else {
            match parse_u64(text) {
                Some(v) => v,
                None => return Err(Reason::UnsignedOutOfRange(ascii(text))),
            }
        };
        Ok((i, Scanned::unsigned(value)))
    } else {
        let text = &buf[start..i];
        // Go range-checks only scientific values and texts of 25 (maxFloat64Digits) or more
        // bytes; shorter plain decimals always parse and never overflow.
        let checked = scientific || text.len() >= 25;
        if !scientific
            && !decimal
            && plain_digits == text.len() - usize::from(negative)
            && plain_digits < 16
        {
            // Exactly representable integer-valued float.
            let v = acc as f64;
            return Ok((i, Scanned::float(if negative { -v } else { v })));
        }
        match parse_f64(text) {
            Some(v) if v.is_finite() => Ok((i, Scanned::float(v))),
            _ if checked => Err(Reason::InvalidFloat),
            // Unreachable for texts the scanner accepts; keep Go's answer (no check) anyway.
            _ => Ok((i, Scanned::float(0.0))),
        }
    }
}

/// `scanBoolean`.
fn scan_boolean(buf: &[u8], mut i: usize) -> Result<(usize, bool), Reason> {
    let start = i;
    let first = buf.get(i).copied().unwrap_or(0);
    if !matches!(first, b't' | b'f' | b'T' | b'F') {
        return Err(Reason::InvalidBoolean);
    }
    i += 1;
    while let Some(&c) = buf.get(i) {
        if c == b',' || c == b' ' {
            break;
        }
        i += 1;
    }
    let text = &buf[start..i];
    let value = match text {
        b"t" | b"T" | b"true" | b"True" | b"TRUE" => true,
        b"f" | b"F" | b"false" | b"False" | b"FALSE" => false,
        _ => return Err(Reason::InvalidBoolean),
    };
    Ok((i, value))
}

/// `scanTo(buf, 0, '=')`: the first `=` not preceded by a backslash, or `buf.len()`.
fn scan_to_equals(buf: &[u8]) -> usize {
    let mut i = 0;
    while let Some(at) = find(buf, i, &T_EQUALS, b"=") {
        if at == 0 || buf[at - 1] != b'\\' {
            return at;
        }
        i = at + 1;
    }
    buf.len()
}

/// `scanFieldValue`: a value ends at the first `,` outside quotes; only `\"` and `\\` are
/// escapes, and every other `"` toggles the quoting.
fn scan_field_value(buf: &[u8]) -> usize {
    let mut i = 0;
    let mut quoted = false;
    // Every other byte only advances the loop: jump between the three that matter.
    while let Some(at) = find(buf, i, &T_FIELD_VALUE, S_FIELD_VALUE) {
        i = at;
        match buf[i] {
            b'\\' if matches!(buf.get(i + 1), Some(b'"' | b'\\')) => i += 2,
            b'"' => {
                quoted = !quoted;
                i += 1;
            }
            b',' if !quoted => return i,
            _ => i += 1,
        }
    }
    buf.len()
}

/// `walkFields` over `buf[start..end]` with the key-length callback of `parsePoint`.
fn walk_fields(
    buf: &[u8],
    start: usize,
    end: usize,
    key_len: usize,
    out: &mut Vec<(usize, usize, usize, usize)>,
) -> Result<(), Reason> {
    out.clear();
    let mut at = start;
    while at < end {
        let rest = &buf[at..end];
        let i = scan_to_equals(rest);
        if i + 2 > rest.len() {
            return Err(Reason::InvalidFieldKey(rest[..i].to_vec()));
        }
        let value_start = at + i + 1;
        let j = scan_field_value(&buf[value_start..end]);
        let size = key_len + 4 + i;
        if size > MAX_KEY_LENGTH {
            return Err(Reason::MaxKeyLength(size));
        }
        out.push((at, at + i, value_start, value_start + j));
        at = value_start + j;
        if at < end {
            at += 1;
        }
    }
    Ok(())
}

/// What `fieldIterator.Next` and the typed value getters make of a value cut by `walkFields`.
fn decode_value<'a>(
    key: &[u8],
    v: &'a [u8],
    spare: &mut SpareBuffers,
) -> Result<FieldValue<'a>, Reason> {
    // Go strings: the key's bytes go into the message as they are.
    let undecodable = |msg: String| Err(Reason::UndecodableFieldValue(msg.into_bytes()));
    let Some(&first) = v.first() else {
        return Err(Reason::UndecodableFieldValue(
            [b"unknown field type for ".as_slice(), key].concat(),
        ));
    };
    if first == b'"' {
        if v.len() < 2 {
            return Err(Reason::UndecodableFieldValue(
                [b"unable to decode string field ".as_slice(), key].concat(),
            ));
        }
        return Ok(FieldValue::String(unescape_string_in(
            &v[1..v.len() - 1],
            spare,
        )));
    }
    if matches!(
        first,
        b'0'..=b'9' | b'-' | b'.' | b'n' | b'N' | b'i' | b'I' | b'u'
    ) {
        let last = v[v.len() - 1];
        if last == b'i' {
            let text = &v[..v.len() - 1];
            return match go_parse_int(text) {
                Ok(x) => Ok(FieldValue::Integer(x)),
                Err(kind) => undecodable(format!(
                    "strconv.ParseInt: parsing {}: {kind}",
                    go_quote(text)
                )),
            };
        }
        if last == b'u' {
            let text = &v[..v.len() - 1];
            return match go_parse_uint(text) {
                Ok(x) => Ok(FieldValue::Unsigned(x)),
                Err(kind) => undecodable(format!(
                    "strconv.ParseUint: parsing {}: {kind}",
                    go_quote(text)
                )),
            };
        }
        return match parse_f64(v) {
            Some(x) if x.is_finite() => Ok(FieldValue::Float(x)),
            Some(_) => undecodable(format!(
                "strconv.ParseFloat: parsing {}: value out of range",
                go_quote(v)
            )),
            None => undecodable(format!(
                "strconv.ParseFloat: parsing {}: invalid syntax",
                go_quote(v)
            )),
        };
    }
    match v {
        b"1" | b"t" | b"T" | b"true" | b"TRUE" | b"True" => Ok(FieldValue::Boolean(true)),
        b"0" | b"f" | b"F" | b"false" | b"FALSE" | b"False" => Ok(FieldValue::Boolean(false)),
        _ => undecodable(format!(
            "strconv.ParseBool: parsing {}: invalid syntax",
            go_quote(v)
        )),
    }
}

/// `scanTime` plus the timestamp half of `parsePoint`.
fn scan_time(buf: &[u8], pos: usize, multiplier: i64) -> Result<Option<i64>, Reason> {
    let start = skip_whitespace(buf, pos);
    let mut i = start;
    let negative = buf.get(i) == Some(&b'-');
    if negative {
        i += 1;
    }
    // Accumulate while scanning; 19 digits cannot overflow a u64.
    let (end, acc) = read_digits(buf, i);
    i = end;
    match buf.get(i) {
        None | Some(b'\n' | b' ') => {}
        Some(_) => return Err(Reason::BadTimestamp),
    }
    let ts = &buf[start..i];
    if ts.is_empty() {
        // No trailing-byte check without a timestamp (as in Go).
        return Ok(None);
    }
    let digits = ts.len() - usize::from(negative);
    // Up to 19 digits the accumulated value is exact (10^19 < 2^64): [`parse_i64`]'s answer
    // without a second pass (nanosecond timestamps have 19 digits).
    let value = if digits > 0 && digits <= 19 {
        let in_range = if negative {
            (acc <= 1 << 63).then(|| (acc as i64).wrapping_neg())
        } else {
            i64::try_from(acc).ok()
        };
        match in_range {
            Some(v) => v,
            None => return Err(Reason::TimestampOutOfRange(ascii(ts))),
        }
    } else {
        match parse_i64(ts) {
            Some(v) => v,
            None if digits == 0 => return Err(Reason::TimestampSyntax(ascii(ts))),
            None => return Err(Reason::TimestampOutOfRange(ascii(ts))),
        }
    };
    // `SafeCalcTime`: `safeSignedMult` refuses every overflowing product.
    let nanos = value
        .checked_mul(multiplier)
        .ok_or(Reason::TimeOutsideRange)?;
    if !(MIN_NANO_TIME..=MAX_NANO_TIME).contains(&nanos) {
        return Err(Reason::TimeOutsideRange);
    }
    if buf[i..].iter().any(|&b| b != b' ') {
        return Err(Reason::PointIsInvalid);
    }
    Ok(Some(nanos))
}

/// Reads the run of ASCII digits at `i`: its end and its value modulo 2^64 (exact for up to
/// 19 digits). Eight bytes at a time while eight remain: a word of eight digits is added whole;
/// a word that holds a non-digit ends the run, and its leading digits are counted and added
/// without a loop (short field values, one to three digits, are most of what is read, and a
/// byte loop's exit branch mispredicts on their varying lengths).
#[inline(always)]
fn read_digits(buf: &[u8], mut i: usize) -> (usize, u64) {
    let mut acc: u64 = 0;
    while let Some(chunk) = buf.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let n = leading_digits(x);
        if n == 8 {
            acc = acc.wrapping_mul(100_000_000).wrapping_add(eight_digits(x));
            i += 8;
            continue;
        }
        // The first `n` bytes are digits: shift them to the top of the word, where the
        // conversion reads them as the last `n` of eight digits after `8 - n` zeros.
        // (The subtraction borrows only out of non-digit bytes, upwards: the digits stay exact.)
        let value = if n == 0 {
            0
        } else {
            eight_digits_value(x.wrapping_sub(ZEROS) << (8 * (8 - n)))
        };
        return (i + n, acc.wrapping_mul(POW10_U64[n]).wrapping_add(value));
    }
    while let Some(&b) = buf.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        acc = acc.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
        i += 1;
    }
    (i, acc)
}

const ZEROS: u64 = 0x3030_3030_3030_3030;

/// 10^n for n in 0..8.
const POW10_U64: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// How many of the eight bytes of `x` (first byte lowest) are ASCII digits before the first
/// byte that is not (8 when all are).
#[inline(always)]
fn leading_digits(x: u64) -> usize {
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    // Each digit byte becomes 0x33, each other byte something else. The addition carries out
    // of a byte only when that byte is 0xFA or above, a non-digit, so every byte up to and
    // including the first non-digit is classified exactly.
    let t = ((x & HIGH_NIBBLES) | ((x.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES) >> 4))
        ^ 0x3333_3333_3333_3333;
    // The high bit of each nonzero byte (no carry between bytes: 0x7F + 0x7F < 0x100).
    let nonzero = (t | ((t & 0x7F7F_7F7F_7F7F_7F7F).wrapping_add(0x7F7F_7F7F_7F7F_7F7F)))
        & 0x8080_8080_8080_8080;
    (nonzero.trailing_zeros() / 8) as usize
}

/// The value of eight ASCII digits (the first byte is the most significant digit).
#[inline(always)]
fn eight_digits(x: u64) -> u64 {
    eight_digits_value(x.wrapping_sub(ZEROS))
}

/// [`eight_digits`] of digit values (bytes 0-9) already stripped of their `'0'`.
#[inline(always)]
fn eight_digits_value(mut v: u64) -> u64 {
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    (((v & 0x0000_00FF_0000_00FF).wrapping_mul(0x000F_4240_0000_0064))
        .wrapping_add(((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(0x0000_2710_0000_0001)))
        >> 32
}

fn ascii(bytes: &[u8]) -> String {
    crate::model::text::go_lossy(bytes).into_owned()
}

/// Decimal `[-]digits` to i64, `None` on overflow or bad syntax.
fn parse_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut acc: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        acc = acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        if acc <= 1u64 << 63 {
            Some((acc as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(acc).ok()
    }
}

/// Decimal digits to u64, `None` on overflow or bad syntax.
fn parse_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut acc: u64 = 0;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        acc = acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(acc)
}

/// Rust's float grammar on ASCII text; equals Go's `ParseFloat` on the texts `scanNumber`
/// lets through (digits, one `.`, `e`/`E` with a sign), where both round correctly and Go's
/// `ErrRange` is exactly Rust's infinity.
fn parse_f64(text: &[u8]) -> Option<f64> {
    if let Some(v) = short_decimal(text) {
        return Some(v);
    }
    std::str::from_utf8(text).ok()?.parse::<f64>().ok()
}

/// Exact powers of ten (all representable in an f64).
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `[-]digits[.digits]` with one to fifteen digits in all, as Rust's (and Go's) correctly
/// rounded parse reads it: the digits as an integer are exact in an f64 (< 2^53), so is
/// 10^(fraction digits), and one IEEE division rounds their quotient correctly (Clinger's fast
/// path, which both parsers take for these texts). `None` for every other text.
fn short_decimal(text: &[u8]) -> Option<f64> {
    let (negative, rest) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if rest.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut digits = 0usize;
    let mut fraction: Option<usize> = None;
    for (k, &b) in rest.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b'.' if fraction.is_none() => fraction = Some(rest.len() - k - 1),
            _ => return None,
        }
    }
    if digits == 0 || digits > 15 {
        return None;
    }
    let v = mantissa as f64 / POW10[fraction.unwrap_or(0)];
    Some(if negative { -v } else { v })
}

/// `strconv.ParseInt(s, 10, 64)` error kinds.
fn go_parse_int(text: &[u8]) -> Result<i64, &'static str> {
    // `[-]digits` in range: the same value without the str parser.
    if let Some(v) = parse_i64(text) {
        return Ok(v);
    }
    let s = std::str::from_utf8(text).map_err(|_| "invalid syntax")?;
    s.parse::<i64>().map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
            "value out of range"
        }
        _ => "invalid syntax",
    })
}

/// `strconv.ParseUint(s, 10, 64)` error kinds (no sign allowed).
fn go_parse_uint(text: &[u8]) -> Result<u64, &'static str> {
    if matches!(text.first(), Some(b'+' | b'-')) {
        return Err("invalid syntax");
    }
    if let Some(v) = parse_u64(text) {
        return Ok(v);
    }
    let s = std::str::from_utf8(text).map_err(|_| "invalid syntax")?;
    s.parse::<u64>().map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => "value out of range",
        _ => "invalid syntax",
    })
}

#[cfg(test)]
mod field_span_tests {
    use super::*;
    use proptest::prelude::*;

    /// Pieces of fields blocks: delimiters, quotes, every backslash pair that matters, values.
    const PIECES: &[&str] = &[
        "a", "b", "=", ",", "\"", "\\", " ", "1i", "2", "t", "\\\"", "\\\\", "\\,", "\\=", "\\ ",
        "\\a", "\"x\"", "=\"", "\",",
    ];

    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(PIECES)
    }

    /// A field block: free sequences of pieces, or `key=value` fields with keys and string
    /// values made of pieces (so that more blocks pass `scanFields`).
    fn block() -> impl Strategy<Value = String> {
        let free = prop::collection::vec(piece(), 1..24).prop_map(|v| v.concat());
        let key = prop::collection::vec(
            prop::sample::select(&["k", "\\=", "\\,", "\\ ", "\\\\", "\\a", "\""][..]),
            1..4,
        )
        .prop_map(|v| v.concat());
        let value = prop_oneof![
            Just("1i".to_string()),
            Just("t".to_string()),
            prop::collection::vec(piece(), 0..6).prop_map(|v| format!("\"{}\"", v.concat())),
        ];
        let fields = prop::collection::vec((key, value), 1..5).prop_map(|fs| {
            fs.into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        });
        prop_oneof![free, fields]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Whenever `scan_fields` says its spans are exact, they are the spans `walkFields`
        /// cuts, and walking them gives no error.
        #[test]
        fn exact_spans_are_the_walk(block in block(), ts in prop::bool::ANY) {
            let line = format!("m {block}{}", if ts { " 1" } else { "" });
            let buf = line.as_bytes();
            let mut simple_fields = Vec::new();
            let mut spans = Vec::new();
            if let Ok((start, end, _, _, true)) =
                scan_fields::<false>(buf, 1, &mut simple_fields, &mut spans, &mut Delims::new(buf))
            {
                let mut walked = Vec::new();
                prop_assert_eq!(walk_fields(buf, start, end, 1, &mut walked), Ok(()));
                prop_assert_eq!(spans, walked, "{:?}", line);
            }
        }
    }

    /// Blocks where the spans must not be taken: the walk cuts them differently.
    #[test]
    fn inexact_blocks_are_recognized() {
        for line in [r#"m a\\=1i"#, r#"m a="x"\,b=1i"#, r#"m a=1i\,b=2i"#] {
            let mut simple_fields = Vec::new();
            let mut spans = Vec::new();
            if let Ok((_, _, _, _, exact)) = scan_fields::<false>(
                line.as_bytes(),
                1,
                &mut simple_fields,
                &mut spans,
                &mut Delims::new(line.as_bytes()),
            ) {
                assert!(!exact, "{line}");
            }
        }
        let line = r#"m a\ b="x,\"y\\",c=1i"#;
        let (_, _, simple, _, exact) = scan_fields::<false>(
            line.as_bytes(),
            1,
            &mut Vec::new(),
            &mut Vec::new(),
            &mut Delims::new(line.as_bytes()),
        )
        .unwrap();
        assert!(!simple && exact);
    }
}
