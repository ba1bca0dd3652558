//! The values of one (series, field) pair in one shard group, sorted by time, compressed.
//!
//! Values by time, one per timestamp (a later write at the same time replaces the value). New
//! values go to an uncompressed head (two sorted columns: times, and values stored by type in a
//! `ValueColumn`); the head's oldest `SMALL` values are sealed into a compressed block whenever
//! it holds `SLACK` newer ones besides (and small blocks into one of `BLOCK` values when they
//! make one), times and values in one allocation,
//! laid out as `block_codec` says (a regular series' times take no bits, small integers as
//! many bits as their range needs). Reads decode exactly what was written; a write before the
//! head (out of order, an overwrite, a delete) decodes the blocks it touches and encodes them
//! again.
//!
//! Invariants: blocks are sorted, disjoint and non-empty; every time in a block is below every
//! time in the head; the head is sorted and holds fewer than `SMALL + SLACK` values once a
//! write returns.

use std::fmt;

use super::block_codec;
use crate::model::{FieldType, OwnedFieldValue, ValueColumn};

/// Values a sealed block holds (small in unit tests, so that sealing is exercised).
#[cfg(not(test))]
const BLOCK: usize = 256;
#[cfg(test)]
const BLOCK: usize = 8;

/// Values a small block holds: the head's oldest `SMALL` are sealed into one (see `SLACK` for
/// the newest values it keeps), and small blocks are joined into one of `BLOCK` when they make one. A head of `BLOCK` uncompressed
/// values per (series, field) took more memory than all the sealed blocks of a TSBS run; 32
/// left a joined block with 8 segments' headers (values 26.4 bytes a TSBS point, 23.5 with 64:
/// `cargo bench --bench write`, whose memory phase found 128 no better).
#[cfg(not(test))]
const SMALL: usize = 64;
#[cfg(test)]
const SMALL: usize = 3;

/// The newest values the head keeps when it seals: a run that arrives after a later one (batches
/// overtake each other on concurrent connections) usually starts within them and is merged in
/// the head, not into sealed blocks. With the head sealed down to nothing, every seal left the
/// next overtaken run to decode and encode again the blocks it fell into (`merge_into_blocks`,
/// 15.7% of a served v2 TSBS ingest over four connections, dwarf call graphs).
#[cfg(not(test))]
const SLACK: usize = 32;
#[cfg(test)]
const SLACK: usize = 2;

#[derive(Clone, Default)]
pub struct TimeValues {
    blocks: Vec<Block>,
    head_times: Vec<i64>,
    head_values: ValueColumn,
    /// `Some(t)`: every value stored has type `t` (kept as values are added; removals keep
    /// it true). `None`: unknown. Lets [`Self::first_type`] answer without reading the first
    /// block, a cache miss per (series, field) on every cloud apply (7.6% of it).
    uniform: Option<FieldType>,
}

/// A sealed run of values.
#[derive(Clone)]
struct Block {
    first: i64,
    last: i64,
    len: u32,
    /// The type of every value, or `None` for values of several types.
    ty: Option<FieldType>,
    /// Where the encoded times end and the encoded values start in `bytes`.
    split: u32,
    /// The times, then the values, encoded (`block_codec`): one allocation a block. A joined
    /// block holds several such encodings (see [`Block::join`]).
    bytes: Box<[u8]>,
    /// `bytes` is a sequence of segments, each `len`, `split` and byte length as varints, then
    /// its encoded times and values: the small blocks a block was joined from, copied as
    /// they were encoded.
    joined: bool,
}

impl Block {
    fn seal(times: &[i64], values: &ValueColumn) -> Self {
        let mut bytes = block_codec::encode_times(times);
        let split = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        let ty = block_codec::encode_column(&mut bytes, values);
        Self {
            first: times.first().copied().unwrap_or_default(),
            last: times.last().copied().unwrap_or_default(),
            len: u32::try_from(times.len()).unwrap_or(u32::MAX),
            ty,
            split,
            bytes: bytes.into_boxed_slice(),
            joined: false,
        }
    }

    /// One block of the small blocks `small` (in time order, all before `times`) and the
    /// run `times`/`values` after them. When every part has the run's type, the small blocks'
    /// encodings are copied as they are and only the run is encoded: a value is encoded once,
    /// where decoding the small blocks and encoding all their values again was about half of
    /// the sealing (~7% of a served v2 ingest, under the store lock). Otherwise (values of
    /// several types, a joined part) the parts are decoded and sealed again as one.
    fn join(small: Vec<Block>, times: &[i64], values: ValueColumn) -> Block {
        let ty = values.element_type();
        let copyable = !small.is_empty()
            && ty.is_some()
            && small.iter().all(|b| !b.joined && b.ty == ty && b.len() > 0);
        if !copyable {
            let (mut all_times, mut all_values) = decode_all(&small);
            all_times.extend_from_slice(times);
            let mut values = values;
            all_values.append(&mut values);
            return Block::seal(&all_times, &all_values);
        }
        let run = Block::seal(times, &values);
        let parts = small.iter().chain(std::iter::once(&run));
        let mut bytes = Vec::with_capacity(parts.clone().map(|b| b.bytes.len() + 6).sum());
        let mut len = 0u32;
        for b in parts {
            block_codec::put_varint(&mut bytes, u64::from(b.len));
            block_codec::put_varint(&mut bytes, u64::from(b.split));
            block_codec::put_varint(&mut bytes, b.bytes.len() as u64);
            bytes.extend_from_slice(&b.bytes);
            len = len.saturating_add(b.len);
        }
        Self {
            first: small.first().map_or(run.first, |b| b.first),
            last: run.last,
            len,
            ty,
            split: 0,
            bytes: bytes.into_boxed_slice(),
            joined: true,
        }
    }

    /// The encodings a block holds: (values, split, encoded bytes). A joined block's
    /// segments, or the whole block as one.
    fn segments(&self) -> impl Iterator<Item = (usize, usize, &[u8])> + '_ {
        let b = &self.bytes[..];
        let mut at = 0;
        let mut whole = (!self.joined).then(|| (self.len(), (self.split as usize).min(b.len()), b));
        std::iter::from_fn(move || {
            if !self.joined {
                return whole.take();
            }
            if at >= b.len() {
                return None;
            }
            // No segment holds more values than its block (a damaged length reads short).
            let len = (block_codec::get_varint(b, &mut at) as usize).min(self.len());
            let split = block_codec::get_varint(b, &mut at) as usize;
            let size = block_codec::get_varint(b, &mut at) as usize;
            let seg = b.get(at..at.saturating_add(size).min(b.len()))?;
            at = at.saturating_add(size);
            Some((len, split.min(seg.len()), seg))
        })
    }

    fn len(&self) -> usize {
        self.len as usize
    }

    /// The times, decoded segment by segment (a plain block's are returned as decoded, with no
    /// copy).
    fn times(&self) -> Vec<i64> {
        let mut parts = self
            .segments()
            .map(|(len, split, seg)| block_codec::decode_times(&seg[..split], len));
        let mut out = parts.next().unwrap_or_default();
        for part in parts {
            out.extend(part);
        }
        out
    }

    fn values(&self) -> ValueColumn {
        let mut parts = self
            .segments()
            .map(|(len, split, seg)| block_codec::decode_column(&seg[split..], len, self.ty));
        let mut out = parts.next().unwrap_or_default();
        for mut part in parts {
            out.append(&mut part);
        }
        out
    }

    fn first_type(&self) -> Option<FieldType> {
        match self.ty {
            Some(t) => Some(t),
            None => self.values().type_at(0),
        }
    }
}

// ---------------------------------------------------------------------------------------------

impl TimeValues {
    pub fn new() -> Self {
        Self::default()
    }

    /// The time before which a value goes into the blocks rather than the head.
    fn head_start(&self) -> Option<i64> {
        self.head_times.first().copied()
    }

    fn last_block_end(&self) -> Option<i64> {
        self.blocks.last().map(|b| b.last)
    }

    /// The small blocks at the end (see [`SMALL`]) that together hold fewer than `BLOCK`
    /// values: how many, and how many values.
    fn small_tail(&self) -> (usize, usize) {
        let (mut count, mut values) = (0, 0);
        for b in self.blocks.iter().rev() {
            if b.len() >= BLOCK || values + b.len() >= BLOCK {
                break;
            }
            count += 1;
            values += b.len();
        }
        (count, values)
    }

    /// Seals the head's oldest values while it holds `SMALL` besides its newest `SLACK`: into
    /// a small block, or, once they and the small blocks at the end make a block's worth, into
    /// one block with them ([`Block::join`]: their encodings copied, not encoded again; an idle
    /// series keeps fewer than `SMALL + SLACK` values uncompressed rather than a block's worth).
    /// The head's buffers keep their capacity (about `SMALL + SLACK`); one left larger by a long
    /// run is shrunk back.
    fn seal_full(&mut self) {
        while self.head_times.len() >= SMALL + SLACK {
            let sealable = self.head_times.len() - SLACK;
            let (count, tail) = self.small_tail();
            if tail + sealable >= BLOCK {
                let take = BLOCK - tail;
                let small: Vec<Block> = self.blocks.drain(self.blocks.len() - count..).collect();
                let times: Vec<i64> = self.head_times.drain(..take).collect();
                let values = self.head_values.drain_front(take);
                self.blocks.push(Block::join(small, &times, values));
            } else {
                let times: Vec<i64> = self.head_times.drain(..SMALL).collect();
                let values = self.head_values.drain_front(SMALL);
                self.blocks.push(Block::seal(&times, &values));
            }
        }
        if self.head_times.capacity() > 2 * (SMALL + SLACK) {
            self.head_times.shrink_to(SMALL + SLACK);
            self.head_values.shrink_to(SMALL + SLACK);
        }
    }

    /// Room in the head for `extra` more values: to `SMALL`, then to `SMALL + SLACK`, rather
    /// than by doubling (a doubled head would hold twice the values it ever keeps). A pair of
    /// a few values keeps the smaller head: a write of many such pairs (`cargo xtask hostile`,
    /// 70,000 keys of about four values) peaked at 1,781-1,871 bytes a pair with room for
    /// `SMALL + SLACK` at once, 1,572-1,691 this way (its bound is 2,048).
    fn reserve_head(&mut self, extra: usize) {
        let len = self.head_times.len();
        let target = if len + extra <= SMALL {
            SMALL
        } else {
            (len + extra).max(SMALL + SLACK)
        };
        if len + extra > self.head_times.capacity() {
            self.head_times.reserve_exact(target - len);
        }
        if len + extra > self.head_values.capacity() {
            self.head_values
                .reserve_exact(target - self.head_values.len());
        }
    }

    /// Keeps `uniform` true before values of type `ty` (`None`: several) are added.
    fn adding(&mut self, ty: Option<FieldType>) {
        self.uniform = match (self.is_empty(), ty) {
            (true, ty) => ty,
            (false, Some(ty)) if self.uniform == Some(ty) => Some(ty),
            _ => None,
        };
    }

    /// Stores `value` at `time`, replacing a value already there.
    pub fn insert(&mut self, time: i64, value: OwnedFieldValue) {
        self.adding(Some(value.field_type()));
        let into_head = match (self.head_start(), self.last_block_end()) {
            (Some(start), _) => time >= start,
            (None, Some(end)) => time > end,
            (None, None) => true,
        };
        if into_head {
            match self.head_times.binary_search(&time) {
                Ok(i) => self.head_values.put(i, value, true),
                Err(i) => {
                    self.head_times.insert(i, time);
                    self.head_values.put(i, value, false);
                }
            }
            self.seal_full();
            return;
        }
        self.merge_into_blocks(&[time], ValueColumn::from(vec![value]));
    }

    /// [`Self::extend_run`] of the values of `values`, leaving it empty. In the usual case
    /// (appended in one go) its buffer stays with the caller, to be freed where the caller
    /// chooses: a queued cloud write frees its batch after the store lock is released.
    pub fn extend_run_from(&mut self, times: &[i64], values: &mut ValueColumn) {
        if times.len() == values.len() && self.run_order(times) == (true, true) {
            self.adding(values.element_type());
            self.append_run(times, values);
        } else {
            self.extend_run(times, std::mem::take(values));
        }
    }

    /// Whether `times` increase, and whether they all come after every time stored.
    fn run_order(&self, times: &[i64]) -> (bool, bool) {
        let increasing = times.windows(2).all(|w| w[0] < w[1]);
        let after_last = match (
            self.head_times.last().copied().or(self.last_block_end()),
            times.first(),
        ) {
            (Some(last), Some(&first)) => first > last,
            _ => true,
        };
        (increasing, after_last)
    }

    /// Appends an increasing run after every stored time, leaving `values` empty.
    fn append_run(&mut self, times: &[i64], values: &mut ValueColumn) {
        if !self.head_times.is_empty() {
            self.reserve_head(times.len());
        }
        self.head_times.extend_from_slice(times);
        // One copy when the run has the column's type (the usual case).
        self.head_values.append(values);
        self.seal_full();
    }

    /// Stores `values` at `times` in order, as many `insert`s would: appended in one go when
    /// the times are increasing and after every time already stored (the usual case).
    pub fn extend_run(&mut self, times: &[i64], mut values: ValueColumn) {
        if values.is_empty() {
            return;
        }
        self.adding(values.element_type());
        if times.len() != values.len() {
            for (&t, v) in times.iter().zip(values.into_mixed()) {
                self.insert(t, v);
            }
            return;
        }
        let (increasing, after_last) = self.run_order(times);
        if increasing && after_last {
            self.append_run(times, &mut values);
            return;
        }
        if !increasing {
            // Value by value, taken from the typed column: a mixed copy of a large batch's
            // column (32 bytes a value) was most of a write's peak memory.
            for (i, &t) in times.iter().enumerate() {
                if let Some(v) = values.take(i) {
                    self.insert(t, v);
                }
            }
            return;
        }
        // An increasing run before the end (a batch that arrived before a later one): merged
        // with what it overlaps, once.
        let first = times.first().copied().unwrap_or_default();
        match self.head_start() {
            Some(start) if first >= start => {
                // Only the head's values from the run's first time on take part: a batch that
                // overtook this one usually left just its own few values after it.
                let from = self.head_times.partition_point(|&t| t < first);
                let tail_times = self.head_times.split_off(from);
                let tail_values = mv_split_off(&mut self.head_values, from);
                let (mut t, mut v) = merge(tail_times, tail_values, times, values);
                self.reserve_head(t.len());
                self.head_times.append(&mut t);
                self.head_values.append(&mut v);
                self.seal_full();
            }
            _ => self.merge_into_blocks(times, values),
        }
    }

    /// Merges an increasing run that starts before the head into the blocks (and the head):
    /// the blocks it overlaps, and the head when the run reaches it, are decoded, merged
    /// (the run's values win) and stored again.
    fn merge_into_blocks(&mut self, times: &[i64], values: ValueColumn) {
        let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
            return;
        };
        // Blocks from the one that ends at or after `first`; through the last that starts at
        // or before `last`, plus the next one when the run ends in a gap before it (so no new
        // block is ever interleaved).
        let from = self.blocks.partition_point(|b| b.last < first);
        let mut to = self.blocks.partition_point(|b| b.first <= last);
        if to == from {
            to = (from + 1).min(self.blocks.len());
        }
        let reaches_head =
            self.head_start().is_some_and(|start| last >= start) || to == self.blocks.len();
        let (mut old_times, mut old_values) = decode_all(&self.blocks[from..to]);
        self.blocks.drain(from..to);
        if reaches_head {
            old_times.append(&mut self.head_times);
            old_values.append(&mut self.head_values);
        }
        let (merged_times, merged_values) = merge(old_times, old_values, times, values);
        if reaches_head {
            // The tail of the merge is the new head; the rest is sealed in place.
            let keep = merged_times.len() % BLOCK;
            let split = merged_times.len() - keep;
            let mut mv = merged_values;
            let head_values = mv_split_off(&mut mv, split);
            let sealed = chunk_blocks(&merged_times[..split], mv);
            self.head_times = merged_times[split..].to_vec();
            self.head_values = head_values;
            self.blocks.splice(from..from, sealed);
            self.seal_full();
        } else {
            let sealed = chunk_blocks(&merged_times, merged_values);
            self.blocks.splice(from..from, sealed);
        }
    }

    /// The type of the earliest value.
    pub fn first_type(&self) -> Option<FieldType> {
        if let Some(ty) = self.uniform.filter(|_| !self.is_empty()) {
            return Some(ty);
        }
        match self.blocks.first() {
            Some(b) => b.first_type(),
            None => self.head_values.type_at(0),
        }
    }

    pub fn len(&self) -> usize {
        self.blocks.iter().map(Block::len).sum::<usize>() + self.head_times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.head_times.is_empty()
    }

    /// (time, value) pairs in time order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (i64, OwnedFieldValue)> + '_ {
        let mut out = Vec::with_capacity(self.len());
        for b in &self.blocks {
            let values = b.values();
            out.extend(
                b.times()
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, t)| Some((t, values.get(i)?))),
            );
        }
        out.extend(
            self.head_times
                .iter()
                .enumerate()
                .filter_map(|(i, &t)| Some((t, self.head_values.get(i)?))),
        );
        out.into_iter()
    }

    /// (time, value) pairs with `start <= time < stop`, in time order.
    pub fn iter_range(
        &self,
        start: i64,
        stop: i64,
    ) -> impl DoubleEndedIterator<Item = (i64, OwnedFieldValue)> + '_ {
        let mut out = Vec::new();
        let from = self.blocks.partition_point(|b| b.last < start);
        for b in self.blocks[from..].iter().take_while(|b| b.first < stop) {
            let times = b.times();
            let values = b.values();
            for (i, &t) in times.iter().enumerate() {
                if t >= start && t < stop {
                    if let Some(v) = values.get(i) {
                        out.push((t, v));
                    }
                }
            }
        }
        let lo = self.head_times.partition_point(|&t| t < start);
        let hi = self.head_times.partition_point(|&t| t < stop).max(lo);
        for i in lo..hi {
            if let Some(v) = self.head_values.get(i) {
                out.push((self.head_times[i], v));
            }
        }
        out.into_iter()
    }

    /// Whether a value has `start <= time < stop` (without decoding blocks when it can).
    pub fn any_in_range(&self, start: i64, stop: i64) -> bool {
        if start >= stop {
            return false;
        }
        let from = self.blocks.partition_point(|b| b.last < start);
        let in_blocks = self.blocks[from..]
            .iter()
            .take_while(|b| b.first < stop)
            .any(|b| {
                (b.first >= start && b.first < stop)
                    || b.times().iter().any(|&t| t >= start && t < stop)
            });
        in_blocks || {
            let lo = self.head_times.partition_point(|&t| t < start);
            self.head_times.get(lo).is_some_and(|&t| t < stop)
        }
    }

    /// Removes the values with `start <= time <= stop` (both inclusive).
    pub fn remove_range(&mut self, start: i64, stop: i64) {
        if start > stop {
            return;
        }
        let from = self.blocks.partition_point(|b| b.last < start);
        let to = self.blocks.partition_point(|b| b.first <= stop);
        if from < to {
            let mut rebuilt = Vec::new();
            for b in self.blocks.drain(from..to) {
                if b.first >= start && b.last <= stop {
                    continue;
                }
                let times = b.times();
                let values = b.values();
                let keep: Vec<usize> = (0..times.len())
                    .filter(|&i| times[i] < start || times[i] > stop)
                    .collect();
                let kept_times: Vec<i64> = keep.iter().map(|&i| times[i]).collect();
                let kept_values: ValueColumn = keep.iter().filter_map(|&i| values.get(i)).collect();
                if !kept_times.is_empty() {
                    rebuilt.push(Block::seal(&kept_times, &kept_values));
                }
            }
            self.blocks.splice(from..from, rebuilt);
        }
        let lo = self.head_times.partition_point(|&t| t < start);
        let hi = self.head_times.partition_point(|&t| t <= stop);
        if lo < hi {
            self.head_times.drain(lo..hi);
            self.head_values.drain(lo..hi);
        }
    }

    /// Bytes this pair's values take (blocks and head, not counting the containers).
    pub fn stored_bytes(&self) -> usize {
        self.blocks.iter().map(|b| b.bytes.len()).sum::<usize>()
            + self.blocks.capacity() * std::mem::size_of::<Block>()
            + self.head_times.capacity() * 8
            + self.head_values.capacity() * self.head_values.element_size()
    }
}

/// The first `n` values of `col`, moved out (the rest stays).
/// The times and values of `blocks`, in order.
fn decode_all(blocks: &[Block]) -> (Vec<i64>, ValueColumn) {
    let mut times = Vec::with_capacity(blocks.iter().map(Block::len).sum());
    let mut values = ValueColumn::default();
    for b in blocks {
        times.extend(b.times());
        values.append(&mut b.values());
    }
    (times, values)
}

fn split_front(col: &mut ValueColumn, n: usize) -> ValueColumn {
    let rest = mv_split_off(col, n);
    std::mem::replace(col, rest)
}

/// `Vec::split_off` for a value column.
fn mv_split_off(col: &mut ValueColumn, at: usize) -> ValueColumn {
    match col {
        ValueColumn::Float(v) => ValueColumn::Float(v.split_off(at.min(v.len()))),
        ValueColumn::Integer(v) => ValueColumn::Integer(v.split_off(at.min(v.len()))),
        ValueColumn::Unsigned(v) => ValueColumn::Unsigned(v.split_off(at.min(v.len()))),
        ValueColumn::Boolean(v) => ValueColumn::Boolean(v.split_off(at.min(v.len()))),
        ValueColumn::String(v) => ValueColumn::String(v.split_off(at.min(v.len()))),
        ValueColumn::Mixed(v) => ValueColumn::Mixed(v.split_off(at.min(v.len()))),
    }
}

/// Sorted `old` and an increasing `run` merged by time; at equal times the run's value wins.
/// Columns of one type merge as that type (the usual case: a batch that arrived before a
/// later one); columns of different types merge as mixed values.
fn merge(
    old_times: Vec<i64>,
    old_values: ValueColumn,
    run_times: &[i64],
    run_values: ValueColumn,
) -> (Vec<i64>, ValueColumn) {
    use ValueColumn as C;
    if old_times.is_empty() {
        return (run_times.to_vec(), run_values);
    }
    match (old_values, run_values) {
        (C::Float(a), C::Float(b)) => {
            let (t, v) = merge_typed(&old_times, a, run_times, b);
            (t, C::Float(v))
        }
        (C::Integer(a), C::Integer(b)) => {
            let (t, v) = merge_typed(&old_times, a, run_times, b);
            (t, C::Integer(v))
        }
        (C::Unsigned(a), C::Unsigned(b)) => {
            let (t, v) = merge_typed(&old_times, a, run_times, b);
            (t, C::Unsigned(v))
        }
        (C::Boolean(a), C::Boolean(b)) => {
            let (t, v) = merge_typed(&old_times, a, run_times, b);
            (t, C::Boolean(v))
        }
        (C::String(a), C::String(b)) => {
            let (t, v) = merge_typed(&old_times, a, run_times, b);
            (t, C::String(v))
        }
        (a, b) => {
            let (t, v) = merge_typed(&old_times, a.into_mixed(), run_times, b.into_mixed());
            // Back to one type when the merge left only one (a replaced value).
            let mut col = ValueColumn::default();
            for x in v {
                col.push(x);
            }
            (t, col)
        }
    }
}

/// [`merge`] for columns of one element type.
fn merge_typed<T>(
    old_times: &[i64],
    old: Vec<T>,
    run_times: &[i64],
    run: Vec<T>,
) -> (Vec<i64>, Vec<T>) {
    let n = old_times.len() + run_times.len();
    let mut times = Vec::with_capacity(n);
    let mut values = Vec::with_capacity(n);
    let mut old = old_times.iter().zip(old).peekable();
    let mut run = run_times.iter().zip(run).peekable();
    loop {
        let take_run = match (old.peek(), run.peek()) {
            (Some((a, _)), Some((b, _))) => b <= a,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (None, None) => break,
        };
        if take_run {
            if let Some((&t, x)) = run.next() {
                if old.peek().is_some_and(|(a, _)| **a == t) {
                    old.next();
                }
                times.push(t);
                values.push(x);
            }
        } else if let Some((&t, x)) = old.next() {
            times.push(t);
            values.push(x);
        }
    }
    (times, values)
}

/// Sorted values sealed into blocks of at most `BLOCK`.
fn chunk_blocks(times: &[i64], values: ValueColumn) -> Vec<Block> {
    let mut out = Vec::new();
    let mut rest = values;
    for chunk in times.chunks(BLOCK) {
        let part = split_front(&mut rest, chunk.len());
        out.push(Block::seal(chunk, &part));
    }
    out
}

/// Equal when they hold the same (time, value) pairs, however they are laid out.
impl PartialEq for TimeValues {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// The (time, value) pairs, whatever the layout.
impl fmt::Debug for TimeValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn appends_overwrites_and_inserts_in_order() {
        let mut v = TimeValues::new();
        for (t, x) in [(5, 1), (7, 2), (7, 3), (1, 4), (6, 5), (5, 6)] {
            v.insert(t, OwnedFieldValue::Integer(x));
        }
        let got: Vec<(i64, i64)> = v
            .iter()
            .map(|(t, x)| match x {
                OwnedFieldValue::Integer(i) => (t, i),
                _ => (t, -1),
            })
            .collect();
        assert_eq!(got, [(1, 4), (5, 6), (6, 5), (7, 3)]);
        v.remove_range(5, 6);
        assert_eq!(v.len(), 2);
        v.remove_range(1, 7);
        assert!(v.is_empty());
    }

    #[test]
    fn extreme_times_and_values_round_trip() {
        let mut v = TimeValues::new();
        let times = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
        let values = [i64::MIN, i64::MAX, 0, -1, 1, i64::MIN, 42];
        v.extend_run(
            &times,
            values
                .iter()
                .map(|&x| OwnedFieldValue::Integer(x))
                .collect(),
        );
        let got: Vec<(i64, OwnedFieldValue)> = v.iter().collect();
        let want: Vec<(i64, OwnedFieldValue)> = times
            .iter()
            .zip(values)
            .map(|(&t, x)| (t, OwnedFieldValue::Integer(x)))
            .collect();
        assert_eq!(got, want);
        let mut f = TimeValues::new();
        let floats = [
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            1.5,
            f64::NAN,
            f64::INFINITY,
        ];
        f.extend_run(
            &times,
            floats.iter().map(|&x| OwnedFieldValue::Float(x)).collect(),
        );
        let bits: Vec<u64> = f
            .iter()
            .map(|(_, x)| match x {
                OwnedFieldValue::Float(x) => x.to_bits(),
                _ => 0,
            })
            .collect();
        assert_eq!(bits, floats.map(f64::to_bits));
        let mut u = TimeValues::new();
        u.extend_run(
            &times,
            [0, 1, u64::MAX, 7, u64::MAX / 2, 3, 9]
                .iter()
                .map(|&x| OwnedFieldValue::Unsigned(x))
                .collect(),
        );
        assert_eq!(
            u.iter().nth(2).map(|(_, v)| v),
            Some(OwnedFieldValue::Unsigned(u64::MAX))
        );
        assert!(u.any_in_range(i64::MIN, i64::MIN + 1));
        assert!(!u.any_in_range(2, 3));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(i64, i64),
        Remove(i64, i64),
        Run(i64, Vec<i64>),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (-20i64..20, any::<i64>()).prop_map(|(t, x)| Op::Insert(t, x)),
            1 => (-25i64..25, -25i64..25).prop_map(|(a, b)| Op::Remove(a, b)),
            1 => (-20i64..20, proptest::collection::vec(any::<i64>(), 1..12))
                .prop_map(|(t, xs)| Op::Run(t, xs)),
        ]
    }

    /// A value of one type, or (`mixed`) of a type picked by `x`.
    fn value(x: i64, mixed: bool) -> OwnedFieldValue {
        if !mixed {
            return OwnedFieldValue::Integer(x);
        }
        match x.rem_euclid(5) {
            0 => OwnedFieldValue::Integer(x),
            1 => OwnedFieldValue::Float(x as f64),
            2 => OwnedFieldValue::Unsigned(x.unsigned_abs()),
            3 => OwnedFieldValue::String(x.to_string().into_bytes()),
            _ => OwnedFieldValue::Boolean(x % 2 == 0),
        }
    }

    proptest! {
        /// Inserts, runs (increasing, anywhere) and range removals, with small blocks of 3 and
        /// blocks of 8 sealed and reopened all the time, read back as a BTreeMap holds them.
        #[test]
        fn behaves_like_a_btreemap(ops in proptest::collection::vec(op(), 0..200), mixed in any::<bool>()) {
            let mut model: BTreeMap<i64, OwnedFieldValue> = BTreeMap::new();
            let mut v = TimeValues::new();
            for o in ops {
                match o {
                    Op::Insert(t, x) => {
                        model.insert(t, value(x, mixed));
                        v.insert(t, value(x, mixed));
                    }
                    Op::Remove(a, b) => {
                        model.retain(|t, _| *t < a || *t > b);
                        v.remove_range(a, b);
                    }
                    Op::Run(start, xs) => {
                        let times: Vec<i64> = (0..xs.len() as i64).map(|i| start + 2 * i).collect();
                        for (t, x) in times.iter().zip(&xs) {
                            model.insert(*t, value(*x, mixed));
                        }
                        let mut run: ValueColumn = xs.iter().map(|&x| value(x, mixed)).collect();
                        // Both entry points; `extend_run_from` leaves the buffer behind.
                        if xs.len() % 2 == 0 {
                            v.extend_run_from(&times, &mut run);
                            prop_assert!(run.is_empty());
                        } else {
                            v.extend_run(&times, run);
                        }
                    }
                }
                let want: Vec<(i64, OwnedFieldValue)> = model.iter().map(|(t, x)| (*t, x.clone())).collect();
                let got: Vec<(i64, OwnedFieldValue)> = v.iter().collect();
                prop_assert_eq!(got, want);
                prop_assert_eq!(v.len(), model.len());
                prop_assert_eq!(v.first_type(), model.values().next().map(OwnedFieldValue::field_type));
                for (a, b) in [(-30, 30), (-5, 5), (0, 1), (7, 7)] {
                    let want: Vec<_> = model.range(a..b).map(|(t, x)| (*t, x.clone())).collect();
                    let got: Vec<_> = v.iter_range(a, b).collect();
                    prop_assert_eq!(&got, &want);
                    prop_assert_eq!(v.any_in_range(a, b), !want.is_empty());
                }
                // The blocks' invariants.
                for w in v.blocks.windows(2) {
                    prop_assert!(w[0].last < w[1].first);
                }
                if let (Some(b), Some(&h)) = (v.blocks.last(), v.head_times.first()) {
                    prop_assert!(b.last < h);
                }
                prop_assert!(v.head_times.len() < SMALL + SLACK);
            }
        }

        #[test]
        fn extend_run_is_a_series_of_inserts(
            before in proptest::collection::vec((-20i64..20, any::<i64>()), 0..20),
            run in proptest::collection::vec((-20i64..40, any::<i64>()), 0..20),
            sorted in any::<bool>(),
            mixed in any::<bool>(),
        ) {
            let mut run = run;
            if sorted {
                run.sort_by_key(|(t, _)| *t);
                run.dedup_by_key(|(t, _)| *t);
            }
            let mut one_by_one = TimeValues::new();
            let mut batched = TimeValues::new();
            for &(t, x) in &before {
                one_by_one.insert(t, value(x, mixed));
                batched.insert(t, value(x, mixed));
            }
            for &(t, x) in &run {
                one_by_one.insert(t, value(x, mixed));
            }
            let times: Vec<i64> = run.iter().map(|(t, _)| *t).collect();
            batched.extend_run(&times, run.iter().map(|(_, x)| value(*x, mixed)).collect());
            let got: Vec<_> = batched.iter().collect();
            let want: Vec<_> = one_by_one.iter().collect();
            prop_assert_eq!(got, want);
        }
    }

    /// Small blocks of one type become one block by copying their encodings (only the head's
    /// values are encoded); a part of another type makes the block sealed again from values.
    #[test]
    fn small_blocks_are_joined_by_copy_when_their_types_agree() {
        let mut v = TimeValues::new();
        let n = (3 * BLOCK + SLACK) as i64 + 1;
        for t in 0..n {
            v.extend_run(
                &[t],
                ValueColumn::from(vec![OwnedFieldValue::Integer(t * 7)]),
            );
        }
        let joined = v.blocks.iter().filter(|b| b.joined).count();
        assert_eq!(joined, 3, "every whole block was joined from small ones");
        assert!(v
            .blocks
            .iter()
            .filter(|b| b.joined)
            .all(|b| b.len() == BLOCK));
        let want: Vec<(i64, OwnedFieldValue)> = (0..n)
            .map(|t| (t, OwnedFieldValue::Integer(t * 7)))
            .collect();
        assert_eq!(v.iter().collect::<Vec<_>>(), want);
        assert_eq!(v.iter_range(5, 2 * BLOCK as i64).count(), 2 * BLOCK - 5);

        // A float among integers: that block is decoded and sealed again, not joined.
        let mut m = TimeValues::new();
        for t in 0..(BLOCK + SMALL + SLACK) as i64 {
            let x = if t == 1 {
                OwnedFieldValue::Float(0.5)
            } else {
                OwnedFieldValue::Integer(t)
            };
            m.extend_run(&[t], ValueColumn::from(vec![x]));
        }
        assert!(m.blocks.iter().all(|b| !b.joined));
        assert!(m.blocks.iter().any(|b| b.len() == BLOCK));
        assert_eq!(m.iter().nth(1), Some((1, OwnedFieldValue::Float(0.5))));
        assert_eq!(m.len(), BLOCK + SMALL + SLACK);
    }

    /// A run that arrives after a later one, once the head has sealed, merges into the values
    /// the head kept (the path `SLACK` is for): the sealed blocks stay as they were, and every
    /// value reads back in order.
    #[test]
    fn an_overtaken_run_merges_in_the_head() {
        let ints = |xs: &[i64]| {
            ValueColumn::from(
                xs.iter()
                    .map(|&x| OwnedFieldValue::Integer(x))
                    .collect::<Vec<_>>(),
            )
        };
        let sealed = |v: &TimeValues| {
            v.blocks
                .iter()
                .map(|b| (b.first, b.last, b.len()))
                .collect::<Vec<_>>()
        };
        let mut v = TimeValues::new();
        // Enough for the head to seal once and keep `SLACK` (with the test's sizes, 5). Were
        // the head sealed down to nothing, the later batch's value would be sealed too (5 + 1
        // values in blocks of 3), and the overtaken one would have to merge into that block.
        let n = 2 * SMALL as i64 - 1;
        let early: Vec<i64> = (0..n).map(|t| 10 * t).collect();
        v.extend_run(&early, ints(&early));
        // The later batch arrives first.
        let later = [10 * (n + 1)];
        v.extend_run(&later, ints(&later));
        let before = sealed(&v);
        assert!(!before.is_empty(), "the head sealed its oldest values");
        assert!(v.head_times.len() >= SLACK);
        // The batch it overtook: one value between the two.
        let late = [10 * n];
        v.extend_run(&late, ints(&late));
        assert_eq!(sealed(&v), before);
        assert!(v.head_times.contains(&late[0]));
        let mut all: Vec<i64> = early.iter().chain(&later).chain(&late).copied().collect();
        all.sort_unstable();
        assert_eq!(v.iter().map(|(t, _)| t).collect::<Vec<_>>(), all);
    }

    #[test]
    fn small_blocks_are_sealed_again_into_whole_blocks() {
        let mut v = TimeValues::new();
        let n = 10 * BLOCK + SMALL + SLACK + 1;
        for t in 0..n as i64 {
            v.extend_run(
                &[2 * t],
                ValueColumn::from(vec![OwnedFieldValue::Integer(t)]),
            );
        }
        let whole = v.blocks.iter().take_while(|b| b.len() == BLOCK).count();
        assert_eq!(whole, 10);
        let small: Vec<usize> = v.blocks[whole..].iter().map(Block::len).collect();
        assert_eq!(small, [SMALL]);
        assert_eq!(v.head_times.len(), SLACK + 1);
        assert_eq!(v.len(), n);
        let times: Vec<i64> = v.iter().map(|(t, _)| t).collect();
        assert_eq!(times, (0..n as i64).map(|t| 2 * t).collect::<Vec<_>>());
    }

    #[test]
    fn a_regular_integer_series_takes_a_few_bytes_a_value() {
        // One block of 10,000 values (blocks are 256 in a build, 8 in unit tests, where each
        // block's first time and code byte would dominate): a regular series of small
        // integers (0..=100) encodes in 7 bits a value, its times in none, and reads back
        // exactly.
        let n = 10_000i64;
        let times: Vec<i64> = (0..n)
            .map(|i| 1_451_606_400_000_000_000 + i * 10_000_000_000)
            .collect();
        let values: ValueColumn = (0..n)
            .map(|i| OwnedFieldValue::Integer((i * 37) % 101))
            .collect();
        let block = Block::seal(&times, &values);
        let encoded = block.bytes.len();
        assert!(
            encoded < 7 * n as usize / 8 + 64,
            "{encoded} bytes for {n} values"
        );
        assert_eq!(block.times(), times);
        assert_eq!(block.values(), values);
    }
}
