//! The one retry loop (on `backon`), for every caller that talks to a service: uploads and
//! attestations (publish.md §1.8), the runner's OIDC ID token, Twirp calls of the artifact
//! service and image pulls. What differs between them is data:
//!
//! * the schedule, a [`RetryPolicy`]: how many retries, the first back-off and its growth, the
//!   longest back-off, jitter, and the latest time a retry may start;
//! * what is retried: for HTTP callers a [`RetryOn`] (which statuses, which transport
//!   failures); each caller applies it to its own error type and adds what is particular to its
//!   service (a Twirp success that is not JSON, a pull refused for good).
//!
//! The loop itself prints nothing: the caller hears of each retry before its wait and words
//! the message. Each attempt starts from scratch (an upload re-opens its file), so nothing
//! half-sent is reused.

use std::error::Error as _;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use backon::{BlockingRetryable as _, Retryable as _};

/// When and how often one caller tries again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The first back-off.
    pub base_delay: Duration,
    /// Each later back-off is the one before times this.
    pub factor: f64,
    /// No single back-off is longer than this.
    pub max_delay: Duration,
    /// Whether each back-off is a random point in its upper half ("equal jitter").
    pub jitter: bool,
    /// No retry starts later than this after the first attempt began.
    pub max_elapsed: Option<Duration>,
}

impl RetryPolicy {
    /// Uploads and attestations (publish.md §1.8): 3 retries, 1 s doubling to at most 30 s with
    /// jitter, none later than 30 minutes after the first attempt.
    pub const UPLOAD: RetryPolicy = RetryPolicy {
        retries: 3,
        base_delay: Duration::from_secs(1),
        factor: 2.0,
        max_delay: Duration::from_secs(30),
        jitter: true,
        max_elapsed: Some(Duration::from_secs(30 * 60)),
    };
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::UPLOAD
    }
}

impl RetryPolicy {
    /// The back-off before retry number `retry` (1-based): `base * factor^(retry-1)`, capped,
    /// then with jitter a random point in its upper half.
    #[must_use]
    pub fn delay(&self, retry: u32) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1).min(64)).unwrap_or(64);
        let nanos = (self.base_delay.as_nanos() as f64 * self.factor.powi(exponent)).round();
        let full = if nanos.is_finite() && nanos < self.max_delay.as_nanos() as f64 {
            // In range: below `max_delay`, which fits a u64 of nanoseconds for any sane policy.
            Duration::from_nanos(nanos as u64)
        } else {
            self.max_delay
        };
        if !self.jitter {
            return full;
        }
        let half = full / 2;
        let millis = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=millis))
    }

    /// Whether retry number `retry` (1-based) may start after `elapsed` plus `delay`.
    #[must_use]
    pub fn allows(&self, retry: u32, elapsed: Duration, delay: Duration) -> bool {
        retry <= self.retries && self.max_elapsed.is_none_or(|max| elapsed + delay <= max)
    }

    /// The back-offs of one run, started now.
    fn schedule(&self) -> Schedule {
        Schedule {
            policy: *self,
            retry: 0,
            started: Instant::now(),
        }
    }
}

/// The back-offs of one run: `None` once the policy allows no more retries.
#[derive(Debug)]
struct Schedule {
    policy: RetryPolicy,
    retry: u32,
    started: Instant,
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.retry = self.retry.saturating_add(1);
        let delay = self.policy.delay(self.retry);
        self.policy
            .allows(self.retry, self.started.elapsed(), delay)
            .then_some(delay)
    }
}

/// One retry about to happen, as the caller hears of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Its number (1-based; the attempt that failed has the same number).
    pub number: u32,
    /// The retries the policy allows.
    pub of: u32,
    /// The wait before it.
    pub delay: Duration,
}

/// Runs `attempt` (given its number, from 1) until it succeeds, fails in a way `retryable`
/// rejects, or `policy` allows no more retries; `on_retry` hears of each retry before its wait.
/// Returns the last result and the number of attempts made.
pub async fn retry<T, E, Fut>(
    policy: &RetryPolicy,
    mut attempt: impl FnMut(u32) -> Fut,
    retryable: impl FnMut(&E) -> bool,
    mut on_retry: impl FnMut(&E, Retry),
) -> (Result<T, E>, u32)
where
    Fut: Future<Output = Result<T, E>>,
{
    let made = AtomicU32::new(0);
    let result = (|| attempt(made.fetch_add(1, Ordering::Relaxed) + 1))
        .retry(policy.schedule())
        .sleep(tokio::time::sleep)
        .when(retryable)
        .notify(|err: &E, delay: Duration| {
            on_retry(err, retry_of(policy, &made, delay));
        })
        .await;
    (result, made.load(Ordering::Relaxed))
}

/// [`retry`] for blocking work (the thread sleeps between attempts).
pub fn retry_blocking<T, E>(
    policy: &RetryPolicy,
    mut attempt: impl FnMut(u32) -> Result<T, E>,
    retryable: impl FnMut(&E) -> bool,
    mut on_retry: impl FnMut(&E, Retry),
) -> (Result<T, E>, u32) {
    let made = AtomicU32::new(0);
    let result = (|| attempt(made.fetch_add(1, Ordering::Relaxed) + 1))
        .retry(policy.schedule())
        .sleep(std::thread::sleep)
        .when(retryable)
        .notify(|err: &E, delay: Duration| {
            on_retry(err, retry_of(policy, &made, delay));
        })
        .call();
    (result, made.load(Ordering::Relaxed))
}

fn retry_of(policy: &RetryPolicy, made: &AtomicU32, delay: Duration) -> Retry {
    Retry {
        number: made.load(Ordering::Relaxed),
        of: policy.retries,
        delay,
    }
}

/// Which failures of an HTTP exchange are worth another attempt. Never a redirect or a 4xx
/// other than those listed: they will not go away by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryOn {
    /// Every 5xx answer.
    pub server_errors: bool,
    /// These statuses as well. Ex) `429`
    pub statuses: &'static [u16],
    /// Which failures to get an answer at all.
    pub transport: Transport,
}

/// Which transport failures (no answer) are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Any.
    Any,
    /// Connection failures, resets, timeouts, truncated bodies, but not a certificate or other
    /// TLS verification error (nor a request that could not be built, nor a redirect error).
    NotTls,
    /// Any but a failure to connect (refused, DNS): such a service is not there.
    NotConnect,
}

impl RetryOn {
    /// Whether an answer with `status` is retried.
    #[must_use]
    pub fn status(&self, status: u16) -> bool {
        (self.server_errors && (500..=599).contains(&status)) || self.statuses.contains(&status)
    }

    /// Whether a request that got no answer (`err`) is retried.
    #[must_use]
    pub fn transport(&self, err: &reqwest::Error) -> bool {
        match self.transport {
            Transport::Any => true,
            Transport::NotConnect => !err.is_connect(),
            Transport::NotTls => is_retryable_transport(err),
        }
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
            factor: 2.0,
            max_delay: Duration::from_millis(350),
            jitter: true,
            max_elapsed: Some(Duration::from_secs(2)),
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

    #[test]
    fn schedules_without_jitter_are_exact_and_unbounded_in_time_when_asked() {
        let by_half = RetryPolicy {
            retries: 4,
            base_delay: Duration::from_millis(2000),
            factor: 1.5,
            max_delay: Duration::from_secs(20),
            jitter: false,
            max_elapsed: None,
        };
        let delays: Vec<_> = by_half.schedule().collect();
        assert_eq!(
            delays,
            [2000, 3000, 4500, 6750].map(Duration::from_millis).to_vec()
        );
        let capped = RetryPolicy {
            max_delay: Duration::from_secs(4),
            ..by_half
        };
        assert_eq!(capped.delay(4), Duration::from_secs(4));
        assert_eq!(capped.delay(u32::MAX), Duration::from_secs(4));
        assert!(by_half.allows(4, Duration::from_secs(86_400), Duration::from_secs(20)));
    }

    #[test]
    fn the_loop_stops_at_success_refusal_or_the_last_retry() {
        let quick = RetryPolicy {
            retries: 2,
            base_delay: Duration::from_millis(1),
            factor: 2.0,
            max_delay: Duration::from_millis(2),
            jitter: false,
            max_elapsed: None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        // Always failing, always retryable: 1 + 2 attempts, each retry heard before its wait.
        let mut heard = Vec::new();
        let (result, attempts) = runtime.block_on(retry(
            &quick,
            |n| async move { Err::<(), u32>(n) },
            |_| true,
            |err, r| heard.push((*err, r.number, r.of, r.delay)),
        ));
        assert_eq!((result, attempts), (Err(3), 3));
        assert_eq!(
            heard,
            [
                (1, 1, 2, Duration::from_millis(1)),
                (2, 2, 2, Duration::from_millis(2))
            ]
        );
        // A refusal ends the loop at once.
        let (result, attempts) = runtime.block_on(retry(
            &quick,
            |n| async move { Err::<(), u32>(n) },
            |_| false,
            |_, _| panic!("no retry"),
        ));
        assert_eq!((result, attempts), (Err(1), 1));
        // Success on the second attempt; the blocking loop counts the same way.
        let (result, attempts) = retry_blocking(
            &quick,
            |n| if n < 2 { Err(n) } else { Ok(n) },
            |_| true,
            |_, _| {},
        );
        assert_eq!((result, attempts), (Ok(2), 2));
    }

    #[test]
    fn statuses_and_transport_failures_per_caller() {
        let upload = RetryOn {
            server_errors: true,
            statuses: &[],
            transport: Transport::NotTls,
        };
        assert!(upload.status(503) && upload.status(500) && upload.status(599));
        assert!(!upload.status(429) && !upload.status(400) && !upload.status(308));
        let twirp = RetryOn {
            server_errors: false,
            statuses: &[429, 500, 502, 503, 504],
            transport: Transport::NotConnect,
        };
        assert!(twirp.status(429) && twirp.status(502));
        assert!(!twirp.status(501) && !twirp.status(404));
    }
}
