//! Issue 25: every tool that applies the Hessian repeatedly at one point records f there once
//! (reverse mode) and never runs it again for the products; with forward mode it evaluates f
//! for every product, as before. The results agree between the two to rounding.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use autodiff_objectives::{Backend, DualNum, Objective};
use certify::{Certifier, EigenSolver, Method, Slq, TraceEstimator, TraceMethod};
use nalgebra::DVector;
use std::cell::Cell;

const D: usize = 240;

/// ½Σ a_i x_i² + ¼Σ (x_i x_{i+1})² with a_i ∈ [0.5, 2]: positive definite at 0, a minimum;
/// counting how often f itself runs.
struct Counted {
    calls: Cell<u64>,
}

impl Objective for Counted {
    fn eval<T: DualNum<Primitive = f64> + Copy>(&self, x: &[T]) -> T {
        self.calls.set(self.calls.get() + 1);
        let mut s = T::from(0.0);
        for (i, &xi) in x.iter().enumerate() {
            s += xi * xi * (0.25 + 0.75 * (i as f64 / D as f64));
            if i + 1 < x.len() {
                s += (xi * x[i + 1]).powi(2) * 0.25;
            }
        }
        s
    }
    fn dim(&self) -> Option<usize> {
        Some(D)
    }
}

fn counted() -> Counted {
    Counted { calls: 0.into() }
}

fn point() -> DVector<f64> {
    DVector::from_fn(D, |i, _| 0.1 * ((i * 7 % 13) as f64 - 6.0))
}

#[test]
fn the_lanczos_certificate_records_f_once() {
    let x = DVector::zeros(D);
    let mut lambdas = Vec::new();
    for backend in [Backend::Auto, Backend::Forward] {
        let f = counted();
        let cert = Certifier::new(1e-6, 1.0)
            .method(Method::Lanczos)
            .backend(backend)
            .seed(7)
            .certify(&f, &x)
            .unwrap();
        assert!(cert.is_second_order_stationary(), "{cert}");
        let e = cert.evaluations;
        assert!(e.hvp >= 10, "{e:?}");
        if backend == Backend::Auto {
            // One recording; f runs for nothing else.
            assert_eq!((e.recordings, f.calls.get()), (1, 1), "{e:?}");
        } else {
            assert_eq!(e.recordings, 0);
            assert!(f.calls.get() >= e.hvp, "{} calls, {e:?}", f.calls.get());
        }
        lambdas.push(cert.lambda_min);
    }
    assert!((lambdas[0] - lambdas[1]).abs() <= 1e-12, "{lambdas:?}");
}

#[test]
fn the_spectrum_tools_record_f_once() {
    let x = point();
    // EigenSolver: the Lanczos steps and the Ritz vectors' residual products.
    let f = counted();
    let low = EigenSolver::smallest(3).seed(1).compute(&f, &x).unwrap();
    assert!(low.hvps > 3 && low.converged, "{low:?}");
    assert_eq!(f.calls.get(), 1);
    let g = counted();
    let fwd = EigenSolver::smallest(3)
        .seed(1)
        .backend(Backend::Forward)
        .compute(&g, &x)
        .unwrap();
    assert!(g.calls.get() >= fwd.hvps);
    for (a, b) in low.pairs.iter().zip(&fwd.pairs) {
        assert!(
            (a.value - b.value).abs() <= 1e-10,
            "{} vs {}",
            a.value,
            b.value
        );
    }
    // Hutchinson and Hutch++: the probes' products 8 per pass, one recording.
    for method in [TraceMethod::Hutchinson, TraceMethod::HutchPlusPlus] {
        let f = counted();
        let t = TraceEstimator::new(30)
            .method(method)
            .seed(2)
            .estimate(&f, &x)
            .unwrap();
        assert_eq!((t.hvps, f.calls.get()), (30, 1), "{method:?}");
        let g = counted();
        let u = TraceEstimator::new(30)
            .method(method)
            .seed(2)
            .backend(Backend::Forward)
            .estimate(&g, &x)
            .unwrap();
        assert!(g.calls.get() >= 30);
        assert!(
            (t.estimate - u.estimate).abs() <= 1e-10 * u.estimate.abs(),
            "{method:?}: {} vs {}",
            t.estimate,
            u.estimate
        );
    }
    // SLQ: every probe's Lanczos run on the one recording.
    let f = counted();
    let slq = Slq::new(4, 12).seed(5).compute(&f, &x).unwrap();
    assert_eq!((slq.hvps, f.calls.get()), (48, 1));
}
