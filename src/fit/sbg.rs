//! Shifted-beta-geometric (sBG) churn for contractual businesses (Fader & Hardie 2007, "How to
//! project customer retention"; 2010, "Customer-base valuation in a contractual setting").
//!
//! Assumptions: at each renewal a customer churns with probability θ, constant for the customer;
//! θ ~ Beta(α, β) across customers.

use super::special::{hyp2f1, ln_beta};
use super::{Objective, special::digamma};
use crate::error::{Error, Result};

/// sBG parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sbg {
    /// First Beta parameter of the churn probability.
    pub alpha: f64,
    /// Second Beta parameter of the churn probability.
    pub beta: f64,
}

/// Names of the parameters.
pub const NAMES: [&str; 2] = ["alpha", "beta"];

impl Sbg {
    /// Validated parameters.
    pub fn new(alpha: f64, beta: f64) -> Result<Self> {
        for (n, v) in NAMES.iter().zip([alpha, beta]) {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::Invalid(format!(
                    "sBG parameter {n} = {v} must be positive and finite"
                )));
            }
        }
        Ok(Sbg { alpha, beta })
    }

    /// P(T = t): churn at renewal opportunity t ≥ 1.
    pub fn churn_at(&self, t: u32) -> f64 {
        (ln_beta(self.alpha + 1.0, self.beta + t as f64 - 1.0) - ln_beta(self.alpha, self.beta))
            .exp()
    }

    /// S(t): share still a customer after t renewal opportunities.
    pub fn survival(&self, t: u32) -> f64 {
        (ln_beta(self.alpha, self.beta + t as f64) - ln_beta(self.alpha, self.beta)).exp()
    }

    /// Retention rate r_t = S(t) / S(t−1), rising with t as the weak leave first.
    pub fn retention_rate(&self, t: u32) -> f64 {
        (self.beta + t as f64 - 1.0) / (self.alpha + self.beta + t as f64 - 1.0)
    }

    /// Discounted expected residual lifetime, in periods, of a customer who has renewed `n`
    /// times (is at the end of period n), with discount rate `d` per period (FH 2010, eq. 6).
    pub fn derl(&self, d: f64, n: u32) -> f64 {
        let (a, b, n) = (self.alpha, self.beta, n as f64);
        (b + n) / (a + b + n) * hyp2f1(1.0, b + n + 1.0, a + b + n + 1.0, 1.0 / (1.0 + d))
    }
}

/// The sBG likelihood: customers churned at each renewal opportunity and customers still active
/// when observation ended, after each number of renewals (staggered acquisition is allowed).
pub struct Likelihood {
    /// `lost[t − 1]`: customers who churned at renewal opportunity t.
    lost: Vec<f64>,
    /// `censored[t]`: customers still active after t renewals when observation ended.
    censored: Vec<f64>,
    n: usize,
}

impl Likelihood {
    /// From one cohort's survivor counts: `alive[t]` customers at the start of period t
    /// (alive[0] = cohort size), observed for `alive.len() − 1` renewal opportunities; they must
    /// not increase.
    pub fn new(alive: &[f64]) -> Result<Self> {
        if alive.len() < 2 || alive.windows(2).any(|w| w[1] > w[0] || w[1] < 0.0) {
            return Err(Error::Invalid(
                "survivor counts need at least two periods and must not increase".into(),
            ));
        }
        let mut censored = vec![0.0; alive.len()];
        censored[alive.len() - 1] = *alive.last().unwrap_or(&0.0);
        Ok(Likelihood {
            lost: alive.windows(2).map(|w| w[0] - w[1]).collect(),
            censored,
            n: alive[0] as usize,
        })
    }

    /// From customers: renewals made and whether each has churned (at the next opportunity)
    /// or is still active.
    pub fn from_customers(renewals: &[u32], churned: &[bool]) -> Result<Self> {
        let longest = renewals.iter().copied().max().unwrap_or(0) as usize;
        let mut lost = vec![0.0; longest + 1];
        let mut censored = vec![0.0; longest + 1];
        for (&k, &gone) in renewals.iter().zip(churned) {
            if gone {
                lost[k as usize] += 1.0;
            } else {
                censored[k as usize] += 1.0;
            }
        }
        if lost.iter().sum::<f64>() == 0.0 {
            return Err(Error::Invalid(
                "no customer has churned yet: the churn model cannot be fitted".into(),
            ));
        }
        Ok(Likelihood {
            lost,
            censored,
            n: renewals.len(),
        })
    }

    /// Churned counts by opportunity (index t − 1) and active counts by renewals made.
    pub fn counts(&self) -> (&[f64], &[f64]) {
        (&self.lost, &self.censored)
    }
}

impl Objective for Likelihood {
    fn names(&self) -> Vec<String> {
        NAMES.iter().map(|s| s.to_string()).collect()
    }
    fn n_obs(&self) -> usize {
        self.n
    }
    fn start(&self) -> Vec<f64> {
        vec![0.0, 0.0]
    }
    fn neg_ll(&self, log_theta: &[f64]) -> f64 {
        let mut g = [0.0; 2];
        self.neg_ll_grad(log_theta, &mut g)
    }
    fn analytic_gradient(&self) -> bool {
        true
    }
    fn neg_ll_grad(&self, log_theta: &[f64], grad: &mut [f64]) -> f64 {
        let (a, b) = (log_theta[0].exp(), log_theta[1].exp());
        let (dab, da, db) = (digamma(a + b), digamma(a), digamma(b));
        let base = ln_beta(a, b);
        let (mut ll, mut ga, mut gb) = (0.0, 0.0, 0.0);
        // Churn at t: B(a+1, b+t−1)/B(a, b); still active after t: B(a, b+t)/B(a, b).
        for (k, &lost) in self.lost.iter().enumerate() {
            let t = k as f64 + 1.0;
            if lost > 0.0 {
                ll += lost * (ln_beta(a + 1.0, b + t - 1.0) - base);
                let s = digamma(a + b + t);
                ga += lost * (digamma(a + 1.0) - s - da + dab);
                gb += lost * (digamma(b + t - 1.0) - s - db + dab);
            }
        }
        for (k, &still) in self.censored.iter().enumerate() {
            let t = k as f64;
            if still > 0.0 {
                ll += still * (ln_beta(a, b + t) - base);
                let s = digamma(a + b + t);
                ga += still * (dab - s);
                gb += still * (digamma(b + t) - s - db + dab);
            }
        }
        grad[0] = -ga * a;
        grad[1] = -gb * b;
        -ll
    }
}
