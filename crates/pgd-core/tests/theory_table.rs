//! The table of `PgdParams::from_theory` values in docs/theory.md, regenerated and checked:
//! `cargo test -p pgd-core --test theory_table -- --nocapture` prints it.

use pgd_core::{PgdParams, TheoryConstants};

mod common;

fn table() -> String {
    let base = common::design_example();
    let settings = [
        (base, 10),
        (base, 1_000),
        (base, 1_000_000),
        (TheoryConstants { eps: 1e-3, ..base }, 10),
        (TheoryConstants { c: 0.1, ..base }, 10),
        (TheoryConstants { l: 10.0, ..base }, 100),
        (
            TheoryConstants {
                delta: 1e-6,
                delta_f: 100.0,
                ..base
            },
            10,
        ),
    ];
    let mut out = String::from(
        "| ℓ | ρ | ε | c | δ | Δf | d | χ | η | r | g_thres | f_thres | t_thres (real) | t_thres |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (k, d) in settings {
        let p = PgdParams::from_theory(&k, d).expect("valid constants");
        let der = p.derivation().expect("from theory");
        out += &format!(
            "| {} | {} | {:e} | {} | {:e} | {} | {} | {:.3} | {:.3e} | {:.3e} | {:.3e} | {:.3e} | {:.2} | {} |\n",
            k.l,
            k.rho,
            k.eps,
            k.c,
            k.delta,
            k.delta_f,
            d,
            der.chi,
            p.eta(),
            p.radius(),
            p.g_thres(),
            p.f_thres(),
            der.t_thres_real,
            p.t_thres()
        );
    }
    out
}

const EXPECTED: &str = "\
| ℓ | ρ | ε | c | δ | Δf | d | χ | η | r | g_thres | f_thres | t_thres (real) | t_thres |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
| 1 | 1 | 1e-2 | 1 | 1e-2 | 1 | 10 | 48.354 | 1.000e0 | 4.277e-6 | 4.277e-6 | 8.845e-9 | 483.54 | 484 |
| 1 | 1 | 1e-2 | 1 | 1e-2 | 1 | 1000 | 62.170 | 1.000e0 | 2.587e-6 | 2.587e-6 | 4.162e-9 | 621.70 | 622 |
| 1 | 1 | 1e-2 | 1 | 1e-2 | 1 | 1000000 | 82.893 | 1.000e0 | 1.455e-6 | 1.455e-6 | 1.756e-9 | 828.93 | 829 |
| 1 | 1 | 1e-3 | 1 | 1e-2 | 1 | 10 | 62.170 | 1.000e0 | 2.587e-7 | 2.587e-7 | 1.316e-10 | 1965.98 | 1966 |
| 1 | 1 | 1e-2 | 0.1 | 1e-2 | 1 | 10 | 55.262 | 1.000e-1 | 1.035e-6 | 1.035e-6 | 5.925e-10 | 55262.04 | 55263 |
| 10 | 1 | 1e-2 | 1 | 1e-2 | 1 | 100 | 62.170 | 1.000e-1 | 2.587e-7 | 2.587e-6 | 4.162e-9 | 6216.98 | 6217 |
| 1 | 1 | 1e-2 | 1 | 1e-6 | 100 | 10 | 89.801 | 1.000e0 | 1.240e-6 | 1.240e-6 | 1.381e-9 | 898.01 | 899 |
";

#[test]
fn the_documented_table_is_what_from_theory_computes() {
    let t = table();
    println!("{t}");
    assert_eq!(t, EXPECTED);
}
