//! The progress bar of long runs (`run`, `fuzz`): shown only on a terminal (standard error is
//! a TTY), only once the work has taken longer than a moment (2 s; `INFLUX_CONFORMANCE_PROGRESS_DELAY_MS`
//! changes it, for tests), never with `--quiet`. Nothing is drawn when output goes to a file or
//! a pipe.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long work runs before a bar appears.
const DELAY: Duration = Duration::from_secs(2);

pub struct Progress {
    bar: indicatif::ProgressBar,
    done: Arc<AtomicBool>,
}

/// Whether a bar may be drawn at all.
pub fn wanted(quiet: bool, is_terminal: bool) -> bool {
    !quiet && is_terminal
}

impl Progress {
    /// A bar over `total` steps with the indicatif `template`; hidden until the delay passes
    /// (and for good when it must not be drawn).
    pub fn new(total: u64, template: &str, quiet: bool) -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::hidden(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let done = Arc::new(AtomicBool::new(false));
        if wanted(quiet, std::io::stderr().is_terminal()) {
            let delay = std::env::var("INFLUX_CONFORMANCE_PROGRESS_DELAY_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .map(Duration::from_millis)
                .unwrap_or(DELAY);
            let show = |bar: &indicatif::ProgressBar| {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(200));
                bar.tick();
            };
            if delay.is_zero() {
                show(&bar);
            } else {
                let (bar, done) = (bar.clone(), done.clone());
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    if !done.load(Ordering::SeqCst) {
                        show(&bar);
                    }
                });
            }
        }
        Self { bar, done }
    }

    pub fn bar(&self) -> &indicatif::ProgressBar {
        &self.bar
    }

    /// Clears the bar (if it was drawn) for the report that follows.
    pub fn finish(&self) {
        self.done.store(true, Ordering::SeqCst);
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_terminal_gets_a_bar() {
        assert!(wanted(false, true));
        assert!(!wanted(false, false));
        assert!(!wanted(true, true));
    }
}
