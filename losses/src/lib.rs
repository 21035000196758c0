//! # sslproof-losses: reference losses and the loss checker
//!
//! The losses of self-supervised learning as their official and popular implementations compute
//! them (`../shared/reference-implementations.md`): at any MPFR precision with analytic
//! gradients, and in `f64`/`f32` with convention knobs; their registry (variants, parameters,
//! inputs, common mistakes); a rounding-error model that derives tolerances for a user's
//! precision; the checker behind `sslproof check`; golden files; `.npy`/`.npz` I/O.
//!
//! It uses the engine without its `symbolic` feature: nothing here can reach symbolica.

pub mod checker;
pub mod coding_rate;
pub mod contrastive;
pub mod covariance;
pub mod cross_correlation;
pub mod float;
pub mod golden;
pub mod kernels;
pub mod npy;
pub mod registry;
pub mod rounding;
pub mod vicreg;
