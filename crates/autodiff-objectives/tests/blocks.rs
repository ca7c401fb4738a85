//! Block-wise finite sums (`Objective::blocks`, `finite_sum_blocks!`): the same derivatives as
//! one tape to rounding, the same bits for every thread count, tape for one block only.

use autodiff_objectives::{
    Backend, DualNum, EvalError, FiniteSum, MiniBatch, Objective, Oracle, finite_sum_blocks,
    gradient_hvp_with, gradient_with, hessian_with, parallel_gradient, parallel_gradient_hvp,
    reverse, value,
};
use nalgebra::DVector;

/// A small logistic-regression-like term with a tanh hidden unit, on sample i.
fn term<D: DualNum<Primitive = f64> + Copy>(i: usize, x: &[D]) -> D {
    let t = i as f64;
    let a = [(0.3 * t).sin(), (0.7 * t).cos(), 0.01 * t - 1.0];
    let mut z = D::from(0.0);
    for (k, &ak) in a.iter().enumerate() {
        z += x[k] * ak;
    }
    let h = (z + x[3]).tanh();
    let y = if i.is_multiple_of(3) { 1.0 } else { -1.0 };
    (D::from(1.0) + (-(h * x[4] + x[5]) * y).exp()).ln()
}

const DIM: usize = 6;

/// The finite sum on one tape (the default: no blocks).
struct OneTape(usize);
/// The same sum, block by block (`finite_sum_blocks!`), `.1` terms per block.
struct Blocked(usize, usize);

impl Objective for OneTape {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        (0..self.0).map(|i| term(i, x)).sum::<D>() / self.0 as f64
    }
    fn dim(&self) -> Option<usize> {
        Some(DIM)
    }
}
impl FiniteSum for OneTape {
    fn n_terms(&self) -> usize {
        self.0
    }
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
        term(i, x)
    }
}

impl Objective for Blocked {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        (0..self.0).map(|i| term(i, x)).sum::<D>() / self.0 as f64
    }
    fn dim(&self) -> Option<usize> {
        Some(DIM)
    }
    finite_sum_blocks!();
}
impl FiniteSum for Blocked {
    fn n_terms(&self) -> usize {
        self.0
    }
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
        term(i, x)
    }
    fn terms_per_block(&self) -> usize {
        self.1
    }
}

fn point() -> DVector<f64> {
    DVector::from_fn(DIM, |i, _| 0.4 * (1.3 * i as f64 + 0.2).sin())
}
fn direction() -> DVector<f64> {
    DVector::from_fn(DIM, |i, _| 1.0 - 0.3 * i as f64)
}

fn close(a: &DVector<f64>, b: &DVector<f64>, tol: f64, what: &str) {
    let scale = 1.0 + b.amax();
    assert!((a - b).amax() <= tol * scale, "{what}: {a} vs {b}");
}

fn bits(v: &DVector<f64>) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn blocked_derivatives_equal_the_one_tape_ones_to_rounding() {
    let (x, v) = (point(), direction());
    let (one, blocked) = (OneTape(1_000), Blocked(1_000, 64));
    assert_eq!(blocked.blocks(), 16);
    assert_eq!(one.blocks(), 1);
    for backend in [Backend::Reverse, Backend::Forward, Backend::Auto] {
        let (f1, g1) = gradient_with(&one, &x, backend).expect("finite");
        let (fb, gb) = gradient_with(&blocked, &x, backend).expect("finite");
        assert!((f1 - fb).abs() <= 1e-13 * f1.abs(), "{backend:?} value");
        close(&gb, &g1, 1e-13, "gradient");
        let (_, _, h1) = gradient_hvp_with(&one, &x, &v, backend).expect("finite");
        let (hf, hg, hb) = gradient_hvp_with(&blocked, &x, &v, backend).expect("finite");
        close(&hb, &h1, 1e-13, "HVP");
        // One HVP pass also yields the blocked value and gradient.
        assert!((hf - fb).abs() <= 1e-13 * fb.abs());
        close(&hg, &gb, 1e-13, "gradient from the HVP pass");
        let (_, _, hess1) = hessian_with(&one, &x, backend).expect("finite");
        let (_, _, hessb) = hessian_with(&blocked, &x, backend).expect("finite");
        assert!((&hess1 - &hessb).amax() <= 1e-13 * (1.0 + hess1.amax()));
        assert_eq!(hessb, hessb.transpose(), "exactly symmetric");
    }
    let vb = value(&blocked, &x).expect("finite");
    let (fr, _) = gradient_with(&blocked, &x, Backend::Reverse).expect("finite");
    assert_eq!(
        vb.to_bits(),
        fr.to_bits(),
        "value() sums the blocks like the drivers"
    );
}

#[test]
fn blocked_hvp_matches_finite_differences_of_the_gradient() {
    let (x, v) = (point(), direction());
    let f = Blocked(500, 32);
    let (_, _, hv) = gradient_hvp_with(&f, &x, &v, Backend::Reverse).expect("finite");
    let h = 1e-5;
    let (_, gp) = gradient_with(&f, &(&x + &v * h), Backend::Reverse).expect("finite");
    let (_, gm) = gradient_with(&f, &(&x - &v * h), Backend::Reverse).expect("finite");
    let fd = (gp - gm) / (2.0 * h);
    close(&hv, &fd, 1e-7, "HVP against central differences");
}

#[test]
fn parallel_results_are_bit_identical_for_every_thread_count_and_equal_the_sequential_ones() {
    let (x, v) = (point(), direction());
    // 1 000 terms of 7 per block: 143 blocks, the last one short.
    let f = Blocked(1_000, 7);
    for backend in [Backend::Reverse, Backend::Forward] {
        let (fs, gs) = gradient_with(&f, &x, backend).expect("finite");
        let (hf, hg, hs) = gradient_hvp_with(&f, &x, &v, backend).expect("finite");
        for threads in [0, 1, 2, 3, 8, 1_000] {
            let (fp, gp) = parallel_gradient(&f, &x, threads, backend).expect("finite");
            assert_eq!(
                (fp.to_bits(), bits(&gp)),
                (fs.to_bits(), bits(&gs)),
                "{backend:?}, {threads} threads"
            );
            let (pf, pg, ph) = parallel_gradient_hvp(&f, &x, &v, threads, backend).expect("finite");
            assert_eq!(
                (pf.to_bits(), bits(&pg), bits(&ph)),
                (hf.to_bits(), bits(&hg), bits(&hs)),
                "{backend:?}, {threads} threads (HVP)"
            );
        }
    }
    // A sum that did not opt in: the parallel HVP uses blocks of terms_per_block terms, the
    // same bits as the opted-in sum with that block length.
    let plain = OneTape(1_000);
    let blocked64 = Blocked(1_000, 64);
    let a = parallel_gradient_hvp(&plain, &x, &v, 2, Backend::Reverse).expect("finite");
    let b = gradient_hvp_with(&blocked64, &x, &v, Backend::Reverse).expect("finite");
    assert_eq!(
        (a.0.to_bits(), bits(&a.1), bits(&a.2)),
        (b.0.to_bits(), bits(&b.1), bits(&b.2))
    );
}

#[test]
fn a_sum_too_big_for_one_tape_is_differentiated_block_by_block() {
    let (x, v) = (point(), direction());
    let (one, blocked) = (OneTape(2_000), Blocked(2_000, 50));
    let previous = reverse::set_tape_limit(2_000);
    let oracle_one = Oracle::new(&one).backend(Backend::Reverse);
    assert_eq!(
        oracle_one.gradient(&x),
        Err(EvalError::TapeLimitExceeded { limit: 2_000 })
    );
    assert_eq!(
        gradient_hvp_with(&one, &x, &v, Backend::Reverse),
        Err(EvalError::TapeLimitExceeded { limit: 2_000 })
    );
    // The Oracle (what optimizers and certifiers call) goes block by block by itself.
    let oracle = Oracle::new(&blocked).backend(Backend::Reverse);
    let (_, g) = oracle.gradient(&x).expect("one block fits");
    let hv = oracle.hvp(&x, &v).expect("one block fits");
    // Worker threads get the caller's limit, and one block fits in it too.
    let (_, gp) = parallel_gradient(&blocked, &x, 2, Backend::Reverse).expect("fits");
    assert_eq!(bits(&gp), bits(&g));
    reverse::set_tape_limit(previous);
    let (_, g1) = gradient_with(&one, &x, Backend::Reverse).expect("default limit");
    let (_, _, h1) = gradient_hvp_with(&one, &x, &v, Backend::Reverse).expect("default limit");
    close(&g, &g1, 1e-13, "gradient");
    close(&hv, &h1, 1e-13, "HVP");
}

#[test]
fn mini_batches_of_a_blocked_sum_are_blocked_and_others_are_not() {
    let x = point();
    let indices: Vec<usize> = (0..300).map(|k| (k * 37) % 1_000).collect();
    let blocked = Blocked(1_000, 64);
    let plain = OneTape(1_000);
    let bb = MiniBatch::new(&blocked, indices.clone()).expect("valid batch");
    let pb = MiniBatch::new(&plain, indices.clone()).expect("valid batch");
    assert_eq!((bb.blocks(), pb.blocks()), (5, 1));
    let (fb, gb) = gradient_with(&bb, &x, Backend::Reverse).expect("finite");
    let (fp, gp) = gradient_with(&pb, &x, Backend::Reverse).expect("finite");
    assert!((fb - fp).abs() <= 1e-13 * fp.abs());
    close(&gb, &gp, 1e-13, "mini-batch gradient");
    // A batch of one block is the batch's plain mean, bit for bit.
    let small = MiniBatch::new(&blocked, indices[..64].to_vec()).expect("valid batch");
    let small_plain = MiniBatch::new(&plain, indices[..64].to_vec()).expect("valid batch");
    assert_eq!(small.blocks(), 1);
    assert_eq!(
        gradient_with(&small, &x, Backend::Reverse),
        gradient_with(&small_plain, &x, Backend::Reverse)
    );
}

#[test]
fn errors_name_what_was_wrong() {
    let x = point();
    assert_eq!(
        gradient_with(&Blocked(0, 8), &x, Backend::Reverse),
        Err(EvalError::NoBlocks)
    );
    assert_eq!(value(&Blocked(0, 8), &x), Err(EvalError::NoBlocks));
    assert_eq!(
        parallel_gradient_hvp(&Blocked(0, 8), &x, &x, 2, Backend::Reverse),
        Err(EvalError::EmptyBatch)
    );
    assert!(matches!(
        parallel_gradient_hvp(&Blocked(10, 3), &x, &DVector::zeros(2), 2, Backend::Reverse),
        Err(EvalError::DimensionMismatch {
            what: "direction",
            ..
        })
    ));
    // A non-finite term: the sum is not finite, reported as such, whatever the thread count.
    let far = DVector::from_element(DIM, 1e300);
    let one = parallel_gradient(&Blocked(100, 7), &far, 1, Backend::Reverse);
    let two = parallel_gradient(&Blocked(100, 7), &far, 2, Backend::Reverse);
    assert_eq!(format!("{one:?}"), format!("{two:?}"));
    assert!(one.is_err());
}

#[test]
fn a_panic_in_a_block_reaches_the_caller_whatever_the_thread_count() {
    /// Block 5 of 8 panics.
    struct Bomb;
    impl Objective for Bomb {
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
            (0..8).map(|b| self.eval_block(b, x)).sum()
        }
        fn blocks(&self) -> usize {
            8
        }
        fn eval_block<D: DualNum<Primitive = f64> + Copy>(&self, b: usize, x: &[D]) -> D {
            assert!(b != 5, "block 5 fails");
            x[0] * b as f64
        }
    }
    impl FiniteSum for Bomb {
        fn n_terms(&self) -> usize {
            8
        }
        fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
            self.eval_block(i, x)
        }
    }
    let x = DVector::from_element(1, 1.0);
    for threads in [1, 2, 3] {
        let caught =
            std::panic::catch_unwind(|| parallel_gradient(&Bomb, &x, threads, Backend::Reverse));
        assert!(caught.is_err(), "{threads} threads");
    }
    // The calling thread's tape is usable afterwards.
    let (fx, _) = gradient_with(&Blocked(20, 7), &point(), Backend::Reverse).expect("finite");
    assert!(fx.is_finite());
}
