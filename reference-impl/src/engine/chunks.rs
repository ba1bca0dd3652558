//! Bounded collections for a write's first pass over its body: the points of the first chunk
//! (a larger body is parsed again a chunk at a time), and the first errors of many.

/// Points parsed and grouped at a time. A body with more is parsed twice: once for its errors
/// (nothing is written when a line is malformed), then a chunk at a time while it is written,
/// so a write's memory is its body plus one chunk, whatever the number of points (a 128 MiB
/// body of short lines is 6 million points, ~2 GB as parsed points all at once).
pub const CHUNK_POINTS: usize = 1 << 16;

/// The items of the first chunk, or nothing once a body has more than [`CHUNK_POINTS`].
#[derive(Debug)]
pub struct FirstChunk<T> {
    pub items: Vec<T>,
    /// More than one chunk was offered: `items` was emptied and stays empty.
    pub overflowed: bool,
}

impl<T> Default for FirstChunk<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            overflowed: false,
        }
    }
}

impl<T> FirstChunk<T> {
    pub fn push(&mut self, item: T) {
        self.push_with(|| item);
    }

    /// [`FirstChunk::push`] of an item made only when it is kept: past the first chunk,
    /// `item` is not called (a point lent by the parser is not copied just to be dropped).
    pub fn push_with(&mut self, item: impl FnOnce() -> T) {
        if self.overflowed {
            return;
        }
        if self.items.len() == CHUNK_POINTS {
            self.overflowed = true;
            self.items = Vec::new();
            return;
        }
        self.items.push(item());
    }
}

/// The first `cap` items offered, and how many were offered in all.
#[derive(Debug)]
pub struct Kept<T> {
    pub items: Vec<T>,
    pub count: usize,
    cap: usize,
}

impl<T> Kept<T> {
    pub fn new(cap: usize) -> Self {
        Self {
            items: Vec::new(),
            count: 0,
            cap,
        }
    }

    /// Counts an item, built only when it is kept.
    pub fn push_with(&mut self, item: impl FnOnce() -> T) {
        self.count += 1;
        if self.items.len() < self.cap {
            self.items.push(item());
        }
    }

    /// Some were offered and not kept.
    pub fn truncated(&self) -> bool {
        self.count > self.items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_chunk_empties_past_its_size() {
        let mut c = FirstChunk::default();
        for i in 0..CHUNK_POINTS {
            c.push(i);
        }
        assert!(!c.overflowed);
        assert_eq!(c.items.len(), CHUNK_POINTS);
        c.push(0);
        assert!(c.overflowed && c.items.is_empty());
        c.push_with(|| unreachable!("an item past the first chunk is not made"));
        assert!(c.items.is_empty());
    }

    #[test]
    fn kept_counts_everything_and_keeps_the_first() {
        let mut k = Kept::new(2);
        for i in 0..5 {
            k.push_with(|| i);
        }
        assert_eq!(
            (k.items.as_slice(), k.count, k.truncated()),
            (&[0, 1][..], 5, true)
        );
    }
}
