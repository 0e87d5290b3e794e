//! Sliding-window limits on failures: N events per key in any window. In memory, per process
//! (SQLite); PostgreSQL counts in the database (`store::postgres::limits`).

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
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
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
            events: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.limit > 0
    }

    /// `Err(seconds)` to wait when `key` has reached the limit.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if !self.enabled() {
            return Ok(());
        }
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let Some(queue) = events.get_mut(key) else {
            return Ok(());
        };
        while queue.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            queue.pop_front();
        }
        if queue.len() < self.limit {
            return Ok(());
        }
        // The oldest event leaves the window first.
        let wait = queue
            .front()
            .map_or(self.window, |t| self.window.saturating_sub(now.duration_since(*t)));
        Err(wait.as_secs_f64().ceil().max(1.0) as u64)
    }

    pub fn record(&self, key: &str) {
        if !self.enabled() {
            return;
        }
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if events.len() >= SWEEP_AT && !events.contains_key(key) {
            let window = self.window;
            events.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let queue = events.entry(key.to_owned()).or_default();
        queue.push_back(now);
        if queue.len() > self.limit {
            queue.pop_front();
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
            assert!(l.check("k").is_ok());
            l.record("k");
        }
        let wait = l.check("k").unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(l.check("other").is_ok());
    }

    #[test]
    fn window_slides_and_zero_is_off() {
        let l = RateLimiter::new(1, Duration::from_millis(50));
        l.record("k");
        assert!(l.check("k").is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(l.check("k").is_ok());
        let off = RateLimiter::per_minute(0);
        for _ in 0..100 {
            off.record("k");
        }
        assert!(off.check("k").is_ok());
    }
}
