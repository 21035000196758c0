//! # The theorem modules
//!
//! One module per claim family of `../shared/claims.md`, each using only the engine's public API.
//! [`catalogue`] lists every claim with the function that produces its findings; [`run`] turns
//! findings into a report with a computed verdict.

use sslproof::claim::{Check, Method, Outcome};
use sslproof::sym::SymError;

/// Runs a symbolic job on the symbolica worker; without the `symbolic` feature it evaluates to
/// `Err(SymError::Unavailable)` and the job is not compiled.
#[cfg(feature = "symbolic")]
macro_rules! sym_job {
    ($($body:tt)*) => {
        sslproof::sym::run(move || { $($body)* })
    };
}
#[cfg(not(feature = "symbolic"))]
macro_rules! sym_job {
    ($($body:tt)*) => {
        Err::<_, sslproof::sym::SymError>(sslproof::sym::SymError::Unavailable)
    };
}

/// A check from a symbolic job's answer: holds, fails with the counterexample, or not run.
pub fn sym_check(name: &str, method: Method, r: Result<Result<String, String>, SymError>) -> Check {
    let outcome = match r {
        Ok(Ok(s)) => Outcome::Holds(s),
        Ok(Err(s)) => Outcome::Fails(s),
        Err(e) => Outcome::NotRun(e.to_string()),
    };
    Check::new(name, method, outcome)
}

/// A check from a computed result: `Ok(detail)` holds, `Err(counterexample)` fails.
pub fn checked(name: impl Into<String>, method: Method, r: Result<String, String>) -> Check {
    Check::new(
        name,
        method,
        match r {
            Ok(s) => Outcome::Holds(s),
            Err(s) => Outcome::Fails(s),
        },
    )
}

pub mod dynamics;
pub mod entropy;
pub mod gradients;
pub mod isotropy;
pub mod taylor;

use sslproof::claim::{Claim, Findings, Report, Verdict};

/// Settings for a run of the catalogue. The defaults are what `cargo test`, `sslproof verify`
/// and the committed snapshots use.
#[derive(Clone, Debug)]
pub struct Config {
    /// Working precision in bits.
    pub prec: u32,
    /// Randomised cases for the main property of a claim.
    pub cases: usize,
    /// The seed of every randomised check (each check derives its own from it).
    pub seed: u64,
    /// Largest dimension with a fully symbolic matrix.
    pub sym_d_max: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            prec: 256,
            cases: 1000,
            seed: 0x55_1f_2022,
            sym_d_max: 6,
        }
    }
}

/// A claim and the function that checks it.
pub struct Entry {
    pub claim: Claim,
    pub run: fn(&Config) -> Findings,
}

/// Every claim, in catalogue order.
pub fn catalogue() -> Vec<Entry> {
    let mut all = taylor::entries();
    all.extend(isotropy::entries());
    all.extend(entropy::entries());
    all.extend(gradients::entries());
    all
}

/// Runs one entry: findings, then the computed verdict and its one-line reason.
pub fn run(entry: &Entry, cfg: &Config) -> Report {
    let findings = (entry.run)(cfg);
    let verdict = Verdict::compute(entry.claim.nature, &findings);
    let mut report = Report {
        claim: entry.claim.clone(),
        findings,
        verdict,
        summary: String::new(),
    };
    report.summary = sslproof::report::summarize(&report);
    report
}
