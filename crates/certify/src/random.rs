//! The certifier's randomness: fresh seeds from the operating system, random unit start
//! vectors and Rademacher probes. (The Lanczos process itself is the `krylov` crate's.)

use nalgebra::DVector;
use rand::rngs::StdRng;
use rand::{RngExt, TryRng};
use rand_distr::StandardNormal;

/// A seed from the operating system's entropy source (getrandom, through rand's `SysRng`):
/// unpredictable from the objective's side. Never falls back to a fixed value. Used by the
/// certifier and the spectrum tools whenever the user did not fix a seed.
pub(crate) fn fresh_seed() -> Result<u64, String> {
    rand::rngs::SysRng
        .try_next_u64()
        .map_err(|e| format!("the operating system's entropy source failed: {e}"))
}

/// A Gaussian vector normalized to the unit sphere (uniform on it).
pub(crate) fn random_unit(d: usize, rng: &mut StdRng) -> DVector<f64> {
    loop {
        let v = DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal));
        let n = v.norm();
        if n > 0.0 {
            return v / n;
        }
    }
}

/// A Rademacher vector (entries ±1 with probability ½ each).
pub(crate) fn rademacher(d: usize, rng: &mut StdRng) -> DVector<f64> {
    let mut v = DVector::zeros(d);
    let mut bits = 0u64;
    for (i, vi) in v.iter_mut().enumerate() {
        if i % 64 == 0 {
            bits = rng.random::<u64>();
        }
        *vi = if bits & 1 == 1 { 1.0 } else { -1.0 };
        bits >>= 1;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rademacher_entries_are_signs_and_balanced() {
        let mut rng = StdRng::seed_from_u64(9);
        let z = rademacher(1000, &mut rng);
        assert!(z.iter().all(|&v| v.abs().to_bits() == 1f64.to_bits()));
        assert!(z.sum().abs() < 150.0, "sum {}", z.sum());
    }
}
