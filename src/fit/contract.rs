//! Contractual businesses: renewals per period from subscription payments, the sBG and BdW churn
//! fits on them, the retention projection and each customer's discounted expected residual
//! lifetime (DERL).

use serde::{Deserialize, Serialize};

use super::bdw::Bdw;
use super::sbg::{Likelihood, Sbg};

/// How to read payments as renewals.
#[derive(Debug, Clone, Copy)]
pub struct ContractOptions {
    /// Days in one contract period.
    pub period_days: f64,
    /// Annual discount rate for DERL.
    pub annual_discount: f64,
}

impl ContractOptions {
    /// Discount rate per period.
    pub fn discount_per_period(&self) -> f64 {
        (1.0 + self.annual_discount).powf(self.period_days / 365.0) - 1.0
    }
}

/// Each customer's renewals and status: `renewals[i]` periods paid after the first, `churned[i]`
/// whether the next payment was due inside the observation and did not come, `observed[i]`
/// whether the customer had at least one renewal opportunity.
#[derive(Debug, Clone)]
pub struct Renewals {
    /// Renewals made.
    pub renewals: Vec<u32>,
    /// Churned (vs still active).
    pub churned: Vec<bool>,
    /// Had at least one renewal opportunity (others tell nothing yet).
    pub observed: Vec<bool>,
}

/// Renewals from first and last payment times (`t_x`, `t` in time units of `unit_days`): a
/// payment counts for the period it falls nearest to, so a few days' jitter does not matter.
pub fn renewals(t_x: &[f64], t: &[f64], unit_days: f64, opts: &ContractOptions) -> Renewals {
    let n = t.len();
    let mut out = Renewals {
        renewals: Vec::with_capacity(n),
        churned: Vec::with_capacity(n),
        observed: Vec::with_capacity(n),
    };
    for i in 0..n {
        let opportunities = (t[i] * unit_days / opts.period_days).floor() as u32;
        let paid = ((t_x[i] * unit_days / opts.period_days).round() as u32).min(opportunities);
        out.renewals.push(paid);
        out.churned.push(paid < opportunities);
        out.observed.push(opportunities > 0);
    }
    out
}

/// One row of the retention table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetentionRow {
    /// Renewal opportunity t (0 = acquisition).
    pub period: u32,
    /// Kaplan–Meier survival from the data (None beyond the data).
    pub observed: Option<f64>,
    /// Customers at risk at t in the data.
    pub at_risk: f64,
    /// sBG S(t).
    pub sbg: f64,
    /// sBG retention rate S(t)/S(t−1).
    pub sbg_retention: f64,
    /// BdW S(t), when fitted.
    pub bdw: Option<f64>,
}

/// The contractual section of `model.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractReport {
    /// Days per period.
    pub period_days: f64,
    /// Discount rate per period used for DERL.
    pub discount_per_period: f64,
    /// Customers with at least one renewal opportunity.
    pub customers: usize,
    /// Of those, churned.
    pub churned: usize,
    /// Observed and projected survival, from acquisition to twice the longest tenure observed
    /// (at least 12 periods).
    pub retention: Vec<RetentionRow>,
}

/// The retention table: Kaplan–Meier from the counts, sBG and BdW projections.
pub fn retention_table(
    lik: &Likelihood,
    sbg: &Sbg,
    bdw: Option<&Bdw>,
    opts: &ContractOptions,
    customers: usize,
) -> ContractReport {
    let (lost, censored) = lik.counts();
    let longest = lost.len().max(censored.len());
    let horizon = (2 * longest).max(12) as u32;
    let mut rows = Vec::new();
    let mut km = 1.0;
    for t in 0..=horizon {
        let k = t as usize;
        // At risk at opportunity t: churned at ≥ t, or active after ≥ t renewals.
        let at_risk: f64 = if t == 0 {
            lost.iter().sum::<f64>() + censored.iter().sum::<f64>()
        } else {
            lost.iter().skip(k - 1).sum::<f64>() + censored.iter().skip(k).sum::<f64>()
        };
        if t > 0 && at_risk > 0.0 {
            km *= 1.0 - lost.get(k - 1).copied().unwrap_or(0.0) / at_risk;
        }
        rows.push(RetentionRow {
            period: t,
            observed: (at_risk > 0.0).then_some(km),
            at_risk,
            sbg: sbg.survival(t),
            sbg_retention: if t == 0 { 1.0 } else { sbg.retention_rate(t) },
            bdw: bdw.map(|m| m.survival(t)),
        });
    }
    ContractReport {
        period_days: opts.period_days,
        discount_per_period: opts.discount_per_period(),
        customers,
        churned: lost.iter().sum::<f64>() as usize,
        retention: rows,
    }
}
