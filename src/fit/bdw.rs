//! Beta-discrete-Weibull churn (Fader, Hardie, Liu, Davin & Steenburgh 2018, "How to project
//! customer retention revisited"): the sBG with a churn probability that changes with tenure,
//! S(t | θ) = (1 − θ)^(t^c), θ ~ Beta(α, β). c = 1 is the sBG; c < 1 means the hazard falls
//! with tenure for each customer, c > 1 that it rises.

use super::Objective;
use super::sbg::Likelihood as SbgLikelihood;
use super::special::{ln_beta, log_sub_exp};
use crate::error::{Error, Result};

/// Names of the parameters.
pub const NAMES: [&str; 3] = ["alpha", "beta", "c"];

/// Beta-discrete-Weibull parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bdw {
    /// First Beta parameter.
    pub alpha: f64,
    /// Second Beta parameter.
    pub beta: f64,
    /// Weibull shape of the tenure effect.
    pub c: f64,
}

impl Bdw {
    /// Validated parameters.
    pub fn new(alpha: f64, beta: f64, c: f64) -> Result<Self> {
        for (n, v) in NAMES.iter().zip([alpha, beta, c]) {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::Invalid(format!(
                    "BdW parameter {n} = {v} must be positive and finite"
                )));
            }
        }
        Ok(Bdw { alpha, beta, c })
    }

    /// ln S(t): share still a customer after t renewal opportunities.
    pub fn ln_survival(&self, t: u32) -> f64 {
        let tc = (t as f64).powf(self.c);
        ln_beta(self.alpha, self.beta + tc) - ln_beta(self.alpha, self.beta)
    }

    /// S(t).
    pub fn survival(&self, t: u32) -> f64 {
        self.ln_survival(t).exp()
    }
}

/// The BdW likelihood over the same counts as the sBG's.
pub struct Likelihood<'a> {
    counts: &'a SbgLikelihood,
    start: [f64; 2],
}

impl<'a> Likelihood<'a> {
    /// On the counts of an sBG likelihood, starting from the fitted sBG (α, β) and c = 1.
    pub fn new(counts: &'a SbgLikelihood, sbg_alpha: f64, sbg_beta: f64) -> Self {
        Likelihood {
            counts,
            start: [sbg_alpha.ln(), sbg_beta.ln()],
        }
    }

    /// Parameters at optimiser values.
    pub fn params(log_theta: &[f64]) -> Bdw {
        Bdw {
            alpha: log_theta[0].exp(),
            beta: log_theta[1].exp(),
            c: log_theta[2].exp(),
        }
    }
}

impl Objective for Likelihood<'_> {
    fn names(&self) -> Vec<String> {
        NAMES.iter().map(|s| s.to_string()).collect()
    }
    fn n_obs(&self) -> usize {
        self.counts.n_obs()
    }
    fn start(&self) -> Vec<f64> {
        vec![self.start[0], self.start[1], 0.0]
    }
    fn neg_ll(&self, log_theta: &[f64]) -> f64 {
        let m = Self::params(log_theta);
        let (lost, censored) = self.counts.counts();
        let mut ll = 0.0;
        for (k, &n) in lost.iter().enumerate() {
            if n > 0.0 {
                let t = k as u32 + 1;
                ll += n * log_sub_exp(m.ln_survival(t - 1), m.ln_survival(t));
            }
        }
        for (k, &n) in censored.iter().enumerate() {
            if n > 0.0 {
                ll += n * m.ln_survival(k as u32);
            }
        }
        if ll.is_finite() { -ll } else { f64::INFINITY }
    }
}
