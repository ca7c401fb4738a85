//! Every method agrees with the others where they overlap.

use autodiff_objectives::Objective;
use certify::{Certificate, Certifier, CurvatureCheck, Method, Verdict};
use nalgebra::{DVector, dvector};
use objective_zoo::{
    ClosedForm, MonkeySaddle, QuarticSaddle, Rosenbrock, RotatedQuadratic, SaddleXY,
};

fn all_methods<O: Objective>(f: &O, x: &DVector<f64>) -> [Certificate; 3] {
    [Method::Dense, Method::Factorization, Method::Lanczos].map(|m| {
        Certifier::new(1e-3, 1.0)
            .method(m)
            .seed(5)
            .certify(f, x)
            .expect("valid")
    })
}

fn check_agreement<O: Objective>(f: &O, x: &DVector<f64>, lambda_min: f64, label: &str) {
    let [dense, fact, lz] = all_methods(f, x);
    assert!(
        (dense.lambda_min - lambda_min).abs() < 1e-10,
        "{label}: dense {}",
        dense.lambda_min
    );
    for c in [&fact, &lz] {
        assert_eq!(
            c.is_second_order_stationary(),
            dense.is_second_order_stationary(),
            "{label}: {:?} {:?} vs dense {:?}",
            c.method,
            c.verdict,
            dense.verdict
        );
        assert_eq!(
            c.verdict == Verdict::NegativeCurvature,
            dense.verdict == Verdict::NegativeCurvature,
            "{label}"
        );
        assert!(
            (c.grad_norm - dense.grad_norm).abs() <= 1e-12 * dense.grad_norm.max(1.0),
            "{label}"
        );
        // The Rayleigh-quotient estimates are upper bounds on λ_min.
        assert!(
            c.lambda_min >= lambda_min - 1e-10,
            "{label}: {:?}",
            c.method
        );
        if let Some(e) = &c.escape_direction {
            assert!(e.curvature < c.threshold);
            assert!((e.direction.norm() - 1.0).abs() < 1e-12);
        }
    }
    // Lanczos stops as soon as it can decide. After refuting (the Ritz pair is refined) or at
    // k = d its λ_min matches the dense one; after a probabilistic pass the true λ_min lies
    // between its bounds.
    let exhausted = matches!(lz.details, certify::MethodDetails::Lanczos(l) if l.exhausted);
    if lz.verdict == Verdict::NegativeCurvature || exhausted {
        assert!(
            (lz.lambda_min - dense.lambda_min).abs() < 1e-8,
            "{label}: {} vs {}",
            lz.lambda_min,
            dense.lambda_min
        );
    } else {
        let lower = lz.lambda_bounds.lower.expect("a lower bound");
        assert!(
            lower <= lambda_min && lambda_min <= lz.lambda_bounds.upper + 1e-12,
            "{label}"
        );
    }
}

#[test]
fn zoo_critical_points() {
    let rosen = Rosenbrock::new(2).expect("d = 2");
    for p in QuarticSaddle.critical_points() {
        check_agreement(&QuarticSaddle, &p.x, p.lambda_min, &p.label);
    }
    for p in SaddleXY.critical_points() {
        check_agreement(&SaddleXY, &p.x, p.lambda_min, &p.label);
    }
    for p in MonkeySaddle.critical_points() {
        check_agreement(&MonkeySaddle, &p.x, p.lambda_min, &p.label);
    }
    for p in rosen.critical_points() {
        check_agreement(&rosen, &p.x, p.lambda_min, &p.label);
    }
}

#[test]
fn rotated_quadratics_mixed_spectra() {
    for seed in 0..5 {
        let d = 40;
        let spectrum: Vec<f64> = (0..d)
            .map(|i| -0.8 + 2.0 * ((i * 17 + seed) % d) as f64 / d as f64)
            .collect();
        let f = RotatedQuadratic::new(spectrum, seed as u64).expect("finite");
        let shifted: Vec<f64> = f.eigenvalues().iter().map(|l| l + 0.85).collect();
        let g = RotatedQuadratic::new(shifted, seed as u64).expect("finite");
        for (q, kind) in [(&f, "mixed"), (&g, "positive")] {
            let label = format!("{kind} {seed}");
            check_agreement(q, &DVector::zeros(d), q.lambda_min(), &label);
        }
    }
}

#[test]
fn lanczos_small_d_runs_to_the_full_space_and_proves() {
    // d = 2: the Kuczyński–Woźniakowski bound is useless, but at k = d the Krylov space is the
    // whole space and the Ritz values are the eigenvalues.
    let c = Certifier::new(1e-3, 1.0)
        .method(Method::Lanczos)
        .certify(&QuarticSaddle, &dvector![1.0, 0.0])
        .expect("valid");
    assert_eq!(
        c.curvature,
        CurvatureCheck::Holds {
            assurance: certify::Assurance::Proof
        }
    );
    match c.details {
        certify::MethodDetails::Lanczos(l) => assert!(l.exhausted && l.iterations == 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn local_estimates_are_lower_bounds() {
    // x₁⁴ − 2x₁² + x₂² at (0.5, 0): ∇²f = diag(−1, 2), D³f[v,v,v] = 24·x₁·v₁³ = 12v₁³.
    let c = Certifier::new(1e-3, 1.0)
        .estimate_constants(50)
        .seed(3)
        .certify(&QuarticSaddle, &dvector![0.5, 0.0])
        .expect("valid");
    let e = c.estimates.expect("requested");
    assert!((e.ell - 2.0).abs() < 1e-12);
    assert!(e.rho > 1.0 && e.rho <= 12.0 + 1e-12, "{}", e.rho);
    assert_eq!(c.evaluations.third_order, 50);
}

/// `Certifier::backend` forces the differentiation engine: forward and reverse mode give the
/// same verdict and the same λ_min (to rounding), and the report names the engine that ran.
#[test]
fn the_backend_override_changes_the_engine_not_the_answer() {
    use autodiff_objectives::Backend;
    let f = RotatedQuadratic::new(vec![-0.5, 0.25, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 3)
        .expect("valid spectrum");
    let x = DVector::zeros(10);
    for method in [Method::Dense, Method::Lanczos, Method::Auto] {
        let fwd = Certifier::new(1e-3, 1.0)
            .method(method)
            .backend(Backend::Forward)
            .certify(&f, &x)
            .expect("certify");
        let rev = Certifier::new(1e-3, 1.0)
            .method(method)
            .backend(Backend::Reverse)
            .certify(&f, &x)
            .expect("certify");
        assert_eq!(fwd.verdict, rev.verdict, "{method:?}");
        assert!(
            (fwd.lambda_min - rev.lambda_min).abs() < 1e-12,
            "{method:?}: {} vs {}",
            fwd.lambda_min,
            rev.lambda_min
        );
        assert!((rev.lambda_min + 0.5).abs() < 1e-9, "{}", rev.lambda_min);
    }
    let reason = |b: Backend, dense_up_to: usize| {
        Certifier::new(1e-3, 1.0)
            .backend(b)
            .dense_up_to(dense_up_to)
            .certify(&f, &x)
            .expect("certify")
            .method_reason
    };
    assert!(reason(Backend::Forward, 200).contains("(3 forward passes)"));
    assert!(reason(Backend::Reverse, 200).contains("(10 reverse-mode Hessian-vector products)"));
    assert!(reason(Backend::Forward, 5).contains("(2 forward passes) per step"));
    assert!(reason(Backend::Auto, 5).contains("(one reverse-mode recording and sweep) per step"));
}
