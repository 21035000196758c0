//! # A1: VICReg as the second-order Taylor expansion of the negative coding rate
//!
//! ## Main statements
//! * `neg_logdet_taylor_second_order`: `−log det(I+αΣ) = −α tr Σ + (α²/2) tr Σ² + E`, with
//!   `−(α³/3) tr Σ³ ≤ E ≤ 0` for every PSD `Σ` and `α ≥ 0`; the whole series
//!   `Σ_k (−1)^k α^k tr Σ^k / k` converges for `ρ(αΣ) < 1` and diverges for `ρ(αΣ) > 1`; the
//!   display is the expansion of `−2R_ε`, not of `−R_ε`.
//!
//! ## Notation
//! `p_k = tr Σ^k` (power sums of the eigenvalues), `Q(Σ) = −α p_1 + (α²/2) p_2` (the notes'
//! second-order form), `R_ε(Σ) = ½ log det(I + αΣ)`, `α = d/ε²`.
//!
//! ## Implementation notes
//! The second-order forms and their mutants are one enum ([`SecondOrder`]) whose `eval` is
//! generic over [`Scalar`]: the same code is expanded by symbolica and evaluated in MPFR. The
//! symbolic checks take fully symbolic `Σ` up to `d = sym_d_max`; every `d` is reached by an
//! argument: the spectral theorem (cited) reduces the matrix series to per-eigenvalue scalar
//! series (checked symbolically with no dimension in them), and the reduction itself is checked
//! numerically against two independent algorithms.
//!
//! ## References
//! Bardes, Ponce, LeCun (2022), VICReg; Yu et al. (2020), MCR²; Wu et al. (2025), SimDINO;
//! `../shared/reference-implementations.md` §1.1–1.9; Horn & Johnson, *Matrix Analysis*.
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 4 (VICReg vs. coding rate).

use rug::{Float, Rational};
use sslproof::prelude::*;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "neg_logdet_taylor_second_order",
    label: "A1",
    family: "taylor",
    title: "VICReg as the second-order Taylor expansion of the negative coding rate",
    quote: "VICReg approximates $-R_\\varepsilon$ via its second-order Taylor expansion around $\\Sigma=0$: $-\\log\\det(I+\\alpha\\Sigma) \\approx -\\alpha\\,\\mathrm{tr}\\,\\Sigma + \\tfrac{\\alpha^2}{2}\\,\\mathrm{tr}\\,\\Sigma^2$",
    place: "A unified framework for covariance-regularized SSL, item 4 (VICReg vs. coding rate)",
    statement: r"-R_\varepsilon(\Sigma) \;\overset{?}{\approx}\; -\log\det(I+\alpha\Sigma) \approx -\alpha\,\mathrm{tr}\,\Sigma + \tfrac{\alpha^2}{2}\,\mathrm{tr}\,\Sigma^2 \quad(\text{second order at }\Sigma=0)",
    nature: Nature::Mathematical,
    expected: Class::WrongAsWrittenCorrected,
};

// ---------------------------------------------------------------------------------------------
// The forms under test
// ---------------------------------------------------------------------------------------------

/// Second-order forms in `α` and the power sums `p_1 = tr Σ`, `p_2 = tr Σ²`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondOrder {
    /// The notes: `−α p_1 + (α²/2) p_2`.
    Notes,
    /// The expansion of `−R_ε = −½ log det(I+αΣ)`: `−(α/2) p_1 + (α²/4) p_2`.
    HalfForRate,
    /// `−α p_1 + α² p_2` (the ½ dropped).
    DropsHalf,
    /// `α p_1 − (α²/2) p_2` (signs flipped).
    WrongSign,
    /// `−α p_1 + (α²/2)(tr Σ)²` (`(tr Σ)²` for `tr Σ²`).
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

    /// Its coefficients `(a, b)` per eigenvalue, `a·x + b·x²` with `x = αλ` (single-eigenvalue
    /// forms only).
    fn per_eigenvalue(self) -> (Rational, Rational) {
        let r = |n: i64, d: i64| Rational::from((n, d));
        match self {
            SecondOrder::Notes | SecondOrder::SquaredTrace => (r(-1, 1), r(1, 2)),
            SecondOrder::HalfForRate => (r(-1, 2), r(1, 4)),
            SecondOrder::DropsHalf => (r(-1, 1), r(1, 1)),
            SecondOrder::WrongSign => (r(1, 1), r(-1, 2)),
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

/// A claimed expansion: a second-order polynomial and the order of its remainder in `α`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expansion {
    pub poly: SecondOrder,
    pub remainder_order: u32,
}

/// A claimed region of convergence of the series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Radius {
    /// Converges iff `ρ(αΣ) < factor`.
    Spectral { factor: u32 },
    /// Converges iff `tr(αΣ) < 1`.
    Trace,
}

/// A claimed two-sided bound on `E = −log det(I+αΣ) − poly`: `−c·α³ tr Σ³ ≤ E` (if `lower` is
/// `Some(c)`) and `E ≤ 0` (if `upper`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    pub poly: SecondOrder,
    pub lower: Option<(i64, i64)>,
    pub upper: bool,
}

/// The theorem: `−(α³/3) tr Σ³ ≤ −log det(I+αΣ) − Q(Σ) ≤ 0`.
const BOUND: Bound = Bound {
    poly: SecondOrder::Notes,
    lower: Some((1, 3)),
    upper: true,
};

/// The `k`-th term of the series of `−log det(I+αΣ)`: `(−1)^k α^k p_k / k`.
pub fn series_term<S: Scalar>(k: u32, a: &S, pk: &S) -> S {
    let sign = if k.is_multiple_of(2) { 1 } else { -1 };
    a.powi(k).mul(pk).times(sign, i64::from(k))
}

// ---------------------------------------------------------------------------------------------
// Numeric checks
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

/// A well-spread 4×4 PSD matrix with `λ_max = 1` from the check's seed.
fn fixed_sigma(run: &mut Run) -> Mat {
    let prec = run.prec();
    Recipe {
        d: 4,
        seed: run.seed(),
        spectrum: Spectrum::Spread,
        top: 0,
    }
    .realize(prec)
    .0
}

/// How far the observed order may sit from an integer `p`. At `α = 2^−12` and `λ_max = 1` the next
/// term shifts `log2(E(2α)/E(α))` by about `(3/4)(p_4/p_3)·α/ln 2 < 10⁻³`; 0.01 leaves a factor 10.
const ORDER_SLACK: f64 = 0.01;

/// The observed order of `target − poly` as `α = 2^−4 … 2^−12`, `target` being `−log det(I+αΣ)`
/// or `−R_ε` (`half`).
fn observed_order(run: &mut Run, poly: SecondOrder, half: bool) -> f64 {
    let prec = run.prec();
    let sigma = fixed_sigma(run);
    let errs: Vec<Float> = (4..=12)
        .map(|k| {
            let a = Float::with_val(prec, 1) >> k;
            let s = sides(&sigma, &a);
            let target = if half {
                Float::with_val(prec, &s.neg_logdet / 2u32)
            } else {
                s.neg_logdet.clone()
            };
            Float::with_val(prec, target - poly.eval(&a, &s.p[0], &s.p[1]))
        })
        .collect();
    run.count(errs.len());
    *observed_orders(&errs).last().expect("several step sizes")
}

/// The remainder of the claimed expansion has the claimed order.
fn remainder_order(run: &mut Run, e: &Expansion) -> Result<String, String> {
    let last = observed_order(run, e.poly, false);
    let detail = format!(
        "observed order of −log det(I+αΣ) − form: {last:.3} (α = 2^-11 → 2^-12, 4×4 Σ; claimed {})",
        e.remainder_order
    );
    if (last - f64::from(e.remainder_order)).abs() <= ORDER_SLACK {
        Ok(detail)
    } else {
        Err(detail)
    }
}

/// `−R_ε − form` has remainder order 3 (a second-order expansion of `−R_ε`).
fn rate_remainder_order(run: &mut Run, poly: &SecondOrder) -> Result<String, String> {
    let last = observed_order(run, *poly, true);
    let detail =
        format!("observed order of −R_ε − form: {last:.3} (3 for a second-order expansion)");
    if (last - 3.0).abs() <= ORDER_SLACK {
        Ok(detail)
    } else {
        Err(detail)
    }
}

/// The spectral reduction, checked numerically: for random PSD `Σ`, `log det(I+Σ)` by Cholesky
/// equals `Σ_i log(1+λ_i)` with `λ` from Jacobi and with `λ` the constructed spectrum, and
/// `tr Σ^k` by products equals `Σ_i λ_i^k`, `k ≤ 6`.
fn spectral_reduction(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    let mut worst_bits = u32::MAX;
    let cases = run.scaled(200);
    let property = run.for_all::<Recipe, _>(8, cases, |r| {
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
                return Err(format!("log det by Cholesky − by {name}: {res:.3e}"));
            }
        }
        let p = sigma.power_traces(6).map_err(|e| e.to_string())?;
        for (k, pk) in p.iter().enumerate() {
            let mut s = Float::new(prec);
            let mut sabs = Float::new(prec);
            for l in &spectrum {
                let t = Float::with_val(prec, rug::ops::Pow::pow(l, (k + 1) as u32));
                sabs += t.clone().abs();
                s += t;
            }
            let res = Float::with_val(prec, pk - &s);
            if !tol.accepts(&res, &Float::with_val(prec, &sabs + 1u32)) {
                return Err(format!("tr Σ^{} − Σλ^{}: {res:.3e}", k + 1, k + 1));
            }
        }
        Ok(())
    });
    property.result(|| {
        format!(
            "{} random PSD Σ (d ≤ 8): worst log-det residual below 2^-{worst_bits}",
            property.cases
        )
    })
}

/// Whether `e` satisfies the bound within `slack`.
fn within(b: &Bound, e: &Float, a3p3: &Float, slack: &Float) -> Result<(), String> {
    let prec = e.prec();
    if let Some((n, d)) = b.lower {
        let lo = Float::with_val(prec, a3p3 * n) / d;
        let lo = -lo;
        if Float::with_val(prec, e + slack) < lo {
            return Err(format!("E = {e:.6e} below the lower bound {lo:.6e}"));
        }
    }
    if b.upper && Float::with_val(prec, e - slack) > 0 {
        return Err(format!("E = {e:.6e} above the upper bound 0"));
    }
    Ok(())
}

/// The bound on random PSD matrices (α = 1; the recipes put `αλ` in `[0, 16]`, inside and far
/// outside the radius of convergence).
fn bound_property(run: &mut Run, b: &Bound) -> Result<String, String> {
    let prec = run.prec();
    let mut tightest = Float::with_val(prec, f64::INFINITY);
    let cases = run.cases();
    let property = run.for_all::<Recipe, _>(8, cases, |r| {
        let (sigma, _) = r.realize(prec);
        let a = Float::with_val(prec, 1);
        let s = sides(&sigma, &a);
        let q = b.poly.eval(&a, &s.p[0], &s.p[1]);
        let e = Float::with_val(prec, &s.neg_logdet - &q);
        // The magnitudes combined in E and the bound.
        let scale = Float::with_val(prec, s.neg_logdet.clone().abs() + s.p[0].clone().abs())
            + s.p[1].clone().abs()
            + s.p[2].clone().abs();
        let slack = Float::with_val(prec, &scale >> Tol::linalg(prec, r.d, 5).bits);
        within(b, &e, &s.p[2], &slack)?;
        // How close to the theorem's lower bound: (E + p3/3) / (p3/3).
        if s.p[2] > 0 {
            let third = Float::with_val(prec, &s.p[2] / 3u32);
            let gap = Float::with_val(prec, &e + &third) / &third;
            if gap < tightest {
                tightest = gap;
            }
        }
        Ok(())
    });
    property.result(|| {
        format!(
            "{} random PSD Σ, d ≤ 8, αλ ∈ [0, 16]; closest approach to −(α³/3)p₃: (E + α³p₃/3)/(α³p₃/3) = {tightest:.3e}",
            property.cases
        )
    })
}

/// Partial sums of the series at `ρ(αΣ) = r` for a spread spectrum `r·(1, 0.9, 0.8, 0.7)`.
fn partial_sums(run: &mut Run, r: &Float, n_terms: u32) -> (Float, Vec<Float>, Float) {
    let prec = run.prec();
    let spectrum: Vec<Float> = (0..4)
        .map(|i| Float::with_val(prec, r * Float::with_val(prec, 10 - i)) / 10u32)
        .collect();
    let sigma = run.sampler().with_spectrum(&spectrum);
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
    let trace = spectrum.iter().fold(Float::new(prec), |acc, l| acc + l);
    (exact - sum, terms, trace)
}

/// Does the claimed region predict convergence exactly where the partial sums converge? Both
/// sides of the radius: `ρ(αΣ) = 0.9` (with `tr(αΣ) > 1`) and `ρ(αΣ) = 1.1`, 400 terms.
fn radius_check(run: &mut Run, claimed: &Radius) -> Result<String, String> {
    const N: u32 = 400;
    let prec = run.prec();
    let mut lines = Vec::new();
    for (num, den) in [(9, 10), (11, 10)] {
        let r = Float::with_val(prec, num) / den;
        let (err, terms, trace) = partial_sums(run, &r, N);
        run.count(1);
        let last = terms.last().expect("terms").clone().abs();
        let mid = terms[(N / 2) as usize].clone().abs();
        // Inside, the tail after 400 terms is below d·0.9^401/(401·0.1) < 10⁻¹⁸.
        let converges = last < mid && err.clone().abs() < 1e-10;
        let predicted = match claimed {
            Radius::Spectral { factor } => Float::with_val(prec, &r / *factor) < 1,
            Radius::Trace => trace < 1,
        };
        let line = format!(
            "ρ(αΣ) = {num}/{den}, tr(αΣ) = {trace:.3}: |S − S_{N}| = {:.3e}, |t_{N}| = {last:.3e} ({})",
            err.clone().abs(),
            if converges { "converges" } else { "diverges" }
        );
        if predicted != converges {
            return Err(format!(
                "at ρ(αΣ) = {num}/{den}, tr(αΣ) = {trace:.3} the claimed region predicts {} but the series {}",
                if predicted {
                    "convergence"
                } else {
                    "divergence"
                },
                if converges { "converges" } else { "diverges" }
            ));
        }
        lines.push(line);
    }
    Ok(lines.join("; "))
}

/// Second-order accuracy where implementations run. Each row: the implementation's default
/// `eps` (which is ε², reference-implementations.md §4.1 item 5), `d`, `α = d/eps`, and a spectrum
/// with `tr Σ = 1` (L2-normalised features, uncentred second moment, as in MCR²/SimDINO/EMP-SSL).
fn practical_table(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    struct Row {
        name: &'static str,
        eps: (i64, i64),
        d: usize,
        /// The per-GPU batch where it is at most d (the covariance then has rank ≤ B).
        batch: Option<usize>,
    }
    let rows = [
        Row {
            name: "MCR² self-supervised (eps 2, fd 32)",
            eps: (2, 1),
            d: 32,
            batch: None,
        },
        Row {
            name: "EMP-SSL official / lightly (eps 0.2), d = 1024 assumed",
            eps: (1, 5),
            d: 1024,
            batch: None,
        },
        Row {
            name: "SimDINO argparse (eps 0.5, z_dim 256)",
            eps: (1, 2),
            d: 256,
            batch: Some(64),
        },
        Row {
            name: "SimDINO README / SimDINOv2 (eps 0.05, z_dim 256)",
            eps: (1, 20),
            d: 256,
            batch: Some(64),
        },
    ];
    let fmt = |x: &Float| format!("{x:.4e}");
    let mut out = Vec::new();
    let mut worst_iso = String::new();
    for r in &rows {
        let eps = Float::with_val(prec, r.eps.0) / r.eps.1;
        let alpha = Float::with_val(prec, r.d as u64) / &eps;
        let d = r.d;
        let mut spectra: Vec<(String, Vec<Float>)> = vec![
            (
                "isotropic Σ = I/d (needs B ≥ d)".into(),
                vec![Float::with_val(prec, 1) / d as u64; d],
            ),
            ("power law λ_i ∝ 1/i".into(), {
                let h = (1..=d).fold(Float::new(prec), |acc, i| {
                    acc + Float::with_val(prec, 1) / i as u64
                });
                (1..=d)
                    .map(|i| Float::with_val(prec, 1) / (i as u64) / &h)
                    .collect()
            }),
            ("collapsed, rank 1".into(), {
                let mut v = vec![Float::new(prec); d];
                v[0] = Float::with_val(prec, 1);
                v
            }),
            (
                "the form's own minimiser Σ = I/α (tr Σ = eps, not 1)".into(),
                vec![Float::with_val(prec, 1) / &alpha; d],
            ),
        ];
        if let Some(b) = r.batch {
            // B ≤ d unit vectors: rank ≤ B, so the most isotropic reachable Σ has B eigenvalues
            // 1/B (tr Σ = 1) and αλ is d/B times the isotropic row's.
            let mut v = vec![Float::new(prec); d];
            for x in v.iter_mut().take(b) {
                *x = Float::with_val(prec, 1) / b as u64;
            }
            spectra.insert(
                1,
                (
                    format!("isotropic within the batch, B = {b} ≤ d (rank B)"),
                    v,
                ),
            );
        }
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
            if sname.starts_with("isotropic Σ") && r.eps == (1, 20) {
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
                format!("{top:.4}"),
                fmt(&exact),
                fmt(&q),
                format!("{rel:.3e}"),
                if top < 1 { "yes".into() } else { "no".into() },
            ]);
            run.count(1);
        }
    }
    run.table(Table {
        caption: "Second-order accuracy at implementation defaults. Assumptions: unit-norm features and the uncentred second moment (MCR², SimDINO, EMP-SSL), so tr Σ = 1 in every row except the form's own minimiser Σ = I/α, whose trace is d/α = eps; the row Σ = I/d needs a batch B ≥ d; with B ≤ d (SimDINO: 64 per GPU, d = 256) Σ has rank ≤ B, the most isotropic reachable Σ has B eigenvalues 1/B, and αλ is d/B times larger. EMP-SSL's d = 1024 is assumed.".into(),
        header: ["implementation", "α = d/eps", "spectrum", "αλ_max", "−log det(I+αΣ)", "second-order form", "relative error", "inside radius"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows: out,
    });
    Ok(worst_iso)
}

/// The figure, per eigenvalue (`α = x`, `λ = 1`, so `p_1 = p_2 = p_3 = 1`), and its check: the
/// exact curve lies between the second-order form and the lower bound at every plotted point
/// (computed at the working precision, before rounding to the picture).
fn figure(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
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
        .map(|(x, q)| {
            Float::with_val(
                prec,
                q - Float::with_val(prec, rug::ops::Pow::pow(x, 3u32)) / 3u32,
            )
        })
        .collect();
    run.count(xs.len());
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
    run.figure(Figure {
        file: "neg_logdet_taylor_second_order.svg".into(),
        caption: "Per eigenvalue, x = αλ: the exact −log(1+x), the second-order form −x + x²/2 and the lower bound −x + x²/2 − x³/3; the exact curve lies between the two for every x ≥ 0. The series converges only for x < 1.".into(),
        svg: plot::render(&chart).map_err(|e| format!("rendering the figure: {e}"))?,
    });
    let detail = format!("{} plotted points, x ∈ [0, 2.5]", xs.len());
    if between {
        Ok(detail)
    } else {
        Err(format!(
            "the plotted exact curve leaves the band ({detail})"
        ))
    }
}

/// The workloads of `benches/` (not used by the claim): the same primitives the checks use.
pub mod workload {
    use super::{BOUND, sides, within};
    use rug::Float;
    use sslproof::prelude::*;

    /// `I + Σ` with `Σ` an `n × n` PSD matrix of spread spectrum and `λ_max = 8` (seed 7), at
    /// 256 bits: the log-det benchmark's input.
    pub fn logdet_matrix(n: usize) -> Mat {
        let sigma = Recipe {
            d: n,
            seed: 7,
            spectrum: Spectrum::Spread,
            top: 3,
        }
        .realize(256)
        .0;
        sigma
            .identity_plus(&Float::with_val(256, 1))
            .expect("square")
    }

    /// `cases` random `d × d` PSD matrices (recipe seeds `seed + i`, spread spectra with
    /// `λ_max = 2^(i mod 13 − 8)`), each sampled, factored and checked against the truncation
    /// bound at `prec` bits (α = 1). Returns how many satisfy it.
    pub fn truncation_bound_fixed_d(prec: u32, seed: u64, d: usize, cases: usize) -> usize {
        let a = Float::with_val(prec, 1);
        (0..cases)
            .filter(|&i| {
                let r = Recipe {
                    d,
                    seed: seed.wrapping_add(i as u64),
                    spectrum: Spectrum::Spread,
                    top: (i % 13) as i8 - 8,
                };
                let (sigma, _) = r.realize(prec);
                let s = sides(&sigma, &a);
                let q = BOUND.poly.eval(&a, &s.p[0], &s.p[1]);
                let e = Float::with_val(prec, &s.neg_logdet - &q);
                let slack = Float::with_val(prec, s.neg_logdet.clone().abs() + 1u32)
                    >> Tol::linalg(prec, d, 5).bits;
                within(&BOUND, &e, &s.p[2], &slack).is_ok()
            })
            .count()
    }
}

// ---------------------------------------------------------------------------------------------
// Symbolic checks (on the symbolica worker). Each returns Ok(detail) or Err(counterexample).
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "symbolic")]
pub mod symbolic {
    use rug::Rational;
    use sslproof::sym::algebra::{self as alg, Atom, AtomCore, SymMat};

    use super::{Bound, SecondOrder, series_term};
    use sslproof::scalar::Scalar;

    /// The series of `−c·log det(I + aΣ)` through `a^order`, for a fully symbolic symmetric `Σ`.
    /// `det(I + aΣ)` is computed modulo `a^(order+1)` by elimination over truncated series (the
    /// log's coefficients through `a^order` depend on nothing else); symbolica then expands the
    /// log.
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

    /// The series of `−c·log det(I + aΣ)` (c = 1, or ½ for `−R_ε`) through `a²` equals `form`,
    /// for fully symbolic symmetric `Σ`, `d = 1..=d_max`.
    pub fn second_order(form: SecondOrder, half: bool, d_max: usize) -> Result<String, String> {
        for d in 1..=d_max {
            let (s, ser) = neg_c_logdet_series(d, half, 2);
            let p = s.power_traces(2);
            let f = form.eval(&alg::expr("a"), &p[0], &p[1]);
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
                sum = sum.add(&series_term(k, &a, &p[k as usize - 1]));
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
            sum = sum.add(&series_term(k, &a, &x.powi(k)));
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

    /// The coefficients `c_0, c_1, …` as a polynomial in `x`.
    fn poly(cs: &[Rational]) -> Atom {
        cs.iter().enumerate().fold(alg::expr("0"), |acc, (k, c)| {
            &acc + &alg::expr(&format!("({c})*x^{k}"))
        })
    }

    /// Whether `Σ c_k x^k` keeps the sign `sign` (+1: ≥ 0, −1: ≤ 0) on `x ≥ 0`: certified when
    /// every coefficient has that sign; refuted near 0 when the lowest nonzero coefficient has the
    /// other sign.
    fn sign_certificate(cs: &[Rational], sign: i32, what: &str) -> Result<(), String> {
        if cs.iter().all(|c| c.cmp0() as i32 * sign >= 0) {
            return Ok(());
        }
        let lowest = cs.iter().find(|c| c.cmp0() != std::cmp::Ordering::Equal);
        match lowest {
            Some(c) if (c.cmp0() as i32) * sign < 0 => Err(format!(
                "{what}: (1+x)·derivative = {} has the wrong sign for small x > 0, so the bound fails there",
                alg::plain(&poly(cs))
            )),
            _ => Err(format!(
                "{what}: no certificate (coefficients of mixed sign: {})",
                alg::plain(&poly(cs))
            )),
        }
    }

    /// The per-eigenvalue certificate of a bound: `E(x) = −log(1+x) − (a x + b x²)` has
    /// `E(0) = 0`; symbolica computes `(1+x)E′(x)` (checked equal to the polynomial with exact
    /// rational coefficients `−1 − a − (a+2b)x − 2b x²`); `E ≤ 0` on `x ≥ 0` when it is ≤ 0, and
    /// `E ≥ −c x³` when `(1+x)(E + c x³)′` is ≥ 0 (coefficient signs, exact).
    pub fn certificate(b: Bound) -> Result<String, String> {
        let (a, bb) = b.poly.per_eigenvalue();
        let e = alg::expr(&format!("-log(1+x) - ({a})*x - ({bb})*x^2"));
        let de = alg::derivative(&e, "x");
        let two_b = Rational::from(&bb * 2u32);
        let c0 = -Rational::from(1) - &a;
        let c1 = -Rational::from(&a + &two_b);
        let c2 = -two_b.clone();
        let upper = vec![c0.clone(), c1.clone(), c2.clone()];
        let got = alg::normalise_rational(&(&(&alg::expr("1+x") * &de) - &poly(&upper)));
        if !got.is_zero() {
            return Err(format!(
                "(1+x)E′(x) is not {}: difference {}",
                alg::plain(&poly(&upper)),
                alg::plain(&got)
            ));
        }
        let mut parts = Vec::new();
        if b.upper {
            sign_certificate(&upper, -1, "E ≤ 0")?;
            parts.push(format!("(1+x)E′ = {} ≤ 0", alg::plain(&poly(&upper))));
        }
        if let Some((n, d)) = b.lower {
            let c = Rational::from((n, d));
            let three_c = Rational::from(&c * 3u32);
            let lower = vec![c0, c1, c2 + &three_c, three_c.clone()];
            let h = &e + &alg::expr(&format!("({c})*x^3"));
            let got = alg::normalise_rational(
                &(&(&alg::expr("1+x") * &alg::derivative(&h, "x")) - &poly(&lower)),
            );
            if !got.is_zero() {
                return Err(format!("(1+x)(E + {c}x³)′ differs by {}", alg::plain(&got)));
            }
            sign_certificate(&lower, 1, &format!("E ≥ −({c})x³"))?;
            parts.push(format!(
                "(1+x)(E + ({c})x³)′ = {} ≥ 0",
                alg::plain(&poly(&lower))
            ));
        }
        Ok(format!("E(0) = 0 and {}", parts.join(", ")))
    }

    /// LaTeX of the series of `−log det(I + aΣ)` for `d = 2` through `a³`.
    pub fn series_latex_d2() -> String {
        let (_, ser) = neg_c_logdet_series(2, false, 3);
        alg::latex(&ser)
    }

    /// LaTeX of `g′(x)` and `(1+x)h′(x)` for the theorem's bound.
    pub fn certificate_latex() -> String {
        let g = alg::expr("x - x^2/2 - log(1+x)");
        let dg = alg::derivative(&g, "x");
        let h = &g + &alg::expr("x^3/3");
        let dh = alg::normalise_rational(&(&alg::expr("1+x") * &alg::derivative(&h, "x")));
        format!(
            r"g'(x) = {},\qquad (1+x)\,h'(x) = {}",
            alg::latex(&dg),
            alg::latex(&dh)
        )
    }
}

#[cfg(feature = "symbolic")]
pub use symbolic::second_order_at;

// ---------------------------------------------------------------------------------------------
// The claim
// ---------------------------------------------------------------------------------------------

const SCALAR: &str = "scalar series −log(1+x) through x¹⁰, general term by telescoping";
const REDUCTION: &str = "spectral reduction: Cholesky log det against Jacobi and the construction";

fn spectral_theorem(text: &str) -> ArgSpec {
    ArgSpec::cited(
        text,
        "spectral theorem",
        "for real symmetric matrices; Horn & Johnson, Matrix Analysis, 2nd ed., Thm 4.1.5",
    )
}

pub fn run(c: &mut ClaimRun) {
    let dm = c.sym_d_max();
    let prec = c.prec();

    // -- As written, part 1: the display is the 2nd-order Taylor polynomial of −log det(I+αΣ).
    c.prop(
        Role::AsWritten,
        "the display is the second-order Taylor polynomial of −log det(I+αΣ) at Σ = 0",
        format!(r"-\log\det(I+\alpha\Sigma) = {} + O(\alpha^3)", SecondOrder::Notes.tex()),
        Expansion {
            poly: SecondOrder::Notes,
            remainder_order: 3,
        },
    )
    .symbolic(
        "series of −log det(I+αΣ), fully symbolic Σ",
        Scope::UpToD { d_max: dm },
        sym!(|&e| symbolic::second_order(e.poly, false, dm)),
    )
    .symbolic(SCALAR, Scope::DimensionFree, sym!(|_| symbolic::scalar_series(10)))
    .independent()
    .check(REDUCTION, |run, _| spectral_reduction(run))
    .independent()
    .check("remainder order", remainder_order)
    .argument(
        "for every d",
        vec![
            spectral_theorem("Σ = QΛQᵀ with Q orthogonal: det(I+αΣ) = Π_i(1+αλ_i) and tr Σ^k = Σ_i λ_i^k, so −log det(I+αΣ) = Σ_i −log(1+αλ_i)"),
            ArgSpec::checked("the reduction agrees with two independent algorithms on random PSD Σ", REDUCTION),
            ArgSpec::checked("per eigenvalue, −log(1+x) = −x + x²/2 − x³/3 + …, with x = αλ_i", SCALAR),
            ArgSpec::cited(
                "summing the per-eigenvalue expansions gives −α p₁ + (α²/2) p₂ + O(α³), whatever d",
                "linearity of Taylor coefficients",
                "the coefficients of a finite sum are the sums of the coefficients (elementary)",
            ),
        ],
    )
    .mutant(
        "drops_half",
        "second-order form with α² tr Σ² for (α²/2) tr Σ²",
        Expansion {
            poly: SecondOrder::DropsHalf,
            remainder_order: 3,
        },
    )
    .mutant(
        "wrong_sign",
        "second-order form with both signs flipped",
        Expansion {
            poly: SecondOrder::WrongSign,
            remainder_order: 3,
        },
    )
    .mutant(
        "squared_trace",
        "second-order form with (tr Σ)² for tr Σ² (equal only for d = 1)",
        Expansion {
            poly: SecondOrder::SquaredTrace,
            remainder_order: 3,
        },
    )
    .mutant(
        "remainder_order_four",
        "the truncation error is O(α⁴)",
        Expansion {
            poly: SecondOrder::Notes,
            remainder_order: 4,
        },
    );

    // -- As written, part 2: that this is an expansion of −R_ε.
    c.prop(
        Role::AsWritten,
        "the display is the expansion of −R_ε = −½ log det(I+αΣ)",
        format!(
            r"-R_\varepsilon(\Sigma) = {} + O(\alpha^3)",
            SecondOrder::Notes.tex()
        ),
        SecondOrder::Notes,
    )
    .symbolic(
        "series of −R_ε, fully symbolic Σ",
        Scope::UpToD { d_max: dm },
        sym!(|&f| symbolic::second_order(f, true, dm)),
    )
    .check("remainder order of −R_ε − form", rate_remainder_order);

    // -- Corrected: the expansion of −R_ε, the series, the radius and the rigorous bound.
    c.prop(
        Role::Corrected,
        "−R_ε = −(α/2) tr Σ + (α²/4) tr Σ² + O(α³): the display is the expansion of −2R_ε",
        format!(
            r"-R_\varepsilon(\Sigma) = {} + O(\alpha^3),\qquad -2R_\varepsilon(\Sigma) = {} + O(\alpha^3)",
            SecondOrder::HalfForRate.tex(),
            SecondOrder::Notes.tex()
        ),
        SecondOrder::HalfForRate,
    )
    .symbolic(
        "series of −R_ε, fully symbolic Σ",
        Scope::UpToD { d_max: dm },
        sym!(|&f| symbolic::second_order(f, true, dm)),
    )
    .check("remainder order of −R_ε − form", rate_remainder_order);

    c.prop(
        Role::Corrected,
        "the whole series, its general term and its radius of convergence 1/ρ(Σ)",
        r"-\log\det(I+\alpha\Sigma) = \sum_{k\ge1} \frac{(-1)^k\alpha^k}{k}\,\mathrm{tr}\,\Sigma^k,\quad\text{converging for }\rho(\alpha\Sigma)<1,\ \text{diverging for }\rho(\alpha\Sigma)>1",
        Radius::Spectral { factor: 1 },
    )
    .symbolic(
        "coefficients through α⁵, fully symbolic Σ",
        Scope::UpToD { d_max: dm },
        sym!(|_| symbolic::general_term(dm, 5)),
    )
    .independent()
    .symbolic(SCALAR, Scope::DimensionFree, sym!(|_| symbolic::scalar_series(10)))
    .independent()
    .check("both sides of the radius (400 terms)", radius_check)
    .argument(
        "for every d",
        vec![
            spectral_theorem("the matrix series is the sum over eigenvalues of the scalar series of −log(1+αλ_i)"),
            ArgSpec::checked("the scalar series and its general term (−1)^k x^k/k", SCALAR),
            ArgSpec::cited(
                "the scalar series converges for |x| < 1 and diverges for |x| > 1 (its terms do not tend to 0), so the sum converges iff every |αλ_i| < 1, i.e. ρ(αΣ) < 1",
                "the logarithmic series' radius",
                "ratio test; Rudin, Principles of Mathematical Analysis, 3rd ed., Thm 3.34",
            ),
        ],
    )
    .mutant(
        "radius_by_trace",
        "the series converges iff tr(αΣ) < 1",
        Radius::Trace,
    )
    .mutant(
        "radius_doubled",
        "the radius of convergence is 2/ρ(Σ)",
        Radius::Spectral { factor: 2 },
    );

    const CERTIFICATE: &str = "per-eigenvalue derivative certificate";
    c.prop(
        Role::Corrected,
        "rigorous truncation bound: −(α³/3) tr Σ³ ≤ E ≤ 0 for PSD Σ, α ≥ 0",
        r"E := -\log\det(I+\alpha\Sigma) - \Big({-\alpha\,\mathrm{tr}\,\Sigma + \tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2}\Big) \in \Big[-\tfrac{\alpha^3}{3}\,\mathrm{tr}\,\Sigma^3,\ 0\Big]",
        BOUND,
    )
    .symbolic(
        CERTIFICATE,
        Scope::DimensionFree,
        sym!(|&b| symbolic::certificate(b)),
    )
    .check("truncation bound on random PSD Σ", bound_property)
    .check("figure data: exact curve between the bound curves", |run, _| figure(run))
    .independent()
    .argument(
        "for every d",
        vec![
            spectral_theorem("E = Σ_i g(αλ_i) with g(x) = −log(1+x) + x − x²/2, and tr Σ³ = Σ_i λ_i³"),
            ArgSpec::checked("−x³/3 ≤ g(x) ≤ 0 for every x ≥ 0", CERTIFICATE),
            ArgSpec::cited(
                "for PSD Σ and α ≥ 0 every x_i = αλ_i ≥ 0; summing the per-eigenvalue bounds gives the matrix bound",
                "PSD eigenvalues are ≥ 0",
                "Horn & Johnson, Matrix Analysis, 2nd ed., Thm 7.2.1",
            ),
        ],
    )
    .mutant(
        "bound_sixth",
        "a tighter lower bound −(α³/6) tr Σ³ ≤ E",
        Bound {
            lower: Some((1, 6)),
            ..BOUND
        },
    )
    .mutant(
        "bound_wrong_sign",
        "the second-order form underestimates: E ≥ 0",
        Bound {
            poly: SecondOrder::Notes,
            lower: Some((0, 1)),
            upper: false,
        },
    )
    .mutant(
        "bound_with_dropped_half",
        "the bound −(α³/3) tr Σ³ ≤ E ≤ 0 for the form with the ½ dropped",
        Bound {
            poly: SecondOrder::DropsHalf,
            ..BOUND
        },
    );

    c.prop(
        Role::Approximation,
        "accuracy at the α = d/ε² and spectra of real implementations",
        r"\text{relative error } |E| / |\log\det(I+\alpha\Sigma)|",
        (),
    )
    .measured("implementation defaults (table below)", |run, _| {
        practical_table(run)
    });

    // -- Derivation.
    c.step(
        "Diagonalise $\\Sigma = Q\\Lambda Q^\\top$ (spectral theorem, cited). Then $\\det(I+\\alpha\\Sigma)=\\prod_i(1+\\alpha\\lambda_i)$ and $\\mathrm{tr}\\,\\Sigma^k=\\sum_i\\lambda_i^k$, so the matrix series is the sum over eigenvalues of the scalar series; the reduction is checked numerically against Cholesky and Jacobi.",
        Some(r"-\log\det(I+\alpha\Sigma) = -\sum_i \log(1+\alpha\lambda_i)".into()),
    );
    c.step(
        "The scalar series: $\\frac{d}{dx}\\sum_{k=1}^{N}\\frac{(-1)^{k+1}x^k}{k} = \\sum_{k=0}^{N-1}(-x)^k = \\frac{1-(-x)^N}{1+x}$ (telescoping, checked symbolically), so for $|x|<1$ the remainder vanishes and",
        Some(r"-\log(1+x) = \sum_{k\ge 1}\frac{(-1)^k x^k}{k},\qquad -\log\det(I+\alpha\Sigma) = \sum_{k\ge1}\frac{(-1)^k\alpha^k}{k}\,\mathrm{tr}\,\Sigma^k".into()),
    );
    c.step(
        format!("It converges exactly when every $|\\alpha\\lambda_i|<1$: the radius in $\\alpha$ is $1/\\rho(\\Sigma)$. Numerically (400 terms, {prec} bits) the partial sums converge at $\\rho(\\alpha\\Sigma)=0.9$ although $\\mathrm{{tr}}(\\alpha\\Sigma)>1$ (so a trace condition is not the right one), and the terms blow up at $\\rho(\\alpha\\Sigma)=1.1$; the figures are in the evidence below."),
        None,
    );
    c.step_symbolic(
        "For a fully symbolic $2\\times2$ $\\Sigma$ (entries $s_{11}, s_{12}, s_{22}$), symbolica's series of $-\\log\\det(I+a\\Sigma)$ through $a^3$:",
        sym!(|_| Ok(symbolic::series_latex_d2())),
    );
    c.step(
        "Truncating after $k=2$ gives the notes' form. But $R_\\varepsilon = \\tfrac12\\log\\det(I+\\alpha\\Sigma)$, so the display is the expansion of $-2R_\\varepsilon$; the expansion of $-R_\\varepsilon$ has half the coefficients.",
        Some(format!(
            r"-R_\varepsilon(\Sigma) = {} + O(\alpha^3)",
            SecondOrder::HalfForRate.tex()
        )),
    );
    c.step(
        "Rigorous remainder. Let $g(x)=x-\\tfrac{x^2}{2}-\\log(1+x)$, the per-eigenvalue error at $x=\\alpha\\lambda_i\\ge0$. Then $g(0)=0$ and $(1+x)g'(x)=-x^2\\le0$, so $g\\le0$; and $h=g+\\tfrac{x^3}{3}$ has $(1+x)h'(x)=x^3\\ge0$, so $h\\ge0$. Summing over eigenvalues:",
        Some(r"-\tfrac{\alpha^3}{3}\,\mathrm{tr}\,\Sigma^3 \;\le\; -\log\det(I+\alpha\Sigma) - \Big(-\alpha\,\mathrm{tr}\,\Sigma+\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2\Big) \;\le\; 0".into()),
    );
    c.step_symbolic(
        "symbolica's derivatives: $g'(x)$, then $(1+x)h'(x)$ expanded:",
        sym!(|_| Ok(symbolic::certificate_latex())),
    );
    c.step(
        "The bound holds for every $\\alpha\\ge0$, inside or outside the radius; the second-order form always **over**estimates $-\\log\\det$. Its relative error is small only when $\\alpha\\lambda_{\\max}\\ll1$. At the defaults of real implementations $\\alpha\\lambda_{\\max}$ ranges from 0.5 (MCR² self-supervised, isotropic features) to 5120 (collapsed features at SimDINO's defaults) in the table below; only the first is inside the radius, and at SimDINO's isotropic point ($\\alpha\\lambda=20$) the second-order form even has the wrong sign That isotropic point needs a batch $B\\ge d$; with SimDINO's 64 samples per GPU and $d=256$ the covariance has rank $\\le64$, the most isotropic reachable $\\Sigma$ has 64 eigenvalues $1/64$, and $\\alpha\\lambda=80$ (the table's assumptions are in its caption).",
        None,
    );
}
