pub use autodiff_objectives;
pub use certify;
pub use pgd_core;
