//! Reference loss terms. Each is transcribed from the implementation it names (see
//! `../shared/reference-implementations.md`), at high precision on [`crate::hp::Mat`].

pub mod coding_rate;
pub mod contrastive;
pub mod covariance;
pub mod cross_correlation;
pub mod float;
pub mod kernels;
pub mod vicreg;
