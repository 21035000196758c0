//! The power table of `docs/validation/power.md`, held: every 256×128 row (f64, f32, and the
//! TF32/bfloat16 section's) is recomputed (the same inputs, seed and precision as
//! `examples/power_table.rs`) and must match the committed figures
//! (the smallest rejected δ within a factor √2 — the bisection resolves 2^(1/8), and a CPU that
//! fuses multiply-adds may move a float32 result in its last bits — and the same acceptance of
//! the correct implementation).

use sslproof_losses::estimate::TolMode;
use sslproof_losses::golden::{self, Case};
use sslproof_losses::power::{self, ErrorKind};
use sslproof_losses::registry::LossSpec;
use sslproof_losses::rounding::Precision;

const SEED: u64 = 20261202;

fn parse_delta(s: &str) -> Option<f64> {
    let s = s.trim();
    if s == "–" {
        None
    } else {
        Some(s.parse().expect("a number"))
    }
}

/// The committed 256×128 rows of `loss` hold (one test per loss, so that they run in parallel).
fn rows_hold(loss: &str) {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/validation/power.md"
    ))
    .expect("docs/validation/power.md");
    let rows: Vec<Vec<String>> = doc
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("| 256×128 |"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .filter(|r: &Vec<String>| r[0] == loss)
        .collect();
    assert_eq!(
        rows.len(),
        4,
        "{loss}: f64, f32, tf32 and bf16 rows at 256×128"
    );
    for r in rows {
        let spec = LossSpec::named(&r[0], None, &[]).expect("a loss");
        let prec = Precision::parse(&r[2]).expect("a precision");
        let case = Case {
            name: "power",
            b: 256,
            d: 128,
            large: false,
        };
        let xs = golden::inputs(&spec, &case, SEED);
        let p = power::measure(&spec, &xs, prec, TolMode::Estimate).expect("measured");
        let status = if p.untrustworthy {
            "untrustworthy (exit 3)"
        } else if p.correct_accepted {
            "accepted"
        } else {
            "REJECTED"
        };
        assert_eq!(status, r[3], "{} {}: correct implementation", r[0], r[2]);
        assert_eq!(status, "accepted", "{} {}: a false rejection", r[0], r[2]);
        for (k, kind) in ErrorKind::ALL.into_iter().enumerate() {
            let doc = parse_delta(&r[4 + k]);
            let now = p
                .powers
                .iter()
                .find(|x| x.kind == kind)
                .unwrap()
                .smallest_rejected;
            match (doc, now) {
                (Some(a), Some(b)) => assert!(
                    (a / b).log2().abs() <= 0.5,
                    "{} {} {}: committed δ {a:e}, now {b:e}",
                    r[0],
                    r[2],
                    kind.as_str()
                ),
                (a, b) => assert_eq!(
                    a.is_some(),
                    b.is_some(),
                    "{} {} {}",
                    r[0],
                    r[2],
                    kind.as_str()
                ),
            }
        }
    }
}

macro_rules! power_tests {
    ($($test:ident => $loss:literal),* $(,)?) => {
        $(#[test] fn $test() { rows_hold($loss) })*
        /// Every loss of the registry has its rows and its test.
        #[test]
        fn every_loss_has_its_rows() {
            let tested = [$($loss),*];
            for l in sslproof_losses::registry::LOSSES {
                assert!(tested.contains(&l.name()), "{} has no power test", l.name());
            }
        }
    };
}

power_tests![
    vicreg => "vicreg",
    barlow_twins => "barlow-twins",
    coding_rate => "coding-rate",
    corinfomax => "corinfomax",
    nt_xent => "nt-xent",
    simsiam => "simsiam",
    align => "align",
    uniformity => "uniformity",
];
