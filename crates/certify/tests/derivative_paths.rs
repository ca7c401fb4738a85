//! Issue 23: the tanh saddle f(x) = 1e16·tanh(x₀ + 20) + x₁² at 0, where f′ = 0.16993 and
//! f″ = −0.33987. num-dual's own forward formulas give f′ = f″ = 0 there (1 − tanh² cancels),
//! and forward mode used to certify this strict saddle "ε-SOSP (proved)". Every backend and
//! every method must now find the negative curvature.

use autodiff_objectives::{Backend, DualNum, objective};
use certify::{Certifier, Method, Verdict};
use nalgebra::DVector;

fn tanh_saddle<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let t = (x[0] + 20.0).tanh() * 1e16;
    if x.len() > 1 { t + x[1] * x[1] } else { t }
}

#[test]
fn the_tanh_saddle_is_never_certified_as_a_second_order_point() {
    let f = objective!(tanh_saddle);
    let c = 20f64.cosh();
    let lambda = -2.0 * 20f64.tanh() * 1e16 / c / c;
    for d in [1, 2] {
        let x = DVector::zeros(d);
        for backend in [Backend::Auto, Backend::Forward, Backend::Reverse] {
            for method in [
                Method::Auto,
                Method::Dense,
                Method::Factorization,
                Method::Lanczos,
            ] {
                let cert = Certifier::new(0.2, 0.05)
                    .backend(backend)
                    .method(method)
                    .seed(7)
                    .certify(&f, &x)
                    .expect("certifies");
                let what = format!("d = {d}, {backend:?}, {method:?}");
                assert!(!cert.is_second_order_stationary(), "{what}: {cert:?}");
                assert_eq!(cert.verdict, Verdict::NegativeCurvature, "{what}");
                assert!(cert.grad_norm > 0.16, "{what}: ‖∇f‖ = {}", cert.grad_norm);
                assert!(
                    (cert.lambda_min - lambda).abs() <= 1e-8,
                    "{what}: λ_min = {} vs {lambda}",
                    cert.lambda_min
                );
                let e = cert.escape_direction.as_ref().expect("an escape direction");
                assert!(e.curvature < -0.1, "{what}");
                // The certificate records the path of every derivative evaluation.
                let n = cert.evaluations;
                assert_eq!(n.forward + n.reverse, n.derivatives(), "{what}");
                if backend == Backend::Forward {
                    assert_eq!(n.reverse, 0, "{what}");
                }
            }
        }
    }
}
