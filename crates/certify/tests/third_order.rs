//! The third-order check (issue 27) where the truth is known: the review's four degenerate
//! points, all "ε-SOSP (proved)" at second order. Three have a third-order descent direction or
//! none by construction; two pass although one is a saddle (fourth order, or a curved valley),
//! which the API says is not a proof.

use autodiff_objectives::{DualNum, Objective, objective, value};
use certify::{Certificate, Certifier, CertifyError, MAX_NEAR_NULL};
use nalgebra::{DVector, dvector};
use objective_zoo::{MonkeySaddle, QuarticSaddle};

fn certify<O: Objective>(f: &O, x: &DVector<f64>) -> Certificate {
    Certifier::new(1e-6, 1.0)
        .third_order(1e-3)
        .seed(1)
        .certify(f, x)
        .expect("certifies")
}

/// f decreases along the certificate's third-order direction: f(x + tu) < f(x) for small t.
fn descends<O: Objective>(f: &O, x: &DVector<f64>, cert: &Certificate) {
    let u = cert.third_order_direction().expect("a direction");
    assert!((u.norm() - 1.0).abs() < 1e-12);
    let t = cert.third_order.as_ref().expect("ran");
    assert!(t.direction_cubic < -t.eps3);
    let f0 = value(f, x).expect("finite");
    for step in [1e-1, 1e-2] {
        assert!(
            value(f, &(x + u * step)).expect("finite") < f0,
            "t = {step}"
        );
    }
}

/// Certifies f at the ε-SOSP x and checks that the third-order check refutes it on a
/// one-dimensional near-null space, along `want` (to `tol_u`) with ∇³f[u,u,u] = −6 (to
/// `tol_cubic`), and that f decreases along the direction.
fn refuted_along<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    want: &DVector<f64>,
    tol_u: f64,
    tol_cubic: f64,
) -> Certificate {
    let cert = certify(f, x);
    assert!(cert.is_second_order_stationary(), "{cert}");
    assert_eq!(cert.is_third_order_stationary(), Some(false));
    let t = cert.third_order.as_ref().expect("ran");
    assert_eq!(t.near_null_dim, 1);
    let u = cert.third_order_direction().expect("a direction");
    assert!((u - want).norm() < tol_u, "{}", (u - want).norm());
    assert!(
        (t.direction_cubic + 6.0).abs() < tol_cubic,
        "{}",
        t.direction_cubic
    );
    descends(f, x, &cert);
    cert
}

fn x2_plus_y3<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0] * x[0] + x[1].powi(3)
}

fn x4_minus_y4<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0].powi(4) - x[1].powi(4)
}

fn curved_valley<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0] * 2.0)
}

fn bowl<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0] * x[0] + x[1] * x[1] * 3.0
}

#[test]
fn the_monkey_saddle_has_a_third_order_descent_direction() {
    // f = x³ − 3xy²: ∇²f = 0 (k = 2), ∇³f[u,u,u] = 6(u₁³ − 3u₁u₂²), largest 6 on the circle.
    let x = dvector![0.0, 0.0];
    let cert = certify(&MonkeySaddle, &x);
    assert!(cert.is_second_order_stationary());
    assert_eq!(cert.is_third_order_stationary(), Some(false));
    let t = cert.third_order.as_ref().expect("ran");
    assert_eq!(t.near_null_dim, 2);
    assert!((t.max_cubic - 6.0).abs() < 1e-9, "{}", t.max_cubic);
    assert!((t.direction_cubic + 6.0).abs() < 1e-9);
    descends(&MonkeySaddle, &x, &cert);
    assert!(cert.to_string().contains("not third-order stationary"));
    let json: serde_json::Value =
        serde_json::from_str(&cert.to_json(&certify::RenderOptions::deterministic()))
            .expect("JSON");
    assert_eq!(json["third_order"]["search"], "exact");
    assert_eq!(json["third_order"]["assurance"], "proof");
}

#[test]
fn x2_plus_y3_descends_along_minus_y() {
    let f = objective!(x2_plus_y3, 2);
    let x = dvector![0.0, 0.0];
    let cert = certify(&f, &x);
    assert!(cert.is_second_order_stationary());
    assert_eq!(cert.is_third_order_stationary(), Some(false));
    let u = cert.third_order_direction().expect("a direction");
    assert!(u[0].abs() < 1e-12 && (u[1] + 1.0).abs() < 1e-12, "{u}");
    let t = cert.third_order.as_ref().expect("ran");
    assert_eq!(t.near_null_dim, 1);
    assert!((t.direction_cubic + 6.0).abs() < 1e-12);
    // The dense method's eigendecomposition serves the near-null space: one Hessian.
    assert_eq!(cert.evaluations.hessian, 1);
    descends(&f, &x, &cert);
}

#[test]
fn points_without_a_third_order_direction_pass_and_the_report_says_it_is_no_proof() {
    // x⁴ − y⁴ (a saddle decided at fourth order), (y − x²)(y − 2x²) (a saddle along a curve)
    // and a strict minimum (no near-null space at all).
    let x = dvector![0.0, 0.0];
    let cases: [(Certificate, usize); 3] = [
        (certify(&objective!(x4_minus_y4, 2), &x), 2),
        (certify(&objective!(curved_valley, 2), &x), 1),
        (certify(&objective!(bowl, 2), &x), 0),
    ];
    for (cert, k) in cases {
        assert!(cert.is_second_order_stationary());
        assert_eq!(cert.is_third_order_stationary(), Some(true));
        assert_eq!(cert.third_order_direction(), None);
        let t = cert.third_order.as_ref().expect("ran");
        assert_eq!(t.near_null_dim, k);
        assert!(t.max_cubic <= 1e-9, "{}", t.max_cubic);
        assert!(cert.to_string().contains("not a proof of a local minimum"));
    }
}

#[test]
fn the_check_runs_only_when_asked_and_only_at_an_eps_sosp() {
    let x = dvector![0.0, 0.0];
    // Not requested.
    let plain = Certifier::new(1e-6, 1.0)
        .certify(&MonkeySaddle, &x)
        .expect("certifies");
    assert_eq!(plain.is_third_order_stationary(), None);
    assert_eq!(plain.evaluations.third_order, 0);
    // Not an ε-SOSP (λ_min = −4): second order already refutes it.
    let saddle = certify(&QuarticSaddle, &x);
    assert!(!saddle.is_second_order_stationary());
    assert_eq!(saddle.is_third_order_stationary(), None);
    // Requested at an ε-SOSP: the tensor's 4 entries (k = 2) and one measurement along u.
    let cert = certify(&MonkeySaddle, &x);
    assert_eq!(cert.evaluations.third_order, 5);
    const { assert!(MAX_NEAR_NULL >= 2) };
}

#[test]
fn an_invalid_third_order_tolerance_is_a_typed_error() {
    for eps3 in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let r = Certifier::new(1e-6, 1.0)
            .third_order(eps3)
            .certify(&MonkeySaddle, &dvector![0.0, 0.0]);
        assert!(
            matches!(r, Err(CertifyError::InvalidThirdOrderTolerance(v)) if v.to_bits() == eps3.to_bits()),
            "{eps3}: {r:?}"
        );
    }
}

#[cfg(feature = "serde")]
#[test]
fn a_certificate_with_a_third_order_check_reads_back_and_an_edited_one_does_not() {
    use certify::{JsonReportError, RenderOptions};
    let cert = certify(&MonkeySaddle, &dvector![0.0, 0.0]);
    let json = serde_json::to_string(&cert).expect("serializes");
    let back: Certificate = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back.third_order, cert.third_order);
    let report = cert.to_json(&RenderOptions::deterministic());
    let read = Certificate::from_json(&report).expect("the report reads back");
    assert_eq!(read.is_third_order_stationary(), Some(false));
    assert_eq!(
        read.third_order.as_ref().map(|t| t.cap),
        Some(MAX_NEAR_NULL)
    );
    // A report from before the cap was configurable (no "cap") reads with the old cap, 8.
    let mut old: serde_json::Value = serde_json::from_str(&report).expect("JSON");
    old["third_order"]
        .as_object_mut()
        .expect("an object")
        .remove("cap");
    let read = Certificate::from_json(&old.to_string()).expect("an older report reads");
    assert_eq!(read.third_order.as_ref().map(|t| t.cap), Some(8));
    // A direction edited to the wrong length is rejected.
    let mut v: serde_json::Value = serde_json::from_str(&report).expect("JSON");
    v["third_order"]["direction"] = serde_json::json!([1.0, 0.0, 0.0]);
    assert!(matches!(
        Certificate::from_json(&v.to_string()),
        Err(JsonReportError::Inconsistent(_))
    ));
}

/// x₀³ + Σ_{i≥1} xᵢ²: at 0 the Hessian is diag(0, 2, …, 2), so beyond
/// `MAX_DENSE_NEAR_NULL_DIM` the near-null space (e₀) comes from Lanczos.
#[derive(Debug)]
struct CubicInBowl(usize);

impl Objective for CubicInBowl {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        x[1..].iter().fold(x[0].powi(3), |s, &xi| s + xi * xi)
    }
    fn dim(&self) -> Option<usize> {
        Some(self.0)
    }
}

#[test]
fn beyond_the_dense_limit_the_near_null_space_comes_from_lanczos() {
    let d = certify::MAX_DENSE_NEAR_NULL_DIM + 500;
    let f = CubicInBowl(d);
    let x = DVector::zeros(d);
    let mut e0 = DVector::zeros(d);
    e0[0] = 1.0;
    let cert = refuted_along(&f, &x, &-e0, 1e-6, 1e-4);
    // Every derivative evaluation has its path, the eigensolver's HVPs included.
    let e = cert.evaluations;
    assert_eq!(e.forward + e.reverse, e.derivatives());
}

fn bounded_monkey<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let r2 = x[0] * x[0] + x[1] * x[1];
    x[0].powi(3) - x[0] * x[1] * x[1] * 3.0 + r2 * r2
}

fn x2_plus_y4<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0] * x[0] + x[1].powi(4)
}

fn x2_plus_y3_plus_y4<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    x[0] * x[0] + x[1].powi(3) + x[1].powi(4)
}

#[test]
fn the_issues_known_answers_in_two_variables() {
    let x = dvector![0.0, 0.0];
    // The bounded monkey saddle: the quartic term hides nothing at third order (k = 2, exact).
    let cert = certify(&objective!(bounded_monkey, 2), &x);
    assert!(cert.is_second_order_stationary());
    assert_eq!(cert.is_third_order_stationary(), Some(false));
    let t = cert.third_order.as_ref().expect("ran");
    assert_eq!(t.near_null_dim, 2);
    assert!((t.max_cubic - 6.0).abs() < 1e-9, "{}", t.max_cubic);
    descends(&objective!(bounded_monkey, 2), &x, &cert);
    // x² + y³ + y⁴: refuted along −e_y.
    let f = objective!(x2_plus_y3_plus_y4, 2);
    let cert = certify(&f, &x);
    assert_eq!(cert.is_third_order_stationary(), Some(false));
    let u = cert.third_order_direction().expect("a direction");
    assert!(u[0].abs() < 1e-12 && (u[1] + 1.0).abs() < 1e-12, "{u}");
    descends(&f, &x, &cert);
    // x² + y⁴: a minimum; the check passes with k = 1 (exact: a proof of no cubic descent).
    let cert = certify(&objective!(x2_plus_y4, 2), &x);
    assert_eq!(cert.is_third_order_stationary(), Some(true));
    let t = cert.third_order.as_ref().expect("ran");
    assert_eq!((t.near_null_dim, t.max_cubic), (1, 0.0));
}

/// ½Σᵢ₌₁ (1 + i/d) yᵢ² + y₀³ with y = Qx for a seeded rotation Q: at 0 the Hessian has one
/// zero eigenvalue (along q₀ = Qᵀe₀) among d − 1 positive ones, and ∇³f[u,u,u] = 6(q₀ᵀu)³.
struct HiddenCubic {
    q: nalgebra::DMatrix<f64>,
}

impl Objective for HiddenCubic {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let d = x.len();
        let mut s = D::from(0.0);
        for i in 0..d {
            let yi = (0..d).fold(D::from(0.0), |a, j| a + x[j] * self.q[(i, j)]);
            s += if i == 0 {
                yi.powi(3)
            } else {
                yi * yi * (0.5 * (1.0 + i as f64 / d as f64))
            };
        }
        s
    }
    fn dim(&self) -> Option<usize> {
        Some(self.q.nrows())
    }
}

#[test]
fn a_degenerate_saddle_hidden_by_a_rotation_in_d_300_is_found() {
    let d = 300;
    let mut rng = autodiff_objectives::seeded::SplitMix64::new(11);
    let g = nalgebra::DMatrix::from_fn(d, d, |_, _| rng.normal());
    let q = g.qr().q();
    let q0 = q.row(0).transpose();
    let f = HiddenCubic { q };
    let x = DVector::zeros(d);
    refuted_along(&f, &x, &-q0, 1e-8, 1e-8);
}

#[test]
fn matrix_factorization_at_a_rank_deficient_global_minimum_passes() {
    // M* of spectrum (4, 2, 0), r = 3, U = [√4 v₀, √2 v₁, 0]: a global minimum (f = 0) with a
    // zero column. The Hessian has 4 zero eigenvalues (the zero column along v₀, v₁ and v₂,
    // and the rotation of the two nonzero columns); f ≥ 0 = f(U), so no cubic descent exists.
    let f = objective_zoo::MatrixFactorization::from_spectrum(vec![4.0, 2.0, 0.0], 3, 7)
        .expect("valid");
    let x = f.critical_point(&[0, 1]).expect("valid").x;
    let cert = certify(&f, &x);
    assert!(cert.is_second_order_stationary(), "{cert}");
    assert_eq!(cert.is_third_order_stationary(), Some(true));
    let t = cert.third_order.as_ref().expect("ran");
    assert_eq!(t.near_null_dim, 4);
    assert!(t.max_cubic <= 1e-9, "{}", t.max_cubic);
}

/// ½Σᵢ λᵢyᵢ² + Σ_{i<12} yᵢ⁴ + c·s³ with y = Qx (Q a seeded rotation, or the identity) and
/// s = cᵀy: twelve near-null eigenvalues λᵢ = i·`gap` (i < 12, all ≤ τ = 10⁻³ here) among
/// positive ones (1 + i/d), and the cubic term on span(e₉, e₁₀, e₁₁) — outside the eight
/// smallest eigendirections, so only the search beyond [`certify::MAX_TENSOR_DIM`] can see it.
/// ∇³f\[u,u,u\] = 6·`cubic`·(cᵀQu)³: the largest cubic descent is 6·`cubic` along −Qᵀc.
struct HiddenBeyondEight {
    q: Option<nalgebra::DMatrix<f64>>,
    d: usize,
    gap: f64,
    c: Vec<f64>,
    cubic: f64,
}

impl HiddenBeyondEight {
    const FLAT: usize = 12;

    fn new(d: usize, rotated: bool, gap: f64, c: &[(usize, f64)], cubic: f64) -> Self {
        let q = rotated.then(|| {
            let mut rng = autodiff_objectives::seeded::SplitMix64::new(5);
            nalgebra::DMatrix::from_fn(d, d, |_, _| rng.normal())
                .qr()
                .q()
        });
        let mut cv = vec![0.0; Self::FLAT];
        for &(i, v) in c {
            cv[i] = v;
        }
        let n = cv.iter().map(|v| v * v).sum::<f64>().sqrt().max(1.0);
        let c = cv.into_iter().map(|v| v / n).collect();
        HiddenBeyondEight {
            q,
            d,
            gap,
            c,
            cubic,
        }
    }

    /// Qᵀc in x-coordinates: the unit direction of the largest cubic value.
    fn cubic_direction(&self) -> DVector<f64> {
        let mut c = DVector::zeros(self.d);
        c.rows_mut(0, Self::FLAT).copy_from_slice(&self.c);
        match &self.q {
            Some(q) => q.transpose() * c,
            None => c,
        }
    }
}

impl Objective for HiddenBeyondEight {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let d = self.d;
        let y = |i: usize| match &self.q {
            Some(q) => (0..d).fold(D::from(0.0), |a, j| a + x[j] * q[(i, j)]),
            None => x[i],
        };
        let mut sum = D::from(0.0);
        let mut s = D::from(0.0);
        for i in 0..d {
            let yi = y(i);
            if i < Self::FLAT {
                sum += yi * yi * (0.5 * self.gap * i as f64) + yi.powi(4);
                s += yi * self.c[i];
            } else {
                sum += yi * yi * (0.5 * (1.0 + i as f64 / d as f64));
            }
        }
        sum + s.powi(3) * self.cubic
    }
    fn dim(&self) -> Option<usize> {
        Some(self.d)
    }
}

#[test]
fn beyond_eight_near_null_directions_the_gradient_search_finds_a_hidden_cubic() {
    // d = 60, dense path: k = 12 > MAX_TENSOR_DIM, the cubic term on (e₉ + e₁₀ + e₁₁)/√3.
    let f = HiddenBeyondEight::new(60, true, 1e-5, &[(9, 1.0), (10, 1.0), (11, 1.0)], 1.0);
    let x = DVector::zeros(60);
    let cert = certify(&f, &x);
    assert!(cert.is_second_order_stationary(), "{cert}");
    assert_eq!(cert.is_third_order_stationary(), Some(false), "{cert}");
    let t = cert.third_order.as_ref().expect("ran");
    assert_eq!((t.near_null_dim, t.capped), (12, false));
    assert_eq!(t.search(), certify::CubicSearch::Gradient);
    assert!((t.max_cubic - 6.0).abs() < 1e-8, "{}", t.max_cubic);
    let u = cert.third_order_direction().expect("a direction");
    let want = -f.cubic_direction();
    assert!((u - &want).norm() < 1e-6, "{}", (u - &want).norm());
    descends(&f, &x, &cert);
    assert!(cert.to_string().contains("not third-order stationary"));
    // Capped at the eight smallest directions, the check cannot see it: it passes and says
    // the space was capped.
    let capped = Certifier::new(1e-6, 1.0)
        .third_order(1e-3)
        .near_null_cap(8)
        .seed(1)
        .certify(&f, &x)
        .expect("certifies");
    let t = capped.third_order.as_ref().expect("ran");
    assert_eq!((t.near_null_dim, t.capped, t.cap), (8, true, 8));
    assert_eq!(capped.is_third_order_stationary(), Some(true));
    assert!(t.max_cubic <= 1e-9, "{}", t.max_cubic);
    assert!(capped.to_string().contains("capped at 8"), "{capped}");
}

#[test]
fn beyond_eight_near_null_directions_without_a_cubic_term_the_search_passes() {
    let f = HiddenBeyondEight::new(60, true, 1e-5, &[], 0.0);
    let cert = certify(&f, &DVector::zeros(60));
    assert_eq!(cert.is_third_order_stationary(), Some(true));
    let t = cert.third_order.as_ref().expect("ran");
    assert_eq!(
        (t.near_null_dim, t.search()),
        (12, certify::CubicSearch::Gradient)
    );
    assert!(t.max_cubic <= 1e-9, "{}", t.max_cubic);
    assert!(cert.to_string().contains("gradient search"), "{cert}");
    // The JSON report (schema 2) names the search and what "none found" guarantees.
    let json: serde_json::Value =
        serde_json::from_str(&cert.to_json(&certify::RenderOptions::deterministic()))
            .expect("JSON");
    assert_eq!(json["schema_version"], 2);
    assert_eq!(json["third_order"]["search"], "gradient");
    assert_eq!(json["third_order"]["assurance"], "search_result");
    assert_eq!(json["third_order"]["near_null_dim"], 12);
    assert_eq!(json["third_order"]["cap"], MAX_NEAR_NULL);
    // The tensor on the 8 smallest (120 entries), then at most a gradient (⌈12/8⌉ = 2
    // evaluations) per start: p ≡ 0 ends every start at once.
    assert!(
        cert.evaluations.third_order <= 120 + 2 * (1 + certify::GRADIENT_SEARCH_STARTS as u64),
        "{}",
        cert.evaluations.third_order
    );
}

#[test]
fn the_lanczos_near_null_space_grows_beyond_nine_pairs_until_one_exceeds_tau() {
    // d = 2 500 > MAX_DENSE_NEAR_NULL_DIM: twelve near-null eigenvalues 0, 8·10⁻⁵, …, 8.8·10⁻⁴
    // (≤ τ = 10⁻³), the rest ≥ 1. The first run asks for 9 pairs, all ≤ τ; the second for
    // 17 (the cap, 16, plus one), of which 12 are ≤ τ. The cubic term y₁₀³ lies beyond the eight smallest.
    let d = certify::MAX_DENSE_NEAR_NULL_DIM + 500;
    let f = HiddenBeyondEight::new(d, false, 8e-5, &[(10, 1.0)], 1.0);
    let x = DVector::zeros(d);
    let cert = certify(&f, &x);
    assert!(cert.is_second_order_stationary(), "{cert}");
    let t = cert.third_order.as_ref().expect("ran");
    assert_eq!((t.near_null_dim, t.capped), (12, false), "{cert}");
    assert_eq!(cert.is_third_order_stationary(), Some(false));
    let u = cert.third_order_direction().expect("a direction");
    assert!((u[10] + 1.0).abs() < 1e-4, "{}", u[10]);
    assert!(
        (t.direction_cubic + 6.0).abs() < 1e-3,
        "{}",
        t.direction_cubic
    );
    descends(&f, &x, &cert);
}

#[test]
fn a_near_null_cap_of_zero_is_a_typed_error() {
    let r = Certifier::new(1e-6, 1.0)
        .third_order(1e-3)
        .near_null_cap(0)
        .certify(&MonkeySaddle, &dvector![0.0, 0.0]);
    assert!(
        matches!(r, Err(CertifyError::InvalidNearNullCap(0))),
        "{r:?}"
    );
}
