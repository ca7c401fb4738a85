pub use autodiff_objectives;
