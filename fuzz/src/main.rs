//! A bounded-time mutation fuzzer for what `sslproof check` reads: the `.npy` parser, the `.npz`
//! reader, and the whole check pipeline on the bytes of an `.npz`.
//!
//! It is not coverage-guided (cargo-fuzz and libFuzzer need a nightly toolchain, which this
//! project's machines do not have): it mutates a seed corpus (every `.npy` of `golden/`, archives
//! built from them, and the reproducers of the hostile-input review) with byte flips, interesting
//! values, splices, truncations, and header-field rewrites (shapes, dtypes, orders, entry names),
//! runs each target in-process under a small memory budget, and fails on the first panic, saving
//! the input under `fuzz/crashes/`. An error return is the expected outcome for bad bytes.
//!
//! ```sh
//! cargo run --release -p sslproof-fuzz -- --seconds 60 [--seed 1]
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use sslproof_fuzz::{as_npz, corpus, golden_dir, mutate};

use sslproof_losses::checker::{self, Options, UserNumbers};
use sslproof_losses::input;
use sslproof_losses::npy;
use sslproof_losses::registry::LossSpec;

thread_local! {
    static IN_TARGET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Memory budget of every target run: 64 MiB.
const BUDGET: u128 = 64 << 20;

fn usage() -> ! {
    eprintln!("usage: sslproof-fuzz [--seconds N] [--seed S]");
    std::process::exit(2)
}

fn main() {
    let mut seconds = 60u64;
    let mut seed = 1u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| usage());
        match a.as_str() {
            "--seconds" => seconds = v,
            "--seed" => seed = v,
            _ => usage(),
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let work = std::env::temp_dir().join(format!("sslproof-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("a temporary directory");
    let corpus = corpus(&golden_dir());
    eprintln!(
        "fuzzing {} seeds for {seconds} s (seed {seed}, budget {})",
        corpus.len(),
        npy::Bytes(BUDGET)
    );
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    // Panics inside a target are caught and reported once, with the input; the default printer
    // would print them a second time.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_TARGET.with(|t| t.get()) {
            default_hook(info);
        }
    }));
    let start = Instant::now();
    let (mut execs, mut errors) = (0u64, 0u64);
    let targets: [(&str, Target); 3] = [
        ("npy", npy_target),
        ("npz", npz_target),
        ("check", check_target),
    ];
    while start.elapsed() < Duration::from_secs(seconds) {
        let base = &corpus[(rng.next_u64() % corpus.len() as u64) as usize];
        let bytes = mutate(base, &mut rng);
        let (name, target) = targets[(rng.next_u64() % 3) as usize];
        let path = work.join(format!(
            "input.{}",
            if name == "npy" { "npy" } else { "npz" }
        ));
        let bytes = if name == "npy" {
            bytes
        } else {
            as_npz(&bytes, &mut rng)
        };
        std::fs::write(&path, &bytes).expect("write the input");
        IN_TARGET.with(|t| t.set(true));
        let result = catch_unwind(AssertUnwindSafe(|| target(&path)));
        IN_TARGET.with(|t| t.set(false));
        match result {
            Ok(true) => {}
            Ok(false) => errors += 1,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let dir = root.join("fuzz/crashes");
                std::fs::create_dir_all(&dir).ok();
                let out = dir.join(format!("{name}-{execs}.bin"));
                std::fs::write(&out, &bytes).ok();
                eprintln!(
                    "PANIC in target {name} after {execs} runs: {msg}\n  input saved to {}",
                    out.display()
                );
                std::process::exit(1);
            }
        }
        execs += 1;
    }
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "fuzz: {execs} runs in {:.0} s, {errors} refused with an error, 0 panics",
        start.elapsed().as_secs_f64()
    );
}

/// A target: `true` if the input was accepted, `false` if refused with an error; a panic is a
/// finding.
type Target = fn(&Path) -> bool;

fn npy_target(p: &Path) -> bool {
    npy::read_matrix_within(p, &mut BUDGET.clone()).is_ok()
}

fn npz_target(p: &Path) -> bool {
    npy::read_npz_within(p, &mut BUDGET.clone(), &|n| Some(n.to_string())).is_ok()
}

/// The whole pipeline of `check` for VICReg on an archive: read, validate, reference, compare,
/// diagnose.
fn check_target(p: &Path) -> bool {
    let Ok(spec) = LossSpec::named("vicreg", None, &[]) else {
        return false;
    };
    let Ok(files) = input::from_npz(&spec, p, BUDGET) else {
        return false;
    };
    let user = UserNumbers {
        value: files.value.unwrap_or(1.0),
        grads: files.grads,
    };
    let opts = Options {
        max_memory: BUDGET,
        ..Options::default()
    };
    checker::check(&spec, &files.inputs, &user, &opts).is_ok()
}
