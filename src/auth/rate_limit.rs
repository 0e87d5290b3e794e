//! Sliding-window limits: N events per key in any window. In memory, per process (SQLite);
//! PostgreSQL counts in the database (`store::postgres::limits`), with the same rules.
//!
//! An attempt is counted when it is let through, before its outcome is known, so that concurrent
//! attempts cannot all pass a check that none of them has been counted in yet; an attempt that
//! turns out not to count (a successful login) is released again.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window of every brute-force limit (SPEC §3: N in any 60 s).
pub const WINDOW: Duration = Duration::from_secs(60);

/// Past this many keys, keys whose events have all expired are swept out.
const SWEEP_AT: usize = 10_000;

pub struct RateLimiter {
    limit: usize,
    window: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Per key, its counted events: when, and the ticket that releases it.
    events: HashMap<String, VecDeque<(Instant, u64)>>,
    next_ticket: u64,
}

impl RateLimiter {
    /// `limit == 0` turns the limiter off.
    pub fn per_minute(limit: u32) -> Self {
        Self::new(limit as usize, WINDOW)
    }

    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            state: Mutex::new(State::default()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.limit > 0
    }

    /// Counts an attempt of `key` unless it has reached the limit: `Ok(ticket)` to release it
    /// with, or `Err(seconds)` to wait. Always `Ok` when off.
    pub fn try_count(&self, key: &str) -> Result<u64, u64> {
        if !self.enabled() {
            return Ok(0);
        }
        let now = Instant::now();
        let window = self.window;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.events.len() >= SWEEP_AT && !state.events.contains_key(key) {
            state
                .events
                .retain(|_, q| q.back().is_some_and(|(t, _)| now.duration_since(*t) < window));
        }
        let ticket = state.next_ticket;
        let queue = state.events.entry(key.to_owned()).or_default();
        while queue.front().is_some_and(|(t, _)| now.duration_since(*t) >= window) {
            queue.pop_front();
        }
        if queue.len() >= self.limit {
            // The oldest event leaves the window first.
            let wait = queue
                .front()
                .map_or(window, |(t, _)| window.saturating_sub(now.duration_since(*t)));
            return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
        }
        queue.push_back((now, ticket));
        state.next_ticket += 1;
        Ok(ticket)
    }

    /// Uncounts the attempt `ticket` was given for (it did not count after all).
    pub fn release(&self, key: &str, ticket: u64) {
        if !self.enabled() {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(queue) = state.events.get_mut(key) {
            queue.retain(|(_, t)| *t != ticket);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_after_n_events_and_says_how_long() {
        let l = RateLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(l.try_count("k").is_ok());
        }
        let wait = l.try_count("k").unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(l.try_count("other").is_ok());
    }

    #[test]
    fn a_released_attempt_does_not_count() {
        let l = RateLimiter::new(2, Duration::from_secs(60));
        let first = l.try_count("k").unwrap();
        l.release("k", first);
        assert!(l.try_count("k").is_ok());
        assert!(l.try_count("k").is_ok());
        assert!(l.try_count("k").is_err());
    }

    #[test]
    fn window_slides_and_zero_is_off() {
        let l = RateLimiter::new(1, Duration::from_millis(50));
        assert!(l.try_count("k").is_ok());
        assert!(l.try_count("k").is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(l.try_count("k").is_ok());
        let off = RateLimiter::per_minute(0);
        for _ in 0..100 {
            assert!(off.try_count("k").is_ok());
        }
    }
}
