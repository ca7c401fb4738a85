//! Perturbed gradient descent and Lanczos certification at d = 10⁵ unknowns.
//!
//! Low-rank symmetric matrix factorization with a low-rank target, f(U) = ½‖UUᵀ − VVᵀ‖²_F for
//! U, V ∈ ℝ^{n×r} (n = 25 000, r = 4: 100 000 unknowns). The n×n matrices are never formed:
//! ‖UUᵀ − VVᵀ‖²_F = ‖UᵀU‖²_F − 2‖UᵀV‖²_F + ‖VᵀV‖²_F needs only r×r Gram matrices, O(nr²) work,
//! written once as a plain generic function of the number type. Every derivative below comes
//! from that one function: gradients for PGD and Hessian-vector products for the certifier, by
//! reverse mode (which `Backend::Auto` picks at this size: one recording and one backward sweep
//! per gradient, where forward mode would need ⌈d/8⌉ = 12 500 passes of f).
//!
//! U = 0 is a strict saddle (∇f = 0, λ_min = −2σ₁ with σ₁ the largest eigenvalue of VVᵀ, the
//! same as of the r×r matrix VᵀV): gradient descent cannot leave it. PGD does, and reaches the
//! global minimum UUᵀ = VVᵀ; the certifier refutes the start (Lanczos finds −2σ₁) and certifies
//! the end. The program checks each of these claims against the closed form and exits with an
//! error if one fails; it prints the wall time of every stage.
//!
//! ```text
//! cargo run --release -p saddle-experiments --bin large_scale                 # n = 25 000, r = 4: d = 10⁵
//! cargo run --release -p saddle-experiments --bin large_scale -- forward      # also time one forward-mode gradient
//! cargo run -p saddle-experiments --bin large_scale -- --quick                # n = 250: d = 10³ (CI)
//! ```

use saddle_experiments as support;

use autodiff_objectives::{Backend, gradient, gradient_hvp_with, gradient_with, value};
use certify::{Certifier, Method};
use nalgebra::{DMatrix, DVector};
use pgd_core::{GradientDescent, Optimizer, Pgd, PgdParams};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::error::Error;
use std::time::{Duration, Instant};
use support::low_rank::LowRankFactorization;
use support::{Args, median, progress, ticker};

/// Median wall time of `reps` calls after one warm-up call.
fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> Duration {
    std::hint::black_box(f());
    let secs: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    Duration::from_secs_f64(median(&secs))
}

fn ms(t: Duration) -> String {
    format!("{:.2} ms", t.as_secs_f64() * 1e3)
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse()?;
    let time_forward = args.rest.iter().any(|a| a == "forward");
    let (n, r) = if args.quick { (250, 4) } else { (25_000, 4) };
    let d = n * r;
    // V with independent entries of variance s_k/n in column k (uniform on ±√(3s_k/n)), so
    // VᵀV ≈ diag(4, 3, 2, 1): well separated, O(1) curvature whatever n.
    let scales = [4.0, 3.0, 2.0, 1.0];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2017);
    let v = DMatrix::from_fn(n, r, |_, k| {
        let half_width = (3.0 * scales[k] / n as f64).sqrt();
        rng.random_range(-half_width..=half_width)
    });
    let f = LowRankFactorization::new(v);
    let sigma = (f.target_factor().transpose() * f.target_factor()).symmetric_eigenvalues();
    let sigma_max = sigma.max();
    let sigma_min = sigma.min();
    println!(
        "f(U) = ½‖UUᵀ − VVᵀ‖²_F, n = {n}, r = {r}: d = {d} unknowns; nonzero eigenvalues of VVᵀ in [{sigma_min:.4}, {sigma_max:.4}]"
    );

    // The derivatives against the closed form, and their cost.
    let x = DVector::from_fn(d, |i, _| 0.01 * ((i % 17) as f64 - 8.0) / (n as f64).sqrt());
    let dir = DVector::from_fn(d, |i, _| ((i % 3) as f64 - 1.0) / (n as f64).sqrt());
    let (_, g) = gradient(&f, &x)?;
    let g_closed = f.closed_gradient(&x);
    let g_err = (&g - &g_closed).amax() / g_closed.amax();
    let (_, _, hv) = gradient_hvp_with(&f, &x, &dir, Backend::Auto)?;
    // ∇²f·v by a central difference of the closed-form gradient (f is quartic: the error is
    // O(h²) with a small constant).
    let h = 1e-4;
    let hv_fd =
        (f.closed_gradient(&(&x + &dir * h)) - f.closed_gradient(&(&x - &dir * h))) / (2.0 * h);
    let hv_err = (&hv - &hv_fd).amax() / hv_fd.amax();
    println!(
        "gradient vs closed form: max relative error {g_err:.1e}; HVP vs central difference: {hv_err:.1e}"
    );
    if !(g_err < 1e-10 && hv_err < 1e-6) {
        return Err("automatic derivatives disagree with the closed form".into());
    }
    let reps = if args.quick { 3 } else { 11 };
    let t_f = time(reps, || value(&f, &x));
    let t_g = time(reps, || gradient_with(&f, &x, Backend::Auto));
    let t_hv = time(reps, || gradient_hvp_with(&f, &x, &dir, Backend::Auto));
    println!(
        "one evaluation: f {} | ∇f {} ({:.1}× f) | ∇f and ∇²f·v {} ({:.1}× f)   [Backend::Auto = {:?} here]",
        ms(t_f),
        ms(t_g),
        t_g.as_secs_f64() / t_f.as_secs_f64(),
        ms(t_hv),
        t_hv.as_secs_f64() / t_f.as_secs_f64(),
        Backend::Auto.resolve(d)
    );
    if time_forward {
        let t = Instant::now();
        gradient_with(&f, &x, Backend::Forward)?;
        println!(
            "one forward-mode gradient ({} passes of f): {}",
            d.div_ceil(autodiff_objectives::forward::CHUNK),
            ms(t.elapsed())
        );
    }

    // U = 0: a strict saddle, where gradient descent has nothing to follow.
    let x0 = DVector::zeros(d);
    let eta = 0.05;
    let gd = GradientDescent::new(eta, 1e-6)?
        .max_iters(100)
        .minimize(&f, &x0)?;
    println!(
        "\ngradient descent from U = 0: {} iterations, ‖U‖ = {} ({})",
        gd.iterations,
        gd.x.norm(),
        gd.termination
    );
    if gd.x.norm() > 0.0 {
        return Err("gradient descent was expected to stay at U = 0".into());
    }

    // Certify the start: Lanczos must find λ_min = −2σ₁.
    let (eps, rho) = (1e-6, 100.0);
    let certifier = Certifier::new(eps, rho).method(Method::Lanczos);
    let t = Instant::now();
    let start = certifier.certify(&f, &x0)?;
    println!(
        "certificate at U = 0 ({}): {} — λ_min = {:.6} (closed form −2σ₁ = {:.6}), {} HVPs",
        ms(t.elapsed()),
        start.verdict.describe(),
        start.lambda_min,
        -2.0 * sigma_max,
        start.evaluations.hvp
    );
    if start.is_second_order_stationary() || (start.lambda_min + 2.0 * sigma_max).abs() > 1e-6 {
        return Err("the certificate at U = 0 was expected to refute it with λ_min = −2σ₁".into());
    }

    // PGD: step η = 0.05 (ℓ ≈ 4σ₁ near the solution), radius 10⁻³, stop at ‖∇f‖ ≤ ε.
    let params = PgdParams::practical(eta, 1e-3, eps, 1e-10, 400)?;
    let bar = progress(1, args.quick);
    let mut tick = ticker(&bar, "PGD".into(), 50);
    let t = Instant::now();
    let out = Pgd::new(params)
        .seed(1)
        .max_iters(20_000)
        .minimize_observed(&f, &x0, &mut tick)?;
    let t_pgd = t.elapsed();
    bar.finish_and_clear();
    let u = DMatrix::from_column_slice(n, r, out.x.as_slice());
    let vf = f.target_factor();
    // ‖UUᵀ − VVᵀ‖_F/‖VVᵀ‖_F without forming n×n matrices and without the cancellation of
    // the Gram identity: with [U V] = QR (n×2r), UUᵀ − VVᵀ = Q·R·diag(I, −I)·Rᵀ·Qᵀ.
    let rel = {
        let mut w = u.clone().resize_horizontally(2 * r, 0.0);
        w.columns_mut(r, r).copy_from(&vf);
        let rr = w.qr().r();
        // R·diag(I, −I): the last r columns negated.
        let mut rs = rr.clone();
        rs.columns_mut(r, r).neg_mut();
        (&rs * rr.transpose()).norm() / f.vtv_norm2.sqrt()
    };
    println!(
        "PGD from U = 0 ({:.2} s): {} iterations, {} gradient evaluations ({} per gradient), f = {:.3e}, ‖∇f‖ = {:.3e}, {} perturbation(s) ({})",
        t_pgd.as_secs_f64(),
        out.iterations,
        out.evals.gradient,
        ms(t_pgd / out.evals.gradient.max(1) as u32),
        out.value,
        out.grad_norm,
        out.perturbations.len(),
        out.termination
    );
    println!(
        "relative error ‖UUᵀ − VVᵀ‖_F/‖VVᵀ‖_F = {rel:.2e}; ‖UᵀU‖ vs ‖VᵀV‖: {:.6} vs {:.6}",
        (u.transpose() * &u).norm(),
        (vf.transpose() * &vf).norm()
    );
    if !(out.converged() && rel < 1e-8) {
        return Err("PGD was expected to reach the global minimum UUᵀ = VVᵀ".into());
    }

    // Certify the end: an ε-SOSP (λ_min = 0 exactly in exact arithmetic: U ↦ UO for
    // orthogonal O leaves f unchanged, r(r−1)/2 = 6 flat directions).
    let t = Instant::now();
    let end = certifier.certify(&f, &out.x)?;
    let t_end = t.elapsed();
    println!("\n{end}");
    println!(
        "certification of the result: {}, {} HVPs ({} each)",
        ms(t_end),
        end.evaluations.hvp,
        ms(t_end / end.evaluations.hvp.max(1) as u32)
    );
    if !end.is_second_order_stationary() {
        return Err("the PGD result was expected to be certified an ε-SOSP".into());
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
