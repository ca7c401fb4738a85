//! Helpers shared by the dense-kernel and layer tests (`matvec.rs`, `matvec_batch.rs`,
//! `layers.rs`).

// Each test binary uses its own subset of the helpers.
#![allow(dead_code)]

/// The bit patterns of `v`, for comparisons to the bit.
pub fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A point and a direction of dimension `n`: xᵢ = 0.6·sin(0.9i + shift), vᵢ = cos(1.3i + shift).
pub fn point(n: usize, shift: f64) -> (Vec<f64>, Vec<f64>) {
    let x = (0..n)
        .map(|i| 0.6 * (0.9 * i as f64 + shift).sin())
        .collect();
    let v = (0..n).map(|i| (1.3 * i as f64 + shift).cos()).collect();
    (x, v)
}
