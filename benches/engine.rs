//! criterion benchmarks of the engine's hot paths (issue: engine and family A, "Speed, measured").

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

use sslproof::claim::Config;
use sslproof_theorems::taylor::neg_logdet_taylor_second_order::workload;

fn logdet(c: &mut Criterion) {
    let mut g = c.benchmark_group("logdet_256bit");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    for n in [16usize, 64, 128] {
        let m = workload::logdet_matrix(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &m, |b, m| {
            b.iter(|| black_box(m.logdet_spd().unwrap()))
        });
    }
    g.finish();
}

fn truncation_checks(c: &mut Criterion) {
    let mut g = c.benchmark_group("truncation_bound");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let cfg = Config::default();
    // 1 000 random recipes with d = 8 exactly: sampling (Haar orthogonal, Σ = QΛQᵀ), Cholesky
    // log det of I + Σ, tr Σ, tr Σ², tr Σ³ and the two-sided bound, all at 256 bits.
    g.bench_function("1000_cases_8x8_256bit", |b| {
        b.iter(|| {
            black_box(workload::truncation_bound_fixed_d(
                cfg.prec, cfg.seed, 8, 1000,
            ))
        })
    });
    // The whole claim A1 at the default settings (numeric checks, mutants, tables; the symbolic
    // checks too when the feature is on): what `sslproof verify --claim A1` spends.
    let a1 = sslproof_theorems::find("A1").expect("A1 is in the catalogue");
    g.bench_function("claim_A1_default_config", |b| {
        b.iter(|| black_box(sslproof_theorems::run(a1, &cfg)))
    });
    g.finish();
}

#[cfg(feature = "symbolic")]
fn symbolic_identity(c: &mut Criterion) {
    use sslproof_theorems::taylor::neg_logdet_taylor_second_order::SecondOrder;
    use sslproof_theorems::taylor::neg_logdet_taylor_second_order::symbolic::second_order_at;
    let mut g = c.benchmark_group("symbolic_second_order_identity");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    for d in 2..=6usize {
        g.bench_with_input(BenchmarkId::from_parameter(d), &d, |b, &d| {
            b.iter(|| {
                assert!(sslproof::sym::run(move || second_order_at(SecondOrder::Notes, d)).unwrap())
            })
        });
    }
    g.finish();
}

#[cfg(not(feature = "symbolic"))]
fn symbolic_identity(_: &mut Criterion) {}

/// The fast f64 reference losses with gradients at issue 5's sizes (B, d) = (512, 2048), (512, 8192).
fn fast_losses(c: &mut Criterion) {
    use nalgebra::DMatrix;
    use sslproof_losses::{coding_rate, vicreg};
    let cr = coding_rate::Knobs::new(0.2, coding_rate::RateWeight::Mcr2);
    let mut g = c.benchmark_group("fast_f64_loss_and_grad");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for d in [2048usize, 8192] {
        let b = 512;
        // Deterministic, cheap inputs (the values do not matter for timing).
        let z1 = DMatrix::from_fn(b, d, |i, j| ((i * 31 + j * 17) % 97) as f64 / 97.0 - 0.5);
        let z2 = DMatrix::from_fn(b, d, |i, j| ((i * 29 + j * 13) % 89) as f64 / 89.0 - 0.5);
        g.bench_with_input(
            BenchmarkId::new("coding_rate_batch_dim", d),
            &d,
            |bch, _| bch.iter(|| black_box(coding_rate::float(&z1, &cr).unwrap())),
        );
        g.bench_with_input(BenchmarkId::new("vicreg_official", d), &d, |bch, _| {
            bch.iter(|| black_box(vicreg::float(&z1, &z2, &vicreg::Knobs::official()).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    logdet,
    truncation_checks,
    symbolic_identity,
    fast_losses
);
criterion_main!(benches);
