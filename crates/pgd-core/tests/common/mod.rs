//! Shared by the integration tests of pgd-core.

use pgd_core::TheoryConstants;

/// DESIGN.md's example constants: ℓ = ρ = 1, ε = 10⁻², c = 1, δ = 10⁻², Δf = 1 (with d = 10 they
/// give r ≈ 4.3·10⁻⁶ and t_thres = 484).
#[allow(dead_code)] // not every test file uses it
pub fn design_example() -> TheoryConstants {
    constants(1.0, 1.0, 1e-2, 1e-2)
}

/// Constants ℓ, ρ, ε, δ with c = 1 and Δf = 1.
#[allow(dead_code)] // not every test file uses it
pub fn constants(l: f64, rho: f64, eps: f64, delta: f64) -> TheoryConstants {
    TheoryConstants {
        l,
        rho,
        eps,
        c: 1.0,
        delta,
        delta_f: 1.0,
    }
}
