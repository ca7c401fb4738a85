//! Data the integration tests share.

/// `n` samples of 6 inputs in three noisy clusters (class c lights up inputs 2c and 2c + 1),
/// the noise uniform in [0, 0.3) from a seeded LCG.
pub fn clusters(n: usize, seed: u64) -> (Vec<f64>, Vec<u8>) {
    let mut state = seed;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 0.3
    };
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        let c = i % 3;
        for k in 0..6 {
            x.push(if k / 2 == c { 0.8 } else { 0.0 } + noise());
        }
        y.push(c as u8);
    }
    (x, y)
}
