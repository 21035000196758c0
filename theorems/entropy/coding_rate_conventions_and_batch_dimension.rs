//! # C4: the coding rate with the notes' covariance against the MCR² form
//!
//! ## Main statements
//! * `coding_rate_conventions_and_batch_dimension`: the notes' rate (centred covariance, `1/B`)
//!   equals the MCR²/SimDINO/EMP-SSL rate (uncentred `ZᵀZ/B`) exactly when the batch mean is zero;
//!   at complete collapse the centred rate is 0 and the uncentred one `½ log(1 + d/ε²)`; the
//!   divisor `1/(B−1)` is the divisor `1/B` at `ε′² = ε²(B−1)/B`; and the rate can be computed
//!   in the batch dimension (Sylvester: `det(I_d + aZᵀZ) = det(I_B + aZZᵀ)`).
//!
//! ## Implementation notes
//! Every comparison at the working precision on seeded Gaussian batches; Sylvester also with a
//! fully symbolic `Z` for small shapes.
//!
//! ## References
//! Yu et al. (2020), MCR²; Wu et al. (2025), SimDINO; Tong et al. (2023), EMP-SSL;
//! `../shared/reference-implementations.md` §1, §4.1.
//!
//! ## Source
//! `../shared/notes.md`, *Why does the coding-rate regularizer also decorrelate?* (definition);
//! *Decorrelation* (covariance).

use rug::Float;
use sslproof::prelude::*;
use sslproof_losses::batch::{Centring, Divisor, covariance};

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "coding_rate_conventions_and_batch_dimension",
    label: "C4",
    family: "entropy",
    title: "The coding rate with the notes' covariance against the MCR² form",
    quote: "$R_\\varepsilon(\\Sigma) = \\tfrac12\\log\\det\\Big(I + \\tfrac{d}{\\varepsilon^2}\\,\\Sigma\\Big)$, and the SSL loss includes $-\\gamma R_\\varepsilon(\\Sigma)$ … $\\Sigma = \\frac1B (Z-\\bar Z)^\\top (Z-\\bar Z)$",
    place: "Why does the coding-rate regularizer also decorrelate? (definition); Decorrelation (covariance)",
    statement: r"\tfrac12\log\det\Big(I+\tfrac d{\varepsilon^2}\tfrac1B(Z-\bar Z)^\top(Z-\bar Z)\Big)\overset{?}{=}\tfrac12\log\det\Big(I+\tfrac{d}{B\varepsilon^2}Z^\top Z\Big)\ \ (\text{MCR}^2)",
    nature: Nature::Mathematical,
    expected: Class::HoldsUnderConditions,
};

fn rate_of(sigma: &Mat, alpha: &Float) -> Result<Float, String> {
    Ok(sigma
        .identity_plus(alpha)
        .and_then(|m| m.logdet_spd())
        .map_err(|e| e.to_string())?
        / 2u32)
}

/// The notes' (centred, 1/B) rate against the MCR² (uncentred, 1/B) rate on batches whose mean is
/// set to `(mean_scale/4)(1, 2, 3, 4)`: `Ok` when they agree on every batch.
fn notes_vs_mcr2(run: &mut Run, mean_scale: &u32) -> Result<String, String> {
    let prec = run.prec();
    let mut s = run.sampler();
    let (b, d) = (12usize, 4usize);
    let alpha = Float::with_val(prec, d as u64) * 4u32; // d/ε², ε² = 1/4
    let mut worst = Float::new(prec);
    let cases = run.scaled(10);
    for _ in 0..cases {
        let mut z = s.gaussian(b, d);
        let means: Vec<Float> = (0..d)
            .map(|j| (0..b).fold(Float::new(prec), |a, i| a + z.at(i, j)) / b as u64)
            .collect();
        for i in 0..b {
            for (j, mean) in means.iter().enumerate() {
                *z.at_mut(i, j) -= mean;
                *z.at_mut(i, j) +=
                    Float::with_val(prec, *mean_scale) * Float::with_val(prec, j as u64 + 1) / 4u32;
            }
        }
        let notes = rate_of(
            &covariance(&z, Centring::Centred, Divisor::B).map_err(|e| e.to_string())?,
            &alpha,
        )?;
        let mcr2 = rate_of(
            &covariance(&z, Centring::Uncentred, Divisor::B).map_err(|e| e.to_string())?,
            &alpha,
        )?;
        run.count(1);
        let diff = Float::with_val(prec, &notes - &mcr2).abs();
        if !Tol::linalg(prec, b, 10).accepts(&diff, &mcr2) {
            return Err(format!(
                "B = {b}, d = {d}, batch mean ({mean_scale}/4)(1, 2, 3, 4): notes {notes:.6}, MCR² {mcr2:.6}"
            ));
        }
        if diff > worst {
            worst = diff;
        }
    }
    Ok(format!(
        "{cases} Gaussian batches with batch mean ({mean_scale}/4)(1, 2, 3, 4) (B = 12, d = 4): equal within {} (largest difference below 2^-{})",
        Tol::linalg(prec, b, 10).describe(),
        sslproof::hp::bits_below(&worst).min(prec)
    ))
}

/// A claimed closed form of `R_uncentred − R_centred` (both `1/B`, the same `α = d/ε²`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeanGap {
    /// `½ log(1 + α μᵀ(I + αΣ)⁻¹μ)` (matrix determinant lemma).
    Lemma,
    /// `½ log(1 + α‖μ‖²)` (the inverse dropped).
    NoInverse,
    /// `½ α μᵀ(I + αΣ)⁻¹μ` (the logarithm linearised).
    Linearised,
}

/// The uncentred rate minus the centred rate on Gaussian batches with a nonzero mean
/// (`B = 12, d = 4`, `α = 16`), against the claimed closed form: the two rates by Cholesky
/// log-determinants of `d × d` matrices, the form by a linear solve.
fn mean_gap(run: &mut Run, form: &MeanGap) -> Result<String, String> {
    let prec = run.prec();
    let mut s = run.sampler();
    let (b, d) = (12usize, 4usize);
    let alpha = Float::with_val(prec, 16);
    let tol = Tol::linalg(prec, b, 10);
    let cases = run.scaled(10);
    let mut shown = String::new();
    for k in 0..cases {
        let mut z = s.gaussian(b, d);
        for i in 0..b {
            for j in 0..d {
                *z.at_mut(i, j) += Float::with_val(prec, j as u64 + 1) / 2u32;
            }
        }
        let sigma = covariance(&z, Centring::Centred, Divisor::B).map_err(|e| e.to_string())?;
        let second = covariance(&z, Centring::Uncentred, Divisor::B).map_err(|e| e.to_string())?;
        let gap = rate_of(&second, &alpha)? - rate_of(&sigma, &alpha)?;
        let mu = Mat::from_fn(d, 1, prec, |j, _| {
            (0..b).fold(Float::new(prec), |a, i| a + z.at(i, j)) / b as u64
        });
        let x = sigma
            .identity_plus(&alpha)
            .and_then(|m| m.solve(&mu))
            .map_err(|e| e.to_string())?;
        let quad = (0..d).fold(Float::new(prec), |a, j| {
            a + Float::with_val(prec, mu.at(j, 0) * x.at(j, 0))
        });
        let norm2 = (0..d).fold(Float::new(prec), |a, j| {
            a + Float::with_val(prec, mu.at(j, 0).square_ref())
        });
        let claimed = match form {
            MeanGap::Lemma => (Float::with_val(prec, &alpha * &quad) + 1u32).ln() / 2u32,
            MeanGap::NoInverse => (Float::with_val(prec, &alpha * &norm2) + 1u32).ln() / 2u32,
            MeanGap::Linearised => Float::with_val(prec, &alpha * &quad) / 2u32,
        };
        run.count(1);
        let res = Float::with_val(prec, &gap - &claimed);
        if !tol.accepts(&res, &gap) {
            return Err(format!(
                "batch {k}: R_uncentred − R_centred = {gap:.10}, claimed {claimed:.10}"
            ));
        }
        if k == 0 {
            shown = format!("first batch: gap {gap:.10}, formula {claimed:.10}");
        }
    }
    Ok(format!(
        "{cases} Gaussian batches with mean (½, 1, 3/2, 2) (B = 12, d = 4, α = 16): equal within {}; {shown}",
        tol.describe()
    ))
}

/// A claimed Sylvester identity: `det(I_d + aZᵀZ) = det(I_B + (a/k)ZZᵀ)` with `k = 1` (the
/// theorem) or `k = B` (rescaled by the batch size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sylvester {
    pub divide_by_batch: bool,
}

/// Sylvester at the working precision on a tall and a wide batch.
fn sylvester_numeric(run: &mut Run, f: &Sylvester) -> Result<String, String> {
    let prec = run.prec();
    let mut s = run.sampler();
    let mut lines = Vec::new();
    for &(b, d) in &[(8usize, 64usize), (40, 6)] {
        let z = s.gaussian(b, d);
        let a = Float::with_val(prec, 3) / 10u32;
        let ztz = z.transpose().mul(&z).map_err(|e| e.to_string())?;
        let zzt = z.mul(&z.transpose()).map_err(|e| e.to_string())?;
        let feat = ztz
            .identity_plus(&a)
            .and_then(|m| m.logdet_spd())
            .map_err(|e| e.to_string())?;
        let a2 = if f.divide_by_batch {
            Float::with_val(prec, &a / b as u64)
        } else {
            a.clone()
        };
        let batch = zzt
            .identity_plus(&a2)
            .and_then(|m| m.logdet_spd())
            .map_err(|e| e.to_string())?;
        run.count(1);
        let res = Float::with_val(prec, &feat - &batch);
        let line = format!(
            "B = {b}, d = {d}: log det(I_d + aZᵀZ) = {feat:.6}, log det(I_B + aZZᵀ) = {batch:.6}"
        );
        if !Tol::linalg(prec, b.max(d), 10).accepts(&res, &feat) {
            return Err(line);
        }
        lines.push(line);
    }
    Ok(lines.join("; "))
}

/// A claimed value of the uncentred (MCR²) rate at complete collapse (every row the same unit
/// vector; `α = d/ε²`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtCollapse {
    /// `½ log(1 + α)`: `ZᵀZ/B = ccᵀ` has trace 1.
    HalfLogOnePlusAlpha,
    /// `½ log(1 + α/B)`: the batch size divided twice.
    DividedByBatch,
}

/// Complete collapse at SimDINO's defaults (B = 64, d = 256, ε² = 0.05): the centred rate is 0,
/// the uncentred one (batch-dimension form) against the claimed value.
fn collapse(run: &mut Run, v: &AtCollapse) -> Result<String, String> {
    let prec = run.prec();
    let d = 256usize;
    let b = 64usize;
    let eps2 = Float::with_val(prec, 1) / 20u32;
    let alpha = Float::with_val(prec, d as u64) / &eps2;
    let c: Vec<Float> = (0..d)
        .map(|j| {
            if j == 0 {
                Float::with_val(prec, 1)
            } else {
                Float::new(prec)
            }
        })
        .collect();
    let z = Mat::from_fn(b, d, prec, |_, j| c[j].clone());
    // Batch-dimension form: B × B Gram matrices (the feature form would be 256 × 256).
    let gram = z.mul(&z.transpose()).map_err(|e| e.to_string())?;
    let unc = gram
        .identity_plus(&Float::with_val(prec, &alpha / b as u64))
        .and_then(|m| m.logdet_spd())
        .map_err(|e| e.to_string())?
        / 2u32;
    let claimed = match v {
        AtCollapse::HalfLogOnePlusAlpha => Float::with_val(prec, &alpha + 1u32).ln() / 2u32,
        AtCollapse::DividedByBatch => {
            Float::with_val(prec, Float::with_val(prec, &alpha / b as u64) + 1u32).ln() / 2u32
        }
    };
    let centred = covariance(
        &Mat::from_fn(b, 3, prec, |_, j| c[j].clone()),
        Centring::Centred,
        Divisor::B,
    )
    .map_err(|e| e.to_string())?;
    let r_centred = rate_of(&centred, &alpha)?;
    run.count(2);
    let detail = format!("centred {r_centred}; uncentred {unc:.6}, claimed {claimed:.6}");
    if Tol::linalg(prec, b, 0).accepts(&Float::with_val(prec, &unc - &claimed), &claimed)
        && r_centred.is_zero()
    {
        Ok(detail)
    } else {
        Err(detail)
    }
}

/// A claimed equivalence of divisors: `R_ε(S/(B−1)) = R_{ε′}(S/B)` with `ε′² = ε²·(B−1)/B` (the
/// theorem) or `ε²·B/(B−1)` (inverted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divisors {
    pub inverted: bool,
}

/// The identity on Gaussian batches (centred scatter `S`, B ∈ 3…12, d ≤ 5, ε² = 1/2).
fn divisor_identity(run: &mut Run, f: &Divisors) -> Result<String, String> {
    let prec = run.prec();
    let mut s = run.sampler();
    let eps2 = Float::with_val(prec, 1) / 2u32;
    let cases = run.scaled(10);
    for k in 0..cases {
        let (b, d) = (3 + k % 10, 1 + k % 5);
        let z = s.gaussian(b, d);
        let unb =
            covariance(&z, Centring::Centred, Divisor::BMinusOne).map_err(|e| e.to_string())?;
        let bia = covariance(&z, Centring::Centred, Divisor::B).map_err(|e| e.to_string())?;
        let alpha = Float::with_val(prec, d as u64) / &eps2;
        let ratio = Float::with_val(prec, (b - 1) as u64) / b as u64;
        let eps2p = if f.inverted {
            Float::with_val(prec, &eps2 / &ratio)
        } else {
            Float::with_val(prec, &eps2 * &ratio)
        };
        let alpha_p = Float::with_val(prec, d as u64) / &eps2p;
        let (l, r) = (rate_of(&unb, &alpha)?, rate_of(&bia, &alpha_p)?);
        run.count(1);
        if !Tol::linalg(prec, d, 4).accepts(&Float::with_val(prec, &l - &r), &l) {
            return Err(format!(
                "B = {b}, d = {d}: R_ε(S/(B−1)) = {l:.10}, R_ε′(S/B) = {r:.10}"
            ));
        }
    }
    Ok(format!(
        "{cases} Gaussian batches (B ∈ 3…12, d ≤ 5): equal to working precision"
    ))
}

/// Sylvester's identity for symbolic `Z` of the given shapes (also C3's check of the exact
/// duality between the two Gram matrices).
#[cfg(feature = "symbolic")]
pub fn sylvester_symbolic(shapes: &[(usize, usize)]) -> Result<String, String> {
    symbolic::sylvester(shapes, false)
}

#[cfg(feature = "symbolic")]
mod symbolic {
    use sslproof::sym::algebra::{self as alg, AtomCore, SymMat};

    /// Sylvester for a symbolic `m × d` matrix `Z` (zero-padded into an `n × n` symbolic matrix).
    pub fn sylvester(shapes: &[(usize, usize)], divide_by_batch: bool) -> Result<String, String> {
        for &(m, d) in shapes {
            let n = m.max(d);
            let z = SymMat::general(n, "z");
            let at = |i: usize, j: usize| {
                if i < m && j < d {
                    z.at(i, j).clone()
                } else {
                    alg::expr("0")
                }
            };
            let gram =
                |rows: usize,
                 inner: usize,
                 f: &dyn Fn(usize, usize, usize) -> (usize, usize, usize, usize)| {
                    let mut data = Vec::new();
                    for i in 0..rows {
                        for j in 0..rows {
                            let mut s = alg::expr("0");
                            for k in 0..inner {
                                let (a, b, c, e) = f(i, j, k);
                                s = &s + &(&at(a, b) * &at(c, e));
                            }
                            data.push(s.expand());
                        }
                    }
                    SymMat { n: rows, data }
                };
            let ztz = gram(d, m, &|i, j, k| (k, i, k, j));
            let zzt = gram(m, d, &|i, j, k| (i, k, j, k));
            let scale = if divide_by_batch {
                format!("a/{m}")
            } else {
                "a".to_string()
            };
            let lhs = ztz.affine(&alg::expr("a"), &alg::expr("1")).det();
            let rhs = zzt.affine(&alg::expr(&scale), &alg::expr("1")).det();
            let diff = alg::normalise_rational(&(&lhs - &rhs));
            if !diff.is_zero() {
                return Err(format!(
                    "m = {m}, d = {d}: difference {}",
                    alg::plain(&diff)
                ));
            }
        }
        Ok(format!(
            "det(I_d + aZᵀZ) = det(I_m + aZZᵀ) for symbolic Z of shapes {shapes:?}"
        ))
    }
}

pub fn run(c: &mut ClaimRun) {
    let prec = c.prec();
    const MEAN: &str = "the two rates on batches with the stated mean";
    c.prop(
        Role::AsWritten,
        "the notes' coding rate (centred covariance, 1/B) is the MCR²/SimDINO coding rate (uncentred, 1/B)",
        r"R_\varepsilon\big(\tfrac1B(Z-\bar Z)^\top(Z-\bar Z)\big)=R_\varepsilon\big(\tfrac1BZ^\top Z\big)",
        1u32,
    )
    .check(MEAN, notes_vs_mcr2);

    c.prop(
        Role::UnderConditions,
        "they agree exactly when the batch mean is zero",
        r"\bar Z=0\ \Rightarrow\ \tfrac1B(Z-\bar Z)^\top(Z-\bar Z)=\tfrac1BZ^\top Z",
        0u32,
    )
    .check(MEAN, notes_vs_mcr2);

    c.prop(
        Role::Precise,
        "the rate can be computed in the batch dimension: det(I_d + aZᵀZ) = det(I_B + aZZᵀ) (Sylvester)",
        r"\det(I_d+aZ^\top Z)=\det(I_B+aZZ^\top),\quad Z\in\mathbb R^{B\times d}",
        Sylvester {
            divide_by_batch: false,
        },
    )
    .symbolic(
        "symbolic Z, shapes (B, d) = (1, 2), (2, 3), (3, 2)",
        Scope::UpToD { d_max: 3 },
        sym!(|&f| symbolic::sylvester(&[(1, 2), (2, 3), (3, 2)], f.divide_by_batch)),
    )
    .check("feature dimension against batch dimension", sylvester_numeric)
    .mutant(
        "sylvester_rescaled",
        "det(I_d + aZᵀZ) = det(I_B + (a/B) ZZᵀ)",
        Sylvester {
            divide_by_batch: true,
        },
    );

    c.prop(
        Role::Precise,
        "at complete collapse (every feature the same unit vector) the centred rate is 0 but the uncentred MCR² rate is ½ log(1 + d/ε²)",
        r"R^{\rm centred}=0,\qquad R^{\rm uncentred}=\tfrac12\log\big(1+\tfrac d{\varepsilon^2}\big)",
        AtCollapse::HalfLogOnePlusAlpha,
    )
    .check(
        "B = 64, d = 256, ε² = 0.05 (SimDINO), batch-dimension form",
        collapse,
    )
    .mutant(
        "collapse_value_divided_by_batch",
        "the uncentred rate at collapse is ½ log(1 + d/(Bε²)) (the batch size divided twice)",
        AtCollapse::DividedByBatch,
    );

    c.prop(
        Role::Precise,
        "1/(B−1) against 1/B: the unbiased covariance's rate is the 1/B rate at ε′² = ε²(B−1)/B",
        r"R_\varepsilon\big(\tfrac1{B-1}S\big)=R_{\varepsilon'}\big(\tfrac1BS\big),\ \varepsilon'^2=\varepsilon^2\tfrac{B-1}{B}",
        Divisors { inverted: false },
    )
    .check("the identity on Gaussian batches", divisor_identity)
    .mutant(
        "divisor_factor_inverted",
        "ε′² = ε² B/(B−1)",
        Divisors { inverted: true },
    );

    c.prop(
        Role::Precise,
        "in closed form, the uncentred rate exceeds the centred one by ½ log(1 + α μᵀ(I + αΣ)⁻¹μ), μ the batch mean (ZᵀZ/B = Σ + μμᵀ and the matrix determinant lemma)",
        r"R_\varepsilon\big(\tfrac1BZ^\top Z\big)-R_\varepsilon(\Sigma)=\tfrac12\log\big(1+\alpha\,\mu^\top(I+\alpha\Sigma)^{-1}\mu\big),\quad \alpha=\tfrac d{\varepsilon^2}",
        MeanGap::Lemma,
    )
    .check("the two rates against the closed form on batches with a mean", mean_gap)
    .mutant(
        "mean_gap_without_the_inverse",
        "the gap is ½ log(1 + α‖μ‖²) (the (I + αΣ)⁻¹ dropped)",
        MeanGap::NoInverse,
    )
    .mutant(
        "mean_gap_linearised",
        "the gap is ½ α μᵀ(I + αΣ)⁻¹μ (the logarithm linearised)",
        MeanGap::Linearised,
    );

    let row = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        vec![a.to_string(), b.into(), c.into(), d.into(), e.into()]
    };
    c.step("The notes centre and divide by $B$; MCR², SimDINO and EMP-SSL use the uncentred Gram matrix of L2-normalised features, with the code's `eps` equal to $\\varepsilon^2$. The two rates agree exactly when the batch mean is zero, and differ otherwise, by a closed form: $\\tfrac1BZ^\\top Z=\\Sigma+\\mu\\mu^\\top$ with $\\mu$ the batch mean, and the matrix determinant lemma gives", Some(r"R_\varepsilon\big(\tfrac1BZ^\top Z\big)-R_\varepsilon(\Sigma)=\tfrac12\log\big(1+\alpha\,\mu^\top(I+\alpha\Sigma)^{-1}\mu\big)\ \ge0,\qquad\alpha=\tfrac d{\varepsilon^2}".into()));
    c.step("(checked at the working precision on Gaussian batches with a mean; dropping the inverse, or linearising the logarithm, are refuted mutants). With the $1/(B-1)$ divisor the same holds at $\\varepsilon'^2=\\varepsilon^2(B-1)/B$ below.", None);
    c.step("At complete collapse the difference is decisive: the centred covariance is 0 (rate 0, the minimum), the uncentred one is $cc^\\top$ (rate $\\tfrac12\\log(1+d/\\varepsilon^2)$, e.g. $\\tfrac12\\log 5121$ at SimDINO's defaults), so the uncentred rate does not register collapse to a constant vector as zero rate.", None);
    c.step(format!("Batch dimension: for $Z\\in\\mathbb R^{{B\\times d}}$ (Sylvester's determinant identity, symbolic for small shapes, {prec}-bit for $B=8,d=64$ and $B=40,d=6$):"), Some(r"\log\det\big(I_d+aZ^\top Z\big)=\log\det\big(I_B+aZZ^\top\big)".into()));
    c.step("so the rate costs $O(\\min(B,d)^3)$: with $d=8192$ and $B=512$ the batch form is $512\\times512$. And the divisor: $\\tfrac1{B-1}S=\\tfrac{B}{B-1}\\cdot\\tfrac1BS$, so a $1/(B-1)$ implementation is the $1/B$ one with $\\alpha$ scaled by $B/(B-1)$, i.e. $\\varepsilon'^2=\\varepsilon^2(B-1)/B$ (checked as an identity).", None);
    c.table_rows(
        "Conventions (reference-implementations.md §1, §4.1) and what they change",
        &[
            "implementation",
            "covariance",
            "divisor",
            "scalar α",
            "value at complete collapse (tr Σ = 1)",
        ],
        vec![
            row("notes", "centred", "1/B", "d/ε²", "0"),
            row(
                "MCR² (official)",
                "uncentred ZZᵀ",
                "1/m",
                "d/eps, eps = ε²",
                "½ log(1 + d/eps)",
            ),
            row(
                "SimDINO",
                "uncentred WᵀW (per GPU)",
                "1/(m·N)",
                "p/(m·N·eps), eps = ε²",
                "½ log(1 + d/(N·eps)) with reduce_cov = 0",
            ),
            row(
                "EMP-SSL",
                "uncentred",
                "1/m",
                "p/(m·eps)",
                "½ log(1 + d/eps)",
            ),
            row(
                "CorInfoMax",
                "EMA-centred",
                "1/N",
                "log det(R + εI), no I",
                "−∞ without the ε (here: log ε per direction)",
            ),
        ],
    );
}
