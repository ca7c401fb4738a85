//! `PgdParams::from_theory` against Algorithm 2's formulas computed here independently, and
//! every invalid parameter as an error.

#![allow(
    clippy::float_cmp,
    reason = "exact equality of computed values is what these tests check"
)]

use pgd_core::{ParamError, PgdParams, TheoryConstants};

mod common;

/// Algorithm 2's formulas, written out again from the paper (natural log).
fn paper(k: &TheoryConstants, d: usize) -> (f64, f64, f64, f64, f64, f64, f64) {
    let TheoryConstants {
        l,
        rho,
        eps,
        c,
        delta,
        delta_f,
    } = *k;
    let chi = 3.0
        * f64::max(
            (d as f64 * l * delta_f / (c * eps.powi(2) * delta)).ln(),
            4.0,
        );
    let eta = c / l;
    let r = c.sqrt() / chi.powi(2) * eps / l;
    let g_thres = c.sqrt() / chi.powi(2) * eps;
    let f_thres = c / chi.powi(3) * (eps.powi(3) / rho).sqrt();
    let t_thres = chi / c.powi(2) * l / (rho * eps).sqrt();
    (chi, eta, r, g_thres, f_thres, t_thres, t_thres.ceil())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

#[test]
fn from_theory_matches_the_papers_formulas() {
    let sets = [
        (common::design_example(), 10),
        (
            TheoryConstants {
                l: 10.0,
                rho: 3.0,
                eps: 1e-3,
                c: 0.5,
                delta: 0.1,
                delta_f: 50.0,
            },
            1000,
        ),
        (
            TheoryConstants {
                l: 0.2,
                rho: 7.0,
                eps: 1e-1,
                c: 0.05,
                delta: 0.5,
                delta_f: 2.0,
            },
            2,
        ),
        (
            TheoryConstants {
                l: 4.0,
                rho: 1e-3,
                eps: 1e-4,
                c: 0.1,
                delta: 1e-6,
                delta_f: 1e3,
            },
            100_000,
        ),
        // ln(...) < 4: χ = 12 from the max.
        (
            TheoryConstants {
                l: 1.0,
                rho: 1.0,
                eps: 1.0,
                c: 1.0,
                delta: 0.9,
                delta_f: 1.0,
            },
            1,
        ),
    ];
    for (k, d) in sets {
        let p = PgdParams::from_theory(&k, d).expect("valid constants");
        let (chi, eta, r, g, f, t_real, t) = paper(&k, d);
        let der = p.derivation().expect("from theory");
        assert!(close(der.chi, chi), "{k:?}: chi {} vs {chi}", der.chi);
        assert!(close(p.eta(), eta), "{k:?}: eta");
        assert!(close(p.radius(), r), "{k:?}: r {} vs {r}", p.radius());
        assert!(close(p.g_thres(), g), "{k:?}: g_thres");
        assert!(close(p.f_thres(), f), "{k:?}: f_thres");
        assert!(close(der.t_thres_real, t_real), "{k:?}: t_thres real");
        assert_eq!(p.t_thres() as f64, t, "{k:?}: t_thres = ⌈{t_real}⌉");
        assert_eq!(der.dim, d);
        assert_eq!(der.in_theorem_regime, k.eps <= k.l * k.l / k.rho);
    }
}

#[test]
fn the_design_example_reproduces_r_and_t_thres() {
    // DESIGN.md: ℓ = ρ = 1, ε = 1e-2, d = 10 gives r ≈ 4e-6 and t_thres ≈ 484
    // (with c = 1, δ = 1e-2, Δf = 1: ln(10⁷) = 16.118, χ = 48.354).
    let k = common::design_example();
    let p = PgdParams::from_theory(&k, 10).expect("valid");
    assert_eq!(p.t_thres(), 484);
    assert!((p.radius() - 4.2770e-6).abs() < 1e-9, "r = {}", p.radius());
    let chi = p.derivation().expect("theory").chi;
    assert!((chi - 48.354).abs() < 1e-3, "chi = {chi}");
}

#[test]
fn the_theorem_regime_is_reported_not_rejected() {
    let k = TheoryConstants {
        l: 1.0,
        rho: 1.0,
        eps: 1.5,
        c: 1.0,
        delta: 0.1,
        delta_f: 1.0,
    };
    let p = PgdParams::from_theory(&k, 3).expect("outside the regime is still computed");
    assert!(!p.derivation().expect("theory").in_theorem_regime);
    let k = TheoryConstants { eps: 1.0, ..k }; // ε = ℓ²/ρ exactly: inside
    assert!(
        PgdParams::from_theory(&k, 3)
            .expect("valid")
            .derivation()
            .expect("theory")
            .in_theorem_regime
    );
    assert!(
        PgdParams::practical(0.1, 0.1, 0.1, 0.1, 1)
            .expect("valid")
            .derivation()
            .is_none()
    );
}

#[test]
fn every_invalid_theory_constant_is_named() {
    let ok = common::design_example();
    type Set = fn(&mut TheoryConstants, f64);
    let fields: [(&str, Set); 5] = [
        ("l", |k, v| k.l = v),
        ("rho", |k, v| k.rho = v),
        ("eps", |k, v| k.eps = v),
        ("c", |k, v| k.c = v),
        ("delta_f", |k, v| k.delta_f = v),
    ];
    for (name, set) in fields {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut k = ok;
            set(&mut k, bad);
            match PgdParams::from_theory(&k, 10) {
                Err(ParamError::NotPositiveFinite { name: n, value }) => {
                    assert_eq!(n, name);
                    assert!(value.is_nan() && bad.is_nan() || value == bad);
                }
                other => panic!("{name} = {bad}: expected NotPositiveFinite, got {other:?}"),
            }
        }
    }
    for bad in [0.0, 1.0, -0.5, 2.0, f64::NAN, f64::INFINITY] {
        let k = TheoryConstants { delta: bad, ..ok };
        assert!(
            matches!(
                PgdParams::from_theory(&k, 10),
                Err(ParamError::NotInUnitInterval { name: "delta", .. })
            ),
            "delta = {bad}"
        );
    }
    assert_eq!(
        PgdParams::from_theory(&ok, 0),
        Err(ParamError::Zero { name: "dim" })
    );
    // Valid constants whose derived values underflow (r = √c/χ²·ε/ℓ = 0 in f64), and
    // constants whose t_thres is beyond 2^53.
    let underflow = TheoryConstants {
        eps: 1e-300,
        l: 1e10,
        ..ok
    };
    let beyond = TheoryConstants {
        eps: 1e-40,
        rho: 1e-40,
        l: 1.0,
        ..ok
    };
    for k in [underflow, beyond] {
        assert!(matches!(
            PgdParams::from_theory(&k, 10),
            Err(ParamError::DerivedOutOfRange { .. })
        ));
    }
}

#[test]
fn every_invalid_practical_parameter_is_named() {
    let names = ["eta", "radius", "g_thres", "f_thres"];
    for (i, name) in names.iter().enumerate() {
        for bad in [0.0, -1e-3, f64::NAN, f64::INFINITY] {
            let mut v = [0.1, 0.1, 0.1, 0.1];
            v[i] = bad;
            let err = PgdParams::practical(v[0], v[1], v[2], v[3], 10).expect_err("invalid");
            assert!(
                matches!(err, ParamError::NotPositiveFinite { name: n, .. } if n == *name),
                "{name} = {bad}: {err:?}"
            );
            assert!(err.to_string().contains(name));
        }
    }
    assert_eq!(
        PgdParams::practical(0.1, 0.1, 0.1, 0.1, 0),
        Err(ParamError::Zero { name: "t_thres" })
    );
    let p = PgdParams::practical(0.1, 0.2, 0.3, 0.4, 5).expect("valid");
    assert_eq!(
        (p.eta(), p.radius(), p.g_thres(), p.f_thres(), p.t_thres()),
        (0.1, 0.2, 0.3, 0.4, 5)
    );
}
