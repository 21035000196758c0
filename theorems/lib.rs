//! # sslproof-theorems: the claims of the notes
//!
//! One file per claim of `../shared/claims.md`, in one folder per family
//! (`taylor/neg_logdet_taylor_second_order.rs`, …). A claim file holds everything about its
//! claim and nothing about any other: the quote, its place and the statement as written; the
//! verdict class its author expects; the propositions, whose checks are functions of the form
//! under test; the mutants, plausible wrong forms run through the same functions; the arguments
//! behind any "for every d"; and the derivation text. It uses the engine's public API only
//! ([`sslproof::prelude`]), and the reference losses of `sslproof-losses`.
//!
//! [`CATALOGUE`] lists every claim; [`run`] runs one into a report with a computed verdict.
#![cfg_attr(not(feature = "symbolic"), allow(unused))]

use sslproof::claim::run::run_claim;
use sslproof::claim::{Claim, ClaimRun, Config, Report};

/// A symbolic check of the form: `sym!(|f| body)` is the closure that, given the form `f` (bound
/// by the pattern), hands the engine `body` to evaluate on the symbolica worker. Without the
/// `symbolic` feature the body is not compiled and the check reads "not run".
#[cfg(feature = "symbolic")]
macro_rules! sym {
    (|$f:pat_param| $body:expr) => {
        move |$f| -> Option<sslproof::claim::SymThunk> { Some(Box::new(move || $body)) }
    };
}
#[cfg(not(feature = "symbolic"))]
macro_rules! sym {
    (|$f:pat_param| $body:expr) => {
        |_| -> Option<sslproof::claim::SymThunk> { None }
    };
}

/// Family A: the Taylor expansion of the negative coding rate.
pub mod taylor {
    pub mod free_coefficients_under_feature_rescaling;
    pub mod neg_logdet_taylor_second_order;
    pub mod second_order_form_eq_frobenius_dist_to_scaled_identity;
    pub mod vicreg_covariance_penalty_of_taylor_offdiagonal;
    pub mod vicreg_variance_hinge_of_taylor_diagonal;
}

/// Family B: determinant, volume and isotropy.
pub mod isotropy {
    pub mod coding_rate_max_at_fixed_trace_is_isotropic;
    pub mod det_gradient_weights_inverse_eigenvalues;
    pub mod det_le_prod_diag_of_psd;
    pub mod det_le_trace_div_dim_pow_dim_of_psd;
    pub mod ellipsoid_volume_eq_ball_volume_mul_sqrt_det;
    pub mod full_rank_of_diagonal_of_pos_diag;
    pub mod isotropic_optimisers_of_the_losses;
}

/// Family C: entropy, information and the coding rate.
pub mod entropy {
    pub mod coding_rate_conventions_and_batch_dimension;
    pub mod coding_rate_eq_gaussian_channel_information;
    pub mod gaussian_entropy_eq_half_logdet_two_pi_e;
    pub mod hutchinson_unbiased_with_variance;
    pub mod infonce_split_and_mutual_information_bound;
}

/// Family D: normalised vectors, gradients and collapse.
pub mod gradients {
    pub mod centre_residual_decomposition_of_unit_vectors;
    pub mod coding_rate_and_vicreg_gradients_closed_forms;
    pub mod constant_map_minimises_alignment_and_collapses;
    pub mod infonce_anchor_gradient_splits_into_centre_and_residual;
    pub mod normalize_jacobian_eq_projection_div_norm;
}

/// Family E: the frame itself.
pub mod objective {
    pub mod logdet_of_covariance_singular_when_batch_le_dim;
    pub mod losses_of_the_form_alignment_plus_covariance_regulariser;
}

/// Family F: SimSiam's collapse avoidance, the seed paper's findings checked in miniature.
pub mod simsiam {
    pub mod bias_only_predictor_prevents_collapse;
    pub mod infonce_negatives_extra_gradient_decentres_and_decorrelates;
    pub mod miniature;
    pub mod predictor_is_not_an_expectation_over_augmentations;
    pub mod simsiam_extra_gradient_decentres_and_decorrelates;
    pub mod symmetric_siamese_collapses_asymmetry_avoids;
}

/// A claim and the function that builds its findings.
pub struct Entry {
    pub claim: &'static Claim,
    pub run: fn(&mut ClaimRun),
}

macro_rules! catalogue {
    ($($family:ident :: $id:ident),* $(,)?) => {
        /// Every claim, in catalogue order (the labels of `claims.md`).
        pub static CATALOGUE: &[Entry] = &[
            $(Entry { claim: &$family::$id::CLAIM, run: $family::$id::run }),*
        ];
    };
}

catalogue![
    taylor::neg_logdet_taylor_second_order,
    taylor::vicreg_variance_hinge_of_taylor_diagonal,
    taylor::vicreg_covariance_penalty_of_taylor_offdiagonal,
    taylor::second_order_form_eq_frobenius_dist_to_scaled_identity,
    taylor::free_coefficients_under_feature_rescaling,
    isotropy::det_le_trace_div_dim_pow_dim_of_psd,
    isotropy::coding_rate_max_at_fixed_trace_is_isotropic,
    isotropy::det_gradient_weights_inverse_eigenvalues,
    isotropy::det_le_prod_diag_of_psd,
    isotropy::full_rank_of_diagonal_of_pos_diag,
    isotropy::ellipsoid_volume_eq_ball_volume_mul_sqrt_det,
    isotropy::isotropic_optimisers_of_the_losses,
    entropy::gaussian_entropy_eq_half_logdet_two_pi_e,
    entropy::coding_rate_eq_gaussian_channel_information,
    entropy::infonce_split_and_mutual_information_bound,
    entropy::coding_rate_conventions_and_batch_dimension,
    entropy::hutchinson_unbiased_with_variance,
    gradients::normalize_jacobian_eq_projection_div_norm,
    gradients::centre_residual_decomposition_of_unit_vectors,
    gradients::infonce_anchor_gradient_splits_into_centre_and_residual,
    gradients::constant_map_minimises_alignment_and_collapses,
    gradients::coding_rate_and_vicreg_gradients_closed_forms,
    objective::losses_of_the_form_alignment_plus_covariance_regulariser,
    objective::logdet_of_covariance_singular_when_batch_le_dim,
    simsiam::symmetric_siamese_collapses_asymmetry_avoids,
    simsiam::predictor_is_not_an_expectation_over_augmentations,
    simsiam::simsiam_extra_gradient_decentres_and_decorrelates,
    simsiam::infonce_negatives_extra_gradient_decentres_and_decorrelates,
    simsiam::bias_only_predictor_prevents_collapse,
];

/// Runs one claim under `cfg`: its findings, the computed verdict and its one-line reason.
pub fn run(entry: &Entry, cfg: &Config) -> Report {
    run_claim(entry.claim, entry.run, cfg)
}

/// The claim with this id or label (`A1`, case-insensitive).
pub fn find(id_or_label: &str) -> Option<&'static Entry> {
    CATALOGUE
        .iter()
        .find(|e| e.claim.id == id_or_label || e.claim.label.eq_ignore_ascii_case(id_or_label))
}
