//! Forged certificates: an objective built against a *known* Lanczos start vector.
//!
//! The Kuczyński–Woźniakowski bound behind a probabilistic "ε-SOSP" verdict assumes a start
//! vector drawn uniformly at random *independently of the objective*. When the start vector is
//! predictable (a fixed default seed), an objective whose negative-curvature eigenvector u is
//! orthogonal to it hides u from the whole Krylov space: every Lanczos vector stays orthogonal
//! to u, the Ritz values see only the positive part of the spectrum, and the bound "proves"
//! λ_min ≥ −√(ρε) with high confidence at a strict saddle — the worst answer a certifier can
//! give. The default certifier draws a fresh seed from the OS for every certification, so no
//! objective can be built against it.

use autodiff_objectives::{DualNum, Objective};
use certify::{Certificate, Certifier, Method, SeedSource, Verdict};
use nalgebra::DVector;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Duration;

const EPS: f64 = 0.01;
const RHO: f64 = 1.0; // threshold −√(ρε) = −0.1
const LAMBDA: f64 = -0.1001; // just below the threshold: x = 0 is NOT an ε-SOSP
const D: usize = 500;

/// The start vector the certifier draws from a given seed (Gaussian, normalized). If the
/// certifier's sampling changes, `an_explicit_seed_can_be_forged` fails and this must follow.
fn start_vector(seed: u64, d: usize) -> DVector<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let v = DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal));
    let n = v.norm();
    v / n
}

/// f(x) = ½ (Px)ᵀ diag(s) (Px) with P = I − 2wwᵀ/‖w‖², w = e₀ − u: a Householder reflection
/// with P e₀ = u. So u is an eigenvector of ∇²f = P diag(s) P with eigenvalue s₀ = λ, and
/// the other eigenvalues lie evenly in [0.5, 1.5]. O(d) per evaluation.
#[derive(Debug, Clone)]
struct Forged {
    w: DVector<f64>,
    w2: f64,
    s: Vec<f64>,
    u: DVector<f64>,
}

impl Forged {
    /// The negative eigenvector u is the part of e₁ orthogonal to `start`.
    fn against(start: &DVector<f64>) -> Self {
        let d = start.len();
        let mut u = DVector::from_fn(d, |i, _| if i == 1 { 1.0 } else { 0.0 });
        u.axpy(-start[1], start, 1.0);
        let u = u.normalize();
        let mut w = -u.clone();
        w[0] += 1.0;
        let w2 = w.norm_squared();
        let mut s: Vec<f64> = (0..d).map(|i| 0.5 + i as f64 / (d - 1) as f64).collect();
        s[0] = LAMBDA;
        Forged { w, w2, s, u }
    }
}

impl Objective for Forged {
    fn eval<T: DualNum<Primitive = f64> + Copy>(&self, x: &[T]) -> T {
        let wx = x
            .iter()
            .zip(self.w.iter())
            .fold(T::zero(), |acc, (&xi, &wi)| acc + xi * wi);
        let c = wx * (2.0 / self.w2);
        x.iter()
            .zip(self.w.iter())
            .zip(&self.s)
            .fold(T::zero(), |acc, ((&xi, &wi), &si)| {
                let px = xi - c * wi;
                acc + px * px * (0.5 * si)
            })
    }

    fn dim(&self) -> Option<usize> {
        Some(self.w.len())
    }
}

fn assert_refuted(cert: &Certificate, f: &Forged, what: &str) {
    assert_eq!(cert.verdict, Verdict::NegativeCurvature, "{what}: {cert}");
    assert!(!cert.is_second_order_stationary(), "{what}");
    assert!(
        (cert.lambda_min - LAMBDA).abs() < 1e-6,
        "{what}: λ_min = {}",
        cert.lambda_min
    );
    let e = cert.escape_direction.as_ref().expect("escape direction");
    assert!(e.curvature < -0.1, "{what}: {}", e.curvature);
    assert!(
        (e.direction.dot(&f.u).abs() - 1.0).abs() < 1e-6,
        "{what}: the escape direction is the hidden eigenvector"
    );
}

/// The objective forged against seed 0's start vector, and `certifier`'s certificate at 0.
fn forged_against_seed_0(certifier: Certifier) -> (Forged, Certificate) {
    let f = Forged::against(&start_vector(0, D));
    let cert = certifier.certify(&f, &DVector::zeros(D)).expect("valid");
    (f, cert)
}

/// The attack works: against a known seed, a certifier using that seed is fooled. This is
/// what the old default (seed 0 for every certification) did at every dimension; it is the
/// documented price of an explicit seed, and it shows the construction below is a real attack.
#[test]
fn an_explicit_seed_can_be_forged() {
    let (_, cert) = forged_against_seed_0(Certifier::new(EPS, RHO).seed(0));
    assert_eq!(cert.method, Method::Lanczos);
    assert!(
        cert.is_second_order_stationary(),
        "the forged objective should fool a known start vector: {cert}"
    );
    assert!(cert.lambda_min > 0.0, "{}", cert.lambda_min);
    let r = cert.randomness.expect("Lanczos records its seed");
    assert_eq!((r.seed, r.source), (0, SeedSource::User));
    assert!(cert.to_string().contains("seed 0 set by the user"));
}

/// The default certifier refutes every forged objective built against a seed the code could
/// have fallen back on (the old default 0, and small seeds), and reports the negative
/// direction.
#[test]
fn the_default_certifier_refutes_forged_objectives() {
    for seed in [0, 1, 2, 42] {
        let f = Forged::against(&start_vector(seed, D));
        let cert = Certifier::new(EPS, RHO)
            .certify(&f, &DVector::zeros(D))
            .expect("valid");
        assert_eq!(cert.method, Method::Lanczos);
        assert_refuted(&cert, &f, &format!("forged against seed {seed}"));
        let r = cert.randomness.expect("Lanczos records its seed");
        assert_eq!(r.source, SeedSource::Fresh);
        let text = cert.to_string();
        assert!(
            text.contains(&format!("seed {} drawn fresh from OS entropy", r.seed)),
            "{text}"
        );
    }
}

/// Certifying the forged objective with the seed of its own construction is the only way to be
/// fooled; a fresh seed is refuted even when the budget is generous and ℓ is given.
#[test]
fn the_default_certifier_refutes_with_a_given_ell_too() {
    let (f, cert) = forged_against_seed_0(Certifier::new(EPS, RHO).lipschitz(1.5));
    assert_refuted(&cert, &f, "ℓ = 1.5");
}

fn comparable(mut c: Certificate) -> Certificate {
    c.elapsed = Duration::ZERO;
    c.randomness = None;
    c
}

#[test]
fn default_certifications_draw_different_seeds_and_the_recorded_seed_reproduces() {
    let spectrum: Vec<f64> = (0..400).map(|i| 0.2 + i as f64 / 399.0).collect();
    let f = objective_zoo::RotatedQuadratic::new(spectrum, 5).expect("finite");
    let x = DVector::from_element(400, 0.01);
    let certifier = Certifier::new(EPS, RHO);
    let a = certifier.certify(&f, &x).expect("valid");
    let b = certifier.certify(&f, &x).expect("valid");
    let (ra, rb) = (a.randomness.expect("seeded"), b.randomness.expect("seeded"));
    assert_eq!(
        (ra.source, rb.source),
        (SeedSource::Fresh, SeedSource::Fresh)
    );
    assert_ne!(ra.seed, rb.seed, "two certifications reused one seed");
    // The same certifier (cloned or reused) never replays a start vector...
    let again = certifier.clone().certify(&f, &x).expect("valid");
    assert_ne!(again.randomness.expect("seeded").seed, ra.seed);
    // ...and the recorded seed reproduces its certificate bit for bit.
    let replay = certifier
        .clone()
        .seed(ra.seed)
        .certify(&f, &x)
        .expect("valid");
    let rr = replay.randomness.expect("seeded");
    assert_eq!((rr.seed, rr.source), (ra.seed, SeedSource::User));
    assert_eq!(replay.lambda_min.to_bits(), a.lambda_min.to_bits());
    assert_eq!(comparable(replay), comparable(a));
}

/// The local ρ estimate's random directions follow the same rule: fresh by default (recorded
/// even though the dense method itself is deterministic), reproducible with the recorded seed.
#[test]
fn estimate_directions_are_fresh_and_recorded() {
    let f = objective_zoo::QuarticSaddle;
    let x = nalgebra::dvector![0.3, -0.2];
    let c = Certifier::new(1e-3, 1.0).estimate_constants(3);
    let a = c.certify(&f, &x).expect("valid");
    let ra = a.randomness.expect("estimates draw random directions");
    assert_eq!(ra.source, SeedSource::Fresh);
    let replay = c.clone().seed(ra.seed).certify(&f, &x).expect("valid");
    assert_eq!(
        replay.estimates.map(|e| e.rho.to_bits()),
        a.estimates.map(|e| e.rho.to_bits())
    );
    // Without estimates the dense method draws nothing and records nothing.
    let plain = Certifier::new(1e-3, 1.0).certify(&f, &x).expect("valid");
    assert_eq!(plain.randomness, None);
    assert!(
        plain
            .to_string()
            .contains("none drawn (the method is deterministic)")
    );
}
