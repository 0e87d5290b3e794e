//! Skipped PostgreSQL tests, said where a person reads the result.
//!
//! A test that skips still counts as passed, and the test runner hides the output of passing
//! tests; a notice printed from inside one is lost. So skips are counted, and when the test
//! binary exits (after the runner's `test result:` line) one line says how many did not run and
//! why.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

static SKIPPED: AtomicUsize = AtomicUsize::new(0);
static REASON: Mutex<String> = Mutex::new(String::new());
static REPORT_AT_EXIT: Once = Once::new();

/// Counts one skipped test.
pub fn record(reason: &str) {
    SKIPPED.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut first) = REASON.lock() {
        if first.is_empty() {
            first.push_str(reason);
        }
    }
    REPORT_AT_EXIT.call_once(|| {
        // SAFETY: registers a plain function with no arguments, which touches only statics.
        unsafe {
            libc::atexit(report);
        }
    });
}

extern "C" fn report() {
    let skipped = SKIPPED.load(Ordering::SeqCst);
    let reason = REASON.lock().map(|r| r.clone()).unwrap_or_default();
    let line = format!(
        "\nSKIPPED: {skipped} PostgreSQL test(s) above did not run and were counted as passed: {reason}\n\
         Start PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres), \
         or set REQUIRE_POSTGRES=1 to make this a failure.\n\n"
    );
    // Straight to the terminal: past the runner's capture, after its summary.
    let _ = std::io::stderr().write_all(line.as_bytes());
}
