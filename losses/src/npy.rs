//! `.npy` arrays in and out (npyz), with a clear error for every kind of bad file: unreadable,
//! not an `.npy` file, truncated, a dtype other than float64/float32, a shape other than the one
//! expected, NaN or Inf, a declared size larger than the file (rejected before allocating).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
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
    #[error("{path}: not a valid .npz (zip) archive: {detail}")]
    Archive { path: PathBuf, detail: String },
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
    parse_matrix(BufReader::new(file), available, path)
}

/// The arrays of an `.npz` archive.
#[derive(Debug)]
pub struct Npz {
    /// 2-D float arrays by name.
    pub arrays: BTreeMap<String, (DMatrix<f64>, Dtype)>,
    /// A one-element float array named `value`, if any.
    pub value: Option<f64>,
}

/// Reads an `.npz` archive (numpy's `savez`, stored, or `savez_compressed`, deflated): every
/// entry a 2-D float64/float32 array, except `value`, a one-element array. Errors name the
/// archive and the entry (`file.npz[z1]`).
pub fn read_npz(path: &Path) -> Result<Npz, NpyError> {
    let p = || path.to_path_buf();
    let file = File::open(path).map_err(|source| NpyError::Io { path: p(), source })?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| NpyError::Archive {
        path: p(),
        detail: e.to_string(),
    })?;
    let mut out = Npz {
        arrays: BTreeMap::new(),
        value: None,
    };
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| NpyError::Archive {
            path: p(),
            detail: format!("entry {i}: {e}"),
        })?;
        let full = entry.name().map_err(|e| NpyError::Archive {
            path: p(),
            detail: format!("entry {i}: {e}"),
        })?;
        let Some(name) = full.strip_suffix(".npy").map(str::to_string) else {
            continue;
        };
        let label = PathBuf::from(format!("{}[{name}]", path.display()));
        let available = entry.size();
        if name == "value" {
            out.value = Some(parse_scalar(entry, &label)?);
        } else {
            let m = parse_matrix(entry, available, &label)?;
            out.arrays.insert(name, m);
        }
    }
    Ok(out)
}

/// A one-element float array (shape `()`, `(1,)` or `(1, 1)`).
fn parse_scalar<R: Read>(reader: R, path: &Path) -> Result<f64, NpyError> {
    let p = || path.to_path_buf();
    let npy = NpyFile::new(reader).map_err(|e| NpyError::Malformed {
        path: p(),
        detail: e.to_string(),
    })?;
    let shape = npy.shape().to_vec();
    if shape.iter().product::<u64>() != 1 {
        return Err(NpyError::Shape {
            path: p(),
            found: shape,
        });
    }
    let bad = |e: std::io::Error| NpyError::Malformed {
        path: p(),
        detail: format!("reading the data: {e}"),
    };
    let x = match &npy.dtype() {
        DType::Plain(t) if t.to_string() == "<f8" => npy.into_vec::<f64>().map_err(bad)?[0],
        DType::Plain(t) if t.to_string() == "<f4" => {
            f64::from(npy.into_vec::<f32>().map_err(bad)?[0])
        }
        other => {
            return Err(NpyError::Dtype {
                path: p(),
                found: other.descr(),
            });
        }
    };
    if !x.is_finite() {
        return Err(NpyError::NonFinite {
            path: p(),
            row: 0,
            col: 0,
        });
    }
    Ok(x)
}

/// One 2-D float array from any reader; `available` bytes bound the declared size.
fn parse_matrix<R: Read>(
    reader: R,
    available: u64,
    path: &Path,
) -> Result<(DMatrix<f64>, Dtype), NpyError> {
    let p = || path.to_path_buf();
    let npy = NpyFile::new(reader).map_err(|e| NpyError::Malformed {
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
