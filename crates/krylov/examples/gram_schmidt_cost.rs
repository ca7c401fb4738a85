//! What full reorthogonalization costs at large d: [`krylov::gram_schmidt`] of one vector
//! against m orthonormal basis vectors of dimension d (one Lanczos step's reorthogonalization
//! in the certifier), and the same step through the whole [`krylov::Lanczos`] recurrence on a
//! diagonal matrix. Milliseconds per call, best of 5, after checking that the result is
//! orthogonal to the basis.
//!
//! ```text
//! cargo run --release -p saddle-krylov --example gram_schmidt_cost [-- --quick]
//! ```

use krylov::{Lanczos, Reorthogonalization, gram_schmidt};
use nalgebra::DVector;
use std::time::Instant;

/// A deterministic pseudo-random vector in [−1, 1]^d.
fn vector(d: usize, seed: u64) -> DVector<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    DVector::from_fn(d, |_, _| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    })
}

fn best_ms(reps: usize, mut run: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> Result<(), String> {
    let quick = std::env::args().any(|a| a == "--quick");
    let cases: &[(usize, usize)] = if quick {
        &[(2_000, 20)]
    } else {
        &[(10_000, 140), (100_000, 70), (100_000, 140), (100_000, 280)]
    };
    println!("| d | m | basis (MB) | gram_schmidt (ms) | GB/s over the basis, one pass each way |");
    println!("|---:|---:|---:|---:|---:|");
    for &(d, m) in cases {
        // An orthonormal basis: Lanczos with full reorthogonalization on diag(1, 2, …, d).
        let diag = DVector::from_fn(d, |i, _| (i + 1) as f64);
        let start = vector(d, 1).normalize();
        let mut lz = Lanczos::new(start, Reorthogonalization::Full);
        for _ in 0..m {
            let hv = lz.current().component_mul(&diag);
            lz.step(hv, &mut || vector(d, 7).normalize());
        }
        let basis = lz.basis().to_vec();
        let w0 = vector(d, 2);
        let mut w = w0.clone();
        gram_schmidt(&mut w, &basis, &mut (0..basis.len()));
        let worst = basis
            .iter()
            .map(|q| q.dot(&w).abs())
            .fold(0.0_f64, f64::max);
        if worst > 1e-12 * w.norm() {
            return Err(format!(
                "d = {d}, m = {m}: |qᵀw| = {worst:e} after gram_schmidt"
            ));
        }
        let reps = if quick { 2 } else { 5 };
        let ms = best_ms(reps, || {
            let mut w = w0.clone();
            std::hint::black_box(gram_schmidt(&mut w, &basis, &mut (0..basis.len())));
        });
        let mb = (basis.len() * d * 8) as f64 / 1e6;
        println!(
            "| {d} | {} | {mb:.1} | {ms:.2} | {:.1} |",
            basis.len(),
            2.0 * mb / ms
        );
    }
    Ok(())
}
