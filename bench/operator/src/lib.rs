//! The workloads of the operator benchmark (`benches/operator.rs`) written once over any
//! [`num_traits::Float`], for the peer that needs them so: echidna records f on its own number
//! type. Each is the same function as its counterpart on our side (the zoo's `Rosenbrock` and
//! `Trigonometric`, the bench's plain-loop MLP); the tests check the values agree, and the
//! benchmark checks every Hessian-vector product before it times one.

use num_traits::Float;

/// The constant v as a T.
fn c<T: From<f64>>(v: f64) -> T {
    <T as From<f64>>::from(v)
}

/// Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², as the zoo's `Rosenbrock`.
pub fn rosenbrock<T: Float + From<f64>>(x: &[T]) -> T {
    let mut s = T::zero();
    for w in x.windows(2) {
        let a = w[1] - w[0] * w[0];
        let b = c::<T>(1.0) - w[0];
        s = s + c::<T>(100.0) * a * a + b * b;
    }
    s
}

/// Σᵢ (d − Σⱼ cos xⱼ + i(1 − cos xᵢ) − sin xᵢ)², i = 1..d, as the zoo's `Trigonometric`.
pub fn trigonometric<T: Float + From<f64>>(x: &[T]) -> T {
    let d = x.len() as f64;
    let mut cos_sum = T::zero();
    for &xi in x {
        cos_sum = cos_sum + xi.cos();
    }
    let mut s = T::zero();
    for (i, &xi) in x.iter().enumerate() {
        let r = c::<T>(d) - cos_sum + c::<T>((i + 1) as f64) * (c::<T>(1.0) - xi.cos()) - xi.sin();
        s = s + r * r;
    }
    s
}

/// The plain-loop MLP's shape: `INPUTS` features, one tanh layer of `HIDDEN` units,
/// `CLASSES` logits, `SAMPLES` samples (the constants of `bench/peers/common.py`).
pub const INPUTS: usize = 32;
/// Hidden units.
pub const HIDDEN: usize = 48;
/// Classes.
pub const CLASSES: usize = 10;
/// Samples.
pub const SAMPLES: usize = 256;
/// Weights: W₁ (row-major), b₁, W₂ (row-major), b₂.
pub const WEIGHTS: usize = INPUTS * HIDDEN + HIDDEN + HIDDEN * CLASSES + CLASSES;

/// The MLP's data: features sin(0.37·n + 0.1) (n the row-major index), labels (7i + 3) mod 10
/// (as the `mlp` workload of the `peers` bench).
pub fn mlp_data() -> (Vec<f64>, Vec<usize>) {
    let inputs = (0..SAMPLES * INPUTS)
        .map(|n| (0.37 * n as f64 + 0.1).sin())
        .collect();
    let labels = (0..SAMPLES).map(|i| (7 * i + 3) % CLASSES).collect();
    (inputs, labels)
}

/// Mean softmax cross-entropy of the one-hidden-layer tanh MLP, as plain loops: for each
/// sample, zⱼ = b₁ⱼ + Σₖ W₁ⱼₖxₖ, hⱼ = tanh zⱼ, logits b₂ + W₂h, then
/// log Σ exp(logit − m) + m − logit_y with m the largest logit's value (a constant shift).
pub fn mlp<T: Float + From<f64>>(theta: &[T], inputs: &[f64], labels: &[usize]) -> T {
    let (w1, rest) = theta.split_at(INPUTS * HIDDEN);
    let (b1, rest) = rest.split_at(HIDDEN);
    let (w2, b2) = rest.split_at(HIDDEN * CLASSES);
    let mut total = T::zero();
    let mut hidden = vec![T::zero(); HIDDEN];
    let mut logits = vec![T::zero(); CLASSES];
    for (xi, &label) in inputs.chunks(INPUTS).zip(labels) {
        for (j, h) in hidden.iter_mut().enumerate() {
            let mut z = b1[j];
            for (w, &x) in w1[j * INPUTS..(j + 1) * INPUTS].iter().zip(xi) {
                z = z + *w * c::<T>(x);
            }
            *h = z.tanh();
        }
        for (c, l) in logits.iter_mut().enumerate() {
            let mut z = b2[c];
            for (w, h) in w2[c * HIDDEN..(c + 1) * HIDDEN].iter().zip(&hidden) {
                z = z + *w * *h;
            }
            *l = z;
        }
        let m = logits
            .iter()
            .map(|z| z.to_f64().unwrap_or(f64::NAN))
            .fold(f64::NEG_INFINITY, f64::max);
        let mut s = T::zero();
        for &z in &logits {
            s = s + (z - c::<T>(m)).exp();
        }
        total = total + s.ln() + c::<T>(m) - logits[label];
    }
    total / c::<T>(SAMPLES as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::float_cmp)] // exact values
    fn the_workloads_have_their_closed_values() {
        // Rosenbrock at its minimum and at 0; the trigonometric function at 0 (every residual 0).
        assert_eq!(rosenbrock(&[1.0_f64; 5]), 0.0);
        assert_eq!(rosenbrock(&[0.0_f64; 5]), 4.0);
        assert_eq!(trigonometric(&[0.0_f64; 7]), 0.0);
        // With zero weights every logit is 0: the loss is log 10 at every sample.
        let (inputs, labels) = mlp_data();
        let loss = mlp(&vec![0.0_f64; WEIGHTS], &inputs, &labels);
        assert!((loss - 10f64.ln()).abs() < 1e-13, "{loss}");
    }
}
