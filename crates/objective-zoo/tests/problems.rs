//! The papers' problems: closed form vs automatic vs central finite differences at random
//! points, the stated critical points and their λ_min, the octopus's C² joins and agreement
//! with the paper's piecewise formulas, the finite-sum structure, and the error cases.

use autodiff_objectives::{EvalError, FiniteSum, MiniBatch, gradient, hessian, hvp, value};
use nalgebra::{DMatrix, DVector, dmatrix, dvector};
use objective_zoo::{
    ClosedForm, MatrixFactorization, Octopus, OrthogonalTensor, PhaseRetrieval, PointKind,
    TwoLayerNet, ZooError,
};
use proptest::prelude::*;

mod common;
use common::{close, close_m};

/// Closed form vs autodiff (value, gradient, Hessian, HVP) vs central differences of the
/// closed form (gradient, Hessian).
fn three_way<F: ClosedForm>(f: &F, x: &DVector<f64>, v: &DVector<f64>) {
    let name = f.name();
    let closed_f = f.closed_value(x);
    let fx = value(f, x).expect("finite value");
    assert!(
        (fx - closed_f).abs() <= 1e-11 * (1.0 + closed_f.abs()),
        "{name}: value {fx} vs closed form {closed_f} at {x}"
    );
    let closed_g = f.closed_gradient(x);
    let (_, g) = gradient(f, x).expect("gradient");
    assert!(
        close(&g, &closed_g, 1e-11),
        "{name}: autodiff gradient {g} vs closed form {closed_g} at {x}"
    );
    let closed_h = f.closed_hessian(x);
    let h = hessian(f, x).expect("hessian");
    assert!(
        close_m(&h, &closed_h, 1e-10),
        "{name}: autodiff Hessian {h} vs closed form {closed_h} at {x}"
    );
    assert!(
        close_m(&closed_h, &closed_h.transpose(), 1e-13),
        "{name}: closed-form Hessian not symmetric"
    );
    common::assert_closed_form_is_its_finite_differences(f, x);
    let hv = hvp(f, x, v).expect("hvp");
    assert!(
        close(&hv, &f.closed_hvp(x, v), 1e-10),
        "{name}: autodiff HVP {hv} vs closed-form HVP"
    );
    assert!(
        close(&f.closed_hvp(x, v), &(&closed_h * v), 1e-11),
        "{name}: closed-form HVP vs closed-form Hessian·v"
    );
}

/// Every listed critical point: stated value, ∇f ≈ 0 (closed form and autodiff), and the
/// stated λ_min equal to the smallest eigenvalue of the closed-form and the autodiff Hessian.
/// Returns how many points were checked.
fn check_critical_points<F: ClosedForm>(f: &F, tol: f64) -> usize {
    let points = f.critical_points();
    for p in &points {
        let label = format!("{}: {}", f.name(), p.label);
        let (fx, g) = gradient(f, &p.x).expect("gradient");
        assert!(
            (fx - p.value).abs() <= tol * (1.0 + p.value.abs()),
            "{label}: value {fx} vs stated {}",
            p.value
        );
        let scale = 1.0 + f.closed_hessian(&p.x).amax();
        assert!(g.amax() <= tol * scale, "{label}: autodiff ∇f = {g}");
        let cg = f.closed_gradient(&p.x);
        assert!(cg.amax() <= tol * scale, "{label}: closed-form ∇f = {cg}");
        let closed = f.closed_hessian(&p.x).symmetric_eigenvalues().min();
        let auto = hessian(f, &p.x)
            .expect("hessian")
            .symmetric_eigenvalues()
            .min();
        for (which, measured) in [("closed-form", closed), ("autodiff", auto)] {
            assert!(
                (measured - p.lambda_min).abs() <= tol * scale,
                "{label}: stated λ_min {} vs {which} {measured}",
                p.lambda_min
            );
        }
        match p.kind {
            PointKind::StrictSaddle | PointKind::LocalMaximum => {
                assert!(p.lambda_min < 0.0, "{label}: kind {:?}", p.kind);
            }
            PointKind::GlobalMinimum | PointKind::LocalMinimum => {
                assert!(p.lambda_min >= -tol * scale, "{label}: kind {:?}", p.kind);
            }
            _ => {}
        }
    }
    points.len()
}

fn point(d: usize, scale: f64) -> impl Strategy<Value = DVector<f64>> {
    prop::collection::vec(-scale..scale, d).prop_map(DVector::from_vec)
}

// ---------------------------------------------------------------------------------------------
// Octopus

const TAU: f64 = std::f64::consts::E;

fn octopus(d: usize) -> Octopus {
    Octopus::new(d, std::f64::consts::E, 1.0, TAU).expect("valid parameters")
}

/// The paper's splines, typed in from the formulas (independently of the implementation).
fn paper_g1(l: f64, g: f64, tau: f64, x: f64) -> f64 {
    -g * x * x
        + (-14.0 * l + 10.0 * g) * (x - tau).powi(3) / (3.0 * tau)
        + (5.0 * l - 3.0 * g) * (x - tau).powi(4) / (2.0 * tau * tau)
}

fn paper_g2(l: f64, g: f64, tau: f64, x: f64) -> f64 {
    let u = x - 2.0 * tau;
    -g - 10.0 * (l + g) * u.powi(3) / tau.powi(3)
        - 15.0 * (l + g) * u.powi(4) / tau.powi(4)
        - 6.0 * (l + g) * u.powi(5) / tau.powi(5)
}

/// The paper's piecewise definition on D (None off D).
fn paper_octopus(f: &Octopus, x: &DVector<f64>) -> Option<f64> {
    let (l, g, tau) = (f.l(), f.gamma(), f.tau());
    let nu = -paper_g1(l, g, tau, 2.0 * tau) + 4.0 * l * tau * tau;
    let a: Vec<f64> = x.iter().map(|v| v.abs()).collect();
    let d = a.len();
    let Some(i) = a.iter().position(|&v| v <= 2.0 * tau) else {
        return Some(a.iter().map(|v| l * (v - 4.0 * tau).powi(2)).sum::<f64>() - d as f64 * nu);
    };
    if a[i + 1..].iter().any(|&v| v > tau) {
        return None;
    }
    let head = a[..i]
        .iter()
        .map(|v| l * (v - 4.0 * tau).powi(2))
        .sum::<f64>()
        - i as f64 * nu;
    Some(if a[i] <= tau {
        head - g * a[i] * a[i] + l * a[i + 1..].iter().map(|v| v * v).sum::<f64>()
    } else {
        let next = if i + 1 < d {
            paper_g2(l, g, tau, a[i]) * a[i + 1] * a[i + 1]
        } else {
            0.0
        };
        let rest = if i + 2 <= d {
            a[(i + 2).min(d)..].iter().map(|v| v * v).sum::<f64>()
        } else {
            0.0
        };
        head + paper_g1(l, g, tau, a[i]) + next + l * rest
    })
}

/// A point of the paper's D: `k` coordinates beyond 2τ (random signs, up to 6τ), coordinate k
/// in [−2τ, 2τ], the rest in [−τ, τ].
fn domain_point(d: usize) -> impl Strategy<Value = DVector<f64>> {
    (
        0..=d,
        prop::collection::vec((0.0..1.0f64, any::<bool>()), d),
    )
        .prop_map(move |(k, raw)| {
            DVector::from_fn(d, |j, _| {
                let (u, neg) = raw[j];
                let mag = if j < k {
                    2.0 * TAU + 1e-9 + u * 4.0 * TAU
                } else if j == k {
                    u * 2.0 * TAU
                } else {
                    u * TAU
                };
                if neg { -mag } else { mag }
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn octopus_three_way_anywhere((x, v) in (1usize..7).prop_flat_map(|d| (point(d, 6.0 * TAU), point(d, 1.0)))) {
        three_way(&octopus(x.len()), &x, &v);
    }

    #[test]
    fn octopus_three_way_in_the_paper_domain((x, v) in (1usize..7).prop_flat_map(|d| (domain_point(d), point(d, 1.0)))) {
        let f = octopus(x.len());
        prop_assert!(f.in_paper_domain(&x));
        three_way(&f, &x, &v);
    }

    #[test]
    fn octopus_equals_the_papers_pieces_on_its_domain(x in (1usize..8).prop_flat_map(domain_point)) {
        let f = octopus(x.len());
        let paper = paper_octopus(&f, &x);
        prop_assert!(paper.is_some(), "domain_point produced a point off D: {}", x);
        let paper = paper.unwrap_or(f64::NAN);
        let ours = f.closed_value(&x);
        prop_assert!((ours - paper).abs() <= 1e-10 * (1.0 + paper.abs()), "{} vs paper {} at {}", ours, paper, x);
        prop_assert!((value(&f, &x).expect("value") - paper).abs() <= 1e-10 * (1.0 + paper.abs()));
    }
}

#[test]
fn octopus_splines_and_nu_match_the_issue() {
    let f = Octopus::new(3, 2.5, 0.7, 1.3).expect("valid");
    let (l, g, tau) = (2.5, 0.7, 1.3);
    for x in [1.3, 1.7, 2.1, 2.6] {
        assert!((f.g1(x) - paper_g1(l, g, tau, x)).abs() < 1e-12);
        assert!((f.g2(x) - paper_g2(l, g, tau, x)).abs() < 1e-12);
    }
    let nu = -paper_g1(l, g, tau, 2.0 * tau) + 4.0 * l * tau * tau;
    assert!((f.nu() - nu).abs() < 1e-12);
    assert!((f.nu() - (37.0 * l + 13.0 * g) * tau * tau / 6.0).abs() < 1e-12);
}

/// Value, gradient and Hessian agree on both sides of every piece boundary |xₖ| ∈ {τ, 2τ}, for
/// each level k, with earlier coordinates beyond 2τ or in the band (so that level k is
/// reached) and later ones anywhere, including off the paper's domain.
#[test]
fn octopus_is_c2_across_every_piece_boundary() {
    let d = 4;
    let f = octopus(d);
    let earlier = [-3.1 * TAU, 2.5 * TAU, 1.4 * TAU, -1.9 * TAU, 4.0 * TAU];
    let later = [0.3 * TAU, -1.2 * TAU, 1.7 * TAU, -2.6 * TAU, 5.0 * TAU, 0.0];
    let mut checked = 0;
    for k in 0..d {
        for boundary in [TAU, 2.0 * TAU] {
            for sign in [1.0, -1.0] {
                for (e, &early) in earlier.iter().enumerate() {
                    for (m, &late) in later.iter().enumerate() {
                        let mut x = DVector::from_fn(d, |j, _| {
                            if j < k {
                                earlier[(e + j) % earlier.len()].copysign(early)
                            } else {
                                later[(m + j) % later.len()].copysign(late)
                            }
                        });
                        // Third derivatives are finite but can be large off D (they carry
                        // s‴·(L·Sₖ₊₁ − Tₖ₊₁)), so the two sides are taken very close: a jump of a
                        // non-C² join would be O(1), continuous pieces move by O(delta).
                        let delta = 1e-12 * boundary;
                        x[k] = sign * (boundary - delta);
                        let (inner_f, inner_g, inner_h) = (
                            f.closed_value(&x),
                            f.closed_gradient(&x),
                            f.closed_hessian(&x),
                        );
                        x[k] = sign * (boundary + delta);
                        let (outer_f, outer_g, outer_h) = (
                            f.closed_value(&x),
                            f.closed_gradient(&x),
                            f.closed_hessian(&x),
                        );
                        let scale = 1.0 + inner_h.amax();
                        assert!(
                            (inner_f - outer_f).abs() <= 1e-6 * (1.0 + inner_f.abs()),
                            "value jumps at level {k}, boundary {boundary}: {inner_f} vs {outer_f} ({x})"
                        );
                        assert!(
                            (&inner_g - &outer_g).amax() <= 1e-6 * scale,
                            "gradient jumps at level {k}, boundary {boundary}: {inner_g} vs {outer_g} ({x})"
                        );
                        assert!(
                            (&inner_h - &outer_h).amax() <= 1e-6 * scale,
                            "Hessian jumps at level {k}, boundary {boundary}: {inner_h} vs {outer_h} ({x})"
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 4 * 2 * 2 * 5 * 6);
}

/// The check above can fail: a Hessian that is not continuous (the octopus's third
/// derivatives jump, so one more derivative would) is detected at the same resolution.
#[test]
fn octopus_third_derivative_does_jump_at_tau() {
    let f = octopus(1);
    let h = |x: f64| f.closed_hessian(&dvector![x])[(0, 0)];
    let delta = 1e-4 * TAU;
    let inner = (h(TAU) - h(TAU - delta)) / delta;
    let outer = (h(TAU + delta) - h(TAU)) / delta;
    // Inside, the Hessian is the constant −2γ; just outside it starts to move.
    assert!(inner.abs() < 1e-6, "{inner}");
    assert!(outer.abs() > 1e-2, "{outer}");
}

#[test]
fn octopus_critical_points_in_several_dimensions() {
    for d in 1..=6 {
        let f = octopus(d);
        assert_eq!(check_critical_points(&f, 1e-9), d + 1);
        let points = f.critical_points();
        for (i, p) in points.iter().enumerate() {
            assert!((p.value + i as f64 * f.nu()).abs() < 1e-9);
            if i < d {
                assert!((p.lambda_min + 2.0).abs() < 1e-15);
            }
        }
        assert_eq!(points[d].kind, PointKind::GlobalMinimum);
        // Every sign pattern of the nonzero coordinates is critical as well.
        let mut mirrored = points[d].x.clone();
        mirrored[0] = -mirrored[0];
        let (fx, g) = gradient(&f, &mirrored).expect("gradient");
        assert!(g.amax() < 1e-9 && (fx + d as f64 * f.nu()).abs() < 1e-9);
    }
}

#[test]
fn octopus_rejects_bad_parameters() {
    assert!(matches!(
        Octopus::new(0, 1.0, 1.0, 1.0),
        Err(ZooError::DimensionTooSmall { got: 0, .. })
    ));
    for (l, g, t, what) in [
        (0.0, 1.0, 1.0, "L"),
        (1.0, f64::NAN, 1.0, "gamma"),
        (1.0, 1.0, f64::INFINITY, "tau"),
        (1.0, 1.0, -2.0, "tau"),
    ] {
        match Octopus::new(3, l, g, t) {
            Err(ZooError::InvalidParameter { what: w, .. }) => assert_eq!(w, what),
            other => panic!("expected InvalidParameter for {what}, got {other:?}"),
        }
    }
    assert!(octopus(2).critical_point(0).is_err());
}

// ---------------------------------------------------------------------------------------------
// Matrix factorization

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn matrix_factorization_three_way(
        (spectrum, r, x, v) in (1usize..5, 1usize..4).prop_flat_map(|(n, r)| (
            prop::collection::vec(0.0..5.0f64, n), Just(r), point(n * r, 2.0), point(n * r, 1.0),
        )),
        seed in any::<u64>(),
    ) {
        let f = MatrixFactorization::from_spectrum(spectrum, r, seed).expect("valid spectrum");
        three_way(&f, &x, &v);
    }
}

/// Every subset S with |S| ≤ r (not only the listed ones): ∇f = 0 and the stated λ_min (the
/// spectrum formula) is the smallest eigenvalue of the closed-form and autodiff Hessians; for
/// |S| < r it is −2·max_{a∉S} σₐ.
#[test]
fn matrix_factorization_every_eigen_subset() {
    let spectrum = vec![5.0, 3.0, 2.0, 0.5, 0.0];
    let n = spectrum.len();
    let mut checked = 0;
    for r in 1..=3 {
        let f = MatrixFactorization::from_spectrum(spectrum.clone(), r, 99).expect("valid");
        for mask in 0u32..(1 << n) {
            let subset: Vec<usize> = (0..n).filter(|a| mask & (1 << a) != 0).collect();
            if subset.len() > r {
                assert!(f.critical_point(&subset).is_err());
                continue;
            }
            let p = f.critical_point(&subset).expect("valid subset");
            let g = f.closed_gradient(&p.x);
            assert!(g.amax() < 1e-12, "{subset:?}: ∇f = {g}");
            let (_, ga) = gradient(&f, &p.x).expect("gradient");
            assert!(ga.amax() < 1e-12);
            let closed = f.closed_hessian(&p.x).symmetric_eigenvalues().min();
            let auto = hessian(&f, &p.x)
                .expect("hessian")
                .symmetric_eigenvalues()
                .min();
            assert!(
                (closed - p.lambda_min).abs() < 1e-10,
                "r = {r}, S = {subset:?}: {closed} vs {}",
                p.lambda_min
            );
            assert!((auto - p.lambda_min).abs() < 1e-10);
            let out_max = (0..n)
                .filter(|a| !subset.contains(a))
                .map(|a| spectrum[a])
                .fold(0.0, f64::max);
            if subset.len() < r {
                assert!(
                    (p.lambda_min + 2.0 * out_max).abs() < 1e-15,
                    "S = {subset:?}"
                );
            }
            let is_top = subset.iter().all(|&a| a < r) && subset.len() == r.min(4);
            // (σ₄ = 0, so with r ≥ 4 leaving it out would also be optimal; r ≤ 3 here.)
            assert_eq!(
                p.kind == PointKind::GlobalMinimum,
                is_top,
                "r = {r}, S = {subset:?}: {:?}",
                p.kind
            );
            if !is_top {
                assert_eq!(p.kind, PointKind::StrictSaddle);
            }
            checked += 1;
        }
        assert!(check_critical_points(&f, 1e-10) > r);
    }
    assert_eq!(checked, (1 + 5) + (1 + 5 + 10) + (1 + 5 + 10 + 10));
}

#[test]
fn matrix_factorization_rank_deficient_target_has_value_zero_minimum() {
    // rank M* = 2 ≤ r = 3: the global minimum fits exactly and U with a zero column is optimal.
    let f = MatrixFactorization::from_spectrum(vec![2.0, 1.0, 0.0, 0.0], 3, 4).expect("valid");
    let p = f.critical_point(&[0, 1]).expect("valid");
    assert_eq!(p.kind, PointKind::GlobalMinimum);
    assert!(p.value.abs() < 1e-15);
    assert!(p.lambda_min.abs() < 1e-15);
    assert!(f.closed_value(&p.x) < 1e-24);
}

#[test]
fn matrix_factorization_from_matrix_agrees_with_from_spectrum() {
    let f = MatrixFactorization::from_spectrum(vec![3.0, 1.5, 0.2], 2, 17).expect("valid");
    let g = MatrixFactorization::from_matrix(f.target().clone(), 2).expect("PSD target");
    for (a, b) in f.eigenvalues().iter().zip(g.eigenvalues()) {
        assert!((a - b).abs() < 1e-12);
    }
    assert_eq!(check_critical_points(&g, 1e-10), 1 + 2 + 2);
    let x = DVector::from_fn(6, |i, _| (i as f64 * 0.7).sin());
    assert!((f.closed_value(&x) - g.closed_value(&x)).abs() < 1e-12);
    three_way(&g, &x, &DVector::from_element(6, 0.5));
}

#[test]
fn matrix_factorization_rejects_bad_input() {
    assert!(matches!(
        MatrixFactorization::from_spectrum(vec![], 1, 0),
        Err(ZooError::DimensionTooSmall { .. })
    ));
    assert!(matches!(
        MatrixFactorization::from_spectrum(vec![1.0], 0, 0),
        Err(ZooError::DimensionTooSmall { .. })
    ));
    assert!(matches!(
        MatrixFactorization::from_spectrum(vec![1.0, f64::NAN], 1, 0),
        Err(ZooError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        MatrixFactorization::from_matrix(DMatrix::zeros(2, 3), 1),
        Err(ZooError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        MatrixFactorization::from_matrix(dmatrix![1.0, f64::INFINITY; 0.0, 1.0], 1),
        Err(ZooError::NonFinite { .. })
    ));
    let f = MatrixFactorization::from_spectrum(vec![1.0, 2.0], 2, 0).expect("valid");
    assert!(matches!(
        f.factor(&dvector![1.0]),
        Err(ZooError::DimensionMismatch {
            expected: 4,
            got: 1,
            ..
        })
    ));
    assert!(f.flatten(&DMatrix::zeros(2, 1)).is_err());
    assert!(matches!(
        f.critical_point(&[1, 1]),
        Err(ZooError::InvalidIndex { index: 1, .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Orthogonal tensor decomposition

fn away_from_zero(d: usize) -> impl Strategy<Value = DVector<f64>> {
    point(d, 2.0).prop_filter("norm at least 0.3", |x| x.norm() >= 0.3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn tensor_three_way(
        (d, k, x, v) in (1usize..6).prop_flat_map(|d| (Just(d), 1..=d, away_from_zero(d), point(d, 1.0))),
        seed in any::<u64>(),
    ) {
        let f = OrthogonalTensor::new(d, k, seed).expect("k <= d");
        three_way(&f, &x, &v);
    }
}

#[test]
fn tensor_every_subset_is_critical_with_the_stated_curvature() {
    for (d, k) in [(4, 4), (5, 3), (1, 1), (2, 2)] {
        let f = OrthogonalTensor::new(d, k, 8).expect("valid");
        let a = f.components();
        let gram = a.transpose() * a;
        assert!((gram - DMatrix::identity(k, k)).amax() < 1e-12);
        for mask in 1u32..(1 << k) {
            let subset: Vec<usize> = (0..k).filter(|i| mask & (1 << i) != 0).collect();
            let p = f.critical_point(&subset).expect("valid subset");
            let s = subset.len() as f64;
            assert!((f.closed_value(&p.x) + 1.0 / s).abs() < 1e-12);
            assert!(f.closed_gradient(&p.x).amax() < 1e-12);
            let eig = hessian(&f, &p.x).expect("hessian").symmetric_eigenvalues();
            assert!(
                (eig.min() - p.lambda_min).abs() < 1e-10,
                "{subset:?}: {eig}"
            );
            // Full spectrum: −8/s (s − 1 times), 4/s (d − s times), 0 once.
            let mut got: Vec<f64> = eig.iter().copied().collect();
            got.sort_by(f64::total_cmp);
            let mut want = vec![-8.0 / s; subset.len() - 1];
            want.push(0.0);
            want.extend(std::iter::repeat_n(4.0 / s, d - subset.len()));
            want.sort_by(f64::total_cmp);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-10, "{subset:?}: {got:?} vs {want:?}");
            }
            let expected = match subset.len() {
                1 => PointKind::GlobalMinimum,
                n if n == d => PointKind::LocalMaximum,
                _ => PointKind::StrictSaddle,
            };
            assert_eq!(p.kind, expected);
        }
        assert_eq!(check_critical_points(&f, 1e-10), 2 * k + k - 1);
    }
}

/// Direct calls of `eval` with a point of the wrong length (the checked functions reject
/// these first) give NaN, never a panic or a silently truncated value.
#[test]
fn wrong_length_points_evaluate_to_nan() {
    use autodiff_objectives::Objective;
    let short = [0.5f64; 2];
    let mf = MatrixFactorization::from_spectrum(vec![1.0, 2.0], 2, 0).expect("valid");
    assert!(mf.eval(&short[..1]).is_nan());
    let t = OrthogonalTensor::new(3, 2, 0).expect("valid");
    assert!(t.eval(&short).is_nan());
    let pr = PhaseRetrieval::new(3, 5, 0).expect("valid");
    assert!(pr.eval(&short).is_nan());
    let nn = TwoLayerNet::teacher(2, 2, 5, 0).expect("valid");
    assert!(nn.eval(&short).is_nan());
    assert!(matches!(
        value(&mf, &DVector::from_element(3, 1.0)),
        Err(EvalError::DimensionMismatch {
            expected: 4,
            got: 3,
            ..
        })
    ));
}

#[test]
fn tensor_objective_is_scale_invariant_and_nan_at_zero() {
    let f = OrthogonalTensor::new(3, 3, 2).expect("valid");
    let x = dvector![0.3, -1.0, 0.4];
    assert!((f.closed_value(&x) - f.closed_value(&(&x * 7.5))).abs() < 1e-14);
    assert!((f.closed_value(&x) + f.tensor_value(&(&x / x.norm()))).abs() < 1e-14);
    assert!(value(&f, &DVector::zeros(3)).is_err());
}

// ---------------------------------------------------------------------------------------------
// Phase retrieval

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn phase_retrieval_three_way(
        (n, x, v) in (1usize..6).prop_flat_map(|n| (Just(n), point(n, 2.0), point(n, 1.0))),
        m in 1usize..40,
        seed in any::<u64>(),
    ) {
        let f = PhaseRetrieval::new(n, m, seed).expect("valid sizes");
        three_way(&f, &x, &v);
    }
}

#[test]
fn phase_retrieval_critical_points_and_lambda_min_at_zero() {
    for (n, m, seed) in [(4, 40, 1), (3, 2, 5), (6, 60, 9)] {
        let f = PhaseRetrieval::new(n, m, seed).expect("valid");
        assert_eq!(check_critical_points(&f, 1e-10), 3);
        // λ_min(0) = −λ_max(Σ yᵢaᵢaᵢᵀ)/m, from the data directly.
        let a = f.measurements();
        let mut s = DMatrix::zeros(n, n);
        for (i, y) in f.intensities().iter().enumerate() {
            let ai = a.row(i).transpose();
            s += &ai * ai.transpose() * *y;
        }
        let expected = -s.symmetric_eigenvalues().max() / m as f64;
        let origin = &f.critical_points()[2];
        assert!((origin.lambda_min - expected).abs() < 1e-10);
        let expected_kind = if m >= n {
            PointKind::LocalMaximum
        } else {
            PointKind::StrictSaddle
        };
        assert_eq!(origin.kind, expected_kind, "n = {n}, m = {m}");
    }
}

#[test]
fn phase_retrieval_finite_sum_and_mini_batches() {
    let f = PhaseRetrieval::new(3, 25, 4).expect("valid");
    assert_eq!(f.n_terms(), 25);
    let x = dvector![0.2, -0.7, 1.1];
    let mean = (0..25).map(|i| f.eval_term(i, x.as_slice())).sum::<f64>() / 25.0;
    assert!((mean - f.closed_value(&x)).abs() < 1e-13);
    assert!(f.eval_term(25, x.as_slice()).is_nan());
    let full = MiniBatch::new(&f, (0..25).collect()).expect("valid batch");
    let (_, g_full) = gradient(&full, &x).expect("gradient");
    assert!(close(&g_full, &f.closed_gradient(&x), 1e-12));
    let batch = MiniBatch::new(&f, vec![3, 3, 17]).expect("valid batch");
    let (_, gb) = gradient(&batch, &x).expect("gradient");
    let g3 = gradient(&MiniBatch::new(&f, vec![3]).expect("valid"), &x)
        .expect("g")
        .1;
    let g17 = gradient(&MiniBatch::new(&f, vec![17]).expect("valid"), &x)
        .expect("g")
        .1;
    assert!(close(&gb, &((g3 * 2.0 + g17) / 3.0), 1e-12));
    assert_eq!(batch.indices(), &[3, 3, 17]);
    assert!(MiniBatch::new(&f, vec![]).is_err());
    assert!(matches!(
        MiniBatch::new(&f, vec![0, 99]),
        Err(EvalError::TermOutOfRange {
            index: 99,
            n_terms: 25
        })
    ));
    assert!(f.eval_term(0, &[1.0f64]).is_nan());
}

#[test]
fn phase_retrieval_rejects_bad_input_and_is_deterministic() {
    assert!(PhaseRetrieval::new(0, 3, 1).is_err());
    assert!(matches!(
        PhaseRetrieval::with_signal(dvector![1.0, f64::NAN], 3, 1),
        Err(ZooError::NonFinite { index: 1, .. })
    ));
    assert!(PhaseRetrieval::with_signal(DVector::zeros(0), 3, 1).is_err());
    assert_eq!(
        PhaseRetrieval::new(3, 7, 123).expect("valid"),
        PhaseRetrieval::new(3, 7, 123).expect("valid")
    );
    assert_ne!(
        PhaseRetrieval::new(3, 7, 123).expect("valid"),
        PhaseRetrieval::new(3, 7, 124).expect("valid")
    );
}

// ---------------------------------------------------------------------------------------------
// Two-layer network

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn neural_net_three_way(
        (p, h) in (1usize..4, 1usize..4),
        m in 1usize..20,
        seed in any::<u64>(),
        raw in prop::collection::vec(-1.5..1.5f64, 16),
        dir in prop::collection::vec(-1.0..1.0f64, 16),
    ) {
        let f = TwoLayerNet::teacher(p, h, m, seed).expect("valid sizes");
        let n = h * (p + 1);
        let x = DVector::from_fn(n, |i, _| raw[i]);
        let v = DVector::from_fn(n, |i, _| dir[i]);
        three_way(&f, &x, &v);
    }
}

#[test]
fn neural_net_critical_points() {
    for (p, h, m, seed) in [(2, 3, 50, 42), (3, 2, 40, 7), (1, 1, 10, 3)] {
        let f = TwoLayerNet::teacher(p, h, m, seed).expect("valid");
        assert_eq!(check_critical_points(&f, 1e-9), 3);
        let points = f.critical_points();
        // λ_min(0) = −‖(1/m)Σ yᵢxᵢ‖ from the data directly.
        let mut c = DVector::zeros(p);
        for (i, y) in f.targets().iter().enumerate() {
            c += f.inputs().row(i).transpose() * *y;
        }
        c /= m as f64;
        assert!((points[0].lambda_min + c.norm()).abs() < 1e-12);
        assert_eq!(points[0].kind, PointKind::StrictSaddle);
        // Eigenvalues at 0: ±‖c‖ h times each, 0 the other h(p − 1) times.
        let eig = f.closed_hessian(&points[0].x).symmetric_eigenvalues();
        let near = |t: f64| eig.iter().filter(|e| (*e - t).abs() < 1e-10).count();
        assert_eq!(near(c.norm()), h);
        assert_eq!(near(-c.norm()), h);
        assert_eq!(near(0.0), h * (p - 1));
        assert!(points[1].value.abs() < 1e-15);
        assert!(
            points[1].lambda_min > 0.0,
            "teacher Hessian should be PD with m ≫ h(p+1)"
        );
    }
}

#[test]
fn neural_net_from_data_and_finite_sum() {
    let xor = dmatrix![1.0, 1.0; 1.0, -1.0; -1.0, 1.0; -1.0, -1.0];
    let f = TwoLayerNet::from_data(xor, dvector![-1.0, 1.0, 1.0, -1.0], 2).expect("valid");
    let zero = &f.critical_points()[0];
    // Σ yᵢxᵢ = 0 for XOR: the Hessian at 0 vanishes, a degenerate critical point.
    assert_eq!(zero.kind, PointKind::DegenerateSaddle);
    assert!(hessian(&f, &zero.x).expect("hessian").amax() < 1e-15);
    assert_eq!(f.critical_points().len(), 1);
    let x = DVector::from_fn(6, |i, _| 0.3 * i as f64 - 0.8);
    three_way(&f, &x, &DVector::from_element(6, 0.25));
    let mean = (0..4).map(|i| f.eval_term(i, x.as_slice())).sum::<f64>() / 4.0;
    assert!((mean - f.closed_value(&x)).abs() < 1e-14);
    assert!(f.eval_term(0, &[1.0f64, 2.0]).is_nan());
    assert!(f.eval_term(4, x.as_slice()).is_nan());
    assert!(matches!(
        TwoLayerNet::from_data(dmatrix![1.0, f64::NAN], dvector![1.0], 1),
        Err(ZooError::NonFinite { .. })
    ));
    assert!(matches!(
        TwoLayerNet::from_data(DMatrix::zeros(0, 2), DVector::zeros(0), 1),
        Err(ZooError::DimensionTooSmall { .. })
    ));
}
