//! # sslproof: the engine
//!
//! Proves and checks the mathematics behind covariance-regularised self-supervised learning.
//! This crate is the engine: high-precision linear algebra on MPFR ([`hp`]), seeded samplers and
//! shrinkable recipes ([`check`]), a symbolic layer on symbolica behind the `symbolic` feature
//! ([`sym`]), claims with computed verdicts ([`claim`]), one tolerance policy ([`tolerance`]),
//! reference loss terms ([`losses`]) and the outputs ([`report`]). The theorem modules that use
//! it live in `theorems/` ([`theorems`]).

pub mod check;
pub mod checker;
pub mod claim;
pub mod golden;
pub mod hp;
pub mod io;
pub mod losses;
pub mod registry;
pub mod report;
pub mod rounding;
pub mod scalar;
pub mod sym;
pub mod tolerance;

#[path = "../theorems/mod.rs"]
pub mod theorems;

pub use claim::{
    Check, Claim, Findings, Method, Mutant, Nature, Outcome, Proposition, Report, Role, Scope,
    Verdict,
};
