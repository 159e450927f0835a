//! Maximum-likelihood fits of the classic customer-base models. Each model file follows the same
//! order: parameters (validated) → log-likelihood (an [`Objective`]) → closed forms → simulator.

pub mod bass;
pub mod bdw;
pub mod beta_binomial;
pub mod bgnbd;
pub mod channel;
pub mod contract;
pub mod gamma_gamma;
pub mod holdout;
pub mod lrt;
pub mod optimize;
pub mod pareto_nbd;
pub mod purchase;
pub mod sbg;
pub mod service;
pub mod special;
pub mod suite;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use optimize::maximise;

/// A negative log-likelihood over log-parameters: what [`maximise`] needs from a model.
pub trait Objective: Sync {
    /// Parameter names, as in the papers.
    fn names(&self) -> Vec<String>;
    /// Number of independent observations (customers), for BIC.
    fn n_obs(&self) -> usize;
    /// Starting point, on the log scale.
    fn start(&self) -> Vec<f64>;
    /// −ln L at `exp(log_theta)`.
    fn neg_ll(&self, log_theta: &[f64]) -> f64;
    /// Whether [`Objective::neg_ll_grad`] is analytic (then it costs about as much as
    /// [`Objective::neg_ll`], and the optimiser always asks for both at once).
    fn analytic_gradient(&self) -> bool {
        false
    }
    /// −ln L and its gradient with respect to `log_theta`; central differences unless overridden.
    fn neg_ll_grad(&self, log_theta: &[f64], grad: &mut [f64]) -> f64 {
        let f = self.neg_ll(log_theta);
        let mut p = log_theta.to_vec();
        for i in 0..p.len() {
            let h = 1e-5;
            p[i] = log_theta[i] + h;
            let up = self.neg_ll(&p);
            p[i] = log_theta[i] - h;
            let down = self.neg_ll(&p);
            p[i] = log_theta[i];
            grad[i] = (up - down) / (2.0 * h);
        }
        f
    }
}

/// A fitted model as stored in `model.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fitted {
    /// Estimates, named as in the papers.
    pub params: IndexMap<String, f64>,
    /// Standard errors from the inverse Hessian (delta method from the log scale); NaN if singular.
    pub std_errors: IndexMap<String, f64>,
    /// Covariance of the log-parameters (inverse Hessian of −ln L on the log scale), for drawing
    /// parameter uncertainty.
    pub log_param_covariance: Vec<Vec<f64>>,
    /// Maximised log-likelihood.
    pub log_likelihood: f64,
    /// Akaike information criterion, 2k − 2 ln L.
    pub aic: f64,
    /// Bayesian information criterion, k ln n − 2 ln L.
    pub bic: f64,
    /// Observations (customers) the fit used.
    pub n_obs: usize,
    /// Whether the optimiser stopped at a proper interior maximum.
    pub converged: bool,
    /// Optimiser iterations.
    pub iterations: u64,
    /// How the fit ended, and what to try when it did not converge.
    pub message: String,
}

impl Fitted {
    /// The estimate of `name`; panics if the model has no such parameter (a programming error).
    pub fn param(&self, name: &str) -> f64 {
        self.params[name]
    }

    /// The estimate of `name`, or an error naming the model file problem.
    pub fn get(&self, name: &str) -> crate::error::Result<f64> {
        self.params.get(name).copied().ok_or_else(|| {
            crate::error::Error::Invalid(format!(
                "fitted model has no parameter '{name}': re-run `twinsim fit`"
            ))
        })
    }

    /// A closed-form estimate (no optimiser): values with standard errors, the log-likelihood
    /// and the number of observations.
    pub fn closed_form(
        params: IndexMap<String, f64>,
        std_errors: IndexMap<String, f64>,
        log_likelihood: f64,
        n_obs: usize,
        how: &str,
    ) -> Fitted {
        let k = params.len() as f64;
        Fitted {
            log_param_covariance: Vec::new(),
            aic: 2.0 * k - 2.0 * log_likelihood,
            bic: k * (n_obs.max(1) as f64).ln() - 2.0 * log_likelihood,
            params,
            std_errors,
            log_likelihood,
            n_obs,
            converged: true,
            iterations: 0,
            message: how.to_string(),
        }
    }

    /// The estimates in their stored order.
    pub fn values(&self) -> Vec<f64> {
        self.params.values().copied().collect()
    }
}

/// Sums `f` over `0..n` in fixed-size chunks in parallel, adding the partial sums in chunk order
/// so that the result does not depend on the number of threads.
pub(crate) fn par_sum<const K: usize>(
    n: usize,
    f: impl Fn(std::ops::Range<usize>) -> [f64; K] + Sync,
) -> [f64; K] {
    use rayon::prelude::*;
    const CHUNK: usize = 16_384;
    let chunks = n.div_ceil(CHUNK);
    let parts: Vec<[f64; K]> = if chunks <= 1 {
        vec![f(0..n)]
    } else {
        (0..chunks)
            .into_par_iter()
            .map(|c| f(c * CHUNK..((c + 1) * CHUNK).min(n)))
            .collect()
    };
    let mut total = [0.0; K];
    for p in parts {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}

/// Customers' (x, t_x, T) with identical triples merged into one weighted row: dated data
/// repeat triples a lot (CDNOW: 2,357 customers, far fewer distinct triples), and likelihoods
/// cost per row.
#[derive(Debug, Clone)]
pub struct Rfm {
    /// Repeat transactions.
    pub x: Vec<f64>,
    /// Recency.
    pub t_x: Vec<f64>,
    /// Age.
    pub t: Vec<f64>,
    /// How many customers share the row.
    pub w: Vec<f64>,
}

impl Rfm {
    /// Merges identical triples; the order of rows is sorted, so results do not depend on the
    /// order of customers.
    pub fn compress(x: &[f64], t_x: &[f64], t: &[f64]) -> Rfm {
        let mut rows: Vec<(f64, f64, f64)> = (0..x.len()).map(|i| (x[i], t_x[i], t[i])).collect();
        rows.sort_unstable_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
        });
        let mut out = Rfm {
            x: Vec::new(),
            t_x: Vec::new(),
            t: Vec::new(),
            w: Vec::new(),
        };
        for r in rows {
            let n = out.x.len();
            if n > 0 && out.x[n - 1] == r.0 && out.t_x[n - 1] == r.1 && out.t[n - 1] == r.2 {
                out.w[n - 1] += 1.0;
            } else {
                out.x.push(r.0);
                out.t_x.push(r.1);
                out.t.push(r.2);
                out.w.push(1.0);
            }
        }
        out
    }

    /// Number of customers (sum of weights).
    pub fn customers(&self) -> usize {
        self.w.iter().sum::<f64>() as usize
    }
}

/// Distinct values of an integer-valued vector and each element's index into them: lets models
/// compute terms that depend only on x (ln Γ, ψ) once per distinct x instead of once per customer.
#[derive(Debug, Clone)]
pub(crate) struct DistinctCounts {
    pub values: Vec<f64>,
    pub index: Vec<u32>,
    pub counts: Vec<f64>,
}

impl DistinctCounts {
    pub fn new(x: &[f64], w: &[f64]) -> Self {
        let mut values: Vec<f64> = x.to_vec();
        values.sort_by(f64::total_cmp);
        values.dedup();
        let index: Vec<u32> = x
            .iter()
            .map(|v| values.partition_point(|u| u < v) as u32)
            .collect();
        let mut counts = vec![0.0; values.len()];
        for (&i, &wi) in index.iter().zip(w) {
            counts[i as usize] += wi;
        }
        DistinctCounts {
            values,
            index,
            counts,
        }
    }
}
