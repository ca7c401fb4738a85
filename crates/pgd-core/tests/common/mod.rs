//! Shared by the integration tests of pgd-core.

use pgd_core::TheoryConstants;

/// DESIGN.md's example constants: ℓ = ρ = 1, ε = 10⁻², c = 1, δ = 10⁻², Δf = 1 (with d = 10 they
/// give r ≈ 4.3·10⁻⁶ and t_thres = 484).
pub fn design_example() -> TheoryConstants {
    TheoryConstants {
        l: 1.0,
        rho: 1.0,
        eps: 1e-2,
        c: 1.0,
        delta: 1e-2,
        delta_f: 1.0,
    }
}
