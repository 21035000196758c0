//! `.npy` input and output: round trips and every kind of bad file.

use std::path::PathBuf;

use nalgebra::DMatrix;
use npyz::WriterBuilder;

use sslproof_losses::npy::{
    Dtype, NpyError, raw_zip, read_matrix, read_npz, write_matrix, write_matrix_f32,
};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sslproof-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn sample() -> DMatrix<f64> {
    DMatrix::from_fn(3, 4, |i, j| (i as f64 + 1.0) / 7.0 - j as f64 * 0.25)
}

#[test]
fn round_trips_f64_and_f32() {
    let m = sample();
    let p = tmp("a.npy");
    write_matrix(&p, &m).unwrap();
    let (back, dt) = read_matrix(&p).unwrap();
    assert_eq!(dt, Dtype::F64);
    assert_eq!(back, m);
    let p32 = tmp("a32.npy");
    write_matrix_f32(&p32, &m).unwrap();
    let (back, dt) = read_matrix(&p32).unwrap();
    assert_eq!(dt, Dtype::F32);
    assert_eq!(back, m.map(|x| x as f32 as f64));
}

#[test]
fn fortran_order_is_read_correctly() {
    let m = sample();
    let p = tmp("f.npy");
    let file = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[3, 4])
        .order(npyz::Order::Fortran)
        .writer(file)
        .begin_nd()
        .unwrap();
    for j in 0..4 {
        for i in 0..3 {
            w.push(&m[(i, j)]).unwrap();
        }
    }
    w.finish().unwrap();
    assert_eq!(read_matrix(&p).unwrap().0, m);
}

#[test]
fn truncated_file_is_named() {
    let p = tmp("t.npy");
    write_matrix(&p, &sample()).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 20]).unwrap();
    let e = read_matrix(&p).unwrap_err();
    assert!(
        matches!(e, NpyError::Truncated { .. } | NpyError::Malformed { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("t.npy"), "{e}");
}

#[test]
fn not_an_npy_file() {
    let p = tmp("m.npy");
    std::fs::write(&p, b"hello, this is not numpy").unwrap();
    assert!(matches!(
        read_matrix(&p).unwrap_err(),
        NpyError::Malformed { .. }
    ));
    let missing = tmp("does-not-exist.npy");
    assert!(matches!(
        read_matrix(&missing).unwrap_err(),
        NpyError::Io { .. }
    ));
}

#[test]
fn wrong_dtype_and_shape_are_named() {
    let p = tmp("i.npy");
    let file = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    let mut w = npyz::WriteOptions::<i32>::new()
        .default_dtype()
        .shape(&[2, 2])
        .writer(file)
        .begin_nd()
        .unwrap();
    w.extend([1, 2, 3, 4]).unwrap();
    w.finish().unwrap();
    let e = read_matrix(&p).unwrap_err();
    assert!(
        matches!(e, NpyError::Dtype { .. }) && e.to_string().contains("<i4"),
        "{e}"
    );
    let p1 = tmp("v.npy");
    npyz::to_file_1d(&p1, vec![1.0f64, 2.0, 3.0]).unwrap();
    assert!(
        matches!(read_matrix(&p1).unwrap_err(), NpyError::Shape { ref found, .. } if found == &vec![3])
    );
}

#[test]
fn nan_is_named_with_its_index() {
    let mut m = sample();
    m[(1, 2)] = f64::NAN;
    let p = tmp("n.npy");
    write_matrix(&p, &m).unwrap();
    assert!(matches!(
        read_matrix(&p).unwrap_err(),
        NpyError::NonFinite { row: 1, col: 2, .. }
    ));
}

/// A header declaring 10¹⁶ elements is refused before anything is allocated.
#[test]
fn declared_shape_too_large_is_refused_without_allocating() {
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000, 100000000), }";
    let bytes = sslproof_losses::npy::raw_npy(dict, &[0u8; 64]);
    let p = tmp("huge.npy");
    std::fs::write(&p, &bytes).unwrap();
    let e = read_matrix(&p).unwrap_err();
    assert!(matches!(e, NpyError::Truncated { .. }), "{e}");
}

/// An `.npz` built entry by entry (stored, as `numpy.savez` writes it).
fn npz(name: &str, entries: &[(&str, Vec<u8>)]) -> PathBuf {
    use std::io::Write;
    let path = tmp(name);
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (n, bytes) in entries {
        w.start_file(format!("{n}.npy"), opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
    path
}

/// The bytes of `m` as a `.npy` file. Each call writes its own file: the tests run in parallel
/// threads of one process, and a shared name let one test read another's array.
fn npy_bytes(m: &DMatrix<f64>) -> Vec<u8> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = tmp(&format!("entry-{k}.npy"));
    write_matrix(&p, m).unwrap();
    std::fs::read(p).unwrap()
}

#[test]
fn npz_arrays_and_value_are_read() {
    let m = sample();
    let one = DMatrix::from_element(1, 1, 2.5);
    let p = npz(
        "ok.npz",
        &[
            ("z1", npy_bytes(&m)),
            ("grad_z1", npy_bytes(&(&m * 2.0))),
            ("value", npy_bytes(&one)),
        ],
    );
    let r = read_npz(&p).unwrap();
    assert_eq!(r.value, Some(2.5));
    assert_eq!(r.arrays["z1"].0, m);
    assert_eq!(r.arrays["grad_z1"].0, &m * 2.0);
    assert_eq!(r.arrays["z1"].1, Dtype::F64);
}

#[test]
fn bad_npz_is_named() {
    let junk = tmp("junk.npz");
    std::fs::write(&junk, b"PK\x03\x04 not really a zip").unwrap();
    let e = read_npz(&junk).unwrap_err();
    assert!(
        matches!(e, NpyError::Archive { .. }) && e.to_string().contains("junk.npz"),
        "{e}"
    );
    // A broken entry is named by archive and entry.
    let mut bytes = npy_bytes(&sample());
    bytes.truncate(bytes.len() - 5);
    let p = npz("trunc.npz", &[("z1", bytes)]);
    let e = read_npz(&p).unwrap_err().to_string();
    assert!(e.contains("trunc.npz[z1]"), "{e}");
    // `value` must hold one element.
    let p = npz("value.npz", &[("value", npy_bytes(&sample()))]);
    let e = read_npz(&p).unwrap_err().to_string();
    assert!(e.contains("value.npz[value]") && e.contains("shape"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Hostile inputs (issue: `check` under hostile input). Each was a panic, a silent wrong read or
// an accepted corruption before.
// ---------------------------------------------------------------------------------------------

/// A `value` entry declaring shape (2³², 2³²) or (2⁶³, 2): the element count overflowed u64 and
/// panicked ("attempt to multiply with overflow"). Now a named shape error.
#[test]
fn value_with_an_overflowing_shape_is_a_named_error() {
    for shape in [
        "(4294967296, 4294967296)",
        "(9223372036854775808, 2)",
        "(2, 1)",
    ] {
        let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
        let p = npz(
            &format!("value-{}.npz", shape.len()),
            &[("value", sslproof_losses::npy::raw_npy(&dict, &[0u8; 16]))],
        );
        let e = read_npz(&p).unwrap_err();
        assert!(matches!(e, NpyError::NotScalar { .. }), "{shape}: {e}");
        assert!(e.to_string().contains("one element"), "{e}");
    }
}

/// Bytes after the data are refused, in a file and in an archive entry.
#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = npy_bytes(&sample());
    bytes.extend_from_slice(b"extra");
    let p = tmp("trailing.npy");
    std::fs::write(&p, &bytes).unwrap();
    let e = read_matrix(&p).unwrap_err();
    assert!(matches!(e, NpyError::Trailing { extra: 5, .. }), "{e}");
    let p = npz("trailing.npz", &[("z1", bytes)]);
    let e = read_npz(&p).unwrap_err();
    assert!(
        matches!(e, NpyError::Trailing { .. }) && e.to_string().contains("trailing.npz[z1]"),
        "{e}"
    );
}

/// Two entries with the same name: the last one used to win silently. Now refused, by name.
#[test]
fn duplicate_entries_are_refused() {
    let a = npy_bytes(&sample());
    let b = npy_bytes(&(sample() * 2.0));
    let ok = tmp("one.npz");
    std::fs::write(&ok, raw_zip(&[("z1.npy", &a)])).unwrap();
    let r = read_npz(&ok);
    assert_eq!(
        r.unwrap().arrays["z1"].0,
        sample(),
        "the hand-made archive reads"
    );
    let p = tmp("dup.npz");
    std::fs::write(&p, raw_zip(&[("z1.npy", &a), ("z1.npy", &b)])).unwrap();
    let e = read_npz(&p).unwrap_err().to_string();
    assert!(
        e.contains("dup.npz") && e.contains("z1") && e.contains("twice"),
        "{e}"
    );
}

/// A flipped byte inside a stored entry's data: the CRC-32 is now verified.
#[test]
fn a_corrupted_entry_fails_its_crc() {
    let b = npy_bytes(&sample());
    let p = npz("crc.npz", &[("z1", b.clone())]);
    let mut raw = std::fs::read(&p).unwrap();
    // The last data byte of the stored entry: find the entry's data in the archive.
    let at = raw
        .windows(b.len())
        .position(|w| w == b.as_slice())
        .expect("a stored entry holds the bytes verbatim");
    raw[at + b.len() - 1] ^= 0x40;
    std::fs::write(&p, &raw).unwrap();
    let e = read_npz(&p).unwrap_err().to_string();
    assert!(
        e.contains("crc.npz[z1]") && e.to_lowercase().contains("checksum"),
        "{e}"
    );
}

/// A FIFO would block the reader for ever: refused before opening.
#[test]
fn a_fifo_is_refused() {
    let p = tmp("fifo.npy");
    let _ = std::fs::remove_file(&p);
    let made = std::process::Command::new("mkfifo").arg(&p).status();
    if !made.is_ok_and(|s| s.success()) {
        return; // no mkfifo on this system
    }
    let e = read_matrix(&p).unwrap_err();
    assert!(matches!(e, NpyError::NotRegular { .. }), "{e}");
}

/// A NaN `value` entry is read as it is: `--value` may override it, and `check` refuses it when
/// it does not.
#[test]
fn a_nan_value_entry_is_left_to_the_caller() {
    let p = npz(
        "nanvalue.npz",
        &[("value", npy_bytes(&DMatrix::from_element(1, 1, f64::NAN)))],
    );
    assert!(read_npz(&p).unwrap().value.unwrap().is_nan());
}

/// A version-2 header declaring 1 GiB used to be allocated before anything was read. Refused
/// from its length.
#[test]
fn an_oversized_header_is_refused_before_allocating() {
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&(1u32 << 30).to_le_bytes());
    bytes.extend_from_slice(b"{'descr': '<f8'");
    let p = tmp("bighead.npy");
    std::fs::write(&p, &bytes).unwrap();
    let e = read_matrix(&p).unwrap_err().to_string();
    assert!(e.contains("header declares 1073741824 bytes"), "{e}");
    let p = npz("bighead.npz", &[("z1", bytes)]);
    let e = read_npz(&p).unwrap_err().to_string();
    assert!(
        e.contains("bighead.npz[z1]") && e.contains("header declares"),
        "{e}"
    );
}

/// Nothing silently skipped: gradients named `z1_grad`/`z2_grad` and the value named `loss` (the
/// spellings of torch scripts) are read as `grad_z1`/`grad_z2`/`value`; an entry the loss does not
/// take (`gradient_z1`, a third view for VICReg) is refused with the names it takes. It used to be
/// ignored, and the value alone compared.
#[test]
fn npz_names_are_all_accounted_for() {
    use sslproof_losses::input::{InputError, from_npz};
    use sslproof_losses::registry::LossSpec;
    let spec = LossSpec::named("vicreg", None, &[]).unwrap();
    let (a, b) = (npy_bytes(&sample()), npy_bytes(&(sample() * 2.0)));
    let one = npy_bytes(&DMatrix::from_element(1, 1, 0.5));
    let p = tmp("torch-names.npz");
    std::fs::write(
        &p,
        raw_zip(&[
            ("z1.npy", &a),
            ("z2.npy", &b),
            ("z1_grad.npy", &b),
            ("z2_grad.npy", &a),
            ("loss.npy", &one),
        ]),
    )
    .unwrap();
    let f = from_npz(&spec, &p, 1 << 30).unwrap();
    assert_eq!(f.value, Some(0.5));
    let g = f.grads.expect("the gradients are read, not skipped");
    assert_eq!((&g[0], &g[1]), (&(sample() * 2.0), &sample()));
    for (extra, name) in [("gradient_z1.npy", "gradient_z1"), ("z3.npy", "z3")] {
        let p = tmp("extra-entry.npz");
        std::fs::write(&p, raw_zip(&[("z1.npy", &a), ("z2.npy", &b), (extra, &a)])).unwrap();
        let e = from_npz(&spec, &p, 1 << 30).unwrap_err();
        assert!(matches!(e, InputError::Unrecognised { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("{name:?}")) && msg.contains("z1 z2 grad_z1 grad_z2 value"),
            "{msg}"
        );
    }
    // `value` and `loss` together are two values: ambiguous.
    let p = tmp("two-values.npz");
    std::fs::write(
        &p,
        raw_zip(&[
            ("z1.npy", &a),
            ("z2.npy", &b),
            ("value.npy", &one),
            ("loss.npy", &one),
        ]),
    )
    .unwrap();
    let e = from_npz(&spec, &p, 1 << 30).unwrap_err().to_string();
    assert!(e.contains("twice"), "{e}");
}

/// The inputs' dtype decides the default precision (`any_f32`), from `.npy` files and from an
/// `.npz`; views are `z<k>` for losses with a variable number of views (three read for
/// solo-learn's NT-Xent; lightly's takes two),
/// and `z+1` is not a view.
#[test]
fn dtypes_and_views_are_read_as_the_loss_takes_them() {
    use sslproof_losses::input::{from_npy, from_npz};
    use sslproof_losses::registry::LossSpec;
    let vic = LossSpec::named("vicreg", None, &[]).unwrap();
    let (p64, p32) = (tmp("in64.npy"), tmp("in32.npy"));
    write_matrix(&p64, &sample()).unwrap();
    write_matrix_f32(&p32, &sample()).unwrap();
    let f = from_npy(&[p64.clone(), p64.clone()], &[], 1 << 30).unwrap();
    assert!(!f.any_f32);
    let f = from_npy(&[p64.clone(), p32.clone()], &[], 1 << 30).unwrap();
    assert!(f.any_f32);
    let (b64, b32) = (std::fs::read(&p64).unwrap(), std::fs::read(&p32).unwrap());
    let p = tmp("mixed.npz");
    std::fs::write(&p, raw_zip(&[("z1.npy", &b64), ("z2.npy", &b32)])).unwrap();
    assert!(from_npz(&vic, &p, 1 << 30).unwrap().any_f32);
    std::fs::write(&p, raw_zip(&[("z1.npy", &b64), ("z2.npy", &b64)])).unwrap();
    assert!(!from_npz(&vic, &p, 1 << 30).unwrap().any_f32);
    let nt = LossSpec::named("nt-xent", Some("solo-learn"), &[]).unwrap();
    let p = tmp("three-views.npz");
    std::fs::write(
        &p,
        raw_zip(&[("z1.npy", &b64), ("z2.npy", &b64), ("z3.npy", &b64)]),
    )
    .unwrap();
    assert_eq!(from_npz(&nt, &p, 1 << 30).unwrap().inputs.len(), 3);
    // Only `z<k>` entries count as views: a value beside two views leaves two.
    let one = npy_bytes(&DMatrix::from_element(1, 1, 0.5));
    let p2 = tmp("two-views-and-value.npz");
    std::fs::write(
        &p2,
        raw_zip(&[("z1.npy", &b64), ("z2.npy", &b64), ("value.npy", &one)]),
    )
    .unwrap();
    assert_eq!(from_npz(&nt, &p2, 1 << 30).unwrap().inputs.len(), 2);
    let lightly = LossSpec::named("nt-xent", None, &[]).unwrap();
    assert!(
        from_npz(&lightly, &p, 1 << 30).is_err(),
        "lightly's NT-Xent takes two views"
    );
    std::fs::write(
        &p,
        raw_zip(&[("z1.npy", &b64), ("z2.npy", &b64), ("z+1.npy", &b64)]),
    )
    .unwrap();
    assert!(from_npz(&nt, &p, 1 << 30).is_err(), "z+1 is not a view");
}

/// Byte counts in messages, in binary units (the budget refusals print them).
#[test]
fn byte_counts_print_in_binary_units() {
    use sslproof_losses::npy::Bytes;
    assert_eq!(Bytes(512).to_string(), "512 B");
    assert_eq!(Bytes(1024).to_string(), "1.0 KiB");
    assert_eq!(Bytes(64 << 20).to_string(), "64.0 MiB");
    assert_eq!(Bytes(3 << 29).to_string(), "1.5 GiB");
    assert_eq!(Bytes(u128::MAX).to_string(), "295147905179352825856.0 EiB");
}

/// A float32 `value` entry is read (numpy's `np.float32(x)` saved in an `.npz`).
#[test]
fn a_float32_value_entry_is_read() {
    let a = npy_bytes(&sample());
    let v32 = sslproof_losses::npy::raw_npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
        &1.5f32.to_le_bytes(),
    );
    let p = tmp("value32.npz");
    std::fs::write(&p, raw_zip(&[("z1.npy", &a), ("value.npy", &v32)])).unwrap();
    assert_eq!(read_npz(&p).unwrap().value, Some(1.5));
}

/// The header cap is inclusive: a version-2 header of exactly 64 KiB is parsed, one byte more is
/// refused before the parser allocates it.
#[test]
fn the_header_cap_is_inclusive() {
    let v2 = |len: usize| {
        let mut dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }".to_string();
        while dict.len() < len - 1 {
            dict.push(' ');
        }
        dict.push('\n');
        let mut b = b"\x93NUMPY\x02\x00".to_vec();
        b.extend_from_slice(&(dict.len() as u32).to_le_bytes());
        b.extend_from_slice(dict.as_bytes());
        b.extend_from_slice(&2.5f64.to_le_bytes());
        b
    };
    let p = tmp("header64k.npy");
    std::fs::write(&p, v2(65_536)).unwrap();
    assert_eq!(read_matrix(&p).unwrap().0[(0, 0)], 2.5);
    std::fs::write(&p, v2(65_537)).unwrap();
    let e = read_matrix(&p).unwrap_err().to_string();
    assert!(e.contains("65537"), "{e}");
}

/// A gradient for a view that is not there (`grad_z3` beside two views) is refused, never
/// silently ignored, and names that only look like views (`za`, `z01`, `z`) do not count as
/// views: each is listed as unrecognised, with the stray gradient.
#[test]
fn a_gradient_without_its_view_is_refused() {
    use sslproof_losses::input::{InputError, from_npz};
    use sslproof_losses::registry::LossSpec;
    let nt = LossSpec::named("nt-xent", Some("solo-learn"), &[]).unwrap();
    let a = npy_bytes(&sample());
    let p = tmp("stray-gradient.npz");
    let unknown = |entries: &[(&str, &[u8])]| {
        std::fs::write(&p, raw_zip(entries)).unwrap();
        match from_npz(&nt, &p, 1 << 30) {
            Err(InputError::Unrecognised { unknown, .. }) => unknown,
            other => panic!("expected a refusal, got {other:?}"),
        }
    };
    assert_eq!(
        unknown(&[
            ("z1.npy", &a),
            ("z2.npy", &a),
            ("grad_z1.npy", &a),
            ("grad_z2.npy", &a),
            ("grad_z3.npy", &a),
        ]),
        ["grad_z3"]
    );
    for fake in ["za", "z01", "z"] {
        let name = format!("{fake}.npy");
        assert_eq!(
            unknown(&[
                ("z1.npy", &a),
                ("z2.npy", &a),
                (&name, &a),
                ("grad_z3.npy", &a)
            ]),
            [fake, "grad_z3"],
            "{fake}"
        );
    }
}

/// The memory a read holds (24 bytes an element: the decoded vector and the matrix) is checked
/// against the budget before decoding: a real 100 × 100 float64 file (80 KB) under a 100 KB budget
/// is refused; under 240 KB it reads, and the budget is charged.
#[test]
fn a_read_is_charged_24_bytes_an_element() {
    use sslproof_losses::npy::read_matrix_within;
    let p = tmp("hundred.npy");
    write_matrix(&p, &DMatrix::from_element(100, 100, 0.25)).unwrap();
    let e = read_matrix_within(&p, &mut 100_000u128.clone()).unwrap_err();
    assert!(matches!(e, NpyError::TooLarge { .. }), "{e}");
    let mut budget = 240_000u128;
    assert!(read_matrix_within(&p, &mut budget).is_ok());
    assert!(budget < 240_000, "the budget is charged: {budget}");
}

/// The duplicate is found by walking the archive's central directory record by record: with
/// names of different lengths before it, the error still names the entry listed twice (not the
/// first entry, not "(an entry)").
#[test]
fn the_duplicate_named_is_the_one_listed_twice() {
    let a = npy_bytes(&sample());
    let p = tmp("dup-third.npz");
    std::fs::write(
        &p,
        raw_zip(&[
            ("value_extra_long_name.npy", &a),
            ("z2.npy", &a),
            ("z1.npy", &a),
            ("z1.npy", &a),
        ]),
    )
    .unwrap();
    let e = read_npz(&p).unwrap_err().to_string();
    assert!(e.contains("\"z1\" twice"), "{e}");
}

/// The refusal of unknown entries lists eight names and counts the rest (an archive may hold
/// 65 535 entries).
#[test]
fn many_unknown_entries_are_counted_not_all_listed() {
    use sslproof_losses::input::from_npz;
    use sslproof_losses::registry::LossSpec;
    let spec = LossSpec::named("vicreg", None, &[]).unwrap();
    let a = npy_bytes(&sample());
    let names: Vec<String> = (0..12).map(|k| format!("junk{k}.npy")).collect();
    let mut entries: Vec<(&str, &[u8])> = vec![("z1.npy", &a), ("z2.npy", &a)];
    entries.extend(names.iter().map(|n| (n.as_str(), &a[..])));
    let p = tmp("many-unknown.npz");
    std::fs::write(&p, raw_zip(&entries)).unwrap();
    let e = from_npz(&spec, &p, 1 << 30).unwrap_err().to_string();
    assert!(
        e.contains("\"junk7\" and 4 more") && !e.contains("junk8"),
        "{e}"
    );
}
