//! # A5: how many coefficients each loss needs
//!
//! ## Main statements
//! * `free_coefficients_under_feature_rescaling`: counted as weights relative to the alignment
//!   term, VICReg has two (its three term weights matter only through their ratios) and the
//!   coding-rate objective `L_align − γR_ε` one, plus ε, as the notes say. Counted in full the
//!   picture is sharper: VICReg also has γ (the hinge target) and ε (inside the square root),
//!   and with a free feature scale `(Z, γ, ε, λ_var, λ_cov) ~ (cZ, cγ, c²ε, λ_var/c, c²λ_cov)` up
//!   to the factor `c²`, so γ can be fixed at 1 and three coefficients remain; the coding rate is
//!   invariant under `(Z, ε) ~ (cZ, cε)`, so with a free scale and a scale-invariant alignment ε
//!   is redundant (with unit-norm features the scale is fixed and ε is a real parameter); MCR²'s
//!   `γ₁` sits inside the log-determinant and only `γ₁/ε²` matters.
//!
//! ## Implementation notes
//! Every identity at the working precision on seeded Gaussian batches, with the reference
//! losses of `sslproof-losses` (VICReg official, the MCR² rate). The weight count is the rank
//! of the matrix of term values over several batches, minus one for the overall scale (which
//! a learning rate absorbs), with the scale invariance itself checked.
//!
//! ## References
//! `../shared/reference-implementations.md` §1.1 (VICReg), §1.7 (MCR²), §1.8 (SimDINO),
//! §1.10 (CorInfoMax).
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 6 (Practical consequences).

use rug::Float;
use sslproof::prelude::*;
use sslproof_losses::{coding_rate, vicreg};

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "free_coefficients_under_feature_rescaling",
    label: "A5",
    family: "taylor",
    title: "VICReg needs two weights, the coding rate one strength plus ε",
    quote: "Hyperparameters: surrogates (VICReg) need two weights ($\\lambda_{\\rm var}, \\lambda_{\\rm cov}$); coding rate needs just one strength parameter $\\gamma$ (plus $\\varepsilon$).",
    place: "A unified framework for covariance-regularized SSL, item 6 (Practical consequences)",
    statement: r"\#\{\text{VICReg weights}\}=2,\qquad \#\{\text{coding-rate weights}\}=1\ (+\varepsilon)",
    nature: Nature::Mathematical,
    expected: Class::VerifiedNumerically,
};

const B: usize = 8;
const D: usize = 5;

fn vic(z1: &Mat, z2: &Mat, p: &vicreg::Params) -> Result<Float, String> {
    vicreg::loss(z1, z2, vicreg::Convention::Official, p)
        .map(|l| l.value)
        .map_err(|e| e.to_string())
}

fn rate(z: &Mat, eps: &Float) -> Result<Float, String> {
    coding_rate::rate_and_grad(z, eps)
        .map(|(r, _)| r)
        .map_err(|e| e.to_string())
}

fn params(prec: u32, w: [f64; 3], gamma: &Float, eps: &Float) -> vicreg::Params {
    vicreg::Params {
        sim: Float::with_val(prec, w[0]),
        std: Float::with_val(prec, w[1]),
        cov: Float::with_val(prec, w[2]),
        gamma: gamma.clone(),
        eps: eps.clone(),
    }
}

/// The numerical rank of a small matrix of term values (rows: batches), by Gaussian elimination
/// with partial pivoting; a pivot below `2^(−prec/2)` of the largest entry counts as zero.
fn rank(rows: &[Vec<Float>]) -> usize {
    let mut m: Vec<Vec<Float>> = rows.to_vec();
    let prec = m[0][0].prec();
    let big = m.iter().flatten().fold(Float::new(prec), |a, x| {
        if x.clone().abs() > a {
            x.clone().abs()
        } else {
            a
        }
    });
    let floor = big >> (prec / 2);
    let (nr, nc) = (m.len(), m[0].len());
    let mut r = 0;
    for c in 0..nc {
        let Some(p) = (r..nr).max_by(|&a, &b| {
            m[a][c]
                .clone()
                .abs()
                .partial_cmp(&m[b][c].clone().abs())
                .expect("finite")
        }) else {
            break;
        };
        if m[p][c].clone().abs() <= floor {
            continue;
        }
        m.swap(r, p);
        for i in r + 1..nr {
            let f = Float::with_val(prec, &m[i][c] / &m[r][c]);
            for j in c..nc {
                let t = Float::with_val(prec, &f * &m[r][j]);
                m[i][j] -= t;
            }
        }
        r += 1;
    }
    r
}

/// Claimed numbers of free weights (relative to the overall scale).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightCounts {
    pub vicreg: usize,
    pub coding_rate: usize,
}

/// VICReg's three terms (invariance, variance, covariance; the official loss with one weight 1
/// and the others 0) and the coding-rate objective's two (MSE alignment, `R_ε` at eps 0.5) on five
/// seeded batches: the rank of the term values, minus one for the overall scale, which is
/// checked (`L(tλ) = tL(λ)`, t = 3).
fn weight_count(run: &mut Run, claimed: &WeightCounts) -> Result<String, String> {
    let prec = run.prec();
    let mut s = run.sampler();
    let (gamma, eps) = (
        Float::with_val(prec, 1),
        Float::with_val(prec, 1) / 10_000u32,
    );
    let half = Float::with_val(prec, 1) / 2u32;
    let tol = Tol::linalg(prec, D, 10);
    let (mut vic_rows, mut cr_rows) = (Vec::new(), Vec::new());
    for k in 0..5 {
        // Batches with different scales, so the hinge is active in some and not in others.
        let scale = Float::with_val(prec, k + 1) / 3u32;
        let z1 = s.gaussian(B, D).scale(&scale);
        let z2 = z1
            .add(&s.gaussian(B, D).scale(&half))
            .map_err(|e| e.to_string())?;
        let terms: Vec<Float> = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
            .iter()
            .map(|w| vic(&z1, &z2, &params(prec, *w, &gamma, &eps)))
            .collect::<Result<_, _>>()?;
        let at = vic(&z1, &z2, &params(prec, [25.0, 25.0, 1.0], &gamma, &eps))?;
        let tripled = vic(&z1, &z2, &params(prec, [75.0, 75.0, 3.0], &gamma, &eps))?;
        let three_at = Float::with_val(prec, &at * 3u32);
        if !tol.accepts(&Float::with_val(prec, &tripled - &three_at), &tripled) {
            return Err(format!(
                "VICReg: L(3λ) = {tripled:.10} ≠ 3L(λ) = {three_at:.10}"
            ));
        }
        vic_rows.push(terms);
        let d = z1.sub(&z2).map_err(|e| e.to_string())?;
        let mse = d.frobenius_sq() / (B * D) as u64;
        cr_rows.push(vec![mse, rate(&z1, &half)?]);
        run.count(6);
    }
    let (rv, rc) = (rank(&vic_rows), rank(&cr_rows));
    let computed = WeightCounts {
        vicreg: rv - 1,
        coding_rate: rc - 1,
    };
    let detail = format!(
        "term values on 5 batches: VICReg rank {rv} (invariance, variance, covariance), L(3λ) = 3L(λ), so {} free weights; L_align − γR_ε rank {rc}, so {} (plus ε)",
        computed.vicreg, computed.coding_rate
    );
    if computed == *claimed {
        Ok(detail)
    } else {
        Err(detail)
    }
}

/// How the coding rate's `eps` (the code's, = ε²) is claimed to follow a feature scale `c`:
/// `R(cZ; c^power·eps) = R(Z; eps)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateScaling {
    pub power: u32,
}

/// `R(cZ; c^p·eps)` against `R(Z; eps)` for c = 1/3, 2, 10 on a Gaussian batch (eps = 0.5), and,
/// with unit-norm rows (the scale fixed), `R` at eps 0.5 against 0.05: ε is then a real
/// parameter.
fn rate_scaling(run: &mut Run, f: &RateScaling) -> Result<String, String> {
    let prec = run.prec();
    let z = run.sampler().gaussian(B, D);
    let eps = Float::with_val(prec, 1) / 2u32;
    let base = rate(&z, &eps)?;
    let tol = Tol::linalg(prec, D, 10);
    for c in [
        Float::with_val(prec, 1) / 3u32,
        Float::with_val(prec, 2),
        Float::with_val(prec, 10),
    ] {
        let cp = (0..f.power).fold(Float::with_val(prec, 1), |a, _| a * &c);
        let e = Float::with_val(prec, &eps * &cp);
        let r = rate(&z.scale(&c), &e)?;
        run.count(1);
        if !tol.accepts(&Float::with_val(prec, &r - &base), &base) {
            return Err(format!(
                "c = {c:.4}: R(cZ; c^{}·eps) = {r:.10}, R(Z; eps) = {base:.10}",
                f.power
            ));
        }
    }
    let unit = Mat::from_fn(B, D, prec, |i, j| {
        let n = (0..D).fold(Float::new(prec), |a, k| {
            a + Float::with_val(prec, z.at(i, k).square_ref())
        });
        Float::with_val(prec, z.at(i, j) / n.sqrt())
    });
    let (r1, r2) = (
        rate(&unit, &eps)?,
        rate(&unit, &(Float::with_val(prec, 1) / 20u32))?,
    );
    Ok(format!(
        "R(cZ; c^{}·eps) = R(Z; eps) = {base:.10} for c = 1/3, 2, 10; unit-norm rows: R = {r1:.6} at eps 0.5, {r2:.6} at eps 0.05",
        f.power
    ))
}

/// Where MCR²'s `γ₁` is claimed to act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gamma1 {
    /// Inside the log-determinant with `d/(m·eps)`: `R_γ₁(Z; eps) = R(Z; eps/γ₁)`.
    Inside,
    /// As a weight outside it: `R_γ₁ = γ₁·R`.
    Outside,
}

/// `½ log det(I + γ₁·d/(m·eps)·ZᵀZ)` (the MCR² code) at γ₁ = 3, eps = 0.5, against the claim.
fn gamma1(run: &mut Run, g: &Gamma1) -> Result<String, String> {
    let prec = run.prec();
    let z = run.sampler().gaussian(B, D);
    let (g1, eps) = (Float::with_val(prec, 3), Float::with_val(prec, 1) / 2u32);
    let c = Float::with_val(prec, &g1 * D as u64) / Float::with_val(prec, &eps * B as u64);
    let code = z
        .transpose()
        .mul(&z)
        .and_then(|m| m.identity_plus(&c))
        .and_then(|m| m.logdet_spd())
        .map_err(|e| e.to_string())?
        / 2u32;
    let claimed = match g {
        Gamma1::Inside => rate(&z, &Float::with_val(prec, &eps / &g1))?,
        Gamma1::Outside => rate(&z, &eps)? * &g1,
    };
    run.count(1);
    let detail = format!("γ₁ = 3, eps = 0.5: MCR² code {code:.10}, claimed {claimed:.10}");
    if Tol::linalg(prec, D, 10).accepts(&Float::with_val(prec, &code - &claimed), &code) {
        Ok(detail)
    } else {
        Err(detail)
    }
}

/// How VICReg is claimed to behave under `Z → cZ`, `γ → cγ`, `ε → c²ε`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VicScaling {
    /// `c²·L(Z; λ_sim, λ_var/c, c²λ_cov, γ, ε)`: the weights absorb the scale.
    Reweighted,
    /// `c²·L(Z; λ, γ, ε)` with the weights unchanged.
    Unchanged,
}

/// Both sides at c = 2 and c = 1/5 on a batch pair (defaults 25, 25, 1, γ = 1, ε = 10⁻⁴),
/// scaled so that the hinge is active.
fn vic_scaling(run: &mut Run, f: &VicScaling) -> Result<String, String> {
    let prec = run.prec();
    let mut s = run.sampler();
    let z1 = s.gaussian(B, D).scale(&(Float::with_val(prec, 1) / 2u32));
    let z2 = z1
        .add(&s.gaussian(B, D).scale(&(Float::with_val(prec, 1) / 4u32)))
        .map_err(|e| e.to_string())?;
    let (gamma, eps) = (
        Float::with_val(prec, 1),
        Float::with_val(prec, 1) / 10_000u32,
    );
    let tol = Tol::linalg(prec, D, 10);
    let mut lines = Vec::new();
    for c in [Float::with_val(prec, 2), Float::with_val(prec, 1) / 5u32] {
        let c2 = Float::with_val(prec, c.square_ref());
        let lhs = vic(
            &z1.scale(&c),
            &z2.scale(&c),
            &params(
                prec,
                [25.0, 25.0, 1.0],
                &Float::with_val(prec, &gamma * &c),
                &Float::with_val(prec, &eps * &c2),
            ),
        )?;
        let p = match f {
            VicScaling::Reweighted => vicreg::Params {
                sim: Float::with_val(prec, 25),
                std: Float::with_val(prec, 25) / &c,
                cov: Float::with_val(prec, &c2 * 1u32),
                gamma: gamma.clone(),
                eps: eps.clone(),
            },
            VicScaling::Unchanged => params(prec, [25.0, 25.0, 1.0], &gamma, &eps),
        };
        let rhs = vic(&z1, &z2, &p)? * &c2;
        run.count(2);
        let line = format!("c = {c:.3}: L(cZ; cγ, c²ε) = {lhs:.10}, claimed {rhs:.10}");
        if !tol.accepts(&Float::with_val(prec, &lhs - &rhs), &lhs) {
            return Err(line);
        }
        lines.push(line);
    }
    Ok(lines.join("; "))
}

pub fn run(c: &mut ClaimRun) {
    let prec = c.prec();
    c.prop(
        Role::AsWritten,
        "counted as weights relative to the overall scale: VICReg has two free weights (its three term weights matter only through their ratios), the coding-rate objective L_align − γR_ε one (γ), plus ε",
        r"\#\{\lambda_{\rm sim},\lambda_{\rm var},\lambda_{\rm cov}\}/\text{scale}=2,\qquad \#\{1,\gamma\}/\text{scale}=1",
        WeightCounts {
            vicreg: 2,
            coding_rate: 1,
        },
    )
    .check("rank of the term values on five batches, and L(tλ) = tL(λ)", weight_count)
    .mutant(
        "vicreg_three_weights",
        "VICReg needs three weights (the overall scale counted as one)",
        WeightCounts {
            vicreg: 3,
            coding_rate: 1,
        },
    );

    c.prop(
        Role::Precise,
        "the coding rate is invariant under (ε, Z) ~ (cε, cZ) (the code's eps = ε² scales by c²): with a free feature scale and a scale-invariant alignment ε is redundant; with unit-norm features the scale is fixed and ε is a real parameter",
        r"R_{c\varepsilon}(cZ)=R_\varepsilon(Z)\quad(\text{eps}=\varepsilon^2\to c^2\,\text{eps})",
        RateScaling { power: 2 },
    )
    .check("R(cZ; c²eps) against R(Z; eps), and unit-norm rows at two eps", rate_scaling)
    .mutant(
        "rate_scale_invariant",
        "the coding rate is invariant under Z → cZ alone (ε unchanged)",
        RateScaling { power: 0 },
    )
    .mutant(
        "eps_not_squared",
        "(eps, Z) ~ (c·eps, cZ): the code's eps taken for ε, not ε²",
        RateScaling { power: 1 },
    );

    c.prop(
        Role::Precise,
        "MCR²'s γ₁ multiplies d/(m·eps) inside the log-determinant: only γ₁/ε² matters, so γ₁ is redundant with ε (the code's three coefficients γ₁, γ₂, eps are two)",
        r"\tfrac12\log\det\big(I+\gamma_1\tfrac d{m\,\text{eps}}Z^\top Z\big)=R\big(Z;\,\text{eps}/\gamma_1\big)",
        Gamma1::Inside,
    )
    .check("the MCR² code's rate against the claim", gamma1)
    .mutant(
        "gamma1_a_weight",
        "γ₁ is a weight: ½ log det(I + γ₁ d/(m eps) ZᵀZ) = γ₁·R(Z; eps)",
        Gamma1::Outside,
    );

    c.prop(
        Role::Precise,
        "VICReg also has γ (hinge target) and ε (inside the square root); with a free feature scale, L(cZ; λ_sim, λ_var, λ_cov, cγ, c²ε) = c²·L(Z; λ_sim, λ_var/c, c²λ_cov, γ, ε): γ can be fixed at 1 and three coefficients remain (λ_var, λ_cov, ε, relative to λ_sim)",
        r"\mathcal L(cZ;\lambda,c\gamma,c^2\varepsilon)=c^2\,\mathcal L\big(Z;\lambda_{\rm sim},\tfrac{\lambda_{\rm var}}c,c^2\lambda_{\rm cov},\gamma,\varepsilon\big)",
        VicScaling::Reweighted,
    )
    .check("both sides at c = 2 and 1/5", vic_scaling)
    .mutant(
        "vicreg_scale_covariant",
        "L(cZ; λ, cγ, c²ε) = c²L(Z; λ, γ, ε): the weights need not change",
        VicScaling::Unchanged,
    );

    let gamma_h = |d: u64, m: u64| (d + m) as f64 / (d * m) as f64;
    c.step("Counted as the notes count, relative to the alignment term and up to the overall scale (which the learning rate absorbs; checked: $L(t\\lambda)=tL(\\lambda)$), VICReg's three term weights give two free ratios and $\\mathcal L_{\\rm align}-\\gamma R_\\varepsilon$ gives one, $\\gamma$, plus $\\varepsilon$: the sentence holds as written (the term values on five batches have full rank, so no weight is redundant beyond the scale).", None);
    c.step(format!("Counted in full it is sharper. VICReg's code has five coefficients (sim 25, std 25, cov 1, $\\gamma=1$, $\\varepsilon=10^{{-4}}$). Its terms scale as $c^2$, $c$ and $c^4$ under $Z\\to cZ$ with $\\gamma\\to c\\gamma$, $\\varepsilon\\to c^2\\varepsilon$, so a free feature scale trades $\\gamma$ against the weights (checked at {prec} bits): $\\gamma$ can be fixed at 1, leaving $\\lambda_{{\\rm var}}$, $\\lambda_{{\\rm cov}}$ and $\\varepsilon$. The coding rate is invariant under $(\\varepsilon,Z)\\sim(c\\varepsilon,cZ)$, so with a free scale and a cosine alignment $\\varepsilon$ is redundant and $\\gamma$ alone remains; MCR², SimDINO and EMP-SSL normalise the features, which fixes the scale and makes $\\varepsilon$ a real parameter. MCR²'s $\\gamma_1$ sits inside the log-determinant and only $\\gamma_1/\\varepsilon^2$ matters."), None);
    c.step(format!("As implemented, SimDINO's one tunable weight (`coeff`) multiplies the *alignment*; the rate's weight is the heuristic $\\gamma_h=(d+m)/(dm)$, fixed by $d$ and the batch ($\\gamma_h={:.6}$ at $d=256$, $m=64$; {:.6} at $m=512$): the same one ratio, set by the batch size rather than tuned. CorInfoMax's code has $\\alpha$ (`sim_loss_weight`), `cov_loss_weight`, $\\varepsilon$, $\\lambda_R$, $\\lambda_\\mu$; $\\log\\det(c^2R+c^2\\varepsilon I)$ shifts by a constant, so with a free scale $(\\alpha,\\varepsilon)\\sim(\\alpha/c^2,c^2\\varepsilon)$ (not checked here).", gamma_h(256, 64), gamma_h(256, 512)), None);
    let row =
        |a: &str, b: &str, c: &str, d: &str| vec![a.to_string(), b.into(), c.into(), d.into()];
    c.table_rows(
        "Coefficients as published and as implemented (reference-implementations.md §1), and what a free feature scale removes",
        &["loss", "published", "implemented (defaults)", "free, up to overall scale"],
        vec![
            row("VICReg", "λ, μ, ν (25, 25, 1)", "sim, std, cov, γ = 1, ε = 1e-4", "2 weights + γ, ε; with a free scale γ ≡ 1: 3"),
            row("coding rate (notes)", "γ, ε", "—", "γ, ε; with a free scale and cosine alignment: γ"),
            row("MCR²", "γ₁, γ₂, ε", "gam1, gam2, eps (= ε²)", "γ₂ and γ₁/ε² (2)"),
            row("SimDINO", "γ, ε", "coeff (alignment), γ_h = (d+m)/(dm) fixed, eps", "coeff/γ_h and eps (2; γ_h not tuned)"),
            row("CorInfoMax", "α, ε", "sim_loss_weight, cov_loss_weight, R_eps, la_R, la_mu", "α, ε, λ_R, λ_μ (4); (α, ε) ~ (α/c², c²ε) with a free scale"),
        ],
    );
}
