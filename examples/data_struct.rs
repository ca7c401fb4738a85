//! An objective that carries data: your own struct implementing `Objective`.
//!
//! The leading principal component of a data set as the minimizer of
//!
//! f(w) = −½ wᵀΣw + ¼‖w‖⁴,  Σ = (1/m) Σᵢ xᵢxᵢᵀ (the sample second-moment matrix),
//!
//! computed from the samples the struct holds (never forming Σ). ∇f = −Σw + ‖w‖²w, so the
//! critical points are 0 and ±√λⱼ vⱼ for each eigenpair (λⱼ, vⱼ) of Σ; all are strict saddles
//! except ±√λ₁ v₁ (the minima, f* = −λ₁²/4). Started at w = 0 or at the second component,
//! gradient descent stays put; perturbed gradient descent finds the first component, and the
//! certificate confirms it.
//!
//! ```text
//! cargo run --release --example data_struct
//! cargo run --example data_struct -- --quick
//! ```

use saddle_escape::autodiff_objectives::seeded::SplitMix64;
use saddle_escape::autodiff_objectives::{DualNum, Objective};
use saddle_escape::certify::Certifier;
use saddle_escape::nalgebra::{DMatrix, DVector};
use saddle_escape::pgd_core::{GradientDescent, Optimizer, Pgd, PgdParams};
use std::error::Error;

/// The data: m samples in ℝᵖ, one per row.
#[derive(Debug, Clone)]
struct LeadingComponent {
    samples: DMatrix<f64>,
}

impl Objective for LeadingComponent {
    /// Generic over the number type, so exact gradients, Hessian-vector products and Hessians
    /// all come from this one function. The data are plain `f64`s mixed in with `* x`.
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, w: &[D]) -> D {
        let m = self.samples.nrows() as f64;
        let mut quad = D::from(0.0);
        for row in self.samples.row_iter() {
            let mut proj = D::from(0.0);
            for (x, &wk) in row.iter().zip(w) {
                proj += wk * *x;
            }
            quad += proj * proj;
        }
        let mut norm2 = D::from(0.0);
        for &wk in w {
            norm2 += wk * wk;
        }
        -quad * (0.5 / m) + norm2 * norm2 * 0.25
    }
    fn dim(&self) -> Option<usize> {
        Some(self.samples.ncols())
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (p, m) = if quick { (5, 200) } else { (20, 2_000) };
    // Samples with independent coordinates of standard deviations 2, 1.5, 1, 1, …, rotated by
    // nothing: the components are the coordinate axes, λ ≈ 4, 2.25, 1, …
    let mut rng = SplitMix64::new(11);
    let scales: Vec<f64> = (0..p)
        .map(|j| match j {
            0 => 2.0,
            1 => 1.5,
            _ => 1.0,
        })
        .collect();
    let samples = DMatrix::from_fn(m, p, |_, j| scales[j] * rng.normal());
    let f = LeadingComponent { samples };

    // The reference answer from a dense eigendecomposition of Σ.
    let sigma = f.samples.transpose() * &f.samples / m as f64;
    let eig = sigma.clone().symmetric_eigen();
    let mut order: Vec<usize> = (0..p).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let (l1, l2) = (eig.eigenvalues[order[0]], eig.eigenvalues[order[1]]);
    let v1: DVector<f64> = eig.eigenvectors.column(order[0]).into();
    let v2: DVector<f64> = eig.eigenvectors.column(order[1]).into();
    println!("{m} samples in ℝ^{p}; top eigenvalues of Σ: λ₁ = {l1:.4}, λ₂ = {l2:.4}");

    let params = PgdParams::practical(0.05, 1e-2, 1e-6, 1e-7, 400)?;
    let starts = [
        ("w = 0", DVector::zeros(p)),
        ("w = √λ₂ v₂", &v2 * l2.sqrt()),
    ];
    for (name, x0) in starts {
        let gd = GradientDescent::new(0.05, 1e-10)?
            .max_iters(5_000)
            .minimize(&f, &x0)?;
        let out = Pgd::new(params)
            .seed(1)
            .max_iters(100_000)
            .minimize(&f, &x0)?;
        let align = out.x.normalize().dot(&v1).abs();
        println!(
            "\nfrom {name}: GD f = {:.6} (|w| = {:.4}) after {} iterations; PGD f = {:.6} after {} iterations, {} perturbations, |cos(w, v₁)| = {align:.9}, ‖w‖² = {:.6} (λ₁ = {l1:.6})",
            gd.value,
            gd.x.norm(),
            gd.iterations,
            out.value,
            out.iterations,
            out.perturbations.len(),
            out.x.norm_squared()
        );
        if !(align > 1.0 - 1e-6 && (out.x.norm_squared() - l1).abs() < 1e-4) {
            return Err(format!("from {name}: PGD was expected to find ±√λ₁ v₁").into());
        }
        let cert = Certifier::new(1e-4, 6.0).certify(&f, &out.x)?;
        println!("{cert}");
        if !cert.is_second_order_stationary() {
            return Err("the PGD point was expected to be certified".into());
        }
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
