//! Standard output that a closed pipe ends quietly: `influx-conformance list | head` prints
//! what `head` reads and exits 0, where `print!` would panic on the broken pipe.

use std::io::Write;

/// Writes `text` to standard output; false when the reader has gone (stop printing).
pub fn emit(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_ok()
}
