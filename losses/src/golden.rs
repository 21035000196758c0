//! `sslproof golden`: seeded cases of every loss and variant, written as `.npy` inputs, values and
//! gradients, with one JSON manifest per loss (convention, reference precision, correct digits,
//! seed, and the tolerance of [`crate::rounding`] for each user precision).
//!
//! Inputs are generated at 53 bits from the seeded ChaCha20 sampler of [`sslproof::hp::sample`] and
//! rounded to float32, so that casting them to float32 is exact and the float32 tolerances apply
//! to the same inputs; they are stored as float64. Small cases are committed under `golden/`;
//! large ones (`--large`) are regenerated on demand, bit for bit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nalgebra::DMatrix;
use serde::Serialize;

use crate::checker::{self, Options, ReferenceKind};
use crate::loss::Loss;
use crate::npy;
use crate::registry::LossSpec;
use crate::rounding::{self, Precision};
use sslproof::hp::sample::Sampler;

/// One seeded case.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: &'static str,
    pub b: usize,
    pub d: usize,
    pub large: bool,
}

/// The cases of a loss variant: tiny to realistic.
pub fn cases(loss: &dyn Loss, default_variant: bool) -> Vec<Case> {
    let c = |name, b, d, large| Case { name, b, d, large };
    let mut v = vec![
        c("tiny", 4, 3, false),
        c("small", 16, 8, false),
        c("wide", 8, 24, false),
    ];
    if default_variant {
        v.push(c("medium", 64, 32, false));
        for &(name, b, d) in loss.large_cases() {
            v.push(c(name, b, d, true));
        }
    }
    v
}

/// A 64-bit seed from the loss, variant and case names (FNV-1a), so that every case has its own
/// stream and adding a case changes no other.
pub fn seed_of(loss: &dyn Loss, variant: &str, case: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{}/{variant}/{case}", loss.name()).bytes() {
        h ^= byte as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn f32_round(x: f64) -> f64 {
    x as f32 as f64
}

/// The inputs of a case: two correlated, anisotropic views (column scales from 0.3 to 1.5, small
/// column means); L2-normalised rows where the loss is used on normalised features (coding rate,
/// alignment, uniformity); for CorInfoMax's running variant, a previous mean and an SPD previous
/// covariance.
pub fn inputs(spec: &LossSpec, case: &Case, seed: u64) -> Vec<DMatrix<f64>> {
    inputs_of(spec, case.b, case.d, seed, None)
}

/// The inputs of [`inputs`] at any `B × d`, with `views` views instead of the loss's golden
/// number where the variant takes any number of views (`None`: the golden number). The draws are
/// in the same order, so the first views are those of the golden case with the same seed.
pub fn inputs_of(
    spec: &LossSpec,
    b: usize,
    d: usize,
    seed: u64,
    views: Option<usize>,
) -> Vec<DMatrix<f64>> {
    let mut s = Sampler::new(seed, 53);
    let mut gauss = |r: usize, c: usize| {
        let mut m = DMatrix::zeros(r, c);
        for i in 0..r {
            for j in 0..c {
                m[(i, j)] = s.normal().to_f64();
            }
        }
        m
    };
    let sigma: Vec<f64> = (0..d)
        .map(|j| 0.3 + 1.2 * j as f64 / (d.max(2) - 1) as f64)
        .collect();
    let base = gauss(b, d);
    let mean = gauss(1, d) * 0.1;
    let mut view = |noise: f64| {
        let n = gauss(b, d);
        DMatrix::from_fn(b, d, |i, j| {
            sigma[j] * (base[(i, j)] + noise * n[(i, j)]) + mean[(0, j)]
        })
    };
    let normalised = spec.loss.unit_rows();
    let finish = |m: DMatrix<f64>| {
        let mut m = m;
        if normalised {
            for mut r in m.row_iter_mut() {
                let n = r.norm();
                r /= n;
            }
        }
        m.map(f32_round)
    };
    let views = match views {
        Some(n) if spec.loss.variable_views(spec.variant) => n.max(2),
        _ => spec.loss.golden_views(spec.variant),
    };
    let mut out: Vec<DMatrix<f64>> = (0..views).map(|_| finish(view(0.5))).collect();
    out.extend(spec.loss.golden_state(spec.variant, d, &mut gauss));
    debug_assert_eq!(spec.input_names(out.len()).len(), out.len());
    out
}

#[derive(Serialize)]
struct TolJson {
    value_atol: f64,
    grad_atol: BTreeMap<String, f64>,
    trustworthy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    why_not: Option<String>,
}

#[derive(Serialize)]
struct CaseJson {
    name: String,
    variant: String,
    params: BTreeMap<String, f64>,
    seed: String,
    shape: [usize; 2],
    inputs: BTreeMap<String, String>,
    input_order: Vec<String>,
    reference: String,
    value: f64,
    /// The reference value with 30 significant digits (MPFR references only).
    #[serde(skip_serializing_if = "Option::is_none")]
    value_decimal: Option<String>,
    grads: BTreeMap<String, String>,
    /// Significant digits of the stored value that are correct, and of each gradient entry
    /// relative to the largest entry of its gradient.
    correct_digits: BTreeMap<String, u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kappa: Option<f64>,
    tolerances: BTreeMap<String, TolJson>,
}

#[derive(Serialize)]
struct VariantJson {
    source: &'static str,
    formula: &'static str,
    params: BTreeMap<&'static str, f64>,
}

#[derive(Serialize)]
struct ManifestJson {
    format: u32,
    loss: String,
    generator: String,
    notes: &'static str,
    variants: BTreeMap<&'static str, VariantJson>,
    cases: Vec<CaseJson>,
}

const NOTES: &str = "Inputs are float32-representable values stored as float64 (casting to float32 is exact). Gradients are with respect to each input, in the input's shape; rows are samples. A value and gradients agree when |yours − reference| ≤ atol for the value and for every gradient entry (rtol = 0), with atol from the user's precision. Tolerances come from sslproof's rounding-error model (docs/losses.md). 'trustworthy: false' means that precision cannot give a meaningful answer for this case.";

/// `x` rounded **up** to 3 significant digits (a bound stays a bound, and the manifest does not
/// carry the last bits of an f64 computation).
pub fn round_up_3(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let e = x.abs().log10().floor() - 2.0;
    let p = 10f64.powf(e);
    let r = (x / p).ceil() * p;
    // The decimal printed must not fall below x.
    let s: f64 = format!("{r:.3e}").parse().unwrap_or(r);
    if s < x { r + p } else { s }
}

fn digits(err: f64, scale: f64) -> u32 {
    if err <= 0.0 || scale <= 0.0 {
        return 15;
    }
    (-(err / scale).log10()).floor().clamp(0.0, 15.0) as u32
}

/// Writes the cases of `loss` under `root/<loss>/…` and the manifest `root/<loss>.json`.
/// `progress` is called with each case's name.
pub fn write_loss(
    root: &Path,
    loss: &'static dyn Loss,
    large: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf> {
    let mut cases_json = Vec::new();
    let mut variants_json = BTreeMap::new();
    for (vi, v) in loss.variants().iter().enumerate() {
        let spec = LossSpec::new(loss, Some(v.name), &[])?;
        variants_json.insert(
            v.name,
            VariantJson {
                source: v.source,
                formula: v.formula,
                params: v.params.iter().map(|p| (p.name, p.default)).collect(),
            },
        );
        for case in cases(loss, vi == 0) {
            if case.large != large {
                continue;
            }
            let name = format!("{}/{}", v.name, case.name);
            progress(&format!("{}/{name}", loss.name()));
            let seed = seed_of(loss, v.name, case.name);
            let xs = inputs(&spec, &case, seed);
            let opts = Options {
                precision: Precision::F64,
                ..Options::default()
            };
            let r = checker::reference(&spec, &xs, &opts)
                .with_context(|| format!("{} {name}", loss.name()))?;
            let dir = root.join(loss.name()).join(v.name).join(case.name);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let names = spec.input_names(xs.len());
            let mut inputs_map = BTreeMap::new();
            for (n, x) in names.iter().zip(&xs) {
                let p = dir.join(format!("{n}.npy"));
                npy::write_matrix(&p, x).with_context(|| format!("writing {}", p.display()))?;
                inputs_map.insert(n.clone(), format!("{}/{name}/{n}.npy", loss.name()));
            }
            let mut grads_map = BTreeMap::new();
            let mut correct = BTreeMap::new();
            let (value_digits, grad_digits): (u32, Vec<u32>) = match r.kind {
                // Correctly rounded from 256 bits: half an ulp of f64 (15 significant digits).
                ReferenceKind::Mpfr(_) => (15, vec![15; r.out.grads.len()]),
                ReferenceKind::F64 => (
                    digits(r.error.value, r.out.value.abs()),
                    r.out
                        .grads
                        .iter()
                        .zip(&r.error.grads)
                        .map(|(g, e)| digits(*e, g.amax()))
                        .collect(),
                ),
            };
            correct.insert("value".to_string(), value_digits);
            for ((n, g), dg) in names.iter().zip(&r.out.grads).zip(&grad_digits) {
                let p = dir.join(format!("grad_{n}.npy"));
                npy::write_matrix(&p, g).with_context(|| format!("writing {}", p.display()))?;
                grads_map.insert(n.clone(), format!("{}/{name}/grad_{n}.npy", loss.name()));
                correct.insert(format!("grad_{n}"), *dg);
            }
            let mut tolerances = BTreeMap::new();
            for prec in Precision::ALL {
                let t = rounding::tolerance(&r.scale, &r.out64, prec);
                // The golden value's own error is part of what a user's comparison must allow.
                let value_atol = t.value + r.error.value + 2.0 * f64::EPSILON * r.out.value.abs();
                let grad_atol: Vec<(String, f64)> = names
                    .iter()
                    .zip(
                        (0..names.len())
                            .map(|i| t.grad_max(i))
                            .zip(&r.error.grads)
                            .zip(&r.out.grads),
                    )
                    .map(|(n, ((tg, eg), g))| (n.clone(), tg + eg + 2.0 * f64::EPSILON * g.amax()))
                    .collect();
                tolerances.insert(
                    prec.as_str().to_string(),
                    TolJson {
                        value_atol: round_up_3(value_atol),
                        grad_atol: grad_atol
                            .into_iter()
                            .map(|(k, v): (String, f64)| (k, round_up_3(v)))
                            .collect(),
                        trustworthy: t.untrustworthy.is_none(),
                        why_not: t.untrustworthy,
                    },
                );
            }
            cases_json.push(CaseJson {
                name,
                variant: v.name.to_string(),
                params: spec
                    .params
                    .iter()
                    .map(|(k, v)| (k.to_string(), *v))
                    .collect(),
                seed: format!("{seed:#018x}"),
                shape: [case.b, case.d],
                inputs: inputs_map,
                input_order: names.clone(),
                reference: match r.kind {
                    ReferenceKind::Mpfr(b) => format!("mpfr-{b}"),
                    ReferenceKind::F64 => "f64".into(),
                },
                value: r.out.value,
                value_decimal: r.value_decimal.clone(),
                grads: grads_map,
                correct_digits: correct,
                kappa: r.scale.kappa.map(round_up_3),
                tolerances,
            });
        }
    }
    let manifest = ManifestJson {
        format: 1,
        loss: loss.name().to_string(),
        generator: format!("sslproof {}", env!("CARGO_PKG_VERSION")),
        notes: NOTES,
        variants: variants_json,
        cases: cases_json,
    };
    let path = root.join(format!(
        "{}{}.json",
        loss.name(),
        if large { ".large" } else { "" }
    ));
    npy::write_atomic(
        &path,
        (serde_json::to_string_pretty(&manifest)? + "\n").as_bytes(),
    )
    .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
