//! Pareto/NBD (Schmittlein, Morrison & Colombo 1987; likelihood as in Fader & Hardie's 2005 note).
//!
//! Assumptions: while alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); its
//! unobserved lifetime is exponential with rate μ ~ Gamma(s, β).

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Gamma};

use super::special::{hyp2f1, ln_gamma, log_add_exp, log_sub_exp};
use super::{Objective, Rfm, par_sum};
use crate::error::{Error, Result};

/// Pareto/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoNbd {
    /// Shape of the purchase-rate Gamma.
    pub r: f64,
    /// Rate of the purchase-rate Gamma.
    pub alpha: f64,
    /// Shape of the dropout-rate Gamma.
    pub s: f64,
    /// Rate of the dropout-rate Gamma.
    pub beta: f64,
}

/// Names of the parameters, in paper order.
pub const NAMES: [&str; 4] = ["r", "alpha", "s", "beta"];

impl ParetoNbd {
    /// Validated parameters: all must be finite and positive.
    pub fn new(r: f64, alpha: f64, s: f64, beta: f64) -> Result<Self> {
        for (n, v) in NAMES.iter().zip([r, alpha, s, beta]) {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::Invalid(format!(
                    "Pareto/NBD parameter {n} = {v} must be positive and finite"
                )));
            }
        }
        Ok(ParetoNbd { r, alpha, s, beta })
    }

    /// From fitted values in [`NAMES`] order.
    pub fn from_slice(v: &[f64]) -> Result<Self> {
        Self::new(v[0], v[1], v[2], v[3])
    }

    /// ln of A₀ (the "died between t_x and T" integral, without its s/(r+s+x) factor), by the
    /// ₂F₁ representation that keeps the argument in [0, 1).
    fn ln_a0(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let rsx = r + s + x;
        let (big, b2, small) = if alpha >= beta {
            (alpha, s + 1.0, beta)
        } else {
            (beta, r + x, alpha)
        };
        let diff = big - small;
        // Euler's transformation 2F1(a, b; a+1; z) = (1−z)^{1−b} 2F1(1, a+1−b; a+1; z) keeps
        // every series term below z^k and moves the large factor into logs: no overflow for
        // large x or z near 1. Here 1 − z = (small + u)/(big + u).
        let term = |u: f64| {
            let ln_big = (big + u).ln();
            (1.0 - b2) * ((small + u).ln() - ln_big)
                + hyp2f1(1.0, rsx + 1.0 - b2, rsx + 1.0, diff / (big + u)).ln()
                - rsx * ln_big
        };
        log_sub_exp(term(t_x), term(t))
    }

    /// Log-likelihood of one customer.
    pub fn ln_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let base = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        let alive = -(r + x) * (alpha + t).ln() - s * (beta + t).ln();
        let dead = (s / (r + s + x)).ln() + self.ln_a0(x, t_x, t);
        base + log_add_exp(alive, dead)
    }

    /// Probability that a customer with history (x, t_x, T) is alive at T.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let ln_odds = (s / (r + s + x)).ln()
            + (r + x) * (alpha + t).ln()
            + s * (beta + t).ln()
            + self.ln_a0(x, t_x, t);
        1.0 / (1.0 + ln_odds.exp())
    }

    /// E[X(t)] for a new customer.
    pub fn expected(&self, t: f64) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = *self;
        r * beta / (alpha * (s - 1.0)) * (1.0 - (beta / (beta + t)).powf(s - 1.0))
    }

    /// E[X(T, T+t] | x, t_x, T].
    pub fn conditional_expected(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let body = (r + x) * (beta + big_t) / ((alpha + big_t) * (s - 1.0))
            * (1.0 - ((beta + big_t) / (beta + big_t + t)).powf(s - 1.0));
        body * self.p_alive(x, t_x, big_t)
    }

    /// Simulates one customer observed for `t` time units after its first purchase: returns its
    /// repeat-purchase times.
    pub fn simulate<R: Rng + ?Sized>(&self, t: f64, rng: &mut R, out: &mut Vec<f64>) {
        out.clear();
        let lambda = Gamma::new(self.r, 1.0 / self.alpha)
            .expect("validated")
            .sample(rng);
        let mu = Gamma::new(self.s, 1.0 / self.beta)
            .expect("validated")
            .sample(rng);
        let lifetime = -(1.0 - rng.random::<f64>()).ln() / mu;
        let end = lifetime.min(t);
        let mut now = 0.0;
        loop {
            now += -(1.0 - rng.random::<f64>()).ln() / lambda;
            if now > end {
                return;
            }
            out.push(now);
        }
    }
}

/// The Pareto/NBD likelihood over a set of customers (numerical gradient).
pub struct Likelihood {
    rfm: Rfm,
}

impl Likelihood {
    /// Customers' frequency, recency and age.
    pub fn new(x: &[f64], t_x: &[f64], t: &[f64]) -> Self {
        Likelihood {
            rfm: Rfm::compress(x, t_x, t),
        }
    }
}

impl Objective for Likelihood {
    fn names(&self) -> Vec<String> {
        NAMES.iter().map(|s| s.to_string()).collect()
    }
    fn n_obs(&self) -> usize {
        self.rfm.customers()
    }
    fn start(&self) -> Vec<f64> {
        vec![0.0; 4]
    }
    fn neg_ll(&self, log_theta: &[f64]) -> f64 {
        let [r, alpha, s, beta] = [0, 1, 2, 3].map(|i| log_theta[i].exp());
        let Ok(m) = ParetoNbd::new(r, alpha, s, beta) else {
            return f64::INFINITY;
        };
        let d = &self.rfm;
        let [ll] = par_sum(d.x.len(), |range| {
            [range
                .map(|i| d.w[i] * m.ln_likelihood(d.x[i], d.t_x[i], d.t[i]))
                .sum()]
        });
        -ll
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The likelihood equals its defining integral over the death time τ ∈ (t_x, T).
    #[test]
    fn likelihood_matches_direct_integration() {
        let m = ParetoNbd::new(0.55, 10.6, 0.61, 11.7).unwrap();
        let m2 = ParetoNbd::new(0.8, 3.0, 1.4, 25.0).unwrap();
        for model in [m, m2] {
            for (x, tx, t) in [(0.0, 0.0, 30.0), (2.0, 10.0, 38.0), (9.0, 1.0, 20.0)] {
                let ParetoNbd { r, alpha, s, beta } = model;
                let pre = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
                let n = 200_000;
                let h = (t - tx) / n as f64;
                let integral: f64 = (0..n)
                    .map(|k| {
                        let u = tx + (k as f64 + 0.5) * h;
                        (alpha + u).powf(-(r + x)) * (beta + u).powf(-(s + 1.0))
                    })
                    .sum::<f64>()
                    * h;
                let direct =
                    pre + ((alpha + t).powf(-(r + x)) * (beta + t).powf(-s) + s * integral).ln();
                let got = model.ln_likelihood(x, tx, t);
                assert!(
                    (got - direct).abs() < 1e-7,
                    "{x},{tx},{t}: {got} vs {direct}"
                );
            }
        }
    }
}
