//! Our side of the side-by-side benchmark against JAX and PyTorch (`bash bench/run.sh`, see
//! `docs/benchmarks.md`, section "Side by side with JAX and PyTorch").
//!
//! For every workload it writes the inputs (point, direction and, for the MLP, the data set) as
//! raw little-endian `f64` files into the output folder, computes f, ∇f and ∇²f·v with the
//! checked public drivers (`gradient_with`, `gradient_hvp_with`, reverse mode), writes those
//! values next to the inputs so the peers' values can be compared with them, and times f on
//! `f64`, the gradient and the HVP (median of several batches). The peers (`bench/peers/*.py`)
//! read the same files, so weights, data and points are identical on every side.
//!
//! ```text
//! cargo bench -p autodiff-objectives --bench peers -- --out DIR          # all workloads
//! cargo bench -p autodiff-objectives --bench peers -- --out DIR --quick  # CI smoke: small, short
//! cargo bench -p autodiff-objectives --bench peers -- --out DIR --only mlp
//! cargo bench -p autodiff-objectives --bench peers -- --out DIR --values-only  # no timing
//! cargo bench -p autodiff-objectives --bench peers -- profile mlp grad   # 20 calls, for callgrind
//! cargo bench -p autodiff-objectives --bench peers -- profile rosen grad --dim 1000000 --calls 1
//! cargo bench -p autodiff-objectives --bench peers -- profile par 2 --dim 10000 --calls 20
//! cargo bench -p autodiff-objectives --bench peers -- profile review grad --dim 4 --calls 1
//! cargo bench -p autodiff-objectives --bench peers -- parallel  # finite-sum gradient, 1 vs 2 threads
//! cargo bench -p autodiff-objectives --bench peers -- bandwidth # this core's memory bandwidth
//! ```
//!
//! Files per workload `W` (each a flat array of `f64`): `W.x.f64`, `W.v.f64`, `W.data.f64`
//! (the networks only: inputs row-major, then labels), and our values `W.rust.f64` =
//! [f, ∇f…, ∇²f·v…].
//! Timings go to `rust.csv` (`workload,op,seconds`).

use autodiff_objectives::{
    Backend, DualNum, Objective, gradient_hvp_with, gradient_with, matvec_add, objective,
};
use nalgebra::DVector;
use objective_zoo::{rosenbrock, trigonometric};
mod common;

use common::time;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The MLP's shape: `INPUTS` features, one tanh layer of `HIDDEN` units, `CLASSES` logits,
/// `SAMPLES` samples; 32·48 + 48 + 48·10 + 10 = 2 074 weights. The same constants are in
/// `bench/peers/common.py`.
const INPUTS: usize = 32;
const HIDDEN: usize = 48;
const CLASSES: usize = 10;
const SAMPLES: usize = 256;
const WEIGHTS: usize = INPUTS * HIDDEN + HIDDEN + HIDDEN * CLASSES + CLASSES;

/// A softmax cross-entropy loss of a one-hidden-layer tanh MLP, written as a user would write it:
/// a plain generic function of the weights θ = (W₁ row-major, b₁, W₂ row-major, b₂), with the
/// data as `f64`. Mean over the samples of log Σₖ exp(zₖ − m) + m − z_y, m = max_k zₖ (a
/// constant shift for stability: it changes no derivative). Both dense layers go through the
/// optional [`matvec_add`] kernel from the bias (W·x accumulated onto b: the same value as the
/// loop `s = b; s += w·x` for every number type, one block on the reverse tape).
struct Mlp {
    /// SAMPLES × INPUTS, row-major.
    inputs: Vec<f64>,
    labels: Vec<usize>,
}

impl Mlp {
    /// A deterministic data set: features sin(0.37·(i·p + k) + 0.1), labels (7i + 3) mod 10.
    fn new() -> Self {
        let inputs = (0..SAMPLES * INPUTS)
            .map(|n| (0.37 * n as f64 + 0.1).sin())
            .collect();
        let labels = (0..SAMPLES).map(|i| (7 * i + 3) % CLASSES).collect();
        Mlp { inputs, labels }
    }

    /// The benchmark weights θₖ = 0.4·sin(1.7k + 0.2) and direction vₖ = cos(1.3k).
    fn point() -> (Vec<f64>, Vec<f64>) {
        let x = (0..WEIGHTS)
            .map(|k| 0.4 * (1.7 * k as f64 + 0.2).sin())
            .collect();
        let v = (0..WEIGHTS).map(|k| (1.3 * k as f64).cos()).collect();
        (x, v)
    }
}

impl Objective for Mlp {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, theta: &[D]) -> D {
        let (w1, rest) = theta.split_at(INPUTS * HIDDEN);
        let (b1, rest) = rest.split_at(HIDDEN);
        let (w2, b2) = rest.split_at(HIDDEN * CLASSES);
        let mut total = D::from(0.0);
        let mut z = vec![D::from(0.0); HIDDEN];
        let mut logits = vec![D::from(0.0); CLASSES];
        let mut hidden = vec![D::from(0.0); HIDDEN];
        for (xi, &label) in self.inputs.chunks(INPUTS).zip(&self.labels) {
            z.copy_from_slice(b1);
            matvec_add(w1, xi, &mut z);
            for (h, &z) in hidden.iter_mut().zip(&z) {
                *h = z.tanh();
            }
            logits.copy_from_slice(b2);
            matvec_add(w2, &hidden, &mut logits);
            let m = logits
                .iter()
                .map(|z| z.re())
                .fold(f64::NEG_INFINITY, f64::max);
            let s: D = logits.iter().map(|&z| (z - m).exp()).sum();
            total += s.ln() + m - logits[label];
        }
        total / SAMPLES as f64
    }
    fn dim(&self) -> Option<usize> {
        Some(WEIGHTS)
    }
}

/// The zoo's review network (`ReviewMlp`, cross-entropy, no dropout) of `shape` on n synthetic
/// images (pixels in [0, 0.95], some exactly 0; labels i mod 10), with its data as written for
/// the peers (inputs row-major, then the labels), Glorot weights and a direction.
fn review_net(
    shape: objective_zoo::MlpShape,
    n: usize,
) -> (objective_zoo::ReviewMlp, Vec<f64>, Vec<f64>, Vec<f64>) {
    let inputs: Vec<f64> = (0..n * shape.inputs)
        .map(|k| (0.5 + 0.5 * (0.013 * k as f64).sin()).max(0.05) - 0.05)
        .collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let mut data = inputs.clone();
    data.extend(labels.iter().map(|&l| f64::from(l)));
    let f = objective_zoo::ReviewMlp::new(shape, inputs, labels, Default::default())
        .expect("valid network");
    let x: Vec<f64> = shape.glorot_init(1).iter().copied().collect();
    let v = (0..x.len()).map(|k| (1.3 * k as f64).cos()).collect();
    (f, data, x, v)
}

/// Synthetic 28×28 images as in [`review_net`] (pixels in [0, 0.95], some exactly 0; labels
/// i mod 10).
fn fashion_images(n: usize) -> (Vec<f64>, Vec<u8>) {
    let inputs = (0..n * 784)
        .map(|k| (0.5 + 0.5 * (0.013 * k as f64).sin()).max(0.05) - 0.05)
        .collect();
    (inputs, (0..n).map(|i| (i % 10) as u8).collect())
}

/// The review's MLP on Fashion-MNIST shapes (784 → 128 sigmoid → dropout 0.25 → 32 → 10) on
/// n images with the dropout of step 0, seed 1. Writes for the peers the data (inputs, then
/// the labels), the sizes (`meta`: n) and each image's hidden-unit scales (`masks`: 0 or
/// 1/(1 − q)).
fn fashion_mlp(n: usize, out: &Path) -> (objective_zoo::ReviewMlp, Vec<f64>, Vec<f64>) {
    let shape = objective_zoo::MlpShape::review_fashion();
    let (inputs, labels) = fashion_images(n);
    let mut data = inputs.clone();
    data.extend(labels.iter().map(|&l| f64::from(l)));
    let f = objective_zoo::ReviewMlp::new(shape, inputs, labels, Default::default())
        .and_then(|f| f.dropout(0.25, 1))
        .expect("valid network");
    let masks: Vec<f64> = (0..n)
        .flat_map(|i| f.dropout_scales(i).expect("dropout is on"))
        .collect();
    write_f64(&out.join("fashion_mlp.data.f64"), &data);
    write_f64(&out.join("fashion_mlp.meta.f64"), &[n as f64]);
    write_f64(&out.join("fashion_mlp.masks.f64"), &masks);
    let x: Vec<f64> = shape.glorot_init(1).iter().copied().collect();
    let v = (0..x.len()).map(|k| (1.3 * k as f64).cos()).collect();
    (f, x, v)
}

/// The review's VGG3 on Fashion-MNIST shapes at width multiplier `m` on n images with the
/// review's dropout (step 0, seed 1). Writes for the peers the data, the sizes (`meta`: n,
/// then the three block widths) and each image's four dropout masks (1 kept, 0 dropped).
fn fashion_vgg(
    name: &str,
    m: f64,
    n: usize,
    out: &Path,
) -> (objective_zoo::ReviewVgg, Vec<f64>, Vec<f64>) {
    let shape = objective_zoo::VggShape::review_fashion()
        .width_multiplier(m)
        .expect("a positive multiplier");
    let (inputs, labels) = fashion_images(n);
    let mut data = inputs.clone();
    data.extend(labels.iter().map(|&l| f64::from(l)));
    let f = objective_zoo::ReviewVgg::new(shape, inputs, labels)
        .expect("valid network")
        .dropout(1);
    let masks: Vec<f64> = (0..n)
        .flat_map(|i| f.dropout_masks(i).expect("dropout is on"))
        .flatten()
        .map(|k| if k { 1.0 } else { 0.0 })
        .collect();
    write_f64(&out.join(format!("{name}.data.f64")), &data);
    let meta = [n, shape.widths[0], shape.widths[1], shape.widths[2]].map(|k| k as f64);
    write_f64(&out.join(format!("{name}.meta.f64")), &meta);
    write_f64(&out.join(format!("{name}.masks.f64")), &masks);
    let x: Vec<f64> = shape.glorot_init(1).iter().copied().collect();
    let v = (0..x.len()).map(|k| (1.3 * k as f64).cos()).collect();
    (f, x, v)
}

/// Rosenbrock's and the trigonometric function's point and direction (as in the `backends`
/// bench): xᵢ = 0.1·(i mod 10) − 0.45, vᵢ = (i mod 3) − 1.
fn point(d: usize) -> (Vec<f64>, Vec<f64>) {
    let x = (0..d).map(|i| 0.1 * (i % 10) as f64 - 0.45).collect();
    let v = (0..d).map(|i| (i % 3) as f64 - 1.0).collect();
    (x, v)
}

fn write_f64(path: &Path, values: &[f64]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("the output folder is writable");
}

/// Computes and writes our values, then times f, ∇f and ∇²f·v; returns CSV lines.
fn run<O: Objective>(
    name: &str,
    f: &O,
    x: &[f64],
    v: &[f64],
    out: &Path,
    budget: Duration,
) -> String {
    write_f64(&out.join(format!("{name}.x.f64")), x);
    write_f64(&out.join(format!("{name}.v.f64")), v);
    let xd = DVector::from_column_slice(x);
    let vd = DVector::from_column_slice(v);
    let (fx, g) = gradient_with(f, &xd, Backend::Reverse).expect("benchmark point is valid");
    let (fh, gh, hv) =
        gradient_hvp_with(f, &xd, &vd, Backend::Reverse).expect("benchmark point is valid");
    // The HVP tape computes in dual arithmetic (num-dual's tanh, say, rounds differently from
    // f64's), so the two drivers agree to rounding, not to the bit.
    let scale = g.amax().max(f64::MIN_POSITIVE);
    let diff = (&g - &gh).amax() / scale;
    assert!(
        diff < 1e-12 && (fx - fh).abs() <= 1e-12 * fx.abs(),
        "{name}: the gradient and the HVP driver disagree (∇f by {diff:e} relative)"
    );
    let mut values = vec![fx];
    values.extend(g.iter());
    values.extend(hv.iter());
    write_f64(&out.join(format!("{name}.rust.f64")), &values);
    if budget.is_zero() {
        return String::new();
    }

    let t_f = time(budget, || {
        black_box(f.eval(black_box(x)));
    });
    let t_g = time(budget, || {
        black_box(gradient_with(f, &xd, Backend::Reverse).ok());
    });
    let t_h = time(budget, || {
        black_box(gradient_hvp_with(f, &xd, &vd, Backend::Reverse).ok());
    });
    eprintln!(
        "{name:>18}: f {:>10.2} µs   grad {:>10.2} µs ({:>6.1}× f)   hvp {:>10.2} µs ({:>6.1}× f)",
        t_f * 1e6,
        t_g * 1e6,
        t_g / t_f,
        t_h * 1e6,
        t_h / t_f
    );
    format!("{name},f,{t_f:e}\n{name},grad,{t_g:e}\n{name},hvp,{t_h:e}\n")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value_of = |flag: &str| common::value_of(&args, flag);
    if let Some(i) = args.iter().position(|a| a == "profile") {
        // For callgrind / perf: a fixed number of calls of one operation on one workload.
        let what = args.get(i + 1).map_or("mlp", String::as_str);
        let op = args.get(i + 2).map_or("grad", String::as_str);
        let calls: usize = value_of("--calls")
            .and_then(|c| c.parse().ok())
            .unwrap_or(20);
        if what == "par" {
            // `profile par T --dim n`: parallel_gradient of the two-layer net with n terms on
            // T threads (for whole-process timing of 1 against 2 threads).
            let threads = op.parse().unwrap_or(1);
            let n = value_of("--dim")
                .and_then(|d| d.parse().ok())
                .unwrap_or(10_000);
            let f = objective_zoo::TwoLayerNet::teacher(10, 20, n, 3).expect("valid sizes");
            let x = DVector::from_fn(220, |i, _| 0.2 * (0.9 * i as f64).sin());
            for _ in 0..calls {
                black_box(
                    autodiff_objectives::parallel_gradient(&f, &x, threads, Backend::Reverse).ok(),
                );
            }
            return;
        }
        let dim = value_of("--dim").and_then(|d| d.parse().ok());
        if what == "fashion_mlp" || what.starts_with("vgg") {
            // `profile fashion_mlp|vgg_quarter|vgg_full OP --dim n`: the networks of the
            // Fashion-MNIST workloads on n images (default 128).
            let scratch = std::env::temp_dir().join("saddle-escape-profile");
            std::fs::create_dir_all(&scratch).expect("the temporary folder is writable");
            let n = dim.unwrap_or(128);
            if what == "fashion_mlp" {
                let (f, x, v) = fashion_mlp(n, &scratch);
                let (x, v) = (DVector::from_vec(x), DVector::from_vec(v));
                (0..calls).for_each(|_| profile_op(&f, &x, &v, op));
            } else {
                let m = if what == "vgg_full" { 1.0 } else { 0.25 };
                let (f, x, v) = fashion_vgg(what, m, n, &scratch);
                let (x, v) = (DVector::from_vec(x), DVector::from_vec(v));
                (0..calls).for_each(|_| profile_op(&f, &x, &v, op));
            }
            return;
        }
        if what == "review" || what == "review-digits" {
            // `profile review OP --dim n`: the zoo's review MLP at its CIFAR-10 shape
            // (3 072 → 128 → 32 → 10, 394 634 weights) on n synthetic samples;
            // `review-digits`, at its digits shape (64 → 32 → 32 → 10, 3 466 weights).
            let shape = if what == "review" {
                objective_zoo::MlpShape::review_cifar()
            } else {
                objective_zoo::MlpShape::review_digits()
            };
            let (f, _, x, v) = review_net(shape, dim.unwrap_or(4));
            let (x, v) = (DVector::from_vec(x), DVector::from_vec(v));
            for _ in 0..calls {
                profile_op(&f, &x, &v, op);
            }
            return;
        }
        let mlp = Mlp::new();
        let (x, v) = match what {
            "mlp" => Mlp::point(),
            "trig" => point(dim.unwrap_or(10_000)),
            _ => point(dim.unwrap_or(100_000)),
        };
        let (xd, vd) = (DVector::from_vec(x), DVector::from_vec(v));
        for _ in 0..calls {
            match what {
                "mlp" => profile_op(&mlp, &xd, &vd, op),
                "trig" => profile_op(&objective!(trigonometric), &xd, &vd, op),
                _ => profile_op(&objective!(rosenbrock), &xd, &vd, op),
            }
        }
        return;
    }
    if args.iter().any(|a| a == "bandwidth") {
        bandwidth();
        return;
    }
    let quick = args.iter().any(|a| a == "--quick" || a == "quick");
    if args.iter().any(|a| a == "parallel") {
        parallel(quick);
        return;
    }
    let only = value_of("--only");
    let out = PathBuf::from(value_of("--out").unwrap_or_else(|| {
        std::env::temp_dir()
            .join("saddle-escape-peers")
            .to_string_lossy()
            .into_owned()
    }));
    std::fs::create_dir_all(&out).expect("the output folder can be created");
    let budget = if args.iter().any(|a| a == "--values-only") {
        Duration::ZERO
    } else {
        Duration::from_millis(if quick { 5 } else { 600 })
    };
    let (rosen_dims, trig_dims): (&[usize], &[usize]) = if quick {
        (&[100], &[100])
    } else {
        (&[1_000, 10_000, 100_000], &[1_000, 10_000])
    };
    let wanted = |name: &str| only.as_deref().is_none_or(|o| name.starts_with(o));
    let mut csv = String::from("workload,op,seconds\n");
    for &d in rosen_dims {
        let name = format!("rosenbrock_{d}");
        if wanted(&name) {
            let (x, v) = point(d);
            csv += &run(&name, &objective!(rosenbrock), &x, &v, &out, budget);
        }
    }
    for &d in trig_dims {
        let name = format!("trigonometric_{d}");
        if wanted(&name) {
            let (x, v) = point(d);
            csv += &run(&name, &objective!(trigonometric), &x, &v, &out, budget);
        }
    }
    if wanted("mlp") {
        let mlp = Mlp::new();
        let mut data = mlp.inputs.clone();
        data.extend(mlp.labels.iter().map(|&l| l as f64));
        write_f64(&out.join("mlp.data.f64"), &data);
        let (x, v) = Mlp::point();
        csv += &run("mlp", &mlp, &x, &v, &out, budget);
    }
    if wanted("cifar_net") {
        // The zoo's network at its CIFAR-10 shape (394 634 weights) on 64 images: the same
        // sizes in `bench/peers/common.py`.
        let (f, data, x, v) = review_net(objective_zoo::MlpShape::review_cifar(), 64);
        write_f64(&out.join("cifar_net.data.f64"), &data);
        csv += &run("cifar_net", &f, &x, &v, &out, budget);
    }
    // The review's networks on Fashion-MNIST shapes at batch 128, dropout on (issue 26's
    // workloads; a few images in quick mode).
    let batch = if quick { 2 } else { 128 };
    if wanted("fashion_mlp") {
        let (f, x, v) = fashion_mlp(batch, &out);
        csv += &run("fashion_mlp", &f, &x, &v, &out, budget);
    }
    for (name, m) in [("vgg_quarter", 0.25), ("vgg_full", 1.0)] {
        if wanted(name) {
            let (f, x, v) = fashion_vgg(name, m, batch, &out);
            csv += &run(name, &f, &x, &v, &out, budget);
        }
    }
    std::fs::write(out.join("rust.csv"), csv).expect("the output folder is writable");
    eprintln!("wrote {}", out.display());
}

fn profile_op<O: Objective>(f: &O, x: &DVector<f64>, v: &DVector<f64>, op: &str) {
    match op {
        "hvp" => {
            black_box(gradient_hvp_with(f, x, v, Backend::Reverse).ok());
        }
        "f" => {
            black_box(f.eval(black_box(x.as_slice())));
        }
        _ => {
            black_box(gradient_with(f, x, Backend::Reverse).ok());
        }
    }
}

/// `parallel_gradient` of a finite sum (the zoo's two-layer tanh network, 10 inputs, 20 hidden
/// units, n samples) on 1 and 2 threads: median times, the speed-up, and a check that the
/// results are bit-identical.
fn parallel(quick: bool) {
    use autodiff_objectives::parallel_gradient;
    let sizes: &[usize] = if quick { &[1_000] } else { &[10_000, 100_000] };
    let budget = Duration::from_millis(if quick { 5 } else { 3_000 });
    println!("| terms n | 1 thread | 2 threads | speed-up | bit-identical |");
    println!("|---:|---:|---:|---:|---|");
    for &n in sizes {
        let f = objective_zoo::TwoLayerNet::teacher(10, 20, n, 3).expect("valid sizes");
        let x = DVector::from_fn(220, |i, _| 0.2 * (0.9 * i as f64).sin());
        let one = parallel_gradient(&f, &x, 1, Backend::Reverse).expect("valid point");
        let two = parallel_gradient(&f, &x, 2, Backend::Reverse).expect("valid point");
        let same = one.0.to_bits() == two.0.to_bits()
            && one
                .1
                .iter()
                .zip(two.1.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "n={n}: 1 and 2 threads differ");
        let t1 = time(budget, || {
            black_box(parallel_gradient(&f, &x, 1, Backend::Reverse).ok());
        });
        let t2 = time(budget, || {
            black_box(parallel_gradient(&f, &x, 2, Backend::Reverse).ok());
        });
        println!(
            "| {n} | {:.2} ms | {:.2} ms | {:.2}× | {same} |",
            t1 * 1e3,
            t2 * 1e3,
            t1 / t2
        );
    }
}

/// One core's memory bandwidth, the bound on a recording that outgrows the caches (the
/// Rosenbrock gradient and HVP at d = 10⁵ write and read their inputs' numbers and their sum
/// terms through memory): the best of 10 passes each of a copy (bytes read + written), a read
/// (a sum) and a write (a fill) of 64 MiB of `f64`, and of a copy of 3.2 MB (the size of the
/// inputs' `Var`s at d = 10⁵, which fits the last-level cache but not the 2 MB L2).
fn bandwidth() {
    fn best(mut pass: impl FnMut()) -> f64 {
        (0..10)
            .map(|_| {
                let t = std::time::Instant::now();
                pass();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    }
    let n = 8 << 20;
    let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut b = vec![0.0; n];
    let bytes = (n * size_of::<f64>()) as f64;
    let copy = best(|| b.copy_from_slice(black_box(&a)));
    let read = best(|| {
        let s = a.chunks_exact(4).fold([0.0; 4], |s, c| {
            [s[0] + c[0], s[1] + c[1], s[2] + c[2], s[3] + c[3]]
        });
        black_box(s);
    });
    let write = best(|| black_box(&mut b).fill(black_box(1.0)));
    let m = 400_000;
    let small = best(|| b[..m].copy_from_slice(black_box(&a[..m])));
    println!(
        "copy  64 MiB: {:.1} GB/s (read + written)",
        2.0 * bytes / copy / 1e9
    );
    println!("read  64 MiB: {:.1} GB/s", bytes / read / 1e9);
    println!("write 64 MiB: {:.1} GB/s", bytes / write / 1e9);
    println!(
        "copy 3.2 MB:  {:.1} GB/s (read + written)",
        2.0 * (m * size_of::<f64>()) as f64 / small / 1e9
    );
}
