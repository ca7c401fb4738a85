//! Stochastic Lanczos quadrature: weights, moments against a known spectrum, the broadened
//! density and its SVG.

use certify::{Reorthogonalization, Slq, SpectrumError};
use nalgebra::DVector;
use objective_zoo::RotatedQuadratic;

fn spectrum(d: usize) -> Vec<f64> {
    (0..d)
        .map(|i| -1.0 + 4.0 * ((i * 37) % d) as f64 / d as f64 + 0.3 * (i as f64).cos())
        .collect()
}

#[test]
fn weights_sum_to_one_and_moments_match_the_spectrum() {
    let d = 150;
    let lam = spectrum(d);
    let f = RotatedQuadratic::new(lam.clone(), 8).expect("valid");
    let x = DVector::zeros(d);
    let slq = Slq::new(20, 25).seed(4).compute(&f, &x).expect("runs");
    assert_eq!(slq.nodes.len(), 20);
    assert_eq!(slq.hvps, 20 * 25);
    assert_eq!(slq.steps, vec![25; 20]);
    let (lmin, lmax) = lam
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &l| {
            (a.min(l), b.max(l))
        });
    for (t, w) in slq.nodes.iter().zip(&slq.weights) {
        assert_eq!(t.len(), 25);
        assert!(
            (w.iter().sum::<f64>() - 1.0).abs() < 1e-12,
            "weights sum {}",
            w.iter().sum::<f64>()
        );
        assert!(w.iter().all(|&w| w >= 0.0));
        // Ritz values lie in [λ_min, λ_max].
        assert!(t.iter().all(|&t| t >= lmin - 1e-10 && t <= lmax + 1e-10));
    }
    let m1 = lam.iter().sum::<f64>() / d as f64;
    let m2 = lam.iter().map(|l| l * l).sum::<f64>() / d as f64;
    let m4 = lam.iter().map(|l| l.powi(4)).sum::<f64>() / d as f64;
    assert!((slq.moment(0) - 1.0).abs() < 1e-12);
    assert!(
        (slq.moment(1) - m1).abs() < 0.02 * m2.sqrt(),
        "{} vs tr(H)/d = {m1}",
        slq.moment(1)
    );
    assert!(
        (slq.moment(2) / m2 - 1.0).abs() < 0.02,
        "{} vs tr(H²)/d = {m2}",
        slq.moment(2)
    );
    assert!(
        (slq.moment(4) / m4 - 1.0).abs() < 0.05,
        "{} vs tr(H⁴)/d = {m4}",
        slq.moment(4)
    );

    // The broadened density on a grid: mass 1, mean tr(H)/d, second moment tr(H²)/d + σ².
    let sigma = 0.1;
    let grid = slq.grid(2001, sigma);
    let (lo, hi) = slq.range();
    assert!(
        (grid[0] - (lo - 4.0 * sigma)).abs() < 1e-12
            && (grid[2000] - (hi + 4.0 * sigma)).abs() < 1e-12
    );
    // For the integrals, a grid 8σ beyond the nodes (the Gaussian tails beyond are < 1e-15).
    let grid: Vec<f64> = (0..=4000)
        .map(|i| lo - 8.0 * sigma + (hi - lo + 16.0 * sigma) * i as f64 / 4000.0)
        .collect();
    let phi = slq.density(&grid, sigma).expect("valid grid");
    let h = grid[1] - grid[0];
    let integral = |p: i32| -> f64 { phi.iter().zip(&grid).map(|(f, t)| f * t.powi(p) * h).sum() };
    assert!((integral(0) - 1.0).abs() < 1e-6, "mass {}", integral(0));
    assert!((integral(1) - slq.moment(1)).abs() < 1e-6);
    assert!((integral(2) - slq.moment(2) - sigma * sigma).abs() < 1e-6);
    assert!((integral(2) - sigma * sigma - m2).abs() < 0.02 * m2);
}

/// Two well-separated clusters: the density's mass on each side matches the counts.
#[test]
fn density_puts_the_right_mass_on_each_cluster() {
    let d = 120;
    // 30 eigenvalues near −2, 90 near 1.
    let lam: Vec<f64> = (0..d)
        .map(|i| {
            if i < 30 {
                -2.0 + 0.01 * i as f64
            } else {
                1.0 + 0.005 * i as f64
            }
        })
        .collect();
    let f = RotatedQuadratic::new(lam, 1).expect("valid");
    let slq = Slq::new(16, 20)
        .seed(9)
        .compute(&f, &DVector::zeros(d))
        .expect("runs");
    let grid: Vec<f64> = (0..=1000).map(|i| -3.0 + 6.0 * i as f64 / 1000.0).collect();
    let phi = slq.density(&grid, 0.05).expect("valid");
    let h = grid[1] - grid[0];
    let below: f64 = phi
        .iter()
        .zip(&grid)
        .filter(|(_, t)| **t < 0.0)
        .map(|(p, _)| p * h)
        .sum();
    assert!((below - 0.25).abs() < 0.05, "mass below 0: {below}");
}

#[test]
fn an_invariant_krylov_space_ends_a_probe_early_with_an_exact_quadrature() {
    // Three distinct eigenvalues: every probe's Krylov space has dimension 3.
    let d = 30;
    let lam: Vec<f64> = (0..d).map(|i| [-1.0, 0.5, 2.0][i % 3]).collect();
    let f = RotatedQuadratic::new(lam, 2).expect("valid");
    let slq = Slq::new(4, 10)
        .seed(1)
        .compute(&f, &DVector::zeros(d))
        .expect("runs");
    for (t, w) in slq.nodes.iter().zip(&slq.weights) {
        assert_eq!(t.len(), 3, "{t:?}");
        for (ti, want) in t.iter().zip([-1.0, 0.5, 2.0]) {
            assert!((ti - want).abs() < 1e-10, "{t:?}");
        }
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    assert_eq!(slq.steps, vec![3; 4]);
    assert_eq!(slq.hvps, 12);
}

#[test]
fn reproducible_and_validated() {
    let d = 40;
    let f = RotatedQuadratic::new(spectrum(d), 3).expect("valid");
    let x = DVector::zeros(d);
    let a = Slq::new(3, 10).seed(5).compute(&f, &x).expect("runs");
    assert_eq!(a, Slq::new(3, 10).seed(5).compute(&f, &x).expect("runs"));
    let fresh = Slq::new(3, 10).compute(&f, &x).expect("runs");
    assert_eq!(
        fresh,
        Slq::new(3, 10)
            .seed(fresh.seed)
            .compute(&f, &x)
            .expect("runs")
    );
    // Full reorthogonalization gives the same quadrature to rounding at this size.
    let full = Slq::new(3, 10)
        .seed(5)
        .reorthogonalization(Reorthogonalization::Full)
        .compute(&f, &x)
        .expect("runs");
    for (p, q) in a.nodes.iter().flatten().zip(full.nodes.iter().flatten()) {
        assert!((p - q).abs() < 1e-10);
    }
    assert_eq!(
        Slq::new(0, 10).compute(&f, &x),
        Err(SpectrumError::InvalidProbes { got: 0, min: 1 })
    );
    assert_eq!(
        Slq::new(2, 0).compute(&f, &x),
        Err(SpectrumError::InvalidSteps(0))
    );
    assert!(matches!(
        a.density(&[0.0], 0.1),
        Err(SpectrumError::InvalidGrid(_))
    ));
    assert!(matches!(
        a.density(&[0.0, 0.0], 0.1),
        Err(SpectrumError::InvalidGrid(_))
    ));
    assert!(matches!(
        a.density(&[0.0, f64::NAN], 0.1),
        Err(SpectrumError::InvalidGrid(_))
    ));
    assert_eq!(
        a.density(&[0.0, 1.0], 0.0),
        Err(SpectrumError::InvalidBroadening(0.0))
    );
    assert!(a.to_svg(&[1.0, 0.0], 0.1, "t").is_err());
}

#[test]
fn svg_is_well_formed_and_escapes_the_title() {
    let d = 50;
    let f = RotatedQuadratic::new(spectrum(d), 3).expect("valid");
    let slq = Slq::new(4, 15)
        .seed(1)
        .compute(&f, &DVector::zeros(d))
        .expect("runs");
    let grid = slq.grid(200, 0.1);
    let svg = slq.to_svg(&grid, 0.1, "H & <spectrum>").expect("valid");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("H &amp; &lt;spectrum&gt;"));
    assert!(!svg.contains("NaN") && !svg.contains("inf"));
    let points = svg
        .split("points=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a polyline");
    assert_eq!(points.split(' ').count(), 200);
}
