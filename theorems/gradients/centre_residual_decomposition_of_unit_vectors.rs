//! # D2: de-centering enforces non-zero variance in every dimension
//!
//! ## Main statements
//! * `centre_residual_decomposition_of_unit_vectors`: for unit vectors `z_i = o + r_i` (centre
//!   `o`, residuals `r_i`), `‖o‖² + mean‖r_i‖² = 1` and `tr Σ = 1 − ‖o‖²`: de-centering forces
//!   variance in total, not in every dimension (three unit vectors at 120° in a plane of `R³` have
//!   `o = 0` and `Σ₃₃ = 0`).
//!
//! ## Implementation notes
//! The identity `mean‖z_i − o‖² = mean‖z_i‖² − ‖o‖²` with every coordinate symbolic for `B ≤ 4`,
//! `d ≤ 3`, every size by expanding the square (cited); numerics on random unit batches at the
//! working precision, with `‖o‖` across `(0, 1)`.
//!
//! ## References
//! Zhang et al. (2022), the notes' paper (its vector decomposition).
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 3 (Regularizer Ω(Σ)).

use rug::Float;
use sslproof::hp::vec::{dot, norm, normalize};
use sslproof::prelude::*;
use sslproof_losses::batch::{Centring, Divisor, covariance};

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "centre_residual_decomposition_of_unit_vectors",
    label: "D2",
    family: "gradients",
    title: "De-centering enforces non-zero variance in every dimension",
    quote: "De-centering: enforces non-zero variance in every dimension (so features can't collapse to a constant).",
    place: "A unified framework for covariance-regularized SSL, item 3 (Regularizer Ω(Σ))",
    statement: r"\lVert o\rVert<1\ \Longrightarrow\ \Sigma_{jj}>0\ \ \forall j",
    nature: Nature::Mathematical,
    expected: Class::WrongAsWrittenCorrected,
};

/// Unit vectors evenly spaced on a circle in the (e₁, e₂) plane of `R^d`.
fn planar_batch(prec: u32, b: usize, d: usize) -> Mat {
    let two_pi = Float::with_val(prec, rug::float::Constant::Pi) * 2u32;
    Mat::from_fn(b, d, prec, |i, j| {
        let angle = Float::with_val(prec, &two_pi * i as u64) / b as u64;
        match j {
            0 => angle.cos(),
            1 => angle.sin(),
            _ => Float::new(prec),
        }
    })
}

/// Does de-centering force variance in every dimension? Three unit vectors at 120° in the
/// (e₁, e₂) plane of R³.
fn every_dimension(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    let z = planar_batch(prec, 3, 3);
    let sigma = covariance(&z, Centring::Centred, Divisor::B).map_err(|e| e.to_string())?;
    let o: Vec<Float> = (0..3)
        .map(|j| (0..3).fold(Float::new(prec), |a, i| a + z.at(i, j)) / 3u32)
        .collect();
    run.count(1);
    let o_norm = norm(&o);
    let detail = format!(
        "three unit vectors at 120° in the (e₁, e₂) plane of R³: ‖o‖ = {o_norm:.1e} (fully de-centred), tr Σ = {:.4}, Σ₃₃ = {}",
        sigma.trace().expect("square"),
        sigma.at(2, 2)
    );
    if o_norm < 1 && sigma.at(2, 2).is_zero() {
        Err(detail)
    } else {
        Ok(detail)
    }
}

/// Claimed decompositions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decomposition {
    /// `‖o‖² + mean‖r‖² = 1` and `tr Σ = 1 − ‖o‖²`.
    Theorem,
    /// `‖o‖ + mean‖r‖² = 1`.
    NormNotSquared,
    /// `tr Σ = 1 + ‖o‖²`.
    TracePlusCentre,
}

/// The decomposition on random unit batches with a shared direction, so that `‖o‖` ranges over
/// (0, 1).
fn decomposition_numeric(run: &mut Run, v: &Decomposition) -> Result<String, String> {
    let prec = run.prec();
    let mut s = run.sampler();
    let tol = Tol::linalg(prec, 64, 0);
    let cases = run.scaled(40);
    for case in 0..cases {
        let d = 2 + case % 6;
        let b = 2 + 3 * (case % 7);
        let shared = s.unit_vector(d);
        let w = Float::with_val(prec, (case % 40) as u64) / 40u32;
        let rows: Vec<Vec<Float>> = (0..b)
            .map(|_| {
                let v = s.unit_vector(d);
                normalize(
                    &v.iter()
                        .zip(&shared)
                        .map(|(x, y)| {
                            Float::with_val(prec, x + Float::with_val(prec, y * &w) * 3u32)
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let z = Mat::from_fn(b, d, prec, |i, j| rows[i][j].clone());
        let o: Vec<Float> = (0..d)
            .map(|j| (0..b).fold(Float::new(prec), |a, i| a + z.at(i, j)) / b as u64)
            .collect();
        let o2 = dot(&o, &o);
        let mean_r2 = (0..b).fold(Float::new(prec), |a, i| {
            let r: Vec<Float> = (0..d)
                .map(|j| Float::with_val(prec, z.at(i, j) - &o[j]))
                .collect();
            a + dot(&r, &r)
        }) / b as u64;
        let tr = covariance(&z, Centring::Centred, Divisor::B)
            .map_err(|e| e.to_string())?
            .trace()
            .expect("square");
        let one = Float::with_val(prec, 1);
        let (lhs, rhs) = match v {
            Decomposition::Theorem => (Float::with_val(prec, &o2 + &mean_r2), one.clone()),
            Decomposition::NormNotSquared => (
                Float::with_val(prec, o2.clone().sqrt() + &mean_r2),
                one.clone(),
            ),
            Decomposition::TracePlusCentre => (tr.clone(), Float::with_val(prec, &o2 + 1u32)),
        };
        let tr_ok = *v == Decomposition::TracePlusCentre
            || tol.accepts(
                &Float::with_val(prec, &tr - Float::with_val(prec, 1 - &o2)),
                &one,
            );
        run.count(1);
        if !tol.accepts(&Float::with_val(prec, &lhs - &rhs), &one) || !tr_ok {
            return Err(format!(
                "B = {b}, d = {d}, ‖o‖² = {o2:.6}: {lhs:.10} ≠ {rhs:.10}"
            ));
        }
    }
    Ok(format!(
        "{cases} batches, B ∈ 2…20, d ∈ 2…7, ‖o‖ across (0, 1)"
    ))
}

#[cfg(feature = "symbolic")]
mod symbolic {
    use sslproof::sym::algebra::{self as alg, AtomCore};

    /// `mean_i ‖z_i − o‖² = mean_i ‖z_i‖² − c·‖o‖²` (c = 1, or 0 for the mutant that keeps no
    /// centre term) for symbolic vectors, `B ≤ b_max`, `d ≤ d_max`.
    pub fn centre_residual_identity(
        b_max: usize,
        d_max: usize,
        with_centre: bool,
    ) -> Result<String, String> {
        for b in 1..=b_max {
            for d in 1..=d_max {
                let z = |i: usize, j: usize| alg::expr(&format!("z{}{}", i + 1, j + 1));
                let o: Vec<_> = (0..d)
                    .map(|j| {
                        let mut s = alg::expr("0");
                        for i in 0..b {
                            s = &s + &z(i, j);
                        }
                        (&s * &alg::expr(&format!("1/{b}"))).expand()
                    })
                    .collect();
                let mut lhs = alg::expr("0");
                let mut sq = alg::expr("0");
                for i in 0..b {
                    for (j, oj) in o.iter().enumerate() {
                        let r = &z(i, j) - oj;
                        lhs = &lhs + &(&r * &r);
                        sq = &sq + &(&z(i, j) * &z(i, j));
                    }
                }
                let inv_b = alg::expr(&format!("1/{b}"));
                let o2 = o.iter().fold(alg::expr("0"), |acc, x| &acc + &(x * x));
                let centre = if with_centre { o2 } else { alg::expr("0") };
                let diff = (&(&(&lhs * &inv_b) - &(&sq * &inv_b)) + &centre).expand();
                if !diff.is_zero() {
                    return Err(format!(
                        "B = {b}, d = {d}: difference {}",
                        alg::plain(&diff)
                    ));
                }
            }
        }
        Ok(format!("polynomial identity for B ≤ {b_max}, d ≤ {d_max}"))
    }
}

pub fn run(c: &mut ClaimRun) {
    const IDENTITY: &str = "mean‖z − o‖² = mean‖z‖² − ‖o‖², every coordinate symbolic, B ≤ 4";
    c.prop(
        Role::AsWritten,
        "de-centering (‖o‖ < 1 for unit vectors) forces non-zero variance in every dimension",
        r"\lVert o\rVert<1\Rightarrow\Sigma_{jj}>0\ \forall j",
        (),
    )
    .check("a de-centred batch with a dead dimension", |run, _| {
        every_dimension(run)
    });

    c.prop(
        Role::Corrected,
        "for unit vectors z_i = o + r_i: ‖o‖² + mean‖r_i‖² = 1, so tr Σ = 1 − ‖o‖²: de-centering forces variance in total, not in every dimension",
        r"\lVert o\rVert^2+\tfrac1B\sum_i\lVert r_i\rVert^2=1,\qquad \mathrm{tr}\,\Sigma=\tfrac1B\sum_i\lVert r_i\rVert^2=1-\lVert o\rVert^2",
        Decomposition::Theorem,
    )
    .symbolic(
        IDENTITY,
        Scope::UpToD { d_max: 3 },
        sym!(|&v| symbolic::centre_residual_identity(4, 3, v != Decomposition::TracePlusCentre)),
    )
    .check("random unit batches", decomposition_numeric)
    .argument(
        "for every B and d",
        vec![
            ArgSpec::cited(
                "‖z_i − o‖² = ‖z_i‖² − 2⟨z_i, o⟩ + ‖o‖², and the mean of ⟨z_i, o⟩ is ⟨o, o⟩ since o is the mean of the z_i",
                "bilinearity of the inner product",
                "and linearity of the mean (elementary)",
            ),
            ArgSpec::checked("the resulting identity with every coordinate symbolic", IDENTITY),
        ],
    )
    .mutant("norm_not_squared", "‖o‖ + mean‖r‖² = 1", Decomposition::NormNotSquared)
    .mutant("trace_plus_centre", "tr Σ = 1 + ‖o‖²", Decomposition::TracePlusCentre);

    c.step("Write each unit vector as $z_i=o+r_i$ with $o=\\tfrac1B\\sum_iz_i$ (the centre) and $\\sum_ir_i=0$. Then $\\tfrac1B\\sum_i\\lVert z_i\\rVert^2=\\lVert o\\rVert^2+\\tfrac1B\\sum_i\\lVert r_i\\rVert^2$ (the cross term vanishes), and $\\lVert z_i\\rVert=1$:", Some(r"\lVert o\rVert^2+\tfrac1B\sum_i\lVert r_i\rVert^2=1,\qquad \mathrm{tr}\,\Sigma=1-\lVert o\rVert^2".into()));
    c.step("Complete collapse is $\\lVert o\\rVert=1$ (all $r_i=0$); de-centering ($\\lVert o\\rVert<1$) is exactly positive *total* variance.", None);
    c.step("It says nothing about how the variance is spread: three unit vectors at 120° in a plane of $\\mathbb R^3$ have $o=0$ (fully de-centred) and $\\Sigma_{33}=0$. Variance in every dimension needs the de-correlation / full-rank part (B5) as well.", None);
}
