//! Local estimates of ℓ and ρ at x.

use crate::error::CertifyError;
use autodiff_objectives::num_dual::Dual3_64;
use autodiff_objectives::{EvalError, Objective};
use nalgebra::DVector;
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;

/// max over `n` random unit directions v of |D³f(x)[v, v, v]|, each from one evaluation of f on
/// third-order dual numbers x + t·v (num-dual's `Dual3` carries d³/dt³ f(x + tv) at t = 0).
/// Returns the maximum and the number of evaluations.
pub(crate) fn third_derivative_max<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    n: usize,
    seed: u64,
) -> Result<f64, CertifyError> {
    let d = x.len();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut best = 0.0_f64;
    for _ in 0..n {
        let v = loop {
            let v = DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal));
            let norm = v.norm();
            if norm > 0.0 {
                break v / norm;
            }
        };
        let xs: Vec<Dual3_64> = x
            .iter()
            .zip(v.iter())
            .map(|(&xi, &vi)| Dual3_64::new(xi, vi, 0.0, 0.0))
            .collect();
        let y = f.eval(&xs);
        if !y.v3.is_finite() {
            return Err(EvalError::NonFiniteDirectional {
                order: 3,
                value: y.v3,
            }
            .into());
        }
        best = best.max(y.v3.abs());
    }
    Ok(best)
}
