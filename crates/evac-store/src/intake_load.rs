//! How fast requests are coming in, so that background work can step aside during a surge.
//!
//! Two kinds of work follow intake without delaying its answers: the name keyer (SQLite) and
//! the online linker. Both were meant to use only spare CPU, at the lowest priority, but both
//! also read and write through the store at normal priority (the writer is one thread), and
//! under intake at 256 connections they cost about an eighth of all CPU per stored request;
//! without them the intake benchmark's p99 at 256 connections was lower in four of six
//! alternating pairs, and its p99/p50 in all six (docs/BENCHMARKS.md). So while requests
//! arrive at [`BUSY_REQUESTS_PER_S`] or more, both wait, each up to a backlog of its own, and
//! catch up once intake calms down.
//!
//! The app counts each stored request ([`IntakeLoad::count_request`]); the count runs in
//! windows of [`WINDOW_MS`], and intake is busy while the current or the last window reached
//! the busy rate. The store hands the same meter to everything that asks
//! ([`crate::Store::intake_load`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The arrival rate, in requests per second, from which intake counts as busy. A crisis
/// centre's ordinary day is far below it; the benchmarked surges are ten times above it.
pub const BUSY_REQUESTS_PER_S: u64 = 1_000;
/// The length of one counting window, in ms: short, so that the background resumes soon after
/// a surge.
pub const WINDOW_MS: u64 = 250;
/// Requests in one window that make intake busy.
const BUSY_REQUESTS_PER_WINDOW: u64 = BUSY_REQUESTS_PER_S * WINDOW_MS / 1_000;
/// The current window's number and its count share one word (window above, count below), so
/// that starting a new window and counting in it are one atomic step.
const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

/// A shared meter of the intake rate; clones count into the same meter.
#[derive(Debug, Clone)]
pub struct IntakeLoad {
    inner: Arc<Meter>,
}

#[derive(Debug)]
struct Meter {
    started: Instant,
    /// `window << COUNT_BITS | requests counted in it`.
    current: AtomicU64,
    /// The last window that reached the busy rate, plus one (zero: none did).
    last_busy_window: AtomicU64,
}

impl Default for IntakeLoad {
    fn default() -> Self {
        IntakeLoad {
            inner: Arc::new(Meter {
                started: Instant::now(),
                current: AtomicU64::new(0),
                last_busy_window: AtomicU64::new(0),
            }),
        }
    }
}

impl IntakeLoad {
    /// Counts one stored request.
    pub fn count_request(&self) {
        self.count_request_in(self.window_now());
    }

    /// Whether requests are coming in at the busy rate: true from the moment a window reaches
    /// it until the end of the window after it.
    pub fn busy(&self) -> bool {
        self.busy_in(self.window_now())
    }

    /// Whether background work with `backlog` items waiting should wait for the surge to pass:
    /// while intake is busy, until the backlog reaches `backlog_max`. `backlog` is asked only
    /// while intake is busy.
    pub fn defers(&self, backlog: impl FnOnce() -> u64, backlog_max: u64) -> bool {
        self.busy() && backlog() < backlog_max
    }

    fn window_now(&self) -> u64 {
        self.inner.started.elapsed().as_millis() as u64 / WINDOW_MS
    }

    fn count_request_in(&self, window: u64) {
        let meter = &self.inner;
        let mut current = meter.current.load(Ordering::Relaxed);
        let counted = loop {
            let counted = if current >> COUNT_BITS == window {
                (current & COUNT_MASK).saturating_add(1).min(COUNT_MASK)
            } else {
                1
            };
            match meter.current.compare_exchange_weak(
                current,
                window << COUNT_BITS | counted,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break counted,
                Err(now) => current = now,
            }
        };
        if counted == BUSY_REQUESTS_PER_WINDOW {
            meter
                .last_busy_window
                .fetch_max(window + 1, Ordering::Relaxed);
        }
    }

    fn busy_in(&self, window: u64) -> bool {
        match self.inner.last_busy_window.load(Ordering::Relaxed) {
            0 => false,
            busy_plus_one => window <= busy_plus_one,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_until_a_window_reaches_the_busy_rate() {
        let load = IntakeLoad::default();
        assert!(!load.busy_in(0));
        for _ in 1..BUSY_REQUESTS_PER_WINDOW {
            load.count_request_in(3);
        }
        assert!(!load.busy_in(3), "one request short of the busy rate");
        load.count_request_in(3);
        assert!(load.busy_in(3));
        assert!(load.busy_in(4), "busy through the next window");
        assert!(
            !load.busy_in(5),
            "quiet once a whole window passed below the rate"
        );
    }

    #[test]
    fn background_work_defers_only_while_busy_and_under_its_backlog() {
        let load = IntakeLoad::default();
        let unasked = || -> u64 { panic!("the backlog is asked only while intake is busy") };
        assert!(!load.defers(unasked, 10));
        // Until busy: a count that straddles two windows has to start again.
        while !load.busy() {
            load.count_request();
        }
        assert!(load.defers(|| 9, 10));
        assert!(!load.defers(|| 10, 10), "a full backlog goes ahead");
    }

    #[test]
    fn a_new_window_counts_from_zero() {
        let load = IntakeLoad::default();
        for _ in 1..BUSY_REQUESTS_PER_WINDOW {
            load.count_request_in(7);
        }
        // The same number again, spread over two windows: neither reaches the rate.
        load.count_request_in(8);
        assert!(!load.busy_in(8));
    }

    #[test]
    fn clones_count_into_one_meter_from_many_threads() {
        let load = IntakeLoad::default();
        std::thread::scope(|s| {
            for _ in 0..4 {
                let load = load.clone();
                s.spawn(move || {
                    for _ in 0..BUSY_REQUESTS_PER_WINDOW.div_ceil(4) {
                        load.count_request_in(2);
                    }
                });
            }
        });
        assert!(load.busy_in(2), "every thread's requests were counted");
    }
}
