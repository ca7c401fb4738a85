pub use autodiff_objectives;
pub use pgd_core;
