//! The symbolic layer (symbolica), behind the `symbolic` feature.
//!
//! symbolica runs unlicensed in a mode that allows **one thread on the machine** at a time and
//! aborts the process when a second one uses it. So every symbolic computation in this crate runs
//! on one long-lived worker thread: [`run`] sends it a job and waits for the answer. Callers on
//! any thread (cargo's parallel test threads included) only ever see plain data (`bool`,
//! `String`, `rug::Float`) come back. symbolica prints a licence notice on stdout at first use;
//! we never hide it.
//!
//! Without the feature, [`run`] answers [`SymError::Unavailable`] and the checks that need it are
//! reported as not run.

use std::fmt;

/// Why a symbolic job gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymError {
    /// Built without the `symbolic` feature.
    Unavailable,
    /// The job panicked on the worker (the message is kept); the worker lives on.
    Panicked(String),
}

impl fmt::Display for SymError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SymError::Unavailable => {
                f.write_str("symbolic checks not run: built without the `symbolic` feature")
            }
            SymError::Panicked(m) => write!(f, "symbolic job failed: {m}"),
        }
    }
}

impl std::error::Error for SymError {}

/// Whether symbolic checks can run in this build.
pub const AVAILABLE: bool = cfg!(feature = "symbolic");

#[cfg(feature = "symbolic")]
mod worker {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::mpsc::{Sender, channel};
    use std::sync::{Mutex, OnceLock};

    use super::SymError;

    type Job = Box<dyn FnOnce() + Send + 'static>;

    static WORKER: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();

    fn sender() -> Sender<Job> {
        WORKER
            .get_or_init(|| {
                let (tx, rx) = channel::<Job>();
                std::thread::Builder::new()
                    .name("symbolica".into())
                    .spawn(move || {
                        for job in rx {
                            job();
                        }
                    })
                    .expect("spawn the symbolica worker thread");
                Mutex::new(tx)
            })
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T, SymError> {
        let (tx, rx) = channel();
        let wrapped: Job = Box::new(move || {
            let r = catch_unwind(AssertUnwindSafe(job)).map_err(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into());
                SymError::Panicked(msg)
            });
            let _ = tx.send(r);
        });
        sender()
            .send(wrapped)
            .map_err(|_| SymError::Panicked("worker gone".into()))?;
        rx.recv()
            .map_err(|_| SymError::Panicked("worker dropped the job".into()))?
    }
}

/// Runs `job` on the symbolica worker thread and returns its result.
#[cfg(feature = "symbolic")]
pub fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T, SymError> {
    worker::run(job)
}

/// Without the `symbolic` feature: always [`SymError::Unavailable`].
#[cfg(not(feature = "symbolic"))]
pub fn run<T: Send + 'static>(_job: impl FnOnce() -> T + Send + 'static) -> Result<T, SymError> {
    Err(SymError::Unavailable)
}

#[cfg(feature = "symbolic")]
pub mod algebra;
