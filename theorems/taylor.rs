//! # Family A: the Taylor expansion of the negative coding rate
//!
//! ## Main statements
//! * `neg_logdet_taylor_second_order` (A1): `−log det(I+αΣ) = −α tr Σ + (α²/2) tr Σ² + E`, with
//!   `−(α³/3) tr Σ³ ≤ E ≤ 0` for every PSD `Σ` and `α ≥ 0`; the full series
//!   `Σ_k (−1)^k α^k tr(Σ^k)/k` converges for `ρ(αΣ) < 1` and diverges for `ρ(αΣ) > 1`; the
//!   display is the expansion of `−2R_ε`, not of `−R_ε`.
//! * `vicreg_variance_hinge_of_taylor_diagonal` (A2): the diagonal part of the second-order form is
//!   `Σ_j [(α²/2)(Σ_jj − 1/α)² − ½]`, a two-sided quadratic, not a hinge; VICReg's variance term
//!   is an unsquared hinge on `sqrt(Var + 10⁻⁴)`.
//! * `vicreg_covariance_penalty_of_taylor_offdiagonal` (A3): the off-diagonal part is exactly
//!   `(α²/2) Σ_{i≠j} Σ_ij²`; VICReg's `c(Z)` is it times `(α² d/2)((B−1)/B)²`.
//! * `second_order_form_eq_frobenius_dist_to_scaled_identity` (A4): the second-order form equals
//!   `(α²/2)‖Σ − α⁻¹I‖_F² − d/2`.
//!
//! ## Notation
//! `p_k = tr Σ^k` (power sums of the eigenvalues), `Q(Σ) = −α p_1 + (α²/2) p_2` (the notes'
//! second-order form), `R_ε(Σ) = ½ log det(I + αΣ)`, `α = d/ε²`.
//!
//! ## Implementation notes
//! Every formula with mutants is an enum ([`SecondOrder`], [`TruncationBound`], …) whose `eval` is
//! generic over [`Scalar`]: the same code is expanded by symbolica and evaluated in MPFR.
//! The reduction to all `d` rests on the spectral theorem (`Σ = QΛQᵀ`, so
//! `log det(I+αΣ) = Σ_i log(1+αλ_i)` and `tr Σ^k = Σ_i λ_i^k`), checked numerically by
//! [`lemma_spectral_reduction`] against an independent algorithm (Cholesky vs Jacobi vs the
//! constructed spectrum).
//!
//! ## References
//! Bardes, Ponce, LeCun (2022), VICReg; Yu et al. (2020), MCR²; Wu et al. (2025), SimDINO;
//! `../shared/reference-implementations.md` §1.1–1.9.
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 4 and item 6.

use rug::Float;
use rug::ops::Pow;

use sslproof::check::{Recipe, Spectrum, for_all, observed_orders};
use sslproof::claim::{
    Check, Claim, Figure, Findings, Method, Mutant, Nature, Outcome, Proposition, Role, Scope,
    Table,
};
use sslproof::hp::Mat;
use sslproof::hp::sample::Sampler;
use sslproof::report::plot;
use sslproof::scalar::Scalar;
use sslproof::sym::SymError;
use sslproof::tolerance::Tol;
use sslproof_losses::batch::{Centring, Divisor, covariance};
use sslproof_losses::vicreg;

use super::{Config, Entry, sym_check};

/// The family's entries, in catalogue order.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry {
            claim: claim_a1(),
            run: run_a1,
        },
        Entry {
            claim: claim_a2(),
            run: run_a2,
        },
        Entry {
            claim: claim_a3(),
            run: run_a3,
        },
        Entry {
            claim: claim_a4(),
            run: run_a4,
        },
    ]
}

const PLACE: &str =
    "A unified framework for covariance-regularized SSL, item 4 (VICReg vs. coding rate)";

// ---------------------------------------------------------------------------------------------
// Formulas, each written once, with their mutants.
// ---------------------------------------------------------------------------------------------

/// Second-order forms in `α` and the power sums `p_1 = tr Σ`, `p_2 = tr Σ²`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondOrder {
    /// The notes: `−α p_1 + (α²/2) p_2`.
    Notes,
    /// The expansion of `−R_ε = −½ log det(I+αΣ)`: `−(α/2) p_1 + (α²/4) p_2`.
    HalfForRate,
    /// Mutant: the ½ dropped: `−α p_1 + α² p_2`.
    DropsHalf,
    /// Mutant: signs flipped: `α p_1 − (α²/2) p_2`.
    WrongSign,
    /// Mutant: `(tr Σ)²` for `tr Σ²`.
    SquaredTrace,
}

impl SecondOrder {
    pub fn eval<S: Scalar>(self, a: &S, p1: &S, p2: &S) -> S {
        let a2 = a.mul(a);
        match self {
            SecondOrder::Notes => a.mul(p1).neg().add(&a2.mul(p2).times(1, 2)),
            SecondOrder::HalfForRate => a.mul(p1).times(-1, 2).add(&a2.mul(p2).times(1, 4)),
            SecondOrder::DropsHalf => a.mul(p1).neg().add(&a2.mul(p2)),
            SecondOrder::WrongSign => a.mul(p1).sub(&a2.mul(p2).times(1, 2)),
            SecondOrder::SquaredTrace => a.mul(p1).neg().add(&a2.mul(&p1.mul(p1)).times(1, 2)),
        }
    }
    fn tex(self) -> &'static str {
        match self {
            SecondOrder::Notes => {
                r"-\alpha\,\mathrm{tr}\,\Sigma + \tfrac{\alpha^2}{2}\,\mathrm{tr}\,\Sigma^2"
            }
            SecondOrder::HalfForRate => {
                r"-\tfrac{\alpha}{2}\,\mathrm{tr}\,\Sigma + \tfrac{\alpha^2}{4}\,\mathrm{tr}\,\Sigma^2"
            }
            SecondOrder::DropsHalf => {
                r"-\alpha\,\mathrm{tr}\,\Sigma + \alpha^2\,\mathrm{tr}\,\Sigma^2"
            }
            SecondOrder::WrongSign => {
                r"\alpha\,\mathrm{tr}\,\Sigma - \tfrac{\alpha^2}{2}\,\mathrm{tr}\,\Sigma^2"
            }
            SecondOrder::SquaredTrace => {
                r"-\alpha\,\mathrm{tr}\,\Sigma + \tfrac{\alpha^2}{2}(\mathrm{tr}\,\Sigma)^2"
            }
        }
    }
}

/// The `k`-th term of the series of `−log det(I+αΣ)`: `(−1)^k α^k p_k / k`.
pub fn series_term<S: Scalar>(k: u32, a: &S, pk: &S) -> S {
    let sign = if k % 2 == 0 { 1 } else { -1 };
    a.powi(k).mul(pk).times(sign, i64::from(k))
}

/// Bounds on `E = −log det(I+αΣ) − Q(Σ)` for PSD `Σ`: `lower·α³ p_3 ≤ E ≤ upper`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TruncationBound {
    /// `−(α³/3) p_3 ≤ E ≤ 0` (the theorem).
    Theorem,
    /// Mutant: a tighter lower bound `−(α³/6) p_3`.
    SixthLower,
    /// Mutant: the wrong sign, `0 ≤ E`.
    NonNegative,
}

impl TruncationBound {
    /// Whether `lower ≤ e ≤ upper` within `slack`.
    fn holds(self, e: &Float, a3p3: &Float, slack: &Float) -> Result<(), String> {
        let prec = e.prec();
        let (lower, upper): (Option<Float>, Option<Float>) = match self {
            TruncationBound::Theorem => (
                Some(Float::with_val(prec, a3p3 / -3i32)),
                Some(Float::new(prec)),
            ),
            TruncationBound::SixthLower => (
                Some(Float::with_val(prec, a3p3 / -6i32)),
                Some(Float::new(prec)),
            ),
            TruncationBound::NonNegative => (Some(Float::new(prec)), None),
        };
        if let Some(lo) = lower
            && Float::with_val(prec, e + slack) < lo
        {
            return Err(format!("E = {:.6e} below the lower bound {:.6e}", e, lo));
        }
        if let Some(hi) = upper
            && Float::with_val(prec, e - slack) > hi
        {
            return Err(format!("E = {:.6e} above the upper bound {:.6e}", e, hi));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Shared numeric helpers.
// ---------------------------------------------------------------------------------------------

/// `−log det(I + αΣ)` by Cholesky, and `p_1, p_2, p_3` by matrix products: two independent routes.
struct Sides {
    neg_logdet: Float,
    p: Vec<Float>,
}

fn sides(sigma: &Mat, alpha: &Float) -> Sides {
    let l = sigma
        .identity_plus(alpha)
        .and_then(|m| m.logdet_spd())
        .expect("I + αΣ is SPD for PSD Σ, α ≥ 0");
    // p₂ = tr(ΣΣ) and p₃ = tr(Σ²Σ) as dot products: one matrix product instead of two.
    let s2 = sigma.square_symmetric().expect("square");
    let p = vec![
        sigma.trace().expect("square"),
        sigma.trace_of_product(sigma).expect("square"),
        s2.trace_of_product(sigma).expect("square"),
    ];
    Sides { neg_logdet: -l, p }
}

/// A fixed, well-spread 4×4 PSD matrix with `λ_max = 1` for the remainder-order checks.
fn fixed_sigma(prec: u32) -> Mat {
    Recipe {
        d: 4,
        seed: 0xA1,
        spectrum: Spectrum::Spread,
        top: 0,
    }
    .realize(prec)
    .0
}

/// The observed order of `−log det(I+αΣ) − form(α)` as `α = 2^−4 … 2^−12`.
fn remainder_orders(form: SecondOrder, prec: u32) -> Vec<f64> {
    let sigma = fixed_sigma(prec);
    let errs: Vec<Float> = (4..=12)
        .map(|k| {
            let a = Float::with_val(prec, 1) >> k;
            let s = sides(&sigma, &a);
            let q = form.eval(&a, &s.p[0], &s.p[1]);
            Float::with_val(prec, &s.neg_logdet - &q)
        })
        .collect();
    observed_orders(&errs)
}

/// How far the observed order may sit from an integer `p`. At `α = 2^−12` and `λ_max = 1` the next
/// term shifts `log2(E(2α)/E(α))` by about `(3/4)(p_4/p_3)·α/ln 2 < 10⁻³`; 0.01 leaves a factor 10.
const ORDER_SLACK: f64 = 0.01;

fn order_check(form: SecondOrder, expected: f64, prec: u32) -> Check {
    let orders = remainder_orders(form, prec);
    let last = *orders.last().expect("several step sizes");
    let detail = format!(
        "observed order of the remainder {:.3} (α = 2^-11 → 2^-12; expected {expected})",
        last
    );
    let o = if (last - expected).abs() <= ORDER_SLACK {
        Outcome::Holds(detail)
    } else {
        Outcome::Fails(detail)
    };
    Check::new(
        format!("remainder order {expected}"),
        Method::Numeric {
            prec,
            cases: 9,
            seed: None,
        },
        o,
    )
}

// ---------------------------------------------------------------------------------------------
// Symbolic checks (symbolica worker). Each returns Ok(detail) or Err(counterexample).
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "symbolic")]
pub mod symbolic {
    use super::SecondOrder;
    use sslproof::scalar::Scalar;
    use sslproof::sym::algebra::{self as alg, SymMat};
    use sslproof::sym::algebra::{Atom, AtomCore};

    /// The series of `−c·log det(I + aΣ)` through `a^order`, for a fully symbolic symmetric `Σ`.
    /// `det(I + aΣ)` is computed modulo `a^(order+1)` by elimination over truncated series (the
    /// log's coefficients through `a^order` depend on nothing else); symbolica then expands the log.
    fn neg_c_logdet_series(d: usize, half: bool, order: u32) -> (SymMat, Atom) {
        let s = SymMat::symmetric(d, "s");
        let det = s.det_identity_plus(order as usize).to_atom("a");
        let c = if half {
            alg::expr("-1/2")
        } else {
            alg::expr("-1")
        };
        let f = &c * &alg::log(&det);
        (s, alg::series(&f, "a", order))
    }

    /// The series of `−c·log det(I + aΣ)` (c = 1, or ½ for `−R_ε`) through `a²` equals `form`, for
    /// fully symbolic symmetric `Σ`, `d = 1..=d_max`.
    pub fn second_order(form: SecondOrder, half: bool, d_max: usize) -> Result<String, String> {
        for d in 1..=d_max {
            let (s, ser) = neg_c_logdet_series(d, half, 2);
            let p = s.power_traces(2);
            let a = alg::expr("a");
            let f = form.eval(&a, &p[0], &p[1]);
            let diff = (&ser - &f).expand();
            if !diff.is_zero() {
                return Err(format!("d = {d}: series − form = {}", alg::plain(&diff)));
            }
        }
        Ok(format!("identity expands to zero for d = 1…{d_max}"))
    }

    /// One dimension of [`second_order`]: the workload of the symbolic benchmark.
    pub fn second_order_at(form: SecondOrder, d: usize) -> bool {
        let (s, ser) = neg_c_logdet_series(d, false, 2);
        let p = s.power_traces(2);
        let f = form.eval(&alg::expr("a"), &p[0], &p[1]);
        (&ser - &f).expand().is_zero()
    }

    /// The series of `−log det(I+aΣ)` through `a^order` equals `Σ_k (−1)^k a^k tr(Σ^k)/k`.
    pub fn general_term(d_max: usize, order: u32) -> Result<String, String> {
        for d in 1..=d_max {
            let (s, ser) = neg_c_logdet_series(d, false, order);
            let p = s.power_traces(order as usize);
            let a = alg::expr("a");
            let mut sum = alg::expr("0");
            for k in 1..=order {
                sum = sum.add(&super::series_term(k, &a, &p[k as usize - 1]));
            }
            let diff = (&ser - &sum).expand();
            if !diff.is_zero() {
                return Err(format!(
                    "d = {d}, order {order}: difference {}",
                    alg::plain(&diff)
                ));
            }
        }
        Ok(format!(
            "coefficients through α^{order} agree for d = 1…{d_max}"
        ))
    }

    /// The scalar series: `−log(1 + a x) = Σ_{k=1}^{N} (−1)^k a^k x^k / k + O(a^{N+1})`, and the
    /// telescoping identity behind the general term for every k:
    /// `(1 + x) Σ_{k=0}^{N−1} (−x)^k = 1 − (−x)^N`.
    pub fn scalar_series(n: u32) -> Result<String, String> {
        let ser = alg::series(&(&alg::expr("-1") * &alg::expr("log(1 + a*x)")), "a", n);
        let a = alg::expr("a");
        let x = alg::expr("x");
        let mut sum = alg::expr("0");
        let mut geo = alg::expr("0");
        for k in 1..=n {
            sum = sum.add(&super::series_term(k, &a, &x.powi(k)));
            geo = geo.add(&x.neg().powi(k - 1));
        }
        if !(&ser - &sum).expand().is_zero() {
            return Err(format!(
                "scalar series differs: {}",
                alg::plain(&(&ser - &sum).expand())
            ));
        }
        let tele = (&(&alg::expr("1+x") * &geo) - &(&alg::expr("1") - &x.neg().powi(n))).expand();
        if !tele.is_zero() {
            return Err(format!("telescoping identity fails: {}", alg::plain(&tele)));
        }
        Ok(format!(
            "scalar series through order {n} and the telescoping identity expand to zero"
        ))
    }

    /// `g(x) = x − x²/2 − log(1+x)` has `(1+x) g'(x) = −x²` and `h = g + x³/3` has
    /// `(1+x) h'(x) = x³`; with `g(0) = h(0) = 0` this gives `−x³/3 ≤ g(x) ≤ 0` for `x ≥ 0`.
    /// `lower` is the coefficient `c` of the candidate lower bound `−c·x³`.
    pub fn truncation_bound(lower_num: i64, lower_den: i64) -> Result<(String, String), String> {
        let g = alg::expr("x - x^2/2 - log(1+x)");
        let dg = alg::derivative(&g, "x");
        let lhs = alg::normalise_rational(&(&(&alg::expr("1+x") * &dg) + &alg::expr("x^2")));
        if !lhs.is_zero() {
            return Err(format!("(1+x)g'(x) + x² = {}", alg::plain(&lhs)));
        }
        let c = alg::expr(&format!("({lower_num})/({lower_den})"));
        let h = &g + &(&c * &alg::expr("x^3"));
        let dh = alg::derivative(&h, "x");
        // (1+x) h'(x) = −x² + 3c x²(1+x) = x²(3c − 1) + 3c x³: non-negative on x ≥ 0 for every
        // x iff 3c ≥ 1 (the x² coefficient dominates near 0).
        let prod = alg::normalise_rational(&(&alg::expr("1+x") * &dh));
        let coeff2 = alg::normalise_rational(
            &(&(&prod - &(&(&c * &alg::expr("3")) * &alg::expr("x^3"))) * &alg::expr("x^-2")),
        );
        let want = (&(&c * &alg::expr("3")) - &alg::expr("1")).expand();
        if !(&coeff2 - &want).expand().is_zero() {
            return Err(format!("unexpected (1+x)h'(x) = {}", alg::plain(&prod)));
        }
        // 3c − 1 as a rational: the sign decides.
        let three_c_minus_1 = 3 * lower_num - lower_den; // den > 0
        if three_c_minus_1 < 0 {
            return Err(format!(
                "(1+x)h'(x) = {}: negative for small x > 0, so g(x) + {}x³ < 0 there",
                alg::plain(&prod),
                alg::plain(&c)
            ));
        }
        Ok((alg::latex(&dg), alg::latex(&prod)))
    }

    /// LaTeX of the series of `−log det(I + aΣ)` for `d = 2` through `a³`.
    pub fn series_latex_d2() -> String {
        let (_, ser) = neg_c_logdet_series(2, false, 3);
        alg::latex(&ser)
    }

    /// A2: `−a s + (a²/2) s² = (a²/2)(s − 1/a)² − ½` (form `k`: 0 the theorem, 1 the ½ dropped).
    pub fn diagonal_identity(drop_half: bool) -> Result<String, String> {
        let lhs = alg::expr("-a*s + a^2/2*s^2");
        let rhs = if drop_half {
            alg::expr("a^2*(s - a^-1)^2 - 1/2")
        } else {
            alg::expr("a^2/2*(s - a^-1)^2 - 1/2")
        };
        let diff = (&lhs - &rhs).expand();
        if diff.is_zero() {
            Ok("expands to zero".into())
        } else {
            Err(format!("difference {}", alg::plain(&diff)))
        }
    }

    /// A2: the derivative of `D(s) = −a s + (a²/2) s²` vanishes at the candidate `s*`.
    pub fn stationary_at(candidate: &str) -> Result<String, String> {
        let d = alg::expr("-a*s + a^2/2*s^2");
        let dd = alg::derivative(&d, "s");
        // D' is affine in s: D'(s*) = D'(0) + s*·(D'(1) − D'(0)), with D'(0) = −a, slope a².
        let slope = alg::expr("a^2");
        if !(&dd - &(&alg::expr("-a") + &(&slope * &alg::expr("s"))))
            .expand()
            .is_zero()
        {
            return Err(format!("unexpected derivative {}", alg::plain(&dd)));
        }
        let at = (&alg::expr("-a") + &(&slope * &alg::expr(candidate))).expand();
        if at.is_zero() {
            Ok(format!("D'({candidate}) = 0"))
        } else {
            Err(format!("D'({candidate}) = {}", alg::plain(&at)))
        }
    }

    /// A3: `Q(Σ) − Q(diag Σ) = candidate(a, Σ)` for symbolic `Σ`, `d = 1..=d_max`.
    pub fn offdiag_part(v: super::OffDiag, d_max: usize) -> Result<String, String> {
        for d in 1..=d_max {
            let s = SymMat::symmetric(d, "s");
            let a = alg::expr("a");
            let p = s.power_traces(2);
            let diag: Vec<Atom> = (0..d).map(|i| s.at(i, i).clone()).collect();
            let p1d = diag.iter().fold(alg::expr("0"), |acc, x| acc.add(x));
            let p2d = diag
                .iter()
                .fold(alg::expr("0"), |acc, x| acc.add(&x.mul(x)));
            let q = SecondOrder::Notes.eval(&a, &p[0], &p[1]);
            let qd = SecondOrder::Notes.eval(&a, &p1d, &p2d);
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
            let diff = (&(&q - &qd) - &cand).expand();
            if !diff.is_zero() {
                return Err(format!(
                    "d = {d}: Q(Σ) − Q(diag Σ) − candidate = {}",
                    alg::plain(&diff)
                ));
            }
        }
        Ok(format!("expands to zero for d = 1…{d_max}"))
    }

    /// Lemma for all d: `tr Σ² = Σ_ij Σ_ij²` for symmetric `Σ` (d = 1..=d_max symbolically).
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

    /// A3: VICReg's `c(Z) = (1/d) Σ_{i≠j} C_ij²` with `C_ij = Σ_ij / t`, `t = (B−1)/B`, times
    /// `(a² d/2) t^power`, equals `(a²/2) Σ_{i≠j} Σ_ij²`.
    pub fn vicreg_constant(power: i64, d_max: usize) -> Result<String, String> {
        for d in 2..=d_max {
            let s = SymMat::symmetric(d, "s");
            let t = alg::expr("t");
            let tinv = alg::expr("t^-1");
            let dd = alg::expr(&d.to_string());
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
            let rhs = (&(&(&alg::expr("a^2/2") * &dd) * &t.powi(power as u32)) * &c).expand();
            let diff = (&lhs - &rhs).expand();
            if !diff.is_zero() {
                return Err(format!("d = {d}: difference {}", alg::plain(&diff)));
            }
        }
        Ok(format!(
            "expands to zero for d = 2…{d_max} (t = (B−1)/B symbolic)"
        ))
    }

    /// A4 for every d: with `‖Σ − cI‖²_F = p₂ − 2c p₁ + c² d` (symbols `p1, p2, d`),
    /// `Q = −a p₁ + (a²/2) p₂` equals the variant's right-hand side.
    pub fn frobenius_identity_invariants(v: super::Whitening) -> Result<String, String> {
        let (inv_alpha, keep_const, (fnum, fden)) = v.parts();
        let (a, p1, p2, d) = (
            alg::expr("a"),
            alg::expr("p1"),
            alg::expr("p2"),
            alg::expr("d"),
        );
        let c = if inv_alpha {
            alg::expr("a^-1")
        } else {
            alg::expr("1")
        };
        let fro = p2.sub(&c.mul(&p1).times(2, 1)).add(&c.mul(&c).mul(&d));
        let mut rhs = a.mul(&a).mul(&fro).times(fnum, fden);
        if keep_const {
            rhs = rhs.sub(&d.times(1, 2));
        }
        let diff = (&SecondOrder::Notes.eval(&a, &p1, &p2) - &rhs).expand();
        if diff.is_zero() {
            Ok("expands to zero in a, p₁, p₂, d".into())
        } else {
            Err(format!("Q − candidate = {}", alg::plain(&diff)))
        }
    }

    /// A4: `Q(Σ) = (a²/2)‖Σ − c·I‖_F² + k` for symbolic Σ, with the variant's `c`, factor and `k`.
    pub fn frobenius_identity(v: super::Whitening, d_max: usize) -> Result<String, String> {
        for d in 1..=d_max {
            let s = SymMat::symmetric(d, "s");
            let a = alg::expr("a");
            let p = s.power_traces(2);
            let q = SecondOrder::Notes.eval(&a, &p[0], &p[1]);
            let rhs = v.eval_sym(&s, d);
            let diff = (&q - &rhs).expand();
            if !diff.is_zero() {
                return Err(format!("d = {d}: Q − candidate = {}", alg::plain(&diff)));
            }
        }
        Ok(format!("expands to zero for d = 1…{d_max}"))
    }
}

// ---------------------------------------------------------------------------------------------
// A1
// ---------------------------------------------------------------------------------------------

fn claim_a1() -> Claim {
    Claim {
        id: "neg_logdet_taylor_second_order",
        label: "A1",
        family: "taylor",
        title: "VICReg as the second-order Taylor expansion of the negative coding rate",
        quote: "VICReg approximates $-R_\\varepsilon$ via its second-order Taylor expansion around $\\Sigma=0$: $-\\log\\det(I+\\alpha\\Sigma) \\approx -\\alpha\\,\\mathrm{tr}\\,\\Sigma + \\tfrac{\\alpha^2}{2}\\,\\mathrm{tr}\\,\\Sigma^2$",
        place: PLACE,
        statement: r"-R_\varepsilon(\Sigma) \;\overset{?}{\approx}\; -\log\det(I+\alpha\Sigma) \approx -\alpha\,\mathrm{tr}\,\Sigma + \tfrac{\alpha^2}{2}\,\mathrm{tr}\,\Sigma^2 \quad(\text{second order at }\Sigma=0)",
        nature: Nature::Mathematical,
    }
}

/// Lemma behind the all-d reduction, checked numerically: for random PSD `Σ`,
/// `log det(I+αΣ)` by Cholesky equals `Σ_i log(1+αλ_i)` with `λ` from Jacobi and with `λ` the
/// constructed spectrum, and `tr Σ^k` by products equals `Σ_i λ_i^k`, `k ≤ 6`.
pub fn lemma_spectral_reduction(cfg: &Config, cases: usize) -> Check {
    let prec = cfg.prec;
    let seed = cfg.seed ^ 0x1e33a;
    let mut worst_bits = u32::MAX;
    let run = for_all::<Recipe, _>(seed, 8, cases, |r| {
        let (sigma, spectrum) = r.realize(prec);
        let one = Float::with_val(prec, 1);
        let chol = sigma
            .identity_plus(&one)
            .and_then(|m| m.logdet_spd())
            .map_err(|e| e.to_string())?;
        let eig = sigma.sym_eigen().map_err(|e| e.to_string())?;
        let cond_bits = 1 + i32::from(r.top).max(0) as u32;
        let tol = Tol::linalg(prec, r.d, cond_bits);
        let mut from_eig = Float::new(prec);
        let mut from_spec = Float::new(prec);
        for (l_eig, l_spec) in eig.values.iter().zip(spectrum.iter().rev()) {
            from_eig += Float::with_val(prec, l_eig + 1u32).ln();
            from_spec += Float::with_val(prec, l_spec + 1u32).ln();
        }
        let scale = Float::with_val(prec, chol.clone().abs() + 1u32);
        for (name, v) in [("Jacobi", &from_eig), ("spectrum", &from_spec)] {
            let res = Float::with_val(prec, &chol - v);
            worst_bits = worst_bits.min(sslproof::hp::bits_below(&res));
            if !tol.accepts(&res, &scale) {
                return Err(format!("log det by Cholesky − by {name}: {:.3e}", res));
            }
        }
        let p = sigma.power_traces(6).map_err(|e| e.to_string())?;
        for (k, pk) in p.iter().enumerate() {
            let mut s = Float::new(prec);
            let mut sabs = Float::new(prec);
            for l in &spectrum {
                let t = Float::with_val(prec, l.pow((k + 1) as u32));
                sabs += t.clone().abs();
                s += t;
            }
            let res = Float::with_val(prec, pk - &s);
            if !tol.accepts(&res, &Float::with_val(prec, &sabs + 1u32)) {
                return Err(format!("tr Σ^{} − Σλ^{}: {:.3e}", k + 1, k + 1, res));
            }
        }
        Ok(())
    });
    run.to_check(
        "lemma: spectral reduction (Cholesky vs Jacobi vs construction)",
        prec,
        format!(
            "{} random PSD Σ (d ≤ 8): worst log-det residual below 2^-{}",
            run.cases, worst_bits
        ),
    )
}

/// The truncation bound on `cases` random PSD matrices (α = 1; the recipes put `αλ` in
/// `[0, 16]`, inside and far outside the radius of convergence).
pub fn truncation_bound_property(
    cfg: &Config,
    form: SecondOrder,
    bound: TruncationBound,
    cases: usize,
) -> Check {
    let prec = cfg.prec;
    let seed = cfg.seed ^ 0x7b0d;
    let mut tightest = Float::with_val(prec, f64::INFINITY);
    let run = for_all::<Recipe, _>(seed, 8, cases, |r| {
        let (sigma, _) = r.realize(prec);
        let a = Float::with_val(prec, 1);
        let s = sides(&sigma, &a);
        let q = form.eval(&a, &s.p[0], &s.p[1]);
        let e = Float::with_val(prec, &s.neg_logdet - &q);
        // Scale: the magnitudes combined in E and the bound.
        let scale = Float::with_val(prec, s.neg_logdet.clone().abs() + s.p[0].clone().abs())
            + s.p[1].clone().abs()
            + s.p[2].clone().abs();
        let tol = Tol::linalg(prec, r.d, 5);
        let slack = Float::with_val(prec, &scale >> tol.bits);
        bound.holds(&e, &s.p[2], &slack)?;
        // How close to the lower bound (relative): (E + p3/3) / (p3/3).
        if s.p[2] > 0 {
            let third = Float::with_val(prec, &s.p[2] / 3u32);
            let gap = Float::with_val(prec, &e + &third) / &third;
            if gap < tightest {
                tightest = gap;
            }
        }
        Ok(())
    });
    run.to_check(
        "truncation bound on random PSD Σ",
        prec,
        format!(
            "{} random PSD Σ, d ≤ 8, αλ ∈ [0, 16]; closest approach to the lower bound (E + α³p₃/3)/(α³p₃/3) = {:.3e}",
            run.cases, tightest
        ),
    )
}

/// The log-det benchmark workload: `I + Σ` with `Σ` a spread `n × n` recipe (λ_max = 8, seed 7)
/// at 256 bits, so the spectrum lies in (1, 9]. Shared by `benches/engine.rs` and
/// `benches/compare/ours.rs`.
pub fn logdet_workload_matrix(n: usize) -> Mat {
    let m = Recipe {
        d: n,
        seed: 7,
        spectrum: Spectrum::Spread,
        top: 3,
    }
    .realize(256)
    .0;
    m.identity_plus(&Float::with_val(256, 1)).expect("square")
}

/// The benchmark workload: `cases` random `d × d` PSD matrices (recipe seeds `cfg.seed + i`,
/// spread spectra with `λ_max = 2^(i mod 13 − 8)`), each sampled, factored and checked against the
/// truncation bound. Returns how many satisfied it.
pub fn truncation_bound_fixed_d(cfg: &Config, d: usize, cases: usize) -> usize {
    let prec = cfg.prec;
    let a = Float::with_val(prec, 1);
    (0..cases)
        .filter(|&i| {
            let r = Recipe {
                d,
                seed: cfg.seed.wrapping_add(i as u64),
                spectrum: Spectrum::Spread,
                top: (i % 13) as i8 - 8,
            };
            let (sigma, _) = r.realize(prec);
            let s = sides(&sigma, &a);
            let e = Float::with_val(
                prec,
                &s.neg_logdet - SecondOrder::Notes.eval(&a, &s.p[0], &s.p[1]),
            );
            let slack = Float::with_val(prec, s.neg_logdet.clone().abs() + 1u32)
                >> Tol::linalg(prec, d, 5).bits;
            TruncationBound::Theorem.holds(&e, &s.p[2], &slack).is_ok()
        })
        .count()
}

/// Partial sums of the series at `ρ(αΣ) = r` for a fixed spread spectrum.
fn partial_sums(r: &Float, d: usize, n_terms: u32, prec: u32) -> (Float, Vec<Float>, Float) {
    // Spectrum: r·(1, 0.9, 0.8, …) so the top is exactly r.
    let spectrum: Vec<Float> = (0..d)
        .map(|i| Float::with_val(prec, r * Float::with_val(prec, 10 - i as i32)) / 10u32)
        .collect();
    let mut s = Sampler::new(0xADD1, prec);
    let sigma = s.with_spectrum(&spectrum);
    let trace = sigma.trace().expect("square");
    let exact = -spectrum.iter().fold(Float::new(prec), |acc, l| {
        acc + Float::with_val(prec, l + 1u32).ln()
    });
    let a = Float::with_val(prec, 1);
    let mut p = sigma.clone();
    let mut sum = Float::new(prec);
    let mut terms = Vec::new();
    for k in 1..=n_terms {
        if k > 1 {
            p = p.mul(&sigma).expect("square");
        }
        let t = series_term(k, &a, &p.trace().expect("square"));
        sum += &t;
        terms.push(t);
    }
    let _ = trace;
    (exact - sum, terms, exact_trace(&spectrum, prec))
}

fn exact_trace(spectrum: &[Float], prec: u32) -> Float {
    spectrum.iter().fold(Float::new(prec), |acc, l| acc + l)
}

/// Radius of convergence `1/ρ(Σ)` in α, shown on both sides. `radius_factor` scales the claimed
/// radius (1 for the theorem; mutants claim others). `by_trace`: the mutant "converges iff
/// tr(αΣ) < 1".
fn radius_check(prec: u32, radius_factor: u32, by_trace: bool) -> Check {
    const N: u32 = 400;
    let d = 4;
    let mut lines = Vec::new();
    let mut failure = None;
    for (num, den) in [(9, 10), (11, 10)] {
        let r = Float::with_val(prec, num) / den;
        let (err, terms, trace) = partial_sums(&r, d, N, prec);
        let last = terms.last().expect("terms").clone().abs();
        let mid = terms[(N / 2) as usize].clone().abs();
        let converges = last < mid && err.clone().abs() < 1e-10;
        // Tail bound inside: |S − S_N| ≤ d r^{N+1} / ((N+1)(1 − r)).
        let predicted = if by_trace {
            trace < 1
        } else {
            Float::with_val(prec, &r / radius_factor) < 1
        };
        lines.push(format!(
            "ρ(αΣ) = {num}/{den}, tr(αΣ) = {:.3}: |S − S_{N}| = {:.3e}, |t_{N}| = {:.3e} ({})",
            trace,
            err.clone().abs(),
            last,
            if converges { "converges" } else { "diverges" }
        ));
        if predicted != converges && failure.is_none() {
            failure = Some(format!(
                "at ρ(αΣ) = {num}/{den}, tr(αΣ) = {:.3} the claimed radius predicts {} but the series {}",
                trace,
                if predicted {
                    "convergence"
                } else {
                    "divergence"
                },
                if converges { "converges" } else { "diverges" }
            ));
        }
    }
    let o = match failure {
        None => Outcome::Holds(lines.join("; ")),
        Some(f) => Outcome::Fails(f),
    };
    Check::new(
        "both sides of the radius (400 terms)",
        Method::Numeric {
            prec,
            cases: 2,
            seed: Some(0xADD1),
        },
        o,
    )
}

fn run_a1(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let dm = cfg.sym_d_max;
    let mut f = Findings::default();
    let (svg, figure_check) = figure_a1();
    let all_d = Scope::AllD {
        via: "spectral reduction to eigenvalue power sums".into(),
    };

    // -- As written, part 1: the display is the 2nd-order Taylor polynomial of −log det(I+αΣ).
    let lemma = lemma_spectral_reduction(cfg, 200);
    let scalar = sym_check(
        "scalar series −log(1+αx) through α^10, general term by telescoping",
        Method::Symbolic {
            scope: Scope::Exact,
        },
        sym_job!(symbolic::scalar_series(10)),
    );
    let all_d_check = Check::new(
        "second-order polynomial for every d",
        Method::Symbolic { scope: all_d.clone() },
        match (&scalar.outcome, &lemma.outcome) {
            (Outcome::Holds(_), Outcome::Holds(_)) => Outcome::Holds(
                "−log det(I+αΣ) = Σ_i −log(1+αλ_i) and p_k = Σ_i λ_i^k (lemma checked numerically); the scalar series holds symbolically".into(),
            ),
            (Outcome::NotRun(w), _) => Outcome::NotRun(w.clone()),
            (Outcome::Fails(w), _) | (_, Outcome::Fails(w)) => Outcome::Fails(w.clone()),
            (_, Outcome::NotRun(w)) => Outcome::NotRun(w.clone()),
        },
    );
    f.propositions.push(
        Proposition::new(
            Role::AsWritten,
            "the display is the second-order Taylor polynomial of −log det(I+αΣ) at Σ = 0",
            format!(
                r"-\log\det(I+\alpha\Sigma) = {} + O(\alpha^3)",
                SecondOrder::Notes.tex()
            ),
        )
        .with(sym_check(
            &format!("series of −log det(I+αΣ), fully symbolic Σ, d ≤ {dm}"),
            Method::Symbolic {
                scope: Scope::UpToD { d_max: dm },
            },
            sym_job!(symbolic::second_order(SecondOrder::Notes, false, dm)),
        ))
        .with(all_d_check)
        .with(lemma.clone())
        .with(order_check(SecondOrder::Notes, 3.0, prec)),
    );

    // -- As written, part 2: that this is an expansion of −R_ε.
    f.propositions.push(
        Proposition::new(
            Role::AsWritten,
            "the display is the expansion of −R_ε = −½ log det(I+αΣ)",
            format!(
                r"-R_\varepsilon(\Sigma) = {} + O(\alpha^3)",
                SecondOrder::Notes.tex()
            ),
        )
        .with(sym_check(
            &format!("series of −R_ε, fully symbolic Σ, d ≤ {dm}"),
            Method::Symbolic {
                scope: Scope::UpToD { d_max: dm },
            },
            sym_job!(symbolic::second_order(SecondOrder::Notes, true, dm)),
        ))
        .with(numeric_rate_vs_form(SecondOrder::Notes, prec)),
    );

    // -- Corrected: the expansion of −R_ε, the series, the radius and the rigorous bound.
    let bound_sym: Result<Result<(String, String), String>, SymError> =
        sym_job!(symbolic::truncation_bound(1, 3));
    let (bound_sym_check, bound_tex) = match bound_sym {
        Ok(Ok((dg, dh))) => (
            Check::new(
                "derivative certificates for −x³/3 ≤ g(x) ≤ 0",
                Method::Symbolic {
                    scope: Scope::Exact,
                },
                Outcome::Holds("(1+x)g′ = −x² and (1+x)(g + x³/3)′ = x³ expand exactly".into()),
            ),
            Some((dg, dh)),
        ),
        Ok(Err(e)) => (
            Check::new(
                "derivative certificates for −x³/3 ≤ g(x) ≤ 0",
                Method::Symbolic {
                    scope: Scope::Exact,
                },
                Outcome::Fails(e),
            ),
            None,
        ),
        Err(e) => (
            Check::new(
                "derivative certificates for −x³/3 ≤ g(x) ≤ 0",
                Method::Symbolic {
                    scope: Scope::Exact,
                },
                Outcome::NotRun(e.to_string()),
            ),
            None,
        ),
    };
    f.propositions.push(
        Proposition::new(Role::Corrected, "−R_ε = −(α/2) tr Σ + (α²/4) tr Σ² + O(α³): the display is the expansion of −2R_ε", format!(r"-R_\varepsilon(\Sigma) = {} + O(\alpha^3),\qquad -2R_\varepsilon(\Sigma) = {} + O(\alpha^3)", SecondOrder::HalfForRate.tex(), SecondOrder::Notes.tex()))
            .with(sym_check(&format!("series of −R_ε, fully symbolic Σ, d ≤ {dm}"), Method::Symbolic { scope: Scope::UpToD { d_max: dm } }, sym_job!(symbolic::second_order(SecondOrder::HalfForRate, true, dm))))
            .with(numeric_rate_vs_form(SecondOrder::HalfForRate, prec)),
    );
    f.propositions.push(
        Proposition::new(Role::Corrected, "the whole series, its general term and its radius of convergence 1/ρ(Σ)", r"-\log\det(I+\alpha\Sigma) = \sum_{k\ge1} \frac{(-1)^k\alpha^k}{k}\,\mathrm{tr}\,\Sigma^k,\quad\text{converging for }\rho(\alpha\Sigma)<1,\ \text{diverging for }\rho(\alpha\Sigma)>1")
            .with(sym_check(&format!("coefficients through α^5, fully symbolic Σ, d ≤ {}", dm), Method::Symbolic { scope: Scope::UpToD { d_max: dm } }, sym_job!(symbolic::general_term(dm, 5))))
            .with(scalar.clone())
            .with(radius_check(prec, 1, false)),
    );
    f.propositions.push(
        Proposition::new(Role::Corrected, "rigorous truncation bound: −(α³/3) tr Σ³ ≤ E ≤ 0 for PSD Σ, α ≥ 0", r"E := -\log\det(I+\alpha\Sigma) - \Big({-\alpha\,\mathrm{tr}\,\Sigma + \tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2}\Big) \in \Big[-\tfrac{\alpha^3}{3}\,\mathrm{tr}\,\Sigma^3,\ 0\Big]")
            .with(bound_sym_check)
            .with(truncation_bound_property(cfg, SecondOrder::Notes, TruncationBound::Theorem, cfg.cases))
            .with(order_check(SecondOrder::Notes, 3.0, prec))
            .with(figure_check),
    );
    let (table, worst) = practical_table(prec);
    f.propositions.push(
        Proposition::new(
            Role::Approximation,
            "accuracy at the α = d/ε² and spectra of real implementations",
            r"\text{relative error } |E| / |\log\det(I+\alpha\Sigma)|",
        )
        .with(Check::new(
            "implementation defaults (table below)",
            Method::Measured { prec },
            Outcome::Holds(worst),
        )),
    );
    f.tables.push(table);

    // -- Mutants: the same checks on wrong variants.
    for (name, form, what) in [
        (
            "drops_half",
            SecondOrder::DropsHalf,
            "α² tr Σ² for (α²/2) tr Σ²",
        ),
        ("wrong_sign", SecondOrder::WrongSign, "both signs flipped"),
        (
            "squared_trace",
            SecondOrder::SquaredTrace,
            "(tr Σ)² for tr Σ² (equal only for d = 1)",
        ),
    ] {
        f.mutants.push(Mutant {
            name: name.into(),
            description: format!("second-order form with {what}"),
            checks: vec![
                sym_check(
                    &format!("series of −log det(I+αΣ), fully symbolic Σ, d ≤ {dm}"),
                    Method::Symbolic {
                        scope: Scope::UpToD { d_max: dm },
                    },
                    sym_job!(symbolic::second_order(form, false, dm)),
                ),
                order_check(form, 3.0, prec),
            ],
        });
    }
    f.mutants.push(Mutant {
        name: "remainder_order_four".into(),
        description: "the truncation error is O(α⁴)".into(),
        checks: vec![order_check(SecondOrder::Notes, 4.0, prec)],
    });
    f.mutants.push(Mutant {
        name: "bound_sixth".into(),
        description: "a tighter lower bound −(α³/6) tr Σ³ ≤ E".into(),
        checks: vec![
            certificate_check(1, 6),
            truncation_bound_property(
                cfg,
                SecondOrder::Notes,
                TruncationBound::SixthLower,
                cfg.cases,
            ),
        ],
    });
    f.mutants.push(Mutant {
        name: "bound_wrong_sign".into(),
        description: "the second-order form underestimates: E ≥ 0".into(),
        checks: vec![truncation_bound_property(
            cfg,
            SecondOrder::Notes,
            TruncationBound::NonNegative,
            cfg.cases,
        )],
    });
    f.mutants.push(Mutant {
        name: "bound_with_dropped_half".into(),
        description: "the bound −(α³/3) tr Σ³ ≤ E ≤ 0 for the form with the ½ dropped".into(),
        checks: vec![truncation_bound_property(
            cfg,
            SecondOrder::DropsHalf,
            TruncationBound::Theorem,
            cfg.cases,
        )],
    });
    f.mutants.push(Mutant {
        name: "radius_by_trace".into(),
        description: "the series converges iff tr(αΣ) < 1".into(),
        checks: vec![radius_check(prec, 1, true)],
    });
    f.mutants.push(Mutant {
        name: "radius_doubled".into(),
        description: "the radius of convergence is 2/ρ(Σ)".into(),
        checks: vec![radius_check(prec, 2, false)],
    });

    // -- Derivation.
    f.step(
        "Diagonalise $\\Sigma = Q\\Lambda Q^\\top$ (spectral theorem). Then $\\det(I+\\alpha\\Sigma)=\\prod_i(1+\\alpha\\lambda_i)$ and $\\mathrm{tr}\\,\\Sigma^k=\\sum_i\\lambda_i^k$, so the matrix series is the sum over eigenvalues of the scalar series (the lemma is checked numerically: Cholesky vs Jacobi vs the constructed spectrum).",
        Some(r"-\log\det(I+\alpha\Sigma) = -\sum_i \log(1+\alpha\lambda_i)".into()),
    );
    f.step(
        "The scalar series: $\\frac{d}{dx}\\sum_{k=1}^{N}\\frac{(-1)^{k+1}x^k}{k} = \\sum_{k=0}^{N-1}(-x)^k = \\frac{1-(-x)^N}{1+x}$ (telescoping, checked symbolically), so for $|x|<1$ the remainder vanishes and",
        Some(r"-\log(1+x) = \sum_{k\ge 1}\frac{(-1)^k x^k}{k},\qquad -\log\det(I+\alpha\Sigma) = \sum_{k\ge1}\frac{(-1)^k\alpha^k}{k}\,\mathrm{tr}\,\Sigma^k".into()),
    );
    f.step(
        "It converges exactly when every $|\\alpha\\lambda_i|<1$: the radius in $\\alpha$ is $1/\\rho(\\Sigma)$. Numerically (400 terms, 256 bits) the partial sums converge at $\\rho(\\alpha\\Sigma)=0.9$ although $\\mathrm{tr}(\\alpha\\Sigma)>1$ (so a trace condition is not the right one), and the terms blow up at $\\rho(\\alpha\\Sigma)=1.1$; the figures are in the evidence below.",
        None,
    );
    #[cfg(feature = "symbolic")]
    if let Ok(tex) = sslproof::sym::run(symbolic::series_latex_d2) {
        f.step("For a fully symbolic $2\\times2$ $\\Sigma$ (entries $s_{11}, s_{12}, s_{22}$), symbolica's series of $-\\log\\det(I+a\\Sigma)$ through $a^3$:", Some(tex));
    }
    f.step(
        "Truncating after $k=2$ gives the notes' form. But $R_\\varepsilon = \\tfrac12\\log\\det(I+\\alpha\\Sigma)$, so the display is the expansion of $-2R_\\varepsilon$; the expansion of $-R_\\varepsilon$ has half the coefficients.",
        Some(format!(r"-R_\varepsilon(\Sigma) = {} + O(\alpha^3)", SecondOrder::HalfForRate.tex())),
    );
    let bound_step = "Rigorous remainder. Let $g(x)=x-\\tfrac{x^2}{2}-\\log(1+x)$, the per-eigenvalue error at $x=\\alpha\\lambda_i\\ge0$. Then $g(0)=0$ and $(1+x)g'(x)=-x^2\\le0$, so $g\\le0$; and $h=g+\\tfrac{x^3}{3}$ has $(1+x)h'(x)=x^3\\ge0$, so $h\\ge0$. Summing over eigenvalues:";
    f.step(bound_step, Some(r"-\tfrac{\alpha^3}{3}\,\mathrm{tr}\,\Sigma^3 \;\le\; -\log\det(I+\alpha\Sigma) - \Big(-\alpha\,\mathrm{tr}\,\Sigma+\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2\Big) \;\le\; 0".into()));
    if let Some((dg, dh)) = bound_tex {
        f.step(
            "symbolica's derivatives: $g'(x)$, then $(1+x)h'(x)$ expanded:",
            Some(format!(r"g'(x) = {dg},\qquad (1+x)\,h'(x) = {dh}")),
        );
    }
    f.step(
        "The bound holds for every $\\alpha\\ge0$, inside or outside the radius; the second-order form always **over**estimates $-\\log\\det$. Its relative error is small only when $\\alpha\\lambda_{\\max}\\ll1$. At the defaults of real implementations $\\alpha\\lambda_{\\max}$ ranges from 0.5 (MCR² self-supervised, isotropic features) to 5120 (collapsed features at SimDINO's defaults) in the table below; only the first is inside the radius, and at SimDINO's isotropic point ($\\alpha\\lambda=20$) the second-order form even has the wrong sign.",
        None,
    );
    f.figures.push(Figure {
        file: "neg_logdet_taylor_second_order.svg".into(),
        caption: "Per eigenvalue, x = αλ: the exact −log(1+x), the second-order form −x + x²/2 and the lower bound −x + x²/2 − x³/3; the exact curve lies between the two for every x ≥ 0. The series converges only for x < 1.".into(),
        svg,
    });
    f
}

/// The derivative certificate for the lower bound `−c·x³ ≤ g(x)`, `c = num/den`.
fn certificate_check(num: i64, den: i64) -> Check {
    let r: Result<Result<(String, String), String>, SymError> =
        sym_job!(symbolic::truncation_bound(num, den));
    let name = format!("derivative certificate for −({num}/{den})x³ ≤ g(x)");
    sym_check(
        &name,
        Method::Symbolic {
            scope: Scope::Exact,
        },
        r.map(|x| x.map(|_| "certificate found".to_string())),
    )
}

/// `−R_ε − form` at small α for the fixed matrix: the observed remainder order must be 3.
fn numeric_rate_vs_form(form: SecondOrder, prec: u32) -> Check {
    let sigma = fixed_sigma(prec);
    let errs: Vec<Float> = (4..=12)
        .map(|k| {
            let a = Float::with_val(prec, 1) >> k;
            let s = sides(&sigma, &a);
            let rate = Float::with_val(prec, &s.neg_logdet / 2u32);
            Float::with_val(prec, rate - form.eval(&a, &s.p[0], &s.p[1]))
        })
        .collect();
    let last = *observed_orders(&errs).last().expect("orders");
    let detail =
        format!("observed order of −R_ε − form: {last:.3} (3 for a second-order expansion)");
    let o = if (last - 3.0).abs() <= ORDER_SLACK {
        Outcome::Holds(detail)
    } else {
        Outcome::Fails(detail)
    };
    Check::new(
        "remainder order of −R_ε − form",
        Method::Numeric {
            prec,
            cases: 9,
            seed: None,
        },
        o,
    )
}

/// Second-order accuracy where implementations run. Each row: the implementation's default
/// `eps` (which is ε², see reference-implementations §4.1 item 5), `d`, `α = d/eps`, and a spectrum
/// with `tr Σ = 1` (L2-normalised features, uncentred second moment, as in MCR²/SimDINO/EMP-SSL).
fn practical_table(prec: u32) -> (Table, String) {
    struct Row {
        name: &'static str,
        eps: (i64, i64),
        d: usize,
    }
    let rows = [
        Row {
            name: "MCR² self-supervised (eps 2, fd 32)",
            eps: (2, 1),
            d: 32,
        },
        Row {
            name: "EMP-SSL official / lightly (eps 0.2), d = 1024 assumed",
            eps: (1, 5),
            d: 1024,
        },
        Row {
            name: "SimDINO argparse (eps 0.5, z_dim 256)",
            eps: (1, 2),
            d: 256,
        },
        Row {
            name: "SimDINO README / SimDINOv2 (eps 0.05, z_dim 256)",
            eps: (1, 20),
            d: 256,
        },
    ];
    let fmt = |x: &Float| format!("{:.4e}", x);
    let mut out = Vec::new();
    let mut worst_iso = String::new();
    for r in &rows {
        let eps = Float::with_val(prec, r.eps.0) / r.eps.1;
        let alpha = Float::with_val(prec, r.d as u64) / &eps;
        let d = r.d;
        let spectra: Vec<(&str, Vec<Float>)> = vec![
            (
                "isotropic Σ = I/d",
                vec![Float::with_val(prec, 1) / d as u64; d],
            ),
            ("power law λ_i ∝ 1/i", {
                let h = (1..=d).fold(Float::new(prec), |acc, i| {
                    acc + Float::with_val(prec, 1) / i as u64
                });
                (1..=d)
                    .map(|i| Float::with_val(prec, 1) / (i as u64) / &h)
                    .collect()
            }),
            ("collapsed, rank 1", {
                let mut v = vec![Float::new(prec); d];
                v[0] = Float::with_val(prec, 1);
                v
            }),
            (
                "the form's own minimiser Σ = I/α",
                vec![Float::with_val(prec, 1) / &alpha; d],
            ),
        ];
        for (sname, spec) in spectra {
            let mut exact = Float::new(prec);
            let (mut p1, mut p2) = (Float::new(prec), Float::new(prec));
            let mut top = Float::new(prec);
            for l in &spec {
                let x = Float::with_val(prec, &alpha * l);
                if x > top {
                    top.clone_from(&x);
                }
                exact -= Float::with_val(prec, &x + 1u32).ln();
                p1 += l;
                p2 += l * l;
            }
            let q = SecondOrder::Notes.eval(&alpha, &p1, &p2);
            let rel = Float::with_val(prec, &q - &exact).abs() / exact.clone().abs();
            if sname.starts_with("isotropic") && r.eps == (1, 20) {
                worst_iso = format!(
                    "SimDINO defaults, isotropic Σ: αλ = {}, −log det = {}, second-order form = {} (relative error {})",
                    fmt(&top),
                    fmt(&exact),
                    fmt(&q),
                    fmt(&rel)
                );
            }
            out.push(vec![
                r.name.to_string(),
                format!("{}", alpha.to_f64()),
                sname.to_string(),
                format!("{:.4}", top),
                fmt(&exact),
                fmt(&q),
                format!("{:.3e}", rel),
                if top < 1 { "yes".into() } else { "no".into() },
            ]);
        }
    }
    (
        Table {
            caption: "Second-order accuracy at implementation defaults (tr Σ = 1: unit-norm features, uncentred)".into(),
            header: ["implementation", "α = d/eps", "spectrum", "αλ_max", "−log det(I+αΣ)", "second-order form", "relative error", "inside radius"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            rows: out,
        },
        worst_iso,
    )
}

/// The A1 figure, per eigenvalue (`α = x`, `λ = 1`, so `p_1 = p_2 = p_3 = 1`), and a check that the
/// plotted data says what the caption says: the exact curve lies between the second-order form and
/// the lower bound at every plotted point (at 128 bits, before rounding to the picture).
fn figure_a1() -> (String, Check) {
    let prec = 128;
    let n = 250;
    let one = Float::with_val(prec, 1);
    let xs: Vec<Float> = (0..=n)
        .map(|i| Float::with_val(prec, i) * 5u32 / (2 * n) as u32)
        .collect();
    let exact: Vec<Float> = xs
        .iter()
        .map(|x| -Float::with_val(prec, x + 1u32).ln())
        .collect();
    let q: Vec<Float> = xs
        .iter()
        .map(|x| SecondOrder::Notes.eval(x, &one, &one))
        .collect();
    let lower: Vec<Float> = xs
        .iter()
        .zip(&q)
        .map(|(x, q)| Float::with_val(prec, q - Float::with_val(prec, x.pow(3u32)) / 3u32))
        .collect();
    let between = (0..xs.len()).all(|i| lower[i] <= exact[i] && exact[i] <= q[i]);
    let pts = |v: &[Float]| -> Vec<(f64, f64)> {
        xs.iter()
            .zip(v)
            .map(|(x, y)| (x.to_f64(), y.to_f64()))
            .collect()
    };
    let chart = plot::Chart {
        title: "−log(1+x) against its second-order form and the bound".into(),
        x_label: "x = αλ".into(),
        y_label: "per-eigenvalue value".into(),
        x_range: (0.0, 2.5),
        y_range: (-2.0, 1.5),
        series: vec![
            plot::Series {
                name: "−log(1+x) (exact)".into(),
                points: pts(&exact),
                colour: 0,
                dashed: false,
            },
            plot::Series {
                name: "−x + x²/2 (second order)".into(),
                points: pts(&q),
                colour: 1,
                dashed: false,
            },
            plot::Series {
                name: "−x + x²/2 − x³/3 (lower bound)".into(),
                points: pts(&lower),
                colour: 2,
                dashed: true,
            },
            plot::Series {
                name: "x = 1 (radius)".into(),
                points: vec![(1.0, -2.0), (1.0, 1.5)],
                colour: 4,
                dashed: true,
            },
        ],
    };
    let detail = format!("{} plotted points, x ∈ [0, 2.5]", xs.len());
    let check = Check::new(
        "figure data: exact curve between the bound curves",
        Method::Numeric {
            prec,
            cases: xs.len(),
            seed: None,
        },
        if between {
            Outcome::Holds(detail)
        } else {
            Outcome::Fails(format!(
                "the plotted exact curve leaves the band ({detail})"
            ))
        },
    );
    (plot::render(&chart).expect("render the A1 figure"), check)
}

// ---------------------------------------------------------------------------------------------
// A2
// ---------------------------------------------------------------------------------------------

fn claim_a2() -> Claim {
    Claim {
        id: "vicreg_variance_hinge_of_taylor_diagonal",
        label: "A2",
        family: "taylor",
        title: "The variance hinge as the diagonal part of the expansion",
        quote: "yielding two simple surrogates: a variance hinge $\\sum_j \\max(0, 1-\\sigma_j)^2$ enforcing $\\sigma_j > 1$",
        place: PLACE,
        statement: r"\text{diag. part of } -\alpha\,\mathrm{tr}\,\Sigma+\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 \;\rightsquigarrow\; \sum_j \max(0, 1-\sigma_j)^2,\ \text{enforcing } \sigma_j>1",
        nature: Nature::Mathematical,
    }
}

/// The diagonal part `D(s) = Σ_j (−α s_j + (α²/2) s_j²)` of the second-order form, `s_j = σ_j²`.
fn diag_part(alpha: &Float, s: &[Float]) -> Float {
    let prec = alpha.prec();
    let p1 = s.iter().fold(Float::new(prec), |acc, x| acc + x);
    let p2 = s.iter().fold(Float::new(prec), |acc, x| {
        acc + Float::with_val(prec, x.square_ref())
    });
    SecondOrder::Notes.eval(alpha, &p1, &p2)
}

/// The notes' hinge `Σ_j max(0, 1 − σ_j)^power` on the standard deviations.
fn notes_hinge(sigma: &[Float], power: u32) -> Float {
    let prec = sigma[0].prec();
    sigma.iter().fold(Float::new(prec), |acc, s| {
        let h = Float::with_val(prec, 1 - s);
        if h > 0 { acc + h.pow(power) } else { acc }
    })
}

/// A batch of `B = 2` rows `±t` per coordinate has unbiased variance `2t²`: exact control of Var.
fn batch_with_variances(vars: &[Float]) -> Mat {
    let prec = vars[0].prec();
    let ts: Vec<Float> = vars
        .iter()
        .map(|v| Float::with_val(prec, v / 2u32).sqrt())
        .collect();
    Mat::from_fn(2, vars.len(), prec, |i, j| {
        if i == 0 {
            ts[j].clone()
        } else {
            -ts[j].clone()
        }
    })
}

/// Is the notes' hinge (with exponent `power`) a constant multiple of the official variance term?
/// Two batches: a ratio that differs refutes it.
fn hinge_matches_official(power: u32, prec: u32) -> Check {
    let eps = vicreg::default_eps(prec);
    let one = Float::with_val(prec, 1);
    let mut ratios = Vec::new();
    let mut lines = Vec::new();
    for (num, den) in [(1, 4), (81, 100)] {
        // Var chosen so that sqrt(Var + eps) is exactly num/den: std as the official code sees it.
        let std: Float = Float::with_val(prec, num) / den;
        let std = Float::with_val(prec, std.sqrt_ref());
        let var = Float::with_val(prec, std.square_ref()) - &eps;
        let z = batch_with_variances(&[var]);
        let official = vicreg::variance_term(&z, &one, &eps).expect("valid batch");
        let hinge = notes_hinge(std::slice::from_ref(&std), power);
        lines.push(format!(
            "std {:.4}: official {:.6}, notes {:.6}",
            std, official, hinge
        ));
        ratios.push(Float::with_val(prec, &hinge / &official));
    }
    let diff = Float::with_val(prec, &ratios[0] - &ratios[1]).abs();
    let tol = Tol::scalar(prec);
    let o = if tol.accepts(&diff, &ratios[0]) {
        Outcome::Holds(format!(
            "constant ratio {:.6}: {}",
            ratios[0],
            lines.join("; ")
        ))
    } else {
        Outcome::Fails(format!(
            "ratio notes/official varies ({:.6} vs {:.6}): {}",
            ratios[0],
            ratios[1],
            lines.join("; ")
        ))
    };
    Check::new(
        format!("hinge^{power} against the transcribed official variance term"),
        Method::Numeric {
            prec,
            cases: 2,
            seed: None,
        },
        o,
    )
}

fn run_a2(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    let one = Float::with_val(prec, 1);

    // As written 1: the diagonal part has the hinge's form — is it a function of the hinge at all?
    let alpha = Float::with_val(prec, 1);
    let s_a = vec![Float::with_val(prec, 1)]; // σ = 1
    let s_b = vec![Float::with_val(prec, 4)]; // σ = 2
    let (da, db) = (diag_part(&alpha, &s_a), diag_part(&alpha, &s_b));
    let (ha, hb) = (
        notes_hinge(&[Float::with_val(prec, 1)], 2),
        notes_hinge(&[Float::with_val(prec, 2)], 2),
    );
    let same_hinge_diff_d = ha == hb && da != db;
    let aw1 = Check::new(
        "is the diagonal part a function of the hinge?",
        Method::Numeric {
            prec,
            cases: 2,
            seed: None,
        },
        if same_hinge_diff_d {
            Outcome::Fails(format!(
                "d = 1, α = 1: σ = 1 and σ = 2 give hinge {ha} and {hb} but diagonal part {da:.4} and {db:.4}"
            ))
        } else {
            Outcome::Holds("no pair separates them".into())
        },
    );
    f.propositions.push(
        Proposition::new(Role::AsWritten, "the diagonal part of the expansion is the hinge Σ_j max(0, 1 − σ_j)²", r"\sum_j\Big(-\alpha\Sigma_{jj}+\tfrac{\alpha^2}{2}\Sigma_{jj}^2\Big) \;\overset{?}{\propto}\; \sum_j\max(0,1-\sigma_j)^2 + \text{const}")
            .with(aw1),
    );
    f.propositions.push(
        Proposition::new(Role::AsWritten, "the hinge as written is VICReg's variance term (paper and code)", r"\sum_j \max(0,1-\sigma_j)^2 \overset{?}{\propto} v(Z) = \tfrac1d\sum_j \max\big(0, 1-\sqrt{\mathrm{Var}(z^j)+10^{-4}}\big)")
            .with(hinge_matches_official(2, prec)),
    );

    // Corrected.
    let ident = sym_check(
        "identity, symbolic in α and s",
        Method::Symbolic {
            scope: Scope::Exact,
        },
        sym_job!(symbolic::diagonal_identity(false)),
    );
    let stat = sym_check(
        "stationary point s* = 1/α",
        Method::Symbolic {
            scope: Scope::Exact,
        },
        sym_job!(symbolic::stationary_at("a^-1")),
    );
    let num_min = diag_minimum_check(prec, 1, 1);
    f.propositions.push(
        Proposition::new(Role::Corrected, "the diagonal part is Σ_j[(α²/2)(Σ_jj − 1/α)² − ½]: two-sided, minimised at Σ_jj = 1/α", r"\sum_j\Big(-\alpha\Sigma_{jj}+\tfrac{\alpha^2}{2}\Sigma_{jj}^2\Big) = \sum_j\Big[\tfrac{\alpha^2}{2}\big(\Sigma_{jj}-\tfrac1\alpha\big)^2-\tfrac12\Big],\qquad \arg\min = \tfrac1\alpha")
            .with(ident)
            .with(stat)
            .with(num_min),
    );
    f.propositions.push(
        Proposition::new(Role::Corrected, "VICReg's variance term is an unsquared hinge on sqrt(Var + 10⁻⁴), zero iff Var ≥ 1 − 10⁻⁴: a one-sided floor on the std, not from the expansion", r"v(Z)=\tfrac1d\sum_j\max\big(0,1-\sqrt{\mathrm{Var}(z^j)+10^{-4}}\big) = 0 \iff \mathrm{Var}(z^j) \ge 1-10^{-4}\ \forall j")
            .with(hinge_matches_official(1, prec))
            .with(zero_set_check(prec, &one)),
    );

    // Mutants.
    f.mutants.push(Mutant {
        name: "squared_hinge_is_official".into(),
        description: "VICReg's code squares the hinge, as the notes write".into(),
        checks: vec![hinge_matches_official(2, prec)],
    });
    f.mutants.push(Mutant {
        name: "minimum_at_inverse_alpha_squared".into(),
        description: "the diagonal part is minimised at Σ_jj = 1/α²".into(),
        checks: vec![
            sym_check(
                "stationary point s* = 1/α²",
                Method::Symbolic {
                    scope: Scope::Exact,
                },
                sym_job!(symbolic::stationary_at("a^-2")),
            ),
            diag_minimum_check(prec, 1, 2),
        ],
    });
    f.mutants.push(Mutant {
        name: "drops_half".into(),
        description: "the identity with α² for α²/2".into(),
        checks: vec![
            sym_check(
                "identity, symbolic in α and s",
                Method::Symbolic {
                    scope: Scope::Exact,
                },
                sym_job!(symbolic::diagonal_identity(true)),
            ),
            diag_identity_numeric(prec, true),
        ],
    });
    f.propositions[2].push(diag_identity_numeric(prec, false));

    f.step(
        "Split the second-order form into diagonal and off-diagonal parts using $\\mathrm{tr}\\,\\Sigma=\\sum_j\\Sigma_{jj}$ and $\\mathrm{tr}\\,\\Sigma^2=\\sum_j\\Sigma_{jj}^2+\\sum_{i\\ne j}\\Sigma_{ij}^2$:",
        Some(r"-\alpha\,\mathrm{tr}\,\Sigma+\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 = \underbrace{\sum_j\Big(-\alpha\Sigma_{jj}+\tfrac{\alpha^2}{2}\Sigma_{jj}^2\Big)}_{\text{diagonal}} + \underbrace{\tfrac{\alpha^2}{2}\sum_{i\ne j}\Sigma_{ij}^2}_{\text{off-diagonal}}".into()),
    );
    f.step(
        "Completing the square (symbolica), each diagonal term is a parabola in the variance $\\Sigma_{jj}=\\sigma_j^2$ with its minimum at $1/\\alpha$; it penalises variances above $1/\\alpha$ as much as below:",
        Some(r"-\alpha s+\tfrac{\alpha^2}{2}s^2 = \tfrac{\alpha^2}{2}\big(s-\tfrac1\alpha\big)^2-\tfrac12".into()),
    );
    f.step(
        "The hinge $\\max(0,1-\\sigma_j)^2$ is flat for $\\sigma_j\\ge1$: at $\\alpha=1$, $\\sigma=1$ and $\\sigma=2$ have the same hinge (0) but diagonal parts $-\\tfrac12$ and $4$. So the hinge is not the diagonal part, nor any function of it; it is a separate design.",
        None,
    );
    f.step(
        "VICReg as published and in the official code (`main_vicreg.py`; lightly and solo-learn agree): $v(Z)=\\frac1d\\sum_j\\max(0,\\gamma-\\sqrt{\\mathrm{Var}(z^j)+\\epsilon})$ with $\\gamma=1$, $\\epsilon=10^{-4}$, unbiased variance, **not squared**; the official code also halves the sum over the two branches, the paper and solo-learn do not. Evaluated on batches with controlled variance, the notes' squared hinge is not proportional to it; the unsquared one is identical.",
        None,
    );
    f.step(
        "What the hinge enforces: $v=0$ exactly when $\\sqrt{\\mathrm{Var}+10^{-4}}\\ge1$ for every coordinate, a one-sided floor $\\sigma_j\\gtrsim1$ (boundary included, so not the strict $\\sigma_j>1$ of the notes), with no pull back from larger variances.",
        None,
    );
    f
}

/// Numeric minimum of one diagonal term at `α = 4`: `D` at the candidate `s* = α^(−p)` is below its
/// neighbours `s* ± 2^−20` iff `s*` is the minimiser (the parabola has curvature α² = 16, so the
/// neighbours exceed the minimum by 8·2^−40 ≫ the 2^−240 rounding).
fn diag_minimum_check(prec: u32, _num: i64, power: u32) -> Check {
    let alpha = Float::with_val(prec, 4);
    let s_star = Float::with_val(prec, 1) / Float::with_val(prec, alpha.clone().pow(power));
    let h = Float::with_val(prec, 1) >> 20u32;
    let at = |s: &Float| diag_part(&alpha, std::slice::from_ref(s));
    let d0 = at(&s_star);
    let dm = at(&Float::with_val(prec, &s_star - &h));
    let dp = at(&Float::with_val(prec, &s_star + &h));
    let is_min = d0 < dm && d0 < dp;
    let detail = format!(
        "α = 4, s* = α^-{power}: D(s*−h) − D(s*) = {:.3e}, D(s*+h) − D(s*) = {:.3e}",
        Float::with_val(prec, &dm - &d0),
        Float::with_val(prec, &dp - &d0)
    );
    Check::new(
        format!("numeric minimum at Σ_jj = α^-{power}"),
        Method::Numeric {
            prec,
            cases: 3,
            seed: None,
        },
        if is_min {
            Outcome::Holds(detail)
        } else {
            Outcome::Fails(detail)
        },
    )
}

/// The completed square at random `(α, s)`, numerically.
fn diag_identity_numeric(prec: u32, drop_half: bool) -> Check {
    let mut smp = Sampler::new(0xD1A6, prec);
    let tol = Tol::scalar(prec);
    for _ in 0..50 {
        let a = smp.uniform() * 8u32;
        let s = smp.uniform() * 4u32;
        let lhs = diag_part(&a, std::slice::from_ref(&s));
        let c = if drop_half {
            Float::with_val(prec, 1)
        } else {
            Float::with_val(prec, 1) / 2u32
        };
        let dev = Float::with_val(prec, &s - Float::with_val(prec, 1) / &a);
        let rhs = Float::with_val(prec, a.square_ref()) * c * dev.square()
            - Float::with_val(prec, 1) / 2u32;
        let res = Float::with_val(prec, &lhs - &rhs);
        if !tol.accepts(
            &res,
            &Float::with_val(prec, lhs.clone().abs() + rhs.clone().abs()),
        ) {
            return Check::new(
                "completed square at 50 random (α, s)",
                Method::Numeric {
                    prec,
                    cases: 50,
                    seed: Some(0xD1A6),
                },
                Outcome::Fails(format!("α = {a:.4}, s = {s:.4}: residual {res:.3e}")),
            );
        }
    }
    Check::new(
        "completed square at 50 random (α, s)",
        Method::Numeric {
            prec,
            cases: 50,
            seed: Some(0xD1A6),
        },
        Outcome::Holds(format!("residuals within {}", tol.describe())),
    )
}

/// `v(Z) = 0` at `Var = 1 − 10⁻⁴` (std seen as exactly 1) and `> 0` just below. `10⁻⁴` is not a
/// binary number, so `Var + 10⁻⁴` lands within a few ulps of 1 and the hinge leaves a residue of
/// that size: "zero" means below `2^−(prec−GUARD_BITS)`; 2⁻³⁰ below the boundary the hinge is
/// about 2⁻³¹, far above it.
fn zero_set_check(prec: u32, one: &Float) -> Check {
    let eps = vicreg::default_eps(prec);
    let at = Float::with_val(prec, one - &eps);
    let below = Float::with_val(prec, &at - (Float::with_val(prec, 1) >> 30u32));
    let v_at = vicreg::variance_term(
        &batch_with_variances(&[at.clone(), Float::with_val(prec, 3)]),
        one,
        &eps,
    )
    .expect("valid");
    let v_below = vicreg::variance_term(
        &batch_with_variances(&[below, Float::with_val(prec, 3)]),
        one,
        &eps,
    )
    .expect("valid");
    let zero = Float::with_val(prec, 1) >> Tol::scalar(prec).bits;
    let ok = v_at <= zero && v_below > zero;
    let detail = format!(
        "v < 2^-{} (zero to working precision) at Var = 1 − 10⁻⁴ (and 3); v = {:.3e} at Var = 1 − 10⁻⁴ − 2⁻³⁰",
        Tol::scalar(prec).bits,
        v_below
    );
    Check::new(
        "zero set of the official variance term",
        Method::Numeric {
            prec,
            cases: 2,
            seed: None,
        },
        if ok {
            Outcome::Holds(detail)
        } else {
            Outcome::Fails(format!(
                "v = {v_at:.3e} at the boundary, {v_below:.3e} below"
            ))
        },
    )
}

// ---------------------------------------------------------------------------------------------
// A3
// ---------------------------------------------------------------------------------------------

/// Candidates for the off-diagonal part `Q(Σ) − Q(diag Σ)` in terms of
/// `off = Σ_{i≠j} Σ_ij²` and `all = Σ_ij Σ_ij²`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffDiag {
    /// `(α²/2)·off` (the theorem).
    Theorem,
    /// Mutant: `α²·off` (½ dropped).
    DropsHalf,
    /// Mutant: `(α²/4)·off` (pairs i<j counted with a ½).
    HalfPairs,
    /// Mutant: `(α²/2)·all` (diagonal included).
    IncludesDiagonal,
    /// Mutant: `−(α²/2)·off`.
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

fn claim_a3() -> Claim {
    Claim {
        id: "vicreg_covariance_penalty_of_taylor_offdiagonal",
        label: "A3",
        family: "taylor",
        title: "The covariance penalty as the off-diagonal part of the expansion",
        quote: "… and a covariance penalty $\\sum_{i\\neq j}\\Sigma_{ij}^2$ pushing off-diagonals to zero.",
        place: PLACE,
        statement: r"\text{off-diag. part of } \tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 \;\rightsquigarrow\; \sum_{i\ne j}\Sigma_{ij}^2 \ \ (\ge 0,\ = 0 \iff \Sigma_{ij}=0\ \forall i\ne j)",
        nature: Nature::Mathematical,
    }
}

/// `Q(Σ) − Q(diag Σ) = candidate` on random PSD `Σ` at 256 bits.
fn offdiag_numeric(cfg: &Config, v: OffDiag, cases: usize) -> Check {
    let prec = cfg.prec;
    let seed = cfg.seed ^ 0x0ffd;
    let run = for_all::<Recipe, _>(seed, 8, cases, |r| {
        let (sigma, _) = r.realize(prec);
        let a = Float::with_val(prec, 3) / 2u32;
        let p = sigma.power_traces(2).map_err(|e| e.to_string())?;
        let d = r.d;
        let diag: Vec<Float> = (0..d).map(|i| sigma.at(i, i).clone()).collect();
        let p1d = diag.iter().fold(Float::new(prec), |acc, x| acc + x);
        let p2d = diag.iter().fold(Float::new(prec), |acc, x| {
            acc + Float::with_val(prec, x.square_ref())
        });
        let lhs = SecondOrder::Notes
            .eval(&a, &p[0], &p[1])
            .sub(&SecondOrder::Notes.eval(&a, &p1d, &p2d));
        let off = vicreg::off_diagonal_sq(&sigma);
        let all = sigma.frobenius_sq();
        let rhs = v.eval(&a, &off, &all);
        let res = Float::with_val(prec, &lhs - &rhs);
        let scale = Float::with_val(prec, p[1].clone().abs() + p[0].clone().abs()) * 4u32 + 1u32;
        if !Tol::linalg(prec, d, 0).accepts(&res, &scale) {
            return Err(format!("Q(Σ) − Q(diag Σ) − candidate = {:.3e}", res));
        }
        Ok(())
    });
    run.to_check(
        "off-diagonal part on random PSD Σ",
        prec,
        format!("{} random PSD Σ, d ≤ 8, α = 3/2", run.cases),
    )
}

/// VICReg's `c(Z)` on random batches: `(α²/2) Σ_{i≠j} Σ_ij² = (α² d/2) t^power c(Z)`, `t = (B−1)/B`,
/// `Σ` the centred `1/B` covariance of the notes.
fn vicreg_constant_numeric(cfg: &Config, power: u32) -> Check {
    let prec = cfg.prec;
    let seed = cfg.seed ^ 0xc0c0;
    let mut smp = Sampler::new(seed, prec);
    let a = Float::with_val(prec, 3) / 2u32;
    let cases = 20;
    for case in 0..cases {
        let d = 2 + (case % 6);
        let b = 3 + 5 * (case % 4);
        let z = smp.gaussian(b, d);
        let sigma = covariance(&z, Centring::Centred, Divisor::B).expect("valid batch");
        let lhs = Float::with_val(prec, a.square_ref()) * vicreg::off_diagonal_sq(&sigma) / 2u32;
        let c = vicreg::covariance_term(&z).expect("valid batch");
        let t = Float::with_val(prec, (b - 1) as u64) / b as u64;
        let rhs = Float::with_val(prec, a.square_ref()) * d as u64 / 2u32 * t.pow(power) * &c;
        let res = Float::with_val(prec, &lhs - &rhs);
        if !Tol::linalg(prec, d.max(b), 0)
            .accepts(&res, &Float::with_val(prec, lhs.clone().abs() + 1u32))
        {
            return Check::new(
                format!("against VICReg's c(Z) with ((B−1)/B)^{power}"),
                Method::Numeric {
                    prec,
                    cases,
                    seed: Some(seed),
                },
                Outcome::Fails(format!(
                    "B = {b}, d = {d}: (α²/2)Σ_(i≠j)Σ_ij² = {lhs:.6e} but (α²d/2)t^{power}c(Z) = {rhs:.6e}"
                )),
            );
        }
    }
    Check::new(
        format!("against VICReg's c(Z) with ((B−1)/B)^{power}"),
        Method::Numeric {
            prec,
            cases,
            seed: Some(seed),
        },
        Outcome::Holds(format!("{cases} Gaussian batches, B ∈ 3…18, d ∈ 2…7")),
    )
}

fn run_a3(cfg: &Config) -> Findings {
    let dm = cfg.sym_d_max;
    let mut f = Findings::default();
    let lemma_sym = sym_check(
        &format!("lemma tr Σ² = Σ_ij Σ_ij², symbolic Σ, d ≤ {dm}"),
        Method::Symbolic {
            scope: Scope::UpToD { d_max: dm },
        },
        sym_job!(symbolic::trace_square_is_frobenius(dm)),
    );
    let all_d = Check::new(
        "off-diagonal part for every d",
        Method::Symbolic { scope: Scope::AllD { via: "tr Σ² = Σ_ij Σ_ij² (symmetry)".into() } },
        match &lemma_sym.outcome {
            Outcome::Holds(_) => Outcome::Holds("tr Σ² = Σ_i (Σ²)_ii = Σ_ij Σ_ij Σ_ji = Σ_ij Σ_ij² for symmetric Σ; the diagonal terms are Σ_j Σ_jj²".into()),
            o => o.clone(),
        },
    );
    f.propositions.push(
        Proposition::new(Role::AsWritten, "the off-diagonal part of the second-order form is (α²/2) Σ_{i≠j} Σ_ij², zero iff the off-diagonals vanish", r"Q(\Sigma)-Q(\mathrm{diag}\,\Sigma) = \tfrac{\alpha^2}{2}\sum_{i\ne j}\Sigma_{ij}^2 \ \ge 0")
            .with(sym_check(&format!("fully symbolic Σ, d ≤ {dm}"), Method::Symbolic { scope: Scope::UpToD { d_max: dm } }, sym_job!(symbolic::offdiag_part(OffDiag::Theorem, dm))))
            .with(all_d)
            .with(lemma_sym)
            .with(offdiag_numeric(cfg, OffDiag::Theorem, 300)),
    );
    f.propositions.push(
        Proposition::new(Role::AsWritten, "VICReg's covariance term is this penalty up to the positive constant (α²d/2)((B−1)/B)²", r"\tfrac{\alpha^2}{2}\sum_{i\ne j}\Sigma_{ij}^2 = \tfrac{\alpha^2 d}{2}\Big(\tfrac{B-1}{B}\Big)^2 c(Z),\quad c(Z)=\tfrac1d\sum_{i\ne j}C_{ij}^2,\ C=\tfrac{B}{B-1}\Sigma")
            .with(sym_check(&format!("symbolic Σ and t = (B−1)/B, d ≤ {dm}"), Method::Symbolic { scope: Scope::AllD { via: "entrywise: C_ij = Σ_ij/t for every pair".into() } }, sym_job!(symbolic::vicreg_constant(2, dm))))
            .with(vicreg_constant_numeric(cfg, 2)),
    );
    for (name, v, what) in [
        (
            "drops_half",
            OffDiag::DropsHalf,
            "α² Σ_{i≠j} Σ_ij² (½ dropped)",
        ),
        (
            "half_pairs",
            OffDiag::HalfPairs,
            "(α²/4) Σ_{i≠j} Σ_ij² (pairs counted once with a ½)",
        ),
        (
            "includes_diagonal",
            OffDiag::IncludesDiagonal,
            "(α²/2) Σ_ij Σ_ij² (diagonal included)",
        ),
        ("wrong_sign", OffDiag::WrongSign, "−(α²/2) Σ_{i≠j} Σ_ij²"),
    ] {
        f.mutants.push(Mutant {
            name: name.into(),
            description: format!("the off-diagonal part is {what}"),
            checks: vec![
                sym_check(
                    &format!("fully symbolic Σ, d ≤ {dm}"),
                    Method::Symbolic {
                        scope: Scope::UpToD { d_max: dm },
                    },
                    sym_job!(symbolic::offdiag_part(v, dm)),
                ),
                offdiag_numeric(cfg, v, 300),
            ],
        });
    }
    f.mutants.push(Mutant {
        name: "bessel_factor_once".into(),
        description: "the constant has (B−1)/B to the first power".into(),
        checks: vec![
            sym_check(
                &format!("symbolic Σ and t, d ≤ {dm}"),
                Method::Symbolic {
                    scope: Scope::Exact,
                },
                sym_job!(symbolic::vicreg_constant(1, dm)),
            ),
            vicreg_constant_numeric(cfg, 1),
        ],
    });
    f.step(
        "$\\mathrm{tr}\\,\\Sigma^2=\\sum_i(\\Sigma^2)_{ii}=\\sum_{i,j}\\Sigma_{ij}\\Sigma_{ji}=\\sum_{i,j}\\Sigma_{ij}^2$ for symmetric $\\Sigma$, so removing the diagonal terms leaves exactly the penalty, with the constant $\\alpha^2/2$:",
        Some(r"\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 - \tfrac{\alpha^2}{2}\sum_j\Sigma_{jj}^2 = \tfrac{\alpha^2}{2}\sum_{i\ne j}\Sigma_{ij}^2".into()),
    );
    f.step(
        "A sum of squares: zero exactly when every off-diagonal entry is zero, so it does push off-diagonals to zero (and only those: it is blind to the diagonal).",
        None,
    );
    f.step(
        "VICReg's code divides by $B-1$: $C=\\frac{B}{B-1}\\Sigma$ with the notes' $\\frac1B$ covariance, and $c(Z)=\\frac1d\\sum_{i\\ne j}C_{ij}^2$. So the expansion's off-diagonal part is $c(Z)$ times $\\frac{\\alpha^2 d}{2}\\big(\\frac{B-1}{B}\\big)^2$, a positive constant that VICReg's weight $\\nu=1$ absorbs.",
        None,
    );
    f
}

// ---------------------------------------------------------------------------------------------
// A4
// ---------------------------------------------------------------------------------------------

/// Candidates for `Q(Σ) = factor·‖Σ − c I‖_F² + k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whitening {
    /// `(α²/2)‖Σ − α⁻¹I‖² − d/2` (the theorem).
    Theorem,
    /// Mutant: centre `I` instead of `α⁻¹ I`.
    CentreIdentity,
    /// Mutant: constant `−d/2` dropped.
    DropsConstant,
    /// Mutant: factor `α²` for `α²/2`.
    DropsHalf,
}

impl Whitening {
    fn parts(self) -> (bool, bool, (i64, i64)) {
        // (centre is 1/α, keep −d/2, factor on α²)
        match self {
            Whitening::Theorem => (true, true, (1, 2)),
            Whitening::CentreIdentity => (false, true, (1, 2)),
            Whitening::DropsConstant => (true, false, (1, 2)),
            Whitening::DropsHalf => (true, true, (1, 1)),
        }
    }

    #[cfg(feature = "symbolic")]
    fn eval_sym(
        self,
        s: &sslproof::sym::algebra::SymMat,
        d: usize,
    ) -> sslproof::sym::algebra::Atom {
        use sslproof::sym::algebra as alg;
        let (inv_alpha, keep_const, (fnum, fden)) = self.parts();
        let c = if inv_alpha {
            alg::expr("a^-1")
        } else {
            alg::expr("1")
        };
        let mut fro = alg::expr("0");
        for i in 0..d {
            for j in 0..d {
                let e = if i == j {
                    s.at(i, j).sub(&c)
                } else {
                    s.at(i, j).clone()
                };
                fro = fro.add(&e.mul(&e));
            }
        }
        let mut r = alg::expr("a^2").mul(&fro).times(fnum, fden);
        if keep_const {
            r = r.sub(&alg::expr(&format!("{d}/2")));
        }
        r
    }

    fn eval_hp(self, sigma: &Mat, a: &Float) -> Float {
        let prec = sigma.prec();
        let (inv_alpha, keep_const, (fnum, fden)) = self.parts();
        let c = if inv_alpha {
            Float::with_val(prec, 1) / a
        } else {
            Float::with_val(prec, 1)
        };
        let d = sigma.rows();
        let diff = sigma.sub(&Mat::scalar(d, &c)).expect("square");
        let mut r = Float::with_val(prec, a.square_ref()) * diff.frobenius_sq() * fnum / fden;
        if keep_const {
            r -= Float::with_val(prec, d as u64) / 2u32;
        }
        r
    }
}

fn claim_a4() -> Claim {
    Claim {
        id: "second_order_form_eq_frobenius_dist_to_scaled_identity",
        label: "A4",
        family: "taylor",
        title: "VICReg's terms and whitening",
        quote: "Interpretability: VICReg's variance/covariance terms correspond directly to whitening",
        place: "A unified framework for covariance-regularized SSL, item 6 (Practical consequences)",
        statement: r"\text{VICReg's variance/covariance terms} \;\leftrightarrow\; \text{whitening } (\Sigma \to cI)",
        nature: Nature::Interpretive,
    }
}

fn whitening_numeric(cfg: &Config, v: Whitening) -> Check {
    let prec = cfg.prec;
    let seed = cfg.seed ^ 0x5417e;
    let run = for_all::<Recipe, _>(seed, 8, 300, |r| {
        let (sigma, _) = r.realize(prec);
        let a = Float::with_val(prec, 5) / 2u32;
        let p = sigma.power_traces(2).map_err(|e| e.to_string())?;
        let q = SecondOrder::Notes.eval(&a, &p[0], &p[1]);
        let w = v.eval_hp(&sigma, &a);
        let res = Float::with_val(prec, &q - &w);
        let scale = Float::with_val(prec, q.clone().abs() + w.clone().abs()) + r.d as u64;
        if !Tol::linalg(prec, r.d, 0).accepts(&res, &scale) {
            return Err(format!("Q − candidate = {:.3e}", res));
        }
        Ok(())
    });
    run.to_check(
        "identity on random PSD Σ",
        prec,
        format!("{} random PSD Σ, d ≤ 8, α = 5/2", run.cases),
    )
}

/// VICReg's variance + covariance terms on a batch whose covariance is `c·I` exactly (`B = 2d`
/// rows `±√(c(B−1)/2)·e_j`, which are centred with `C = cI` under the `1/(B−1)` convention).
fn vicreg_terms_at_scaled_identity(prec: u32, c: u32, d: usize) -> (Float, Float) {
    let b = 2 * d;
    let t = Float::with_val(prec, (c as u64) * (b as u64 - 1)) / 2u32;
    let t = t.sqrt();
    let z = Mat::from_fn(b, d, prec, |i, j| {
        if i / 2 == j {
            if i % 2 == 0 { t.clone() } else { -t.clone() }
        } else {
            Float::new(prec)
        }
    });
    let one = Float::with_val(prec, 1);
    (
        vicreg::variance_term(&z, &one, &vicreg::default_eps(prec)).expect("valid"),
        vicreg::covariance_term(&z).expect("valid"),
    )
}

fn run_a4(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let dm = cfg.sym_d_max;
    let mut f = Findings::default();
    f.propositions.push(
        Proposition::new(Role::Precise, "the second-order form is a Frobenius distance to α⁻¹I: Q(Σ) = (α²/2)‖Σ − α⁻¹I‖²_F − d/2", r"-\alpha\,\mathrm{tr}\,\Sigma+\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 = \tfrac{\alpha^2}{2}\big\lVert\Sigma-\alpha^{-1}I\big\rVert_F^2-\tfrac d2")
            .with(sym_check(&format!("fully symbolic Σ, d ≤ {dm}"), Method::Symbolic { scope: Scope::UpToD { d_max: dm } }, sym_job!(symbolic::frobenius_identity(Whitening::Theorem, dm))))
            .with(sym_check(
                "for every d, in the invariants p₁, p₂, d",
                Method::Symbolic { scope: Scope::AllD { via: "‖Σ − cI‖²_F = tr Σ² − 2c tr Σ + c²d (tr is linear, tr I = d)".into() } },
                sym_job!(symbolic::frobenius_identity_invariants(Whitening::Theorem)),
            ))
            .with(whitening_numeric(cfg, Whitening::Theorem)),
    );
    // Unique minimiser α⁻¹I of Q: Q(α⁻¹I + H) − Q(α⁻¹I) = (α²/2)‖H‖² > 0.
    let a = Float::with_val(prec, 5) / 2u32;
    let d = 4;
    let centre = Mat::scalar(d, &(Float::with_val(prec, 1) / &a));
    let q_at = |m: &Mat| {
        let p = m.power_traces(2).expect("square");
        SecondOrder::Notes.eval(&a, &p[0], &p[1])
    };
    let q0 = q_at(&centre);
    let mut smp = Sampler::new(0x3417, prec);
    let mut all_above = true;
    let mut min_gap = Float::with_val(prec, f64::INFINITY);
    for _ in 0..50 {
        let g = smp.gaussian(d, d);
        let h = g
            .add(&g.transpose())
            .expect("square")
            .scale(&(Float::with_val(prec, 1) >> 10u32));
        let gap = Float::with_val(prec, q_at(&centre.add(&h).expect("square")) - &q0);
        let expect = Float::with_val(prec, a.square_ref()) / 2u32 * h.frobenius_sq();
        if gap <= 0
            || !Tol::linalg(prec, d, 0).accepts(&Float::with_val(prec, &gap - &expect), &expect)
        {
            all_above = false;
        }
        if gap < min_gap {
            min_gap = gap;
        }
    }
    f.propositions.push(
        Proposition::new(Role::Precise, "its unique minimiser over symmetric Σ is Σ = α⁻¹I (whitening to scale 1/α)", r"Q(\alpha^{-1}I+H)-Q(\alpha^{-1}I)=\tfrac{\alpha^2}{2}\lVert H\rVert_F^2>0\quad(H\ne0)")
            .with(Check::new("50 random symmetric perturbations H at α = 5/2, d = 4", Method::Numeric { prec, cases: 50, seed: Some(0x3417) }, if all_above { Outcome::Holds(format!("gap = (α²/2)‖H‖² within tolerance; smallest gap {min_gap:.3e}")) } else { Outcome::Fails("a perturbation did not raise Q by (α²/2)‖H‖²".into()) })),
    );
    // VICReg minimisers: C = I and C = 4I both give zero variance and covariance terms.
    let (v1, c1) = vicreg_terms_at_scaled_identity(prec, 1, 3);
    let (v4, c4) = vicreg_terms_at_scaled_identity(prec, 4, 3);
    let vic_ok = v1.is_zero() && c1.is_zero() && v4.is_zero() && c4.is_zero();
    f.propositions.push(
        Proposition::new(Role::Precise, "VICReg's variance + covariance terms vanish on every diagonal C with Var ≥ 1 − 10⁻⁴: whitened C = I is a minimiser, not the only one", r"v(Z)+c(Z)=0 \iff C \text{ diagonal},\ C_{jj}\ge 1-10^{-4}")
            .with(Check::new("batches with C = I and C = 4I exactly (d = 3, B = 6)", Method::Numeric { prec, cases: 2, seed: None }, if vic_ok { Outcome::Holds(format!("v + c = {} at C = I and {} at C = 4I", Float::with_val(prec, &v1 + &c1), Float::with_val(prec, &v4 + &c4))) } else { Outcome::Fails(format!("v, c = {v1:.3e}, {c1:.3e} at I; {v4:.3e}, {c4:.3e} at 4I")) })),
    );
    // −log det(I+αΣ) has no minimiser: it decreases without bound along Σ = tI.
    let vals: Vec<Float> = [1u32, 100, 10_000, 1_000_000]
        .iter()
        .map(|&t| {
            let m = Mat::scalar(d, &Float::with_val(prec, t));
            -m.identity_plus(&a)
                .and_then(|x| x.logdet_spd())
                .expect("SPD")
        })
        .collect();
    let decreasing = vals.windows(2).all(|w| w[1] < w[0]);
    f.propositions.push(
        Proposition::new(
            Role::Precise,
            "−log det(I+αΣ) itself has no minimiser: it decreases without bound along Σ = tI",
            r"-\log\det(I+\alpha tI) = -d\log(1+\alpha t)\to-\infty",
        )
        .with(Check::new(
            "Σ = tI, t = 1, 10², 10⁴, 10⁶ (α = 5/2, d = 4)",
            Method::Numeric {
                prec,
                cases: 4,
                seed: None,
            },
            if decreasing {
                Outcome::Holds(format!(
                    "values {}",
                    vals.iter()
                        .map(|v| format!("{v:.4}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            } else {
                Outcome::Fails("not decreasing".into())
            },
        )),
    );
    for (name, v, what) in [
        (
            "centre_identity",
            Whitening::CentreIdentity,
            "centre I instead of α⁻¹I",
        ),
        (
            "drops_constant",
            Whitening::DropsConstant,
            "the constant −d/2 dropped",
        ),
        ("drops_half", Whitening::DropsHalf, "factor α² for α²/2"),
    ] {
        f.mutants.push(Mutant {
            name: name.into(),
            description: format!("the Frobenius identity with {what}"),
            checks: vec![
                sym_check(
                    &format!("fully symbolic Σ, d ≤ {dm}"),
                    Method::Symbolic {
                        scope: Scope::UpToD { d_max: dm },
                    },
                    sym_job!(symbolic::frobenius_identity(v, dm)),
                ),
                sym_check(
                    "in the invariants p₁, p₂, d",
                    Method::Symbolic {
                        scope: Scope::Exact,
                    },
                    sym_job!(symbolic::frobenius_identity_invariants(v)),
                ),
                whitening_numeric(cfg, v),
            ],
        });
    }
    let unique = !(v4.is_zero() && c4.is_zero());
    f.mutants.push(Mutant {
        name: "vicreg_minimiser_unique".into(),
        description:
            "VICReg's variance + covariance terms are minimised only at the whitened C = I".into(),
        checks: vec![Check::new(
            "batch with C = 4I",
            Method::Numeric {
                prec,
                cases: 1,
                seed: None,
            },
            if unique {
                Outcome::Holds("C = 4I has positive loss".into())
            } else {
                Outcome::Fails(format!(
                    "C = 4I also gives v + c = {}",
                    Float::with_val(prec, &v4 + &c4)
                ))
            },
        )],
    });
    f.step(
        "\"Correspond directly to whitening\" is not a statement with a truth value; the precise statements behind it are below, and they split: the *quadratic surrogate* is exactly a whitening objective, VICReg's *actual* terms are not.",
        None,
    );
    f.step(
        "With $\\lVert\\Sigma-cI\\rVert_F^2=\\mathrm{tr}\\,\\Sigma^2-2c\\,\\mathrm{tr}\\,\\Sigma+c^2d$ and $c=1/\\alpha$, the second-order form is a squared distance to $\\alpha^{-1}I$, uniquely minimised there:",
        Some(r"-\alpha\,\mathrm{tr}\,\Sigma+\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 = \tfrac{\alpha^2}{2}\big\lVert\Sigma-\alpha^{-1}I\big\rVert_F^2-\tfrac d2".into()),
    );
    f.step(
        "VICReg's terms $v(Z)+c(Z)$ are zero for every diagonal covariance with variances $\\ge 1-10^{-4}$: a batch with $C=4I$ costs exactly as little as the whitened $C=I$. They enforce decorrelation plus a variance floor, a set of minimisers rather than whitening.",
        None,
    );
    f.step(
        "The exact $-\\log\\det(I+\\alpha\\Sigma)$ has no minimiser at all (it tends to $-\\infty$ along $\\Sigma=tI$); only a scale constraint (unit-norm features: $\\mathrm{tr}\\,\\Sigma\\le1$) gives it one, and then it is isotropic (family B).",
        None,
    );
    f
}
