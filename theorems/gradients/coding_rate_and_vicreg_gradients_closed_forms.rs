//! # D5: gradients of the coding rate and of VICReg's terms through the covariance
//!
//! ## Main statements
//! * `coding_rate_and_vicreg_gradients_closed_forms`: `∇_Σ R_ε = (α/2)(I+αΣ)⁻¹`;
//!   `∇_Z R_ε = (α/B) Z_c (I+αΣ)⁻¹` through the centred `1/B` covariance (the centring's own
//!   Jacobian drops out); VICReg's variance term `∂v/∂Z_ij = −[s_j < 1](Z_ij − Z̄_j)/(d(B−1)s_j)`,
//!   `s_j = √(Var_j + 10⁻⁴)`; its covariance term `∇_Z c = 4/(d(B−1)) Z_c offdiag(C)`.
//!
//! ## Implementation notes
//! Every closed form against Richardson central differences at the working precision, on a batch
//! with a non-zero mean and one inactive hinge (so that centring and the hinge both matter).
//!
//! ## References
//! Magnus & Neudecker, *Matrix Differential Calculus*; Bardes et al. (2022), VICReg.
//!
//! ## Source
//! `claims.md` D5 (behind the notes' B3 sentence).

use rug::Float;
use sslproof::check::fd::{DEFAULT_STEP_LOG2, fd_tolerance, gradient, sym_gradient, worst_entry};
use sslproof::prelude::*;
use sslproof_losses::batch::{Centring, Divisor, covariance};
use sslproof_losses::vicreg;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "coding_rate_and_vicreg_gradients_closed_forms",
    label: "D5",
    family: "gradients",
    title: "Gradients of the coding rate and of VICReg's terms through the covariance",
    quote: "$\\nabla_\\Sigma R_\\varepsilon$ and $\\nabla_Z R_\\varepsilon$ through the covariance; the same through VICReg's terms (claims.md D5, behind B3).",
    place: "claims.md D5 (the notes' B3 sentence: to maximize det, push all eigenvalues away from zero)",
    statement: r"\nabla_\Sigma R_\varepsilon=\tfrac\alpha2(I+\alpha\Sigma)^{-1},\quad \nabla_ZR_\varepsilon=\tfrac{\alpha}{B}Z_c(I+\alpha\Sigma)^{-1}",
    nature: Nature::Mathematical,
    expected: Class::VerifiedNumerically,
};

/// The gradients checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CovGrad {
    /// `∇_Σ R_ε = (α/2)(I+αΣ)⁻¹`.
    RateSigma,
    /// `α(I+αΣ)⁻¹` (the ½ dropped).
    RateSigmaNoHalf,
    /// `∇_Z R_ε = (α/B) Z_c (I+αΣ)⁻¹`, Σ centred with 1/B.
    RateZ,
    /// `(α/B) Z (I+αΣ)⁻¹` (centring ignored).
    RateZUncentred,
    /// VICReg's variance term's gradient.
    VicVar,
    /// With `B` for `B − 1`.
    VicVarBiased,
    /// VICReg's covariance term's gradient, `4/(d(B−1)) Z_c offdiag(C)`.
    VicCov,
    /// Factor 2 for 4.
    VicCovHalf,
}

fn centred(z: &Mat) -> Mat {
    let (b, d, prec) = (z.rows(), z.cols(), z.prec());
    let means: Vec<Float> = (0..d)
        .map(|j| (0..b).fold(Float::new(prec), |a, i| a + z.at(i, j)) / b as u64)
        .collect();
    Mat::from_fn(b, d, prec, |i, j| {
        Float::with_val(prec, z.at(i, j) - &means[j])
    })
}

fn rate_of_batch(z: &Mat, alpha: &Float) -> Float {
    let sigma = covariance(z, Centring::Centred, Divisor::B).expect("valid batch");
    sigma
        .identity_plus(alpha)
        .and_then(|m| m.logdet_spd())
        .expect("SPD")
        / 2u32
}

/// The closed form against Richardson central differences (B = 6, d = 3, batch mean ≠ 0, column
/// scales ½, ¾, 3: the third column's hinge is inactive).
fn grad_check(run: &mut Run, g: &CovGrad) -> Result<String, String> {
    let prec = run.prec();
    let tol = fd_tolerance(prec);
    let alpha = Float::with_val(prec, 3);
    let eps = vicreg::default_eps(prec);
    let one = Float::with_val(prec, 1);
    let mut s = run.sampler();
    let (b, d) = (6usize, 3usize);
    let g0 = s.gaussian(b, d);
    let scales = [
        Float::with_val(prec, 1) / 2u32,
        Float::with_val(prec, 3) / 4u32,
        Float::with_val(prec, 3),
    ];
    let z = Mat::from_fn(b, d, prec, |i, j| {
        Float::with_val(prec, g0.at(i, j) * &scales[j]) + Float::with_val(prec, j as u64 + 1) / 2u32
    });
    let (fd, an): (Mat, Mat) = match g {
        CovGrad::RateSigma | CovGrad::RateSigmaNoHalf => {
            let sigma = covariance(&z, Centring::Centred, Divisor::B).map_err(|e| e.to_string())?;
            let f = |m: &Mat| {
                m.identity_plus(&alpha)
                    .and_then(|x| x.logdet_spd())
                    .expect("SPD")
                    / 2u32
            };
            let fd = sym_gradient(&f, &sigma, DEFAULT_STEP_LOG2);
            let inv = sigma
                .identity_plus(&alpha)
                .and_then(|m| m.inverse())
                .map_err(|e| e.to_string())?;
            let c = if *g == CovGrad::RateSigma {
                Float::with_val(prec, &alpha / 2u32)
            } else {
                alpha.clone()
            };
            (fd, inv.scale(&c))
        }
        _ => {
            let f: Box<dyn Fn(&Mat) -> Float> = match g {
                CovGrad::RateZ | CovGrad::RateZUncentred => {
                    Box::new(|m: &Mat| rate_of_batch(m, &alpha))
                }
                CovGrad::VicVar | CovGrad::VicVarBiased => {
                    Box::new(|m: &Mat| vicreg::variance_term(m, &one, &eps).expect("valid"))
                }
                _ => Box::new(|m: &Mat| vicreg::covariance_term(m).expect("valid")),
            };
            let flat: Vec<Float> = (0..b * d).map(|k| z.at(k / d, k % d).clone()).collect();
            let fg = gradient(
                &|x: &[Float]| f(&Mat::from_fn(b, d, prec, |i, j| x[i * d + j].clone())),
                &flat,
                DEFAULT_STEP_LOG2,
            );
            let fd = Mat::from_fn(b, d, prec, |i, j| fg[i * d + j].clone());
            let zc = centred(&z);
            let an = match g {
                CovGrad::RateZ | CovGrad::RateZUncentred => {
                    let sigma =
                        covariance(&z, Centring::Centred, Divisor::B).map_err(|e| e.to_string())?;
                    let inv = sigma
                        .identity_plus(&alpha)
                        .and_then(|m| m.inverse())
                        .map_err(|e| e.to_string())?;
                    let base = if *g == CovGrad::RateZ { &zc } else { &z };
                    base.mul(&inv)
                        .map_err(|e| e.to_string())?
                        .scale(&(Float::with_val(prec, &alpha / b as u64)))
                }
                CovGrad::VicVar | CovGrad::VicVarBiased => {
                    let div = if *g == CovGrad::VicVar { b - 1 } else { b };
                    let var: Vec<Float> = (0..d)
                        .map(|j| {
                            (0..b).fold(Float::new(prec), |a, i| {
                                a + Float::with_val(prec, zc.at(i, j).square_ref())
                            }) / (b - 1) as u64
                        })
                        .collect();
                    Mat::from_fn(b, d, prec, |i, j| {
                        let sj = Float::with_val(prec, &var[j] + &eps).sqrt();
                        if sj >= 1 {
                            Float::new(prec)
                        } else {
                            -Float::with_val(
                                prec,
                                zc.at(i, j) / Float::with_val(prec, &sj * (d * div) as u64),
                            )
                        }
                    })
                }
                _ => {
                    let c = covariance(&z, Centring::Centred, Divisor::BMinusOne)
                        .map_err(|e| e.to_string())?;
                    let off = Mat::from_fn(d, d, prec, |i, j| {
                        if i == j {
                            Float::new(prec)
                        } else {
                            c.at(i, j).clone()
                        }
                    });
                    let k = if *g == CovGrad::VicCov { 4u32 } else { 2u32 };
                    zc.mul(&off)
                        .map_err(|e| e.to_string())?
                        .scale(&(Float::with_val(prec, k) / ((d * (b - 1)) as u64)))
                }
            };
            (fd, an)
        }
    };
    run.count(fd.rows() * fd.cols());
    let unbiased =
        covariance(&z, Centring::Centred, Divisor::BMinusOne).map_err(|e| e.to_string())?;
    let inactive = (0..d)
        .filter(|&j| Float::with_val(prec, unbiased.at(j, j) + &eps).sqrt() >= 1)
        .count();
    let (i, j, err) = worst_entry(&fd, &an);
    let scale = Float::with_val(prec, fd.max_abs() + 1u32);
    if tol.accepts(&err, &scale) {
        Ok(format!(
            "B = {b}, d = {d} (batch mean ≠ 0, {inactive} of {d} hinges inactive): worst entry ({i}, {j}) agrees within {}",
            tol.describe()
        ))
    } else {
        Err(format!(
            "worst entry ({i}, {j}): finite difference {:.6e}, formula {:.6e}",
            fd.at(i, j),
            an.at(i, j)
        ))
    }
}

pub fn run(c: &mut ClaimRun) {
    let prec = c.prec();
    const FD: &str = "against Richardson central differences";
    for (form, name, tex, mutant) in [
        (
            CovGrad::RateSigma,
            "∇_Σ R_ε = (α/2)(I + αΣ)⁻¹",
            r"\nabla_\Sigma\,\tfrac12\log\det(I+\alpha\Sigma)=\tfrac\alpha2(I+\alpha\Sigma)^{-1}",
            (
                CovGrad::RateSigmaNoHalf,
                "sigma_gradient_no_half",
                "∇_Σ R_ε = α(I+αΣ)⁻¹",
            ),
        ),
        (
            CovGrad::RateZ,
            "∇_Z R_ε = (α/B) Z_c (I + αΣ)⁻¹ through the centred 1/B covariance (the centring's own Jacobian drops out because Z_c's columns sum to 0)",
            r"\nabla_ZR_\varepsilon=\tfrac2BZ_c\,\nabla_\Sigma R_\varepsilon=\tfrac\alpha BZ_c(I+\alpha\Sigma)^{-1}",
            (
                CovGrad::RateZUncentred,
                "centring_ignored",
                "∇_Z R_ε = (α/B) Z (I+αΣ)⁻¹ with the uncentred Z",
            ),
        ),
        (
            CovGrad::VicVar,
            "VICReg variance term: ∂v/∂Z_ij = −[s_j < 1](Z_ij − Z̄_j)/(d(B−1)s_j), s_j = √(Var_j + 10⁻⁴)",
            r"\frac{\partial v}{\partial Z_{ij}}=-\mathbb 1[s_j<1]\,\frac{Z_{ij}-\bar Z_j}{d(B-1)s_j}",
            (
                CovGrad::VicVarBiased,
                "variance_biased",
                "the variance-term gradient with B for B − 1",
            ),
        ),
        (
            CovGrad::VicCov,
            "VICReg covariance term: ∇_Z c = 4/(d(B−1)) Z_c offdiag(C)",
            r"\nabla_Zc=\frac{4}{d(B-1)}Z_c\,\mathrm{offdiag}(C),\quad C=\tfrac{Z_c^\top Z_c}{B-1}",
            (
                CovGrad::VicCovHalf,
                "covariance_factor_two",
                "∇_Z c = 2/(d(B−1)) Z_c offdiag(C)",
            ),
        ),
    ] {
        c.prop(Role::AsWritten, name, tex, form)
            .check(FD, grad_check)
            .mutant(mutant.1, mutant.2, mutant.0);
    }

    c.step("$R_\\varepsilon=\\tfrac12\\log\\det(I+\\alpha\\Sigma)$ has differential $\\tfrac\\alpha2\\mathrm{tr}((I+\\alpha\\Sigma)^{-1}d\\Sigma)$, so its gradient on symmetric matrices is $\\tfrac\\alpha2(I+\\alpha\\Sigma)^{-1}$: eigen-weights $\\tfrac\\alpha2/(1+\\alpha\\lambda_i)$, largest on the smallest eigenvalues (B3).", None);
    c.step("Through $\\Sigma=\\tfrac1BZ_c^\\top Z_c$: $d\\Sigma=\\tfrac1B(dZ_c^\\top Z_c+Z_c^\\top dZ_c)$ and $dZ_c=(I-\\tfrac1B\\mathbf 1\\mathbf 1^\\top)dZ$; because $\\mathbf 1^\\top Z_c=0$ the centring projector drops out, giving $\\nabla_Z=\\tfrac2BZ_c\\nabla_\\Sigma$.", None);
    c.step(format!("VICReg's terms, per branch as in the official code (unbiased variance, $\\epsilon=10^{{-4}}$ inside the root): the hinge passes gradient only for coordinates with $s_j<1$, scaled by $1/s_j$; the covariance term's gradient is $Z_c$ times the off-diagonal part of $C$. All four closed forms agree with Richardson finite differences at {prec} bits on a batch with non-zero mean whose columns have standard deviations around ½, ¾ and 3 (so that the hinge is active on some and inactive on others; the evidence counts them)."), None);
}
