//! The distributed finite sum over MPI against one process, bit for bit (issue 28): run under
//! `mpirun -np P` (scripts/distributed-check.sh does, for P = 1, 2, 3).
//!
//! ```text
//! mpirun --allow-run-as-root -np 2 target/release/distributed_check            # the check
//! mpirun --allow-run-as-root -np 2 target/release/distributed_check --bench 20 # timings
//! ```
//!
//! **The check.** The review MLP on the UCI digits' training set (1 437 images, 3 466
//! weights, 32 images per block: 45 blocks), wrapped in [`Distributed`] over MPI's world.
//! Every rank computes, distributed, and also alone (the same network without the wrapper, in
//! this process):
//! - the gradient and an HVP of the full training loss;
//! - a seeded PSGD run with dropout (mini-batches of 128: 4 blocks, spread over the ranks),
//!   every iterate's record;
//! - a seeded Lanczos certificate at PSGD's end point;
//!
//! with the ordered gather ([`Reduction::Gather`]) and with the ordered pipeline
//! ([`Reduction::Pipeline`]).
//!
//! It compares every number's bits, gathers every rank's verdict, and exits 0 only when every
//! rank found everything identical; rank 0 then prints one line saying so.
//!
//! **`--bench N [--block K] [--pipeline]`.** N full-batch gradients and N HVPs of the review MLP's loss over
//! all 1 797 digits (K = 128 images per block: 15 blocks), distributed only; rank 0 prints the
//! median time per call, the bytes rank 0 sent and received per call and the largest share of
//! a call any rank spent in the collective (moving data, and waiting for the slower rank).
//! Run it at 1 and 2 ranks to measure the scaling.

use autodiff_objectives::distributed::mpi::rsmpi::environment::Universe;
use autodiff_objectives::distributed::{CommStats, Distributed, Exchange, Reduction, mpi};
use autodiff_objectives::{Backend, FiniteSum, Objective, gradient_hvp_with, gradient_with};
use certify::{Certifier, Method};
use objective_zoo::{Loss, MlpShape, ReviewMlp};
use pgd_core::{IterRecord, Psgd, StochasticOptimizer};
use std::error::Error;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

const PSGD_STEPS: usize = 40;

/// The review MLP on the digits' training split, or on all 1 797 digits.
fn review_mlp(terms_per_block: usize, all: bool) -> Result<ReviewMlp, Box<dyn Error>> {
    let images = if all {
        saddle_datasets::digits::load()?
    } else {
        saddle_datasets::digits::train_test()?.train
    };
    let images = &images;
    Ok(ReviewMlp::new(
        MlpShape::review_digits(),
        images.scaled_rows(),
        images.labels().to_vec(),
        Loss::CrossEntropy,
    )?
    .block_terms(terms_per_block)?)
}

/// Every number of the results, as text that differs when a bit differs (`Debug` prints the
/// shortest digits that round-trip).
struct Results {
    gradient: String,
    hvp: String,
    psgd: String,
    certificate: String,
}

/// The four results on `f`, whose dropout masks follow `net`'s step.
fn results<F: FiniteSum>(f: &F, net: &ReviewMlp) -> Result<Results, Box<dyn Error>> {
    let shape = MlpShape::review_digits();
    let x = shape.glorot_init(1);
    let v = shape.glorot_init(2);
    net.set_step(0);
    let (fx, g) = gradient_with(f, &x, Backend::Reverse)?;
    let (_, _, hv) = gradient_hvp_with(f, &x, &v, Backend::Reverse)?;
    let mut masks = |r: &IterRecord| {
        net.set_step(r.iteration as u64 + 1);
        ControlFlow::Continue(())
    };
    let mut out = Psgd::new(0.1, 0.01)?
        .batch_size(128)?
        .seed(17)
        .max_iters(PSGD_STEPS)
        .minimize_stochastic_observed(f, &x, &mut masks)?;
    net.set_step(0);
    let mut cert = Certifier::new(1e-2, 1.0)
        .method(Method::Lanczos)
        .seed(23)
        .budget(40)
        .without_third_order()
        .certify(f, &out.x)?;
    out.elapsed = Duration::ZERO;
    cert.elapsed = Duration::ZERO;
    Ok(Results {
        gradient: format!("{fx:?} {:?}", g.as_slice()),
        hvp: format!("{:?}", hv.as_slice()),
        psgd: format!("{out:?}"),
        certificate: format!("{cert:?}"),
    })
}

fn check(universe: &Universe) -> Result<bool, Box<dyn Error>> {
    let alone_net = review_mlp(32, false)?.dropout(0.25, 5)?;
    let alone = results(&alone_net, &alone_net)?;
    let mut ok = true;
    // The ordered gather, then the ordered pipeline: the same bits.
    let spread_with = |reduction| -> Result<_, Box<dyn Error>> {
        let world = mpi::MpiExchange::new(universe.world());
        let f =
            Distributed::new(review_mlp(32, false)?.dropout(0.25, 5)?, world)?.reduction(reduction);
        let spread = results(&f, f.inner())?;
        Ok((f, spread))
    };
    let (_, piped) = spread_with(Reduction::Pipeline)?;
    let (f, spread) = spread_with(Reduction::Gather)?;
    for (how, spread) in [("gathered", &spread), ("pipelined", &piped)] {
        let items = [
            ("gradient", &alone.gradient, &spread.gradient),
            ("HVP", &alone.hvp, &spread.hvp),
            ("PSGD trace", &alone.psgd, &spread.psgd),
            (
                "Lanczos certificate",
                &alone.certificate,
                &spread.certificate,
            ),
        ];
        for (what, a, b) in items {
            if a != b {
                ok = false;
                eprintln!(
                    "rank {}: the distributed ({how}) {what} differs from one process's",
                    f.rank()
                );
            }
        }
    }
    // Every rank's verdict, to every rank.
    let ranks = f.ranks();
    let mut verdicts = Vec::new();
    f.exchange_ref()
        .all_gather(&[f64::from(u8::from(ok))], &vec![1; ranks], &mut verdicts);
    let all_ok = verdicts.iter().all(|&v| v > 0.5);
    if f.is_root() && all_ok {
        let s = f.comm_stats();
        println!(
            "distributed check passed: {ranks} rank(s), {} blocks, {} weights — the gradient, an HVP, a {PSGD_STEPS}-step PSGD trace and a Lanczos certificate, by the ordered gather and by the ordered pipeline, are identical to one process's, bit for bit, on every rank (gather: {} collectives, {:.1} MB sent by rank 0)",
            f.blocks(),
            MlpShape::review_digits().n_params(),
            s.collectives,
            s.bytes_sent as f64 / 1e6
        );
    }
    Ok(all_ok)
}

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// N timed calls: (median seconds, the collectives' stats over them).
fn timed(
    calls: usize,
    stats: impl Fn() -> CommStats,
    mut call: impl FnMut() -> Result<(), Box<dyn Error>>,
) -> Result<(f64, CommStats), Box<dyn Error>> {
    call()?; // warm-up
    let before = stats();
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let clock = Instant::now();
        call()?;
        times.push(clock.elapsed().as_secs_f64());
    }
    let after = stats();
    let per = |a: u64, b: u64| (a - b) / calls as u64;
    Ok((
        median(times),
        CommStats {
            collectives: per(after.collectives, before.collectives),
            messages: per(after.messages, before.messages),
            bytes_sent: per(after.bytes_sent, before.bytes_sent),
            bytes_received: per(after.bytes_received, before.bytes_received),
            seconds: (after.seconds - before.seconds) / calls as f64,
        },
    ))
}

fn bench(
    world: mpi::MpiExchange,
    calls: usize,
    block: usize,
    reduction: Reduction,
) -> Result<(), Box<dyn Error>> {
    let f = Distributed::new(review_mlp(block, true)?, world)?.reduction(reduction);
    let shape = MlpShape::review_digits();
    let (x, v) = (shape.glorot_init(1), shape.glorot_init(2));
    let stats = || f.comm_stats();
    let (tg, sg) = timed(calls, stats, || {
        gradient_with(&f, &x, Backend::Reverse).map(|_| ())?;
        Ok(())
    })?;
    let (th, sh) = timed(calls, stats, || {
        gradient_hvp_with(&f, &x, &v, Backend::Reverse).map(|_| ())?;
        Ok(())
    })?;
    // At one rank, the same calls without the wrapper: what distributing costs by itself.
    let alone = if f.ranks() == 1 {
        let g = f.inner();
        let none = CommStats::default;
        let (tg, _) = timed(calls, none, || {
            gradient_with(g, &x, Backend::Reverse).map(|_| ())?;
            Ok(())
        })?;
        let (th, _) = timed(calls, none, || {
            gradient_hvp_with(g, &x, &v, Backend::Reverse).map(|_| ())?;
            Ok(())
        })?;
        format!(
            " (without the wrapper: {:.3} ms, {:.3} ms)",
            tg * 1e3,
            th * 1e3
        )
    } else {
        String::new()
    };
    // Every rank's share of time in the collective, to rank 0.
    let ranks = f.ranks();
    let mut shares = Vec::new();
    f.exchange_ref().all_gather(
        &[sg.seconds / tg, sh.seconds / th],
        &vec![2; ranks],
        &mut shares,
    );
    if f.is_root() {
        let max = |k: usize| {
            (0..ranks)
                .map(|r| shares[2 * r + k])
                .fold(0.0_f64, f64::max)
        };
        println!(
            "ranks {ranks} ({reduction:?}): all {} digits, blocks {} of {block} (owned by rank 0: {}); median of {calls}: gradient {:.3} ms, gradient+HVP {:.3} ms{alone}; per call rank 0 sent {} B and received {} B (gradient), {} B / {} B (HVP); time in the collective: up to {:.1} % (gradient), {:.1} % (HVP) of a call",
            f.n_terms(),
            f.blocks(),
            f.owned_blocks().len(),
            tg * 1e3,
            th * 1e3,
            sg.bytes_sent,
            sg.bytes_received,
            sh.bytes_sent,
            sh.bytes_received,
            100.0 * max(0),
            100.0 * max(1),
        );
    }
    Ok(())
}

fn run() -> Result<bool, Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (universe, world) = mpi::initialize().ok_or("MPI was initialized before")?;
    let number = |flag: &str, default: usize| -> Result<usize, String> {
        match args.iter().position(|a| a == flag).map(|i| args.get(i + 1)) {
            None => Ok(default),
            Some(Some(n)) => n
                .parse::<usize>()
                .map(|n| n.max(1))
                .map_err(|_| format!("{flag} takes a count, got {n:?}")),
            Some(None) => Err(format!("{flag} takes a count")),
        }
    };
    let known = ["--bench", "--block", "--pipeline", "--quick"];
    if let Some(a) = args
        .iter()
        .find(|a| a.starts_with("--") && !known.contains(&a.as_str()))
    {
        return Err(format!(
            "unknown argument {a:?} (--bench N [--block K] [--pipeline], --quick)"
        )
        .into());
    }
    if args.iter().any(|a| a == "--bench") {
        let reduction = if args.iter().any(|a| a == "--pipeline") {
            Reduction::Pipeline
        } else {
            Reduction::Gather
        };
        bench(
            world,
            number("--bench", 20)?,
            number("--block", 128)?,
            reduction,
        )?;
        Ok(true)
    } else {
        drop(world);
        check(&universe)
    }
}

fn main() {
    match run() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("distributed_check: {e}");
            std::process::exit(2);
        }
    }
}
