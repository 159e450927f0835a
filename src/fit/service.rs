//! Service experience and dropout: the extended BG/NBD. While alive a customer buys as a Poisson
//! process with rate λ ~ Gamma(r, α); after each repeat purchase it drops out with probability
//! p ~ Beta(a, b), or min(1, κ·p) when that purchase was a bad experience (DESIGN.md §3). A
//! purchase whose experience was not observed drops out with the mixture probability
//! (1 − s_c)·p + s_c·min(1, κ·p), s_c the bad-experience rate of its channel, estimated first
//! from the purchases whose experience was observed.
//!
//! The λ part integrates in closed form; the p part has no closed form once the cap binds, so it
//! is integrated numerically: Gauss–Legendre panels split at every kink 1/d of the integrand, with
//! the Beta density's endpoint singularities removed by substitution. The quadrature depends only
//! on the parameters, and the p integral only on each customer's pattern of experiences, so each
//! evaluation costs (patterns × nodes) + customers.

use super::special::{legendre_rule, ln_beta, ln_gamma, log_add_exp};
use super::{Objective, par_sum};
use crate::data::ledger::{Experiences, NO_CLASS};

/// Names of the parameters: BG/NBD's and κ.
pub const NAMES: [&str; 5] = ["r", "alpha", "a", "b", "kappa"];

/// Bad-experience rate per channel (last entry: purchases without a channel) with its binomial
/// standard error; NaN where no experience was observed.
pub fn bad_rates(e: &Experiences) -> Vec<(f64, f64)> {
    e.known
        .iter()
        .zip(&e.bad)
        .map(|(&n, &k)| {
            if n == 0 {
                (f64::NAN, f64::NAN)
            } else {
                let s = k as f64 / n as f64;
                (s, (s * (1.0 - s) / n as f64).sqrt())
            }
        })
        .collect()
}

/// One distinct pattern of repeat-purchase experiences.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Pattern {
    counts: Vec<u32>,
    last: u16,
}

/// The extended BG/NBD likelihood.
pub struct Likelihood {
    x: Vec<f64>,
    t_x: Vec<f64>,
    t: Vec<f64>,
    pattern: Vec<u32>,
    patterns: Vec<Pattern>,
    /// Bad rate of each unknown-experience class (classes 2..).
    unknown_bad: Vec<f64>,
    start: Vec<f64>,
}

impl Likelihood {
    /// From per-customer (x, t_x, T), their experiences, the bad rates of [`bad_rates`] (NaN
    /// rates fall back to the pooled rate) and a starting point (BG/NBD r, α, a, b).
    pub fn new(
        x: &[f64],
        t_x: &[f64],
        t: &[f64],
        e: &Experiences,
        rates: &[(f64, f64)],
        start: [f64; 4],
    ) -> Self {
        let known: u64 = e.known.iter().sum();
        let pooled = if known > 0 {
            e.bad.iter().sum::<u64>() as f64 / known as f64
        } else {
            0.0
        };
        let unknown_bad = rates
            .iter()
            .map(|&(s, _)| if s.is_nan() { pooled } else { s })
            .collect();
        let mut index = std::collections::HashMap::new();
        let mut patterns = Vec::new();
        let pattern = (0..x.len())
            .map(|i| {
                let p = Pattern {
                    counts: e.row(i).to_vec(),
                    last: e.last[i],
                };
                *index.entry(p.clone()).or_insert_with(|| {
                    patterns.push(p);
                    (patterns.len() - 1) as u32
                })
            })
            .collect();
        Likelihood {
            x: x.to_vec(),
            t_x: t_x.to_vec(),
            t: t.to_vec(),
            pattern,
            patterns,
            unknown_bad,
            start: start.iter().map(|v| v.ln()).chain([0.5f64.ln()]).collect(),
        }
    }

    /// Dropout multiplier of each class at κ.
    fn multipliers(&self, kappa: f64) -> Vec<f64> {
        [1.0, kappa]
            .into_iter()
            .chain(self.unknown_bad.iter().map(|s| 1.0 + s * (kappa - 1.0)))
            .collect()
    }

    /// ln E[survive all] and ln E[survive all but the last, drop at the last] per pattern.
    fn pattern_terms(&self, a: f64, b: f64, kappa: f64) -> Vec<(f64, f64)> {
        let d = self.multipliers(kappa);
        let nodes = beta_nodes(a, b, &d);
        let k = d.len();
        // ln(1 − min(1, d p)) and ln min(1, d p) per node and class.
        let mut surv = vec![0.0; nodes.len() * k];
        let mut drop = vec![0.0; nodes.len() * k];
        for (i, &(p, _)) in nodes.iter().enumerate() {
            for (c, &dc) in d.iter().enumerate() {
                let q = (dc * p).min(1.0);
                surv[i * k + c] = (-q).ln_1p();
                drop[i * k + c] = q.ln();
            }
        }
        self.patterns
            .iter()
            .map(|pat| {
                let mut alive = f64::NEG_INFINITY;
                let mut dropped = f64::NEG_INFINITY;
                for (i, &(_, lw)) in nodes.iter().enumerate() {
                    let row = &surv[i * k..(i + 1) * k];
                    let mut s = 0.0;
                    for (&n, &l) in pat.counts.iter().zip(row) {
                        if n > 0 {
                            s += n as f64 * l;
                        }
                    }
                    alive = log_add_exp(alive, lw + s);
                    if pat.last != NO_CLASS {
                        let c = pat.last as usize;
                        // Survived every repeat purchase but the last, then dropped after it.
                        let before: f64 = pat
                            .counts
                            .iter()
                            .zip(row)
                            .enumerate()
                            .map(|(j, (&n, &l))| (n - (j == c) as u32, l))
                            .filter(|&(n, _)| n > 0)
                            .map(|(n, l)| n as f64 * l)
                            .sum();
                        dropped = log_add_exp(dropped, lw + before + drop[i * k + c]);
                    }
                }
                (alive, dropped)
            })
            .collect()
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
        self.start.clone()
    }
    fn neg_ll(&self, log_theta: &[f64]) -> f64 {
        let [r, alpha, a, b, kappa]: [f64; 5] = std::array::from_fn(|i| log_theta[i].exp());
        let terms = self.pattern_terms(a, b, kappa);
        let base = ln_gamma(r) - r * alpha.ln();
        let [ll] = par_sum(self.x.len(), |range| {
            let mut s = 0.0;
            for i in range {
                let x = self.x[i];
                let (ea, ed) = terms[self.pattern[i] as usize];
                let alive = ea - (r + x) * (alpha + self.t[i]).ln();
                let l = if x > 0.0 {
                    log_add_exp(alive, ed - (r + x) * (alpha + self.t_x[i]).ln())
                } else {
                    alive
                };
                s += ln_gamma(r + x) - base + l;
            }
            [s]
        });
        if ll.is_finite() { -ll } else { f64::INFINITY }
    }
}

/// Quadrature nodes (p, ln weight) for expectations over p ~ Beta(a, b) of functions that are
/// smooth between the kinks 1/d (d > 1).
fn beta_nodes(a: f64, b: f64, d: &[f64]) -> Vec<(f64, f64)> {
    let mut edges: Vec<f64> = d.iter().filter(|&&v| v > 1.0).map(|v| 1.0 / v).collect();
    edges.sort_by(f64::total_cmp);
    edges.dedup_by(|x, y| (*x - *y).abs() < 1e-12);
    if edges.is_empty() {
        edges.push(0.5);
    }
    let norm = ln_beta(a, b);
    let (gx, gw) = legendre_rule();
    let mut out = Vec::with_capacity(200);
    let mut panel = |lo: f64, hi: f64, f: &dyn Fn(f64) -> (f64, f64)| {
        let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
        for (x, w) in gx.iter().zip(gw) {
            let (p, lw) = f(mid + half * x);
            out.push((p, lw + (w * half).ln() - norm));
        }
    };
    // [0, c]: p = c·v^(1/a) turns p^(a−1) dp into (c^a / a) dv; graded panels in v follow the
    // mass of (1 − p)^n near 0 for frequent buyers.
    let c = edges[0];
    let head = |v: f64| {
        let p = c * v.powf(1.0 / a);
        (p, a * c.ln() - a.ln() + (b - 1.0) * (-p).ln_1p())
    };
    let mut lo = 0.0;
    for hi in [1.0 / 1024.0, 1.0 / 256.0, 1.0 / 64.0, 1.0 / 16.0, 0.25, 1.0] {
        panel(lo, hi, &head);
        lo = hi;
    }
    for w in edges.windows(2) {
        panel(w[0], w[1], &|p: f64| {
            (p, (a - 1.0) * p.ln() + (b - 1.0) * (-p).ln_1p())
        });
    }
    // [e, 1]: p = 1 − (1 − e)·w^(1/b) turns (1 − p)^(b−1) dp into ((1 − e)^b / b) dw.
    let e = edges[edges.len() - 1];
    let tail = |w: f64| {
        let p = 1.0 - (1.0 - e) * w.powf(1.0 / b);
        (p, b * (1.0 - e).ln() - b.ln() + (a - 1.0) * p.ln())
    };
    panel(0.0, 0.25, &tail);
    panel(0.25, 1.0, &tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::bgnbd::BgNbd;

    fn experiences(rows: &[(Vec<u32>, u16)]) -> Experiences {
        Experiences {
            classes: rows[0].0.len(),
            counts: rows.iter().flat_map(|r| r.0.clone()).collect(),
            last: rows.iter().map(|r| r.1).collect(),
            known: vec![10; rows[0].0.len() - 2],
            bad: vec![1; rows[0].0.len() - 2],
            bad_at_most: 2,
        }
    }

    #[test]
    fn kappa_one_is_bgnbd() {
        // Classes: good, bad, unknown (one channel), unknown (no channel).
        let rows = vec![
            (vec![0, 0, 0, 0], NO_CLASS),
            (vec![3, 1, 2, 0], 2),
            (vec![0, 1, 0, 0], 1),
            (vec![40, 5, 30, 25], 0),
        ];
        let (x, tx, t) = (
            [0.0, 6.0, 1.0, 100.0],
            [0.0, 20.0, 3.0, 50.0],
            [30.0, 38.0, 12.0, 60.0],
        );
        let e = experiences(&rows);
        let lik = Likelihood::new(&x, &tx, &t, &e, &bad_rates(&e), [0.3, 4.0, 0.8, 2.5]);
        let m = BgNbd::new(0.3, 4.0, 0.8, 2.5).unwrap();
        let want: f64 = (0..4).map(|i| m.ln_likelihood(x[i], tx[i], t[i])).sum();
        let got = -lik.neg_ll(&[0.3f64.ln(), 4f64.ln(), 0.8f64.ln(), 2.5f64.ln(), 0.0]);
        assert!((got - want).abs() < 1e-8 * want.abs(), "{got} vs {want}");
    }

    #[test]
    fn capped_integral_matches_brute_force() {
        // One customer: good, bad, bad, then dropped after an unknown purchase; κ = 3 binds.
        let rows = vec![(vec![1, 2, 1, 0], 2)];
        let e = experiences(&rows);
        let rates = bad_rates(&e);
        let lik = Likelihood::new(&[4.0], &[9.0], &[20.0], &e, &rates, [1.0; 4]);
        let (a, b, kappa) = (0.7, 1.8, 3.0);
        let terms = lik.pattern_terms(a, b, kappa);
        let s = rates[0].0;
        let du = 1.0 + s * (kappa - 1.0);
        let n = 2_000_000;
        let (mut alive, mut dropped) = (0.0, 0.0);
        for i in 0..n {
            // Midpoint rule in v with p = v^(1/a) (removes the p^(a−1) singularity).
            let v = (i as f64 + 0.5) / n as f64;
            let p: f64 = v.powf(1.0 / a);
            let w = (1.0 - p).powf(b - 1.0) / a / n as f64;
            let good = 1.0 - p;
            let bad = (1.0 - kappa * p).max(0.0);
            let unk = (1.0 - du * p).max(0.0);
            alive += w * good * bad * bad * unk;
            dropped += w * good * bad * bad * (du * p).min(1.0);
        }
        let norm = ln_beta(a, b).exp();
        let (ea, ed) = terms[0];
        assert!(
            (ea.exp() / (alive / norm) - 1.0).abs() < 1e-6,
            "{} {}",
            ea.exp(),
            alive / norm
        );
        assert!(
            (ed.exp() / (dropped / norm) - 1.0).abs() < 1e-6,
            "{} {}",
            ed.exp(),
            dropped / norm
        );
    }
}
