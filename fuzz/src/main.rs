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

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nalgebra::DMatrix;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

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
    let corpus = corpus(&root.join("golden"));
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
    npy::read_npz_within(p, &mut BUDGET.clone(), &|_| true).is_ok()
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

/// Every `.npy` under `golden/`, and the hostile-input reproducers that fit in memory.
fn corpus(golden: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![golden.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "npy")
                && let Ok(b) = std::fs::read(&p)
            {
                out.push(b);
            }
        }
    }
    for shape in [
        "(4294967296, 4294967296)",
        "(9223372036854775808, 2)",
        "(2, 1)",
        "(16384, 8192)",
        "()",
        "(0, 3)",
    ] {
        out.push(npy::raw_npy(
            &format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"),
            &[0u8; 64],
        ));
    }
    out.push(npy::raw_npy(
        "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
        &[0u8; 16],
    ));
    if out.is_empty() {
        let m = DMatrix::from_element(2, 2, 1.0);
        let p = std::env::temp_dir().join("sslproof-fuzz-seed.npy");
        npy::write_matrix(&p, &m).expect("write a seed");
        out.push(std::fs::read(p).expect("read a seed"));
    }
    out
}

fn below(rng: &mut ChaCha20Rng, n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (rng.next_u64() % n as u64) as usize
    }
}

/// One to four mutations of `base`.
fn mutate(base: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + below(rng, 4) {
        match below(rng, 8) {
            0 if !b.is_empty() => {
                let i = below(rng, b.len());
                b[i] ^= 1 << below(rng, 8);
            }
            1 if !b.is_empty() => {
                let i = below(rng, b.len());
                b[i] = [0u8, 0xff, 0x7f, 0x80, b'9', b'(', b')', b','][below(rng, 8)];
            }
            2 => {
                let n = below(rng, b.len() + 1);
                b.truncate(n);
            }
            3 => {
                let at = below(rng, b.len() + 1);
                let n = 1 + below(rng, 64);
                let fill: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                b.splice(at..at, fill);
            }
            4 if b.len() > 2 => {
                let at = below(rng, b.len());
                let n = below(rng, (b.len() - at).min(256));
                b.drain(at..at + n);
            }
            // Header rewrites: the fields a hostile header plays with.
            _ => {
                let head = &b[..b.len().min(128)];
                let swaps = [
                    ("<f8", "<f4"),
                    ("<f8", ">f8"),
                    ("<f8", "<i8"),
                    ("<f4", "<f8"),
                    ("False", "True"),
                    ("True", "False"),
                    ("'shape': (", "'shape': (4294967296, "),
                    ("'shape': (", "'shape': (0, "),
                    ("'shape': (", "'shape': ("),
                    ("), }", ",), }"),
                ];
                let (from, to) = swaps[below(rng, swaps.len())];
                if let Some(i) = head.windows(from.len()).position(|w| w == from.as_bytes()) {
                    b.splice(i..i + from.len(), to.bytes());
                }
            }
        }
    }
    b
}

/// An `.npz` around `entry`: as `z1` alone, as `z1` and `z2`, with a `value`, stored or
/// deflated, sometimes with a duplicate name.
fn as_npz(entry: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let method = if rng.next_u64().is_multiple_of(2) {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        let names: &[&str] = match below(rng, 4) {
            0 => &["z1.npy"],
            1 => &["z1.npy", "z2.npy"],
            2 => &["z1.npy", "z2.npy", "grad_z1.npy", "grad_z2.npy"],
            _ => &["z1.npy", "z2.npy", "value.npy"],
        };
        for n in names {
            if w.start_file(*n, opts).is_ok() {
                let _ = w.write_all(entry);
            }
        }
        let _ = w.finish();
    }
    let mut out = buf.into_inner();
    // Sometimes corrupt the archive itself.
    if rng.next_u64().is_multiple_of(4) && !out.is_empty() {
        let i = below(rng, out.len());
        out[i] ^= 1 << below(rng, 8);
    }
    out
}
