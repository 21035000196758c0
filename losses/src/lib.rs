//! # sslproof-losses: reference losses and the loss checker
//!
//! The losses of self-supervised learning as their official and popular implementations compute
//! them (`../shared/reference-implementations.md`). One loss is one module — its MPFR form with
//! analytic gradients, its `f64`/`f32` form with the convention knobs through which
//! implementations differ, its variants and common mistakes, and its rounding-model magnitudes —
//! implementing [`loss::Loss`]; [`registry::LOSSES`] lists them. Around them: a rounding-error
//! model that derives tolerances for a user's precision ([`rounding`]), the checker behind
//! `sslproof check` ([`checker`]), golden files ([`golden`]) and `.npy`/`.npz` I/O ([`npy`]).
//!
//! It uses the engine without its `symbolic` feature: nothing here can reach symbolica.

// Index loops mirror the formulas (row i, column j) in the matrix kernels.
#![allow(clippy::needless_range_loop)]

pub mod batch;
pub mod dense;
pub mod float;
pub mod kernels;
pub mod loss;
pub mod registry;
pub mod rounding;

pub mod align;
pub mod barlow_twins;
pub mod coding_rate;
pub mod corinfomax;
pub mod nt_xent;
pub mod simsiam;
pub mod uniformity;
pub mod vicreg;

pub mod checker;
pub mod estimate;
pub mod golden;
pub mod input;
pub mod npy;
pub mod power;
