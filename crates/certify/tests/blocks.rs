//! Certifying a block-wise finite sum: Lanczos's HVPs go through the `Oracle`, which records
//! one block at a time, so the certificate needs tape for one block, not for all terms.

use autodiff_objectives::{DualNum, FiniteSum, Objective, finite_sum_blocks, reverse};
use certify::{Certifier, Method};
use nalgebra::DVector;

/// Term i of the least-squares sum (1/n) Σ ½(aᵢᵀx − bᵢ)² with fixed, deterministic aᵢ, bᵢ.
fn term<D: DualNum<Primitive = f64> + Copy>(i: usize, x: &[D]) -> D {
    let mut r = D::from(-(i as f64 * 0.01));
    for (j, &xj) in x.iter().enumerate() {
        r += xj * (((i * 31 + j * 17) % 13) as f64 / 13.0 - 0.4);
    }
    r * r * 0.5
}

const D: usize = 30;

struct OneTape(usize);
struct Blocked(usize);

impl Objective for OneTape {
    fn eval<T: DualNum<Primitive = f64> + Copy>(&self, x: &[T]) -> T {
        (0..self.0).map(|i| term(i, x)).sum::<T>() / self.0 as f64
    }
    fn dim(&self) -> Option<usize> {
        Some(D)
    }
}

impl Objective for Blocked {
    fn eval<T: DualNum<Primitive = f64> + Copy>(&self, x: &[T]) -> T {
        (0..self.0).map(|i| term(i, x)).sum::<T>() / self.0 as f64
    }
    fn dim(&self) -> Option<usize> {
        Some(D)
    }
    finite_sum_blocks!();
}

impl FiniteSum for Blocked {
    fn n_terms(&self) -> usize {
        self.0
    }
    fn eval_term<T: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[T]) -> T {
        term(i, x)
    }
    fn terms_per_block(&self) -> usize {
        10
    }
}

#[test]
fn lanczos_certifies_a_finite_sum_with_tape_for_one_block() {
    let n = 400;
    let x = DVector::from_element(D, 0.1);
    let certifier = Certifier::new(1e-2, 1e-2).method(Method::Lanczos).seed(3);
    let reference = certifier.certify(&OneTape(n), &x).expect("default limit");
    // One term records about 2·30 nodes: 10 terms fit in 2 000 nodes, 400 do not.
    let previous = reverse::set_tape_limit(2_000);
    let one_tape = certifier.certify(&OneTape(n), &x);
    let blocked = certifier.certify(&Blocked(n), &x);
    reverse::set_tape_limit(previous);
    assert!(
        one_tape.is_err(),
        "all terms on one tape must exceed the limit"
    );
    let blocked = blocked.expect("one block fits");
    assert!((blocked.grad_norm - reference.grad_norm).abs() <= 1e-12 * reference.grad_norm);
    assert!(
        (blocked.lambda_bounds.upper - reference.lambda_bounds.upper).abs()
            <= 1e-9 * (1.0 + reference.lambda_bounds.upper.abs())
    );
    assert_eq!(blocked.verdict, reference.verdict);
}
