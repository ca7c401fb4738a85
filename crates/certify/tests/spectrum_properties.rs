//! Properties over random spectra: with budget d, every scheme finds the extreme eigenvalues
//! (restarts included, for repeated eigenvalues), and every reported residual is honest.

use certify::{EigenSolver, Reorthogonalization, Slq};
use nalgebra::DVector;
use objective_zoo::RotatedQuadratic;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, rng_seed: RngSeed::Fixed(19_841_984), ..ProptestConfig::default() })]

    #[test]
    fn extreme_eigenvalues_are_found_and_residuals_are_true(
        // Integers / 4: repeated eigenvalues are common.
        spectrum in prop::collection::vec(-8i32..8, 1..30),
        seed in 0u64..1000,
        k in 1usize..4,
    ) {
        let lam: Vec<f64> = spectrum.iter().map(|&v| v as f64 / 4.0).collect();
        let d = lam.len();
        let k = k.min(d);
        let f = RotatedQuadratic::new(lam.clone(), seed).expect("finite");
        let x = DVector::zeros(d);
        let mut sorted = lam.clone();
        sorted.sort_by(f64::total_cmp);
        for mode in [Reorthogonalization::Partial, Reorthogonalization::Full] {
            let low = EigenSolver::smallest(k).budget(d).seed(seed).reorthogonalization(mode).compute(&f, &x).expect("valid");
            prop_assert!(low.converged, "{:?}: {:?}", mode, low);
            prop_assert!((low.pairs[0].value - sorted[0]).abs() < 1e-9, "{:?}: {:?} vs {:?}", mode, low.pairs, sorted);
            for (i, p) in low.pairs.iter().enumerate() {
                // Each reported value is an eigenvalue, and by interlacing the i-th is ≥ λ_i
                // (repeated eigenvalues may be reported once: then it is a later one).
                prop_assert!(sorted.iter().any(|l| (p.value - l).abs() < 1e-9), "{:?} pair {}: {} vs {:?}", mode, i, p.value, sorted);
                prop_assert!(p.value >= sorted[i] - 1e-9);
                if i > 0 {
                    prop_assert!(p.value >= low.pairs[i - 1].value - 1e-12);
                }
                // The reported residual is the true one.
                let hy = autodiff_objectives::hvp(&f, &x, &p.vector).expect("hvp");
                let r = (&hy - &p.vector * p.value).norm();
                prop_assert!((r - p.residual).abs() <= 1e-12 + 1e-9 * r);
            }
            let high = EigenSolver::largest(1).budget(d).seed(seed).reorthogonalization(mode).compute(&f, &x).expect("valid");
            prop_assert!((high.pairs[0].value - sorted[d - 1]).abs() < 1e-9);
        }
        let slq = Slq::new(2, d).seed(seed).compute(&f, &x).expect("valid");
        for w in &slq.weights {
            prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        let (lo, hi) = slq.range();
        prop_assert!(lo >= sorted[0] - 1e-9 && hi <= sorted[d - 1] + 1e-9);
    }
}
