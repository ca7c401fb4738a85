//! Hutchinson and Hutch++ trace estimates on Hessians of known trace.

use autodiff_objectives::{DualNum, Objective};
use certify::{SpectrumError, TraceEstimator, TraceMethod};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

/// ½xᵀAx with a dense symmetric A: the Hessian is A everywhere.
struct DenseQuadratic(DMatrix<f64>);

impl Objective for DenseQuadratic {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let n = self.0.nrows();
        let mut f = D::from(0.0);
        for (i, &xi) in x.iter().enumerate().take(n) {
            let mut row = D::from(0.0);
            for (j, &xj) in x.iter().enumerate().take(n) {
                row += xj * self.0[(i, j)];
            }
            f += xi * row;
        }
        f * 0.5
    }
    fn dim(&self) -> Option<usize> {
        Some(self.0.nrows())
    }
}

/// V diag(λ) Vᵀ with V a Haar-random orthogonal matrix: dense, with the given spectrum.
fn dense_with_spectrum(lam: &[f64], seed: u64) -> DenseQuadratic {
    let d = lam.len();
    let mut rng = StdRng::seed_from_u64(seed);
    let g = DMatrix::from_fn(d, d, |_, _| rng.sample::<f64, _>(StandardNormal));
    let v = g.qr().q();
    let a = &v * DMatrix::from_diagonal(&DVector::from_column_slice(lam)) * v.transpose();
    DenseQuadratic((&a + a.transpose()) * 0.5)
}

#[test]
fn hutchinson_interval_covers_the_trace_at_its_nominal_rate() {
    let d = 60;
    let lam: Vec<f64> = (0..d)
        .map(|i| (i as f64 * 0.37).sin() * 2.0 + 0.5)
        .collect();
    let f = dense_with_spectrum(&lam, 1);
    let trace = f.0.trace();
    let x = DVector::zeros(d);
    let runs = 60;
    let mut covered = 0;
    for seed in 0..runs {
        let t = TraceEstimator::new(40)
            .seed(seed)
            .estimate(&f, &x)
            .expect("runs");
        assert_eq!(t.hvps, 40);
        assert_eq!(t.samples.len(), 40);
        assert!(t.lower < t.estimate && t.estimate < t.upper);
        assert!((t.upper - t.estimate - 1.959_964 * t.std_error).abs() < 1e-6 * t.std_error);
        if t.lower <= trace && trace <= t.upper {
            covered += 1;
        }
    }
    // Nominal 95%: 57 of 60 expected; a binomial standard deviation is 1.7.
    assert!(covered >= 51, "covered {covered} of {runs}");
    assert!(
        covered < runs || runs < 40,
        "an interval that always covers is too wide"
    );
}

/// Var(zᵀAz) = 2(‖A‖²_F − Σ A²ᵢᵢ) for Rademacher z: the sample variance must estimate it.
#[test]
fn sample_variance_matches_the_rademacher_formula() {
    let d = 40;
    let lam: Vec<f64> = (0..d).map(|i| 1.0 + i as f64 / 10.0).collect();
    let f = dense_with_spectrum(&lam, 2);
    let a = &f.0;
    let exact = 2.0 * (a.norm_squared() - a.diagonal().norm_squared());
    let t = TraceEstimator::new(400)
        .seed(3)
        .estimate(&f, &DVector::zeros(d))
        .expect("runs");
    let var = t.std_error.powi(2) * 400.0;
    assert!(
        (var / exact - 1.0).abs() < 0.3,
        "sample variance {var} vs exact {exact}"
    );
    assert!((t.estimate - a.trace()).abs() < 4.0 * t.std_error);
}

#[test]
fn a_diagonal_hessian_is_estimated_exactly_with_zero_variance() {
    let lam: Vec<f64> = (0..30).map(|i| i as f64 - 7.5).collect();
    let f = DenseQuadratic(DMatrix::from_diagonal(&DVector::from_vec(lam.clone())));
    let t = TraceEstimator::new(5)
        .seed(0)
        .estimate(&f, &DVector::zeros(30))
        .expect("runs");
    assert!((t.estimate - lam.iter().sum::<f64>()).abs() < 1e-12);
    assert!(t.std_error < 1e-12);
}

#[test]
fn hutch_plus_plus_is_exact_on_low_rank_and_better_on_a_decaying_spectrum() {
    let d = 80;
    // Rank 6.
    let mut lam = vec![0.0; d];
    lam[..6].copy_from_slice(&[9.0, -4.0, 3.0, 2.5, 1.0, 0.5]);
    let f = dense_with_spectrum(&lam, 4);
    let t = TraceEstimator::new(30)
        .method(TraceMethod::HutchPlusPlus)
        .seed(5)
        .estimate(&f, &DVector::zeros(d))
        .expect("runs");
    assert_eq!(t.sketch_size, 10);
    assert_eq!(t.sketch_rank, 6, "the sketch has the rank of H");
    assert_eq!(t.hvps, 30);
    assert!((t.estimate - 12.0).abs() < 1e-9, "{}", t.estimate);
    assert!((t.exact_part - 12.0).abs() < 1e-9);
    assert!(t.upper - t.lower < 1e-8);

    // λᵢ = 1/(i+1)²: at equal HVPs, Hutch++'s error is smaller on average.
    let lam: Vec<f64> = (0..d).map(|i| 1.0 / ((i + 1) as f64).powi(2)).collect();
    let f = dense_with_spectrum(&lam, 6);
    let trace = f.0.trace();
    let (mut e_h, mut e_pp) = (0.0, 0.0);
    for seed in 0..20 {
        let est = |m| {
            TraceEstimator::new(30)
                .method(m)
                .seed(seed)
                .estimate(&f, &DVector::zeros(d))
                .expect("runs")
        };
        e_h += (est(TraceMethod::Hutchinson).estimate - trace).abs();
        let pp = est(TraceMethod::HutchPlusPlus);
        assert!(pp.std_error > 0.0);
        e_pp += (pp.estimate - trace).abs();
    }
    assert!(
        e_pp < 0.5 * e_h,
        "Hutch++ mean error {} vs Hutchinson {}",
        e_pp / 20.0,
        e_h / 20.0
    );
}

#[test]
fn seeds_reproduce_and_bad_options_are_errors() {
    let f = dense_with_spectrum(&[1.0, 2.0, 3.0, 4.0], 0);
    let x = DVector::zeros(4);
    let a = TraceEstimator::new(10)
        .seed(3)
        .estimate(&f, &x)
        .expect("runs");
    assert_eq!(
        a,
        TraceEstimator::new(10)
            .seed(3)
            .estimate(&f, &x)
            .expect("runs")
    );
    let fresh = TraceEstimator::new(10).estimate(&f, &x).expect("runs");
    assert_eq!(
        fresh,
        TraceEstimator::new(10)
            .seed(fresh.seed)
            .estimate(&f, &x)
            .expect("runs")
    );
    assert_eq!(
        TraceEstimator::new(1).estimate(&f, &x),
        Err(SpectrumError::InvalidProbes { got: 1, min: 2 })
    );
    assert_eq!(
        TraceEstimator::new(3)
            .method(TraceMethod::HutchPlusPlus)
            .estimate(&f, &x),
        Err(SpectrumError::InvalidProbes { got: 3, min: 4 })
    );
    for c in [0.0, 1.0, f64::NAN, 1.5] {
        assert!(matches!(
            TraceEstimator::new(10).confidence(c).estimate(&f, &x),
            Err(SpectrumError::InvalidConfidence(_))
        ));
    }
    assert_eq!(
        TraceEstimator::new(10).estimate(&f, &DVector::zeros(3)),
        Err(SpectrumError::DimensionMismatch {
            expected: 4,
            got: 3
        })
    );
}
