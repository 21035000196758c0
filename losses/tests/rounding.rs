//! The rounding-error model of `sslproof_losses::rounding` against real float32 arithmetic: every loss,
//! every variant, sizes from tiny to B = 256, computed by the same algorithms in `f32`, compared
//! with the MPFR/f64 reference. The model must bound every observed error (ratio ≤ 1) and must
//! not be vacuous (the largest ratio per loss above 1/1000: the tolerance is not a blanket).

use nalgebra::DMatrix;
use sslproof_losses::checker::{self, Options};
use sslproof_losses::golden::{self, Case};
use sslproof_losses::registry::{self, LossSpec};
use sslproof_losses::rounding::{self, Precision};

struct Ratios {
    value: f64,
    grad: f64,
}

fn measure(spec: &LossSpec, case: &Case, seed: u64) -> Option<Ratios> {
    let xs = golden::inputs(spec, case, seed);
    let opts = Options {
        precision: Precision::F32,
        ..Options::default()
    };
    let r = checker::reference(spec, &xs, &opts).unwrap();
    let tol = rounding::tolerance(&r.scale, &r.out64, Precision::F32);
    if tol.untrustworthy.is_some() {
        return None;
    }
    let xs32: Vec<DMatrix<f32>> = xs.iter().map(|m| m.map(|x| x as f32)).collect();
    let o = spec.evaluate(None, &xs32).unwrap();
    // Entry by entry, each against its own tolerance (as `check` compares).
    let user = checker::UserNumbers {
        value: o.value as f64,
        grads: Some(o.grads.iter().map(|g| g.map(|x| x as f64)).collect()),
    };
    let (value, grad) = checker::error_over_tolerance(&tol, &r, &user);
    Some(Ratios { value, grad })
}

#[test]
fn float32_errors_stay_within_the_model() {
    let sizes = [
        (4usize, 3usize),
        (16, 8),
        (8, 24),
        (64, 32),
        (128, 16),
        (32, 96),
    ];
    let mut report = String::new();
    let mut failures = Vec::new();
    for &loss in registry::LOSSES {
        let (mut vmax, mut gmax, mut n, mut skipped) = (0f64, 0f64, 0, 0);
        for v in loss.variants() {
            let spec = LossSpec::new(loss, Some(v.name), &[]).unwrap();
            for (b, d) in sizes {
                for rep in 0..3u64 {
                    let case = Case {
                        name: "validation",
                        b,
                        d,
                        large: false,
                    };
                    let seed = golden::seed_of(loss, v.name, "validation")
                        ^ (rep << 32)
                        ^ ((b * 1000 + d) as u64);
                    match measure(&spec, &case, seed) {
                        Some(r) => {
                            n += 1;
                            vmax = vmax.max(r.value);
                            gmax = gmax.max(r.grad);
                            if r.value > 1.0 || r.grad > 1.0 {
                                failures.push(format!("{loss} {} B={b} d={d} rep {rep}: value ratio {:.3}, grad ratio {:.3}", v.name, r.value, r.grad));
                            }
                        }
                        None => skipped += 1,
                    }
                }
            }
        }
        if n > 0 && vmax.max(gmax) < 1e-3 {
            failures.push(format!(
                "{loss}: the model is vacuous (largest ratio {:.1e} < 1e-3)",
                vmax.max(gmax)
            ));
        }
        report.push_str(&format!("{loss:<14} cases {n:>3} (untrustworthy, skipped: {skipped:>2})  max error/tolerance: value {vmax:.3e}, gradient {gmax:.3e}\n"));
    }
    eprintln!("{report}");
    assert!(
        failures.is_empty(),
        "the model underestimates:\n{}",
        failures.join("\n")
    );
}
