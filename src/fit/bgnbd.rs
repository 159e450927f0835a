//! BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way").
//!
//! Assumptions: while alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α);
//! after each repeat purchase it drops out with probability p ~ Beta(a, b).

use rand::{Rng, RngExt};
use rand_distr::{Beta, Distribution, Gamma};

use super::special::{hyp2f1, ln_beta, ln_gamma, log_add_exp};
use super::{DistinctCounts, Objective, Rfm, par_sum};
use crate::error::{Error, Result};

/// BG/NBD parameters: purchase-rate shape `r` and rate `alpha`; dropout Beta(`a`, `b`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    /// Shape of the purchase-rate Gamma.
    pub r: f64,
    /// Rate (inverse scale) of the purchase-rate Gamma, in time units.
    pub alpha: f64,
    /// First Beta parameter of the dropout probability.
    pub a: f64,
    /// Second Beta parameter of the dropout probability.
    pub b: f64,
}

/// Names of the parameters, in paper order.
pub const NAMES: [&str; 4] = ["r", "alpha", "a", "b"];

impl BgNbd {
    /// Validated parameters: all must be finite and positive.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self> {
        for (n, v) in NAMES.iter().zip([r, alpha, a, b]) {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::Invalid(format!(
                    "BG/NBD parameter {n} = {v} must be positive and finite"
                )));
            }
        }
        Ok(BgNbd { r, alpha, a, b })
    }

    /// From fitted values in [`NAMES`] order.
    pub fn from_slice(v: &[f64]) -> Result<Self> {
        Self::new(v[0], v[1], v[2], v[3])
    }

    /// Log-likelihood of one customer.
    pub fn ln_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let base =
            ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + ln_beta(a, b + x) - ln_beta(a, b);
        let alive = -(r + x) * (alpha + t).ln();
        if x > 0.0 {
            let dropped = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln();
            base + log_add_exp(alive, dropped)
        } else {
            base + alive
        }
    }

    /// Probability that a customer with history (x, t_x, T) is still alive at T.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let ln_odds = a.ln() - (b + x - 1.0).ln() + (r + x) * ((alpha + t) / (alpha + t_x)).ln();
        1.0 / (1.0 + ln_odds.exp())
    }

    /// E[X(t)]: expected repeat purchases in (0, t] of a new customer.
    pub fn expected(&self, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let z = t / (alpha + t);
        (a + b - 1.0) / (a - 1.0)
            * (1.0 - (alpha / (alpha + t)).powf(r) * hyp2f1(r, b, a + b - 1.0, z))
    }

    /// P(X(t) = x): probability that a new customer makes `x` repeat purchases in (0, t]
    /// (Fader, Hardie & Lee 2005, eq. 8).
    pub fn prob_x(&self, x: u32, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let xf = x as f64;
        let ln_p = (alpha / (alpha + t)).ln();
        let ln_q = (t / (alpha + t)).ln();
        let ln_nb = |j: f64| {
            ln_gamma(r + j) - ln_gamma(r) - ln_gamma(j + 1.0)
                + r * ln_p
                + if j > 0.0 { j * ln_q } else { 0.0 }
        };
        let alive = (ln_beta(a, b + xf) - ln_beta(a, b) + ln_nb(xf)).exp();
        if x == 0 {
            return alive;
        }
        let below: f64 = (0..x).map(|j| ln_nb(j as f64).exp()).sum();
        alive + (ln_beta(a + 1.0, b + xf - 1.0) - ln_beta(a, b)).exp() * (1.0 - below).max(0.0)
    }

    /// E[X(T, T+t] | x, t_x, T]: expected purchases in the next `t` time units.
    pub fn conditional_expected(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let z = t / (alpha + big_t + t);
        let f = hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let term = 1.0 - ((alpha + big_t) / (alpha + big_t + t)).powf(r + x) * f;
        (a + b + x - 1.0) / (a - 1.0) * term * self.p_alive(x, t_x, big_t)
    }

    /// Simulates one customer observed for `t` time units after its first purchase: returns
    /// the repeat-purchase times (the first purchase is at 0 and not included).
    pub fn simulate<R: Rng + ?Sized>(&self, t: f64, rng: &mut R, out: &mut Vec<f64>) {
        out.clear();
        let lambda = Gamma::new(self.r, 1.0 / self.alpha)
            .expect("validated")
            .sample(rng);
        let p = Beta::new(self.a, self.b).expect("validated").sample(rng);
        let mut now = 0.0;
        loop {
            now += -(1.0 - rng.random::<f64>()).ln() / lambda;
            if now > t {
                return;
            }
            out.push(now);
            if rng.random::<f64>() < p {
                return;
            }
        }
    }
}

/// The BG/NBD likelihood over a set of customers, with an analytic gradient.
pub struct Likelihood {
    rfm: Rfm,
    distinct: DistinctCounts,
}

impl Likelihood {
    /// Customers' frequency, recency and age (same length, times in one unit).
    pub fn new(x: &[f64], t_x: &[f64], t: &[f64]) -> Self {
        let rfm = Rfm::compress(x, t_x, t);
        let distinct = DistinctCounts::new(&rfm.x, &rfm.w);
        Likelihood { rfm, distinct }
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
        let mut g = [0.0; 4];
        self.neg_ll_grad(log_theta, &mut g)
    }
    fn analytic_gradient(&self) -> bool {
        true
    }
    fn neg_ll_grad(&self, log_theta: &[f64], grad: &mut [f64]) -> f64 {
        let [r, alpha, a, b] = [0, 1, 2, 3].map(|i| log_theta[i].exp());
        let ln_alpha = alpha.ln();
        let d = &self.distinct;
        // Terms that depend only on x: once per distinct x.
        let (mut ll, mut gr, mut ga, mut gb) = (0.0, 0.0, 0.0, 0.0);
        let mut ln_ratio = Vec::with_capacity(d.values.len());
        let (dg_r, dg_ab, dg_b) = (digamma(r), digamma(a + b), digamma(b));
        let ln_beta_ab = ln_beta(a, b);
        for (&x, &n) in d.values.iter().zip(&d.counts) {
            ll += n * (ln_gamma(r + x) - ln_gamma(r) + ln_beta(a, b + x) - ln_beta_ab);
            gr += n * (digamma(r + x) - dg_r);
            let dg_abx = digamma(a + b + x);
            ga += n * (dg_ab - dg_abx);
            gb += n * (dg_ab + digamma(b + x) - dg_b - dg_abx);
            ln_ratio.push(if x > 0.0 {
                a.ln() - (b + x - 1.0).ln()
            } else {
                f64::NEG_INFINITY
            });
        }
        let n = self.rfm.customers() as f64;
        ll += n * r * ln_alpha;
        gr += n * ln_alpha;
        let mut g_alpha = n * r / alpha;
        let rfm = &self.rfm;
        let [s_ll, s_r, s_alpha, s_a, s_b] = par_sum(rfm.x.len(), |range| {
            let mut acc = [0.0; 5];
            for i in range {
                let (x, t, w) = (rfm.x[i], rfm.t[i], rfm.w[i]);
                let at = alpha + t;
                let ln_at = at.ln();
                let l3 = -(r + x) * ln_at;
                if x == 0.0 {
                    // Only the "alive" term: no dropout is possible before the first repeat.
                    acc[0] += w * l3;
                    acc[1] -= w * ln_at;
                    acc[2] -= w * r / at;
                    continue;
                }
                let atx = alpha + rfm.t_x[i];
                let ln_atx = atx.ln();
                let l4 = ln_ratio[d.index[i] as usize] - (r + x) * ln_atx;
                // ln(e^l3 + e^l4) and the weight of the first term, with one exp.
                let (m, w3) = if l3 >= l4 {
                    let e = (l4 - l3).exp();
                    (l3 + e.ln_1p(), 1.0 / (1.0 + e))
                } else {
                    let e = (l3 - l4).exp();
                    (l4 + e.ln_1p(), e / (1.0 + e))
                };
                let w4 = 1.0 - w3;
                acc[0] += w * m;
                acc[1] -= w * (w3 * ln_at + w4 * ln_atx);
                acc[2] -= w * (r + x) * (w3 / at + w4 / atx);
                acc[3] += w * w4 / a;
                acc[4] -= w * w4 / (b + x - 1.0);
            }
            acc
        });
        ll += s_ll;
        gr += s_r;
        g_alpha += s_alpha;
        ga += s_a;
        gb += s_b;
        // Chain rule to the log scale, and sign for the negative log-likelihood.
        grad[0] = -gr * r;
        grad[1] = -g_alpha * alpha;
        grad[2] = -ga * a;
        grad[3] = -gb * b;
        -ll
    }
}

use super::special::digamma;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purchase_distribution_sums_to_one_and_matches_the_mean() {
        let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let p: Vec<f64> = (0..400).map(|x| m.prob_x(x, 39.0)).collect();
        let total: f64 = p.iter().sum();
        let mean: f64 = p.iter().enumerate().map(|(x, p)| x as f64 * p).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        assert!(
            (mean - m.expected(39.0)).abs() < 1e-6,
            "{mean} vs {}",
            m.expected(39.0)
        );
    }

    #[test]
    fn analytic_gradient_matches_differences() {
        let x = [0.0, 1.0, 3.0, 7.0, 2.0];
        let tx = [0.0, 5.0, 20.0, 30.5, 1.0];
        let t = [38.0, 30.0, 35.0, 31.0, 10.0];
        let lik = Likelihood::new(&x, &tx, &t);
        let theta = [(-1.2f64), 1.5, -0.2, 0.9];
        let mut g = [0.0; 4];
        lik.neg_ll_grad(&theta, &mut g);
        for i in 0..4 {
            let h = 1e-6;
            let mut p = theta;
            p[i] += h;
            let up = lik.neg_ll(&p);
            p[i] -= 2.0 * h;
            let down = lik.neg_ll(&p);
            let fd = (up - down) / (2.0 * h);
            assert!(
                (fd - g[i]).abs() < 1e-6 * (1.0 + fd.abs()),
                "param {i}: {fd} vs {}",
                g[i]
            );
        }
        let m = BgNbd::new(
            theta[0].exp(),
            theta[1].exp(),
            theta[2].exp(),
            theta[3].exp(),
        )
        .unwrap();
        let direct: f64 = (0..5).map(|i| m.ln_likelihood(x[i], tx[i], t[i])).sum();
        assert!((direct + lik.neg_ll(&theta)).abs() < 1e-9);
    }
}
