//! Closed form vs automatic vs central finite differences on every zoo function of the first
//! batch, at random points (proptest), plus HVP = Hessian·v and symmetry.

use autodiff_objectives::{Backend, gradient_hvp_with, gradient_with, hessian_with, value};
use nalgebra::DVector;
use objective_zoo::{
    ClosedForm, MonkeySaddle, QuarticSaddle, Rosenbrock, RotatedQuadratic, SaddleXY, Trigonometric,
};
use proptest::prelude::*;

mod common;
use common::{close, close_m};

/// Every check of the three-way comparison at one point and direction.
fn three_way<F: ClosedForm>(f: &F, x: &DVector<f64>, v: &DVector<f64>) {
    let name = f.name();
    let fx = value(f, x).expect("finite value at a finite point");
    let closed_f = f.closed_value(x);
    assert!(
        (fx - closed_f).abs() <= 1e-12 * (1.0 + closed_f.abs()),
        "{name}: value {fx} vs {closed_f}"
    );

    let closed_g = f.closed_gradient(x);
    let (gf, g) = gradient_with(f, x, Backend::Forward).expect("gradient");
    assert!(
        (gf - closed_f).abs() <= 1e-12 * (1.0 + closed_f.abs()),
        "{name}: value from gradient pass"
    );
    assert!(
        close(&g, &closed_g, 1e-12),
        "{name}: autodiff gradient {g} vs closed form {closed_g}"
    );

    common::assert_closed_form_is_its_finite_differences(f, x);
    let closed_h = f.closed_hessian(x);
    let (_, gh, h) = hessian_with(f, x, Backend::Forward).expect("hessian");
    assert!(
        close(&gh, &closed_g, 1e-12),
        "{name}: gradient from the Hessian pass"
    );
    assert!(
        close_m(&h, &closed_h, 1e-11),
        "{name}: autodiff Hessian {h} vs closed form {closed_h}"
    );
    assert_eq!(
        h,
        h.transpose(),
        "{name}: the Hessian must be exactly symmetric"
    );

    let (_, gv, hv) = gradient_hvp_with(f, x, v, Backend::Forward).expect("hvp");
    assert!(
        close(&gv, &closed_g, 1e-12),
        "{name}: gradient from the HVP pass"
    );
    assert!(
        close(&hv, &(&h * v), 1e-11),
        "{name}: HVP {hv} vs Hessian·v"
    );
    assert!(
        close(&hv, &f.closed_hvp(x, v), 1e-11),
        "{name}: HVP vs closed-form HVP"
    );
}

fn point(d: usize, scale: f64) -> impl Strategy<Value = DVector<f64>> {
    prop::collection::vec(-scale..scale, d).prop_map(DVector::from_vec)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn quartic_saddle(x in point(2, 2.0), v in point(2, 1.0)) {
        three_way(&QuarticSaddle, &x, &v);
    }

    #[test]
    fn saddle_xy(x in point(2, 3.0), v in point(2, 1.0)) {
        three_way(&SaddleXY, &x, &v);
    }

    #[test]
    fn monkey_saddle(x in point(2, 2.0), v in point(2, 1.0)) {
        three_way(&MonkeySaddle, &x, &v);
    }

    #[test]
    fn rosenbrock((x, v) in (2usize..20).prop_flat_map(|d| (point(d, 2.0), point(d, 1.0)))) {
        three_way(&Rosenbrock::new(x.len()).expect("d >= 2"), &x, &v);
    }

    #[test]
    fn trigonometric((x, v) in (1usize..20).prop_flat_map(|d| (point(d, 1.5), point(d, 1.0)))) {
        three_way(&Trigonometric::new(x.len()).expect("d >= 1"), &x, &v);
    }

    #[test]
    fn rotated_quadratic(
        (spectrum, x, v) in (1usize..20).prop_flat_map(|d| (prop::collection::vec(-5.0..5.0f64, d), point(d, 2.0), point(d, 1.0))),
        seed in any::<u64>(),
    ) {
        let f = RotatedQuadratic::new(spectrum, seed).expect("finite, non-empty spectrum");
        three_way(&f, &x, &v);
    }
}

/// Known critical points: ∇f = 0 (closed form and automatic) and the stated λ_min equals the
/// smallest eigenvalue of both Hessians.
#[test]
fn critical_points_have_the_stated_curvature() {
    type Check = Box<dyn Fn() -> Vec<(String, f64, f64, f64)>>;
    let fs: Vec<Check> = vec![
        Box::new(|| check_points(&QuarticSaddle)),
        Box::new(|| check_points(&SaddleXY)),
        Box::new(|| check_points(&MonkeySaddle)),
        Box::new(|| check_points(&Rosenbrock::new(2).expect("d = 2"))),
        Box::new(|| check_points(&Rosenbrock::new(9).expect("d = 9"))),
        Box::new(|| check_points(&Trigonometric::new(7).expect("d = 7"))),
        Box::new(|| {
            check_points(
                &RotatedQuadratic::new(vec![3.0, -0.5, 1.0, 2.0, 0.25], 11).expect("spectrum"),
            )
        }),
    ];
    let mut n = 0;
    for f in fs {
        for (label, grad_norm, stated, measured) in f() {
            assert!(grad_norm <= 1e-12, "{label}: ‖∇f‖ = {grad_norm}");
            assert!(
                (stated - measured).abs() <= 1e-10 * (1.0 + stated.abs()),
                "{label}: λ_min stated {stated}, measured {measured}"
            );
            n += 1;
        }
    }
    assert_eq!(n, 9);
}

fn check_points<F: ClosedForm>(f: &F) -> Vec<(String, f64, f64, f64)> {
    f.critical_points()
        .into_iter()
        .map(|p| {
            let (fx, g) = gradient_with(f, &p.x, Backend::Forward).expect("gradient");
            assert!(
                (fx - p.value).abs() <= 1e-12,
                "{}: value {fx} vs stated {}",
                p.label,
                p.value
            );
            let closed_g = f.closed_gradient(&p.x);
            assert!(
                closed_g.amax() <= 1e-12,
                "{}: closed-form ∇f = {closed_g}",
                p.label
            );
            let h = hessian_with(f, &p.x, Backend::Forward).expect("hessian").2;
            let measured = h.symmetric_eigenvalues().min();
            let closed = f.closed_hessian(&p.x).symmetric_eigenvalues().min();
            assert!((measured - closed).abs() <= 1e-10 * (1.0 + closed.abs()));
            (
                format!("{}: {}", f.name(), p.label),
                g.norm(),
                p.lambda_min,
                measured,
            )
        })
        .collect()
}

/// The reflection really is orthogonal: the rotated quadratic's spectrum is the one asked for.
#[test]
fn rotated_quadratic_spectrum_is_exact() {
    let spectrum = vec![4.0, -1.0, 0.5, 2.0, -3.0, 1.0];
    let f = RotatedQuadratic::new(spectrum.clone(), 3).expect("spectrum");
    let mut eig: Vec<f64> = f
        .closed_hessian(&DVector::zeros(6))
        .symmetric_eigenvalues()
        .iter()
        .copied()
        .collect();
    eig.sort_by(f64::total_cmp);
    let mut want = spectrum;
    want.sort_by(f64::total_cmp);
    for (a, b) in eig.iter().zip(&want) {
        assert!((a - b).abs() < 1e-12, "{eig:?} vs {want:?}");
    }
    for i in 0..6 {
        let q = f.eigenvector(i);
        assert!((q.norm() - 1.0).abs() < 1e-14);
        let aq = f.closed_hvp(&DVector::zeros(6), &q);
        assert!((aq - q.scale(f.eigenvalues()[i])).amax() < 1e-12);
        // Dense: no eigenvector is close to a coordinate axis.
        assert!(q.amax() < 0.99);
    }
}

#[test]
fn constructors_reject_bad_parameters() {
    use objective_zoo::ZooError;
    assert!(matches!(
        Rosenbrock::new(1),
        Err(ZooError::DimensionTooSmall { min: 2, got: 1, .. })
    ));
    assert!(matches!(
        Trigonometric::new(0),
        Err(ZooError::DimensionTooSmall { min: 1, got: 0, .. })
    ));
    assert!(matches!(
        RotatedQuadratic::new(vec![], 0),
        Err(ZooError::DimensionTooSmall { .. })
    ));
    assert!(matches!(
        RotatedQuadratic::new(vec![1.0, f64::NAN], 0),
        Err(ZooError::NonFinite { index: 1, .. })
    ));
}
