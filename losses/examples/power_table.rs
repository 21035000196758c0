//! Prints the power table of `docs/validation/power.md`: for each loss (default variant) at the
//! given shapes, in f64 and f32, the smallest planted error that `check` rejects.
//!
//! `cargo run --release -p sslproof-losses --example power_table -- 256x128 512x2048 [--loss=NAME]`

use sslproof_losses::golden::{self, Case};
use sslproof_losses::power::{self, ErrorKind};
use sslproof_losses::registry::{self, LossSpec};
use sslproof_losses::rounding::Precision;

/// The seed of the inputs (`golden::inputs`).
const SEED: u64 = 20261202;

fn main() {
    let only: Option<String> = std::env::args()
        .skip(1)
        .find_map(|a| a.strip_prefix("--loss=").map(str::to_string));
    let shapes: Vec<(usize, usize)> = std::env::args()
        .skip(1)
        .filter_map(|a| {
            let (b, d) = a.split_once('x')?;
            Some((b.parse().ok()?, d.parse().ok()?))
        })
        .collect();
    let shapes = if shapes.is_empty() {
        vec![(256, 128)]
    } else {
        shapes
    };
    for (b, d) in shapes {
        for spec in registry::LOSSES
            .iter()
            .filter(|l| only.as_deref().is_none_or(|o| o == l.name()))
            .map(|l| LossSpec::new(*l, None, &[]).expect("default variant"))
        {
            let case = Case {
                name: "power",
                b,
                d,
                large: false,
            };
            let xs = golden::inputs(&spec, &case, SEED);
            for prec in [Precision::F64, Precision::F32] {
                let t0 = std::time::Instant::now();
                match power::measure(&spec, &xs, prec) {
                    Ok(p) => println!(
                        "{}",
                        row(spec.loss.name(), b, d, &p, t0.elapsed().as_secs_f64())
                    ),
                    Err(e) => println!(
                        "| {} | {b}×{d} | {} | error: {e} |",
                        spec.loss.name(),
                        prec.as_str()
                    ),
                }
            }
        }
    }
}

fn row(loss: &str, b: usize, d: usize, p: &power::PowerReport, secs: f64) -> String {
    let status = format!(
        "{}{}",
        if p.untrustworthy {
            "untrustworthy (exit 3)"
        } else if p.correct_accepted {
            "accepted"
        } else {
            "REJECTED"
        },
        if p.f32_failed.is_some() {
            " (our float32 build fails here; f64 numbers used)"
        } else {
            ""
        }
    );
    let cell = |k: ErrorKind| {
        p.powers
            .iter()
            .find(|x| x.kind == k)
            .and_then(|x| x.smallest_rejected)
            .map_or("–".to_string(), |x| format!("{x:.1e}"))
    };
    format!(
        "| {loss} | {b}×{d} | {} | {} | {} | {} | {} | {} | {:.1e} | {:.1e} |  <!-- {secs:.1} s -->",
        p.precision.as_str(),
        status,
        cell(ErrorKind::GradScale),
        cell(ErrorKind::LargestEntry),
        cell(ErrorKind::MedianEntry),
        cell(ErrorKind::Value),
        p.grad_error_over_tolerance,
        p.value_error_over_tolerance,
    )
}
