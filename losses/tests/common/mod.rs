//! Helpers shared by the integration tests (`mod common;` in each).

use nalgebra::DMatrix;
use sslproof_losses::checker::UserNumbers;
use sslproof_losses::registry::{self, LossSpec};

/// Every loss and variant at its default parameters.
pub fn all_specs() -> Vec<LossSpec> {
    registry::LOSSES
        .iter()
        .flat_map(|&l| {
            l.variants()
                .iter()
                .map(move |v| LossSpec::new(l, Some(v.name), &[]).unwrap())
        })
        .collect()
}

/// The numbers a float32 implementation (ours, with `mistake` planted if any) gives at `xs`
/// (rounded to float32 first), as a user would pass them.
pub fn f32_user(spec: &LossSpec, mistake: Option<&str>, xs: &[DMatrix<f64>]) -> UserNumbers {
    let xs32: Vec<DMatrix<f32>> = xs.iter().map(|m| m.map(|x| x as f32)).collect();
    let o = spec.evaluate(mistake, &xs32).unwrap();
    let ng = spec.grad_count(xs.len());
    UserNumbers {
        value: f64::from(o.value),
        grads: Some(o.grads.iter().take(ng).map(|g| g.map(f64::from)).collect()),
    }
}
