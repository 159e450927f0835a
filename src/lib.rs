//! twinsim: test a product change on digital twins of your customers before it ships.
//!
//! The pipeline, in data-flow order:
//!
//! ```text
//! events.csv ─ data::read_event_log ─▶ EventLog ─ Ledger::build ─▶ Ledger (x, t_x, T, spend, channels)
//!            ─ fit::suite::fit_ledger ─▶ FitSuite (BG/NBD, Pareto/NBD, Gamma-Gamma, channel mix)
//!            ─ population::from_log ─▶ model.json + model.customers.csv
//! ```
//!
//! [`population::from_log::fit_event_log`] runs the whole chain; each stage is usable alone.
//! Synthetic logs for tests and demos come from [`data::synthetic`].

#![warn(missing_docs)]

pub mod data;
pub mod engine;
pub mod error;
pub mod fit;
pub mod metrics;
pub mod population;
pub mod report;
pub mod scenario;

pub use error::{Error, Result};
