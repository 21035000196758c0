//! # D4: collapse under alignment alone, and what each regulariser does about it
//!
//! A small deterministic experiment: a linear encoder `z = Wx + b` (`W ∈ R^{4×8}`) trained by
//! full-batch gradient descent on two noisy views of the same 8-dimensional Gaussian inputs,
//! with the MSE alignment term alone and with each regulariser of the notes added: VICReg's
//! variance and covariance terms (official form), the coding rate `−R_ε` of the centred
//! covariance, and CorInfoMax's `−log det(Σ + εI)`. The data come from the seeded MPFR sampler
//! and the dynamics use only `+ − × ÷ √` in IEEE `f64` (no `libm` calls); nalgebra's matrix
//! products may use fused multiply-adds where the CPU has them, so trajectories can differ in the
//! last bits between machines, far below the 4 significant digits that are printed (the dynamics
//! are contracting, so such differences do not grow). The regularisers' gradients are the closed
//! forms verified against 256-bit finite differences in D5. Logarithms appear only in the reported
//! effective rank.

use nalgebra::{DMatrix, DVector};

use sslproof::hp::sample::Sampler;

/// The regimes of the experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regime {
    AlignmentOnly,
    VicReg,
    CodingRate,
    CorInfoMax,
}

impl Regime {
    pub const ALL: [Regime; 4] = [
        Regime::AlignmentOnly,
        Regime::VicReg,
        Regime::CodingRate,
        Regime::CorInfoMax,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Regime::AlignmentOnly => "alignment only",
            Regime::VicReg => "+ VICReg variance/covariance",
            Regime::CodingRate => "+ coding rate −R_ε",
            Regime::CorInfoMax => "+ CorInfoMax −log det(Σ+εI)",
        }
    }
}

/// Settings (all fixed: the experiment is a regression test).
pub const D_IN: usize = 8;
pub const D_OUT: usize = 4;
pub const BATCH: usize = 128;
pub const STEPS: usize = 400;
pub const LR: f64 = 0.05;
/// View noise standard deviation.
pub const NOISE: f64 = 0.5;
/// Regulariser weight.
pub const LAMBDA: f64 = 1.0;
/// Coding-rate `α = d/ε²` with `ε² = 0.5`.
pub const ALPHA: f64 = D_OUT as f64 / 0.5;
/// CorInfoMax's `ε`.
pub const CIM_EPS: f64 = 1e-3;
/// VICReg's `ε` inside the square root.
pub const VIC_EPS: f64 = 1e-4;

/// One recorded step.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub step: usize,
    /// `tr Σ_z` (centred, 1/B) of view 1's outputs.
    pub total_variance: f64,
    /// `exp(entropy of λ/Σλ)` of Σ_z: 4 for isotropic outputs, 1 for rank one, → 0 variance is
    /// reported as 0.
    pub effective_rank: f64,
    /// `‖mean of z_i/‖z_i‖‖`: 1 at complete collapse to a constant.
    pub centre_norm: f64,
}

fn covariance(z: &DMatrix<f64>) -> (DMatrix<f64>, DMatrix<f64>) {
    let b = z.nrows() as f64;
    let mean = z.row_mean();
    let zc = DMatrix::from_fn(z.nrows(), z.ncols(), |i, j| z[(i, j)] - mean[j]);
    let sigma = zc.transpose() * &zc / b;
    (zc, sigma)
}

/// `(A)⁻¹` for SPD `A` by nalgebra's Cholesky (only `+ − × ÷ √`).
fn spd_inverse(a: &DMatrix<f64>) -> DMatrix<f64> {
    a.clone().cholesky().expect("SPD").inverse()
}

/// `∂Ω/∂Z` for one view's outputs `Z` (B × d).
fn regulariser_grad(regime: Regime, z: &DMatrix<f64>) -> DMatrix<f64> {
    let (b, d) = (z.nrows(), z.ncols());
    let (zc, sigma) = covariance(z);
    match regime {
        Regime::AlignmentOnly => DMatrix::zeros(b, d),
        Regime::CodingRate => {
            // Ω = −R_ε = −½ log det(I + αΣ):  ∇_Z Ω = −(α/B) Z_c (I + αΣ)⁻¹   (D5)
            let inv = spd_inverse(&(DMatrix::identity(d, d) + &sigma * ALPHA));
            -(&zc * inv) * (ALPHA / b as f64)
        }
        Regime::CorInfoMax => {
            // Ω = −log det(Σ + εI):  ∇_Z Ω = −(2/B) Z_c (Σ + εI)⁻¹
            let inv = spd_inverse(&(&sigma + DMatrix::identity(d, d) * CIM_EPS));
            -(&zc * inv) * (2.0 / b as f64)
        }
        Regime::VicReg => {
            // Official form (D5): v = (1/d) Σ_j relu(1 − s_j), s_j = √(Var_j + ε) (unbiased);
            // c = (1/d) Σ_{i≠j} C_ij², C = Z_cᵀZ_c/(B−1).
            let bm1 = (b - 1) as f64;
            let c = zc.transpose() * &zc / bm1;
            let mut g = DMatrix::zeros(b, d);
            for j in 0..d {
                let s = (c[(j, j)] + VIC_EPS).sqrt();
                if s < 1.0 {
                    for i in 0..b {
                        g[(i, j)] -= zc[(i, j)] / (d as f64 * bm1 * s);
                    }
                }
            }
            let mut off = c.clone();
            for j in 0..d {
                off[(j, j)] = 0.0;
            }
            g + (&zc * off) * (4.0 / (d as f64 * bm1))
        }
    }
}

fn snapshot(step: usize, z: &DMatrix<f64>) -> Snapshot {
    let (_, sigma) = covariance(z);
    let total = sigma.trace();
    let eig = sigma.symmetric_eigenvalues();
    let effective_rank = if total <= 1e-300 {
        0.0
    } else {
        let h: f64 = eig
            .iter()
            .map(|&l| l.max(0.0) / total)
            .filter(|p| *p > 0.0)
            .map(|p| -p * p.ln())
            .sum();
        h.exp()
    };
    let b = z.nrows();
    let mut centre = DVector::zeros(z.ncols());
    for i in 0..b {
        let row = z.row(i);
        let n = row.norm();
        if n > 0.0 {
            centre += row.transpose() / n;
        }
    }
    Snapshot {
        step,
        total_variance: total,
        effective_rank,
        centre_norm: (centre / b as f64).norm(),
    }
}

/// Runs one regime from the seeded initial state and data; returns snapshots every 20 steps.
pub fn run(regime: Regime, seed: u64) -> Vec<Snapshot> {
    let mut s = Sampler::new(seed, 64);
    let mut normal = || s.normal_at(64).to_f64();
    let x = DMatrix::from_fn(BATCH, D_IN, |_, _| normal());
    let n1 = DMatrix::from_fn(BATCH, D_IN, |_, _| normal() * NOISE);
    let n2 = DMatrix::from_fn(BATCH, D_IN, |_, _| normal() * NOISE);
    let x1 = &x + &n1;
    let x2 = &x + &n2;
    let mut w = DMatrix::from_fn(D_OUT, D_IN, |_, _| normal() * 0.3);
    let bias = DVector::from_fn(D_OUT, |_, _| normal());
    let forward = |w: &DMatrix<f64>, xv: &DMatrix<f64>| {
        let mut z = xv * w.transpose();
        for i in 0..z.nrows() {
            for j in 0..z.ncols() {
                z[(i, j)] += bias[j];
            }
        }
        z
    };
    let mut out = Vec::new();
    for step in 0..=STEPS {
        let z1 = forward(&w, &x1);
        let z2 = forward(&w, &x2);
        if step % 20 == 0 {
            out.push(snapshot(step, &z1));
        }
        if step == STEPS {
            break;
        }
        // Alignment: (1/B) Σ_i ‖z1_i − z2_i‖²: ∂/∂Z1 = (2/B)(Z1 − Z2), ∂/∂Z2 = −(2/B)(Z1 − Z2).
        // The bias cancels in the alignment and in the centred regularisers: it is not trained.
        let diff = (&z1 - &z2) * (2.0 / BATCH as f64);
        let g1 = &diff + regulariser_grad(regime, &z1) * LAMBDA;
        let g2 = -&diff + regulariser_grad(regime, &z2) * LAMBDA;
        // Z_v = X_v Wᵀ + 1bᵀ: ∂L/∂W = Σ_v (∂L/∂Z_v)ᵀ X_v.
        let grad_w = g1.transpose() * &x1 + g2.transpose() * &x2;
        w -= grad_w * LR;
    }
    out
}
