//! Beta-binomial: per-customer success counts out of trials (referrals per purchase, upsells and
//! cross-sells per purchase), with the success probability Beta(a, b) across customers.

use super::Objective;
use super::special::{digamma, ln_beta};

/// Names of the parameters.
pub const NAMES: [&str; 2] = ["a", "b"];

/// The beta-binomial likelihood, customers with identical (trials, successes) merged.
pub struct Likelihood {
    /// (trials, successes, customers).
    rows: Vec<(f64, f64, f64)>,
}

impl Likelihood {
    /// From per-customer trials and successes (successes ≤ trials; zero-trial customers carry
    /// no information and are left out).
    pub fn new(trials: &[u32], successes: &[u32]) -> Self {
        let mut pairs: Vec<(u32, u32)> = trials
            .iter()
            .zip(successes)
            .filter(|(n, _)| **n > 0)
            .map(|(n, k)| (*n, (*k).min(*n)))
            .collect();
        pairs.sort_unstable();
        let mut rows: Vec<(f64, f64, f64)> = Vec::new();
        for (i, &(n, k)) in pairs.iter().enumerate() {
            if i > 0 && pairs[i - 1] == (n, k) {
                if let Some(last) = rows.last_mut() {
                    last.2 += 1.0;
                }
            } else {
                rows.push((n as f64, k as f64, 1.0));
            }
        }
        Likelihood { rows }
    }
}

/// Mean success probability a / (a + b).
pub fn mean(a: f64, b: f64) -> f64 {
    a / (a + b)
}

impl Objective for Likelihood {
    fn names(&self) -> Vec<String> {
        NAMES.iter().map(|s| s.to_string()).collect()
    }
    fn n_obs(&self) -> usize {
        self.rows.iter().map(|r| r.2).sum::<f64>() as usize
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
        let (base, dab, da, db) = (ln_beta(a, b), digamma(a + b), digamma(a), digamma(b));
        let (mut ll, mut ga, mut gb) = (0.0, 0.0, 0.0);
        // The binomial coefficient does not depend on (a, b): it is left out of ln L.
        for &(n, k, w) in &self.rows {
            ll += w * (ln_beta(k + a, n - k + b) - base);
            let s = digamma(n + a + b);
            ga += w * (digamma(k + a) - s - da + dab);
            gb += w * (digamma(n - k + b) - s - db + dab);
        }
        grad[0] = -ga * a;
        grad[1] = -gb * b;
        -ll
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng;
    use crate::fit::maximise;
    use rand::RngExt;

    /// Recovery within 3 standard errors, for a rare event (referrals) and a common one.
    #[test]
    fn recovers_beta_parameters() {
        for (a, b, seed) in [(0.5, 9.5, 1u64), (2.0, 6.0, 2)] {
            let mut r = rng::stream(seed, 0, 0);
            let (mut trials, mut wins) = (Vec::new(), Vec::new());
            for _ in 0..20_000 {
                let p = crate::population::sampling::Beta::draw(a, b, &mut r);
                let n = 1 + (r.random::<f64>() * 12.0) as u32;
                trials.push(n);
                wins.push((0..n).filter(|_| r.random::<f64>() < p).count() as u32);
            }
            let f = maximise(&Likelihood::new(&trials, &wins), "beta-binomial").unwrap();
            assert!(f.converged, "{}", f.message);
            for (name, want) in [("a", a), ("b", b)] {
                let (est, se) = (f.param(name), f.std_errors[name]);
                assert!(
                    (est - want).abs() < 3.0 * se,
                    "{name}: {est} ± {se} vs {want}"
                );
            }
        }
    }
}
