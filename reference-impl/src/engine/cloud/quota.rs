//! Fixed five-minute rate windows ("All rates ... are accrued within a fixed five-minute
//! window. Once a rate is exceeded, an error response is returned until the current
//! five-minute window resets.").

use std::collections::BTreeMap;

use crate::api_error::{ApiError, Code};
use crate::model::Id;
use crate::storage::cloud::RateWindow;

/// Window length: five minutes.
pub const WINDOW: i64 = 300_000_000_000;

pub fn window_start(now: i64) -> i64 {
    now - now.rem_euclid(WINDOW)
}

/// Seconds until the current window ends, rounded up (what `Retry-After` carries).
pub fn seconds_to_window_end(now: i64) -> u64 {
    let left = window_start(now) + WINDOW - now;
    u64::try_from((left + 999_999_999) / 1_000_000_000).unwrap_or(0)
}

/// Charges `amount` to `org`'s window if it fits under `limit`; otherwise the 429 InfluxDB
/// Cloud answers, naming the limit (`limited_write`, `limited_delete_rate`, ...).
pub fn charge(
    windows: &mut BTreeMap<Id, RateWindow>,
    org: Id,
    now: i64,
    amount: u64,
    limit: Option<u64>,
    limit_name: &str,
) -> Result<(), ApiError> {
    let start = window_start(now);
    let w = windows.entry(org).or_default();
    if w.start != start {
        *w = RateWindow { start, used: 0 };
    }
    if let Some(limit) = limit {
        if w.used.saturating_add(amount) > limit {
            return Err(ApiError::new(
                Code::TooManyRequests,
                format!("org {org} has exceeded {limit_name} plan limit"),
            )
            .with_retry_after(seconds_to_window_end(now)));
        }
    }
    w.used = w.used.saturating_add(amount);
    Ok(())
}

/// The delete-rate limit: requests, not points, per window. The message follows the
/// documented `limited_write`/`limited_cardinality` family with the limit-event name
/// `limited_delete_rate`; Cloud's own text for it is UNCONFIRMED.
pub fn check_delete_rate(
    windows: &mut BTreeMap<Id, RateWindow>,
    org: Id,
    now: i64,
    limit: Option<u64>,
) -> Result<(), ApiError> {
    charge(windows, org, now, 1, limit, "limited_delete_rate")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_reset_and_retry_after_counts_down() {
        let org = Id::new(1).unwrap();
        let mut w = BTreeMap::new();
        let t = 10 * WINDOW + 60_000_000_000; // one minute into a window
        assert!(charge(&mut w, org, t, 60, Some(100), "limited_write").is_ok());
        let err = charge(&mut w, org, t, 41, Some(100), "limited_write").unwrap_err();
        assert_eq!(err.retry_after, Some(240));
        assert_eq!(
            err.message,
            "org 0000000000000001 has exceeded limited_write plan limit"
        );
        assert!(charge(&mut w, org, t, 40, Some(100), "limited_write").is_ok());
        assert!(charge(&mut w, org, 11 * WINDOW, 100, Some(100), "limited_write").is_ok());
        assert_eq!(seconds_to_window_end(11 * WINDOW + 1), 300);
    }
}
