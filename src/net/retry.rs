//! When to try an upload again (publish.md §1.8): transport failures and 5xx answers, with
//! exponential back-off and jitter, a bounded number of retries and a bounded total time.
//! Never a 4xx. Each attempt re-opens the file, so nothing half-sent is reused.

use std::error::Error as _;
use std::time::Duration;

/// Retry limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The first back-off (doubled for each later retry).
    pub base_delay: Duration,
    /// No single back-off is longer than this.
    pub max_delay: Duration,
    /// No retry starts later than this after the first attempt began.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(30 * 60),
        }
    }
}

impl RetryPolicy {
    /// The back-off before retry number `retry` (1-based): `base * 2^(retry-1)`, capped, then
    /// a random point in its upper half ("equal jitter").
    #[must_use]
    pub fn delay(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(16);
        let full = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let half = full / 2;
        let millis = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=millis))
    }

    /// Whether retry number `retry` (1-based) may start after `elapsed` plus `delay`.
    #[must_use]
    pub fn allows(&self, retry: u32, elapsed: Duration, delay: Duration) -> bool {
        retry <= self.retries && elapsed + delay <= self.max_elapsed
    }
}

/// Whether a transport error is worth retrying: connection failures, resets, timeouts,
/// truncated bodies. Certificate and other TLS verification errors are not: they will not go
/// away by themselves.
#[must_use]
pub fn is_retryable_transport(err: &reqwest::Error) -> bool {
    if err.is_builder() || err.is_redirect() {
        return false;
    }
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("unknownissuer") {
            return false;
        }
        source = cause.source();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_bounded() {
        let policy = RetryPolicy {
            retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            max_elapsed: Duration::from_secs(2),
        };
        for _ in 0..50 {
            let d1 = policy.delay(1);
            assert!((50..=100).contains(&d1.as_millis()), "{d1:?}");
            let d2 = policy.delay(2);
            assert!((100..=200).contains(&d2.as_millis()), "{d2:?}");
            let d5 = policy.delay(5);
            assert!((175..=350).contains(&d5.as_millis()), "{d5:?}");
        }
        assert!(policy.allows(3, Duration::from_secs(1), Duration::from_millis(500)));
        assert!(!policy.allows(4, Duration::ZERO, Duration::ZERO));
        assert!(!policy.allows(1, Duration::from_millis(1900), Duration::from_millis(200)));
    }
}
