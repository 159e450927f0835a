//! Effects: for each declared metric, baseline and scenario means over replications, the paired
//! difference with its 90% interval (Student t), and the relative change.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{Series, idx};

/// One metric's effect.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Effect {
    /// Metric name.
    pub metric: String,
    /// Mean over replications, baseline.
    #[serde(deserialize_with = "null_as_nan")]
    pub baseline_mean: f64,
    /// Mean over replications, scenario.
    #[serde(deserialize_with = "null_as_nan")]
    pub scenario_mean: f64,
    /// Mean paired difference (scenario − baseline).
    #[serde(deserialize_with = "null_as_nan")]
    pub difference: f64,
    /// Lower end of the 90% interval of the difference.
    #[serde(deserialize_with = "null_as_nan")]
    pub difference_low: f64,
    /// Upper end of the 90% interval of the difference.
    #[serde(deserialize_with = "null_as_nan")]
    pub difference_high: f64,
    /// Difference relative to the baseline mean.
    #[serde(deserialize_with = "null_as_nan")]
    pub relative_change: f64,
    /// Relative interval, low.
    #[serde(deserialize_with = "null_as_nan")]
    pub relative_low: f64,
    /// Relative interval, high.
    #[serde(deserialize_with = "null_as_nan")]
    pub relative_high: f64,
    /// Replications.
    pub replications: usize,
}

/// JSON has no NaN: serde_json writes it as `null`; read `null` back as NaN.
fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A metric's value for one replication: a total for flows, the last day's level for stocks.
pub fn value(metric: &str, s: &Series, channels: &[String]) -> f64 {
    let last = |i: usize| s.days.last().map_or(0.0, |d| d[i]);
    match metric {
        "purchases" => s.total(idx::PURCHASES),
        "revenue" => s.total(idx::REVENUE),
        "margin" => margin_total(s),
        "active_customers" => last(idx::ACTIVE),
        "new_customers_external" => s.total(idx::NEW_EXTERNAL),
        "new_customers_referred" => s.total(idx::NEW_REFERRED),
        "churned" => s.total(idx::CHURNED),
        "referrals" => s.total(idx::REFERRALS),
        "service_contacts" => s.total(idx::CONTACTS),
        "bad_experiences" => s.total(idx::BAD),
        "upsells" => s.total(idx::UPSELLS),
        "cross_sells" => s.total(idx::CROSS_SELLS),
        "cost_to_serve" => s.total(idx::COST_TO_SERVE),
        "intervention_cost" => s.total(idx::INTERVENTION_COST),
        "profit" => margin_total(s) - s.total(idx::COST_TO_SERVE) - s.total(idx::INTERVENTION_COST),
        "clv" => s.total(idx::DISCOUNTED_REVENUE) / s.initial.max(1.0),
        other => other
            .strip_prefix("purchases:")
            .and_then(|c| channels.iter().position(|x| x == c))
            .map_or(f64::NAN, |c| s.total(idx::channel(c))),
    }
}

fn margin_total(s: &Series) -> f64 {
    s.margin_rate * s.total(idx::REVENUE)
}

/// The effect of the scenario on `metric` over paired replications.
pub fn effect(
    metric: &str,
    baseline: &[Series],
    scenario: &[Series],
    channels: &[String],
) -> Effect {
    let b: Vec<f64> = baseline
        .iter()
        .map(|s| value(metric, s, channels))
        .collect();
    let c: Vec<f64> = scenario
        .iter()
        .map(|s| value(metric, s, channels))
        .collect();
    let d: Vec<f64> = b.iter().zip(&c).map(|(x, y)| y - x).collect();
    let n = d.len();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (mb, mc, md) = (mean(&b), mean(&c), mean(&d));
    let half = if n > 1 {
        let var = d.iter().map(|x| (x - md).powi(2)).sum::<f64>() / (n - 1) as f64;
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).map_or(1.645, |t| t.inverse_cdf(0.95));
        t * (var / n as f64).sqrt()
    } else {
        0.0
    };
    let rel = |x: f64| if mb != 0.0 { x / mb.abs() } else { f64::NAN };
    Effect {
        metric: metric.to_string(),
        baseline_mean: mb,
        scenario_mean: mc,
        difference: md,
        difference_low: md - half,
        difference_high: md + half,
        relative_change: rel(md),
        relative_low: rel(md - half),
        relative_high: rel(md + half),
        replications: n,
    }
}
