//! The perturbation ξ ~ Uniform(B₀(r)): radial law P(‖ξ‖ ≤ s·r) = sᵈ (Kolmogorov–Smirnov on
//! (‖ξ‖/r)ᵈ, which must be Uniform[0, 1]) and isotropic directions (mean ≈ 0, E[uuᵀ] ≈ I/d),
//! with fixed seeds.

use nalgebra::{DMatrix, DVector};
use pgd_core::{sample_ball, sample_sphere};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

const N: usize = 20_000;

/// The Kolmogorov–Smirnov statistic of samples against Uniform[0, 1].
fn ks_uniform(mut u: Vec<f64>) -> f64 {
    u.sort_by(f64::total_cmp);
    let n = u.len() as f64;
    u.iter()
        .enumerate()
        .map(|(i, &ui)| f64::max((i as f64 + 1.0) / n - ui, ui - i as f64 / n))
        .fold(0.0, f64::max)
}

/// The 1% critical value of the KS statistic, 1.63/√n.
fn ks_critical() -> f64 {
    1.63 / (N as f64).sqrt()
}

fn samples(seed: u64, d: usize, r: f64) -> Vec<DVector<f64>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..N)
        .map(|_| sample_ball(&mut rng, d, r).expect("d ≥ 1"))
        .collect()
}

#[test]
fn radial_law_is_s_to_the_d() {
    for (seed, d, r) in [(1, 1, 1.0), (2, 2, 0.5), (3, 5, 2.0), (4, 20, 1e-3)] {
        let xs = samples(seed, d, r);
        assert!(
            xs.iter()
                .all(|x| x.len() == d && x.norm() <= r * (1.0 + 1e-12))
        );
        let u: Vec<f64> = xs.iter().map(|x| (x.norm() / r).powi(d as i32)).collect();
        let ks = ks_uniform(u);
        assert!(ks < ks_critical(), "d = {d}: KS = {ks} ≥ {}", ks_critical());
        // The test has power: the wrong law ‖ξ‖/r ~ U (no 1/d root) is rejected for d ≥ 2.
        if d >= 2 {
            let wrong: Vec<f64> = xs.iter().map(|x| x.norm() / r).collect();
            assert!(ks_uniform(wrong) > 10.0 * ks_critical(), "d = {d}");
        }
        // Quantiles: the median of ‖ξ‖/r is 0.5^{1/d}.
        let mut norms: Vec<f64> = xs.iter().map(|x| x.norm() / r).collect();
        norms.sort_by(f64::total_cmp);
        let median = norms[N / 2];
        assert!(
            (median - 0.5f64.powf(1.0 / d as f64)).abs() < 0.02,
            "d = {d}: median {median}"
        );
    }
}

#[test]
fn directions_are_isotropic() {
    for (seed, d) in [(11, 2), (12, 5), (13, 12)] {
        let xs = samples(seed, d, 3.0);
        let mut mean = DVector::zeros(d);
        let mut second = DMatrix::zeros(d, d);
        for x in &xs {
            let u = x / x.norm();
            mean += &u;
            second += &u * u.transpose();
        }
        mean /= N as f64;
        second /= N as f64;
        // Each coordinate of u has variance 1/d: the mean's standard error is 1/√(Nd).
        let se = 1.0 / ((N * d) as f64).sqrt();
        for (j, m) in mean.iter().enumerate() {
            assert!(m.abs() < 5.0 * se, "d = {d}: mean[{j}] = {m}");
        }
        for j in 0..d {
            for k in 0..d {
                let expect = if j == k { 1.0 / d as f64 } else { 0.0 };
                let got = second[(j, k)];
                assert!(
                    (got - expect).abs() < 0.01,
                    "d = {d}: E[u uᵀ]({j},{k}) = {got}"
                );
            }
        }
        // The test has power: directions biased toward e₁ would fail it.
        let biased = xs.iter().map(|x| {
            let mut y = x.clone();
            y[0] = y[0].abs();
            y.normalize()[0]
        });
        assert!(biased.sum::<f64>() / N as f64 > 10.0 * se);
    }
}

#[test]
fn the_sphere_sampler_has_the_radius_and_no_zero_dimension() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    for d in 1..6 {
        let x = sample_sphere(&mut rng, d, 0.25).expect("d ≥ 1");
        assert!((x.norm() - 0.25).abs() < 1e-15);
    }
    assert!(sample_sphere(&mut rng, 0, 1.0).is_none());
    assert!(sample_ball(&mut rng, 0, 1.0).is_none());
}

#[test]
fn the_sampler_is_deterministic_by_seed() {
    let a = samples(99, 4, 1.0);
    let b = samples(99, 4, 1.0);
    let c = samples(100, 4, 1.0);
    assert!(a.iter().zip(&b).all(|(x, y)| x.as_slice() == y.as_slice()));
    assert!(a.iter().zip(&c).any(|(x, y)| x.as_slice() != y.as_slice()));
}
