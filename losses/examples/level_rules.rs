//! Four rules for the estimated tolerance's level, against another implementation's gradients
//! (`docs/losses.md`, "Rows and columns"): for each `.npz` case written by
//! `examples/python/dump_calibration_cases.py` (`PRECISION__LOSS__VARIANT__BxD__SEED.npz`: the
//! inputs, the implementation's value and gradients, default parameters), our runs are measured
//! once ([`estimate::measure`]) and four tolerances built from them:
//!
//! - G: one factor per input, `min(1, max(F·ρ, FLOOR))` with `ρ` the input's largest
//!   `|error| / bound` (float32's rule);
//! - R: each entry's `ρ` the largest of its row or its column;
//! - X: each entry's own `|error| / bound`, floored at the smaller of its row's and column's;
//! - A: each entry `F` times the largest `|error|` in its row or column
//!   ([`estimate::line_errors`]), within `[FLOOR, 1]` times its bound;
//! - M: the smaller of A and R ([`estimate::line_tolerance`]: the rule in TF32 and bfloat16).
//!
//! Per case and rule: the implementation's largest `|error| / tolerance` ("safety", must stay
//! below 1) and the tolerance at the gradient's largest entry over that entry ("level", exit 3
//! from ½, marked `!`), and the implementation's largest error over the largest entry.
//!
//! `cargo run --release -p sslproof-losses --example level_rules -- DIR`

use nalgebra::DMatrix;
use sslproof_losses::checker::{self, Options, grad_tols};
use sslproof_losses::estimate;
use sslproof_losses::input;
use sslproof_losses::registry::{self, LossSpec};
use sslproof_losses::rounding::{self, Precision};

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: level_rules DIR (the .npz cases of dump_calibration_cases.py)");
        std::process::exit(2);
    };
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(d) => d.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            eprintln!("{dir}: {e}");
            std::process::exit(2);
        }
    };
    files.sort();
    println!(
        "case | G: safety level | R: safety level | X: safety level | A: safety level | M: safety level | error / largest entry"
    );
    for f in files {
        let name = f
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let parts: Vec<&str> = name.split("__").collect();
        let (Some(prec), Some(loss)) = (
            parts.first().and_then(|p| Precision::parse(p)),
            parts.get(1).and_then(|l| registry::find(l)),
        ) else {
            eprintln!("{name}: not PRECISION__LOSS__VARIANT__BxD__SEED");
            continue;
        };
        let Ok(spec) = LossSpec::new(loss, parts.get(2).copied(), &[]) else {
            eprintln!("{name}: unknown variant");
            continue;
        };
        if prec != Precision::F32 && !loss.emulates_reduced_products() {
            println!(
                "{name} | the bound: {} is not emulated in {}",
                loss.name(),
                prec.as_str()
            );
            continue;
        }
        let uf = match input::from_npz(&spec, &f, 1 << 32) {
            Ok(u) => u,
            Err(e) => {
                eprintln!("{name}: {e}");
                continue;
            }
        };
        let Some(user) = uf.grads else {
            eprintln!("{name}: no gradients");
            continue;
        };
        let opts = Options {
            precision: prec,
            ..Options::default()
        };
        let Ok(r) = checker::reference(&spec, &uf.inputs, &opts) else {
            continue;
        };
        let bound = rounding::tolerance(&r.scale, &r.out64, prec);
        let ng = r.out.grads.len();
        let runs = match estimate::measure(&spec, &uf.inputs, &r, &bound, &Default::default()) {
            Ok(m) => m,
            Err(e) => {
                println!(
                    "{name} | no estimate: {}",
                    e.chars().take(80).collect::<String>()
                );
                continue;
            }
        };
        let (b, d) = uf.inputs[0].shape();
        let factor = loss.estimate_factor(&spec, b, d, prec);
        let tg = grad_tols(&bound, &r, ng);
        let mut worst = [(0f64, 0f64); 5];
        let mut err_max = 0f64;
        for t in 0..ng {
            let rg = &r.out.grads[t];
            let gmax = rg.amax();
            if gmax == 0.0 {
                continue;
            }
            let k = rg.iamax_full();
            let (nr, nc) = rg.shape();
            let bm = DMatrix::from_fn(nr, nc, |i, j| tg[t].at(i, j));
            let q = runs.max_error[t].component_div(&bm);
            let rows: Vec<f64> = (0..nr).map(|i| q.row(i).max()).collect();
            let cols: Vec<f64> = (0..nc).map(|j| q.column(j).max()).collect();
            let few = estimate::too_few_erred(runs.erred[t], runs.entries[t]);
            let s = |x: f64| {
                if few {
                    1.0
                } else {
                    (factor * x).clamp(estimate::FLOOR, 1.0)
                }
            };
            let lines = DMatrix::from_fn(nr, nc, |i, j| rows[i].max(cols[j]));
            let rules = [
                bm.map(|x| x * s(q.max())),
                bm.component_mul(&lines.map(s)),
                DMatrix::from_fn(nr, nc, |i, j| {
                    bm[(i, j)] * s(rows[i].min(cols[j]).max(q[(i, j)]))
                }),
            ];
            let env = estimate::line_errors(&runs.max_error[t]);
            let a = DMatrix::from_fn(nr, nc, |i, j| {
                if few {
                    bm[(i, j)]
                } else {
                    (factor * env[(i, j)]).clamp(estimate::FLOOR * bm[(i, j)], bm[(i, j)])
                }
            });
            let m = if few {
                bm.clone()
            } else {
                estimate::line_tolerance(&runs.max_error[t], &tg[t], &bm, factor, estimate::FLOOR)
            };
            let rules = [rules[0].clone(), rules[1].clone(), rules[2].clone(), a, m];
            let err = (&user[t] - rg).abs();
            err_max = err_max.max(err.amax() / gmax);
            for (w, tol) in worst.iter_mut().zip(&rules) {
                w.0 = w.0.max(err.component_div(tol).max());
                w.1 = w.1.max(tol[k] / gmax);
            }
        }
        let cells: String = worst
            .iter()
            .map(|(sa, lv)| format!(" | {sa:.3} {lv:.3}{}", if *lv >= 0.5 { "!" } else { " " }))
            .collect();
        println!("{name}{cells} | {err_max:.3}");
    }
}
