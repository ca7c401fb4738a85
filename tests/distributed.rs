//! SPMD above the oracle: the optimizers, the certifier and the certified driver run unchanged
//! on a distributed finite sum (ranks as threads, `distributed::in_process`), and every rank
//! ends with one process's outcome and certificate, bit for bit, for 1, 2 and 3 ranks.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use autodiff_objectives::distributed::{Distributed, Reduction, in_process};
use autodiff_objectives::{FiniteSum, Objective};
use certify::{Certificate, Certifier, Method};
use nalgebra::DVector;
use objective_zoo::{Loss, MlpShape, ReviewMlp};
use pgd_core::{IterRecord, Optimizer, Outcome, Pgd, PgdParams, Psgd, StochasticOptimizer};
use saddle_escape::prelude::*;
use std::ops::ControlFlow;
use std::time::Duration;

const SHAPE: MlpShape = MlpShape {
    inputs: 6,
    hidden: 8,
    bottleneck: 4,
    classes: 3,
};

mod common;

/// 90 samples in three noisy clusters; 8 samples per block: 12 blocks.
fn net() -> ReviewMlp {
    let (x, y) = common::clusters(90, 99);
    ReviewMlp::new(SHAPE, x, y, Loss::CrossEntropy)
        .unwrap()
        .block_terms(8)
        .unwrap()
}

/// Every number of an outcome (its wall time aside), exactly: `Debug` prints shortest
/// round-trip digits.
fn exact_outcome(mut o: Outcome) -> String {
    o.elapsed = Duration::ZERO;
    format!("{o:?}")
}

fn exact_certificate(mut c: Certificate) -> String {
    c.elapsed = Duration::ZERO;
    format!("{c:?}")
}

/// A seeded PSGD run with per-step dropout masks (mini-batches of 32: 4 blocks each), then a
/// seeded Lanczos certificate at its end point.
fn psgd_and_certificate<F: FiniteSum>(f: &F, net: &ReviewMlp) -> (String, String) {
    net.set_step(0);
    let mut masks = |r: &IterRecord| {
        net.set_step(r.iteration as u64 + 1);
        ControlFlow::Continue(())
    };
    let out = Psgd::new(0.5, 0.05)
        .unwrap()
        .batch_size(32)
        .unwrap()
        .seed(11)
        .max_iters(60)
        .minimize_stochastic_observed(f, &SHAPE.glorot_init(4), &mut masks)
        .unwrap();
    let cert = Certifier::new(1e-1, 1.0)
        .method(Method::Lanczos)
        .seed(5)
        .certify(f, &out.x)
        .unwrap();
    (exact_outcome(out), exact_certificate(cert))
}

#[test]
fn psgd_and_the_lanczos_certificate_give_every_rank_one_process_bits() {
    let one_net = net().dropout(0.25, 3).unwrap();
    let one = psgd_and_certificate(&one_net, &one_net);
    assert!(one.1.contains("Lanczos"), "{}", one.1);
    for (ranks, reduction) in [
        (1, Reduction::Gather),
        (2, Reduction::Gather),
        (3, Reduction::Gather),
        (3, Reduction::Pipeline),
    ] {
        let each = in_process::run(ranks, |ex| {
            let f = Distributed::new(net().dropout(0.25, 3).unwrap(), ex)
                .unwrap()
                .reduction(reduction);
            let r = psgd_and_certificate(&f, f.inner());
            (r, f.comm_stats().collectives)
        });
        for (rank, (got, collectives)) in each.into_iter().enumerate() {
            assert_eq!(got, one, "{reduction:?}, {ranks} ranks, rank {rank}");
            assert!(
                ranks == 1 || collectives > 60,
                "the mini-batches went through the exchange"
            );
        }
    }
}

/// PGD (full gradients; a perturbation when the gradient is small) and the certified driver
/// around it, whose certificates and escapes use HVPs and the record-once operator.
fn pgd_and_driver<O: Objective>(f: &O) -> (String, String) {
    let x0 = SHAPE.glorot_init(2) * 0.01;
    let params = PgdParams::practical(1.0, 1e-2, 1e-2, 1e-3, 20).unwrap();
    let pgd = Pgd::new(params).seed(3).max_iters(200);
    let out = pgd.minimize(f, &x0).unwrap();
    let run = CertifiedDriver::new(pgd, 1e-2, 1.0)
        .certifier_with(|c| c.method(Method::Lanczos).seed(9))
        .max_rounds(3)
        .run(f, &x0)
        .unwrap();
    let mut run_numbers = run.clone();
    run_numbers.outcome.elapsed = Duration::ZERO;
    run_numbers.certificate.elapsed = Duration::ZERO;
    (exact_outcome(out), format!("{run_numbers:?}"))
}

#[test]
fn pgd_and_the_certified_driver_give_every_rank_one_process_bits() {
    let one = pgd_and_driver(&net());
    for ranks in [2, 3] {
        let each = in_process::run(ranks, |ex| {
            let f = Distributed::new(net(), ex).unwrap();
            pgd_and_driver(&f)
        });
        for (rank, got) in each.into_iter().enumerate() {
            assert_eq!(got, one, "{ranks} ranks, rank {rank}");
        }
    }
}

#[test]
fn the_distributed_gradient_is_the_networks_own() {
    // Not only the same on every rank: the same as the network without the wrapper.
    let f = net();
    let x = SHAPE.glorot_init(8);
    let one = autodiff_objectives::gradient(&f, &x).unwrap();
    let each = in_process::run(2, |ex| {
        let g = Distributed::new(net(), ex).unwrap();
        autodiff_objectives::gradient(&g, &x).unwrap()
    });
    let v: Vec<(f64, DVector<f64>)> = each;
    assert!(
        v.iter()
            .all(|r| r.0.to_bits() == one.0.to_bits() && r.1 == one.1)
    );
}

/// Trust-region Newton–CG (its subproblems on the record-once operator) and the bottom
/// eigenpairs by `EigenSolver`, at its result.
fn trust_region_and_spectrum<O: Objective>(f: &O) -> (String, String) {
    let tr = TrustRegion::new(TrustRegionParams::default())
        .unwrap()
        .max_iters(15);
    let mut out = tr.minimize(f, &SHAPE.glorot_init(6)).unwrap();
    let pairs = certify::EigenSolver::smallest(3)
        .seed(13)
        .compute(f, &out.x)
        .unwrap();
    out.elapsed = Duration::ZERO;
    (format!("{out:?}"), format!("{pairs:?}"))
}

#[test]
fn trust_region_and_the_eigensolver_give_every_rank_one_process_bits() {
    let one = trust_region_and_spectrum(&net());
    let each = in_process::run(3, |ex| {
        let f = Distributed::new(net(), ex)
            .unwrap()
            .reduction(Reduction::Pipeline);
        trust_region_and_spectrum(&f)
    });
    for (rank, got) in each.into_iter().enumerate() {
        assert_eq!(got, one, "rank {rank}");
    }
}
