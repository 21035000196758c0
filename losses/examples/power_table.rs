//! Prints the power table of `docs/validation/power.md`: for each loss (default variant) at the
//! given shapes, in f64 and f32 (or the precisions of `--precision=`), the smallest planted error
//! that `check` rejects.
//!
//! `cargo run --release -p sslproof-losses --example power_table -- 256x128 512x2048 [--loss=NAME] [--tolerance=bound] [--precision=tf32,bf16]`
//!
//! With `--tolerance=bound` the a-priori bound alone is compared against (the rows' shape cell
//! then reads `256×128, bound`); by default, `check`'s default, the float32 estimate.

use sslproof_losses::estimate::TolMode;
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
    let mode = match std::env::args()
        .skip(1)
        .find_map(|a| a.strip_prefix("--tolerance=").map(str::to_string))
        .as_deref()
    {
        None | Some("estimate") => TolMode::Estimate,
        Some("bound") => TolMode::Bound,
        Some(other) => {
            eprintln!("--tolerance: expected estimate or bound, got {other:?}");
            std::process::exit(2);
        }
    };
    let precisions: Vec<Precision> = match std::env::args()
        .skip(1)
        .find_map(|a| a.strip_prefix("--precision=").map(str::to_string))
    {
        None => vec![Precision::F64, Precision::F32],
        Some(list) => list
            .split(',')
            .map(|p| {
                Precision::parse(p).unwrap_or_else(|| {
                    eprintln!("--precision: expected f64, f32, tf32 or bf16, got {p:?}");
                    std::process::exit(2);
                })
            })
            .collect(),
    };
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
            for &prec in &precisions {
                let t0 = std::time::Instant::now();
                match power::measure(&spec, &xs, prec, mode) {
                    Ok(p) => println!(
                        "{}",
                        row(spec.loss.name(), b, d, mode, &p, t0.elapsed().as_secs_f64())
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

fn row(loss: &str, b: usize, d: usize, mode: TolMode, p: &power::PowerReport, secs: f64) -> String {
    let shape = match mode {
        TolMode::Estimate => format!("{b}×{d}"),
        TolMode::Bound => format!("{b}×{d}, bound"),
    };
    let applied = match &p.source {
        sslproof_losses::estimate::Source::Estimate(e) => format!(
            " bound × {}",
            e.scales
                .iter()
                .zip(&e.line_scales)
                .map(|(s, l)| match l {
                    Some((lo, hi)) => format!("{lo:.2e}…{hi:.2e}"),
                    None => format!("{s:.2e}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        sslproof_losses::estimate::Source::Bound { .. } => String::new(),
    };
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
        "| {loss} | {shape} | {} | {} | {} | {} | {} | {} | {:.1e} | {:.1e} |  <!--{applied} {secs:.1} s -->",
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
