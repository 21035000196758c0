//! # sslproof: the engine
//!
//! Proves and checks the mathematics behind covariance-regularised self-supervised learning.
//! This crate is the engine: high-precision linear algebra on MPFR ([`hp`]), seeded samplers and
//! shrinkable recipes ([`check`]), a symbolic layer on symbolica behind the `symbolic` feature
//! ([`sym`]), claims, the context their checks run in and the verdicts computed from what ran
//! ([`claim`]), one tolerance policy ([`tolerance`]) and the outputs ([`report`]). It depends on
//! no other crate of the workspace: the claims live in `sslproof-theorems`, the reference losses
//! and the loss checker in `sslproof-losses`.

// Index loops mirror the formulas (row i, column j) in the matrix kernels.
#![allow(clippy::needless_range_loop)]

pub mod check;
pub mod claim;
pub mod hp;
pub mod report;
pub mod scalar;
pub mod sym;
pub mod tolerance;

/// What a claim file needs from the engine, in one import.
pub mod prelude {
    pub use crate::check::{Recipe, Spectrum, observed_orders};
    pub use crate::claim::run::{ArgSpec, run_claim};
    pub use crate::claim::{
        Claim, ClaimRun, Class, Config, Figure, Nature, Role, Run, Scope, SymThunk, Table,
    };
    pub use crate::hp::Mat;
    pub use crate::hp::sample::Sampler;
    pub use crate::report::plot;
    pub use crate::scalar::Scalar;
    pub use crate::tolerance::Tol;
}
