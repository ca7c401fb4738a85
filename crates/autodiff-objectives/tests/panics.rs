//! The panic policy: a panic inside an objective propagates unchanged out of every function of
//! this crate (nothing catches it), and the thread's reverse-mode tapes are restored while it
//! unwinds, so the same thread differentiates correctly afterwards.

use autodiff_objectives::{
    Backend, DualNum, Objective, gradient_hvp_with, gradient_with, hessian_with, reverse,
};
use nalgebra::DVector;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Σ xᵢ³ after recording some nodes; panics (after recording) when x₀ > 10.
struct PanicsAbove10;

impl Objective for PanicsAbove10 {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let y: D = x.iter().map(|&t| t.powi(3)).sum();
        assert!(x[0].re() <= 10.0, "objective refuses x₀ = {}", x[0].re());
        y
    }
}

/// Runs `f` expecting a panic whose message contains "refuses", as the objective's own.
fn expect_objective_panic<R>(f: impl FnOnce() -> R) {
    let payload = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("the objective's panic must propagate"),
        Err(payload) => payload,
    };
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(
        message.contains("objective refuses"),
        "the objective's own panic, unchanged: {message:?}"
    );
}

fn check_correct_after(label: &str) {
    let x = DVector::from_vec(vec![1.0, -2.0, 0.5]);
    let v = DVector::from_vec(vec![1.0, 0.0, -1.0]);
    let want_g = x.map(|t| 3.0 * t * t);
    let want_h = DVector::from_fn(3, |i, _| 6.0 * x[i] * v[i]);
    let (_, g) = gradient_with(&PanicsAbove10, &x, Backend::Reverse).expect(label);
    assert_eq!(g, want_g, "{label}: gradient after the panic");
    let (_, g2, hv) = gradient_hvp_with(&PanicsAbove10, &x, &v, Backend::Reverse).expect(label);
    assert_eq!(g2, want_g, "{label}: HVP-tape gradient after the panic");
    assert_eq!(hv, want_h, "{label}: HVP after the panic");
    let stats = reverse::tape_stats();
    assert_eq!(
        (stats.gradient_len, stats.hvp_len),
        (1, 1),
        "{label}: only the sink nodes remain"
    );
}

#[test]
fn a_panic_while_recording_a_gradient_propagates_and_leaves_the_tape_usable() {
    check_correct_after("warm-up");
    let bad = DVector::from_vec(vec![11.0, 1.0, 1.0]);
    expect_objective_panic(|| gradient_with(&PanicsAbove10, &bad, Backend::Reverse));
    check_correct_after("gradient");
}

#[test]
fn a_panic_while_recording_an_hvp_or_a_hessian_leaves_the_tape_usable() {
    let bad = DVector::from_vec(vec![11.0, 1.0, 1.0]);
    let v = DVector::from_element(3, 1.0);
    expect_objective_panic(|| gradient_hvp_with(&PanicsAbove10, &bad, &v, Backend::Reverse));
    check_correct_after("HVP");
    expect_objective_panic(|| hessian_with(&PanicsAbove10, &bad, Backend::Reverse));
    check_correct_after("Hessian");
    // Forward mode has no state to restore, and propagates the panic as well.
    expect_objective_panic(|| hessian_with(&PanicsAbove10, &bad, Backend::Forward));
    check_correct_after("forward Hessian");
}

/// An objective that differentiates `PanicsAbove10` inside its own evaluation (a nested
/// recording above its own nodes), at a point that makes the inner objective panic.
struct NestedPanic;

impl Objective for NestedPanic {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let outer: D = x.iter().map(|&t| t.sin()).sum();
        let inner = DVector::from_iterator(x.len(), x.iter().map(|t| t.re() * 100.0));
        let (_, g) = gradient_with(&PanicsAbove10, &inner, Backend::Reverse)
            .expect("the inner objective panics before returning");
        outer * g.sum()
    }
}

#[test]
fn a_panic_inside_a_nested_recording_unwinds_both_recordings() {
    let x = DVector::from_vec(vec![0.5, 0.25]);
    expect_objective_panic(|| gradient_with(&NestedPanic, &x, Backend::Reverse));
    check_correct_after("nested gradient");
    let v = DVector::from_element(2, 1.0);
    expect_objective_panic(|| gradient_hvp_with(&NestedPanic, &x, &v, Backend::Reverse));
    check_correct_after("nested HVP");
}

#[test]
fn a_panic_after_the_tape_limit_was_exceeded_does_not_leave_the_overflow_flag_set() {
    let previous = reverse::set_tape_limit(5);
    let bad = DVector::from_element(20, 11.0);
    expect_objective_panic(|| gradient_with(&PanicsAbove10, &bad, Backend::Reverse));
    reverse::set_tape_limit(previous);
    check_correct_after("overflowed recording");
}

#[test]
fn a_panic_on_another_thread_does_not_affect_this_one() {
    check_correct_after("before");
    let handle = std::thread::spawn(|| {
        let bad = DVector::from_vec(vec![11.0, 1.0, 1.0]);
        gradient_with(&PanicsAbove10, &bad, Backend::Reverse)
    });
    assert!(
        handle.join().is_err(),
        "the panic reaches the thread's join"
    );
    check_correct_after("after");
}
