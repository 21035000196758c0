//! What a loss is to the checker: the [`Loss`] trait that each loss module implements, and the
//! declarations it is made of ([`Variant`], [`Param`], [`Mistake`]).
//!
//! One loss lives in one module (`vicreg.rs`, `coding_rate.rs`, …): its MPFR form with analytic
//! gradients, its float form with the *convention knobs* through which implementations differ
//! (a variant or a planted mistake is a knob setting), its variants and common mistakes, the
//! magnitudes through which rounding errors reach it (for [`crate::rounding`]) and what its golden
//! inputs look like. Adding a loss means adding one module and one line in
//! [`crate::registry::LOSSES`].

use nalgebra::DMatrix;
use sslproof::hp::Mat;

use crate::batch::{BatchError, LossAndGrad};
use crate::float::Out;
use crate::registry::LossSpec;
use crate::rounding::{Magnitudes, Mode};

/// What values a parameter may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// Any finite number.
    Finite,
    /// `> 0`.
    Positive,
    /// `[0, 1)`: an exponential-moving-average weight.
    UnitInterval,
}

impl Range {
    /// `None` if `x` is allowed, else why not.
    pub fn refuses(self, x: f64) -> Option<&'static str> {
        if !x.is_finite() {
            return Some("must be finite");
        }
        match self {
            Range::Finite => None,
            Range::Positive if x <= 0.0 => Some("must be > 0"),
            Range::UnitInterval if !(0.0..1.0).contains(&x) => Some("must be in [0, 1)"),
            _ => None,
        }
    }
}

/// A parameter of a variant with its default in that implementation (a decimal, exact as
/// written: the MPFR side reads it as the decimal, not as the nearest double).
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub default: f64,
    pub range: Range,
}

/// `Param` in one line.
pub const fn param(name: &'static str, default: f64, range: Range) -> Param {
    Param {
        name,
        default,
        range,
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
    pub params: &'static [Param],
}

/// A common mistake the checker recognises.
#[derive(Debug)]
pub struct Mistake {
    pub id: &'static str,
    pub says: &'static str,
}

/// Matrices a loss holds at once beyond its inputs (see [`Loss::scratch`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scratch {
    /// `d × d` matrices (covariances, cross-correlations, their inverses).
    pub dd: u32,
    /// `N × N` matrices, `N` the rows of all views together (similarities, distances, Gram).
    pub nn: u32,
    /// The MPFR reference holds its `dd + nn` scratch matrices as `min(N, d)` squared only (the
    /// coding rate: its batch or its feature form, whichever is smaller); the `d × d` and
    /// `N × N` ones are then float matrices (the f64 evaluations, the official codes' float32
    /// feature form). Otherwise the reference holds the same matrices as the float forms.
    pub hp_min_side: bool,
}

/// How the official codes compute a loss, against our float form ([`Loss::official_algorithm`]).
#[derive(Clone, Debug, PartialEq)]
pub enum OfficialAlgorithm {
    /// By the same algorithm (up to the order of sums).
    Same,
    /// By another one, which [`Loss::evaluate_f32_official`] runs: what it is.
    Other(&'static str),
    /// By another one that the estimate does not run here — too costly at this shape, or one
    /// whose float32 error our runs were measured not to reproduce: why. The estimate then keeps
    /// the bound.
    NotRun(String),
}

/// A loss the checker, the golden files and the theorems know. The default methods describe the
/// common case: two views `z1 z2` of shape `B × d`, both with gradients.
pub trait Loss: Sync {
    /// The name on the command line, in the golden files and in the reports (`vicreg`).
    fn name(&self) -> &'static str;

    /// The variants, the default (the official code's convention) first.
    fn variants(&self) -> &'static [Variant];

    /// The common mistakes the checker tries.
    fn mistakes(&self) -> &'static [Mistake];

    /// Whether `mistake` changes `variant`'s loss at all (VICReg's halving mistakes depend on
    /// whether the variant halves).
    fn mistake_applies(&self, _variant: &Variant, _mistake: &Mistake) -> bool {
        true
    }

    /// The names of the inputs when `n` are given (`n` matters only for [`Loss::variable_views`]).
    fn input_names(&self, _variant: &Variant, _n: usize) -> Vec<String> {
        vec!["z1".into(), "z2".into()]
    }

    /// Whether the variant takes any number (two or more) of views, one input each.
    fn variable_views(&self, _variant: &Variant) -> bool {
        false
    }

    /// How many inputs, the leading ones, have a gradient.
    fn grad_count(&self, _variant: &Variant, n_inputs: usize) -> usize {
        n_inputs
    }

    /// How many `d × d` and `N × N` (`N` = all rows of all views) f64 matrices the loss and its
    /// checking (reference, magnitudes, the variants tried by the diagnosis, one at a time) hold
    /// at once, beyond the inputs: the memory budget of `check` is decided from it before anything
    /// is allocated ([`crate::registry::LossSpec::working_set`]). Default: covariance-type losses
    /// (d × d products and their inverses).
    fn scratch(&self) -> Scratch {
        Scratch {
            dd: 8,
            nn: 0,
            hp_min_side: false,
        }
    }

    /// The inputs that are covariance matrices (a running state): they must be symmetric and
    /// positive semi-definite, and are refused with an error naming them otherwise.
    fn covariance_inputs(&self) -> &'static [&'static str] {
        &[]
    }

    /// The shape the input `name` must have when the first input is `B × d`.
    fn input_shape(&self, _name: &str, b: usize, d: usize) -> (usize, usize) {
        (b, d)
    }

    /// The loss and its gradients in `f64`, in `spec`'s convention or with a mistake planted.
    fn evaluate_f64(
        &self,
        spec: &LossSpec,
        mistake: Option<&str>,
        inputs: &[DMatrix<f64>],
    ) -> Result<Out<f64>, BatchError>;

    /// The same in `f32` (what the rounding model is validated against).
    fn evaluate_f32(
        &self,
        spec: &LossSpec,
        mistake: Option<&str>,
        inputs: &[DMatrix<f32>],
    ) -> Result<Out<f32>, BatchError>;

    /// Whether the official codes compute this variant at `B × d` by another algorithm than our
    /// float form (one whose rounding errors differ: the coding rate's `d × d` feature form when
    /// `d > B`, where ours takes the `B × B` batch form) in `precision`'s arithmetic. The estimate
    /// ([`crate::estimate`]) then runs both, the other through [`Loss::evaluate_f32_official`]
    /// (under the same emulated products in TF32 and bfloat16).
    fn official_algorithm(
        &self,
        _spec: &LossSpec,
        _b: usize,
        _d: usize,
        _precision: crate::rounding::Precision,
    ) -> OfficialAlgorithm {
        OfficialAlgorithm::Same
    }

    /// Whether every matrix product of the float form (forward and gradient) goes through the
    /// kernels that emulate TF32 and bfloat16 products ([`crate::kernels::reduced`]), and those
    /// products are where the official codes' reduced precision acts: the estimate is then made
    /// in TF32 and bfloat16 too. A loss without matrix products (its official codes' reductions
    /// run in float32 under autocast, or their reduced-precision steps are not known here) keeps
    /// the bound there.
    fn emulates_reduced_products(&self) -> bool {
        false
    }

    /// The multiple of our runs' largest error (relative to the bound) that the estimate takes as
    /// the tolerance at `B × d` in `precision` ([`crate::estimate`]): [`crate::estimate::FACTOR`],
    /// or more where other implementations were measured to err more than our runs there.
    fn estimate_factor(
        &self,
        _spec: &LossSpec,
        _b: usize,
        _d: usize,
        _precision: crate::rounding::Precision,
    ) -> f64 {
        crate::estimate::FACTOR
    }

    /// The loss in `f32` by the official codes' algorithm (see [`Loss::official_algorithm`]).
    fn evaluate_f32_official(
        &self,
        spec: &LossSpec,
        inputs: &[DMatrix<f32>],
    ) -> Result<Out<f32>, BatchError> {
        self.evaluate_f32(spec, None, inputs)
    }

    /// The loss at `prec` bits (MPFR), where the high-precision form has this convention.
    fn evaluate_hp(
        &self,
        spec: &LossSpec,
        inputs: &[Mat],
        prec: u32,
    ) -> Option<Result<LossAndGrad, BatchError>>;

    /// Work of the MPFR form in multiply-adds, to decide whether it is affordable.
    fn hp_work(&self, spec: &LossSpec, b: usize, d: usize, n_inputs: usize) -> f64;

    /// The magnitudes through which rounding errors reach the value and each gradient
    /// ([`crate::rounding`]); `out` is the `f64` loss at `inputs`.
    fn magnitudes(
        &self,
        spec: &LossSpec,
        inputs: &[DMatrix<f64>],
        out: &Out<f64>,
        mode: Mode,
    ) -> Magnitudes;

    /// Golden inputs: whether the rows are L2-normalised (losses used on normalised features).
    fn unit_rows(&self) -> bool {
        false
    }

    /// Golden inputs: how many views to draw (the inputs with a gradient, by default).
    fn golden_views(&self, variant: &Variant) -> usize {
        self.grad_count(variant, self.input_names(variant, 2).len())
    }

    /// Golden inputs beyond the views (CorInfoMax's running state), drawn with `gauss(rows, cols)`
    /// after the views.
    fn golden_state(
        &self,
        _variant: &Variant,
        _d: usize,
        _gauss: &mut dyn FnMut(usize, usize) -> DMatrix<f64>,
    ) -> Vec<DMatrix<f64>> {
        Vec::new()
    }

    /// The large golden cases of the default variant (`golden --large`): name, `B`, `d`.
    fn large_cases(&self) -> &'static [(&'static str, usize, usize)] {
        &[("b256-d128", 256, 128)]
    }
}

/// The two float methods of [`Loss`] from one generic `evaluate::<T>` in the loss's module.
macro_rules! float_evaluations {
    () => {
        fn evaluate_f64(
            &self,
            spec: &$crate::registry::LossSpec,
            mistake: Option<&str>,
            inputs: &[nalgebra::DMatrix<f64>],
        ) -> Result<$crate::float::Out<f64>, $crate::batch::BatchError> {
            evaluate(spec, mistake, inputs)
        }
        fn evaluate_f32(
            &self,
            spec: &$crate::registry::LossSpec,
            mistake: Option<&str>,
            inputs: &[nalgebra::DMatrix<f32>],
        ) -> Result<$crate::float::Out<f32>, $crate::batch::BatchError> {
            evaluate(spec, mistake, inputs)
        }
    };
}
pub(crate) use float_evaluations;
