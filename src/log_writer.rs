//! Where log lines go: stderr, through a buffer that a thread of its own writes out every 50 ms
//! (sooner when 64 KiB have gathered). A request's line then costs a copy under an uncontended
//! lock instead of a `write` system call on the request's thread; under load, one call carries
//! hundreds of lines. Lines are flushed on exit and before a panic's message.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

const FLUSH_EVERY: Duration = Duration::from_millis(50);
const FLUSH_AT: usize = 64 * 1024;

#[derive(Default)]
struct Shared {
    lines: Mutex<Vec<u8>>,
    full: Condvar,
}

impl Shared {
    fn lines(&self) -> MutexGuard<'_, Vec<u8>> {
        // A panic while holding the lock leaves whole lines behind (a line is appended at once).
        self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn flush(&self) {
        let batch = std::mem::take(&mut *self.lines());
        if !batch.is_empty() {
            let _ = std::io::stderr().lock().write_all(&batch);
        }
    }
}

/// The writer tracing's formatter writes each formatted event into, once per event.
#[derive(Clone)]
pub struct BufferedStderr(Arc<Shared>);

static INSTALLED: OnceLock<BufferedStderr> = OnceLock::new();

impl BufferedStderr {
    /// The process's writer, its flushing thread started on first use. `None` when no thread can
    /// be started: write to stderr directly then.
    pub fn install() -> Option<Self> {
        if let Some(writer) = INSTALLED.get() {
            return Some(writer.clone());
        }
        let shared = Arc::new(Shared::default());
        let flusher = shared.clone();
        std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || loop {
                {
                    let lines = flusher.lines();
                    if lines.len() < FLUSH_AT {
                        let _ = flusher.full.wait_timeout(lines, FLUSH_EVERY);
                    }
                }
                flusher.flush();
            })
            .ok()?;
        let writer = INSTALLED.get_or_init(|| Self(shared)).clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            flush();
            previous(info);
        }));
        Some(writer)
    }
}

/// Writes out what has gathered (before exit, or before writing to stderr directly).
pub fn flush() {
    if let Some(writer) = INSTALLED.get() {
        writer.0.flush();
    }
}

impl Write for BufferedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut lines = self.0.lines();
        lines.extend_from_slice(buf);
        if lines.len() >= FLUSH_AT {
            self.0.full.notify_one();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BufferedStderr {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}
