//! Uniform samples from the ball B₀(r) and the sphere of radius r in ℝᵈ.

use nalgebra::DVector;
use rand::Rng;
use rand::distr::{Distribution, StandardUniform};
use rand_distr::StandardNormal;

/// A direction uniform on the unit sphere: Y/‖Y‖ with Y ~ N(0, I_d). `None` only for `dim = 0`.
fn unit_direction<R: Rng + ?Sized>(rng: &mut R, dim: usize) -> Option<DVector<f64>> {
    if dim == 0 {
        return None;
    }
    loop {
        let y: DVector<f64> = DVector::from_fn(dim, |_, _| StandardNormal.sample(rng));
        let norm = y.norm();
        // ‖Y‖ = 0 has probability zero (and would need every coordinate to be exactly 0);
        // redraw rather than divide by it.
        if norm > 0.0 && norm.is_finite() {
            return Some(y / norm);
        }
    }
}

/// ξ uniform in the ball B₀(r) ⊂ ℝᵈ: r·U^{1/d}·Y/‖Y‖ with U ~ Uniform[0, 1) and
/// Y ~ N(0, I_d), the perturbation of Algorithm 2. The direction is isotropic and
/// P(‖ξ‖ ≤ s·r) = sᵈ.
///
/// Returns `None` for `dim = 0`.
///
/// ```
/// use pgd_core::sample_ball;
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
/// let xi = sample_ball(&mut rng, 5, 0.5).expect("dim > 0");
/// assert_eq!(xi.len(), 5);
/// assert!(xi.norm() <= 0.5);
/// assert!(sample_ball(&mut rng, 0, 0.5).is_none());
/// ```
pub fn sample_ball<R: Rng + ?Sized>(rng: &mut R, dim: usize, radius: f64) -> Option<DVector<f64>> {
    let direction = unit_direction(rng, dim)?;
    let u: f64 = StandardUniform.sample(rng);
    Some(direction * (radius * u.powf(1.0 / dim as f64)))
}

/// A point uniform on the sphere of radius r in ℝᵈ: r·Y/‖Y‖ with Y ~ N(0, I_d).
///
/// Returns `None` for `dim = 0`.
///
/// ```
/// use pgd_core::sample_sphere;
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
/// let n = sample_sphere(&mut rng, 3, 2.0).expect("dim > 0");
/// assert!((n.norm() - 2.0).abs() < 1e-12);
/// ```
pub fn sample_sphere<R: Rng + ?Sized>(
    rng: &mut R,
    dim: usize,
    radius: f64,
) -> Option<DVector<f64>> {
    unit_direction(rng, dim).map(|d| d * radius)
}
