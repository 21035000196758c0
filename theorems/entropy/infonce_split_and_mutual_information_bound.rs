//! # C3: contrastive and non-contrastive criteria as dual formulations
//!
//! ## Main statements
//! * `infonce_split_and_mutual_information_bound`: InfoNCE splits exactly into an alignment term
//!   and a log-sum-exp (spread) term; it lower-bounds the mutual information between the views,
//!   `I(X;Y) ≥ log K − E[L_NCE]`, and the bound saturates at `log K`: as the views become
//!   identical, `E[L_NCE] → 0` and `log K − E[L_NCE] → log K` however large `I` is. "Dual
//!   formulations" itself is an interpretation.
//!
//! ## Implementation notes
//! The split at the working precision on random unit vectors; the bound and its saturation on
//! correlated Gaussians with known `I = −½ log(1−ρ²)` and the optimal critic
//! `f = log p(y|x)/p(y)`, Monte Carlo in IEEE double with CLT intervals at level 0.999.
//!
//! ## References
//! van den Oord, Li, Vinyals (2018), CPC; Poole et al. (2019), "On variational bounds of mutual
//! information"; Wang & Isola (2020).
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 5 (Information-theoretic interpretation).

use rug::Float;
use sslproof::check::stats::z_two_sided;
use sslproof::hp::vec::dot;
use sslproof::prelude::*;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "infonce_split_and_mutual_information_bound",
    label: "C3",
    family: "entropy",
    title: "Contrastive and non-contrastive criteria as dual formulations",
    quote: "Contrasting contrastive losses (InfoNCE) and these non-contrastive criteria reveals they are dual formulations of the same underlying entropy-alignment trade-off.",
    place: "A unified framework for covariance-regularized SSL, item 5 (Information-theoretic interpretation)",
    statement: r"\text{InfoNCE} \;\overset{\text{dual}}{\longleftrightarrow}\; \mathcal L_{\rm align}-\lambda R_\varepsilon",
    nature: Nature::Interpretive,
    expected: Class::Interpretive,
};

/// The confidence level of every statistical check here.
const LEVEL: f64 = 0.999;

/// A claimed split `L = −s⁺/τ + log Σ_{j∈J} e^{s_j/τ}`: with the positive in `J` (the theorem) or
/// without it (the decoupled form).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    pub positive_in_lse: bool,
}

/// InfoNCE on unit vectors as cross-entropy (softmax) against the claimed split, τ = 0.2.
fn split_check(run: &mut Run, f: &Split) -> Result<String, String> {
    let prec = run.prec();
    let mut s = run.sampler();
    let tau = Float::with_val(prec, 1) / 5u32;
    let tol = Tol::scalar(prec);
    let cases = run.scaled(50);
    for case in 0..cases {
        let d = 2 + case % 7;
        let k = 2 + case % 9;
        let anchor = s.unit_vector(d);
        let keys: Vec<Vec<Float>> = (0..k).map(|_| s.unit_vector(d)).collect();
        let sims: Vec<Float> = keys.iter().map(|kv| dot(kv, &anchor) / &tau).collect();
        let denom = sims
            .iter()
            .fold(Float::new(prec), |a, x| a + x.clone().exp());
        let ce = -(sims[0].clone().exp() / &denom).ln();
        let lse_terms = if f.positive_in_lse {
            &sims[..]
        } else {
            &sims[1..]
        };
        let lse = lse_terms
            .iter()
            .fold(Float::new(prec), |a, x| a + x.clone().exp())
            .ln();
        let split = Float::with_val(prec, -&sims[0]) + lse;
        let res = Float::with_val(prec, &ce - &split);
        run.count(1);
        if !tol.accepts(&res, &Float::with_val(prec, ce.clone().abs() + 1u32)) {
            return Err(format!(
                "K = {k}, d = {d}: cross-entropy − split = {res:.3e}"
            ));
        }
    }
    Ok(format!(
        "{cases} random anchors and keys (K ≤ 10, d ≤ 8), τ = 0.2: agree within {}",
        tol.describe()
    ))
}

/// Monte Carlo InfoNCE with the optimal critic on correlated Gaussians `(X, Y)` with correlation
/// ρ, batches of `K` pairs: the mean loss and the half-width of its interval at [`LEVEL`].
fn infonce_estimate(s: &mut Sampler, rho: f64, k: usize, batches: usize) -> (f64, f64) {
    let c = (1.0 - rho * rho).sqrt();
    // Optimal critic: f(x, y) = log p(y|x) − log p(y).
    let critic =
        |x: f64, y: f64| -(y - rho * x).powi(2) / (2.0 * c * c) + y * y / 2.0 - 0.5 * (c * c).ln();
    let (mut sum, mut sumsq) = (0.0, 0.0);
    let (mut xs, mut ys) = (vec![0.0; k], vec![0.0; k]);
    for _ in 0..batches {
        for i in 0..k {
            let x = s.normal_at(64).to_f64();
            let e = s.normal_at(64).to_f64();
            xs[i] = x;
            ys[i] = rho * x + c * e;
        }
        let mut batch_loss = 0.0;
        for i in 0..k {
            let scores: Vec<f64> = (0..k).map(|j| critic(xs[i], ys[j])).collect();
            let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + scores.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            batch_loss += lse - scores[i];
        }
        let l = batch_loss / k as f64;
        sum += l;
        sumsq += l * l;
    }
    let n = batches as f64;
    let mean = sum / n;
    let sd = ((sumsq / n - mean * mean).max(0.0) * n / (n - 1.0)).sqrt();
    (mean, z_two_sided(LEVEL) * sd / n.sqrt())
}

/// A claimed bound `I ≥ log(m·K) − E[L]` (or its reverse, an upper bound).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    pub log_k_factor: u32,
    pub reversed: bool,
}

const K: usize = 16;

/// The claimed bound on ρ ∈ {0.5, 0.9, 0.999} with K = 16: refuted when violated beyond the
/// estimate's interval.
fn bound_check(run: &mut Run, b: &Bound) -> Result<String, String> {
    let batches = run.scaled(4000);
    let mut s = run.sampler_bits(1, 64);
    let mut lines = Vec::new();
    let mut worst: Option<(f64, String)> = None;
    for rho in [0.5f64, 0.9, 0.999] {
        let mi = -0.5 * (1.0 - rho * rho).ln();
        let (l, half) = infonce_estimate(&mut s, rho, K, batches);
        run.count(batches * K);
        let lower = ((K * b.log_k_factor as usize) as f64).ln() - l;
        let line = format!(
            "ρ = {rho}: I = {mi:.4}, log K − E[L] = {:.4} ± {half:.4}",
            (K as f64).ln() - l
        );
        let excess = if b.reversed {
            (mi - lower) / half
        } else {
            (lower - mi) / half
        };
        if excess > 1.0 && worst.as_ref().is_none_or(|w| excess > w.0) {
            worst = Some((excess, line.clone()));
        }
        lines.push(line);
    }
    match worst {
        Some((_, line)) => Err(line),
        None => Ok(format!("{batches} batches each: {}", lines.join("; "))),
    }
}

/// What `log K − E[L]` tends to as the views become identical (ρ → 1, `I → ∞`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saturation {
    /// `log K` (the theorem: the bound cannot exceed it).
    LogK,
    /// `I` itself (the bound tight, InfoNCE an estimator of the information).
    Information,
}

/// `E[L]` at ρ = 0.99, 0.9999 and 1 − 10⁻⁸ (K = 16): decreasing (it falls roughly like
/// `√(1−ρ²)`), and at the last (`I = 8.86`, against `log 16 = 2.77`) `log K − E[L]` within 0.01
/// nats of the claimed limit, with the interval included.
fn saturation(run: &mut Run, sat: &Saturation) -> Result<String, String> {
    let batches = run.scaled(4000);
    let mut s = run.sampler_bits(1, 64);
    let log_k = (K as f64).ln();
    let mut prev = f64::INFINITY;
    let mut lines = Vec::new();
    let mut last = (0.0, 0.0, 0.0);
    for rho in [0.99f64, 0.9999, 0.999_999_99] {
        let (l, half) = infonce_estimate(&mut s, rho, K, batches);
        run.count(batches * K);
        let mi = -0.5 * (1.0 - rho * rho).ln();
        if l - half >= prev {
            return Err(format!(
                "E[L] = {l:.4} ± {half:.4} at ρ = {rho} does not decrease"
            ));
        }
        prev = l + half;
        lines.push(format!("ρ = {rho}: I = {mi:.3}, E[L] = {l:.5} ± {half:.5}"));
        last = (mi, l, half);
    }
    let (mi, l, half) = last;
    let target = match sat {
        Saturation::LogK => log_k,
        Saturation::Information => mi,
    };
    let gap = (log_k - l - target).abs() + half;
    let detail = format!(
        "{}; at ρ = 1 − 10⁻⁸, |log K − E[L] − limit| ≤ {gap:.4} (limit {target:.4})",
        lines.join("; ")
    );
    if gap <= 0.01 { Ok(detail) } else { Err(detail) }
}

/// What the two Gram matrices of a batch `Z ∈ R^{B×d}` are claimed to share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duality {
    /// `‖ZᵀZ‖²_F = ‖ZZᵀ‖²_F` (both `tr (ZᵀZ)²`) and `log det(I_d + aZᵀZ) = log det(I_B + aZZᵀ)`.
    Exact,
    /// Also the off-diagonal parts alone: `Σ_{i≠j}(ZᵀZ)_ij² = Σ_{i≠j}(ZZᵀ)_ij²` (VICReg's covariance
    /// term taken for the sum of squared similarities between distinct samples).
    OffDiagonalToo,
}

/// `‖M‖²_F`, or its off-diagonal part.
fn frobenius(m: &Mat, off_only: bool) -> Float {
    let mut s = Float::new(m.prec());
    for i in 0..m.rows() {
        for j in 0..m.cols() {
            if !(off_only && i == j) {
                s += Float::with_val(m.prec(), m.at(i, j).square_ref());
            }
        }
    }
    s
}

/// Both Gram matrices of seeded Gaussian batches, tall (`B = 9, d = 4`) and wide (`B = 4, d = 9`):
/// the squared Frobenius norms (or their off-diagonal parts) and the log-determinants
/// (Cholesky), `a = 3/10`.
fn gram_duality(run: &mut Run, f: &Duality) -> Result<String, String> {
    let prec = run.prec();
    let mut s = run.sampler();
    let a = Float::with_val(prec, 3) / 10u32;
    let tol = Tol::linalg(prec, 9, 4);
    let mut lines = Vec::new();
    for &(b, d) in &[(9usize, 4usize), (4, 9)] {
        let z = s.gaussian(b, d);
        let ztz = z.transpose().mul(&z).map_err(|e| e.to_string())?;
        let zzt = z.mul(&z.transpose()).map_err(|e| e.to_string())?;
        let off = *f == Duality::OffDiagonalToo;
        let (fd, fb) = (frobenius(&ztz, off), frobenius(&zzt, off));
        let ld = ztz
            .identity_plus(&a)
            .and_then(|m| m.logdet_spd())
            .map_err(|e| e.to_string())?;
        let lb = zzt
            .identity_plus(&a)
            .and_then(|m| m.logdet_spd())
            .map_err(|e| e.to_string())?;
        run.count(1);
        let line = format!(
            "B = {b}, d = {d}: {} {fd:.10} (d × d) vs {fb:.10} (B × B); log det {ld:.10} vs {lb:.10}",
            if off {
                "off-diagonal Σ_{i≠j}"
            } else {
                "‖·‖²_F"
            }
        );
        if !(tol.accepts(&Float::with_val(prec, &fd - &fb), &fd)
            && tol.accepts(&Float::with_val(prec, &ld - &lb), &ld))
        {
            return Err(line);
        }
        lines.push(line);
    }
    Ok(format!(
        "equal within {}: {}",
        tol.describe(),
        lines.join("; ")
    ))
}

#[cfg(feature = "symbolic")]
mod symbolic {
    use sslproof::sym::algebra::{self as alg, AtomCore, SymMat};

    /// `‖ZᵀZ‖²_F − ‖ZZᵀ‖²_F` for a symbolic `m × d` matrix `Z` (zero-padded to a square one),
    /// expanded: zero for the full norms; the off-diagonal parts differ by the diagonals'.
    pub fn frobenius(shapes: &[(usize, usize)], off_only: bool) -> Result<String, String> {
        for &(m, d) in shapes {
            let n = m.max(d);
            let data = (0..n * n)
                .map(|k| {
                    let (i, j) = (k / n, k % n);
                    if i < m && j < d {
                        alg::expr(&format!("z{i}x{j}"))
                    } else {
                        alg::expr("0")
                    }
                })
                .collect();
            let z = SymMat { n, data };
            let (ztz, zzt) = (z.transpose().mul(&z), z.mul(&z.transpose()));
            let norm = |g: &SymMat| {
                if off_only {
                    let mut s = alg::expr("0");
                    for i in 0..n {
                        for j in 0..n {
                            if i != j {
                                s = &s + &(g.at(i, j) * g.at(i, j));
                            }
                        }
                    }
                    s.expand()
                } else {
                    g.frobenius_sq()
                }
            };
            let diff = (&norm(&ztz) - &norm(&zzt)).expand();
            if !diff.is_zero() {
                return Err(format!(
                    "m = {m}, d = {d}: difference {}",
                    alg::plain(&diff)
                ));
            }
        }
        Ok(format!(
            "{} for symbolic Z of shapes {shapes:?}",
            if off_only {
                "Σ_{i≠j}(ZᵀZ)_ij² = Σ_{i≠j}(ZZᵀ)_ij²"
            } else {
                "‖ZᵀZ‖²_F = ‖ZZᵀ‖²_F"
            }
        ))
    }
}

pub fn run(c: &mut ClaimRun) {
    let prec = c.prec();
    let batches = c.scaled(4000);
    c.prop(
        Role::Precise,
        "InfoNCE splits exactly into an alignment term and a log-sum-exp (spread) term over all keys, the positive included",
        r"-\log\frac{e^{s^+/\tau}}{\sum_j e^{s_j/\tau}} = -\frac{s^+}{\tau}+\log\sum_j e^{s_j/\tau}",
        Split {
            positive_in_lse: true,
        },
    )
    .check("cross-entropy form against the split form", split_check)
    .mutant(
        "positive_outside_lse",
        "the split with the positive left out of the log-sum-exp (the decoupled form)",
        Split {
            positive_in_lse: false,
        },
    );

    c.prop(
        Role::Precise,
        "the InfoNCE bound I(X;Y) ≥ log K − E[L_NCE] holds on correlated Gaussians with known I = −½ log(1−ρ²)",
        r"I(X;Y)\ \ge\ \log K-\mathbb E[\mathcal L_{\rm NCE}]",
        Bound {
            log_k_factor: 1,
            reversed: false,
        },
    )
    .statistical(
        "InfoNCE bound on correlated Gaussians (optimal critic, K = 16)",
        LEVEL,
        bound_check,
    )
    .mutant(
        "bound_with_log_2k",
        "I ≥ log(2K) − E[L]",
        Bound {
            log_k_factor: 2,
            reversed: false,
        },
    )
    .mutant(
        "bound_reversed",
        "I ≤ log K − E[L] (an upper bound)",
        Bound {
            log_k_factor: 1,
            reversed: true,
        },
    );

    c.prop(
        Role::Precise,
        "the bound saturates at log K: as the views become identical E[L_NCE] → 0, so log K − E[L] → log K while I → ∞",
        r"\rho\to1:\quad \mathbb E[\mathcal L_{\rm NCE}]\downarrow 0,\qquad \log K-\mathbb E[\mathcal L_{\rm NCE}]\to\log K < I",
        Saturation::LogK,
    )
    .statistical(
        "E[L_NCE] as ρ → 1 (optimal critic, K = 16)",
        LEVEL,
        saturation,
    )
    .mutant(
        "bound_tight",
        "log K − E[L] tends to I itself: InfoNCE estimates the information",
        Saturation::Information,
    );

    c.prop(
        Role::Precise,
        "dimension-contrastive and sample-contrastive criteria are the same quantities seen from the two Gram matrices (Garrido et al., ICLR 2023): ‖ZᵀZ‖_F = ‖ZZᵀ‖_F (VICReg-style covariance penalties against sums of squared similarities), and log det(I_d + aZᵀZ) = log det(I_B + aZZᵀ) (the coding rate, Sylvester)",
        r"\lVert Z^\top Z\rVert_F^2=\mathrm{tr}(Z^\top Z)^2=\lVert ZZ^\top\rVert_F^2,\qquad \log\det(I_d+aZ^\top Z)=\log\det(I_B+aZZ^\top)",
        Duality::Exact,
    )
    .symbolic(
        "‖ZᵀZ‖²_F − ‖ZZᵀ‖²_F for symbolic Z, shapes (B, d) = (2, 3), (3, 2)",
        Scope::UpToD { d_max: 3 },
        sym!(|&f| symbolic::frobenius(&[(2, 3), (3, 2)], f == Duality::OffDiagonalToo)),
    )
    .symbolic(
        "Sylvester for symbolic Z, shapes (B, d) = (1, 2), (2, 3), (3, 2) (C4's check)",
        Scope::UpToD { d_max: 3 },
        sym!(|_f| crate::entropy::coding_rate_conventions_and_batch_dimension::sylvester_symbolic(&[(1, 2), (2, 3), (3, 2)])),
    )
    .check("both Gram matrices of a tall and a wide Gaussian batch", gram_duality)
    .mutant(
        "off_diagonal_parts_equal",
        "the off-diagonal parts agree too: VICReg's covariance term is the sum of squared similarities between distinct samples (the diagonals ‖z_j‖² and ‖x_i‖² differ)",
        Duality::OffDiagonalToo,
    );

    c.step("\"Dual formulations of the same trade-off\" is an interpretation; no statement of duality (Lagrangian or convex) is made or checkable. Four precise statements stand behind it.", None);
    c.step("One duality is exact, in the sense of Garrido et al. (ICLR 2023): a batch $Z\\in\\mathbb R^{B\\times d}$ has two Gram matrices, $Z^\\top Z$ (dimensions, what VICReg and the coding rate regularise) and $ZZ^\\top$ (samples, what contrastive losses compare). They share their nonzero eigenvalues, hence $\\lVert Z^\\top Z\\rVert_F=\\lVert ZZ^\\top\\rVert_F$ and $\\log\\det(I_d+aZ^\\top Z)=\\log\\det(I_B+aZZ^\\top)$ (symbolic for small shapes, and at the working precision on tall and wide batches). The off-diagonal parts alone do not agree (a refuted mutant): VICReg's covariance term equals a sample-contrastive sum only up to the diagonal terms.", None);
    c.step(format!("InfoNCE is exactly an alignment term plus a log-sum-exp term over all keys, the positive included (checked at {prec} bits). The log-sum-exp term is the contrastive counterpart of a spread/entropy term (Wang & Isola's uniformity is its large-batch limit); the non-contrastive losses replace it by a function of the covariance."), Some(r"\mathcal L_{\rm NCE}=\underbrace{-s^+/\tau}_{\text{alignment}}+\underbrace{\log\textstyle\sum_j e^{s_j/\tau}}_{\text{spread}}".into()));
    c.step(format!("InfoNCE lower-bounds mutual information: $I(X;Y)\\ge\\log K-\\mathbb E[\\mathcal L_{{\\rm NCE}}]$. On correlated Gaussians with the optimal critic $f=\\log p(y\\mid x)/p(y)$, {batches} batches of $K=16$, the estimate stays below $I=-\\tfrac12\\log(1-\\rho^2)$ at every $\\rho$ tried."), None);
    c.step("And it saturates: as $\\rho\\to1$ the loss tends to 0 (the positive dominates every negative), so the bound tends to $\\log K$ while $I\\to\\infty$; at $\\rho=1-10^{-8}$, $I=8.86$ nats against $\\log16=2.77$, and the measured bound is within 0.01 nats of $\\log K$. The bound measures at most $\\log K$ nats whatever the information.", None);
    c.step("The coding rate is a Gaussian-channel mutual information of the *representation* (C2), InfoNCE a bound on the mutual information *between views*: related information quantities, not the same one.", None);
}
