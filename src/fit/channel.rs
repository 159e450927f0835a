//! Channel mix: Dirichlet-multinomial over each customer's purchases per channel.
//!
//! Assumptions: each customer has channel preference weights w ~ Dirichlet(α₁..α_C) and picks
//! the channel of each purchase from Multinomial(w).

use super::special::{digamma, ln_gamma};
use super::{Objective, par_sum};

/// Dirichlet-multinomial likelihood over per-customer channel counts. Customers with identical
/// count vectors (most of them: counts are small) are merged into one weighted row.
pub struct Likelihood<'a> {
    channels: &'a [String],
    counts: Vec<u32>,
    weights: Vec<f64>,
}

impl<'a> Likelihood<'a> {
    /// `counts` is row-major, one row of `channels.len()` counts per customer; rows of all
    /// zeros (no channel recorded) are left out.
    pub fn new(channels: &'a [String], counts: &[u32]) -> Self {
        let c = channels.len().max(1);
        let mut rows: Vec<&[u32]> = counts
            .chunks(c)
            .filter(|r| r.iter().any(|&n| n > 0))
            .collect();
        rows.sort_unstable();
        let (mut flat, mut weights): (Vec<u32>, Vec<f64>) = (Vec::new(), Vec::new());
        for (i, r) in rows.iter().enumerate() {
            if i > 0 && rows[i - 1] == *r {
                *weights.last_mut().expect("pushed before") += 1.0;
            } else {
                flat.extend_from_slice(r);
                weights.push(1.0);
            }
        }
        Likelihood {
            channels,
            counts: flat,
            weights,
        }
    }

    fn rows(&self) -> usize {
        self.weights.len()
    }
}

/// Expected channel shares α_c / Σα from fitted concentrations.
pub fn mean_shares(alpha: &[f64]) -> Vec<f64> {
    let total: f64 = alpha.iter().sum();
    alpha.iter().map(|a| a / total).collect()
}

impl Objective for Likelihood<'_> {
    fn names(&self) -> Vec<String> {
        self.channels.to_vec()
    }
    fn n_obs(&self) -> usize {
        self.weights.iter().sum::<f64>() as usize
    }
    fn start(&self) -> Vec<f64> {
        vec![0.0; self.channels.len()]
    }
    fn neg_ll(&self, log_theta: &[f64]) -> f64 {
        let mut g = vec![0.0; log_theta.len()];
        self.neg_ll_grad(log_theta, &mut g)
    }
    fn analytic_gradient(&self) -> bool {
        true
    }
    fn neg_ll_grad(&self, log_theta: &[f64], grad: &mut [f64]) -> f64 {
        const MAX_CHANNELS: usize = 32;
        let c = self.channels.len();
        assert!(
            c <= MAX_CHANNELS,
            "at most {MAX_CHANNELS} channels are supported"
        );
        let alpha: Vec<f64> = log_theta.iter().map(|v| v.exp()).collect();
        let total: f64 = alpha.iter().sum();
        let lg: Vec<f64> = alpha.iter().map(|&a| ln_gamma(a)).collect();
        let dg: Vec<f64> = alpha.iter().map(|&a| digamma(a)).collect();
        let (lg_total, dg_total) = (ln_gamma(total), digamma(total));
        let sums = par_sum::<{ MAX_CHANNELS + 2 }>(self.rows(), |range| {
            let mut acc = [0.0; MAX_CHANNELS + 2];
            for i in range {
                let row = &self.counts[i * c..(i + 1) * c];
                let w = self.weights[i];
                let n = row.iter().sum::<u32>() as f64;
                acc[0] += w * (lg_total - ln_gamma(n + total) + ln_gamma(n + 1.0));
                let shared = w * (dg_total - digamma(n + total));
                for (k, &nk) in row.iter().enumerate() {
                    let nk = nk as f64;
                    acc[2 + k] += shared;
                    if nk > 0.0 {
                        acc[0] += w * (ln_gamma(nk + alpha[k]) - lg[k] - ln_gamma(nk + 1.0));
                        acc[2 + k] += w * (digamma(nk + alpha[k]) - dg[k]);
                    }
                }
            }
            acc
        });
        for k in 0..c {
            grad[k] = -sums[2 + k] * alpha[k];
        }
        -sums[0]
    }
}
