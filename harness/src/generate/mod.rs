//! Property-generated differential testing: a seeded generator produces scenarios (bucket
//! setup, then writes and deletes), each runs on a target and on a fresh in-process reference
//! (the oracle) in lock-step, and any difference in status, message, landed rows or
//! `rejected_points` is shrunk and written out as an ordinary YAML case under
//! `cases/regressions/`.
//!
//! - `difference`: what differs between the oracle's and the target's observation of a step;
//! - `model`: the scenario and its rendering (to a `Case`, or to bodies for a given "now");
//! - `rng`: the random stream of one scenario, fixed by (seed, index);
//! - `strategy`: the generator, the (seed, index) → scenario mapping and shrinking's steps;
//! - `runner`: lock-step runs, comparison, the fuzz loop and shrinking;
//! - `regression`: the shrunk scenario as a case file plus the reference's snapshot.
//!
//! Invariant: the verdict comes from the reference's answer, never from what the generator
//! meant to provoke.

pub mod difference;
pub mod model;
pub mod regression;
pub mod rng;
pub mod runner;
pub mod strategy;

pub use difference::{DiffKind, Difference};
pub use model::Scenario;
pub use runner::{check, fuzz, FuzzConfig, FuzzReport, Outcome};
pub use strategy::GenConfig;
