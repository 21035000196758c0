//! The float32 estimate's measurements (`sslproof_losses::estimate`) run by run: for each loss and
//! variant at the given shapes (default: the golden shapes), the largest `|error| / bound` of our
//! float32 gradient under each summation order, and the factor the estimate applies.
//!
//! `cargo run --release -p sslproof-losses --example estimate_runs -- [16x8 256x128 …] [--loss=NAME] [--seeds=N]`

use sslproof_losses::checker::{self, Options};
use sslproof_losses::estimate;
use sslproof_losses::golden::{self, Case};
use sslproof_losses::registry::{self, LossSpec};
use sslproof_losses::rounding::{self, Precision};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only = args.iter().find_map(|a| a.strip_prefix("--loss="));
    let seeds: u64 = args
        .iter()
        .find_map(|a| a.strip_prefix("--seeds=")?.parse().ok())
        .unwrap_or(1);
    let mut shapes: Vec<(usize, usize)> = args
        .iter()
        .filter_map(|a| {
            let (b, d) = a.split_once('x')?;
            Some((b.parse().ok()?, d.parse().ok()?))
        })
        .collect();
    if shapes.is_empty() {
        shapes = vec![(16, 8), (4, 3), (8, 24), (64, 32), (256, 128)];
    }
    println!("loss variant shape seed | ρ per run | min/max over runs | factor");
    for &loss in registry::LOSSES {
        if only.is_some_and(|o| o != loss.name()) {
            continue;
        }
        for v in loss.variants() {
            let spec = LossSpec::new(loss, Some(v.name), &[]).expect("variant");
            for &(b, d) in &shapes {
                for seed in 0..seeds {
                    let case = Case {
                        name: "estimate",
                        b,
                        d,
                        large: false,
                    };
                    let xs = golden::inputs(&spec, &case, 20261203 + seed);
                    let opts = Options {
                        precision: Precision::F32,
                        ..Options::default()
                    };
                    let Ok(r) = checker::reference(&spec, &xs, &opts) else {
                        continue;
                    };
                    let tol = rounding::tolerance(&r.scale, &r.out64, Precision::F32);
                    if tol.untrustworthy.is_some() {
                        println!("{} {} {b}x{d} {seed} | untrustworthy", loss.name(), v.name);
                        continue;
                    }
                    match estimate::measure(&spec, &xs, &r, &tol, &Default::default()) {
                        Ok(m) => {
                            let runs = m.per_run;
                            let first: Vec<f64> = runs.iter().map(|q| q[0]).collect();
                            let lo = first.iter().cloned().fold(f64::INFINITY, f64::min);
                            let hi = first.iter().cloned().fold(0.0, f64::max);
                            let s = (loss.estimate_factor(&spec, b, d, Precision::F32) * hi)
                                .clamp(estimate::FLOOR, 1.0);
                            println!(
                                "{} {} {b}x{d} {seed} | {} | {:.2} | {s:.3e}",
                                loss.name(),
                                v.name,
                                first
                                    .iter()
                                    .map(|x| format!("{x:.2e}"))
                                    .collect::<Vec<_>>()
                                    .join(" "),
                                hi / lo
                            );
                        }
                        Err(e) => println!("{} {} {b}x{d} {seed} | {e}", loss.name(), v.name),
                    }
                }
            }
        }
    }
}
