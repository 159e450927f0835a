//! The simulation engine. For now: the per-twin random streams shared by every simulator.

pub mod rng;
