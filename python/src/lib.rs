//! `sslproof._native`: the loss crate's registry, reference and checker for Python. The Python
//! layer (`pysrc/sslproof`) wraps these functions in the typed API; nothing here decides a
//! tolerance or a verdict: [`sslproof_losses::checker`] does, exactly as for `sslproof check`.
//!
//! Arrays come in as numpy float64 or float32 2-D arrays and are read in place (no copy on the
//! Python side); they are copied once, into the checker's own f64 matrices (a float32 entry is
//! widened there), with the interpreter attached. The reference and the check then run with the
//! interpreter detached (the GIL released).

use std::time::Instant;

use nalgebra::DMatrix;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use sslproof_losses::checker::{self, Options, ReferenceKind, UserNumbers};
use sslproof_losses::estimate::TolMode;
use sslproof_losses::golden;
use sslproof_losses::registry::{self, LossSpec, PARAM_ALIASES, SpecError};
use sslproof_losses::rounding::Precision;

/// An exception of `sslproof.errors` (defined in Python, so that each is also the builtin it
/// refines: an `InputError` is a `ValueError`).
fn error(py: Python<'_>, kind: &str, msg: String) -> PyErr {
    let made = py
        .import("sslproof.errors")
        .and_then(|m| m.getattr(kind))
        .and_then(|c| c.call1((msg.clone(),)));
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

/// A refusal of the loss crate as the exception that names its kind.
fn spec_error(py: Python<'_>, e: SpecError) -> PyErr {
    let kind = match &e {
        SpecError::Loss { .. }
        | SpecError::Variant { .. }
        | SpecError::Param { .. }
        | SpecError::ParamRange { .. }
        | SpecError::Mistake(_) => "ConfigError",
        SpecError::InputCount { .. }
        | SpecError::InputShape { .. }
        | SpecError::Batch(_)
        | SpecError::Covariance { .. } => "InputError",
        SpecError::TooLarge {
            what,
            needed,
            budget,
        } => {
            return error(
                py,
                "TooLargeError",
                format!(
                    "{what} needs about {needed} of memory; the budget is {budget} (raise it with \
                     max_memory=, in bytes)"
                ),
            );
        }
        SpecError::OutOfRange { .. } => "OutOfRangeError",
    };
    error(py, kind, e.to_string())
}

/// One input as the checker's f64 matrix, and whether it was float32. Read in place: a C- or
/// F-contiguous float64 array is one memory copy, anything else one strided pass.
fn matrix(py: Python<'_>, name: &str, obj: &Bound<'_, PyAny>) -> PyResult<(DMatrix<f64>, bool)> {
    let m = if let Ok(a) = obj.extract::<PyReadonlyArray2<'_, f64>>() {
        (to_matrix(&a, |x| x), false)
    } else if let Ok(a) = obj.extract::<PyReadonlyArray2<'_, f32>>() {
        (to_matrix(&a, f64::from), true)
    } else {
        let what = obj
            .getattr("dtype")
            .and_then(|d| d.str().map(|s| s.to_string()))
            .unwrap_or_else(|_| obj.get_type().to_string());
        let ndim = obj.getattr("ndim").and_then(|n| n.extract::<usize>()).ok();
        return Err(error(
            py,
            "InputError",
            format!(
                "{name}: expected a 2-D float64 or float32 numpy array (rows are samples), got {}{what}",
                ndim.map(|n| format!("{n}-D ")).unwrap_or_default()
            ),
        ));
    };
    if let Some(k) = m.0.iter().position(|x| !x.is_finite()) {
        let (r, c) = m.0.shape();
        let (i, j) = (k % r, k / r);
        return Err(error(
            py,
            "InputError",
            format!(
                "{name}: entry ({i}, {j}) of the {r} × {c} array is {}; the inputs must be finite",
                m.0[(i, j)]
            ),
        ));
    }
    Ok(m)
}

fn to_matrix<T: numpy::Element + Copy>(
    a: &PyReadonlyArray2<'_, T>,
    widen: impl Fn(T) -> f64,
) -> DMatrix<f64> {
    let v = a.as_array();
    let (r, c) = v.dim();
    if a.is_c_contiguous()
        && let Ok(s) = a.as_slice()
    {
        // C order (row i is s[i·c .. (i+1)·c]) into column-major storage: copied in 64 × 64
        // blocks, so that reads and writes both stay in cache (element by element, the strided
        // writes made the copy of a 512 × 8192 array 5 % of a whole NT-Xent check).
        const BLK: usize = 64;
        let mut m = DMatrix::zeros(r, c);
        for jb in (0..c).step_by(BLK) {
            for ib in (0..r).step_by(BLK) {
                for i in ib..(ib + BLK).min(r) {
                    let row = &s[i * c..(i + 1) * c];
                    for j in jb..(jb + BLK).min(c) {
                        m[(i, j)] = widen(row[j]);
                    }
                }
            }
        }
        m
    } else if a.is_fortran_contiguous() {
        // Fortran order is nalgebra's own (column-major) layout.
        let t = v.t();
        let s = t
            .as_slice()
            .expect("the transpose of an F-contiguous array is C-contiguous");
        DMatrix::from_iterator(r, c, s.iter().map(|&x| widen(x)))
    } else {
        DMatrix::from_fn(r, c, |i, j| widen(v[[i, j]]))
    }
}

fn matrices(
    py: Python<'_>,
    spec: &LossSpec,
    arrays: &Bound<'_, PyList>,
    what: &str,
) -> PyResult<(Vec<DMatrix<f64>>, bool)> {
    let names = spec.input_names(arrays.len());
    let mut any_f32 = false;
    let mut out = Vec::with_capacity(arrays.len());
    for (k, a) in arrays.iter().enumerate() {
        let name = names
            .get(k)
            .cloned()
            .unwrap_or_else(|| format!("input {k}"));
        let label = if what.is_empty() {
            name
        } else {
            format!("{what} of {name}")
        };
        let (m, f32) = matrix(py, &label, &a)?;
        any_f32 |= f32;
        out.push(m);
    }
    Ok((out, any_f32))
}

/// The job's memory, decided from the arrays' shapes before any is copied: a list whose first
/// entry has no 2-D shape is left to [`matrices`] to refuse by name.
fn fits_before_copy(
    py: Python<'_>,
    spec: &LossSpec,
    arrays: &Bound<'_, PyList>,
    opts: &Options,
) -> PyResult<()> {
    let shape = arrays
        .get_item(0)
        .and_then(|a| a.getattr("shape"))
        .and_then(|s| s.extract::<(usize, usize)>());
    if let Ok((b, d)) = shape {
        checker::fits_shape(spec, b, d, arrays.len(), opts).map_err(|e| spec_error(py, e))?;
    }
    Ok(())
}

fn to_numpy<'py>(py: Python<'py>, m: &DMatrix<f64>) -> Bound<'py, PyArray2<f64>> {
    Array2::from_shape_fn(m.shape(), |(i, j)| m[(i, j)]).into_pyarray(py)
}

fn spec(
    py: Python<'_>,
    loss: &str,
    variant: Option<&str>,
    params: Vec<(String, f64)>,
) -> PyResult<LossSpec> {
    LossSpec::named(loss, variant, &params).map_err(|e| spec_error(py, e))
}

fn options(precision: Precision, prec_bits: u32, max_memory: u128) -> Options {
    Options {
        precision,
        hp_bits: prec_bits,
        max_memory,
        ..Options::default()
    }
}

/// `tolerance=`: `"estimate"` or `"bound"`.
fn tol_mode(py: Python<'_>, s: &str) -> PyResult<TolMode> {
    TolMode::parse(s).ok_or_else(|| {
        error(
            py,
            "ConfigError",
            format!("unknown tolerance {s:?}; known: estimate, bound"),
        )
    })
}

/// The registry as JSON: losses, variants (source, formula, parameters with defaults and
/// ranges, inputs, which have gradients, whether any number of views is taken), mistakes, the
/// accepted parameter spellings, and the precisions.
#[pyfunction]
fn losses_json() -> String {
    let ls: Vec<serde_json::Value> = registry::LOSSES
        .iter()
        .map(|l| {
            let variants: Vec<serde_json::Value> = l
                .variants()
                .iter()
                .map(|v| {
                    let inputs = l.input_names(v, 2);
                    let ng = l.grad_count(v, inputs.len());
                    serde_json::json!({
                        "name": v.name,
                        "source": v.source,
                        "formula": v.formula,
                        "params": v.params.iter().map(|p| serde_json::json!({
                            "name": p.name,
                            "default": p.default,
                            "range": format!("{:?}", p.range),
                        })).collect::<Vec<_>>(),
                        "inputs": inputs,
                        "grad_inputs": inputs[..ng].to_vec(),
                        "variable_views": l.variable_views(v),
                        "mistakes": l.mistakes().iter().filter(|m| l.mistake_applies(v, m)).map(|m| m.id).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::json!({
                "name": l.name(),
                "variants": variants,
                "mistakes": l.mistakes().iter().map(|m| serde_json::json!({"id": m.id, "says": m.says})).collect::<Vec<_>>(),
                "unit_rows": l.unit_rows(),
                "covariance_inputs": l.covariance_inputs(),
            })
        })
        .collect();
    serde_json::json!({
        "losses": ls,
        "param_aliases": PARAM_ALIASES.iter().map(|(a, c)| (a.to_string(), c.to_string())).collect::<std::collections::BTreeMap<_, _>>(),
        "precisions": Precision::ALL.map(Precision::as_str),
    })
    .to_string()
}

/// The reference value and gradients: a dict with `value`, `grads` (float64 arrays, one per input
/// with a gradient), `names`, `kind` (`"mpfr"` or `"f64"`), `bits`, `value_error` and
/// `grad_errors` (bounds on the reference's own error), `value_decimal` (30 digits, MPFR only).
#[pyfunction]
#[pyo3(signature = (loss, inputs, variant, params, prec_bits, max_memory))]
fn reference<'py>(
    py: Python<'py>,
    loss: &str,
    inputs: &Bound<'py, PyList>,
    variant: Option<&str>,
    params: Vec<(String, f64)>,
    prec_bits: u32,
    max_memory: u128,
) -> PyResult<Bound<'py, PyDict>> {
    let spec = spec(py, loss, variant, params)?;
    let opts = options(Precision::F64, prec_bits, max_memory);
    fits_before_copy(py, &spec, inputs, &opts)?;
    let (xs, _) = matrices(py, &spec, inputs, "")?;
    spec.validate_inputs(&xs).map_err(|e| spec_error(py, e))?;
    let (r, secs) = py.detach(|| {
        let t = Instant::now();
        let r = checker::reference(&spec, &xs, &opts);
        (r, t.elapsed().as_secs_f64())
    });
    let r = r.map_err(|e| spec_error(py, e))?;
    let names = spec.input_names(xs.len());
    let d = PyDict::new(py);
    d.set_item("value", r.out.value)?;
    let grads = PyList::empty(py);
    for g in &r.out.grads {
        grads.append(to_numpy(py, g))?;
    }
    d.set_item("grads", grads)?;
    d.set_item("names", names[..r.out.grads.len()].to_vec())?;
    match r.kind {
        ReferenceKind::Mpfr(bits) => {
            d.set_item("kind", "mpfr")?;
            d.set_item("bits", bits)?;
        }
        ReferenceKind::F64 => {
            d.set_item("kind", "f64")?;
            d.set_item("bits", 53)?;
        }
    }
    d.set_item("value_error", r.error.value)?;
    d.set_item("grad_errors", r.error.grads.clone())?;
    d.set_item("value_decimal", r.value_decimal.clone())?;
    d.set_item("seconds", secs)?;
    Ok(d)
}

/// `sslproof check` on arrays: returns `(report as JSON, the CLI's text, exit code, seconds the
/// check took in Rust)`.
#[pyfunction]
#[pyo3(signature = (loss, inputs, value, grads, precision, variant, params, prec_bits, max_memory, tolerance))]
#[allow(clippy::too_many_arguments)]
fn check<'py>(
    py: Python<'py>,
    loss: &str,
    inputs: &Bound<'py, PyList>,
    value: f64,
    grads: Option<&Bound<'py, PyList>>,
    precision: Option<&str>,
    variant: Option<&str>,
    params: Vec<(String, f64)>,
    prec_bits: u32,
    max_memory: u128,
    tolerance: &str,
) -> PyResult<(String, String, u8, f64)> {
    let spec = spec(py, loss, variant, params)?;
    let mode = tol_mode(py, tolerance)?;
    let precision = match precision {
        None => None,
        Some(p) => Some(Precision::parse(p).ok_or_else(|| {
            error(
                py,
                "ConfigError",
                format!(
                    "unknown precision {p:?}; known: {}",
                    Precision::ALL.map(Precision::as_str).join(", ")
                ),
            )
        })?),
    };
    if !value.is_finite() {
        return Err(error(
            py,
            "InputError",
            format!("the loss value is {value}; a finite value is needed to compare"),
        ));
    }
    // The precision does not enter the working set: any will do for deciding it.
    fits_before_copy(
        py,
        &spec,
        inputs,
        &Options {
            tolerance: mode,
            ..options(Precision::F64, prec_bits, max_memory)
        },
    )?;
    let (xs, mut any_f32) = matrices(py, &spec, inputs, "")?;
    let gs = match grads {
        None => None,
        Some(g) => {
            // A NaN in a gradient is the user's result, not bad input: it is compared (and never
            // agrees), as in `sslproof check`.
            let names = spec.input_names(xs.len());
            let mut out = Vec::new();
            for (k, a) in g.iter().enumerate() {
                let label = format!(
                    "gradient of {}",
                    names
                        .get(k)
                        .cloned()
                        .unwrap_or_else(|| format!("input {k}"))
                );
                let m = if let Ok(a) = a.extract::<PyReadonlyArray2<'_, f64>>() {
                    to_matrix(&a, |x| x)
                } else if let Ok(a) = a.extract::<PyReadonlyArray2<'_, f32>>() {
                    any_f32 = true;
                    to_matrix(&a, f64::from)
                } else {
                    return Err(matrix(py, &label, &a).err().unwrap_or_else(|| {
                        error(py, "InputError", format!("{label}: not a 2-D float array"))
                    }));
                };
                out.push(m);
            }
            Some(out)
        }
    };
    let precision = precision.unwrap_or(if any_f32 {
        Precision::F32
    } else {
        Precision::F64
    });
    let opts = Options {
        tolerance: mode,
        ..options(precision, prec_bits, max_memory)
    };
    let user = UserNumbers { value, grads: gs };
    let (report, secs) = py.detach(|| {
        let t = Instant::now();
        let r = checker::check(&spec, &xs, &user, &opts);
        (r, t.elapsed().as_secs_f64())
    });
    let report = report.map_err(|e| spec_error(py, e))?;
    let json = serde_json::to_string(&report)
        .map_err(|e| error(py, "SslproofError", format!("serialising the report: {e}")))?;
    Ok((json, report.render(), report.exit_code(), secs))
}

/// Seeded inputs of `loss` at `B × d`, drawn as the golden files draw theirs (correlated,
/// anisotropic views rounded to float32; unit rows where the loss is used on normalised features;
/// CorInfoMax's running state), with `views` views where the variant takes any number.
#[pyfunction]
#[pyo3(signature = (loss, variant, b, d, seed, views))]
fn inputs<'py>(
    py: Python<'py>,
    loss: &str,
    variant: Option<&str>,
    b: usize,
    d: usize,
    seed: u64,
    views: Option<usize>,
) -> PyResult<Bound<'py, PyList>> {
    let spec = spec(py, loss, variant, Vec::new())?;
    if b == 0 || d == 0 {
        return Err(error(
            py,
            "InputError",
            format!("empty batch: B = {b}, d = {d}"),
        ));
    }
    // The inputs and the state: at most 8 B × d and 2 d × d matrices, and one d-vector.
    let need = (8 * (b as u128) * (d as u128) + 2 * (d as u128) * (d as u128)) * 8;
    if need > sslproof_losses::npy::DEFAULT_BUDGET {
        return Err(error(
            py,
            "TooLargeError",
            format!("inputs of B = {b}, d = {d} need about {need} bytes; draw smaller shapes"),
        ));
    }
    let xs = py.detach(|| golden::inputs_of(&spec, b, d, seed, views));
    let out = PyList::empty(py);
    for m in &xs {
        out.append(to_numpy(py, m))?;
    }
    Ok(out)
}

/// The loss's own f64 or f32 implementation at `inputs`, in `variant` or with a mistake planted:
/// `(value, [gradients])`, the gradients as arrays of the dtype computed in. Not a reference (no
/// MPFR): what a correct, or a deliberately wrong, implementation in that precision computes.
#[pyfunction]
#[pyo3(signature = (loss, inputs, variant, params, mistake, dtype))]
fn evaluate<'py>(
    py: Python<'py>,
    loss: &str,
    inputs: &Bound<'py, PyList>,
    variant: Option<&str>,
    params: Vec<(String, f64)>,
    mistake: Option<&str>,
    dtype: &str,
) -> PyResult<(f64, Bound<'py, PyList>)> {
    let spec = spec(py, loss, variant, params)?;
    let (xs, _) = matrices(py, &spec, inputs, "")?;
    let ng = spec.grad_count(xs.len());
    let out = PyList::empty(py);
    let value = match dtype {
        "float64" => {
            let o = py
                .detach(|| spec.evaluate(mistake, &xs))
                .map_err(|e| spec_error(py, e))?;
            for g in o.grads.iter().take(ng) {
                out.append(to_numpy(py, g))?;
            }
            o.value
        }
        "float32" => {
            let x32: Vec<DMatrix<f32>> = xs.iter().map(|m| m.map(|x| x as f32)).collect();
            let o = py
                .detach(|| spec.evaluate(mistake, &x32))
                .map_err(|e| spec_error(py, e))?;
            for g in o.grads.iter().take(ng) {
                let a = Array2::from_shape_fn(g.shape(), |(i, j)| g[(i, j)]);
                out.append(a.into_pyarray(py))?;
            }
            f64::from(o.value)
        }
        other => {
            return Err(error(
                py,
                "ConfigError",
                format!("dtype {other:?}: evaluate computes in \"float64\" or \"float32\""),
            ));
        }
    };
    Ok((value, out))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(losses_json, m)?)?;
    m.add_function(wrap_pyfunction!(reference, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(inputs, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
