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

/// A number of bytes, printed in binary units (`8.0 GiB`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bytes(pub u128);

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let mut x = self.0 as f64;
        let mut u = 0;
        while x >= 1024.0 && u + 1 < units.len() {
            x /= 1024.0;
            u += 1;
        }
        if u == 0 {
            write!(f, "{} B", self.0)
        } else {
            write!(f, "{x:.1} {}", units[u])
        }
    }
}

/// The default memory budget of reading and checking: 8 GiB, a third of a 24 GiB machine.
pub const DEFAULT_BUDGET: u128 = 8 << 30;

/// Why a `.npy` file was refused; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    // The OS error is in the message and not a `source`: a chain printer (anyhow's `{:#}`) would
    // print it twice.
    #[error("{path}: cannot read: {err}")]
    Io { path: PathBuf, err: std::io::Error },
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
    #[error(
        "{path}: shape {shape:?} needs about {needed} of memory to read; the budget left is {budget} (raise it with --max-memory)"
    )]
    TooLarge {
        path: PathBuf,
        shape: Vec<u64>,
        needed: Bytes,
        budget: Bytes,
    },
    #[error("{path}: shape {found:?}, expected one element (shape (), (1,) or (1, 1))")]
    NotScalar { path: PathBuf, found: Vec<u64> },
    #[error(
        "{path}: bytes after the array's data (at least {extra}; a corrupt or concatenated file)"
    )]
    Trailing { path: PathBuf, extra: u64 },
    #[error(
        "{path}: the archive holds the entry {name:?} twice (or under two accepted spellings, \
         such as `value` and `loss`); which one is meant is ambiguous"
    )]
    Duplicate { path: PathBuf, name: String },
    #[error("{path}: not a regular file (a directory, FIFO or device): refused")]
    NotRegular { path: PathBuf },
    #[error("{path}: entry ({row}, {col}) is NaN or infinite")]
    NonFinite {
        path: PathBuf,
        row: usize,
        col: usize,
    },
}

/// Reads a 2-D float64 or float32 array as an `f64` matrix (C or Fortran order), within the
/// default memory budget.
pub fn read_matrix(path: &Path) -> Result<(DMatrix<f64>, Dtype), NpyError> {
    read_matrix_within(path, &mut DEFAULT_BUDGET.clone())
}

/// [`read_matrix`], refusing before allocating when reading would take more than `budget` bytes
/// (which it then decreases by what it took).
pub fn read_matrix_within(
    path: &Path,
    budget: &mut u128,
) -> Result<(DMatrix<f64>, Dtype), NpyError> {
    let p = || path.to_path_buf();
    let file = open_regular(path)?;
    let available = file
        .metadata()
        .map_err(|source| NpyError::Io {
            path: p(),
            err: source,
        })?
        .len();
    let mut reader = BufReader::new(file);
    let m = parse_matrix(&mut reader, available, budget, path)?;
    at_end(&mut reader, path)?;
    Ok(m)
}

/// Opens `path` after checking that it is a regular file: a FIFO would block for ever, a device
/// could be endless.
fn open_regular(path: &Path) -> Result<File, NpyError> {
    let p = || path.to_path_buf();
    let meta = std::fs::metadata(path).map_err(|source| NpyError::Io {
        path: p(),
        err: source,
    })?;
    if !meta.is_file() {
        return Err(NpyError::NotRegular { path: p() });
    }
    File::open(path).map_err(|source| NpyError::Io {
        path: p(),
        err: source,
    })
}

/// Nothing may follow the data. Reading to the end also makes the zip reader verify the entry's
/// CRC-32, so a corrupted stored entry is refused here.
fn at_end<R: Read>(reader: &mut R, path: &Path) -> Result<(), NpyError> {
    let mut extra = 0u64;
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            // One extra byte is enough to refuse: stop there (a hostile entry may decompress to
            // gigabytes of trailing zeros).
            Ok(n) => {
                extra = n as u64;
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(NpyError::Malformed {
                    path: path.to_path_buf(),
                    detail: format!("reading past the data: {e}"),
                });
            }
        }
    }
    if extra > 0 {
        return Err(NpyError::Trailing {
            path: path.to_path_buf(),
            extra,
        });
    }
    Ok(())
}

/// The arrays of an `.npz` archive.
#[derive(Debug)]
pub struct Npz {
    /// 2-D float arrays by name.
    pub arrays: BTreeMap<String, (DMatrix<f64>, Dtype)>,
    /// Every entry's name as the archive gives it (without `.npy`), decoded or not.
    pub names: Vec<String>,
    /// A one-element float array named `value`, if any (possibly NaN or infinite: the caller
    /// decides, since `--value` may override it).
    pub value: Option<f64>,
}

/// Reads an `.npz` archive (numpy's `savez`, stored, or `savez_compressed`, deflated): every
/// entry a 2-D float64/float32 array, except `value`, a one-element array. Errors name the
/// archive and the entry (`file.npz[z1]`).
pub fn read_npz(path: &Path) -> Result<Npz, NpyError> {
    read_npz_within(path, &mut DEFAULT_BUDGET.clone(), &|n| Some(n.to_string()))
}

/// [`read_npz`] within a memory budget, decoding only the entries `wanted` names (the others are
/// neither decompressed nor kept). `wanted` maps an entry's name (without `.npy`) to the name it
/// is kept under (`loss` → `value`, say), or to `None` to skip it; two entries kept under the same
/// name are refused as a duplicate. `Npz::names` lists every entry as the archive names it.
pub fn read_npz_within(
    path: &Path,
    budget: &mut u128,
    wanted: &dyn Fn(&str) -> Option<String>,
) -> Result<Npz, NpyError> {
    let p = || path.to_path_buf();
    let file = open_regular(path)?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| NpyError::Archive {
        path: p(),
        detail: e.to_string(),
    })?;
    if let Some(name) = repeated_name(path, zip.len())? {
        return Err(NpyError::Duplicate { path: p(), name });
    }
    let mut out = Npz {
        arrays: BTreeMap::new(),
        names: Vec::new(),
        value: None,
    };
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| NpyError::Archive {
            path: p(),
            detail: format!("entry {i}: {e}"),
        })?;
        let full = entry.name().map_err(|e| NpyError::Archive {
            path: p(),
            detail: format!("entry {i}: {e}"),
        })?;
        let Some(given) = full.strip_suffix(".npy").map(str::to_string) else {
            out.names.push(full.to_string());
            continue;
        };
        out.names.push(given.clone());
        let Some(name) = wanted(&given) else {
            continue;
        };
        let label = PathBuf::from(format!("{}[{name}]", path.display()));
        let available = entry.size();
        let duplicate = if name == "value" {
            out.value.is_some()
        } else {
            out.arrays.contains_key(&name)
        };
        if duplicate {
            return Err(NpyError::Duplicate { path: p(), name });
        }
        if name == "value" {
            out.value = Some(parse_scalar(&mut entry, &label)?);
        } else {
            let m = parse_matrix(&mut entry, available, budget, &label)?;
            out.arrays.insert(name, m);
        }
        at_end(&mut entry, &label)?;
    }
    Ok(out)
}

/// The zip reader keeps one entry per name (the last), so a name listed twice is found here, in
/// the archive's central directory: when it lists more records than the reader kept distinct
/// names, the first name listed twice. Archives with a zip64 end record (65 535 entries or more)
/// are not examined. Every offset is bounds-checked: the bytes are hostile.
fn repeated_name(path: &Path, distinct: usize) -> Result<Option<String>, NpyError> {
    use std::io::{Seek, SeekFrom};
    let io = |err| NpyError::Io {
        path: path.to_path_buf(),
        err,
    };
    let mut f = File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let tail_len = len.min(22 + 65_535);
    f.seek(SeekFrom::Start(len - tail_len)).map_err(io)?;
    let mut tail = vec![0u8; tail_len as usize];
    f.read_exact(&mut tail).map_err(io)?;
    let Some(at) = tail
        .windows(4)
        .rposition(|w| w == 0x06054b50u32.to_le_bytes())
    else {
        return Ok(None);
    };
    let u16_at = |b: &[u8], i: usize| b.get(i..i + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let u32_at = |b: &[u8], i: usize| {
        b.get(i..i + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let (Some(total), Some(cd_size), Some(cd_off)) = (
        u16_at(&tail, at + 10),
        u32_at(&tail, at + 12),
        u32_at(&tail, at + 16),
    ) else {
        return Ok(None);
    };
    if total == u16::MAX || usize::from(total) <= distinct {
        return Ok(None);
    }
    if u64::from(cd_off) + u64::from(cd_size) > len {
        return Ok(None); // the zip reader accepted it; its own checks apply
    }
    let mut cd = vec![0u8; cd_size as usize];
    f.seek(SeekFrom::Start(u64::from(cd_off))).map_err(io)?;
    f.read_exact(&mut cd).map_err(io)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut i = 0usize;
    for _ in 0..total {
        let (Some(n), Some(x), Some(c)) = (
            u16_at(&cd, i + 28),
            u16_at(&cd, i + 30),
            u16_at(&cd, i + 32),
        ) else {
            break;
        };
        let Some(name) = cd.get(i + 46..i + 46 + usize::from(n)) else {
            break;
        };
        let name = String::from_utf8_lossy(name).into_owned();
        let name = name
            .strip_suffix(".npy")
            .map(str::to_string)
            .unwrap_or(name);
        if !seen.insert(name.clone()) {
            return Ok(Some(name));
        }
        i += 46 + usize::from(n) + usize::from(x) + usize::from(c);
    }
    Ok(Some("(an entry)".into()))
}

/// The longest header accepted: numpy writes a few hundred bytes; a version-2 header may declare
/// up to 4 GiB, which the parser would allocate before reading a byte of it.
const MAX_HEADER: u32 = 1 << 16;

/// Reads the magic string, the version and the header length, refuses a header longer than
/// [`MAX_HEADER`], and gives back a reader that starts again at the first byte.
fn bounded_header<R: Read>(mut reader: R, path: &Path) -> Result<impl Read, NpyError> {
    let bad = |detail: String| NpyError::Malformed {
        path: path.to_path_buf(),
        detail,
    };
    let mut prefix = [0u8; 12];
    let mut got = 0;
    while got < prefix.len() {
        match reader.read(&mut prefix[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(bad(format!("reading the header: {e}"))),
        }
    }
    if got >= 10 && &prefix[..6] == b"\x93NUMPY" {
        let len = match prefix[6] {
            1 => u32::from(u16::from_le_bytes([prefix[8], prefix[9]])),
            _ if got == 12 => u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]),
            _ => 0,
        };
        if len > MAX_HEADER {
            return Err(bad(format!(
                "the header declares {len} bytes (at most {MAX_HEADER} accepted; numpy writes a few hundred)"
            )));
        }
    }
    // Anything else is left to the parser, which names it.
    Ok(std::io::Cursor::new(prefix[..got].to_vec()).chain(reader))
}

/// A one-element float array (shape `()`, `(1,)` or `(1, 1)`).
fn parse_scalar<R: Read>(reader: R, path: &Path) -> Result<f64, NpyError> {
    let p = || path.to_path_buf();
    let npy = NpyFile::new(bounded_header(reader, path)?).map_err(|e| NpyError::Malformed {
        path: p(),
        detail: e.to_string(),
    })?;
    let shape = npy.shape().to_vec();
    // Every dimension must be 1: a product could overflow (2³² · 2³²) or hide a zero.
    if shape.iter().any(|&s| s != 1) || shape.len() > 2 {
        return Err(NpyError::NotScalar {
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
    // A NaN or infinite value is returned as it is: `--value` may override it, and whoever uses
    // it refuses it (`sslproof check` does, naming where it came from).
    Ok(x)
}

/// One 2-D float array from any reader; `available` bytes bound the declared size.
fn parse_matrix<R: Read>(
    reader: R,
    available: u64,
    budget: &mut u128,
    path: &Path,
) -> Result<(DMatrix<f64>, Dtype), NpyError> {
    let p = || path.to_path_buf();
    let npy = NpyFile::new(bounded_header(reader, path)?).map_err(|e| NpyError::Malformed {
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
    // What reading holds at once: the decoded vector (8 bytes an element, or 4 and then 8 for
    // float32) and the matrix (8): 24 bytes an element at most.
    let needed = declared / itemsize * 24;
    if needed > *budget {
        return Err(NpyError::TooLarge {
            path: p(),
            shape,
            needed: Bytes(needed),
            budget: Bytes(*budget),
        });
    }
    *budget -= needed;
    let (Ok(rows), Ok(cols)) = (usize::try_from(shape[0]), usize::try_from(shape[1])) else {
        return Err(NpyError::Shape {
            path: p(),
            found: shape,
        });
    };
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
    atomically(path, |file| {
        let mut w = npyz::WriteOptions::<T>::new()
            .default_dtype()
            .shape(&[m.nrows() as u64, m.ncols() as u64])
            .writer(BufWriter::new(file))
            .begin_nd()?;
        for i in 0..m.nrows() {
            for j in 0..m.ncols() {
                w.push(&conv(m[(i, j)]))?;
            }
        }
        w.finish()
    })
}

/// Writes `path` through a temporary file in the same directory, renamed over `path` when
/// complete: a reader sees the old file or the new one, never a partial one, and two writers
/// leave one complete file.
pub fn atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.{k}.tmp", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// [`atomically`] for bytes in memory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    atomically(path, |f| f.write_all(bytes))
}

/// Writes an `f64` matrix as a C-order float64 `.npy` file.
pub fn write_matrix(path: &Path, m: &DMatrix<f64>) -> std::io::Result<()> {
    write_as(path, m, |x| x)
}

/// Writes an `f32` copy of an `f64` matrix (round to nearest), as a float32 `.npy` file.
pub fn write_matrix_f32(path: &Path, m: &DMatrix<f64>) -> std::io::Result<()> {
    write_as(path, m, |x| x as f32)
}

/// The bytes of an `.npy` file with the header dictionary `dict` (padded as numpy pads it, to a
/// multiple of 64 bytes) followed by `data`, whatever they say: for building hostile inputs in
/// tests and the fuzzer.
pub fn raw_npy(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// The bytes of a stored (uncompressed) zip archive holding `entries`, written by hand so that it
/// can hold what no zip writer writes (the same name twice): for building hostile inputs in tests.
/// Sizes and offsets are 32-bit (no zip64): keep the entries small.
pub fn raw_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let (crc, len, off) = (crc.sum(), data.len() as u32, out.len() as u32);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0u16.to_le_bytes()); // flags
            v.extend_from_slice(&0u16.to_le_bytes()); // stored
            v.extend_from_slice(&0u32.to_le_bytes()); // time, date
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&len.to_le_bytes());
            v.extend_from_slice(&len.to_le_bytes());
            v.extend_from_slice(&(name.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        out.extend_from_slice(&0x04034b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x02014b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&[0u8; 6]); // comment len, disk, internal attrs
        central.extend_from_slice(&0u32.to_le_bytes()); // external attrs
        central.extend_from_slice(&off.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_off = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x06054b50u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}
