//! Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999).
//!
//! Assumptions: a customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across
//! customers (γ is called `v` in model.json, as in lifetimes); spend is independent of purchasing.

use rand::Rng;
use rand_distr::{Distribution, Gamma};

use super::special::{digamma, ln_gamma};
use super::{DistinctCounts, Objective, par_sum};
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
                return Err(Error::Invalid(format!(
                    "Gamma-Gamma parameter {n} = {val} must be positive and finite"
                )));
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
        if self.q > 1.0 {
            self.p * self.v / (self.q - 1.0)
        } else {
            f64::INFINITY
        }
    }

    /// E[M | x transactions with mean value m̄]: the posterior mean transaction value.
    pub fn conditional_expected_spend(&self, x: f64, mean: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        p * (v + x * mean) / (p * x + q - 1.0)
    }

    /// Log-likelihood of a customer's mean value `mean` over `x` transactions.
    pub fn ln_likelihood(&self, x: f64, mean: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
            + q * v.ln()
            + (p * x - 1.0) * mean.ln()
            + p * x * x.ln()
            - (p * x + q) * (v + mean * x).ln()
    }

    /// Draws a customer's ν, then fills `out` with `out.len()` transaction values.
    pub fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        let nu = Gamma::new(self.q, 1.0 / self.v)
            .expect("validated")
            .sample(rng);
        let spend = Gamma::new(self.p, 1.0 / nu).expect("positive");
        for o in out {
            *o = spend.sample(rng);
        }
    }
}

/// The Gamma-Gamma likelihood over customers with repeat transactions, analytic gradient.
/// Terms in ln Γ and ψ depend on a customer only through x, so they are computed once per
/// distinct x; each customer then costs one logarithm per evaluation.
pub struct Likelihood {
    x: Vec<f64>,
    mean: Vec<f64>,
    ln_mean: Vec<f64>,
    distinct: DistinctCounts,
}

impl Likelihood {
    /// Customers' repeat-transaction counts and mean values; entries with x = 0 or a
    /// non-positive or missing mean are left out (they carry no spend information).
    pub fn new(x: &[f64], mean: &[f64]) -> Self {
        let (x, mean): (Vec<f64>, Vec<f64>) = x
            .iter()
            .zip(mean)
            .filter(|(x, m)| **x > 0.0 && **m > 0.0 && m.is_finite())
            .map(|(x, m)| (*x, *m))
            .unzip();
        let ln_mean = mean.iter().map(|m| m.ln()).collect();
        let distinct = DistinctCounts::new(&x, &vec![1.0; x.len()]);
        Likelihood {
            x,
            mean,
            ln_mean,
            distinct,
        }
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
    fn analytic_gradient(&self) -> bool {
        true
    }
    fn neg_ll_grad(&self, log_theta: &[f64], grad: &mut [f64]) -> f64 {
        let [p, q, v] = [0, 1, 2].map(|i| log_theta[i].exp());
        let (dg_q, ln_v, lg_q) = (digamma(q), v.ln(), ln_gamma(q));
        let d = &self.distinct;
        let (mut ll, mut gp, mut gq) = (0.0, 0.0, 0.0);
        for (&x, &n) in d.values.iter().zip(&d.counts) {
            let px = p * x;
            let (dg1, dg0) = (digamma(px + q), digamma(px));
            ll += n * (ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_v + px * x.ln());
            gp += n * x * (dg1 - dg0 + x.ln());
            gq += n * (dg1 - dg_q + ln_v);
        }
        let [s_ll, s_p, s_q, s_v] = par_sum(self.x.len(), |range| {
            let mut acc = [0.0; 4];
            for i in range {
                let (x, m, ln_m) = (self.x[i], self.mean[i], self.ln_mean[i]);
                let px = p * x;
                let vmx = v + m * x;
                let ln_vmx = vmx.ln();
                acc[0] += (px - 1.0) * ln_m - (px + q) * ln_vmx;
                acc[1] += x * (ln_m - ln_vmx);
                acc[2] -= ln_vmx;
                acc[3] += q / v - (px + q) / vmx;
            }
            acc
        });
        grad[0] = -(gp + s_p) * p;
        grad[1] = -(gq + s_q) * q;
        grad[2] = -s_v * v;
        -(ll + s_ll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_and_total_match_the_per_customer_form() {
        let x = [1.0, 2.0, 2.0, 5.0];
        let m = [10.0, 35.5, 20.0, 41.0];
        let lik = Likelihood::new(&x, &m);
        let theta = [1.2f64, 0.9, 2.1];
        let gg = GammaGamma::new(theta[0].exp(), theta[1].exp(), theta[2].exp()).unwrap();
        let direct: f64 = x
            .iter()
            .zip(&m)
            .map(|(x, m)| gg.ln_likelihood(*x, *m))
            .sum();
        let mut g = [0.0; 3];
        assert!((lik.neg_ll_grad(&theta, &mut g) + direct).abs() < 1e-9);
        for i in 0..3 {
            let mut p = theta;
            p[i] += 1e-6;
            let up = lik.neg_ll(&p);
            p[i] -= 2e-6;
            let fd = (up - lik.neg_ll(&p)) / 2e-6;
            assert!(
                (fd - g[i]).abs() < 1e-5 * (1.0 + fd.abs()),
                "{i}: {fd} vs {}",
                g[i]
            );
        }
    }
}
