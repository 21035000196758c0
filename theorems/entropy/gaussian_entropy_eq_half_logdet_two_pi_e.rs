//! # C1: log det Σ is the Gaussian differential entropy, up to constants
//!
//! ## Main statements
//! * `gaussian_entropy_eq_half_logdet_two_pi_e`: `h(N(μ, Σ)) = ½ log det Σ + (d/2) log(2πe)`
//!   nats: affine in `log det Σ` with multiplier ½, independent of `μ`.
//!
//! ## Implementation notes
//! Two independent oracles: statrs's `MultivariateNormal::entropy` (f64, its own LU), and a Monte
//! Carlo estimate of `−E[log p]` using statrs's density with a CLT interval at level 0.999. Our
//! side is the MPFR log-determinant at the working precision.
//!
//! ## References
//! Cover & Thomas, *Elements of Information Theory*, 2nd ed., Thm 8.4.1.
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 5 (Information-theoretic interpretation).

use nalgebra::DVector;
use rug::Float;
use sslproof::check::stats::z_two_sided;
use sslproof::prelude::*;
use statrs::distribution::{Continuous, MultivariateNormal};

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "gaussian_entropy_eq_half_logdet_two_pi_e",
    label: "C1",
    family: "entropy",
    title: "log det Σ is the Gaussian differential entropy, up to constants",
    quote: "$\\log\\det\\Sigma$ (up to constants) is the differential entropy of a Gaussian with covariance $\\Sigma$.",
    place: "A unified framework for covariance-regularized SSL, item 5 (Information-theoretic interpretation)",
    statement: r"h\big(\mathcal N(\mu,\Sigma)\big) = a\log\det\Sigma + b\quad\text{for constants } a, b",
    nature: Nature::Mathematical,
    expected: Class::VerifiedNumerically,
};

/// The confidence level of the Monte Carlo interval.
const LEVEL: f64 = 0.999;

/// `a·log det Σ + (d/2)·c` with `a = ½`, `c = log(2πe)` (the theorem) or a mutant's constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntropyForm {
    Theorem,
    /// `(d/2) log(2π)`: the `e` dropped.
    NoE,
    /// `log det Σ` with multiplier 1.
    NoHalf,
}

impl EntropyForm {
    fn eval(self, logdet: &Float, d: usize) -> Float {
        let prec = logdet.prec();
        let two_pi = Float::with_val(prec, rug::float::Constant::Pi) * 2u32;
        let c = match self {
            EntropyForm::NoE => two_pi.ln(),
            _ => two_pi.ln() + 1u32,
        };
        let half_d = Float::with_val(prec, d as u64) / 2u32;
        let ld = if self == EntropyForm::NoHalf {
            logdet.clone()
        } else {
            Float::with_val(prec, logdet / 2u32)
        };
        ld + half_d * c
    }
}

/// Five PSD test matrices, d = 1, 2, 3, 5, 8 (spread spectra, λ_max = 2).
fn test_sigmas(run: &mut Run) -> Vec<Mat> {
    let prec = run.prec();
    let seed = run.seed();
    [1usize, 2, 3, 5, 8]
        .iter()
        .enumerate()
        .map(|(k, &d)| {
            Recipe {
                d,
                seed: seed.wrapping_add(k as u64),
                spectrum: Spectrum::Spread,
                top: 1,
            }
            .realize(prec)
            .0
        })
        .collect()
}

fn mvn(sigma: &Mat) -> MultivariateNormal<nalgebra::Dyn> {
    MultivariateNormal::new(vec![0.0; sigma.rows()], sigma.to_f64()).expect("SPD covariance")
}

/// The formula against statrs's `entropy()`. statrs computes in f64 on matrices with condition
/// number below 2¹⁰: 53 − 10 − 3·3 bits survive; 2⁻³⁰ relative to `|h| + d` leaves a margin.
fn against_statrs(run: &mut Run, form: &EntropyForm) -> Result<String, String> {
    let mut worst = 0f64;
    for sigma in test_sigmas(run) {
        let d = sigma.rows();
        let exact = form
            .eval(&sigma.logdet_spd().map_err(|e| e.to_string())?, d)
            .to_f64();
        let theirs = mvn(&sigma).entropy().ok_or("statrs gave no entropy")?;
        run.count(1);
        let rel = (exact - theirs).abs() / (theirs.abs() + d as f64);
        worst = worst.max(rel);
        if rel > 2f64.powi(-30) {
            return Err(format!("d = {d}: formula {exact:.10}, statrs {theirs:.10}"));
        }
    }
    Ok(format!(
        "d = 1, 2, 3, 5, 8: relative difference below 2^-30 (worst {worst:.1e})"
    ))
}

/// Monte Carlo `−E[log p(x)]` with statrs's `ln_pdf` (its own density code), draws `x = Lg`, and
/// a two-sided CLT interval at [`LEVEL`]; on the theorem's form it also draws the figure.
fn monte_carlo(run: &mut Run, form: &EntropyForm) -> Result<String, String> {
    let n = run.scaled(200_000);
    let sigma = test_sigmas(run).swap_remove(2); // d = 3
    let d = sigma.rows();
    let exact = form
        .eval(&sigma.logdet_spd().map_err(|e| e.to_string())?, d)
        .to_f64();
    let l = sigma.cholesky().map_err(|e| e.to_string())?.l().to_f64();
    let dist = mvn(&sigma);
    let mut s = run.sampler_bits(1, 64);
    let (mut sum, mut sumsq) = (0.0f64, 0.0f64);
    let mut trace = Vec::new();
    let z = z_two_sided(LEVEL);
    let mut next_mark = 100usize;
    for i in 1..=n {
        let g: Vec<f64> = (0..d).map(|_| s.normal_at(64).to_f64()).collect();
        let x: Vec<f64> = (0..d)
            .map(|r| (0..=r).map(|c| l[r * d + c] * g[c]).sum())
            .collect();
        let v = -dist.ln_pdf(&DVector::from_vec(x));
        sum += v;
        sumsq += v * v;
        if i == next_mark || i == n {
            let mean = sum / i as f64;
            let sd =
                ((sumsq / i as f64 - mean * mean).max(0.0) * i as f64 / (i as f64 - 1.0)).sqrt();
            trace.push((i as f64, mean, z * sd / (i as f64).sqrt()));
            next_mark = (next_mark as f64 * 1.25) as usize;
        }
    }
    run.count(n);
    let &(_, mean, half) = trace.last().ok_or("no draws")?;
    if *form == EntropyForm::Theorem {
        run.figure(figure(&trace, exact, n)?);
    }
    let line = format!(
        "d = 3, n = {n}: Monte Carlo −E[log p] = {mean:.5} ± {half:.5} ({}% CLT interval), formula {exact:.5}",
        LEVEL * 100.0
    );
    if (exact - mean).abs() <= half {
        Ok(line)
    } else {
        Err(line)
    }
}

fn figure(trace: &[(f64, f64, f64)], exact: f64, n: usize) -> Result<Figure, String> {
    let pts = |k: usize| {
        trace
            .iter()
            .map(|t| (t.0.log10(), t.1 + [0.0, t.2, -t.2][k]))
            .collect::<Vec<_>>()
    };
    let chart = plot::Chart {
        title: "Monte Carlo −E[log p] converging to ½ log det(2πeΣ) (d = 3)".into(),
        x_label: "log10 n (draws)".into(),
        y_label: "nats".into(),
        x_range: (2.0, (n as f64).log10()),
        y_range: (exact - 0.3, exact + 0.3),
        series: vec![
            plot::Series {
                name: "estimate".into(),
                points: pts(0),
                colour: 0,
                dashed: false,
            },
            plot::Series {
                name: "99.9% interval".into(),
                points: pts(1),
                colour: 4,
                dashed: true,
            },
            plot::Series {
                name: String::new(),
                points: pts(2),
                colour: 4,
                dashed: true,
            },
            plot::Series {
                name: "½ log det(2πeΣ)".into(),
                points: vec![(2.0, exact), ((n as f64).log10(), exact)],
                colour: 1,
                dashed: false,
            },
        ],
    };
    Ok(Figure {
        file: "gaussian_entropy_eq_half_logdet_two_pi_e.svg".into(),
        caption:
            "The Monte Carlo estimate of −E[log p] and its 99.9% interval against the closed form."
                .into(),
        svg: plot::render(&chart).map_err(|e| format!("rendering the figure: {e}"))?,
    })
}

pub fn run(c: &mut ClaimRun) {
    let n = c.scaled(200_000);
    c.prop(
        Role::AsWritten,
        "h(N(μ,Σ)) = ½ log det Σ + (d/2) log(2πe): affine in log det Σ, with multiplier ½",
        r"h\big(\mathcal N(\mu,\Sigma)\big)=\tfrac12\log\det(2\pi e\,\Sigma)=\tfrac12\log\det\Sigma+\tfrac d2\log(2\pi e)\ \text{nats}",
        EntropyForm::Theorem,
    )
    .check("against statrs MultivariateNormal::entropy", against_statrs)
    .statistical("Monte Carlo −E[log p] with statrs's density", LEVEL, monte_carlo)
    .mutant("drops_e", "constant (d/2) log(2π): the e dropped", EntropyForm::NoE)
    .mutant("drops_half", "log det Σ with multiplier 1", EntropyForm::NoHalf);

    c.step("With $x=\\mu+Lg$, $LL^\\top=\\Sigma$: $-\\log p(x)=\\tfrac12\\log\\det(2\\pi\\Sigma)+\\tfrac12x^\\top\\Sigma^{-1}x$ and $\\mathbb E[(x-\\mu)^\\top\\Sigma^{-1}(x-\\mu)]=\\mathrm{tr}(\\Sigma^{-1}\\Sigma)=d$, so", Some(r"h=\tfrac12\log\det(2\pi\Sigma)+\tfrac d2=\tfrac12\log\det\Sigma+\tfrac d2\log(2\pi e)".into()));
    c.step(format!("\"Up to constants\" is right if the constants include the multiplier ½ and the additive $\\tfrac d2\\log(2\\pi e)$; the entropy does not depend on $\\mu$. Checked against statrs's `MultivariateNormal::entropy` (f64, its own LU) and against a Monte Carlo estimate of $-\\mathbb E[\\log p]$ using statrs's density, {n} draws (seed in the evidence)."), None);
}
