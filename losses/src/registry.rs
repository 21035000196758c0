//! The losses that `sslproof check` and `sslproof golden` know: their names, their variants (one
//! per implementation convention; the default follows the official code), parameters, inputs and
//! the common mistakes the checker recognises. See `../shared/reference-implementations.md` for
//! the sources, and `docs/losses.md` for the conventions table.

use std::collections::BTreeMap;

use nalgebra::DMatrix;
use rug::Float;

use crate::covariance::BatchError;
use crate::float::{self, Out, Real};
use crate::vicreg::LossAndGrad;
use crate::{coding_rate, contrastive, cross_correlation, vicreg};
use sslproof::hp::Mat;

/// A loss the checker knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossName {
    Vicreg,
    BarlowTwins,
    CodingRate,
    Corinfomax,
    NtXent,
    Simsiam,
    Align,
    Uniformity,
}

impl LossName {
    pub const ALL: [LossName; 8] = [
        LossName::Vicreg,
        LossName::BarlowTwins,
        LossName::CodingRate,
        LossName::Corinfomax,
        LossName::NtXent,
        LossName::Simsiam,
        LossName::Align,
        LossName::Uniformity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LossName::Vicreg => "vicreg",
            LossName::BarlowTwins => "barlow-twins",
            LossName::CodingRate => "coding-rate",
            LossName::Corinfomax => "corinfomax",
            LossName::NtXent => "nt-xent",
            LossName::Simsiam => "simsiam",
            LossName::Align => "align",
            LossName::Uniformity => "uniformity",
        }
    }

    pub fn parse(s: &str) -> Option<LossName> {
        LossName::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl std::fmt::Display for LossName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One implementation's convention of a loss.
#[derive(Debug)]
pub struct Variant {
    pub name: &'static str,
    /// Where the convention comes from.
    pub source: &'static str,
    /// What distinguishes it, in one line.
    pub formula: &'static str,
    /// Parameters and their defaults in that implementation (decimal values, exact as written).
    pub params: &'static [(&'static str, f64)],
}

/// A common mistake the checker recognises.
#[derive(Debug)]
pub struct Mistake {
    pub id: &'static str,
    pub says: &'static str,
}

macro_rules! variant {
    ($name:expr, $source:expr, $formula:expr, [$(($p:expr, $v:expr)),* $(,)?]) => {
        Variant { name: $name, source: $source, formula: $formula, params: &[$(($p, $v)),*] }
    };
}

const VICREG_PARAMS: &[(&str, f64)] = &[
    ("sim", 25.0),
    ("std", 25.0),
    ("cov", 1.0),
    ("gamma", 1.0),
    ("eps", 1e-4),
];

static VICREG: &[Variant] = &[
    Variant {
        name: "official",
        source: "facebookresearch/vicreg main_vicreg.py (lightly's VICRegLoss is the same)",
        formula: "sim·mse(z1,z2) + std·[v(z1)+v(z2)]/2 + cov·[c(z1)+c(z2)]; v = mean relu(γ − √(Var_{n−1}+eps)), c = Σ_{i≠j}C_ij²/d, C = Z_cᵀZ_c/(n−1)",
        params: VICREG_PARAMS,
    },
    Variant {
        name: "paper",
        source: "Bardes, Ponce, LeCun (ICLR 2022): invariance (1/n)Σ‖z−z'‖², variance summed over branches",
        formula: "sim·Σ‖z1−z2‖²/n + std·[v(z1)+v(z2)] + cov·[c(z1)+c(z2)]",
        params: VICREG_PARAMS,
    },
    Variant {
        name: "solo-learn",
        source: "solo-learn solo/losses/vicreg.py: variance summed over branches (no /2)",
        formula: "sim·mse(z1,z2) + std·[v(z1)+v(z2)] + cov·[c(z1)+c(z2)]",
        params: VICREG_PARAMS,
    },
];

static BARLOW: &[Variant] = &[
    variant!(
        "official",
        "facebookresearch/barlowtwins main.py (one GPU)",
        "C = BN(z1)ᵀBN(z2)/n (BN: biased variance, eps 1e-5); Σ(1−C_ii)² + λΣ_{i≠j}C_ij²",
        [("lambda", 0.0051), ("bn_eps", 1e-5)]
    ),
    variant!(
        "lightly",
        "lightly BarlowTwinsLoss",
        "as official with λ = 5e-3",
        [("lambda", 0.005), ("bn_eps", 1e-5)]
    ),
    variant!(
        "solo-learn",
        "solo-learn barlow_loss_func with the method defaults",
        "scale_loss·[Σ(1−C_ii)² + λΣ_{i≠j}C_ij²]",
        [("lambda", 0.0051), ("bn_eps", 1e-5), ("scale", 0.024)]
    ),
];

static CODING_RATE: &[Variant] = &[
    variant!(
        "mcr2",
        "Ma-Lab-Berkeley/MCR2 compute_discrimn_loss_empirical (the rate R; the loss uses −gam2·R)",
        "R = ½ log det(I + d/(m·eps)·ZᵀZ), uncentred, eps = ε²",
        [("eps", 0.5)]
    ),
    variant!(
        "simdino",
        "RobinWu218/SimDINO MCRLoss.calc_expansion (one GPU, one view; Cholesky half-log-det)",
        "−γ_h·R with γ_h = (d + m)/(d·m), eps = ε² (README and v2 configs: 0.05)",
        [("eps", 0.05)]
    ),
    variant!(
        "emp-ssl",
        "tsb0601/EMP-SSL TotalCodingRate (lightly's EMPSSLLoss has the opposite sign)",
        "−R, eps = ε²",
        [("eps", 0.2)]
    ),
    variant!(
        "lightly",
        "lightly EMPSSLLoss's coding-rate term (tcr_loss, one view): +R, the opposite sign of official EMP-SSL (probable bug, reference-implementations.md §1.9)",
        "+R, eps = ε² (not squared again)",
        [("eps", 0.2)]
    ),
];

static CORINFOMAX: &[Variant] = &[
    variant!(
        "one-batch",
        "serdarozsoy/corinfomax-ssl cifars-tiny/loss.py with no memory (la_R = la_mu = 0)",
        "α·mse(z1,z2) − (1/d)[log det(R1+εI) + log det(R2+εI)], R = ẑᵀẑ/N, ẑ = z − z̄",
        [("alpha", 500.0), ("eps", 1e-6)]
    ),
    variant!(
        "running",
        "serdarozsoy/corinfomax-ssl with the running estimates (inputs z1 z2 mu1 r1 mu2 r2)",
        "R̂ = la_R·R_prev + (1−la_R)·ẑᵀẑ/N, ẑ = z − (la_mu·μ_prev + (1−la_mu)·z̄); state detached",
        [
            ("alpha", 500.0),
            ("eps", 1e-6),
            ("la_mu", 0.01),
            ("la_r", 0.01)
        ]
    ),
];

static NT_XENT: &[Variant] = &[
    variant!(
        "lightly",
        "lightly NTXentLoss (no memory bank): SimCLR, 2B rows, positive in the denominator, self masked",
        "mean_k −log[e^{s_k,pos} / Σ_{j≠k} e^{s_kj}], s = cos/τ",
        [("tau", 0.5)]
    ),
    variant!(
        "solo-learn",
        "solo-learn simclr_loss_func: any number of views, all positives summed inside the log",
        "mean_k −log[Σ_pos e^{s} / Σ_{j≠k} e^{s_kj}]; identical to lightly for two views",
        [("tau", 0.1)]
    ),
];

static SIMSIAM: &[Variant] = &[variant!(
    "official",
    "facebookresearch/simsiam main_simsiam.py (inputs p1 p2 z1 z2; z detached)",
    "−½[mean cos(p1, sg(z2)) + mean cos(p2, sg(z1))]",
    []
)];

static ALIGN: &[Variant] = &[variant!(
    "official",
    "SsnL/align_uniform align_loss",
    "mean_i ‖x_i − y_i‖^α",
    [("alpha", 2.0)]
)];

static UNIFORMITY: &[Variant] = &[
    variant!(
        "official",
        "SsnL/align_uniform uniform_loss (pdist: pairs i < j)",
        "log mean_{i<j} exp(−t‖x_i − x_j‖²)",
        [("t", 2.0)]
    ),
    variant!(
        "lightly",
        "lightly HypersphereLoss's uniformity term (per view)",
        "as official with t = 1",
        [("t", 1.0)]
    ),
];

/// The variants of a loss, the default first.
pub fn variants(loss: LossName) -> &'static [Variant] {
    match loss {
        LossName::Vicreg => VICREG,
        LossName::BarlowTwins => BARLOW,
        LossName::CodingRate => CODING_RATE,
        LossName::Corinfomax => CORINFOMAX,
        LossName::NtXent => NT_XENT,
        LossName::Simsiam => SIMSIAM,
        LossName::Align => ALIGN,
        LossName::Uniformity => UNIFORMITY,
    }
}

/// The common mistakes the checker tries for a loss.
pub fn mistakes(loss: LossName) -> &'static [Mistake] {
    macro_rules! m {
        ($($id:expr => $says:expr),* $(,)?) => { &[$(Mistake { id: $id, says: $says }),*] };
    }
    match loss {
        LossName::Vicreg => m![
            "biased-divisor" => "variance and covariance divided by n instead of n−1 (torch.var(unbiased=False), or /batch_size)",
            "squared-hinge" => "the variance hinge squared: relu(γ − std)² instead of relu(γ − std)",
            "uncentred" => "the batch mean not subtracted before the covariance and the variance",
            "missing-half" => "the variance term not halved: [v(z1)+v(z2)] instead of [v(z1)+v(z2)]/2",
            "extra-half" => "the variance term halved where the variant sums it",
            "sign" => "the sign of the loss flipped",
        ],
        LossName::BarlowTwins => m![
            "unbiased-bn" => "standardised with the unbiased variance (n−1) instead of BatchNorm's biased one",
            "sign" => "the sign of the loss flipped",
        ],
        LossName::CodingRate => m![
            "eps-squared" => "ε against ε²: the code's eps (= ε²) squared again, d/(m·eps²)",
            "eps-sqrt" => "ε against ε²: the square root of the code's eps, d/(m·√eps)",
            "centred" => "the batch mean subtracted (every implementation uses the uncentred second moment)",
            "missing-half" => "log det instead of ½ log det",
            "sign" => "the sign of the loss flipped",
        ],
        LossName::Corinfomax => m![
            "unbiased-divisor" => "the batch covariance divided by n−1 instead of N",
            "uncentred" => "the mean not subtracted",
            "missing-per-dim" => "the log-determinants not divided by d",
            "sign" => "the sign of the loss flipped",
        ],
        LossName::NtXent => m![
            "self-in-denominator" => "self-similarity e^{s_kk} left in the denominator (not masked)",
            "positive-not-in-denominator" => "the positive left out of the denominator (decoupled contrastive loss)",
            "unnormalised" => "the features not L2-normalised before the dot products",
            "sign" => "the sign of the loss flipped",
        ],
        LossName::Simsiam => m![
            "no-stop-gradient" => "no stop-gradient: z1, z2 not detached, so they receive gradients",
            "missing-half" => "the two terms summed instead of averaged (−[…] instead of −½[…])",
            "sign" => "the sign flipped: +cos instead of −cos",
        ],
        LossName::Align => m![
            "unsquared" => "‖x − y‖ instead of ‖x − y‖² (α = 1)",
            "sum" => "summed over the batch instead of averaged",
        ],
        LossName::Uniformity => m![
            "include-self" => "the pairs (i, i) included: mean over all n² pairs instead of i < j",
            "unsquared" => "exp(−t‖x_i − x_j‖) instead of exp(−t‖x_i − x_j‖²)",
        ],
    }
}

/// The mistakes that change `spec`'s loss: VICReg's "missing-half" only where the variant halves
/// the variance term (official), "extra-half" only where it does not.
pub fn mistakes_for(spec: &LossSpec) -> Vec<&'static Mistake> {
    mistakes(spec.loss)
        .iter()
        .filter(|m| match (spec.loss, m.id) {
            (LossName::Vicreg, "missing-half") => spec.variant.name == "official",
            (LossName::Vicreg, "extra-half") => spec.variant.name != "official",
            _ => true,
        })
        .collect()
}

/// Why a loss configuration or its inputs were refused.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("unknown variant {found:?} of {loss}; known: {known}")]
    Variant {
        loss: LossName,
        found: String,
        known: String,
    },
    #[error("{loss} ({variant}) has no parameter {found:?}; its parameters: {known}")]
    Param {
        loss: LossName,
        variant: &'static str,
        found: String,
        known: String,
    },
    #[error("parameter {name} = {value} is out of range: {why}")]
    ParamRange {
        name: String,
        value: f64,
        why: &'static str,
    },
    #[error("unknown mistake {0:?}")]
    Mistake(String),
    #[error("{loss} ({variant}) takes {expected} inputs ({names}), got {found}")]
    InputCount {
        loss: LossName,
        variant: &'static str,
        expected: String,
        names: String,
        found: usize,
    },
    #[error("input {name}: shape {found:?}, expected {expected}")]
    InputShape {
        name: String,
        found: (usize, usize),
        expected: String,
    },
    #[error(transparent)]
    Batch(#[from] BatchError),
}

/// A loss in one variant with its parameters.
#[derive(Clone, Debug)]
pub struct LossSpec {
    pub loss: LossName,
    pub variant: &'static Variant,
    /// Every parameter of the variant, defaults overridden by the user's.
    pub params: BTreeMap<&'static str, f64>,
}

impl LossSpec {
    /// `variant = None` takes the default (the official code's convention).
    pub fn new(
        loss: LossName,
        variant: Option<&str>,
        overrides: &[(String, f64)],
    ) -> Result<Self, SpecError> {
        let vs = variants(loss);
        let v = match variant {
            None => &vs[0],
            Some(name) => vs
                .iter()
                .find(|v| v.name == name)
                .ok_or_else(|| SpecError::Variant {
                    loss,
                    found: name.to_string(),
                    known: vs.iter().map(|v| v.name).collect::<Vec<_>>().join(", "),
                })?,
        };
        let mut params: BTreeMap<&'static str, f64> = v.params.iter().copied().collect();
        for (name, value) in overrides {
            let key = v
                .params
                .iter()
                .find(|(p, _)| p == name)
                .map(|(p, _)| *p)
                .ok_or_else(|| SpecError::Param {
                    loss,
                    variant: v.name,
                    found: name.clone(),
                    known: if v.params.is_empty() {
                        "none".into()
                    } else {
                        v.params.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
                    },
                })?;
            if !value.is_finite() {
                return Err(SpecError::ParamRange {
                    name: name.clone(),
                    value: *value,
                    why: "must be finite",
                });
            }
            let positive = matches!(key, "eps" | "tau" | "t" | "alpha" | "bn_eps" | "scale");
            if positive && *value <= 0.0 {
                return Err(SpecError::ParamRange {
                    name: name.clone(),
                    value: *value,
                    why: "must be > 0",
                });
            }
            if matches!(key, "la_mu" | "la_r") && !(0.0..1.0).contains(value) {
                return Err(SpecError::ParamRange {
                    name: name.clone(),
                    value: *value,
                    why: "must be in [0, 1)",
                });
            }
            params.insert(key, *value);
        }
        Ok(LossSpec {
            loss,
            variant: v,
            params,
        })
    }

    pub fn p(&self, name: &str) -> f64 {
        self.params[name]
    }

    /// The same loss in another variant, with this spec's values for the parameters both share.
    pub fn as_variant(&self, v: &'static Variant) -> LossSpec {
        let params = v
            .params
            .iter()
            .map(|(n, d)| (*n, self.params.get(n).copied().unwrap_or(*d)))
            .collect();
        LossSpec {
            loss: self.loss,
            variant: v,
            params,
        }
    }

    /// The names of the inputs, for `n` inputs given (only NT-Xent's solo-learn variant takes a
    /// variable number, one per view).
    pub fn input_names(&self, n: usize) -> Vec<String> {
        let fixed = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
        match (self.loss, self.variant.name) {
            (LossName::CodingRate | LossName::Uniformity, _) => fixed(&["z"]),
            (LossName::Simsiam, _) => fixed(&["p1", "p2", "z1", "z2"]),
            (LossName::Corinfomax, "running") => fixed(&["z1", "z2", "mu1", "r1", "mu2", "r2"]),
            (LossName::NtXent, "solo-learn") => (1..=n.max(2)).map(|i| format!("z{i}")).collect(),
            (LossName::Align, _) => fixed(&["x", "y"]),
            _ => fixed(&["z1", "z2"]),
        }
    }

    /// How many of the inputs have a gradient (the leading ones).
    pub fn grad_count(&self, n_inputs: usize) -> usize {
        match (self.loss, self.variant.name) {
            (LossName::Corinfomax, "running") => 2,
            _ => n_inputs,
        }
    }

    /// Checks the number and shapes of the inputs; every error names the input.
    pub fn validate_inputs<T: Real>(&self, inputs: &[DMatrix<T>]) -> Result<(), SpecError> {
        let names = self.input_names(inputs.len());
        let variable = self.loss == LossName::NtXent && self.variant.name == "solo-learn";
        if (variable && inputs.len() < 2) || (!variable && inputs.len() != names.len()) {
            return Err(SpecError::InputCount {
                loss: self.loss,
                variant: self.variant.name,
                expected: if variable {
                    "2 or more".into()
                } else {
                    names.len().to_string()
                },
                names: names.join(" "),
                found: inputs.len(),
            });
        }
        let (b, d) = inputs[0].shape();
        for (name, z) in names.iter().zip(inputs) {
            let expected = match name.as_str() {
                "mu1" | "mu2" => (1, d),
                "r1" | "r2" => (d, d),
                _ => (b, d),
            };
            if z.shape() != expected {
                return Err(SpecError::InputShape {
                    name: name.clone(),
                    found: z.shape(),
                    expected: format!("{} × {} (like {})", expected.0, expected.1, names[0]),
                });
            }
        }
        if b == 0 || d == 0 {
            return Err(BatchError::Empty { b, d }.into());
        }
        Ok(())
    }
}

/// The loss and its gradients in `T`, in the spec's convention, or with one of
/// [`mistakes`] planted.
pub fn evaluate<T: Real>(
    spec: &LossSpec,
    mistake: Option<&str>,
    inputs: &[DMatrix<T>],
) -> Result<Out<T>, SpecError> {
    spec.validate_inputs(inputs)?;
    if let Some(m) = mistake
        && !mistakes(spec.loss).iter().any(|x| x.id == m)
    {
        return Err(SpecError::Mistake(m.to_string()));
    }
    let is = |id: &str| mistake == Some(id);
    let sign = if is("sign") { -1.0 } else { 1.0 };
    let v = spec.variant.name;
    let out = match spec.loss {
        LossName::Vicreg => {
            let mut kn = float::Vicreg {
                sim: spec.p("sim"),
                std: spec.p("std"),
                cov: spec.p("cov"),
                gamma: spec.p("gamma"),
                eps: spec.p("eps"),
                inv_per_dim: v != "paper",
                var_weight: if v == "official" { 0.5 } else { 1.0 },
                unbiased: !is("biased-divisor"),
                centred: !is("uncentred"),
                squared_hinge: is("squared-hinge"),
                sign,
            };
            if is("missing-half") {
                kn.var_weight = 1.0;
            }
            if is("extra-half") {
                kn.var_weight = 0.5 * kn.var_weight;
            }
            float::vicreg(&inputs[0], &inputs[1], &kn)?
        }
        LossName::BarlowTwins => {
            let kn = float::Barlow {
                lambda: spec.p("lambda"),
                bn_eps: spec.p("bn_eps"),
                scale: spec.params.get("scale").copied().unwrap_or(1.0),
                bn_unbiased: is("unbiased-bn"),
                sign,
            };
            float::barlow_twins(&inputs[0], &inputs[1], &kn)?
        }
        LossName::CodingRate => {
            let weight = match v {
                "mcr2" | "lightly" => float::RateWeight::Mcr2,
                "simdino" => float::RateWeight::SimDino,
                _ => float::RateWeight::EmpSsl,
            };
            let mut kn = float::CodingRate::new(spec.p("eps"), weight);
            kn.eps_power = if is("eps-squared") {
                2.0
            } else if is("eps-sqrt") {
                0.5
            } else {
                1.0
            };
            kn.centred = is("centred");
            kn.half = !is("missing-half");
            kn.sign = sign;
            float::coding_rate(&inputs[0], &kn)?
        }
        LossName::Corinfomax => {
            let running = v == "running";
            let kn = float::CorInfoMax {
                alpha: spec.p("alpha"),
                eps: spec.p("eps"),
                unbiased: is("unbiased-divisor"),
                centred: !is("uncentred"),
                per_dim: !is("missing-per-dim"),
                sign,
                la_mu: if running { spec.p("la_mu") } else { 0.0 },
                la_r: if running { spec.p("la_r") } else { 0.0 },
            };
            if running {
                let s1 = float::State {
                    mean: inputs[2].clone(),
                    cov: inputs[3].clone(),
                };
                let s2 = float::State {
                    mean: inputs[4].clone(),
                    cov: inputs[5].clone(),
                };
                float::corinfomax(&inputs[0], &inputs[1], &kn, Some((&s1, &s2)))?
            } else {
                float::corinfomax(&inputs[0], &inputs[1], &kn, None)?
            }
        }
        LossName::NtXent => {
            let kn = float::NtXent {
                tau: spec.p("tau"),
                normalise: !is("unnormalised"),
                self_in_denominator: is("self-in-denominator"),
                positive_in_denominator: !is("positive-not-in-denominator"),
                sign,
            };
            float::nt_xent(inputs, &kn)?
        }
        LossName::Simsiam => {
            let kn = float::SimSiam {
                stop_gradient: !is("no-stop-gradient"),
                halved: !is("missing-half"),
                sign,
            };
            float::simsiam(&inputs[0], &inputs[1], &inputs[2], &inputs[3], &kn)?
        }
        LossName::Align => {
            let kn = float::Align {
                alpha: if is("unsquared") {
                    1.0
                } else {
                    spec.p("alpha")
                },
                mean: !is("sum"),
            };
            float::align(&inputs[0], &inputs[1], &kn)?
        }
        LossName::Uniformity => {
            let kn = float::Uniformity {
                t: spec.p("t"),
                include_self: is("include-self"),
                squared: !is("unsquared"),
            };
            float::uniformity(&inputs[0], &kn)?
        }
    };
    Ok(out)
}

/// A parameter as an exact decimal at `prec` bits (`1e-4` is 1/10000, not the nearest double).
pub fn param_hp(x: f64, prec: u32) -> Float {
    let s = format!("{x:e}");
    Float::with_val(
        prec,
        Float::parse(&s).expect("a finite f64 prints as a decimal"),
    )
}

/// Work of the MPFR reference, in multiply-adds (to decide whether it is affordable).
pub fn hp_work(spec: &LossSpec, b: usize, d: usize, views: usize) -> f64 {
    let (b, d) = (b as f64, d as f64);
    match spec.loss {
        LossName::Vicreg | LossName::BarlowTwins => 2.0 * b * d * d + 4.0 * d * d,
        LossName::CodingRate => {
            let n = b.min(d);
            b * d * n + 2.0 * n * n * n
        }
        LossName::Corinfomax => 2.0 * (b * d * d + 2.0 * d * d * d),
        LossName::NtXent => 3.0 * (views as f64 * b).powi(2) * d,
        LossName::Simsiam | LossName::Align => 4.0 * b * d,
        LossName::Uniformity => b * b * d,
    }
}

/// The loss at `prec` bits (MPFR), where the high-precision reference has this convention
/// (`None` for alignment with a non-integer α).
pub fn evaluate_hp(
    spec: &LossSpec,
    inputs: &[Mat],
    prec: u32,
) -> Option<Result<LossAndGrad, SpecError>> {
    let p = |name: &str| param_hp(spec.p(name), prec);
    let v = spec.variant.name;
    let r = match spec.loss {
        LossName::Vicreg => {
            let variant = match v {
                "paper" => vicreg::Variant::Paper,
                "solo-learn" => vicreg::Variant::SoloLearn,
                _ => vicreg::Variant::Official,
            };
            let params = vicreg::Params {
                sim: p("sim"),
                std: p("std"),
                cov: p("cov"),
                gamma: p("gamma"),
                eps: p("eps"),
            };
            vicreg::loss(&inputs[0], &inputs[1], variant, &params)
        }
        LossName::BarlowTwins => {
            cross_correlation::barlow_twins(&inputs[0], &inputs[1], &p("lambda"), &p("bn_eps")).map(
                |lg| match spec.params.get("scale") {
                    Some(s) => {
                        let s = param_hp(*s, prec);
                        LossAndGrad {
                            value: Float::with_val(prec, &lg.value * &s),
                            grads: lg.grads.iter().map(|g| g.scale(&s)).collect(),
                        }
                    }
                    None => lg,
                },
            )
        }
        LossName::CodingRate => {
            let variant = match v {
                "mcr2" | "lightly" => coding_rate::Variant::Mcr2Rate,
                "simdino" => coding_rate::Variant::SimDinoExpansion,
                _ => coding_rate::Variant::EmpSsl,
            };
            coding_rate::loss(&inputs[0], &p("eps"), variant)
        }
        LossName::Corinfomax => {
            if v == "running" {
                let state = |mean: &Mat, cov: &Mat| cross_correlation::RunningState {
                    mean: (0..mean.cols()).map(|j| mean.at(0, j).clone()).collect(),
                    cov: cov.clone(),
                    la_mu: p("la_mu"),
                    la_r: p("la_r"),
                };
                let (s1, s2) = (state(&inputs[2], &inputs[3]), state(&inputs[4], &inputs[5]));
                cross_correlation::corinfomax(
                    &inputs[0],
                    &inputs[1],
                    &p("alpha"),
                    &p("eps"),
                    Some((&s1, &s2)),
                )
            } else {
                cross_correlation::corinfomax(&inputs[0], &inputs[1], &p("alpha"), &p("eps"), None)
            }
        }
        LossName::NtXent => {
            let views: Vec<&Mat> = inputs.iter().collect();
            contrastive::nt_xent_views(&views, &p("tau"))
        }
        LossName::Simsiam => contrastive::simsiam(&inputs[0], &inputs[1], &inputs[2], &inputs[3]),
        LossName::Align => {
            let a = spec.p("alpha");
            if a.fract() != 0.0 || !(1.0..=16.0).contains(&a) {
                return None;
            }
            contrastive::align(&inputs[0], &inputs[1], a as u32)
        }
        LossName::Uniformity => contrastive::uniformity(&inputs[0], &p("t")),
    };
    Some(r.map_err(SpecError::from))
}
