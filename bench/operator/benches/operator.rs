//! K = 50 Hessian-vector products at one point, four ways on our side and one on echidna's
//! (issue 25): `hvp` × 50 (f recorded afresh each time), `hessian_at` once and `apply` × 50,
//! `apply_many` on all 50 (8 vectors a pass), and echidna 0.15's `record` once and
//! `tape.hvp` × 50; and the gradient on the reverse tape beside f (the scalar tape's cost).
//! Every product is checked first: `apply` against `hvp` (≤ 1e-13 relative),
//! `apply_many`'s columns against `apply`'s (the same bits), echidna's against ours
//! (≤ 1e-10), the gradient against the operator's. Writes the point, the vectors, our products
//! and our gradient for `bench/peers/jax_operator.py` (JAX's `jax.linearize`, single and
//! vmapped, and its jit'd gradient), which `bash bench/run.sh --operator` runs next. The
//! review's digits MLP (batched layers) has no peer here: ours alone.
//!
//! ```text
//! cargo bench -p saddle-bench-operator --bench operator -- [--quick] [--out DIR] [--only NAME]
//! ```
//!
//! Median wall time of 5 repetitions of each whole measurement (3 in quick mode); the table
//! gives milliseconds for all 50 vectors and microseconds per vector.

use autodiff_objectives::{DualNum, Objective, gradient, hessian_at, hvp, matvec_add};
use nalgebra::{DMatrix, DVector};
use objective_zoo::{Loss, MlpShape, ReviewMlp, Rosenbrock, Trigonometric};
use saddle_bench_operator::{CLASSES, HIDDEN, INPUTS, SAMPLES, WEIGHTS, mlp, mlp_data};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

const K: usize = 50;

/// The bench MLP in its plain-loop form (no kernels): `saddle_bench_operator::mlp`, written
/// for our number types.
struct MlpLoops {
    inputs: Vec<f64>,
    labels: Vec<usize>,
}

impl Objective for MlpLoops {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, theta: &[D]) -> D {
        let (w1, rest) = theta.split_at(INPUTS * HIDDEN);
        let (b1, rest) = rest.split_at(HIDDEN);
        let (w2, b2) = rest.split_at(HIDDEN * CLASSES);
        let mut total = D::from(0.0);
        let mut hidden = vec![D::from(0.0); HIDDEN];
        let mut logits = vec![D::from(0.0); CLASSES];
        for (xi, &label) in self.inputs.chunks(INPUTS).zip(&self.labels) {
            for (j, h) in hidden.iter_mut().enumerate() {
                let mut z = b1[j];
                for (w, &x) in w1[j * INPUTS..(j + 1) * INPUTS].iter().zip(xi) {
                    z += *w * x;
                }
                *h = z.tanh();
            }
            for (c, l) in logits.iter_mut().enumerate() {
                let mut z = b2[c];
                for (w, h) in w2[c * HIDDEN..(c + 1) * HIDDEN].iter().zip(&hidden) {
                    z += *w * *h;
                }
                *l = z;
            }
            total += cross_entropy(&logits, label);
        }
        total / SAMPLES as f64
    }
    fn dim(&self) -> Option<usize> {
        Some(WEIGHTS)
    }
}

/// log Σ exp(zₖ − m) + m − z_label, m the largest logit's value (a constant shift).
fn cross_entropy<D: DualNum<Primitive = f64> + Copy>(logits: &[D], label: usize) -> D {
    let m = logits
        .iter()
        .map(|z| z.re())
        .fold(f64::NEG_INFINITY, f64::max);
    let mut s = D::from(0.0);
    for &z in logits {
        s += (z - m).exp();
    }
    s.ln() + m - logits[label]
}

/// The same network with both layers through the `matvec_add` kernel (one block each on the
/// reverse tapes).
struct MlpKernels(MlpLoops);

impl Objective for MlpKernels {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, theta: &[D]) -> D {
        let (w1, rest) = theta.split_at(INPUTS * HIDDEN);
        let (b1, rest) = rest.split_at(HIDDEN);
        let (w2, b2) = rest.split_at(HIDDEN * CLASSES);
        let mut total = D::from(0.0);
        let mut z = vec![D::from(0.0); HIDDEN];
        let mut hidden = vec![D::from(0.0); HIDDEN];
        let mut logits = vec![D::from(0.0); CLASSES];
        for (xi, &label) in self.0.inputs.chunks(INPUTS).zip(&self.0.labels) {
            z.copy_from_slice(b1);
            matvec_add(w1, xi, &mut z);
            for (h, &z) in hidden.iter_mut().zip(&z) {
                *h = z.tanh();
            }
            logits.copy_from_slice(b2);
            matvec_add(w2, &hidden, &mut logits);
            total += cross_entropy(&logits, label);
        }
        total / SAMPLES as f64
    }
    fn dim(&self) -> Option<usize> {
        Some(WEIGHTS)
    }
}

/// The median of `reps` wall times of `run`, in seconds.
fn median(reps: usize, mut run: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            run();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn write_f64(path: &Path, values: &[f64]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("the output folder is writable");
}

fn relative(got: &[f64], want: &[f64]) -> f64 {
    let num: f64 = got.iter().zip(want).map(|(a, b)| (a - b) * (a - b)).sum();
    let den: f64 = want.iter().map(|b| b * b).sum();
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}

/// A workload on echidna's number type.
type EchidnaF<'a> = dyn Fn(&[echidna::BReverse<f64>]) -> echidna::BReverse<f64> + 'a;

/// Times one workload; writes its files; returns its CSV lines.
fn measure<O: Objective>(
    name: &str,
    f: &O,
    echidna_f: Option<&EchidnaF<'_>>,
    x: &[f64],
    reps: usize,
    out: &Path,
) -> String {
    let d = x.len();
    let xd = DVector::from_column_slice(x);
    let vs = DMatrix::from_fn(d, K, |i, k| ((i * 31 + k * 17) % 97) as f64 / 48.0 - 1.0);
    let col = |k: usize| vs.column(k).into_owned();

    // The gradient on the reverse tape, first: before the other measurements have grown
    // and freed the allocator's heap.
    let t_grad = median(reps, || {
        for _ in 0..K {
            black_box(gradient(f, black_box(&xd)).ok());
        }
    }) / K as f64;
    // Values first.
    let h = hessian_at(f, &xd).expect("the benchmark point records");
    let many = h.apply_many(&vs).expect("finite");
    let tape = echidna_f.map(|ef| echidna::record(ef, x).0);
    for k in 0..K {
        let fresh = hvp(f, &xd, &col(k)).expect("finite");
        let one = h.apply(&col(k)).expect("finite");
        assert!(
            relative(one.as_slice(), fresh.as_slice()) <= 1e-13,
            "{name}: apply and hvp disagree at vector {k}"
        );
        assert!(
            many.column(k) == one.column(0),
            "{name}: apply_many's column {k} is not apply's"
        );
        if let Some(tape) = &tape {
            let (_, theirs) = tape.hvp(x, col(k).as_slice());
            let diff = relative(&theirs, one.as_slice());
            assert!(
                diff <= 1e-10,
                "{name}: echidna differs by {diff:e} at vector {k}"
            );
        }
    }
    let (_, g) = gradient(f, &xd).expect("finite");
    assert!(relative(g.as_slice(), h.gradient().as_slice()) <= 1e-13);
    write_f64(&out.join(format!("{name}.grad.f64")), g.as_slice());
    write_f64(&out.join(format!("{name}.x.f64")), x);
    write_f64(&out.join(format!("{name}.V.f64")), vs.as_slice());
    write_f64(&out.join(format!("{name}.rust.f64")), many.as_slice());

    let t_f = median(reps, || {
        for _ in 0..K {
            black_box(f.eval(black_box(x)));
        }
    }) / K as f64;
    let t_fresh = median(reps, || {
        for k in 0..K {
            black_box(hvp(f, &xd, &col(k)).ok());
        }
    });
    let t_record = median(reps, || {
        black_box(hessian_at(f, &xd).ok());
    });
    let t_apply = median(reps, || {
        for k in 0..K {
            black_box(h.apply(&col(k)).ok());
        }
    });
    let t_many = median(reps, || {
        black_box(h.apply_many(&vs).ok());
    });
    let ours = t_record + t_apply;
    let echidna = match (echidna_f, &tape) {
        (Some(ef), Some(tape)) => {
            let t_erecord = median(reps, || {
                black_box(echidna::record(ef, x));
            });
            let t_ehvp = median(reps, || {
                for k in 0..K {
                    black_box(tape.hvp(x, col(k).as_slice()));
                }
            });
            format!(
                "{:.2} + {:.2} | **{:.2}**",
                t_erecord * 1e3,
                t_ehvp * 1e3,
                ours / (t_erecord + t_ehvp)
            )
        }
        _ => "— | —".to_string(),
    };
    let us = |t: f64| t / K as f64 * 1e6;
    println!(
        "| {name} | {d} | {} | {:.2} | {:.2} + {:.2} | **{:.2}×** | {:.1} | {:.1} ({:.2}× f) | {:.1} ({:.2}× f) | {:.1} (**{:.2}**) | {echidna} |",
        h.stats().nodes,
        t_fresh * 1e3,
        t_record * 1e3,
        t_apply * 1e3,
        t_fresh / ours,
        t_f * 1e6,
        t_grad * 1e6,
        t_grad / t_f,
        us(t_apply),
        us(t_apply) / (t_f * 1e6),
        us(t_many),
        t_many / t_apply,
    );
    format!(
        "{name},f,{t_f:e}\n{name},gradient,{t_grad:e}\n{name},apply,{:e}\n{name},apply_many,{:e}\n{name},hvp,{:e}\n",
        t_apply / K as f64,
        t_many / K as f64,
        t_fresh / K as f64,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let quick = args.iter().any(|a| a == "--quick");
    let only = value_of("--only");
    let out = PathBuf::from(value_of("--out").unwrap_or_else(|| {
        format!(
            "{}/../../target/operator",
            std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into())
        )
    }));
    std::fs::create_dir_all(&out).expect("the output folder can be made");
    let reps = if quick { 3 } else { 5 };
    let dims: &[usize] = if quick {
        &[1_000]
    } else {
        &[1_000, 10_000, 100_000]
    };
    let wanted = |name: &str| only.as_deref().is_none_or(|o| name.starts_with(o));
    println!(
        "| workload | d | nodes kept | 50 × hvp (ms) | record + 50 × apply (ms) | speed-up | f (µs) | gradient (µs) | apply (µs) | apply_many(8) per vector (µs; / apply) | echidna record + 50 × tape.hvp (ms) | ours / echidna |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut csv = String::from("workload,op,seconds\n");
    for &d in dims {
        let x: Vec<f64> = (0..d).map(|i| 0.1 * (i % 10) as f64 - 0.45).collect();
        let name = format!("rosenbrock_{d}");
        if wanted(&name) {
            let f = Rosenbrock::new(d).expect("d ≥ 2");
            csv += &measure(
                &name,
                &f,
                Some(&|x| saddle_bench_operator::rosenbrock(x)),
                &x,
                reps,
                &out,
            );
        }
        let name = format!("trigonometric_{d}");
        if wanted(&name) {
            let f = Trigonometric::new(d).expect("d ≥ 1");
            csv += &measure(
                &name,
                &f,
                Some(&|x| saddle_bench_operator::trigonometric(x)),
                &x,
                reps,
                &out,
            );
        }
    }
    let (inputs, labels) = mlp_data();
    let theta: Vec<f64> = (0..WEIGHTS)
        .map(|k| 0.4 * (1.7 * k as f64 + 0.2).sin())
        .collect();
    let mut data = inputs.clone();
    data.extend(labels.iter().map(|&l| l as f64));
    write_f64(&out.join("mlp.data.f64"), &data);
    let loops = MlpLoops { inputs, labels };
    let echidna_mlp = |t: &[echidna::BReverse<f64>]| mlp(t, &loops.inputs, &loops.labels);
    if wanted("mlp_loops") {
        csv += &measure("mlp_loops", &loops, Some(&echidna_mlp), &theta, reps, &out);
    }
    let kernels = MlpKernels(MlpLoops {
        inputs: loops.inputs.clone(),
        labels: loops.labels.clone(),
    });
    if wanted("mlp_kernels") {
        csv += &measure(
            "mlp_kernels",
            &kernels,
            Some(&echidna_mlp),
            &theta,
            reps,
            &out,
        );
    }
    if wanted("review_mlp_digits") {
        // The review's digits network (64 → 32 sigmoid → 16 sigmoid → 10) on 256 images, as a
        // finite sum of batched layers (`dense_batch_add`); ours alone (no peer has it here).
        let shape = MlpShape::review_digits();
        let n = 256;
        let images: Vec<f64> = (0..n * shape.inputs)
            .map(|i| ((i * 37) % 17) as f64 / 16.0)
            .collect();
        let classes: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let net = ReviewMlp::new(shape, images, classes, Loss::CrossEntropy).expect("valid");
        let theta = shape.glorot_init(1);
        csv += &measure(
            "review_mlp_digits",
            &net,
            None,
            theta.as_slice(),
            reps,
            &out,
        );
    }
    std::fs::write(out.join("rust_operator.csv"), csv).expect("the output folder is writable");
    eprintln!(
        "(load average {}; files in {})",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split(' ')
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        out.display()
    );
}
