//! # B2: the coding rate maximises variance and enforces isotropy
//!
//! ## Main statements
//! * `coding_rate_max_at_fixed_trace_is_isotropic`: `R_ε(Σ) = ½ log det(I+αΣ)` has no maximiser
//!   on its own (it grows without bound, along anisotropic directions too); at fixed trace `T`
//!   its unique maximiser is `(T/d)I`, with every eigenvalue `T/d > 0`; it is finite on collapsed
//!   `Σ` (no barrier at rank deficiency).
//!
//! ## Implementation notes
//! Every comparison is of `R_ε` itself (MPFR log-determinants by Cholesky), not of `det`: the
//! fixed-trace maximiser by random PSD matrices rescaled to the trace and by traceless
//! perturbations of the claimed maximiser.
//!
//! ## References
//! Yu et al. (2020), MCR²; Wu et al. (2025), SimDINO; claim B1 of this catalogue (AM–GM).
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 4 (VICReg vs. coding rate).

use rug::Float;
use sslproof::prelude::*;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "coding_rate_max_at_fixed_trace_is_isotropic",
    label: "B2",
    family: "isotropy",
    title: "The coding rate maximises variance and enforces isotropy",
    quote: "Coding rate uses the exact log-det term $R_\\varepsilon(\\Sigma)=\\tfrac12\\log\\det(I+\\alpha\\Sigma)$, which simultaneously maximizes variance (all eigenvalues > 0) and enforces isotropy (decorrelation).",
    place: "A unified framework for covariance-regularized SSL, item 4",
    statement: r"\arg\max_\Sigma R_\varepsilon(\Sigma)\ \text{has all }\lambda_i>0\text{ and is isotropic}",
    nature: Nature::Mathematical,
    expected: Class::HoldsUnderConditions,
};

/// `R_ε(Σ) = ½ log det(I + αΣ)`.
fn rate(sigma: &Mat, alpha: &Float) -> Float {
    sigma
        .identity_plus(alpha)
        .and_then(|m| m.logdet_spd())
        .expect("I + αΣ is SPD for PSD Σ")
        / 2u32
}

/// Is there a maximiser without a constraint? `R_ε(tI)` and the anisotropic
/// `diag(t, 0.01, 0.01)` as `t` grows (α = 16, d = 3).
fn unconstrained(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 16);
    let iso = |t: u32| rate(&Mat::scalar(3, &Float::with_val(prec, t)), &alpha);
    let aniso = |t: u32| {
        let mut m = Mat::scalar(3, &(Float::with_val(prec, 1) / 100u32));
        *m.at_mut(0, 0) = Float::with_val(prec, t);
        rate(&m, &alpha)
    };
    let (i1, i3, i6, a6) = (iso(1), iso(1000), iso(1_000_000), aniso(1_000_000));
    run.count(4);
    if i6 > i3 && a6 > i1 {
        Err(format!(
            "no: R_ε(tI) grows without bound (R_ε(10³I) = {i3:.4}, R_ε(10⁶I) = {i6:.4}; α = 16, d = 3), and the anisotropic diag(10⁶, 0.01, 0.01) gives {a6:.4} > R_ε(I) = {i1:.4}"
        ))
    } else {
        Ok("bounded".into())
    }
}

/// A claimed maximiser of `R_ε` at fixed trace `T`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Maximiser {
    /// `(T/d)I` (the theorem).
    Isotropic,
    /// `T·e₁e₁ᵀ`: all the variance in one direction.
    RankOne,
    /// `α⁻¹I`: the second-order form's minimiser (A4) taken for the rate's.
    InverseAlpha,
}

impl Maximiser {
    fn matrix(self, d: usize, trace: &Float, alpha: &Float) -> Mat {
        let prec = trace.prec();
        match self {
            Maximiser::Isotropic => Mat::scalar(d, &Float::with_val(prec, trace / d as u64)),
            Maximiser::RankOne => {
                let mut m = Mat::zeros(d, d, prec);
                *m.at_mut(0, 0) = trace.clone();
                m
            }
            Maximiser::InverseAlpha => Mat::scalar(d, &(Float::with_val(prec, 1) / alpha)),
        }
    }
}

/// At fixed trace (unit-norm features: `T = 1`), random PSD `Σ` rescaled to the trace never
/// exceed the claimed maximiser's `R_ε`, which satisfies the constraint (α = 16).
fn beats_random(run: &mut Run, m: &Maximiser) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 16);
    let one = Float::with_val(prec, 1);
    let cases = run.scaled(500);
    let property = run.for_all::<Recipe, _>(8, cases, |r| {
        let (sigma, _) = r.realize(prec);
        let t = sigma.trace().map_err(|e| e.to_string())?;
        if t.is_zero() {
            return Ok(());
        }
        let sigma = sigma.scale(&(Float::with_val(prec, 1) / &t));
        let best = m.matrix(r.d, &one, &alpha);
        let bt = best.trace().map_err(|e| e.to_string())?;
        if !Tol::scalar(prec).accepts(&Float::with_val(prec, &bt - 1u32), &one) {
            return Err(format!(
                "the claimed maximiser has trace {bt:.6}, not the fixed trace 1 (d = {})",
                r.d
            ));
        }
        let (rs, rb) = (rate(&sigma, &alpha), rate(&best, &alpha));
        let slack =
            Float::with_val(prec, rb.clone().abs() + 1u32) >> Tol::linalg(prec, r.d, 10).bits;
        if Float::with_val(prec, &rs - &slack) <= rb {
            Ok(())
        } else {
            Err(format!(
                "a random Σ with tr Σ = 1 has R_ε = {rs:.6} > {rb:.6} at the claimed maximiser"
            ))
        }
    });
    property.result(|| {
        format!(
            "{} random PSD Σ rescaled to tr Σ = 1, d ≤ 8, α = 16",
            property.cases
        )
    })
}

/// Traceless perturbations `±2⁻¹²H` of the claimed maximiser lower `R_ε` (d = 2…6, 20 each).
fn perturbations(run: &mut Run, m: &Maximiser) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 16);
    let one = Float::with_val(prec, 1);
    let mut s = run.sampler();
    let per_d = run.scaled(20);
    for d in 2..=6 {
        let centre = m.matrix(d, &one, &alpha);
        let r0 = rate(&centre, &alpha);
        for _ in 0..per_d {
            let h = s
                .traceless_symmetric(d)
                .scale(&(Float::with_val(prec, 1) >> 12u32));
            for sign in [1i32, -1] {
                let moved = centre
                    .add(&h.scale(&Float::with_val(prec, sign)))
                    .expect("square");
                // A move that leaves the PSD cone is not a competitor.
                if moved.sym_eigen().map(|e| e.values[0] < 0).unwrap_or(true) {
                    continue;
                }
                run.count(1);
                if rate(&moved, &alpha) >= r0 {
                    return Err(format!(
                        "d = {d}: a traceless perturbation of the claimed maximiser raises R_ε above {r0:.6}"
                    ));
                }
            }
        }
    }
    Ok(format!(
        "{per_d} traceless directions ±2⁻¹²H per d = 2…6 (tr Σ = 1, α = 16): every one lowers R_ε"
    ))
}

/// A claimed value of `R_ε` at a collapsed `Σ = T e₁e₁ᵀ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtCollapse {
    /// `½ log(1 + αT)` (the theorem).
    HalfLog,
    /// `−∞`: a barrier at rank deficiency, as `log det Σ` has.
    Barrier,
}

/// `R_ε` at the rank-one `Σ = e₁e₁ᵀ` (T = 1, α = 16, d = 3) against the claim.
fn collapse_value(run: &mut Run, v: &AtCollapse) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 16);
    let mut r1 = Mat::zeros(3, 3, prec);
    *r1.at_mut(0, 0) = Float::with_val(prec, 1);
    let collapsed = rate(&r1, &alpha);
    run.count(1);
    match v {
        AtCollapse::HalfLog => {
            let expected = Float::with_val(prec, &alpha + 1u32).ln() / 2u32;
            if Tol::scalar(prec).accepts(&Float::with_val(prec, &collapsed - &expected), &expected)
            {
                Ok(format!("R_ε = {collapsed:.6} = ½ log 17"))
            } else {
                Err(format!(
                    "R_ε = {collapsed:.6}, not ½ log 17 = {expected:.6}"
                ))
            }
        }
        AtCollapse::Barrier => {
            if collapsed.is_finite() {
                Err(format!("R_ε = {collapsed:.6} is finite at the rank-one Σ"))
            } else {
                Ok("−∞".into())
            }
        }
    }
}

/// A claimed law of the gradient-ascent flow `dΣ/dt = ∇R_ε = (α/2)(I + αΣ)⁻¹` on the
/// eigenvalues: `d(1 + αλ_i)²/dt = c·α²`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowLaw {
    /// `c` (the theorem: 1).
    pub c: u32,
}

/// `λ(t) = (√((1 + αλ₀)² + cα²t) − 1)/α`, the eigenvalue at time `t` under the claimed law.
fn flow_eigenvalue(l0: &Float, alpha: &Float, t: &Float, law: &FlowLaw) -> Float {
    let prec = l0.prec();
    let start = Float::with_val(prec, alpha * l0) + 1u32;
    let grown = Float::with_val(prec, start.square_ref())
        + Float::with_val(prec, alpha.square_ref()) * t * law.c;
    (grown.sqrt() - 1u32) / alpha
}

/// `dΣ/dt = (α/2)(I + αΣ)⁻¹` integrated by classical Runge–Kutta (RK4, matrix inverses at the
/// working precision) from an anisotropic `Σ₀` (d = 4, eigenvalues 0.01, 0.1, 1, 3 in a seeded
/// basis, α = 2) to `t = 4`, with `N` and `2N` steps: the eigenvalues of the result against the
/// claimed law. The tolerance is the integrator's own: `|λ_2N − λ_N|` bounds the error of
/// `λ_2N` by `|λ_2N − λ_N|/15` for a fourth-order method; it is taken 16-fold (and at least
/// `2^(−prec/2)`). Also reported: `λ_max/λ_min` at `t = 0` and `t = 4` (it falls toward 1).
fn integrate_flow(run: &mut Run, law: &FlowLaw) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 2);
    let l0: Vec<Float> = ["0.01", "0.1", "1", "3"]
        .iter()
        .map(|x| Float::with_val(prec, Float::parse(x).expect("a number")))
        .collect();
    let sigma0 = sslproof::hp::sample::Sampler::new(run.seed(), prec).with_spectrum(&l0);
    let t_end = Float::with_val(prec, 4);
    let field = |m: &Mat| -> Mat {
        m.identity_plus(&alpha)
            .and_then(|x| x.inverse())
            .expect("I + αΣ is invertible on the flow")
            .scale(&Float::with_val(prec, &alpha / 2u32))
    };
    let rk4 = |n: u32| -> Mat {
        let h = Float::with_val(prec, &t_end / n);
        let half = Float::with_val(prec, &h / 2u32);
        let mut y = sigma0.clone();
        for _ in 0..n {
            let k1 = field(&y);
            let k2 = field(&y.add(&k1.scale(&half)).expect("square"));
            let k3 = field(&y.add(&k2.scale(&half)).expect("square"));
            let k4 = field(&y.add(&k3.scale(&h)).expect("square"));
            let sum = k1
                .add(&k2.scale(&Float::with_val(prec, 2)))
                .and_then(|x| x.add(&k3.scale(&Float::with_val(prec, 2))))
                .and_then(|x| x.add(&k4))
                .expect("square");
            y = y
                .add(&sum.scale(&Float::with_val(prec, &h / 6u32)))
                .expect("square");
        }
        y
    };
    let eig = |m: &Mat| -> Result<Vec<Float>, String> {
        let mut v = m
            .symmetrize()
            .and_then(|x| x.sym_eigen())
            .map_err(|e| e.to_string())?
            .values;
        v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
        Ok(v)
    };
    let (coarse, fine) = (eig(&rk4(200))?, eig(&rk4(400))?);
    run.count(600);
    let floor = Float::with_val(prec, 1) >> (prec / 2);
    let mut worst = String::new();
    for (i, l) in l0.iter().enumerate() {
        let claimed = flow_eigenvalue(l, &alpha, &t_end, law);
        let est = Float::with_val(prec, &fine[i] - &coarse[i]).abs() * 16u32;
        let tol = if est > floor { est } else { floor.clone() };
        let err = Float::with_val(prec, &fine[i] - &claimed).abs();
        if err > tol {
            return Err(format!(
                "λ₀ = {l:.3}: integrated λ(4) = {:.12}, claimed law gives {claimed:.12} (integrator error ≤ {tol:.2e})",
                fine[i]
            ));
        }
        worst = format!(
            "{worst}{}λ₀ = {l:.2} → {:.10}",
            if i > 0 { ", " } else { "" },
            fine[i]
        );
    }
    let ratio = |v: &[Float]| Float::with_val(prec, &v[v.len() - 1] / &v[0]);
    Ok(format!(
        "RK4 with 200 and 400 steps to t = 4 (α = 2), every eigenvalue on the law within the integrator's error: {worst}; λ_max/λ_min {:.1} at t = 0, {:.3} at t = 4",
        ratio(&l0).to_f64(),
        ratio(&fine).to_f64()
    ))
}

#[cfg(feature = "symbolic")]
mod flow_symbolic {
    use sslproof::sym::algebra as alg;

    /// `d(1 + αλ)²/dt = 2(1 + αλ)·α·dλ/dt` with `dλ/dt = ∂R_ε/∂λ = α/(2(1 + αλ))` (the flow of
    /// `R_ε = ½ Σ log(1 + αλ_i)` on one eigenvalue), against `c·α²`.
    pub fn law(c: u32) -> Result<String, String> {
        let r = alg::expr("1/2*log(1+a*l)");
        let dl = alg::derivative(&r, "l");
        let lhs = &(&alg::expr("2*(1+a*l)*a") * &dl);
        let diff = alg::normalise_rational(&(lhs - &alg::expr(&format!("{c}*a^2"))));
        if diff.is_zero() {
            Ok(format!(
                "dλ/dt = ∂R/∂λ = {}; d(1+αλ)²/dt = α²",
                alg::plain(&dl)
            ))
        } else {
            Err(format!("d(1+αλ)²/dt − {c}α² = {}", alg::plain(&diff)))
        }
    }
}

pub fn run(c: &mut ClaimRun) {
    c.prop(
        Role::AsWritten,
        "maximising R_ε alone makes Σ isotropic with all eigenvalues positive",
        r"\sup_\Sigma R_\varepsilon(\Sigma)\ \text{is attained at an isotropic }\Sigma",
        (),
    )
    .check(
        "does R_ε have an (isotropic) maximiser without a constraint?",
        |run, _| unconstrained(run),
    );

    c.prop(
        Role::UnderConditions,
        "at fixed trace T (unit-norm features: tr Σ = 1) the unique maximiser is (T/d)I, all eigenvalues T/d > 0",
        r"\mathrm{tr}\,\Sigma = T:\ \arg\max R_\varepsilon = \tfrac Td I",
        Maximiser::Isotropic,
    )
    .check("random PSD Σ at the fixed trace against the maximiser", beats_random)
    .check("traceless perturbations of the maximiser", perturbations)
    .mutant(
        "rank_one_maximiser",
        "at fixed trace the coding rate is maximised by a rank-one Σ (all the variance in one direction)",
        Maximiser::RankOne,
    )
    .mutant(
        "inverse_alpha_maximiser",
        "the maximiser is α⁻¹I, the second-order form's minimiser (A4)",
        Maximiser::InverseAlpha,
    );

    c.prop(
        Role::Precise,
        "R_ε is finite at a collapsed Σ: ½ log(1 + αT) for rank one (no barrier, unlike log det Σ = −∞)",
        r"R_\varepsilon(T\,e_1e_1^\top)=\tfrac12\log(1+\alpha T)",
        AtCollapse::HalfLog,
    )
    .check("rank-one Σ, T = 1, α = 16", collapse_value)
    .mutant(
        "barrier_at_collapse",
        "R_ε → −∞ at a rank-deficient Σ, a barrier like log det Σ",
        AtCollapse::Barrier,
    );

    c.step("$R_\\varepsilon=\\tfrac12\\sum_i\\log(1+\\alpha\\lambda_i)$ is strictly increasing in every eigenvalue, so on its own it has no maximiser: it grows without bound along $tI$, and equally along anisotropic directions. \"Maximises variance\" is right as a direction of push; \"enforces isotropy\" needs a scale constraint.", None);
    c.step("With a trace constraint (L2-normalised features give $\\mathrm{tr}\\,\\Sigma=1$ for the uncentred second moment used by MCR², SimDINO and EMP-SSL), B1's argument with the strictly concave $\\log(1+\\alpha x)$ makes $\\tfrac Td I$ the unique maximiser, with all eigenvalues positive: random PSD matrices at the same trace never beat it, every traceless perturbation lowers $R_\\varepsilon$, and the rank-one matrix (or $\\alpha^{-1}I$, which does not even meet the constraint) is not it.", None);
    c.prop(
        Role::Precise,
        "isotropy by the gradient flow, with no trace constraint: on dΣ/dt = ∇R_ε = (α/2)(I + αΣ)⁻¹ the eigenvectors stay and d(1 + αλ_i)²/dt = α² for every i, so every 1 + αλ_i grows like α√t and the eigenvalue ratios tend to 1",
        r"\frac{d\Sigma}{dt}=\tfrac\alpha2(I+\alpha\Sigma)^{-1}\ \Rightarrow\ \frac{d}{dt}(1+\alpha\lambda_i)^2=\alpha^2,\qquad \frac{\lambda_i(t)}{\lambda_j(t)}\to1",
        FlowLaw { c: 1 },
    )
    .symbolic(
        "d(1+αλ)²/dt on the flow of one eigenvalue",
        Scope::DimensionFree,
        sym!(|&f| flow_symbolic::law(f.c)),
    )
    .check("the matrix flow integrated by RK4 at the working precision", integrate_flow)
    .mutant(
        "flow_law_doubled",
        "d(1 + αλ_i)²/dt = 2α² (the ½ of R_ε dropped from its gradient)",
        FlowLaw { c: 2 },
    );

    c.step("A second, dynamic sense in which the sentence holds, with no constraint: ascending $R_\\varepsilon$ by its gradient, $\\dot\\Sigma=\\tfrac\\alpha2(I+\\alpha\\Sigma)^{-1}$ commutes with $\\Sigma$, so the eigenvectors stay and each eigenvalue follows $\\dot\\lambda_i=\\alpha/(2(1+\\alpha\\lambda_i))$, i.e. $\\tfrac d{dt}(1+\\alpha\\lambda_i)^2=\\alpha^2$ (symbolica). Hence $(1+\\alpha\\lambda_i(t))^2=(1+\\alpha\\lambda_i(0))^2+\\alpha^2t$: every eigenvalue grows like $\\sqrt t$ at the same rate and the ratios tend to 1. The matrix flow integrated by RK4 at the working precision (from eigenvalues 0.01 to 3) lands on this law within the integrator's own error estimate; the ratio $\\lambda_{\\max}/\\lambda_{\\min}$ falls from 300 to the value in the evidence. The flow never stops (no maximiser), but its direction becomes isotropic.", None);
    c.step("$R_\\varepsilon$ is finite on rank-deficient matrices ($\\tfrac12\\log(1+\\alpha T)$ at rank one), so it rewards spreading but does not forbid zero eigenvalues the way $\\log\\det\\Sigma=-\\infty$ would.", None);
}
