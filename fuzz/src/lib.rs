//! The fuzzer's inputs: the seed corpus (every `.npy` of `golden/` and the hostile-input
//! reproducers), the byte- and header-level mutations, and the `.npz` wrapping. Shared by the
//! bounded-time fuzzer (`src/main.rs`) and by the test that runs a fixed, seeded set of these
//! inputs through the `sslproof` binary and checks every exit code (`cli/tests/hostile.rs`).

use std::io::Write;
use std::path::{Path, PathBuf};

use nalgebra::DMatrix;
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

use sslproof_losses::npy;

/// The repository's `golden/` folder.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden")
}

/// `n` seeded inputs for the `check` pipeline: mutants of the corpus, each wrapped in an `.npz`
/// (as the fuzzer's `check` target makes them). Identical on every machine for a given seed.
pub fn replay_set(seed: u64, n: usize) -> Vec<Vec<u8>> {
    use rand_core::SeedableRng;
    let corpus = corpus(&golden_dir());
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let base = &corpus[below(&mut rng, corpus.len())];
            let bytes = mutate(base, &mut rng);
            as_npz(&bytes, &mut rng)
        })
        .collect()
}

/// Every `.npy` under `golden/`, and the hostile-input reproducers that fit in memory.
pub fn corpus(golden: &Path) -> Vec<Vec<u8>> {
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

pub fn below(rng: &mut ChaCha20Rng, n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (rng.next_u64() % n as u64) as usize
    }
}

/// One to four mutations of `base`.
pub fn mutate(base: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
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
pub fn as_npz(entry: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
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
