//! Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999).
//!
//! Assumptions: a customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across
//! customers (γ is called `v` in model.json, as in lifetimes); spend is independent of purchasing.

use rand::Rng;
use rand_distr::{Distribution, Gamma};

use super::special::{digamma, ln_gamma};
use super::{Objective, par_sum};
use crate::error::{Error, Result};

/// Gamma-Gamma parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    /// Shape of each transaction's value.
    pub p: f64,
    /// Shape of the across-customer Gamma of ν.
    pub q: f64,
    /// Rate of the across-customer Gamma of ν (γ in the paper).
    pub v: f64,
}

/// Names of the parameters.
pub const NAMES: [&str; 3] = ["p", "q", "v"];

impl GammaGamma {
    /// Validated parameters.
    pub fn new(p: f64, q: f64, v: f64) -> Result<Self> {
        for (n, val) in NAMES.iter().zip([p, q, v]) {
            if !(val > 0.0 && val.is_finite()) {
                return Err(Error::Invalid(format!("Gamma-Gamma parameter {n} = {val} must be positive and finite")));
            }
        }
        Ok(GammaGamma { p, q, v })
    }

    /// From fitted values in [`NAMES`] order.
    pub fn from_slice(v: &[f64]) -> Result<Self> {
        Self::new(v[0], v[1], v[2])
    }

    /// Population mean transaction value, pγ/(q−1) (infinite for q ≤ 1).
    pub fn mean_spend(&self) -> f64 {
        if self.q > 1.0 { self.p * self.v / (self.q - 1.0) } else { f64::INFINITY }
    }

    /// E[M | x transactions with mean value m̄]: the posterior mean transaction value.
    pub fn conditional_expected_spend(&self, x: f64, mean: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        p * (v + x * mean) / (p * x + q - 1.0)
    }

    /// Log-likelihood of a customer's mean value `mean` over `x` transactions.
    pub fn ln_likelihood(&self, x: f64, mean: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q) + q * v.ln() + (p * x - 1.0) * mean.ln()
            + p * x * x.ln()
            - (p * x + q) * (v + mean * x).ln()
    }

    /// Draws a customer's ν, then fills `out` with `out.len()` transaction values.
    pub fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        let nu = Gamma::new(self.q, 1.0 / self.v).expect("validated").sample(rng);
        let spend = Gamma::new(self.p, 1.0 / nu).expect("positive");
        for o in out {
            *o = spend.sample(rng);
        }
    }
}

/// The Gamma-Gamma likelihood over customers with repeat transactions, analytic gradient.
pub struct Likelihood {
    x: Vec<f64>,
    mean: Vec<f64>,
}

impl Likelihood {
    /// Customers' repeat-transaction counts and mean values; entries with x = 0 or a
    /// non-positive or missing mean are left out (they carry no spend information).
    pub fn new(x: &[f64], mean: &[f64]) -> Self {
        let (x, mean) = x
            .iter()
            .zip(mean)
            .filter(|(x, m)| **x > 0.0 && **m > 0.0 && m.is_finite())
            .map(|(x, m)| (*x, *m))
            .unzip();
        Likelihood { x, mean }
    }
}

impl Objective for Likelihood {
    fn names(&self) -> Vec<String> {
        NAMES.iter().map(|s| s.to_string()).collect()
    }
    fn n_obs(&self) -> usize {
        self.x.len()
    }
    fn start(&self) -> Vec<f64> {
        vec![0.0, 0.0, 0.0]
    }
    fn neg_ll(&self, log_theta: &[f64]) -> f64 {
        let mut g = [0.0; 3];
        self.neg_ll_grad(log_theta, &mut g)
    }
    fn neg_ll_grad(&self, log_theta: &[f64], grad: &mut [f64]) -> f64 {
        let [p, q, v] = [0, 1, 2].map(|i| log_theta[i].exp());
        let (dg_q, ln_v, lg_q) = (digamma(q), v.ln(), ln_gamma(q));
        let [ll, gp, gq, gv] = par_sum(self.x.len(), |range| {
            let mut acc = [0.0; 4];
            for i in range {
                let (x, m) = (self.x[i], self.mean[i]);
                let px = p * x;
                let vmx = v + m * x;
                let ln_vmx = vmx.ln();
                let (ln_m, ln_x) = (m.ln(), x.ln());
                acc[0] += ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_v + (px - 1.0) * ln_m + px * ln_x
                    - (px + q) * ln_vmx;
                let dg = digamma(px + q);
                acc[1] += x * (dg - digamma(px) + ln_m + ln_x - ln_vmx);
                acc[2] += dg - dg_q + ln_v - ln_vmx;
                acc[3] += q / v - (px + q) / vmx;
            }
            acc
        });
        grad[0] = -gp * p;
        grad[1] = -gq * q;
        grad[2] = -gv * v;
        -ll
    }
}
