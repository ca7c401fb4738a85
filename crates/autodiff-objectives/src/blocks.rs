//! Block-wise differentiation of objectives that are sums of blocks
//! ([`Objective::blocks`] > 1): each block on its own recording, the results added in block
//! order, sequentially (the checked drivers of `derive.rs` call in here) or on several threads
//! (`parallel_gradient`, `parallel_gradient_hvp`) with the same bits.

use crate::derive::{check_gradient, with_fallback};
use crate::distributed::{Exchange, exchange_blocks, own_in_order};
use crate::error::{EvalError, check_value, first_non_finite};
use crate::{Backend, Objective, forward, reverse};
use nalgebra::{DMatrix, DVector};
use num_dual::DualNum;
use std::sync::mpsc;

/// Block `b` of `f` as an objective of its own (one block: the drivers never split it again).
struct BlockOf<'a, O: Objective> {
    f: &'a O,
    b: usize,
}

impl<O: Objective> Objective for BlockOf<'_, O> {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        self.f.eval_block(self.b, x)
    }
    fn dim(&self) -> Option<usize> {
        self.f.dim()
    }
}

/// The blocks of `f` added in block order, as one objective (for what needs no tape: values
/// and one-pass directional derivatives).
struct Summed<'a, O: Objective>(&'a O);

impl<O: Objective> Objective for Summed<'_, O> {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let mut sum = D::from(0.0);
        for b in 0..self.0.blocks() {
            sum += self.0.eval_block(b, x);
        }
        sum
    }
    fn dim(&self) -> Option<usize> {
        self.0.dim()
    }
}

fn block_count<O: Objective>(f: &O) -> Result<usize, EvalError> {
    match f.blocks() {
        0 => Err(EvalError::NoBlocks),
        n => Ok(n),
    }
}

/// Runs `job(b)` for every block b < `blocks` on up to `threads` threads and hands the results
/// to `add` **in block order** on the calling thread; stops at the first error (in block
/// order) and returns it.
///
/// Worker w (1 ≤ w < threads) computes blocks w, w + threads, …, each sent through a channel
/// of capacity one, so a worker runs at most two blocks ahead and memory holds O(threads)
/// block results, not all of them; the calling thread computes blocks 0, threads, … itself
/// and those of a worker that could not be spawned. Each worker starts with the caller's
/// [`reverse::tape_limit`]. A panic in a job is propagated to the caller.
pub(crate) fn reduce_in_order<R: Send, E: Send>(
    blocks: usize,
    threads: usize,
    job: impl Fn(usize) -> Result<R, E> + Sync,
    mut add: impl FnMut(R),
) -> Result<(), E> {
    let threads = threads.clamp(1, blocks.max(1));
    if threads == 1 {
        for b in 0..blocks {
            add(job(b)?);
        }
        return Ok(());
    }
    let limit = reverse::tape_limit();
    std::thread::scope(|scope| {
        let job = &job;
        let mut workers: Vec<_> = (1..threads)
            .map(|w| {
                let (tx, rx) = mpsc::sync_channel::<Result<R, E>>(1);
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || {
                        reverse::set_tape_limit(limit);
                        for b in (w..blocks).step_by(threads) {
                            // A closed channel: the caller stopped (an error); so do we.
                            if tx.send(job(b)).is_err() {
                                break;
                            }
                        }
                    })
                    .ok()
                    .map(|handle| (rx, handle))
            })
            .collect();
        for b in 0..blocks {
            let w = b % threads;
            let result = match w.checked_sub(1).and_then(|k| workers[k].as_ref()) {
                None => job(b),
                Some((rx, _)) => match rx.recv() {
                    Ok(result) => result,
                    Err(_) => {
                        // The worker ended without sending block b: it panicked.
                        if let Some((_, handle)) = workers[w - 1].take()
                            && let Err(payload) = handle.join()
                        {
                            std::panic::resume_unwind(payload);
                        }
                        // It ended normally yet sent nothing (cannot happen): compute here.
                        job(b)
                    }
                },
            };
            add(result?);
        }
        Ok(())
    })
}

/// Value and gradient of block b with a concrete engine.
pub(crate) fn block_gradient<O: Objective>(
    f: &O,
    b: usize,
    x: &[f64],
    engine: Backend,
) -> Result<(f64, Vec<f64>), EvalError> {
    let block = BlockOf { f, b };
    match engine {
        Backend::Auto | Backend::Forward => {
            Ok(forward::gradient::<_, { forward::CHUNK }>(&block, x))
        }
        Backend::Reverse => reverse::gradient(&block, x),
    }
}

type GradHvp = (f64, Vec<f64>, Vec<f64>);

/// Value, gradient and HVP of block b with a concrete engine.
pub(crate) fn block_gradient_hvp<O: Objective>(
    f: &O,
    b: usize,
    x: &[f64],
    v: &[f64],
    engine: Backend,
) -> Result<GradHvp, EvalError> {
    let block = BlockOf { f, b };
    match engine {
        Backend::Auto | Backend::Forward => {
            Ok(forward::gradient_hvp::<_, { forward::CHUNK }>(&block, x, v))
        }
        Backend::Reverse => reverse::gradient_hvp(&block, x, v),
    }
}

fn add_into(sum: &mut [f64], part: &[f64]) {
    for (s, p) in sum.iter_mut().zip(part) {
        *s += p;
    }
}

/// Σ_b (f_b, ∇f_b), accumulated from 0 in the order the blocks are added.
struct GradientSum {
    value: f64,
    grad: Vec<f64>,
}

impl GradientSum {
    fn new(d: usize) -> Self {
        GradientSum {
            value: 0.0,
            grad: vec![0.0; d],
        }
    }
    fn add(&mut self, (v, g): (f64, Vec<f64>)) {
        self.value += v;
        add_into(&mut self.grad, &g);
    }
    /// The same additions, from a block's gathered record `[f_b, ∇f_b]`.
    fn add_record(&mut self, r: &[f64]) {
        self.value += r[0];
        add_into(&mut self.grad, &r[1..]);
    }
}

/// Σ_b (f_b, ∇f_b, ∇²f_b·v), accumulated from 0 in the order the blocks are added.
struct HvpSum {
    sum: GradientSum,
    hv: Vec<f64>,
}

impl HvpSum {
    fn new(d: usize) -> Self {
        HvpSum {
            sum: GradientSum::new(d),
            hv: vec![0.0; d],
        }
    }
    fn add(&mut self, (v, g, h): GradHvp) {
        self.sum.add((v, g));
        add_into(&mut self.hv, &h);
    }
    /// The same additions, from a block's gathered record `[f_b, ∇f_b, ∇²f_b·v]`.
    fn add_record(&mut self, r: &[f64]) {
        let d = self.hv.len();
        self.sum.add_record(&r[..1 + d]);
        add_into(&mut self.hv, &r[1 + d..]);
    }
    fn into_parts(self) -> GradHvp {
        (self.sum.value, self.sum.grad, self.hv)
    }
}

fn check_gradient_result(fx: f64, g: Vec<f64>) -> Result<(f64, DVector<f64>), EvalError> {
    check_value(fx)?;
    check_gradient(&g)?;
    Ok((fx, DVector::from_vec(g)))
}

fn check_hvp_result((fx, g, hv): GradHvp) -> Result<(f64, DVector<f64>, DVector<f64>), EvalError> {
    check_value(fx)?;
    check_gradient(&g)?;
    if let Some((index, value)) = first_non_finite(&hv) {
        return Err(EvalError::NonFiniteHvp { index, value });
    }
    Ok((fx, DVector::from_vec(g), DVector::from_vec(hv)))
}

/// The block-wise [`gradient_with`](crate::gradient_with) (input already checked): one block
/// at a time on the calling thread.
pub(crate) fn gradient_with<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    backend: Backend,
) -> Result<(f64, DVector<f64>), EvalError> {
    let blocks = block_count(f)?;
    with_fallback(backend, backend.resolve(x.len()), |engine| {
        let mut sum = GradientSum::new(x.len());
        if let Some(ex) = f.exchange() {
            let own = own_in_order(ex, blocks, |b| {
                block_gradient(f, b, x.as_slice(), engine).map(gradient_record)
            });
            let blame = exchange_blocks(ex, &[x.as_slice()], blocks, 1 + x.len(), own, |_, r| {
                sum.add_record(r)
            })?;
            return check_gradient_result(sum.value, sum.grad).map_err(|e| blame.on(e));
        }
        for b in 0..blocks {
            sum.add(block_gradient(f, b, x.as_slice(), engine)?);
        }
        check_gradient_result(sum.value, sum.grad)
    })
}

/// `[f_b, ∇f_b]`: a block's gradient as the distributed sums send it.
fn gradient_record((v, g): (f64, Vec<f64>)) -> Vec<f64> {
    let mut r = Vec::with_capacity(1 + g.len());
    r.push(v);
    r.extend_from_slice(&g);
    r
}

/// `[f_b, ∇f_b, ∇²f_b·v]`.
fn hvp_record((v, g, hv): GradHvp) -> Vec<f64> {
    let mut r = gradient_record((v, g));
    r.extend_from_slice(&hv);
    r
}

/// This rank's blocks on `threads` threads (the order of each block's own arithmetic does not
/// depend on them), until the first error.
fn own_on_threads<R: Send>(
    ex: &dyn Exchange,
    blocks: usize,
    threads: usize,
    job: impl Fn(usize) -> Result<R, EvalError> + Sync,
    record: impl Fn(R) -> Vec<f64>,
) -> Vec<Result<Vec<f64>, EvalError>> {
    let range = crate::distributed::owned_blocks(blocks, ex.ranks(), ex.rank());
    let mut own = Vec::with_capacity(range.len());
    let start = range.start;
    if let Err(e) = reduce_in_order(
        range.len(),
        threads,
        |i| job(start + i),
        |r| own.push(Ok(record(r))),
    ) {
        own.push(Err(e));
    }
    own
}

/// The block-wise [`gradient_hvp_with`](crate::gradient_hvp_with) (input already checked):
/// one block at a time on the calling thread.
pub(crate) fn gradient_hvp_with<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    v: &DVector<f64>,
    backend: Backend,
) -> Result<(f64, DVector<f64>, DVector<f64>), EvalError> {
    let blocks = block_count(f)?;
    with_fallback(backend, backend.resolve_hvp(x.len()), |engine| {
        let mut sum = HvpSum::new(x.len());
        if let Some(ex) = f.exchange() {
            let (xs, vs) = (x.as_slice(), v.as_slice());
            let own = own_in_order(ex, blocks, |b| {
                block_gradient_hvp(f, b, xs, vs, engine).map(hvp_record)
            });
            let blame = exchange_blocks(ex, &[xs, vs], blocks, 1 + 2 * x.len(), own, |_, r| {
                sum.add_record(r)
            })?;
            return check_hvp_result(sum.into_parts()).map_err(|e| blame.on(e));
        }
        for b in 0..blocks {
            sum.add(block_gradient_hvp(
                f,
                b,
                x.as_slice(),
                v.as_slice(),
                engine,
            )?);
        }
        check_hvp_result(sum.into_parts())
    })
}

/// The block-wise [`hessian_with`](crate::hessian_with) (input already checked): the sum of
/// the blocks' Hessians, each exactly symmetric, in block order; the caller checks finiteness.
pub(crate) fn hessian_with<O: Objective>(
    f: &O,
    x: &DVector<f64>,
    engine: Backend,
) -> Result<(f64, Vec<f64>, DMatrix<f64>), EvalError> {
    let blocks = block_count(f)?;
    let d = x.len();
    let (mut value, mut grad, mut h) = (0.0, vec![0.0; d], DMatrix::zeros(d, d));
    let block_hessian = |b: usize| -> Result<(f64, Vec<f64>, DMatrix<f64>), EvalError> {
        let block = BlockOf { f, b };
        Ok(match engine {
            Backend::Auto | Backend::Forward => {
                forward::hessian::<_, { forward::CHUNK }>(&block, x.as_slice())
            }
            Backend::Reverse => reverse::hessian(&block, x.as_slice())?,
        })
    };
    if let Some(ex) = f.exchange() {
        let own = own_in_order(ex, blocks, |b| {
            block_hessian(b).map(|(fb, g, hb)| {
                let mut r = gradient_record((fb, g));
                r.extend_from_slice(hb.as_slice());
                r
            })
        });
        // The caller checks finiteness (and blames no block: the Hessian is small-d work).
        exchange_blocks(ex, &[x.as_slice()], blocks, 1 + d + d * d, own, |_, r| {
            value += r[0];
            add_into(&mut grad, &r[1..1 + d]);
            add_into(h.as_mut_slice(), &r[1 + d..]);
        })?;
        return Ok((value, grad, h));
    }
    for b in 0..blocks {
        let (fb, g, hb) = block_hessian(b)?;
        value += fb;
        add_into(&mut grad, &g);
        h += hb;
    }
    Ok((value, grad, h))
}

/// Σ_b f_b(x) in block order (what [`value`](crate::value) returns for a block-wise
/// objective; no tape).
pub(crate) fn value<O: Objective>(f: &O, x: &[f64]) -> Result<f64, EvalError> {
    let blocks = block_count(f)?;
    if let Some(ex) = f.exchange() {
        // Summed's additions: from 0, in block order.
        let own = own_in_order(ex, blocks, |b| Ok(vec![f.eval_block(b, x)]));
        let mut sum = 0.0;
        let blame = exchange_blocks(ex, &[x], blocks, 1, own, |_, r| sum += r[0])?;
        return check_value(sum).map_err(|e| blame.on(e));
    }
    Ok(Summed(f).eval(x))
}

/// (f, ∇f·v, vᵀ∇²f v) of Σ_b f_b in one forward pass (no tape).
pub(crate) fn directional<O: Objective>(
    f: &O,
    x: &[f64],
    v: &[f64],
) -> Result<(f64, f64, f64), EvalError> {
    let blocks = block_count(f)?;
    if let Some(ex) = f.exchange() {
        // The hyper-dual sum adds each part separately, from 0 in block order: so do we.
        let own = own_in_order(ex, blocks, |b| {
            let (fb, s, c) = forward::directional(&BlockOf { f, b }, x, v);
            Ok(vec![fb, s, c])
        });
        let mut sum = [0.0; 3];
        exchange_blocks(ex, &[x, v], blocks, 3, own, |_, r| add_into(&mut sum, r))?;
        return Ok((sum[0], sum[1], sum[2]));
    }
    Ok(forward::directional(&Summed(f), x, v))
}

/// The block-wise parallel gradient of an objective with blocks (input already checked):
/// [`gradient_with`]'s result, bit for bit, on `threads` threads.
pub(crate) fn parallel_gradient<O: Objective + Sync>(
    f: &O,
    x: &DVector<f64>,
    threads: usize,
    backend: Backend,
) -> Result<(f64, DVector<f64>), EvalError> {
    let blocks = block_count(f)?;
    with_fallback(backend, backend.resolve(x.len()), |engine| {
        let mut sum = GradientSum::new(x.len());
        if let Some(ex) = f.exchange() {
            let job = |b| block_gradient(f, b, x.as_slice(), engine);
            let own = own_on_threads(ex, blocks, threads, job, gradient_record);
            let blame = exchange_blocks(ex, &[x.as_slice()], blocks, 1 + x.len(), own, |_, r| {
                sum.add_record(r)
            })?;
            return check_gradient_result(sum.value, sum.grad).map_err(|e| blame.on(e));
        }
        reduce_in_order(
            blocks,
            threads,
            |b| block_gradient(f, b, x.as_slice(), engine),
            |r| sum.add(r),
        )?;
        check_gradient_result(sum.value, sum.grad)
    })
}

/// The block-wise parallel gradient and HVP (input already checked):
/// [`gradient_hvp_with`]'s result, bit for bit, on `threads` threads.
pub(crate) fn parallel_gradient_hvp<O: Objective + Sync>(
    f: &O,
    x: &DVector<f64>,
    v: &DVector<f64>,
    threads: usize,
    backend: Backend,
) -> Result<(f64, DVector<f64>, DVector<f64>), EvalError> {
    let blocks = block_count(f)?;
    with_fallback(backend, backend.resolve_hvp(x.len()), |engine| {
        let mut sum = HvpSum::new(x.len());
        if let Some(ex) = f.exchange() {
            let (xs, vs) = (x.as_slice(), v.as_slice());
            let job = |b| block_gradient_hvp(f, b, xs, vs, engine);
            let own = own_on_threads(ex, blocks, threads, job, hvp_record);
            let blame = exchange_blocks(ex, &[xs, vs], blocks, 1 + 2 * x.len(), own, |_, r| {
                sum.add_record(r)
            })?;
            return check_hvp_result(sum.into_parts()).map_err(|e| blame.on(e));
        }
        reduce_in_order(
            blocks,
            threads,
            |b| block_gradient_hvp(f, b, x.as_slice(), v.as_slice(), engine),
            |r| sum.add(r),
        )?;
        check_hvp_result(sum.into_parts())
    })
}
