//! What the benches share: the server's allocator, a best-of-N timer and criterion's settings.
//! Each bench includes this module with `mod common;`; an item one bench does not use is
//! allowed to be dead there.

use std::time::{Duration, Instant};

use criterion::Criterion;

// The allocator the server runs with (see src/main.rs): the points' vectors, unescaped tokens
// and stored blocks are allocated and freed by it in the product.
influx_reference::use_mimalloc!();

/// The shortest of `runs` timed calls of `f`.
#[allow(dead_code)] // not used by the parse bench, which interleaves its parsers
pub fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Few short samples: the benches print their own best-of-N figures besides criterion's.
#[allow(dead_code)] // not used by the write bench, which has no criterion group
pub fn criterion_config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}
