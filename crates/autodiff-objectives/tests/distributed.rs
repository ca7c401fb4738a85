//! Distributed finite sums (ranks as threads, `distributed::in_process`): every oracle path
//! gives every rank one process's bits, for 1, 2, 3 and 4 ranks; failures give every rank the
//! same typed error naming the rank and the block.

use autodiff_objectives::distributed::{
    Distributed, Reduction, block_owner, in_process, owned_blocks,
};
use autodiff_objectives::{
    Backend, DualNum, EvalError, FiniteSum, Objective, Oracle, batch_gradient, directional,
    finite_sum_blocks, gradient_hvp_with, gradient_with, hessian_at, hessian_with,
    parallel_gradient, parallel_gradient_hvp, reverse, value,
};
use nalgebra::{DMatrix, DVector};

/// (1/n) Σᵢ log(1 + (aᵢ·x − bᵢ)²) + tanh(x₀ xᵢ mod d): nonlinear, 7 blocks of 9 terms (the
/// last short). `poison` makes term `poison` non-finite.
#[derive(Clone)]
struct Sum {
    n: usize,
    d: usize,
    poison: Option<usize>,
}

impl Sum {
    fn new(n: usize) -> Self {
        Sum {
            n,
            d: 5,
            poison: None,
        }
    }
    fn a(&self, i: usize, j: usize) -> f64 {
        ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0
    }
}

impl Objective for Sum {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        (0..self.n).map(|i| self.eval_term(i, x)).sum::<D>() / self.n as f64
    }
    fn dim(&self) -> Option<usize> {
        Some(self.d)
    }
    finite_sum_blocks!();
}

impl FiniteSum for Sum {
    fn n_terms(&self) -> usize {
        self.n
    }
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
        let mut r = D::from(-(i as f64) / 20.0);
        for (j, &xj) in x.iter().enumerate() {
            r += xj * self.a(i, j);
        }
        let t = (r * r + 1.0).ln() + (x[0] * x[i % self.d]).tanh();
        if self.poison == Some(i) {
            t / D::from(0.0)
        } else {
            t
        }
    }
    fn terms_per_block(&self) -> usize {
        9
    }
}

fn point() -> (DVector<f64>, DVector<f64>) {
    let x = DVector::from_fn(5, |i, _| 0.3 * i as f64 - 0.4);
    let v = DVector::from_fn(5, |i, _| 1.0 - 0.45 * i as f64);
    (x, v)
}

/// Everything the oracle paths return, as bits.
#[derive(Debug, PartialEq)]
struct All {
    value: u64,
    gradient: Vec<u64>,
    hvp: Vec<u64>,
    hessian: Vec<u64>,
    directional: [u64; 3],
    parallel: Vec<u64>,
    parallel_hvp: Vec<u64>,
    operator: Vec<u64>,
    operator_many: Vec<u64>,
    operator_gradient: Vec<u64>,
    batch: Vec<u64>,
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn everything<F: FiniteSum + Sync>(f: &F) -> Result<All, EvalError> {
    let (x, v) = point();
    let (_, g) = gradient_with(f, &x, Backend::Reverse)?;
    let (_, _, hv) = gradient_hvp_with(f, &x, &v, Backend::Reverse)?;
    let (_, _, h) = hessian_with(f, &x, Backend::Forward)?;
    let dir = directional(f, &x, &v)?;
    let (_, pg) = parallel_gradient(f, &x, 2, Backend::Forward)?;
    let (_, _, phv) = parallel_gradient_hvp(f, &x, &v, 3, Backend::Reverse)?;
    let op = hessian_at(f, &x)?;
    let many = DMatrix::from_fn(5, 11, |i, j| ((i + 2 * j) % 7) as f64 - 3.0);
    let terms: Vec<usize> = (0..f.n_terms()).rev().step_by(2).collect();
    let (_, bg) = batch_gradient(f, &x, terms, Backend::Reverse)?;
    Ok(All {
        value: value(f, &x)?.to_bits(),
        gradient: bits(g.as_slice()),
        hvp: bits(hv.as_slice()),
        hessian: bits(h.as_slice()),
        directional: [
            dir.value.to_bits(),
            dir.slope.to_bits(),
            dir.curvature.to_bits(),
        ],
        parallel: bits(pg.as_slice()),
        parallel_hvp: bits(phv.as_slice()),
        operator: bits(op.apply(&v)?.as_slice()),
        operator_many: bits(op.apply_many(&many)?.as_slice()),
        operator_gradient: bits(op.gradient().as_slice()),
        batch: bits(bg.as_slice()),
    })
}

#[test]
fn every_path_gives_every_rank_one_process_bits() {
    let f = Sum::new(60);
    assert_eq!(f.blocks(), 7);
    let one = everything(&f).expect("one process");
    for reduction in [Reduction::Gather, Reduction::Pipeline] {
        for ranks in 1..=4 {
            let each = in_process::run(ranks, |ex| {
                let g = Distributed::new(f.clone(), ex)?.reduction(reduction);
                let all = everything(&g);
                // The start-up check, one collective per call (apply_many: one per 8
                // columns); one rank has nothing to exchange. The pipeline's collective is
                // its broadcast, after one message to the next rank.
                let calls = if ranks == 1 { 0 } else { 12 };
                let s = g.comm_stats();
                assert_eq!(s.collectives, 1 + calls);
                let last = g.rank() + 1 == ranks;
                let messages = if reduction == Reduction::Gather || last {
                    0
                } else {
                    calls
                };
                assert_eq!(s.messages, messages);
                all
            });
            for (r, got) in each.into_iter().enumerate() {
                assert_eq!(
                    got.as_ref().ok(),
                    Some(&one),
                    "{reduction:?}, {ranks} ranks, rank {r}: {got:?}"
                );
            }
        }
    }
}

#[test]
fn a_rank_moves_only_its_share_in_one_collective_per_call() {
    let f = Sum::new(60);
    let (x, _) = point();
    let stats = in_process::run(2, |ex| {
        let g = Distributed::new(f.clone(), ex).expect("same objective");
        let start = g.comm_stats();
        gradient_with(&g, &x, Backend::Reverse).expect("gradient");
        let s = g.comm_stats();
        (g.owned_blocks(), start, s)
    });
    for (r, (owned, start, s)) in stats.into_iter().enumerate() {
        assert_eq!(start.collectives, 1, "the start-up check");
        assert_eq!(s.collectives, 2, "one more for the gradient");
        // A fingerprint, and per block a 4-value header and f_b, ∇f_b.
        let mine = 8 * (1 + owned.len() * (4 + 6)) as u64;
        let theirs = 8 * (1 + (7 - owned.len()) * (4 + 6)) as u64;
        assert_eq!(s.bytes_sent - start.bytes_sent, mine, "rank {r}");
        assert_eq!(s.bytes_received - start.bytes_received, theirs, "rank {r}");
    }
}

#[test]
fn the_pipeline_moves_one_running_sum_per_rank_whatever_the_blocks() {
    let f = Sum::new(60);
    let (x, _) = point();
    let stats = in_process::run(3, |ex| {
        let g = Distributed::new(f.clone(), ex)
            .expect("same objective")
            .reduction(Reduction::Pipeline);
        let start = g.comm_stats();
        gradient_with(&g, &x, Backend::Reverse).expect("gradient");
        (g.rank(), start, g.comm_stats())
    });
    // The carried header (9 values) and f, ∇f (6): sent once to the next rank, and broadcast
    // by the last.
    let message = 8 * (9 + 6);
    for (r, start, s) in stats {
        let sent = s.bytes_sent - start.bytes_sent;
        let received = s.bytes_received - start.bytes_received;
        match r {
            0 => assert_eq!((sent, received), (message, message)),
            1 => assert_eq!((sent, received), (message, 2 * message)),
            _ => assert_eq!((sent, received), (message, message)),
        }
    }
}

#[test]
fn a_non_finite_block_gives_every_rank_the_same_error_naming_its_rank_and_block() {
    // Term 40 is in block 40 / 9 = 4.
    let f = Sum {
        poison: Some(40),
        ..Sum::new(60)
    };
    let (x, v) = point();
    for (ranks, reduction) in [
        (2, Reduction::Gather),
        (3, Reduction::Gather),
        (2, Reduction::Pipeline),
        (3, Reduction::Pipeline),
    ] {
        let owner = block_owner(7, ranks, 4);
        let errors = in_process::run(ranks, |ex| {
            let g = Distributed::new(f.clone(), ex)
                .expect("same objective")
                .reduction(reduction);
            (
                gradient_with(&g, &x, Backend::Reverse).err(),
                value(&g, &x).err(),
                Oracle::new(&g).hessian_operator(&x).err(),
                gradient_hvp_with(&g, &x, &v, Backend::Forward).err(),
            )
        });
        for (r, (grad, val, op, hvp)) in errors.into_iter().enumerate() {
            for e in [grad, val, op, hvp] {
                match e {
                    Some(EvalError::OnRank { rank, block, .. }) => {
                        assert_eq!((rank, block), (owner, 4), "{ranks} ranks, rank {r}")
                    }
                    other => panic!("{ranks} ranks, rank {r}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn a_failing_block_on_one_rank_stops_every_rank_with_its_error() {
    let f = Sum::new(60);
    let (x, _) = point();
    for reduction in [Reduction::Gather, Reduction::Pipeline] {
        let errors = in_process::run(3, |ex| {
            // Rank 1's tape is too small for one block (its tape limit is its own thread's).
            if ex_rank(&ex) == 1 {
                reverse::set_tape_limit(10);
            }
            let g = Distributed::new(f.clone(), ex)
                .expect("same objective")
                .reduction(reduction);
            gradient_with(&g, &x, Backend::Reverse).err()
        });
        let first = owned_blocks(7, 3, 1).start;
        for e in errors {
            assert_eq!(
                e,
                Some(EvalError::OnRank {
                    rank: 1,
                    block: first,
                    source: Box::new(EvalError::TapeLimitExceeded { limit: 10 })
                }),
                "{reduction:?}"
            );
        }
    }
}

fn ex_rank(ex: &in_process::InProcess) -> usize {
    use autodiff_objectives::distributed::Exchange;
    ex.rank()
}

#[test]
fn ranks_that_disagree_are_told_before_any_block_is_computed() {
    // Rank 1 has 4 more terms: 8 blocks instead of 7.
    let errors = in_process::run(3, |ex| {
        let n = if ex_rank(&ex) == 1 { 64 } else { 60 };
        Distributed::new(Sum::new(n), ex).err()
    });
    for e in errors {
        assert_eq!(
            e,
            Some(EvalError::RanksDisagree {
                what: "blocks",
                rank: 1,
                expected: 7,
                got: 8
            })
        );
    }
    let errors = in_process::run(2, |ex| {
        let d = if ex_rank(&ex) == 1 { 4 } else { 5 };
        Distributed::new(Sum { d, ..Sum::new(60) }, ex).err()
    });
    for e in errors {
        assert!(
            matches!(
                e,
                Some(EvalError::RanksDisagree {
                    what: "dimension",
                    rank: 1,
                    expected: 5,
                    got: 4
                })
            ),
            "{e:?}"
        );
    }
    // The same objective, different points: caught at the call.
    for reduction in [Reduction::Gather, Reduction::Pipeline] {
        let errors = in_process::run(3, |ex| {
            let mut x = point().0;
            x[3] += (ex_rank(&ex) / 2) as f64; // rank 2 differs
            let g = Distributed::new(Sum::new(60), ex)
                .expect("same objective")
                .reduction(reduction);
            gradient_with(&g, &x, Backend::Reverse).err()
        });
        for e in errors {
            assert!(
                matches!(e, Some(EvalError::RanksDisagree { rank: 2, .. })),
                "{reduction:?}: {e:?}"
            );
        }
    }
}

#[test]
fn an_objective_without_blocks_is_computed_whole_on_every_rank() {
    struct Plain;
    impl Objective for Plain {
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
            x[0].sin() * x[1]
        }
        fn dim(&self) -> Option<usize> {
            Some(2)
        }
    }
    let x = DVector::from_vec(vec![0.5, 2.0]);
    let one = gradient_with(&Plain, &x, Backend::Reverse).expect("one process");
    for (r, got) in in_process::run(2, |ex| {
        let g = Distributed::new(Plain, ex)?;
        let out = gradient_with(&g, &x, Backend::Reverse);
        // No collective beyond the start-up check.
        assert_eq!(g.comm_stats().collectives, 1);
        out
    })
    .into_iter()
    .enumerate()
    {
        assert_eq!(got.as_ref().ok(), Some(&one), "rank {r}");
    }
}
