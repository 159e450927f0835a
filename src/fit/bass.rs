//! Bass diffusion of first purchases (Bass 1969), fitted by maximum likelihood to adoptions per
//! period (Schmittlein & Mahajan 1982).
//!
//! Assumptions: each of M prospects adopts at a time with hazard p + q·F(t), F the share that
//! has adopted; so F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t}).

use super::Objective;
use super::special::ln_gamma;
use crate::error::{Error, Result};

/// Bass parameters, per period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bass {
    /// Innovation coefficient.
    pub p: f64,
    /// Imitation coefficient.
    pub q: f64,
    /// Market potential.
    pub m: f64,
}

/// Names of the parameters.
pub const NAMES: [&str; 3] = ["p", "q", "m"];

impl Bass {
    /// Validated parameters.
    pub fn new(p: f64, q: f64, m: f64) -> Result<Self> {
        if !(p > 0.0 && q >= 0.0 && m > 0.0 && p.is_finite() && q.is_finite() && m.is_finite()) {
            return Err(Error::Invalid(format!(
                "Bass parameters p = {p}, q = {q}, M = {m}: need p > 0, q ≥ 0, M > 0"
            )));
        }
        Ok(Bass { p, q, m })
    }

    /// Share of the market that has adopted by time t.
    pub fn cdf(&self, t: f64) -> f64 {
        let e = (-(self.p + self.q) * t).exp();
        (1.0 - e) / (1.0 + self.q / self.p * e)
    }

    /// Adoption time of the prospect at quantile `u` ∈ [0, 1): the inverse of [`Bass::cdf`].
    pub fn quantile(&self, u: f64) -> f64 {
        -((1.0 - u) / (1.0 + self.q / self.p * u)).ln() / (self.p + self.q)
    }
}

/// Likelihood of adoptions counted per period 1..=T, the rest of the market not yet adopted.
pub struct Likelihood {
    counts: Vec<f64>,
    total: f64,
    /// End of observation in periods: the last period may be cut short.
    end: f64,
    /// M held at the number adopted (a market the log saw saturate): only p and q are free.
    saturated: bool,
}

impl Likelihood {
    /// From adoptions per whole period.
    pub fn new(counts: &[f64]) -> Result<Self> {
        Self::observed_until(counts, counts.len() as f64)
    }

    /// From adoptions per period, observation ending at time `end` (in periods, within the
    /// last period): a log rarely ends on a period boundary, and treating a short last period
    /// as a whole one would bias p and q.
    pub fn observed_until(counts: &[f64], end: f64) -> Result<Self> {
        if !(end > counts.len() as f64 - 1.0 && end <= counts.len() as f64) {
            return Err(Error::Invalid(format!(
                "Bass: observation end {end} is not within the last of {} periods",
                counts.len()
            )));
        }
        let total: f64 = counts.iter().sum();
        if counts.len() < 3 || total <= 0.0 || counts.iter().any(|c| *c < 0.0) {
            return Err(Error::Invalid(
                "Bass needs at least three periods with adoptions".into(),
            ));
        }
        Ok(Likelihood {
            counts: counts.to_vec(),
            total,
            end,
            saturated: false,
        })
    }

    /// The same data with M fixed at the number adopted: for a market that saturated within
    /// the log, where the free fit runs to the boundary M − adopted → 0.
    pub fn saturated(mut self) -> Self {
        self.saturated = true;
        self
    }

    /// Parameters from optimiser values (p, q, M − adopted on the log scale).
    pub fn params(&self, log_theta: &[f64]) -> Bass {
        Bass {
            p: log_theta[0].exp(),
            q: log_theta[1].exp(),
            m: self.total
                + if self.saturated {
                    0.0
                } else {
                    log_theta[2].exp()
                },
        }
    }
}

impl Objective for Likelihood {
    fn names(&self) -> Vec<String> {
        let mut n = vec!["p".into(), "q".into(), "m_minus_adopted".into()];
        n.truncate(if self.saturated { 2 } else { 3 });
        n
    }
    fn n_obs(&self) -> usize {
        self.counts.len()
    }
    fn start(&self) -> Vec<f64> {
        // The likelihood surface is long and curved (p, q and M trade off), so a quasi-Newton
        // search from one fixed point can wander off to p → 0, M → ∞. A coarse grid over the
        // plausible range (p per period 1e-4..0.1, q 0.01..1, M 1.1..11 × adopted) starts
        // it in the right valley for a few thousand cheap evaluations.
        let mut best = (f64::INFINITY, Vec::new());
        for i in 0..13 {
            let lp = (1e-4f64).ln() + i as f64 * (1000f64).ln() / 12.0;
            for j in 0..13 {
                let lq = (0.01f64).ln() + j as f64 * (100f64).ln() / 12.0;
                for k in 0..if self.saturated { 1 } else { 9 } {
                    let lm = (self.total * 0.1).ln() + k as f64 * (100f64).ln() / 8.0;
                    let mut theta = vec![lp, lq, lm];
                    theta.truncate(self.names().len());
                    let v = self.neg_ll(&theta);
                    if v < best.0 {
                        best = (v, theta);
                    }
                }
            }
        }
        best.1
    }
    fn neg_ll(&self, log_theta: &[f64]) -> f64 {
        let b = self.params(log_theta);
        let n = self.total;
        // Multinomial over M prospects: the adopters in each period, and those who have not.
        let mut ll = ln_gamma(b.m + 1.0) - ln_gamma(b.m - n + 1.0);
        let mut prev = 0.0;
        for (k, &c) in self.counts.iter().enumerate() {
            let f = b.cdf((k as f64 + 1.0).min(self.end));
            if c > 0.0 {
                ll += c * (f - prev).max(1e-300).ln() - ln_gamma(c + 1.0);
            }
            prev = f;
        }
        ll += (b.m - n) * (1.0 - prev).max(1e-300).ln();
        -ll
    }
}
