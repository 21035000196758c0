//! `.npy` arrays in and out (npyz), with a clear error for every kind of bad file: unreadable,
//! not an `.npy` file, truncated, a dtype other than float64/float32, a shape other than the one
//! expected, NaN or Inf, a declared size larger than the file (rejected before allocating).

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use nalgebra::DMatrix;
use npyz::{DType, NpyFile, Order, WriterBuilder};

/// The element type the file held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Dtype {
    F64,
    F32,
}

/// Why a `.npy` file was refused; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a valid .npy file: {detail}")]
    Malformed { path: PathBuf, detail: String },
    #[error("{path}: dtype {found} is not supported (expected float64 '<f8' or float32 '<f4')")]
    Dtype { path: PathBuf, found: String },
    #[error("{path}: shape {found:?}, expected a 2-D array (B × d)")]
    Shape { path: PathBuf, found: Vec<u64> },
    #[error(
        "{path}: the header declares {declared} bytes of data but the file has only {available}: truncated or a shape too large"
    )]
    Truncated {
        path: PathBuf,
        declared: u128,
        available: u64,
    },
    #[error("{path}: entry ({row}, {col}) is NaN or infinite")]
    NonFinite {
        path: PathBuf,
        row: usize,
        col: usize,
    },
}

/// Reads a 2-D float64 or float32 array as an `f64` matrix (C or Fortran order).
pub fn read_matrix(path: &Path) -> Result<(DMatrix<f64>, Dtype), NpyError> {
    let p = || path.to_path_buf();
    let file = File::open(path).map_err(|source| NpyError::Io { path: p(), source })?;
    let available = file
        .metadata()
        .map_err(|source| NpyError::Io { path: p(), source })?
        .len();
    let npy = NpyFile::new(BufReader::new(file)).map_err(|e| NpyError::Malformed {
        path: p(),
        detail: e.to_string(),
    })?;
    let descr = npy.dtype().descr();
    let (dtype, itemsize) = match &npy.dtype() {
        DType::Plain(t) if t.to_string() == "<f8" => (Dtype::F64, 8u128),
        DType::Plain(t) if t.to_string() == "<f4" => (Dtype::F32, 4u128),
        _ => {
            return Err(NpyError::Dtype {
                path: p(),
                found: descr,
            });
        }
    };
    let shape = npy.shape().to_vec();
    if shape.len() != 2 {
        return Err(NpyError::Shape {
            path: p(),
            found: shape,
        });
    }
    // Checked before any allocation: the data cannot be larger than the file.
    let declared = shape
        .iter()
        .fold(itemsize, |a, &s| a.saturating_mul(u128::from(s)));
    if declared > u128::from(available) {
        return Err(NpyError::Truncated {
            path: p(),
            declared,
            available,
        });
    }
    let (rows, cols) = (shape[0] as usize, shape[1] as usize);
    let order = npy.order();
    let truncated = |e: std::io::Error| NpyError::Malformed {
        path: p(),
        detail: format!("reading the data: {e}"),
    };
    let data: Vec<f64> = match dtype {
        Dtype::F64 => npy.into_vec::<f64>().map_err(truncated)?,
        Dtype::F32 => npy
            .into_vec::<f32>()
            .map_err(truncated)?
            .into_iter()
            .map(f64::from)
            .collect(),
    };
    let m = match order {
        Order::C => DMatrix::from_row_slice(rows, cols, &data),
        Order::Fortran => DMatrix::from_column_slice(rows, cols, &data),
    };
    for i in 0..rows {
        for j in 0..cols {
            if !m[(i, j)].is_finite() {
                return Err(NpyError::NonFinite {
                    path: p(),
                    row: i,
                    col: j,
                });
            }
        }
    }
    Ok((m, dtype))
}

/// Writes `m` as a C-order `.npy` file with element type `T` (each entry converted by `conv`).
fn write_as<T: npyz::AutoSerialize>(
    path: &Path,
    m: &DMatrix<f64>,
    conv: impl Fn(f64) -> T,
) -> std::io::Result<()> {
    let file = BufWriter::new(File::create(path)?);
    let mut w = npyz::WriteOptions::<T>::new()
        .default_dtype()
        .shape(&[m.nrows() as u64, m.ncols() as u64])
        .writer(file)
        .begin_nd()?;
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            w.push(&conv(m[(i, j)]))?;
        }
    }
    w.finish()
}

/// Writes an `f64` matrix as a C-order float64 `.npy` file.
pub fn write_matrix(path: &Path, m: &DMatrix<f64>) -> std::io::Result<()> {
    write_as(path, m, |x| x)
}

/// Writes an `f32` copy of an `f64` matrix (round to nearest), as a float32 `.npy` file.
pub fn write_matrix_f32(path: &Path, m: &DMatrix<f64>) -> std::io::Result<()> {
    write_as(path, m, |x| x as f32)
}
