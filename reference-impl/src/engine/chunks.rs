//! Bounded collections for a write's first pass over its body: the first chunk's points,
//! grouped as they are parsed (a larger body is parsed again a chunk at a time), and the first
//! errors of many.

use super::points_writer::{GroupedLines, LineOf};
use super::series_batch::SeriesBatch;
use crate::line_protocol::PointView;

/// Points parsed and grouped at a time. A body with more is parsed twice: once for its errors
/// (nothing is written when a line is malformed), then a chunk at a time while it is written,
/// so a write's memory is its body plus one chunk, whatever the number of points (a 128 MiB
/// body of short lines is 6 million points, ~2 GB as parsed points all at once).
pub const CHUNK_POINTS: usize = 1 << 16;

/// Bytes of a body looked at to guess how many points it holds.
const HINT_SCAN_BYTES: usize = 64 * 1024;
/// The most rows a guess makes room for ahead: a larger chunk grows as it goes, which costs
/// little next to its points.
const HINT_MAX_ROWS: usize = 4096;

/// How many points `body` likely holds, for the grouping's vectors to be allocated once: its
/// lines among the first [`HINT_SCAN_BYTES`], at most [`HINT_MAX_ROWS`]. A small write's
/// vectors grew from empty, reallocating each of them five or six times (a generated
/// scenario's batch of a few dozen lines).
pub fn rows_hint(body: &[u8]) -> usize {
    let head = body.get(..HINT_SCAN_BYTES).unwrap_or(body);
    let newlines = memchr::memchr_iter(b'\n', head).take(HINT_MAX_ROWS).count();
    (newlines + 1).min(HINT_MAX_ROWS)
}

/// The points of a write's first chunk grouped as they are parsed, each kept as its line
/// ([`GroupedLines`]), or nothing once the body has more than [`CHUNK_POINTS`] points.
pub struct FirstChunk<'a>(Option<GroupedLines<'a>>);

impl<'a> FirstChunk<'a> {
    /// See [`GroupedLines::new`]; room is made for the points `body` likely holds
    /// ([`rows_hint`]).
    pub fn new(default_time: i64, column: fn(&[u8]) -> bool, body: &[u8]) -> Self {
        Self(Some(GroupedLines::with_capacity(
            default_time,
            column,
            rows_hint(body),
        )))
    }

    /// Groups the next point, or lets the chunk go when this point is one too many.
    pub fn push(&mut self, point: &impl PointView<'a>) {
        match &mut self.0 {
            Some(chunk) if chunk.len() < CHUNK_POINTS => chunk.push(point),
            Some(_) => self.0 = None,
            None => {}
        }
    }

    /// More than one chunk was offered: nothing was kept.
    pub fn overflowed(&self) -> bool {
        self.0.is_none()
    }

    /// The grouped chunk and its lines, unless it overflowed.
    pub fn finish(self) -> Option<(SeriesBatch, Vec<LineOf<'a>>)> {
        self.0.map(GroupedLines::finish)
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
        let body: String = (0..=CHUNK_POINTS).map(|i| format!("m v={i}\n")).collect();
        let mut c = FirstChunk::new(0, |_| true, b"");
        let mut seen = 0;
        crate::line_protocol::parse_lines_ref(
            body.as_bytes(),
            crate::model::Precision::Nanosecond,
            |p| {
                c.push(&p);
                seen += 1;
                assert_eq!(c.overflowed(), seen > CHUNK_POINTS);
            },
            |_| {},
        );
        assert!(c.overflowed() && c.finish().is_none());
        let mut c = FirstChunk::new(0, |_| true, b"");
        crate::line_protocol::parse_lines_ref(
            &body.as_bytes()[..body.len() - 1 - format!("m v={CHUNK_POINTS}").len()],
            crate::model::Precision::Nanosecond,
            |p| c.push(&p),
            |_| {},
        );
        let (batch, lines) = c.finish().expect("one whole chunk is kept");
        assert_eq!((batch.rows(), lines.len()), (CHUNK_POINTS, CHUNK_POINTS));
    }

    #[test]
    fn the_rows_hint_counts_lines_within_its_bounds() {
        assert_eq!(rows_hint(b""), 1);
        assert_eq!(rows_hint(b"m v=1"), 1);
        assert_eq!(rows_hint(b"m v=1\nm v=2\n"), 3);
        assert_eq!(rows_hint(&vec![b'\n'; 10 * HINT_MAX_ROWS]), HINT_MAX_ROWS);
        // Only the head is looked at.
        let mut body = vec![b'x'; HINT_SCAN_BYTES];
        body.extend_from_slice(b"\n\n\n");
        assert_eq!(rows_hint(&body), 1);
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
