//! Outputs, one file per format: atomic file writes, the `fit` summary table, the per-customer
//! CSV and `model.json`.

pub mod atomic;
pub mod customers;
pub mod fit_table;
pub mod run;

pub use atomic::write_atomic;
