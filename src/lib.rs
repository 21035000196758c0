//! # sslproof: the engine
//!
//! Proves and checks the mathematics behind covariance-regularised self-supervised learning.
//! This crate is the engine: high-precision linear algebra on MPFR ([`hp`]), seeded samplers and
//! shrinkable recipes ([`check`]), a symbolic layer on symbolica behind the `symbolic` feature
//! ([`sym`]), claims with computed verdicts ([`claim`]), one tolerance policy ([`tolerance`]) and
//! the outputs ([`report`]). It depends on no other crate of the workspace: the claims live in
//! `sslproof-theorems`, the reference losses and the loss checker in `sslproof-losses`.

pub mod check;
pub mod claim;
pub mod hp;
pub mod report;
pub mod scalar;
pub mod sym;
pub mod tolerance;

pub use claim::{
    Check, Claim, Findings, Method, Mutant, Nature, Outcome, Proposition, Report, Role, Scope,
    Verdict,
};
