//! # A3: the covariance penalty as the off-diagonal part of the expansion
//!
//! ## Main statements
//! * `vicreg_covariance_penalty_of_taylor_offdiagonal`: the off-diagonal part of the second-order
//!   form, `Q(Σ) − Q(diag Σ)`, is exactly `(α²/2) Σ_{i≠j} Σ_ij²` (zero exactly on diagonal `Σ`);
//!   VICReg's `c(Z)` is it times `(α²d/2)((B−1)/B)²`.
//!
//! ## Notation
//! `Q(Σ) = −α tr Σ + (α²/2) tr Σ²`; `T = Σ_j Σ_jj`, `D₂ = Σ_j Σ_jj²`, `O₂ = Σ_{i≠j} Σ_ij²`;
//! VICReg's `C = Z_cᵀZ_c/(B−1) = Σ/t` with `t = (B−1)/B` and the notes' `1/B` covariance `Σ`,
//! `c(Z) = (1/d) Σ_{i≠j} C_ij²`.
//!
//! ## Implementation notes
//! Fully symbolic `Σ` up to `d = sym_d_max`, and the same identities with no dimension in them:
//! in the invariants `T, D₂, O₂` (and `t`, `d`) as symbols. The step between the two — that
//! `tr Σ = T` and `tr Σ² = D₂ + O₂` for symmetric `Σ` — is the definition of the trace and of the
//! matrix product: cited, and checked symbolically up to `d = sym_d_max`.
//!
//! ## References
//! Bardes, Ponce, LeCun (2022), VICReg (`facebookresearch/vicreg`, `main_vicreg.py`).
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 4 (VICReg vs. coding rate).

use rug::Float;
use rug::ops::Pow;
use sslproof::prelude::*;
use sslproof_losses::batch::{Centring, Divisor, covariance};
use sslproof_losses::vicreg;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "vicreg_covariance_penalty_of_taylor_offdiagonal",
    label: "A3",
    family: "taylor",
    title: "The covariance penalty as the off-diagonal part of the expansion",
    quote: "… and a covariance penalty $\\sum_{i\\neq j}\\Sigma_{ij}^2$ pushing off-diagonals to zero.",
    place: "A unified framework for covariance-regularized SSL, item 4 (VICReg vs. coding rate)",
    statement: r"\text{off-diag. part of } \tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 \;\rightsquigarrow\; \sum_{i\ne j}\Sigma_{ij}^2 \ \ (\ge 0,\ = 0 \iff \Sigma_{ij}=0\ \forall i\ne j)",
    nature: Nature::Mathematical,
    expected: Class::Proved,
};

/// `Q = −α p₁ + (α²/2) p₂`.
fn q<S: Scalar>(a: &S, p1: &S, p2: &S) -> S {
    a.mul(p1).neg().add(&a.mul(a).mul(p2).times(1, 2))
}

/// Candidates for the off-diagonal part `Q(Σ) − Q(diag Σ)` in terms of `off = Σ_{i≠j} Σ_ij²` and
/// `all = Σ_ij Σ_ij²`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffDiag {
    /// `(α²/2)·off` (the theorem).
    Theorem,
    /// `α²·off` (½ dropped).
    DropsHalf,
    /// `(α²/4)·off` (pairs i<j counted with a ½).
    HalfPairs,
    /// `(α²/2)·all` (diagonal included).
    IncludesDiagonal,
    /// `−(α²/2)·off`.
    WrongSign,
}

impl OffDiag {
    pub fn eval<S: Scalar>(self, a: &S, off: &S, all: &S) -> S {
        let a2 = a.mul(a);
        match self {
            OffDiag::Theorem => a2.mul(off).times(1, 2),
            OffDiag::DropsHalf => a2.mul(off),
            OffDiag::HalfPairs => a2.mul(off).times(1, 4),
            OffDiag::IncludesDiagonal => a2.mul(all).times(1, 2),
            OffDiag::WrongSign => a2.mul(off).times(-1, 2),
        }
    }
}

/// `Q(Σ) − Q(diag Σ) = candidate` on random PSD `Σ`, and the candidate is zero on diagonal `Σ`
/// and positive otherwise (as the difference is).
fn offdiag_numeric(run: &mut Run, v: &OffDiag) -> Result<String, String> {
    let prec = run.prec();
    let cases = run.scaled(300);
    let property = run.for_all::<Recipe, _>(8, cases, |r| {
        let (sigma, _) = r.realize(prec);
        let a = Float::with_val(prec, 3) / 2u32;
        let p = sigma.power_traces(2).map_err(|e| e.to_string())?;
        let d = r.d;
        let diag: Vec<Float> = (0..d).map(|i| sigma.at(i, i).clone()).collect();
        let p1d = diag.iter().fold(Float::new(prec), |acc, x| acc + x);
        let p2d = diag.iter().fold(Float::new(prec), |acc, x| {
            acc + Float::with_val(prec, x.square_ref())
        });
        let lhs = q(&a, &p[0], &p[1]).sub(&q(&a, &p1d, &p2d));
        let off = vicreg::off_diagonal_sq(&sigma);
        let all = sigma.frobenius_sq();
        let rhs = v.eval(&a, &off, &all);
        let res = Float::with_val(prec, &lhs - &rhs);
        let scale = Float::with_val(prec, p[1].clone().abs() + p[0].clone().abs()) * 4u32 + 1u32;
        if !Tol::linalg(prec, r.d, 0).accepts(&res, &scale) {
            return Err(format!("Q(Σ) − Q(diag Σ) − candidate = {res:.3e}"));
        }
        Ok(())
    });
    property.result(|| format!("{} random PSD Σ, d ≤ 8, α = 3/2", property.cases))
}

/// The candidate is zero exactly when the off-diagonals are: zero at a diagonal `Σ` with
/// non-zero variances, positive at `Σ` with one off-diagonal pair `t`.
fn zero_exactly_on_diagonal(run: &mut Run, v: &OffDiag) -> Result<String, String> {
    let prec = run.prec();
    let a = Float::with_val(prec, 3) / 2u32;
    let diag = Mat::diag(
        &[
            Float::with_val(prec, 1),
            Float::with_val(prec, 2),
            Float::with_val(prec, 3),
        ],
        prec,
    );
    let mut pair = diag.clone();
    let t = Float::with_val(prec, 1) / 4u32;
    *pair.at_mut(0, 1) = t.clone();
    *pair.at_mut(1, 0) = t;
    let at = |m: &Mat| v.eval(&a, &vicreg::off_diagonal_sq(m), &m.frobenius_sq());
    let (z, p) = (at(&diag), at(&pair));
    run.count(2);
    if z.is_zero() && p > 0 {
        Ok(format!(
            "diag(1, 2, 3): {z}; with Σ₁₂ = Σ₂₁ = 1/4: {p:.6} > 0 (α = 3/2)"
        ))
    } else {
        Err(format!(
            "diag(1, 2, 3): {z:.6}; with Σ₁₂ = Σ₂₁ = 1/4: {p:.6}: not zero exactly on diagonal Σ with a positive value elsewhere"
        ))
    }
}

/// VICReg's `c(Z)` on random batches: `(α²/2) Σ_{i≠j} Σ_ij² = (α² d/2) t^power c(Z)`,
/// `t = (B−1)/B`, `Σ` the centred `1/B` covariance of the notes.
fn vicreg_constant_numeric(run: &mut Run, power: &u32) -> Result<String, String> {
    let prec = run.prec();
    let mut smp = run.sampler();
    let a = Float::with_val(prec, 3) / 2u32;
    let cases = run.scaled(20);
    for case in 0..cases {
        let d = 2 + (case % 6);
        let b = 3 + 5 * (case % 4);
        let z = smp.gaussian(b, d);
        let sigma = covariance(&z, Centring::Centred, Divisor::B).map_err(|e| e.to_string())?;
        let lhs = Float::with_val(prec, a.square_ref()) * vicreg::off_diagonal_sq(&sigma) / 2u32;
        let c = vicreg::covariance_term(&z).map_err(|e| e.to_string())?;
        let t = Float::with_val(prec, (b - 1) as u64) / b as u64;
        let rhs = Float::with_val(prec, a.square_ref()) * d as u64 / 2u32 * t.pow(*power) * &c;
        let res = Float::with_val(prec, &lhs - &rhs);
        run.count(1);
        if !Tol::linalg(prec, d.max(b), 0)
            .accepts(&res, &Float::with_val(prec, lhs.clone().abs() + 1u32))
        {
            return Err(format!(
                "B = {b}, d = {d}: (α²/2)Σ_(i≠j)Σ_ij² = {lhs:.6e} but (α²d/2)t^{power}c(Z) = {rhs:.6e}"
            ));
        }
    }
    Ok(format!("{cases} Gaussian batches, B ∈ 3…18, d ∈ 2…7"))
}

#[cfg(feature = "symbolic")]
mod symbolic {
    use sslproof::scalar::Scalar;
    use sslproof::sym::algebra::{self as alg, AtomCore, SymMat};

    use super::{OffDiag, q};

    /// `Q(Σ) − Q(diag Σ) = candidate(a, Σ)` for fully symbolic `Σ`, `d = 1..=d_max`.
    pub fn offdiag_part(v: OffDiag, d_max: usize) -> Result<String, String> {
        for d in 1..=d_max {
            let s = SymMat::symmetric(d, "s");
            let a = alg::expr("a");
            let p = s.power_traces(2);
            let diag: Vec<_> = (0..d).map(|i| s.at(i, i).clone()).collect();
            let p1d = diag.iter().fold(alg::expr("0"), |acc, x| acc.add(x));
            let p2d = diag
                .iter()
                .fold(alg::expr("0"), |acc, x| acc.add(&x.mul(x)));
            let mut off = alg::expr("0");
            let mut all = alg::expr("0");
            for i in 0..d {
                for j in 0..d {
                    let x2 = s.at(i, j).mul(s.at(i, j));
                    all = all.add(&x2);
                    if i != j {
                        off = off.add(&x2);
                    }
                }
            }
            let cand = v.eval(&a, &off, &all);
            let diff = (&(&q(&a, &p[0], &p[1]) - &q(&a, &p1d, &p2d)) - &cand).expand();
            if !diff.is_zero() {
                return Err(format!(
                    "d = {d}: Q(Σ) − Q(diag Σ) − candidate = {}",
                    alg::plain(&diff)
                ));
            }
        }
        Ok(format!("expands to zero for d = 1…{d_max}"))
    }

    /// The same with no dimension: `tr Σ = T`, `tr Σ² = D₂ + O₂` as symbols.
    pub fn offdiag_invariants(v: OffDiag) -> Result<String, String> {
        let (a, t, d2, o2) = (
            alg::expr("a"),
            alg::expr("T"),
            alg::expr("D2"),
            alg::expr("O2"),
        );
        let whole = q(&a, &t, &d2.add(&o2));
        let diag = q(&a, &t, &d2);
        let diff = (&(&whole - &diag) - &v.eval(&a, &o2, &d2.add(&o2))).expand();
        if diff.is_zero() {
            Ok("Q(T, D₂ + O₂) − Q(T, D₂) − candidate expands to zero in α, T, D₂, O₂".into())
        } else {
            Err(format!("Q − Q_diag − candidate = {}", alg::plain(&diff)))
        }
    }

    /// The lemma `tr Σ² = Σ_ij Σ_ij²` for symmetric `Σ`, `d = 1..=d_max`.
    pub fn trace_square_is_frobenius(d_max: usize) -> Result<String, String> {
        for d in 1..=d_max {
            let s = SymMat::symmetric(d, "s");
            let diff = (&s.power_traces(2)[1] - &s.frobenius_sq()).expand();
            if !diff.is_zero() {
                return Err(format!("d = {d}: {}", alg::plain(&diff)));
            }
        }
        Ok(format!(
            "tr Σ² − Σ_ij Σ_ij² expands to zero for d = 1…{d_max}"
        ))
    }

    /// VICReg's `c(Z) = (1/d) Σ_{i≠j} C_ij²` with `C_ij = Σ_ij / t`, times `(a² d/2) t^power`,
    /// equals `(a²/2) Σ_{i≠j} Σ_ij²`, fully symbolic `Σ`, `d = 2..=d_max`.
    pub fn vicreg_constant(power: u32, d_max: usize) -> Result<String, String> {
        for d in 2..=d_max {
            let s = SymMat::symmetric(d, "s");
            let tinv = alg::expr("t^-1");
            let mut off = alg::expr("0");
            let mut c = alg::expr("0");
            for i in 0..d {
                for j in 0..d {
                    if i != j {
                        off = off.add(&s.at(i, j).mul(s.at(i, j)));
                        let cij = s.at(i, j).mul(&tinv);
                        c = c.add(&cij.mul(&cij));
                    }
                }
            }
            let c = &c * &alg::expr(&format!("1/{d}"));
            let lhs = (&alg::expr("a^2/2") * &off).expand();
            let rhs = (&(&(&alg::expr("a^2/2") * &alg::expr(&d.to_string()))
                * &alg::expr("t").powi(power))
                * &c)
                .expand();
            let diff = (&lhs - &rhs).expand();
            if !diff.is_zero() {
                return Err(format!("d = {d}: difference {}", alg::plain(&diff)));
            }
        }
        Ok(format!(
            "expands to zero for d = 2…{d_max} (t = (B−1)/B symbolic)"
        ))
    }

    /// The same with no dimension: `Σ_{i≠j} C_ij² = O₂/t²` (each term scaled by `1/t²`), so
    /// `(a²d/2) t^power · O₂/(d t²) = (a²/2) O₂` with `O₂, t, d` symbols.
    pub fn vicreg_constant_invariants(power: u32) -> Result<String, String> {
        let c = alg::expr("O2*t^-2/d");
        let rhs = &(&alg::expr("a^2*d/2") * &alg::expr("t").powi(power)) * &c;
        let diff = alg::normalise_rational(&(&alg::expr("a^2/2*O2") - &rhs));
        if diff.is_zero() {
            Ok("(α²d/2)·t²·O₂/(d t²) − (α²/2)O₂ is zero in α, d, t, O₂".into())
        } else {
            Err(format!("difference {}", alg::plain(&diff)))
        }
    }
}

pub fn run(c: &mut ClaimRun) {
    let dm = c.sym_d_max();
    const LEMMA: &str = "lemma tr Σ² = Σ_ij Σ_ij², fully symbolic Σ";
    const INVARIANTS: &str = "in the invariants T, D₂, O₂";
    const DEFINITIONS: (&str, &str) = (
        "definition of trace and product",
        "tr Σ = Σ_j Σ_jj, (Σ²)_ii = Σ_j Σ_ij Σ_ji",
    );
    c.prop(
        Role::AsWritten,
        "the off-diagonal part of the second-order form is (α²/2) Σ_{i≠j} Σ_ij², zero iff the off-diagonals vanish",
        r"Q(\Sigma)-Q(\mathrm{diag}\,\Sigma) = \tfrac{\alpha^2}{2}\sum_{i\ne j}\Sigma_{ij}^2 \ \ge 0",
        OffDiag::Theorem,
    )
    .symbolic(
        "fully symbolic Σ",
        Scope::UpToD { d_max: dm },
        sym!(|&v| symbolic::offdiag_part(v, dm)),
    )
    .symbolic(
        INVARIANTS,
        Scope::DimensionFree,
        sym!(|&v| symbolic::offdiag_invariants(v)),
    )
    .symbolic(
        LEMMA,
        Scope::UpToD { d_max: dm },
        sym!(|_| symbolic::trace_square_is_frobenius(dm)),
    )
    .independent()
    .check("off-diagonal part on random PSD Σ", offdiag_numeric)
    .check("zero exactly on diagonal Σ", zero_exactly_on_diagonal)
    .argument(
        "for every d",
        vec![
            ArgSpec::cited(
                "for symmetric Σ, tr Σ = T and tr Σ² = Σ_ij Σ_ij Σ_ji = D₂ + O₂, and diag Σ has the same T and D₂ with O₂ = 0",
                DEFINITIONS.0,
                DEFINITIONS.1,
            ),
            ArgSpec::checked("that step, for every d ≤ sym_d_max", LEMMA),
            ArgSpec::checked(
                "Q(T, D₂ + O₂) − Q(T, D₂) = (α²/2) O₂ with no dimension in it",
                INVARIANTS,
            ),
            ArgSpec::cited(
                "O₂ is a sum of squares: zero iff every off-diagonal entry is zero",
                "sums of squares",
                "a sum of real squares vanishes iff every term does (elementary)",
            ),
        ],
    )
    .mutant(
        "drops_half",
        "the off-diagonal part is α² Σ_{i≠j} Σ_ij²",
        OffDiag::DropsHalf,
    )
    .mutant(
        "half_pairs",
        "the off-diagonal part is (α²/4) Σ_{i≠j} Σ_ij² (pairs counted once with a ½)",
        OffDiag::HalfPairs,
    )
    .mutant(
        "includes_diagonal",
        "the off-diagonal part is (α²/2) Σ_ij Σ_ij² (diagonal included)",
        OffDiag::IncludesDiagonal,
    )
    .mutant(
        "wrong_sign",
        "the off-diagonal part is −(α²/2) Σ_{i≠j} Σ_ij²",
        OffDiag::WrongSign,
    );

    const CONSTANT_INVARIANTS: &str = "in the invariants O₂, t, d";
    c.prop(
        Role::AsWritten,
        "VICReg's covariance term is this penalty up to the positive constant (α²d/2)((B−1)/B)²",
        r"\tfrac{\alpha^2}{2}\sum_{i\ne j}\Sigma_{ij}^2 = \tfrac{\alpha^2 d}{2}\Big(\tfrac{B-1}{B}\Big)^2 c(Z),\quad c(Z)=\tfrac1d\sum_{i\ne j}C_{ij}^2,\ C=\tfrac{B}{B-1}\Sigma",
        2u32,
    )
    .symbolic(
        "fully symbolic Σ and t = (B−1)/B",
        Scope::UpToD { d_max: dm },
        sym!(|&p| symbolic::vicreg_constant(p, dm)),
    )
    .symbolic(
        CONSTANT_INVARIANTS,
        Scope::DimensionFree,
        sym!(|&p| symbolic::vicreg_constant_invariants(p)),
    )
    .check("against VICReg's c(Z) on random batches", vicreg_constant_numeric)
    .argument(
        "for every d",
        vec![
            ArgSpec::cited(
                "C = Σ/t entrywise, so Σ_{i≠j} C_ij² = O₂/t² and c(Z) = O₂/(d t²)",
                "linearity of finite sums",
                "a common factor leaves a finite sum (elementary)",
            ),
            ArgSpec::checked(
                "(α²d/2) t² · O₂/(d t²) = (α²/2) O₂ with no dimension in it",
                CONSTANT_INVARIANTS,
            ),
        ],
    )
    .mutant(
        "bessel_factor_once",
        "the constant has (B−1)/B to the first power",
        1u32,
    );

    c.step(
        "$\\mathrm{tr}\\,\\Sigma^2=\\sum_i(\\Sigma^2)_{ii}=\\sum_{i,j}\\Sigma_{ij}\\Sigma_{ji}=\\sum_{i,j}\\Sigma_{ij}^2$ for symmetric $\\Sigma$, so removing the diagonal terms leaves exactly the penalty, with the constant $\\alpha^2/2$:",
        Some(r"\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 - \tfrac{\alpha^2}{2}\sum_j\Sigma_{jj}^2 = \tfrac{\alpha^2}{2}\sum_{i\ne j}\Sigma_{ij}^2".into()),
    );
    c.step(
        format!("Machine-checked: the identity with fully symbolic $\\Sigma$ for $d\\le{dm}$, and the same identity in the invariants $T,D_2,O_2$ with no dimension in it; the step between them (the definitions of trace and product) is cited, and checked symbolically for $d\\le{dm}$."),
        None,
    );
    c.step(
        "A sum of squares: zero exactly when every off-diagonal entry is zero, so it does push off-diagonals to zero (and only those: it is blind to the diagonal).",
        None,
    );
    c.step(
        "VICReg's code divides by $B-1$: $C=\\frac{B}{B-1}\\Sigma$ with the notes' $\\frac1B$ covariance, and $c(Z)=\\frac1d\\sum_{i\\ne j}C_{ij}^2$. So the expansion's off-diagonal part is $c(Z)$ times $\\frac{\\alpha^2 d}{2}\\big(\\frac{B-1}{B}\\big)^2$, a positive constant that VICReg's weight $\\nu=1$ absorbs.",
        None,
    );
}
