//! A user's numbers from files, as `sslproof check` reads them: the inputs (and gradients) from
//! `.npy` files in the loss's input order, or everything from one `.npz` archive (arrays named
//! like the inputs, `grad_<input>` for the gradients, a one-element `value`).

use std::path::{Path, PathBuf};

use nalgebra::DMatrix;

use crate::npy::{self, Dtype, NpyError};
use crate::registry::LossSpec;

/// What the files held.
#[derive(Debug)]
pub struct UserFiles {
    pub inputs: Vec<DMatrix<f64>>,
    /// One per input with a gradient, if the files had gradients.
    pub grads: Option<Vec<DMatrix<f64>>>,
    /// The `.npz`'s `value`, if any.
    pub value: Option<f64>,
    /// Whether any array was float32 (the default precision of the check then is f32).
    pub any_f32: bool,
}

/// Why the files could not be read as the loss's numbers.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error("{path}: no array {name:?} (it has {found:?}; {loss} takes {wanted})")]
    Missing {
        path: PathBuf,
        name: String,
        found: Vec<String>,
        loss: String,
        wanted: String,
    },
    #[error("{path}: gradients for some inputs but not all (expected {expected})")]
    PartialGradients { path: PathBuf, expected: String },
    #[error(
        "{path}: the entr{} {} {} not {loss}'s: nothing may be left unchecked, so the archive is \
         refused. The names it takes: {expected} (a gradient may also be `<input>_grad`, the \
         value `loss`)",
        if unknown.len() == 1 { "y" } else { "ies" },
        listed(unknown),
        if unknown.len() == 1 { "is" } else { "are" }
    )]
    Unrecognised {
        path: PathBuf,
        unknown: Vec<String>,
        loss: String,
        expected: String,
    },
}

/// The inputs and gradients from `.npy` files.
/// Reading stops before allocating when the files would take more than `budget` bytes.
pub fn from_npy(
    inputs: &[PathBuf],
    grads: &[PathBuf],
    budget: u128,
) -> Result<UserFiles, InputError> {
    let mut any_f32 = false;
    let mut left = budget;
    let mut read = |paths: &[PathBuf]| -> Result<Vec<DMatrix<f64>>, NpyError> {
        paths
            .iter()
            .map(|p| {
                let (m, dt) = npy::read_matrix_within(p, &mut left)?;
                any_f32 |= dt == Dtype::F32;
                Ok(m)
            })
            .collect()
    };
    let inputs = read(inputs)?;
    let grads = if grads.is_empty() {
        None
    } else {
        Some(read(grads)?)
    };
    Ok(UserFiles {
        inputs,
        grads,
        value: None,
        any_f32,
    })
}

/// Everything from one `.npz` archive: the inputs named like the loss's inputs (`z1`, `z2`, …;
/// for a variable number of views, as many `z<k>` as the archive has), `grad_<input>` for every
/// input with a gradient or for none, and a one-element `value`.
/// The spellings of other tools are accepted: `<input>_grad` for `grad_<input>` and `loss` for
/// `value`. An entry the loss does not take is refused, with the names it takes: an entry that
/// was meant as a gradient and silently ignored would leave a gradient unchecked. Only the
/// entries the loss takes are decoded, within `budget` bytes.
pub fn from_npz(spec: &LossSpec, path: &Path, budget: u128) -> Result<UserFiles, InputError> {
    // The names are checked first, from the archive's directory, before anything is decoded.
    let listed = npy::read_npz_within(path, &mut budget.clone(), &|_| None)?.names;
    let views = listed.iter().filter(|n| is_view(n)).count().max(2);
    let takes = spec.input_names(views);
    let ng = spec.grad_count(takes.len());
    let accepted: Vec<String> = takes
        .iter()
        .cloned()
        .chain(takes[..ng].iter().map(|n| format!("grad_{n}")))
        .chain(["value".to_string()])
        .collect();
    let canonical = |n: &str| -> Option<String> {
        let c = match n.strip_suffix("_grad") {
            _ if n == "loss" => "value".to_string(),
            Some(i) if !i.is_empty() => format!("grad_{i}"),
            _ => n.to_string(),
        };
        accepted.contains(&c).then_some(c)
    };
    let unknown: Vec<String> = listed
        .iter()
        .filter(|n| canonical(n).is_none())
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(InputError::Unrecognised {
            path: path.to_path_buf(),
            unknown,
            loss: spec.loss.name().to_string(),
            expected: accepted.join(" "),
        });
    }
    let mut npz = npy::read_npz_within(path, &mut budget.clone(), &canonical)?;
    let names = npz.names.clone();
    let views = npz.arrays.keys().filter(|k| is_view(k)).count();
    let wanted = spec.input_names(views);
    let mut any_f32 = false;
    let mut take = |name: &str| -> Option<DMatrix<f64>> {
        // Moved out, not copied: a copy doubled the memory of every input (1 GiB entries ran
        // out of a 6 GiB address space).
        npz.arrays.remove(name).map(|(m, dt)| {
            any_f32 |= dt == Dtype::F32;
            m
        })
    };
    let mut inputs = Vec::new();
    for n in &wanted {
        inputs.push(take(n).ok_or_else(|| InputError::Missing {
            path: path.to_path_buf(),
            name: n.clone(),
            found: names.clone(),
            loss: spec.loss.name().to_string(),
            wanted: wanted.join(" "),
        })?);
    }
    let ng = spec.grad_count(inputs.len());
    let gs: Vec<Option<DMatrix<f64>>> = wanted[..ng]
        .iter()
        .map(|n| take(&format!("grad_{n}")))
        .collect();
    let grads = if gs.iter().all(Option::is_none) {
        None
    } else if gs.iter().all(Option::is_some) {
        Some(gs.into_iter().flatten().collect())
    } else {
        return Err(InputError::PartialGradients {
            path: path.to_path_buf(),
            expected: wanted[..ng]
                .iter()
                .map(|n| format!("grad_{n}"))
                .collect::<Vec<_>>()
                .join(" "),
        });
    };
    Ok(UserFiles {
        inputs,
        grads,
        value: npz.value,
        any_f32,
    })
}

/// Up to eight names, quoted, then how many more (a hostile archive may hold 65 535 entries).
fn listed(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(8)
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 8 {
        s.push_str(&format!(" and {} more", names.len() - 8));
    }
    s
}

/// A view's name: `z` and a decimal index (`z1`, `z12`; not `z+1` or `z01`).
fn is_view(name: &str) -> bool {
    name.strip_prefix('z').is_some_and(|n| {
        !n.is_empty() && !n.starts_with('0') && n.bytes().all(|c| c.is_ascii_digit())
    })
}
