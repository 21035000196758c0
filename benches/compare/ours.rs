//! Our side of `benches/compare/run.sh`: the same three workloads as `reference.py`, timed here
//! (best of several runs), printed as one JSON object on stdout.

use std::time::Instant;

use sslproof::claim::Config;
use sslproof_theorems::taylor::neg_logdet_taylor_second_order::workload;

fn best_of<T>(reps: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut out = serde_json::Map::new();
    let mut logdet = serde_json::Map::new();
    for n in [16usize, 64, 128] {
        let m = workload::logdet_matrix(n);
        logdet.insert(n.to_string(), best_of(5, || m.logdet_spd().unwrap()).into()); // same count as reference.py
    }
    out.insert("logdet_256bit".into(), logdet.into());
    let cfg = Config::default();
    let ok = workload::truncation_bound_fixed_d(cfg.prec, cfg.seed, 8, 1000);
    assert_eq!(ok, 1000, "the bound must hold on every case");
    out.insert(
        "truncation_1000_8x8".into(),
        best_of(3, || {
            workload::truncation_bound_fixed_d(cfg.prec, cfg.seed, 8, 1000)
        })
        .into(),
    );
    #[cfg(feature = "symbolic")]
    {
        use sslproof_theorems::taylor::neg_logdet_taylor_second_order::SecondOrder;
        use sslproof_theorems::taylor::neg_logdet_taylor_second_order::symbolic::second_order_at;
        let mut sym = serde_json::Map::new();
        for d in 2..=6usize {
            let t = best_of(3, || {
                assert!(sslproof::sym::run(move || second_order_at(SecondOrder::Notes, d)).unwrap())
            });
            sym.insert(d.to_string(), t.into());
        }
        out.insert("symbolic_identity".into(), sym.into());
    }
    println!("{}", serde_json::Value::Object(out));
}
