//! The series keys already scanned in a body, with what `scanKey` made of them, so that a
//! line repeating a key skips the scan, the reserved-key check and the sort.
//!
//! When `scanKey` accepts a key it ends at a space, and what it finds (the measurement's end,
//! the tags' spans, their series-key order) depends on the bytes before that space alone: the
//! scanners look at no byte past it. Two lines that hold the same bytes before a space
//! therefore scan to the same spans, if one of them scanned without error up to that space:
//! a key found here is the scan's answer for the new line, at the same offsets. Only keys that
//! scanned without error are kept, so a line whose key failed is scanned again and fails with
//! the same reason.
//!
//! The space a line is looked up by is [`key_end`]'s guess, the first space not preceded by a
//! backslash: every space before the end of an accepted key was passed by the measurement or
//! tag scanner, which pass a space only when the byte before it is a backslash
//! (`scanMeasurement`, `scanTagsKey`, `scanTagsValue`). A wrong guess could only miss: the
//! bytes before it would not equal a kept key.
//!
//! Batches repeat their series keys (every point of a series carries the same key, and a TSBS
//! batch cycles through its hosts), and the key is about half of a line's tokens.
//!
//! A scan depends on the bytes alone, so a cache serves any body: a parse takes one from a
//! small pool ([`PooledKeyCache`]) and gives it back, and the keys of one write are found in the
//! next (a write of 5,000 TSBS lines over 1,000 hosts would otherwise scan every key once per
//! write, and allocate and free the cache each time).
//!
//! Bounded: at most [`MAX_ENTRIES`] keys, [`MAX_KEY_BYTES`] bytes a key and [`MAX_BYTES`]
//! bytes of keys, spans and entries in all; when full, the cache starts over. At most [`POOLED`]
//! caches wait in the pool; one more exists for each parse running. The table is direct
//! mapped (one key per slot, a new key replaces the old): a lookup is one hash and one
//! comparison, and no input makes it slower than that.

use std::sync::Mutex;

use super::scan::TagSpan;

/// Caches kept between parses.
const POOLED: usize = 4;

static POOL: Mutex<Vec<KeyCache>> = Mutex::new(Vec::new());

/// A [`KeyCache`] taken from the pool (or new when the pool is empty) and given back when
/// dropped (or freed when the pool is full).
#[derive(Default)]
pub(crate) struct PooledKeyCache(KeyCache);

impl PooledKeyCache {
    pub(crate) fn take() -> Self {
        // A poisoned pool still holds valid caches: a panic cannot leave one half-written
        // in it (a cache is pushed whole).
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        Self(pool.pop().unwrap_or_default())
    }
}

impl Drop for PooledKeyCache {
    fn drop(&mut self) {
        if self.0.slots.is_empty() {
            return;
        }
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        give_back(&mut pool, std::mem::take(&mut self.0));
    }
}

/// Pools `cache` unless it holds nothing or the pool is full (then it is freed).
fn give_back(pool: &mut Vec<KeyCache>, cache: KeyCache) {
    if !cache.slots.is_empty() && pool.len() < POOLED {
        pool.push(cache);
    }
}

impl std::ops::Deref for PooledKeyCache {
    type Target = KeyCache;
    fn deref(&self) -> &KeyCache {
        &self.0
    }
}

impl std::ops::DerefMut for PooledKeyCache {
    fn deref_mut(&mut self) -> &mut KeyCache {
        &mut self.0
    }
}

/// Slots of the table (a power of two).
const SLOTS: usize = 1 << 12;
/// Keys kept before the cache starts over.
const MAX_ENTRIES: usize = 4 * SLOTS;
/// A key longer than this is not kept (scanning it costs more than the copy saves anyway, and
/// the bound keeps one hostile line from filling the cache).
pub(crate) const MAX_KEY_BYTES: usize = 1 << 12;
/// Bytes of keys, spans and entries kept before the cache starts over (the table's slots come
/// on top; the vectors may hold up to twice their contents).
const MAX_BYTES: usize = 1 << 20;
/// A key with more tags than this is not kept.
pub(crate) const MAX_TAGS: usize = 64;

/// Where `scanKey` ends the key of `line` if it accepts it: the first space whose previous
/// byte is not a backslash (see the module's docs); `None` when there is none (the key, if
/// any, runs to the end, and the line fails).
#[inline]
pub(crate) fn key_end(line: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let at = from + memchr::memchr(b' ', line.get(from..)?)?;
        if at == 0 || line[at - 1] != b'\\' {
            return Some(at);
        }
        from = at + 1;
    }
}

/// What `scanKey` found in a key (the spans are offsets from the line's start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyScan {
    pub measurement_end: usize,
    /// Index of the space that ends the key.
    pub key_end: usize,
}

#[derive(Clone, Copy)]
struct Entry {
    hash: u64,
    bytes_start: u32,
    key_len: u32,
    spans_start: u32,
    spans_len: u32,
    measurement_end: u32,
}

#[derive(Default)]
pub(crate) struct KeyCache {
    /// `slots[hash % SLOTS]` is `1 + index` into `entries`, 0 when empty.
    slots: Vec<u32>,
    entries: Vec<Entry>,
    bytes: Vec<u8>,
    /// The tags of every entry in series-key order, one run per entry.
    spans: Vec<TagSpan>,
}

impl KeyCache {
    /// The scan of `key` (a line's bytes up to its first space) and its tags in series-key
    /// order, when a line with this key scanned without error before.
    #[inline]
    pub(crate) fn get(&self, key: &[u8]) -> Option<(KeyScan, &[TagSpan])> {
        if self.slots.is_empty() || key.len() > MAX_KEY_BYTES {
            return None;
        }
        let hash = hash(key);
        let slot = *self.slots.get(hash as usize % SLOTS)?;
        let e = self.entries.get((slot as usize).checked_sub(1)?)?;
        if e.hash != hash || e.key_len as usize != key.len() {
            return None;
        }
        let start = e.bytes_start as usize;
        if self.bytes.get(start..start + key.len())? != key {
            return None;
        }
        let spans = self
            .spans
            .get(e.spans_start as usize..(e.spans_start + e.spans_len) as usize)?;
        Some((
            KeyScan {
                measurement_end: e.measurement_end as usize,
                key_end: key.len(),
            },
            spans,
        ))
    }

    /// Keeps `key`'s scan: the measurement's end and the tags in series-key order.
    pub(crate) fn insert(&mut self, key: &[u8], measurement_end: usize, sorted: &[TagSpan]) {
        if key.len() > MAX_KEY_BYTES || sorted.len() > MAX_TAGS {
            return;
        }
        if self.slots.is_empty() {
            self.slots = vec![0; SLOTS];
        }
        let held = self.bytes.len()
            + key.len()
            + (self.spans.len() + sorted.len()) * std::mem::size_of::<TagSpan>()
            + (self.entries.len() + 1) * std::mem::size_of::<Entry>();
        if self.entries.len() >= MAX_ENTRIES || held > MAX_BYTES {
            self.slots.fill(0);
            self.entries.clear();
            self.bytes.clear();
            self.spans.clear();
        }
        let hash = hash(key);
        let entry = Entry {
            hash,
            bytes_start: self.bytes.len() as u32,
            key_len: key.len() as u32,
            spans_start: self.spans.len() as u32,
            spans_len: sorted.len() as u32,
            measurement_end: measurement_end as u32,
        };
        self.bytes.extend_from_slice(key);
        self.spans.extend_from_slice(sorted);
        self.entries.push(entry);
        self.slots[hash as usize % SLOTS] = self.entries.len() as u32;
    }

    /// Bytes held (tests).
    #[cfg(test)]
    pub(crate) fn held_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.spans.capacity() * std::mem::size_of::<TagSpan>()
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.slots.capacity() * 4
    }
}

/// A fast multiplicative hash of `key`, eight bytes at a time (equality is always checked on
/// the bytes; the hash only picks the slot). Its chain of multiplications is serial, but the
/// scan after it goes ahead on the predicted hit. Four independent lanes took 2% more
/// instructions and were not faster.
#[inline]
fn hash(key: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = key.len() as u64;
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(k: usize) -> TagSpan {
        TagSpan {
            prefix: 0,
            key_start: k,
            key_end: k + 1,
            value_start: k + 2,
            value_end: k + 3,
        }
    }

    #[test]
    fn the_key_ends_at_the_first_unescaped_space() {
        assert_eq!(key_end(b"m,a=1 v=1"), Some(5));
        assert_eq!(key_end(b"m\\ x,a=b\\ c v=1"), Some(11));
        // Go looks one byte back only: the space after an escaped backslash is escaped too.
        assert_eq!(key_end(b"m\\\\ v=1 5"), Some(7));
        assert_eq!(key_end(b"m\\ "), None);
        assert_eq!(key_end(b"m"), None);
    }

    #[test]
    fn a_kept_key_is_found_and_another_is_not() {
        let mut c = KeyCache::default();
        assert!(c.get(b"m,a=1").is_none());
        c.insert(b"m,a=1", 1, &[span(2)]);
        let (scan, spans) = c.get(b"m,a=1").expect("kept");
        assert_eq!(
            scan,
            KeyScan {
                measurement_end: 1,
                key_end: 5
            }
        );
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].key_start, 2);
        assert!(c.get(b"m,a=2").is_none());
        assert!(c.get(b"m,a=1,").is_none());
    }

    #[test]
    fn many_distinct_keys_stay_within_the_bounds() {
        // Long keys of many tags, and short keys of none (where the entries dominate).
        for (tags, pad) in [(MAX_TAGS, 2000), (0, 1)] {
            let mut c = KeyCache::default();
            let spans: Vec<TagSpan> = (0..tags).map(span).collect();
            for i in 0..100_000u32 {
                let key = format!("m,k={i}{}", "x".repeat((i % pad) as usize));
                c.insert(key.as_bytes(), 1, &spans);
                assert!(c.get(key.as_bytes()).is_some(), "the newest key is found");
            }
            // Vectors may hold up to twice what they were filled to (rounded up by their
            // growth steps), and the slots come on top.
            let bound = 2 * MAX_BYTES + SLOTS * 4 + 32 * 1024;
            assert!(c.held_bytes() <= bound, "{} bytes", c.held_bytes());
            assert!(c.entries.len() <= MAX_ENTRIES);
        }
    }

    #[test]
    fn the_pool_keeps_a_few_used_caches() {
        let mut pool = Vec::new();
        give_back(&mut pool, KeyCache::default());
        assert!(pool.is_empty(), "an unused cache is not kept");
        for i in 0..POOLED + 3 {
            let mut c = KeyCache::default();
            c.insert(format!("pooled,k={i}").as_bytes(), 6, &[]);
            give_back(&mut pool, c);
        }
        assert_eq!(pool.len(), POOLED);
        assert!(
            pool[0].get(b"pooled,k=0").is_some(),
            "a pooled cache keeps its keys"
        );
    }

    #[test]
    fn oversized_keys_and_tag_lists_are_not_kept() {
        let mut c = KeyCache::default();
        let long = vec![b'a'; MAX_KEY_BYTES + 1];
        c.insert(&long, 1, &[]);
        assert!(c.get(&long).is_none());
        let spans: Vec<TagSpan> = (0..=MAX_TAGS).map(span).collect();
        c.insert(b"m", 1, &spans);
        assert!(c.get(b"m").is_none());
    }
}
