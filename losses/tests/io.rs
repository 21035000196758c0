//! `.npy` input and output: round trips and every kind of bad file.

use std::path::PathBuf;

use nalgebra::DMatrix;
use npyz::WriterBuilder;

use sslproof_losses::npy::{
    Dtype, NpyError, read_matrix, read_npz, write_matrix, write_matrix_f32,
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
    let mut header = dict.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0u8; 64]);
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
