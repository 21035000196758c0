//! # The SimSiam miniature shared by family F
//!
//! A deterministic, seeded miniature of SimSiam and of the architectures the seed paper compares
//! it with, small enough to train in milliseconds and to reason about exactly.
//!
//! * **Data** (per seed): `N = 64` inputs in `R^16` from a mixture of 4 Gaussians, centres
//!   `μ_k ~ N(0, I)`, within-cluster noise `N(0, 0.5² I)`, every input assigned to cluster
//!   `i mod 4`. A view of `x` is `m ⊙ x + 0.5·u`: a mask `m_j ~ Bernoulli(3/4)` and uniform noise
//!   `u_j ~ U(−√3, √3)` (unit variance), drawn afresh at every step.
//! * **Encoder**: linear `z = Wx + c` (`R^16 → R^8`) or a two-layer MLP
//!   `z = W₂ relu(W₁x + c₁) + c₂` (hidden width 16); the output used by the loss and by every
//!   measurement is `ẑ = z/‖z‖`.
//! * **Predictor** `h`, applied to the unnormalised `z` as in the official code: none, linear
//!   `Az + a`, MLP `A₂ relu(A₁z + a₁) + a₂` (hidden width 16), or bias-only `z + b`. On the
//!   online branch only, or on both branches.
//! * **Stop-gradient**: on the target (SimSiam), on the predictor side ("mirror"), or absent.
//! * **Loss**: the negative cosine `D(a, t) = −â·t̂`, symmetrised as in the official code,
//!   `L = ½ mean_i D(h(z₁ᵢ), sg z₂ᵢ) + ½ mean_i D(h(z₂ᵢ), sg z₁ᵢ)`; or two-view InfoNCE
//!   (`τ = 0.5`, both directions); or the "expectation over augmentations" predictor: the online
//!   output replaced by the mean of `z` over 8 further views of the same input.
//! * **Optimiser**: full-batch SGD, learning rate 1, optional weight decay, 600 steps.
//!
//! The arithmetic is IEEE double with `+ − × ÷ √` only, in loops of fixed order (no BLAS kernel
//! picked at run time), plus `exp` and `ln` in the InfoNCE runs and the effective rank; the random
//! numbers come from the engine's seeded ChaCha20 sampler (Gaussians by MPFR at 64 bits, then
//! rounded) and a ChaCha8 stream seeded from it for the views. A seed gives the same run bit for
//! bit on machines with the same libm; what is printed is rounded to 3 significant digits, and
//! the verdicts read counts of seeds.
//!
//! Every gradient below is hand-derived; `loss_generic` evaluates the same loss in any
//! arithmetic, so the claim files check the gradients against 256-bit finite differences.

use nalgebra::{DMatrix, DVector};
use rug::Float;
use sslproof::prelude::Sampler;

pub const N_IN: usize = 16;
pub const D: usize = 8;
pub const HIDDEN: usize = 16;
pub const PRED_HIDDEN: usize = 16;
pub const N: usize = 64;
pub const CLUSTERS: usize = 4;
pub const KEEP: f64 = 0.75;
pub const VIEW_NOISE: f64 = 0.5;
pub const CLUSTER_NOISE: f64 = 0.5;
pub const TAU: f64 = 0.5;
pub const EOA_VIEWS: usize = 4;
pub const STEPS: usize = 600;
pub const LR: f64 = 1.0;
pub const RECORD_EVERY: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoder {
    Linear,
    Mlp,
}

impl Encoder {
    pub fn name(self) -> &'static str {
        match self {
            Encoder::Linear => "linear",
            Encoder::Mlp => "MLP",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Predictor {
    None,
    Linear,
    Mlp,
    Bias,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopGrad {
    /// On the target branch (SimSiam).
    Target,
    /// On the predictor (online) side: "mirror SimSiam".
    Online,
    /// None.
    Absent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Objective {
    NegCos,
    /// Two-view InfoNCE at `τ = TAU` (no predictor, no stop-gradient).
    InfoNce,
    /// Negative cosine with the online output replaced by the mean of `z` over
    /// [`EOA_VIEWS`] further views of the same input (gradient through all of them).
    Eoa,
}

/// An architecture: predictor, where it sits, the stop-gradient, the objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Arch {
    pub predictor: Predictor,
    pub both_branches: bool,
    pub sg: StopGrad,
    pub objective: Objective,
}

impl Arch {
    pub const SIMSIAM_LINEAR: Arch = Arch::neg_cos(Predictor::Linear, false, StopGrad::Target);
    pub const SIMSIAM_MLP: Arch = Arch::neg_cos(Predictor::Mlp, false, StopGrad::Target);
    pub const SIMSIAM_BIAS: Arch = Arch::neg_cos(Predictor::Bias, false, StopGrad::Target);
    pub const NAIVE: Arch = Arch::neg_cos(Predictor::None, false, StopGrad::Absent);
    pub const SG_ONLY: Arch = Arch::neg_cos(Predictor::None, false, StopGrad::Target);
    pub const SYM_PRED_SG: Arch = Arch::neg_cos(Predictor::Linear, true, StopGrad::Target);
    pub const SYM_PRED: Arch = Arch::neg_cos(Predictor::Linear, true, StopGrad::Absent);
    pub const PRED_NO_SG: Arch = Arch::neg_cos(Predictor::Linear, false, StopGrad::Absent);
    pub const MIRROR: Arch = Arch::neg_cos(Predictor::Linear, false, StopGrad::Online);
    pub const EOA: Arch = Arch {
        predictor: Predictor::None,
        both_branches: false,
        sg: StopGrad::Target,
        objective: Objective::Eoa,
    };
    pub const INFONCE: Arch = Arch {
        predictor: Predictor::None,
        both_branches: false,
        sg: StopGrad::Absent,
        objective: Objective::InfoNce,
    };

    pub const fn neg_cos(predictor: Predictor, both_branches: bool, sg: StopGrad) -> Arch {
        Arch {
            predictor,
            both_branches,
            sg,
            objective: Objective::NegCos,
        }
    }

    /// A short name for tables and figures.
    pub fn name(&self) -> String {
        match self.objective {
            Objective::InfoNce => return format!("InfoNCE (τ = {TAU})"),
            Objective::Eoa => {
                return format!("predictor ≔ mean of z over {EOA_VIEWS} views, sg on target");
            }
            Objective::NegCos => {}
        }
        let pred = match self.predictor {
            Predictor::None => "no predictor",
            Predictor::Linear => "linear predictor",
            Predictor::Mlp => "MLP predictor",
            Predictor::Bias => "bias-only predictor",
        };
        let side = if self.predictor == Predictor::None {
            ""
        } else if self.both_branches {
            " on both branches"
        } else {
            " on one branch"
        };
        let sg = match self.sg {
            StopGrad::Target => ", sg on target",
            StopGrad::Online => ", sg on predictor side (mirror)",
            StopGrad::Absent => ", no sg",
        };
        format!("{pred}{side}{sg}")
    }
}

/// Training settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Training {
    pub encoder: Encoder,
    pub steps: usize,
    pub lr: f64,
    pub weight_decay: f64,
    /// An off-centre start: this multiple of a random unit vector added to the encoder's output
    /// bias, so that every output starts near one direction (`‖o‖` close to 1).
    pub offset: f64,
}

impl Training {
    pub const fn new(encoder: Encoder) -> Self {
        Training {
            encoder,
            steps: STEPS,
            lr: LR,
            weight_decay: 0.0,
            offset: 0.0,
        }
    }
    pub fn describe(&self) -> String {
        format!(
            "{} encoder, {} full-batch SGD steps at lr {}{}",
            self.encoder.name(),
            self.steps,
            self.lr,
            if self.weight_decay > 0.0 {
                format!(", weight decay {}", self.weight_decay)
            } else {
                ", no weight decay".into()
            }
        ) + if self.offset > 0.0 {
            format!(", off-centre start (output bias + {}·u)", self.offset)
        } else {
            String::new()
        }
        .as_str()
    }
}

/// The trainable parameters.
#[derive(Clone, Debug)]
pub struct Params {
    pub w1: DMatrix<f64>,
    pub c1: DVector<f64>,
    /// MLP encoder only.
    pub w2: Option<(DMatrix<f64>, DVector<f64>)>,
    /// Linear: `A`, `a`; MLP: `A₁`, `a₁`, then `A₂`, `a₂` in `pred2`; bias: `b` in `pa`.
    pub pa: Option<DMatrix<f64>>,
    pub pb: Option<DVector<f64>>,
    pub pred2: Option<(DMatrix<f64>, DVector<f64>)>,
}

impl Params {
    fn zeros_like(&self) -> Params {
        let z = |m: &DMatrix<f64>| DMatrix::zeros(m.nrows(), m.ncols());
        let zv = |v: &DVector<f64>| DVector::zeros(v.len());
        Params {
            w1: z(&self.w1),
            c1: zv(&self.c1),
            w2: self.w2.as_ref().map(|(m, v)| (z(m), zv(v))),
            pa: self.pa.as_ref().map(z),
            pb: self.pb.as_ref().map(zv),
            pred2: self.pred2.as_ref().map(|(m, v)| (z(m), zv(v))),
        }
    }

    /// Every parameter, in a fixed order.
    pub fn flatten(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.w1.iter().copied().collect();
        v.extend(self.c1.iter());
        if let Some((m, b)) = &self.w2 {
            v.extend(m.iter());
            v.extend(b.iter());
        }
        if let Some(m) = &self.pa {
            v.extend(m.iter());
        }
        if let Some(b) = &self.pb {
            v.extend(b.iter());
        }
        if let Some((m, b)) = &self.pred2 {
            v.extend(m.iter());
            v.extend(b.iter());
        }
        v
    }

    fn axpy(&mut self, k: f64, g: &Params) {
        self.w1 += &g.w1 * k;
        self.c1 += &g.c1 * k;
        if let (Some((m, b)), Some((gm, gb))) = (&mut self.w2, &g.w2) {
            *m += gm * k;
            *b += gb * k;
        }
        if let (Some(m), Some(gm)) = (&mut self.pa, &g.pa) {
            *m += gm * k;
        }
        if let (Some(b), Some(gb)) = (&mut self.pb, &g.pb) {
            *b += gb * k;
        }
        if let (Some((m, b)), Some((gm, gb))) = (&mut self.pred2, &g.pred2) {
            *m += gm * k;
            *b += gb * k;
        }
    }
}

/// The seeded data of one run.
pub struct Data {
    pub x: DMatrix<f64>,
}

fn gauss(s: &mut Sampler) -> f64 {
    s.normal_at(64).to_f64()
}

/// Inputs of one seed: mixture centres, then the within-cluster noise, row by row.
pub fn data(s: &mut Sampler) -> Data {
    let centres = DMatrix::from_fn(CLUSTERS, N_IN, |_, _| gauss(s));
    let mut x = DMatrix::zeros(N, N_IN);
    for i in 0..N {
        for j in 0..N_IN {
            x[(i, j)] = centres[(i % CLUSTERS, j)] + CLUSTER_NOISE * gauss(s);
        }
    }
    Data { x }
}

/// The generator of the views: ChaCha8, seeded from the run's sampler (a fifth of ChaCha20's
/// cost; the views need independence, not cryptographic strength).
pub type ViewRng = rand_chacha::ChaCha8Rng;

/// The view generator of a run, seeded from its sampler.
pub fn view_rng(s: &mut Sampler) -> ViewRng {
    rand_core::SeedableRng::seed_from_u64(s.next_u64())
}

/// One view of every input: `m ⊙ x + σ·u`. One raw 64-bit word per entry: its top 53 bits give
/// the uniform `u`, its lowest 2 bits the mask (kept unless both are 0: probability 3/4).
pub fn view(x: &DMatrix<f64>, s: &mut ViewRng) -> DMatrix<f64> {
    let half = 3f64.sqrt();
    DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
        let w = rand_core::Rng::next_u64(s);
        let m = if w & 3 != 0 { 1.0 } else { 0.0 };
        let u = (2.0 * ((w >> 11) as f64 / (1u64 << 53) as f64) - 1.0) * half;
        m * x[(i, j)] + VIEW_NOISE * u
    })
}

/// The initial parameters: `N(0, 1/fan_in)` weights, zero biases (drawn encoder first).
pub fn init(s: &mut Sampler, enc: Encoder, pred: Predictor) -> Params {
    let mut mat = |r: usize, c: usize| {
        let k = 1.0 / (c as f64).sqrt();
        DMatrix::from_fn(r, c, |_, _| gauss(s) * k)
    };
    let (w1, c1, w2) = match enc {
        Encoder::Linear => (mat(D, N_IN), DVector::zeros(D), None),
        Encoder::Mlp => (
            mat(HIDDEN, N_IN),
            DVector::zeros(HIDDEN),
            Some((mat(D, HIDDEN), DVector::zeros(D))),
        ),
    };
    let (pa, pb, pred2) = match pred {
        Predictor::None => (None, None, None),
        Predictor::Linear => (Some(mat(D, D)), Some(DVector::zeros(D)), None),
        Predictor::Mlp => (
            Some(mat(PRED_HIDDEN, D)),
            Some(DVector::zeros(PRED_HIDDEN)),
            Some((mat(D, PRED_HIDDEN), DVector::zeros(D))),
        ),
        Predictor::Bias => (None, Some(DVector::zeros(D)), None),
    };
    Params {
        w1,
        c1,
        w2,
        pa,
        pb,
        pred2,
    }
}

/// `AB` by plain loops in a fixed order: no BLAS kernel chosen at run time (fused multiply-adds
/// on one CPU, not on another), so a run is the same on every x86-64 machine bit for bit.
fn mm(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    assert_eq!(a.ncols(), b.nrows(), "matrix product shapes");
    let (m, n) = (a.nrows(), b.ncols());
    let mut out = DMatrix::zeros(m, n);
    let (a_s, b_s) = (a.as_slice(), b.as_slice());
    let o_s = out.as_mut_slice();
    for j in 0..n {
        let ocol = &mut o_s[j * m..(j + 1) * m];
        accumulate(ocol, a_s, m, a.ncols(), |k| b_s[k + j * b.nrows()]);
    }
    out
}

/// `ocol += Σ_k A[:, k]·coef(k)` over the `kk` columns of the column-major `a_s` (`m` rows),
/// four columns per pass; each entry is still summed in the order k = 0, 1, 2, … (left to
/// right), so the result is the same bit for bit as one column per pass.
fn accumulate(ocol: &mut [f64], a_s: &[f64], m: usize, kk: usize, coef: impl Fn(usize) -> f64) {
    let mut k = 0;
    while k + 4 <= kk {
        let (c0, c1, c2, c3) = (coef(k), coef(k + 1), coef(k + 2), coef(k + 3));
        let a0 = &a_s[k * m..(k + 1) * m];
        let a1 = &a_s[(k + 1) * m..(k + 2) * m];
        let a2 = &a_s[(k + 2) * m..(k + 3) * m];
        let a3 = &a_s[(k + 3) * m..(k + 4) * m];
        for i in 0..m {
            ocol[i] = ocol[i] + a0[i] * c0 + a1[i] * c1 + a2[i] * c2 + a3[i] * c3;
        }
        k += 4;
    }
    while k < kk {
        let c = coef(k);
        for (o, x) in ocol.iter_mut().zip(&a_s[k * m..(k + 1) * m]) {
            *o += x * c;
        }
        k += 1;
    }
}

/// `AᵀB` (see [`mm`]): `A` transposed first, so that the inner loop runs down contiguous
/// columns.
fn mm_tn(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    assert_eq!(a.nrows(), b.nrows(), "matrix product shapes");
    mm(&a.transpose(), b)
}

/// `ABᵀ` (see [`mm`]).
fn mm_nt(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    assert_eq!(a.ncols(), b.ncols(), "matrix product shapes");
    let (m, n) = (a.nrows(), b.nrows());
    let mut out = DMatrix::zeros(m, n);
    let (a_s, b_s) = (a.as_slice(), b.as_slice());
    let o_s = out.as_mut_slice();
    for j in 0..n {
        let ocol = &mut o_s[j * m..(j + 1) * m];
        accumulate(ocol, a_s, m, a.ncols(), |k| b_s[j + k * n]);
    }
    out
}

fn add_row(m: &mut DMatrix<f64>, v: &DVector<f64>) {
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            m[(i, j)] += v[j];
        }
    }
}

fn relu(m: &DMatrix<f64>) -> DMatrix<f64> {
    m.map(|x| if x > 0.0 { x } else { 0.0 })
}

fn col_sum(m: &DMatrix<f64>) -> DVector<f64> {
    DVector::from_fn(m.ncols(), |j, _| m.column(j).sum())
}

/// Encoder forward, keeping what the backward pass needs.
struct EncCache<'a> {
    x: &'a DMatrix<f64>,
    /// MLP: pre-activation and activation of the hidden layer.
    hidden: Option<(DMatrix<f64>, DMatrix<f64>)>,
    z: DMatrix<f64>,
}

fn encode<'a>(p: &Params, x: &'a DMatrix<f64>) -> EncCache<'a> {
    let mut u = mm_nt(x, &p.w1);
    add_row(&mut u, &p.c1);
    match &p.w2 {
        None => EncCache {
            x,
            hidden: None,
            z: u,
        },
        Some((w2, c2)) => {
            let h = relu(&u);
            let mut z = mm_nt(&h, w2);
            add_row(&mut z, c2);
            EncCache {
                x,
                hidden: Some((u, h)),
                z,
            }
        }
    }
}

/// The encoder output of `x` (unnormalised).
pub fn encode_z(p: &Params, x: &DMatrix<f64>) -> DMatrix<f64> {
    encode(p, x).z
}

fn encode_back(p: &Params, c: &EncCache, dz: &DMatrix<f64>, g: &mut Params) {
    match (&p.w2, &c.hidden) {
        (None, _) => {
            g.w1 += mm_tn(dz, c.x);
            g.c1 += col_sum(dz);
        }
        (Some((w2, _)), Some((u, h))) => {
            let (gw2, gc2) = g.w2.as_mut().expect("MLP gradient");
            *gw2 += mm_tn(dz, h);
            *gc2 += col_sum(dz);
            let mut du = mm(dz, w2);
            du.zip_apply(u, |d, u| {
                if u <= 0.0 {
                    *d = 0.0
                }
            });
            g.w1 += mm_tn(&du, c.x);
            g.c1 += col_sum(&du);
        }
        _ => unreachable!("an MLP encoder keeps its hidden layer"),
    }
}

struct PredCache {
    z: DMatrix<f64>,
    hidden: Option<(DMatrix<f64>, DMatrix<f64>)>,
    out: DMatrix<f64>,
}

fn predict(p: &Params, kind: Predictor, z: &DMatrix<f64>) -> PredCache {
    let out = match kind {
        Predictor::None => z.clone(),
        Predictor::Bias => {
            let mut o = z.clone();
            add_row(&mut o, p.pb.as_ref().expect("bias"));
            o
        }
        Predictor::Linear => {
            let mut o = mm_nt(z, p.pa.as_ref().expect("A"));
            add_row(&mut o, p.pb.as_ref().expect("a"));
            o
        }
        Predictor::Mlp => {
            let mut u = mm_nt(z, p.pa.as_ref().expect("A1"));
            add_row(&mut u, p.pb.as_ref().expect("a1"));
            let h = relu(&u);
            let (a2, b2) = p.pred2.as_ref().expect("A2");
            let mut o = mm_nt(&h, a2);
            add_row(&mut o, b2);
            return PredCache {
                z: z.clone(),
                hidden: Some((u, h)),
                out: o,
            };
        }
    };
    PredCache {
        z: z.clone(),
        hidden: None,
        out,
    }
}

/// Backward through the predictor: returns `∂L/∂z`, accumulates the predictor's gradient.
fn predict_back(
    p: &Params,
    kind: Predictor,
    c: &PredCache,
    dout: &DMatrix<f64>,
    g: &mut Params,
) -> DMatrix<f64> {
    match kind {
        Predictor::None => dout.clone(),
        Predictor::Bias => {
            *g.pb.as_mut().expect("bias") += col_sum(dout);
            dout.clone()
        }
        Predictor::Linear => {
            *g.pa.as_mut().expect("A") += mm_tn(dout, &c.z);
            *g.pb.as_mut().expect("a") += col_sum(dout);
            mm(dout, p.pa.as_ref().expect("A"))
        }
        Predictor::Mlp => {
            let (u, h) = c.hidden.as_ref().expect("hidden");
            let (a2, _) = p.pred2.as_ref().expect("A2");
            {
                let (ga2, gb2) = g.pred2.as_mut().expect("A2 grad");
                *ga2 += mm_tn(dout, h);
                *gb2 += col_sum(dout);
            }
            let mut du = mm(dout, a2);
            du.zip_apply(u, |d, u| {
                if u <= 0.0 {
                    *d = 0.0
                }
            });
            *g.pa.as_mut().expect("A1") += mm_tn(&du, &c.z);
            *g.pb.as_mut().expect("a1") += col_sum(&du);
            mm(&du, p.pa.as_ref().expect("A1"))
        }
    }
}

/// Rows divided by their norms, and the norms.
pub fn normalise(z: &DMatrix<f64>) -> (DMatrix<f64>, Vec<f64>) {
    let norms: Vec<f64> = (0..z.nrows()).map(|i| z.row(i).norm()).collect();
    let zh = DMatrix::from_fn(z.nrows(), z.ncols(), |i, j| z[(i, j)] / norms[i]);
    (zh, norms)
}

/// `D(a, t) = −â·t̂` row by row, with `∂D/∂a = −(t̂ − (â·t̂)â)/‖a‖` and
/// `∂D/∂t = −(â − (â·t̂)t̂)/‖t‖`, each scaled by `k`.
pub fn neg_cos_rows(
    a: &DMatrix<f64>,
    t: &DMatrix<f64>,
    k: f64,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    let (ah, an) = normalise(a);
    let (th, tn) = normalise(t);
    let mut da = DMatrix::zeros(a.nrows(), a.ncols());
    let mut dt = DMatrix::zeros(a.nrows(), a.ncols());
    let mut loss = 0.0;
    for i in 0..a.nrows() {
        let c = ah.row(i).dot(&th.row(i));
        loss -= k * c;
        for j in 0..a.ncols() {
            da[(i, j)] = -k * (th[(i, j)] - c * ah[(i, j)]) / an[i];
            dt[(i, j)] = -k * (ah[(i, j)] - c * th[(i, j)]) / tn[i];
        }
    }
    (loss, da, dt)
}

/// The views a step uses: two views, and for the EOA objective [`EOA_VIEWS`] more (the mean over
/// them stands in for the predictor's output in both halves of the loss).
pub struct Views {
    pub v1: DMatrix<f64>,
    pub v2: DMatrix<f64>,
    pub extra: Vec<DMatrix<f64>>,
}

pub fn draw_views(x: &DMatrix<f64>, arch: &Arch, s: &mut ViewRng) -> Views {
    let v1 = view(x, s);
    let v2 = view(x, s);
    let extra = if arch.objective == Objective::Eoa {
        (0..EOA_VIEWS).map(|_| view(x, s)).collect()
    } else {
        Vec::new()
    };
    Views { v1, v2, extra }
}

/// The loss, its gradient, and `∂L/∂z₁` (the gradient reaching view 1's encoder output).
pub struct Step {
    pub loss: f64,
    pub grad: Params,
    pub dz1: DMatrix<f64>,
    pub z1: DMatrix<f64>,
}

/// The loss of `arch` at `p` on `views`, with its hand-derived gradient.
pub fn loss_and_grad(p: &Params, arch: &Arch, views: &Views) -> Step {
    let mut g = p.zeros_like();
    let e1 = encode(p, &views.v1);
    let e2 = encode(p, &views.v2);
    let n = e1.z.nrows() as f64;
    match arch.objective {
        Objective::InfoNce => {
            let (z1h, n1) = normalise(&e1.z);
            let (z2h, n2) = normalise(&e2.z);
            let s = mm_nt(&z1h, &z2h) / TAU;
            let b = s.nrows();
            // |s_ij| ≤ 1/τ = 2: exp cannot overflow, no shift is needed.
            let e = s.map(f64::exp);
            let rows: Vec<f64> = (0..b).map(|i| e.row(i).sum()).collect();
            let cols: Vec<f64> = (0..b).map(|j| e.column(j).sum()).collect();
            let mut loss = 0.0;
            let mut ds = DMatrix::zeros(b, b);
            for i in 0..b {
                loss += 0.5 / n * (rows[i].ln() + cols[i].ln() - 2.0 * s[(i, i)]);
                for j in 0..b {
                    ds[(i, j)] = 0.5 / n
                        * (e[(i, j)] / rows[i] + e[(i, j)] / cols[j] - 2.0 * f64::from(i == j));
                }
            }
            let dz1h = mm(&ds, &z2h) / TAU;
            let dz2h = mm_tn(&ds, &z1h) / TAU;
            let dz1 = through_normalise(&z1h, &n1, &dz1h);
            let dz2 = through_normalise(&z2h, &n2, &dz2h);
            encode_back(p, &e1, &dz1, &mut g);
            encode_back(p, &e2, &dz2, &mut g);
            Step {
                loss,
                grad: g,
                dz1,
                z1: e1.z,
            }
        }
        Objective::Eoa => {
            // Online output of view v: the mean of z over EOA_VIEWS further views.
            let mut loss = 0.0;
            let mut dz1 = DMatrix::zeros(e1.z.nrows(), e1.z.ncols());
            let mut dz2 = DMatrix::zeros(e1.z.nrows(), e1.z.ncols());
            let caches: Vec<EncCache> = views.extra.iter().map(|v| encode(p, v)).collect();
            let mut mean = DMatrix::zeros(e1.z.nrows(), e1.z.ncols());
            for c in &caches {
                mean += &c.z;
            }
            mean /= EOA_VIEWS as f64;
            let mut dmean = DMatrix::zeros(e1.z.nrows(), e1.z.ncols());
            for (target, dtarget) in [(&e2.z, &mut dz2), (&e1.z, &mut dz1)] {
                let (l, da, dt) = neg_cos_rows(&mean, target, 0.5 / n);
                loss += l;
                if arch.sg != StopGrad::Online {
                    dmean += da;
                }
                if arch.sg != StopGrad::Target {
                    *dtarget += dt;
                }
            }
            for c in &caches {
                encode_back(p, c, &(&dmean / EOA_VIEWS as f64), &mut g);
            }
            encode_back(p, &e1, &dz1, &mut g);
            encode_back(p, &e2, &dz2, &mut g);
            Step {
                loss,
                grad: g,
                dz1,
                z1: e1.z,
            }
        }
        Objective::NegCos => {
            let pr1 = predict(p, arch.predictor, &e1.z);
            let pr2 = predict(p, arch.predictor, &e2.z);
            let t1 = if arch.both_branches { &pr1.out } else { &e1.z };
            let t2 = if arch.both_branches { &pr2.out } else { &e2.z };
            let (la, da1, dt2) = neg_cos_rows(&pr1.out, t2, 0.5 / n);
            let (lb, da2, dt1) = neg_cos_rows(&pr2.out, t1, 0.5 / n);
            let online = arch.sg != StopGrad::Online;
            let target = arch.sg != StopGrad::Target;
            let zero = || DMatrix::zeros(da1.nrows(), da1.ncols());
            // Gradient arriving at each branch's predictor output and at its raw z.
            let (mut dp1, mut dp2) = (zero(), zero());
            let (mut dz1, mut dz2) = (zero(), zero());
            if online {
                dp1 += &da1;
                dp2 += &da2;
            }
            if target {
                if arch.both_branches {
                    dp1 += &dt1;
                    dp2 += &dt2;
                } else {
                    dz1 += &dt1;
                    dz2 += &dt2;
                }
            }
            dz1 += predict_back(p, arch.predictor, &pr1, &dp1, &mut g);
            dz2 += predict_back(p, arch.predictor, &pr2, &dp2, &mut g);
            encode_back(p, &e1, &dz1, &mut g);
            encode_back(p, &e2, &dz2, &mut g);
            Step {
                loss: la + lb,
                grad: g,
                dz1,
                z1: e1.z,
            }
        }
    }
}

/// `∂L/∂z = (I − ẑẑᵀ) ∂L/∂ẑ / ‖z‖`, row by row.
pub fn through_normalise(zh: &DMatrix<f64>, norms: &[f64], dzh: &DMatrix<f64>) -> DMatrix<f64> {
    let mut out = DMatrix::zeros(zh.nrows(), zh.ncols());
    for i in 0..zh.nrows() {
        let c = zh.row(i).dot(&dzh.row(i));
        for j in 0..zh.ncols() {
            out[(i, j)] = (dzh[(i, j)] - c * zh[(i, j)]) / norms[i];
        }
    }
    out
}

/// The collapse measurements on a batch of outputs `z` (unnormalised).
#[derive(Clone, Copy, Debug, Default)]
pub struct Health {
    /// Mean over dimensions of the standard deviation of `ẑ` (SimSiam's indicator), times `√d`:
    /// about 1 for outputs spread over the sphere, 0 at collapse.
    pub std_sqrt_d: f64,
    /// `‖mean ẑ‖`.
    pub centre: f64,
    /// `exp(entropy of λ/Σλ)` of the covariance of `ẑ` (0 if it vanishes).
    pub eff_rank: f64,
}

pub fn health(z: &DMatrix<f64>) -> Health {
    let (zh, _) = normalise(z);
    let n = zh.nrows() as f64;
    let mean = zh.row_mean();
    let zc = DMatrix::from_fn(zh.nrows(), zh.ncols(), |i, j| zh[(i, j)] - mean[j]);
    let cov = mm_tn(&zc, &zc) / n;
    let d = zh.ncols();
    let std_mean = (0..d).map(|j| cov[(j, j)].max(0.0).sqrt()).sum::<f64>() / d as f64;
    let total = cov.trace();
    let eff_rank = if total <= 1e-300 {
        0.0
    } else {
        let h: f64 = cov
            .symmetric_eigenvalues()
            .iter()
            .map(|&l| l.max(0.0) / total)
            .filter(|p| *p > 0.0)
            .map(|p| -p * p.ln())
            .sum();
        h.exp()
    };
    Health {
        std_sqrt_d: std_mean * (d as f64).sqrt(),
        centre: mean.norm(),
        eff_rank,
    }
}

/// The split of a gradient field `G` (rows: `∂L/∂zᵢ`) into its centre `Ḡ` and residuals, and the
/// first-order effect of a step `z ← z − ηG` on the normalised outputs, per unit `η`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Split {
    /// `cos(Ḡ, o)` with `o = mean ẑ` (in the raw space: positive means the step moves the centre
    /// of the raw outputs against `o`).
    pub cos_centre_o: f64,
    /// `‖Ḡ‖ / sqrt(mean ‖Gᵢ‖²)`: the weight of the centre part.
    pub centre_weight: f64,
    /// `d‖o‖²/dη` of the centre part alone (negative: de-centering).
    pub centre_effect: f64,
    /// `d‖o‖²/dη` of the residual part alone.
    pub residual_effect_on_o: f64,
    /// `d‖offdiag C‖²_F/dη` of the residual part alone (negative: de-correlation).
    pub residual_decorrelation: f64,
    /// `d‖offdiag C‖²_F/dη` of the centre part alone.
    pub centre_decorrelation: f64,
    /// `‖offdiag C‖_F` now.
    pub offdiag: f64,
    /// `‖o‖` now.
    pub centre: f64,
}

/// First-order changes of `‖o‖²` and `‖offdiag C‖²_F` under `z ← z − ηG`.
fn effects(zh: &DMatrix<f64>, norms: &[f64], g: &DMatrix<f64>) -> (f64, f64) {
    let (b, d) = (zh.nrows(), zh.ncols());
    let dzh = -through_normalise(zh, norms, g);
    let o = zh.row_mean();
    let dmean = dzh.row_mean();
    let d_o2 = 2.0 * o.dot(&dmean);
    let zc = DMatrix::from_fn(b, d, |i, j| zh[(i, j)] - o[j]);
    let dzc = DMatrix::from_fn(b, d, |i, j| dzh[(i, j)] - dmean[j]);
    let c = mm_tn(&zc, &zc) / b as f64;
    let dc = (mm_tn(&dzc, &zc) + mm_tn(&zc, &dzc)) / b as f64;
    let mut d_off = 0.0;
    for j in 0..d {
        for k in 0..d {
            if j != k {
                d_off += 2.0 * c[(j, k)] * dc[(j, k)];
            }
        }
    }
    (d_o2, d_off)
}

pub fn split(z: &DMatrix<f64>, g: &DMatrix<f64>) -> Split {
    let (zh, norms) = normalise(z);
    let (b, d) = (g.nrows(), g.ncols());
    let gbar = g.row_mean();
    let centre = DMatrix::from_fn(b, d, |_, j| gbar[j]);
    let resid = g - &centre;
    let o = zh.row_mean();
    let (ce, cd) = effects(&zh, &norms, &centre);
    let (re, rd) = effects(&zh, &norms, &resid);
    let ms = (g.iter().map(|x| x * x).sum::<f64>() / b as f64).sqrt();
    let zc = DMatrix::from_fn(b, d, |i, j| zh[(i, j)] - o[j]);
    let c = mm_tn(&zc, &zc) / b as f64;
    let off = (0..d)
        .flat_map(|j| (0..d).map(move |k| (j, k)))
        .filter(|(j, k)| j != k)
        .map(|(j, k)| c[(j, k)] * c[(j, k)])
        .sum::<f64>()
        .sqrt();
    Split {
        cos_centre_o: gbar.dot(&o) / (gbar.norm() * o.norm()),
        centre_weight: gbar.norm() / ms,
        centre_effect: ce,
        residual_effect_on_o: re,
        residual_decorrelation: rd,
        centre_decorrelation: cd,
        offdiag: off,
        centre: o.norm(),
    }
}

/// The gradient on `z₁` of the symmetric baseline: `½ mean D(z₁, sg z₂)` (SimSiam's collapsing
/// counterpart); for InfoNCE its positive-pair term `−mean ẑ₁·ẑ₂/τ` (both directions).
pub fn baseline_dz1(arch: &Arch, p: &Params, views: &Views) -> DMatrix<f64> {
    let z1 = encode(p, &views.v1).z;
    let z2 = encode(p, &views.v2).z;
    let n = z1.nrows() as f64;
    let k = match arch.objective {
        Objective::InfoNce => 1.0 / (n * TAU),
        _ => 0.5 / n,
    };
    neg_cos_rows(&z1, &z2, k).1
}

/// One recorded point of a run.
#[derive(Clone, Copy, Debug)]
pub struct Record {
    pub step: usize,
    pub health: Health,
    /// The same measurements on the predictor's output `h(z)` (equal to `health` without one).
    pub pred_health: Health,
    pub loss: f64,
    /// The split of the extra gradient (method − symmetric baseline) on `z₁`, if asked for.
    pub extra: Option<Split>,
    /// The split of the baseline gradient itself.
    pub base: Option<Split>,
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub records: Vec<Record>,
    pub params: Params,
    pub data: Data,
}

impl RunResult {
    pub fn last(&self) -> &Record {
        self.records.last().expect("records")
    }
    /// Collapsed: the per-dimension std of `ẑ` below a tenth of its isotropic value `1/√d`.
    pub fn collapsed(&self) -> bool {
        self.last().health.std_sqrt_d < 0.1
    }
}

impl Clone for Data {
    fn clone(&self) -> Self {
        Data { x: self.x.clone() }
    }
}
impl std::fmt::Debug for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Data({}×{})", self.x.nrows(), self.x.ncols())
    }
}

/// Trains `arch` under `t` from `seed`: data, initial weights, then the views of every step, all
/// from one stream. Records every [`RECORD_EVERY`] steps; with `decompose`, the split of the
/// extra gradient at each record.
pub fn train(arch: &Arch, t: &Training, seed: u64, decompose: bool) -> RunResult {
    let mut s = Sampler::new(seed, 64);
    let data = data(&mut s);
    let mut p = init(&mut s, t.encoder, arch.predictor);
    if t.offset > 0.0 {
        let u = DVector::from_fn(D, |_, _| gauss(&mut s));
        let u = &u / u.norm() * t.offset;
        match &mut p.w2 {
            Some((_, c2)) => *c2 += u,
            None => p.c1 += u,
        }
    }
    let mut vr = view_rng(&mut s);
    let mut records = Vec::new();
    for step in 0..=t.steps {
        let views = draw_views(&data.x, arch, &mut vr);
        let st = loss_and_grad(&p, arch, &views);
        // With `decompose`, every step of the first RECORD_EVERY is recorded too: an
        // off-centre start loses its centre within them.
        if step % RECORD_EVERY == 0 || step == t.steps || (decompose && step < RECORD_EVERY) {
            let (extra, base) = if decompose {
                let b = baseline_dz1(arch, &p, &views);
                let e = &st.dz1 - &b;
                (Some(split(&st.z1, &e)), Some(split(&st.z1, &b)))
            } else {
                (None, None)
            };
            let z = encode_z(&p, &data.x);
            records.push(Record {
                step,
                health: health(&z),
                pred_health: health(&predict(&p, arch.predictor, &z).out),
                loss: st.loss,
                extra,
                base,
            });
        }
        if step == t.steps {
            break;
        }
        let mut g = st.grad;
        if t.weight_decay > 0.0 {
            g.axpy(t.weight_decay, &p);
        }
        p.axpy(-t.lr, &g);
    }
    RunResult {
        records,
        params: p,
        data,
    }
}

// ---------------------------------------------------------------------------------------------
// Experiments: many seeds, shared within a process, and what they show
// ---------------------------------------------------------------------------------------------

/// Seeds per configuration.
pub const SEEDS: u64 = 20;

/// What a configuration is run as: the architecture and the training settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    pub arch: Arch,
    pub training: Training,
}

impl Config {
    pub const fn new(arch: Arch, encoder: Encoder) -> Self {
        Config {
            arch,
            training: Training::new(encoder),
        }
    }
    pub const fn with_weight_decay(mut self, wd: f64) -> Self {
        self.training.weight_decay = wd;
        self
    }
    pub const fn with_offset(mut self, offset: f64) -> Self {
        self.training.offset = offset;
        self
    }
    pub fn name(&self) -> String {
        format!("{}; {}", self.arch.name(), self.training.describe())
    }
    fn key(&self, seed: u64, decompose: bool) -> String {
        format!("{self:?}/{seed}/{decompose}")
    }
}

type Cache = std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<RunResult>>>;

fn cache() -> &'static Cache {
    static C: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    C.get_or_init(Default::default)
}

/// The runs of `cfg` on seeds `base, base+1, …, base+SEEDS−1`, from the process-wide cache or
/// trained now on up to two threads (each seed's run is independent and deterministic, so the
/// thread count changes nothing but the time).
pub fn runs(cfg: &Config, base: u64, decompose: bool) -> Vec<std::sync::Arc<RunResult>> {
    let seeds: Vec<u64> = (0..SEEDS).map(|k| base.wrapping_add(k)).collect();
    let missing: Vec<u64> = {
        let c = cache().lock().expect("cache");
        seeds
            .iter()
            .copied()
            .filter(|s| !c.contains_key(&cfg.key(*s, decompose)))
            .collect()
    };
    if !missing.is_empty() {
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 2);
        let chunks: Vec<Vec<u64>> = (0..workers)
            .map(|w| missing.iter().copied().skip(w).step_by(workers).collect())
            .collect();
        let done: Vec<(u64, RunResult)> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .into_iter()
                            .map(|s| (s, train(&cfg.arch, &cfg.training, s, decompose)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a training thread"))
                .collect()
        });
        let mut c = cache().lock().expect("cache");
        for (s, r) in done {
            c.insert(cfg.key(s, decompose), std::sync::Arc::new(r));
        }
    }
    let c = cache().lock().expect("cache");
    seeds
        .iter()
        .map(|s| c[&cfg.key(*s, decompose)].clone())
        .collect()
}

/// How a run ended, on the representation `ẑ` (or on the predictor's output).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Per-dimension std of `ẑ` below a tenth of `1/√d`: every output in one direction.
    Complete,
    /// Not complete, but the covariance of `ẑ` has effective rank below 1.5: the outputs lie
    /// on one line through the sphere (SimSiam's std indicator does not see this).
    Line,
    /// Neither.
    Spread,
}

pub fn ending(h: &Health) -> Ending {
    if h.std_sqrt_d < 0.1 {
        Ending::Complete
    } else if h.eff_rank < 1.5 {
        Ending::Line
    } else {
        Ending::Spread
    }
}

/// What the seeds of a configuration show, decided by the 95 % Wilson interval of the fraction
/// of seeds that collapse (completely or to a line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// The interval lies above ½: most runs of this configuration collapse.
    Collapses,
    /// The interval lies below ½: most runs do not.
    Avoids,
    /// The interval contains ½.
    Mixed,
}

/// The confidence level of the Wilson intervals.
pub const LEVEL: f64 = 0.95;

pub fn fate(k: u64, n: u64) -> Fate {
    let (lo, hi) = sslproof::check::stats::wilson_interval(k, n, LEVEL);
    if lo > 0.5 {
        Fate::Collapses
    } else if hi < 0.5 {
        Fate::Avoids
    } else {
        Fate::Mixed
    }
}

/// Which output a tally reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The encoder's output `ẑ`: the representation.
    Representation,
    /// The predictor's output `h(z)`: what the loss compares.
    Predictor,
}

/// The tally of one configuration over its seeds.
#[derive(Clone, Debug)]
pub struct Tally {
    pub complete: u64,
    pub line: u64,
    pub n: u64,
    pub std_median: f64,
    pub rank_median: f64,
    pub centre_median: f64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

pub fn tally(results: &[std::sync::Arc<RunResult>], out: Output) -> Tally {
    let hs: Vec<Health> = results
        .iter()
        .map(|r| match out {
            Output::Representation => r.last().health,
            Output::Predictor => r.last().pred_health,
        })
        .collect();
    let count = |e: Ending| hs.iter().filter(|h| ending(h) == e).count() as u64;
    Tally {
        complete: count(Ending::Complete),
        line: count(Ending::Line),
        n: hs.len() as u64,
        std_median: median(&mut hs.iter().map(|h| h.std_sqrt_d).collect::<Vec<_>>()),
        rank_median: median(&mut hs.iter().map(|h| h.eff_rank).collect::<Vec<_>>()),
        centre_median: median(&mut hs.iter().map(|h| h.centre).collect::<Vec<_>>()),
    }
}

impl Tally {
    pub fn collapsed(&self) -> u64 {
        self.complete + self.line
    }
    pub fn fate(&self) -> Fate {
        fate(self.collapsed(), self.n)
    }
    /// `k/n collapse (c complete, l to a line), Wilson 95 % [lo, hi]; medians`.
    pub fn describe(&self) -> String {
        let (lo, hi) = sslproof::check::stats::wilson_interval(self.collapsed(), self.n, LEVEL);
        format!(
            "{}/{} collapse ({} completely, {} to a line), Wilson 95 % [{lo:.2}, {hi:.2}], median std·√d {}, eff. rank {}, ‖o‖ {}",
            self.collapsed(),
            self.n,
            self.complete,
            self.line,
            sig3(self.std_median),
            sig3(self.rank_median),
            sig3(self.centre_median)
        )
    }
}

/// `x` to 3 significant digits (what the printed runs guarantee on every machine).
pub fn sig3(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let e = x.abs().log10().floor() as i32;
    if (-3..4).contains(&e) {
        let decimals = (2 - e).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.2e}")
    }
}

/// What a proposition claims of one configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Collapses,
    Avoids,
    /// Collapses or mixed: does not avoid collapse.
    DoesNotAvoid,
    /// Collapses, most collapsed runs completely.
    CollapsesCompletely,
    /// Collapses, most collapsed runs to a line.
    CollapsesToLine,
    /// At least one seed collapses (the configuration does not avoid collapse on every seed).
    SometimesCollapses,
    /// Avoids or mixed: does not collapse on most seeds.
    NotCollapses,
}

impl Expect {
    pub fn matches(self, t: &Tally) -> bool {
        let f = t.fate();
        match self {
            Expect::Collapses => f == Fate::Collapses,
            Expect::Avoids => f == Fate::Avoids,
            Expect::DoesNotAvoid => f != Fate::Avoids,
            Expect::CollapsesCompletely => f == Fate::Collapses && t.complete > t.line,
            Expect::CollapsesToLine => f == Fate::Collapses && t.line > t.complete,
            Expect::SometimesCollapses => t.collapsed() > 0,
            Expect::NotCollapses => f != Fate::Collapses,
        }
    }
}

/// A claimed fate for each of several configurations.
#[derive(Clone, Debug, PartialEq)]
pub struct Fates(pub Vec<(Config, Output, Expect)>);

/// Runs every configuration of `claimed` on [`SEEDS`] seeds from the check's seed and compares
/// each tally's fate with the claim.
pub fn check_fates(run: &mut sslproof::prelude::Run, claimed: &Fates) -> Result<String, String> {
    let base = run.seed();
    let mut lines = Vec::new();
    let mut ok = true;
    for (cfg, out, expect) in &claimed.0 {
        let rs = runs(cfg, base, false);
        run.count(rs.len());
        let t = tally(&rs, *out);
        let good = expect.matches(&t);
        ok &= good;
        lines.push(format!(
            "{}, {} encoder{}{} — {}: {}{}",
            cfg.arch.name(),
            cfg.training.encoder.name(),
            if cfg.training.weight_decay > 0.0 {
                format!(", weight decay {}", cfg.training.weight_decay)
            } else {
                String::new()
            },
            if *out == Output::Predictor {
                " [predictor output]"
            } else {
                ""
            },
            format!("{:?}", t.fate()).to_lowercase(),
            t.describe(),
            if good {
                String::new()
            } else {
                format!(" (claimed: {expect:?})")
            }
        ));
    }
    let detail = format!(
        "{STEPS} SGD steps at lr {LR}, seeds {base:#x}+0…{}: {}",
        SEEDS - 1,
        lines.join(" | ")
    );
    if ok { Ok(detail) } else { Err(detail) }
}

// ---------------------------------------------------------------------------------------------
// The same losses in MPFR, for the finite-difference checks of the hand-derived gradients
// ---------------------------------------------------------------------------------------------

/// A matrix of MPFR numbers, row-major.
struct HpMat {
    rows: usize,
    cols: usize,
    v: Vec<Float>,
}

impl HpMat {
    fn at(&self, i: usize, j: usize) -> &Float {
        &self.v[i * self.cols + j]
    }
}

struct HpParams {
    w1: HpMat,
    c1: Vec<Float>,
    w2: Option<(HpMat, Vec<Float>)>,
    pa: Option<HpMat>,
    pb: Option<Vec<Float>>,
    pred2: Option<(HpMat, Vec<Float>)>,
}

/// Reads `flat` in the order of [`Params::flatten`] (nalgebra's column-major order).
fn hp_unflatten(t: &Params, flat: &[Float]) -> HpParams {
    let mut pos = 0;
    let take = |n: usize, pos: &mut usize| {
        let v = flat[*pos..*pos + n].to_vec();
        *pos += n;
        v
    };
    let take_mat = |m: &DMatrix<f64>, pos: &mut usize| {
        let (r, c) = (m.nrows(), m.ncols());
        let mut v = vec![Float::new(flat[0].prec()); r * c];
        for j in 0..c {
            for i in 0..r {
                v[i * c + j] = flat[*pos].clone();
                *pos += 1;
            }
        }
        HpMat {
            rows: r,
            cols: c,
            v,
        }
    };
    let mut out = HpParams {
        w1: take_mat(&t.w1, &mut pos),
        c1: Vec::new(),
        w2: None,
        pa: None,
        pb: None,
        pred2: None,
    };
    out.c1 = take(t.c1.len(), &mut pos);
    if let Some((m, b)) = &t.w2 {
        let mm = take_mat(m, &mut pos);
        out.w2 = Some((mm, take(b.len(), &mut pos)));
    }
    if let Some(m) = &t.pa {
        out.pa = Some(take_mat(m, &mut pos));
    }
    if let Some(b) = &t.pb {
        out.pb = Some(take(b.len(), &mut pos));
    }
    if let Some((m, b)) = &t.pred2 {
        let mm = take_mat(m, &mut pos);
        out.pred2 = Some((mm, take(b.len(), &mut pos)));
    }
    assert_eq!(pos, flat.len(), "parameter count");
    out
}

/// `W x + c`.
fn hp_affine(w: &HpMat, c: &[Float], x: &[Float]) -> Vec<Float> {
    (0..w.rows)
        .map(|i| {
            let mut s = c[i].clone();
            for (j, xj) in x.iter().enumerate().take(w.cols) {
                s += Float::with_val(s.prec(), w.at(i, j) * xj);
            }
            s
        })
        .collect()
}

fn hp_relu(v: Vec<Float>) -> Vec<Float> {
    v.into_iter()
        .map(|x| if x > 0 { x } else { Float::new(x.prec()) })
        .collect()
}

fn hp_encode(p: &HpParams, x: &[Float]) -> Vec<Float> {
    let u = hp_affine(&p.w1, &p.c1, x);
    match &p.w2 {
        None => u,
        Some((w2, c2)) => hp_affine(w2, c2, &hp_relu(u)),
    }
}

fn hp_predict(p: &HpParams, kind: Predictor, z: &[Float]) -> Vec<Float> {
    match kind {
        Predictor::None => z.to_vec(),
        Predictor::Bias => z
            .iter()
            .zip(p.pb.as_ref().expect("bias"))
            .map(|(a, b)| Float::with_val(a.prec(), a + b))
            .collect(),
        Predictor::Linear => hp_affine(p.pa.as_ref().expect("A"), p.pb.as_ref().expect("a"), z),
        Predictor::Mlp => {
            let h = hp_relu(hp_affine(
                p.pa.as_ref().expect("A1"),
                p.pb.as_ref().expect("a1"),
                z,
            ));
            let (a2, b2) = p.pred2.as_ref().expect("A2");
            hp_affine(a2, b2, &h)
        }
    }
}

fn hp_dot(a: &[Float], b: &[Float]) -> Float {
    let mut s = Float::new(a[0].prec());
    for (x, y) in a.iter().zip(b) {
        s += Float::with_val(s.prec(), x * y);
    }
    s
}

fn hp_unit(a: &[Float]) -> Vec<Float> {
    let n = hp_dot(a, a).sqrt();
    a.iter()
        .map(|x| Float::with_val(x.prec(), x / &n))
        .collect()
}

fn hp_rows(m: &DMatrix<f64>, prec: u32) -> Vec<Vec<Float>> {
    (0..m.nrows())
        .map(|i| {
            (0..m.ncols())
                .map(|j| Float::with_val(prec, m[(i, j)]))
                .collect()
        })
        .collect()
}

/// The loss of `arch` on `views` in MPFR, with the online branch at `online` and the target
/// branch at `target` (flat parameters): a stop-gradient is a branch held at the base point, so
/// finite differences in `online` alone give the stop-gradient gradient.
pub fn loss_hp(
    arch: &Arch,
    template: &Params,
    online: &[Float],
    target: &[Float],
    views: &Views,
) -> Float {
    let prec = online[0].prec();
    let po = hp_unflatten(template, online);
    let pt = hp_unflatten(template, target);
    let x1 = hp_rows(&views.v1, prec);
    let x2 = hp_rows(&views.v2, prec);
    let n = x1.len();
    let mut loss = Float::new(prec);
    match arch.objective {
        Objective::InfoNce => {
            // No stop-gradient: both branches at `online`.
            let z1: Vec<Vec<Float>> = x1.iter().map(|x| hp_unit(&hp_encode(&po, x))).collect();
            let z2: Vec<Vec<Float>> = x2.iter().map(|x| hp_unit(&hp_encode(&po, x))).collect();
            let tau = Float::with_val(prec, TAU);
            let s: Vec<Vec<Float>> = z1
                .iter()
                .map(|a| z2.iter().map(|b| hp_dot(a, b) / &tau).collect())
                .collect();
            let half_n = Float::with_val(prec, 2 * n);
            for i in 0..n {
                let row: Float = s[i]
                    .iter()
                    .fold(Float::new(prec), |acc, x| acc + x.clone().exp());
                let col: Float =
                    (0..n).fold(Float::new(prec), |acc, k| acc + s[k][i].clone().exp());
                let li = row.ln() + col.ln() - Float::with_val(prec, &s[i][i] * 2u32);
                loss += li / &half_n;
            }
            loss
        }
        Objective::Eoa | Objective::NegCos => {
            let k = Float::with_val(prec, 2 * n);
            for (xa, xb) in [(&x1, &x2), (&x2, &x1)] {
                for i in 0..n {
                    let on = if arch.objective == Objective::Eoa {
                        let mut m = vec![Float::new(prec); D];
                        for v in &views.extra {
                            let z = hp_encode(&po, &hp_rows(v, prec)[i]);
                            for (a, b) in m.iter_mut().zip(&z) {
                                *a += b;
                            }
                        }
                        m.into_iter().map(|a| a / EOA_VIEWS as u32).collect()
                    } else {
                        hp_predict(&po, arch.predictor, &hp_encode(&po, &xa[i]))
                    };
                    let zt = hp_encode(&pt, &xb[i]);
                    let tg = if arch.both_branches {
                        hp_predict(&pt, arch.predictor, &zt)
                    } else {
                        zt
                    };
                    loss -= hp_dot(&hp_unit(&on), &hp_unit(&tg)) / &k;
                }
            }
            loss
        }
    }
}

/// What a gradient check compares the finite differences with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradForm {
    /// The hand-derived gradient as the training uses it.
    Hand,
    /// The claim that the stop-gradient changes nothing: finite differences with both branches
    /// moving.
    SgIgnored,
    /// The ½ of the symmetrised loss dropped (the hand-derived gradient doubled).
    HalfDropped,
    /// The gradient's sign flipped (ascent for descent).
    Negated,
}

/// Rows of the gradient check's batch.
pub const CHECK_ROWS: usize = 4;
/// Random directions per configuration.
pub const CHECK_DIRECTIONS: usize = 3;
/// The f64 gradient's allowed error in `⟨g, v⟩`, relative to `Σ|gᵢ vᵢ|`. Each entry of `g` is a
/// sum over the batch and the layers of at most a few hundred products, each rounded to
/// `2⁻⁵³ ≈ 1.1·10⁻¹⁶` relative and amplified by the `1/‖z‖` factors (‖z‖ ≥ 0.05 at the checked
/// points): a few `10⁻¹³`; `10⁻¹⁰` leaves a margin of 10³. A wrong gradient (a dropped ½, a
/// stop-gradient ignored) misses by a relative `O(1)`.
pub const CHECK_TOL: f64 = 1e-10;

/// The hand-derived gradient of `arch` with `encoder` against `prec`-bit Richardson finite
/// differences of [`loss_hp`] along [`CHECK_DIRECTIONS`] random directions, on
/// [`CHECK_ROWS`] inputs of the seed's data at its initial weights (biases and the bias-only
/// predictor perturbed by `N(0, 0.3²)` so that their gradients are not checked at zero only).
/// Returns the worst relative error and the loss's f64–MPFR agreement.
pub fn grad_check(
    arch: &Arch,
    encoder: Encoder,
    seed: u64,
    form: GradForm,
    prec: u32,
) -> Result<(f64, f64), String> {
    use sslproof::check::fd::{DEFAULT_STEP_LOG2, derivative};
    let mut s = Sampler::new(seed, 64);
    let d = data(&mut s);
    let x = d.x.rows(0, CHECK_ROWS).into_owned();
    let mut p = init(&mut s, encoder, arch.predictor);
    let mut jiggle = |v: &mut DVector<f64>| {
        for a in v.iter_mut() {
            *a += 0.3 * gauss(&mut s);
        }
    };
    jiggle(&mut p.c1);
    if let Some((_, b)) = &mut p.w2 {
        jiggle(b);
    }
    if let Some(b) = &mut p.pb {
        jiggle(b);
    }
    let views = draw_views(&x, arch, &mut view_rng(&mut s));
    let st = loss_and_grad(&p, arch, &views);
    let mut g = st.grad.flatten();
    match form {
        GradForm::HalfDropped => g.iter_mut().for_each(|x| *x *= 2.0),
        GradForm::Negated => g.iter_mut().for_each(|x| *x = -*x),
        GradForm::Hand | GradForm::SgIgnored => {}
    }
    let theta: Vec<Float> = p
        .flatten()
        .iter()
        .map(|x| Float::with_val(prec, *x))
        .collect();
    let base = loss_hp(arch, &p, &theta, &theta, &views).to_f64();
    let loss_err = (base - st.loss).abs() / base.abs().max(1e-300);
    let mut worst = 0f64;
    for _ in 0..CHECK_DIRECTIONS {
        let v: Vec<f64> = (0..g.len()).map(|_| gauss(&mut s)).collect();
        let along = |t: &Float| {
            let moved: Vec<Float> = theta
                .iter()
                .zip(&v)
                .map(|(a, vi)| Float::with_val(prec, a + Float::with_val(prec, t * vi)))
                .collect();
            let (on, tg) = match (form, arch.sg) {
                (GradForm::SgIgnored, _) | (_, StopGrad::Absent) => (&moved, &moved),
                (_, StopGrad::Target) => (&moved, &theta),
                (_, StopGrad::Online) => (&theta, &moved),
            };
            loss_hp(arch, &p, on, tg, &views)
        };
        let fd = derivative(&along, &Float::new(prec), DEFAULT_STEP_LOG2).to_f64();
        let hand: f64 = g.iter().zip(&v).map(|(a, b)| a * b).sum();
        let scale: f64 = g.iter().zip(&v).map(|(a, b)| (a * b).abs()).sum();
        worst = worst.max((hand - fd).abs() / scale.max(1e-300));
    }
    if worst <= CHECK_TOL && loss_err <= CHECK_TOL {
        Ok((worst, loss_err))
    } else {
        Err(format!(
            "{} with the {} encoder: worst directional error {:.1e} (tolerance {CHECK_TOL:.0e}), loss f64 vs MPFR {:.1e}",
            arch.name(),
            encoder.name(),
            worst,
            loss_err
        ))
    }
}

/// The hand-derived gradients of `archs`, both encoders, against finite differences
/// ([`grad_check`]), as a check of the claim files.
pub fn check_gradients(
    run: &mut sslproof::prelude::Run,
    form: &GradForm,
    archs: &[Arch],
) -> Result<String, String> {
    let seed = run.seed();
    let prec = run.prec();
    let (mut worst, mut loss_worst) = (0f64, 0f64);
    for (k, arch) in archs.iter().enumerate() {
        for enc in [Encoder::Linear, Encoder::Mlp] {
            let (w, l) = grad_check(arch, enc, seed.wrapping_add(k as u64), *form, prec)?;
            run.count(CHECK_DIRECTIONS);
            worst = worst.max(w);
            loss_worst = loss_worst.max(l);
        }
    }
    Ok(format!(
        "{} architectures × 2 encoders × {} random directions, {} inputs each: worst relative error of the f64 directional derivative {} (tolerance {:.0e}); f64 loss vs {prec}-bit loss {}",
        archs.len(),
        CHECK_DIRECTIONS,
        CHECK_ROWS,
        if worst < 1e-14 {
            "below 1e-14".to_string()
        } else {
            format!("{worst:.1e}")
        },
        CHECK_TOL,
        if loss_worst < 1e-14 {
            "below 1e-14".to_string()
        } else {
            format!("{loss_worst:.1e}")
        },
    ))
}

/// `plotted seed ends: name: Ending; …` for the curves of a figure.
pub fn plotted_ends(curves: &[(String, &RunResult)]) -> String {
    let ends: Vec<String> = curves
        .iter()
        .map(|(n, r)| format!("{n}: {:?}", ending(&r.last().health)))
        .collect();
    format!("plotted seed ends: {}", ends.join("; "))
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

/// A measurement plotted against the step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    StdSqrtD,
    Centre,
    EffRank,
}

impl Metric {
    fn of(self, h: &Health) -> f64 {
        match self {
            Metric::StdSqrtD => h.std_sqrt_d,
            Metric::Centre => h.centre,
            Metric::EffRank => h.eff_rank,
        }
    }
    fn label(self) -> (&'static str, &'static str, (f64, f64)) {
        match self {
            Metric::StdSqrtD => (
                "SimSiam's collapse indicator: mean std of ẑ per dimension × √d (1 ≈ spread, 0 = collapsed)",
                "std(ẑ)·√d",
                (0.0, 1.1),
            ),
            Metric::Centre => ("Norm of the centre o = mean ẑ", "‖o‖", (0.0, 1.05)),
            Metric::EffRank => (
                "Effective rank of the covariance of ẑ (of 8)",
                "effective rank",
                (0.0, 8.0),
            ),
        }
    }
}

/// One chart of `metric` against the step, a curve per run, as a figure of `run`.
pub fn trajectory_figure(
    run: &mut sslproof::prelude::Run,
    file: &str,
    metric: Metric,
    curves: &[(String, &RunResult)],
    caption_tail: &str,
) -> Result<(), String> {
    use sslproof::prelude::{Figure, plot};
    let (title, y, range) = metric.label();
    let steps = curves
        .iter()
        .filter_map(|(_, r)| r.records.last().map(|l| l.step))
        .max()
        .unwrap_or(STEPS);
    let series = curves
        .iter()
        .enumerate()
        .map(|(k, (name, r))| plot::Series {
            name: name.clone(),
            points: r
                .records
                .iter()
                .map(|rec| (rec.step as f64, metric.of(&rec.health)))
                .collect(),
            colour: k % 5,
            dashed: k >= 5,
        })
        .collect();
    let chart = plot::Chart {
        title: title.into(),
        x_label: "SGD step".into(),
        y_label: y.into(),
        x_range: (0.0, steps as f64),
        y_range: range,
        series,
    };
    run.figure(Figure {
        file: file.into(),
        caption: format!("{title}, against the step; {caption_tail}"),
        svg: plot::render(&chart).map_err(|e| format!("rendering the figure: {e}"))?,
    });
    Ok(())
}

/// A chart of several series against the step, the y-range fitted to the data.
pub fn series_figure(
    run: &mut sslproof::prelude::Run,
    file: &str,
    title: &str,
    y_label: &str,
    series: Vec<(String, Vec<(f64, f64)>)>,
    caption_tail: &str,
) -> Result<(), String> {
    use sslproof::prelude::{Figure, plot};
    let ys = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1));
    let (lo, hi) = ys.fold((0f64, 0f64), |(a, b), y| (a.min(y), b.max(y)));
    let pad = 0.05 * (hi - lo).max(1e-12);
    let x_max = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.0))
        .fold(1f64, f64::max);
    let chart = plot::Chart {
        title: title.into(),
        x_label: "SGD step".into(),
        y_label: y_label.into(),
        x_range: (0.0, x_max),
        y_range: (lo - pad, hi + pad),
        series: series
            .into_iter()
            .enumerate()
            .map(|(k, (name, points))| plot::Series {
                name,
                points,
                colour: k % 5,
                dashed: k >= 5,
            })
            .collect(),
    };
    run.figure(Figure {
        file: file.into(),
        caption: format!("{title}, against the step; {caption_tail}"),
        svg: plot::render(&chart).map_err(|e| format!("rendering the figure: {e}"))?,
    });
    Ok(())
}

/// The seeds on which most of the recorded steps that `qualify` satisfy `pred` (seeds with none
/// left out of `n`), with the 95 % Wilson interval of their share: `(k, n, lo, hi)`.
pub fn seed_majority_where(
    results: &[std::sync::Arc<RunResult>],
    qualify: impl Fn(&Record) -> bool,
    pred: impl Fn(&Record) -> bool,
) -> (u64, u64, f64, f64) {
    let (mut k, mut n) = (0u64, 0u64);
    for r in results {
        let recs: Vec<&Record> = r.records.iter().filter(|x| qualify(x)).collect();
        if recs.is_empty() {
            continue;
        }
        n += 1;
        k += u64::from(2 * recs.iter().filter(|x| pred(x)).count() > recs.len());
    }
    let (lo, hi) = if n == 0 {
        (0.0, 1.0)
    } else {
        sslproof::check::stats::wilson_interval(k, n, LEVEL)
    };
    (k, n, lo, hi)
}

/// Views of the expectation-over-augmentations estimate.
pub const EOA_ESTIMATE_VIEWS: usize = 32;

/// How far the trained predictor's output is from the expectation over augmentations (EOA):
/// for each input, `ê` = the normalised mean of `z` over [`EOA_ESTIMATE_VIEWS`] fresh views, and
/// one further view's `ẑ` and `ĥ(z)`; returns `(mean ‖ĥ − ê‖, mean ‖ẑ − ê‖)`. SimSiam's
/// explanation reads the predictor as an estimate of the EOA, which would put `ĥ` closer to `ê`
/// than a single view's `ẑ` is.
pub fn eoa_distances(r: &RunResult, arch: &Arch, seed: u64) -> (f64, f64) {
    let mut s = Sampler::new(seed ^ 0x05ee_de0a, 64);
    let mut vr = view_rng(&mut s);
    let x = &r.data.x;
    let mut mean = DMatrix::zeros(x.nrows(), D);
    for _ in 0..EOA_ESTIMATE_VIEWS {
        mean += encode_z(&r.params, &view(x, &mut vr));
    }
    let (eh, _) = normalise(&mean);
    let z = encode_z(&r.params, &view(x, &mut vr));
    let (zh, _) = normalise(&z);
    let (ph, _) = normalise(&predict(&r.params, arch.predictor, &z).out);
    let dist = |a: &DMatrix<f64>| {
        (0..a.nrows())
            .map(|i| (a.row(i) - eh.row(i)).norm())
            .sum::<f64>()
            / a.nrows() as f64
    };
    (dist(&ph), dist(&zh))
}

// ---------------------------------------------------------------------------------------------
// The extra gradient's split, over seeds
// ---------------------------------------------------------------------------------------------

/// Which recorded steps a split measurement reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Along training: steps 20, 40, …, the last (every [`RECORD_EVERY`]th, not the start).
    Along,
    /// The first [`RECORD_EVERY`] steps, every one (runs with an off-centre start: the centre is
    /// there to remove).
    Early,
}

/// What is read of the extra gradient (method − symmetric baseline) at a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Its centre part moves `‖o‖` down: `d‖o‖²/dη < 0`.
    CentreDecentres,
    /// Its residual part lowers the off-diagonal covariance: `d‖offdiag C‖²_F/dη < 0`.
    ResidualDecorrelates,
    /// Its centre part is not negligible: `‖Ḡ‖ > 10⁻³ · rms‖Gᵢ‖`.
    CentreNonzero,
}

impl Part {
    fn holds(self, s: &Split) -> bool {
        match self {
            Part::CentreDecentres => s.centre_effect < 0.0,
            Part::ResidualDecorrelates => s.residual_decorrelation < 0.0,
            Part::CentreNonzero => s.centre_weight > 1e-3,
        }
    }
}

/// Over seeds: does the part hold on most of each seed's steps in the window, on most seeds?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Majority {
    /// The Wilson interval of the share of such seeds lies above ½.
    Most,
    /// It lies below ½.
    Few,
    /// It contains ½.
    Mixed,
}

/// A claimed majority for each (configuration, window, part).
#[derive(Clone, Debug, PartialEq)]
pub struct Splits(pub Vec<(Config, Window, Part, Majority)>);

/// The runs a split measurement needs: full runs for [`Window::Along`], the first
/// [`RECORD_EVERY`] steps for [`Window::Early`].
fn split_runs(cfg: &Config, w: Window, base: u64) -> Vec<std::sync::Arc<RunResult>> {
    let mut c = *cfg;
    if w == Window::Early {
        c.training.steps = RECORD_EVERY;
    }
    runs(&c, base, true)
}

pub fn split_tally(cfg: &Config, w: Window, part: Part, base: u64) -> (u64, u64, f64, f64, f64) {
    let rs = split_runs(cfg, w, base);
    let window = |r: &Record| match w {
        Window::Along => r.step > 0 && r.step.is_multiple_of(RECORD_EVERY),
        Window::Early => r.step < RECORD_EVERY,
    };
    let pred = |r: &Record| r.extra.is_some_and(|s| part.holds(&s));
    let (k, n, lo, hi) = seed_majority_where(&rs, window, pred);
    let (mut a, mut b) = (0usize, 0usize);
    for r in &rs {
        for rec in r.records.iter().filter(|x| window(x)) {
            b += 1;
            a += usize::from(pred(rec));
        }
    }
    (k, n, lo, hi, a as f64 / b.max(1) as f64)
}

pub fn check_splits(run: &mut sslproof::prelude::Run, claimed: &Splits) -> Result<String, String> {
    let base = run.seed();
    let mut ok = true;
    let mut lines = Vec::new();
    for (cfg, w, part, expect) in &claimed.0 {
        let (k, n, lo, hi, share) = split_tally(cfg, *w, *part, base);
        run.count(n as usize);
        let got = if lo > 0.5 {
            Majority::Most
        } else if hi < 0.5 {
            Majority::Few
        } else {
            Majority::Mixed
        };
        let good = got == *expect;
        ok &= good;
        lines.push(format!(
            "{}, {} encoder{}, {:?}, {part:?}: {k}/{n} seeds (on most of their steps), Wilson 95 % [{lo:.2}, {hi:.2}] → {got:?}; {:.0} % of all steps{}",
            cfg.arch.name(),
            cfg.training.encoder.name(),
            if cfg.training.offset > 0.0 { ", off-centre start" } else { "" },
            w,
            100.0 * share,
            if good { String::new() } else { format!(" (claimed: {expect:?})") }
        ));
    }
    let detail = format!("seeds {base:#x}+0…{}: {}", SEEDS - 1, lines.join(" | "));
    if ok { Ok(detail) } else { Err(detail) }
}
