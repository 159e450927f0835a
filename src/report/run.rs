//! The outputs of `twinsim run`, one exporter per file, each returning bytes: `metrics.csv`
//! (tidy), `daily.csv` (wide means), `summary.json`, `cohorts.csv` and `clv.csv`.

use std::fmt::Write as _;
use std::path::Path;

use rayon::prelude::*;

use serde::{Deserialize, Serialize};

use super::write_atomic;
use crate::engine::RunResult;
use crate::error::{Error, Result};
use crate::metrics::summary::{Effect, effect};
use crate::metrics::{Series, idx};
use crate::scenario::{METRICS, Scenario};

/// Daily columns of `metrics.csv`, in order (then `purchases:<channel>`).
const DAILY: &[(&str, usize)] = &[
    ("purchases", idx::PURCHASES),
    ("revenue", idx::REVENUE),
    ("active_customers", idx::ACTIVE),
    ("new_customers_external", idx::NEW_EXTERNAL),
    ("new_customers_referred", idx::NEW_REFERRED),
    ("churned", idx::CHURNED),
    ("referrals", idx::REFERRALS),
    ("service_contacts", idx::CONTACTS),
    ("bad_experiences", idx::BAD),
    ("upsells", idx::UPSELLS),
    ("cross_sells", idx::CROSS_SELLS),
    ("cost_to_serve", idx::COST_TO_SERVE),
    ("intervention_cost", idx::INTERVENTION_COST),
    ("discounted_revenue", idx::DISCOUNTED_REVENUE),
];

/// Every daily metric of a series as (name, value) for one day, margin and profit derived.
fn day_values<'c>(s: &Series, d: usize, channels: &'c [String]) -> Vec<(Metric<'c>, f64)> {
    let day = &s.days[d];
    let mut v: Vec<(Metric, f64)> = Vec::with_capacity(DAILY.len() + 2 + channels.len());
    v.extend(DAILY.iter().map(|(n, i)| (Metric::Named(n), day[*i])));
    let margin = day[idx::REVENUE] * s.margin_rate;
    v.insert(2, (Metric::Named("margin"), margin));
    v.push((
        Metric::Named("profit"),
        margin - day[idx::COST_TO_SERVE] - day[idx::INTERVENTION_COST],
    ));
    for (c, name) in channels.iter().enumerate() {
        v.push((Metric::Channel(name), day[idx::channel(c)]));
    }
    v
}

/// A metric's name in the tables, written without building a string per row.
#[derive(Debug, Clone, Copy)]
enum Metric<'c> {
    /// A fixed name.
    Named(&'static str),
    /// `purchases:<channel>`.
    Channel(&'c str),
}

impl std::fmt::Display for Metric<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Metric::Named(n) => f.write_str(n),
            Metric::Channel(c) => write!(f, "purchases:{c}"),
        }
    }
}

/// `metrics.csv`: `arm,replication,day,metric,value`.
pub fn metrics_csv(r: &RunResult) -> String {
    // Sized up front (rows × a generous row length): growing by doubling would copy the text
    // and touch twice the memory. A day has the DAILY metrics, margin, profit and a column
    // per channel (as `day_values` gives them).
    let rows: usize = [&r.baseline, &r.scenario]
        .iter()
        .flat_map(|a| &a.series)
        .map(|s| s.days.len() * (DAILY.len() + 2 + r.channels.len()))
        .sum();
    let mut out = String::with_capacity(rows * 40);
    out.push_str("arm,replication,day,metric,value\n");
    for (arm, res) in [("baseline", &r.baseline), ("scenario", &r.scenario)] {
        for (rep, s) in res.series.iter().enumerate() {
            for d in 0..s.days.len() {
                for (name, v) in day_values(s, d, &r.channels) {
                    let _ = writeln!(out, "{arm},{rep},{d},{name},{v}");
                }
            }
        }
    }
    out
}

/// `daily.csv`: one row per arm and day, the mean of each metric over replications.
pub fn daily_csv(r: &RunResult) -> String {
    let mut out = String::new();
    let mut header = false;
    for (arm, res) in [("baseline", &r.baseline), ("scenario", &r.scenario)] {
        let n = res.series.len().max(1) as f64;
        let days = res.series.first().map_or(0, |s| s.days.len());
        for d in 0..days {
            let mut sums: Vec<(Metric, f64)> = Vec::new();
            for s in &res.series {
                for (k, (name, v)) in day_values(s, d, &r.channels).into_iter().enumerate() {
                    if k >= sums.len() {
                        sums.push((name, 0.0));
                    }
                    sums[k].1 += v;
                }
            }
            if !header {
                let names: Vec<String> = sums.iter().map(|(n, _)| n.to_string()).collect();
                let _ = writeln!(out, "arm,day,{}", names.join(","));
                header = true;
            }
            let _ = write!(out, "{arm},{d}");
            for (_, v) in &sums {
                let _ = write!(out, ",{}", v / n);
            }
            out.push('\n');
        }
    }
    out
}

/// `cohorts.csv`: share of each cohort still active at the end of each 30-day month, mean over
/// replications (cohort 0 = customers at the start; k = arrivals in month k).
pub fn cohorts_csv(r: &RunResult) -> String {
    let mut out = String::from("arm,cohort,month,customers,share_active\n");
    for (arm, res) in [("baseline", &r.baseline), ("scenario", &r.scenario)] {
        let Some(first) = res.series.first() else {
            continue;
        };
        let n = res.series.len() as f64;
        for c in 0..first.cohort_size.len() {
            let size: f64 = res.series.iter().map(|s| s.cohort_size[c]).sum::<f64>() / n;
            if size == 0.0 {
                continue;
            }
            let months = first.cohort_deaths[c].len();
            for m in 0..months {
                let vals: Vec<f64> = res
                    .series
                    .iter()
                    .map(|s| s.retention()[c][m])
                    .filter(|v| v.is_finite())
                    .collect();
                if vals.is_empty() {
                    continue;
                }
                let _ = writeln!(
                    out,
                    "{arm},{c},{},{size},{}",
                    m + 1,
                    vals.iter().sum::<f64>() / vals.len() as f64
                );
            }
        }
    }
    out
}

/// `clv.csv`: per known customer, mean discounted revenue and purchases over the horizon in
/// each arm.
pub fn clv_csv(r: &RunResult) -> String {
    let n = r.replications.max(1) as f64;
    let mut out = String::from(
        "key,baseline_clv,scenario_clv,difference,baseline_purchases,scenario_purchases\n",
    );
    for (i, key) in r.keys.iter().enumerate() {
        let (b, s) = (r.baseline.clv_known[i] / n, r.scenario.clv_known[i] / n);
        let (pb, ps) = (
            r.baseline.purchases_known[i] / n,
            r.scenario.purchases_known[i] / n,
        );
        let _ = writeln!(out, "{key},{b:.4},{s:.4},{:.4},{pb:.6},{ps:.6}", s - b);
    }
    out
}

/// `clv_histogram.csv`: twins per bin of discounted revenue over the horizon, mean over
/// replications (the last bin is open-ended).
pub fn clv_histogram_csv(r: &RunResult) -> String {
    let mut out = String::from("arm,low,high,twins\n");
    for (arm, res) in [("baseline", &r.baseline), ("scenario", &r.scenario)] {
        let Some(first) = res.series.first() else {
            continue;
        };
        let n = res.series.len() as f64;
        let w = first.clv_bin_width;
        for k in 0..first.clv_bins.len() {
            let count = res.series.iter().map(|s| s.clv_bins[k]).sum::<f64>() / n;
            let high = if k + 1 == first.clv_bins.len() {
                "inf".to_string()
            } else {
                format!("{}", w * (k + 1) as f64)
            };
            let _ = writeln!(out, "{arm},{},{high},{count}", w * k as f64);
        }
    }
    out
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// twinsim version that made the run.
    pub twinsim_version: String,
    /// Scenario name.
    pub scenario: String,
    /// What the scenario changes, one phrase per intervention.
    pub changes: Vec<String>,
    /// Scenario file.
    pub file: String,
    /// Seed.
    pub seed: u64,
    /// Replications.
    pub replications: u32,
    /// Horizon.
    pub horizon_days: u32,
    /// Whether parameter uncertainty was drawn per replication.
    pub parameter_uncertainty: bool,
    /// Annual discount rate of CLV.
    pub discount_rate: f64,
    /// Twins at the start.
    pub initial_customers: f64,
    /// The primary metric's effect.
    pub primary: Effect,
    /// Secondary metrics' effects.
    pub also: Vec<Effect>,
    /// Every metric's effect.
    pub all_metrics: Vec<Effect>,
    /// Behavioural assumptions that are defaults, not fitted or stated.
    pub defaults_used: Vec<String>,
    /// What the interval covers.
    pub interval: String,
}

/// Builds the summary.
pub fn summary(s: &Scenario, r: &RunResult, seed: u64) -> Summary {
    let eff = |m: &str| effect(m, &r.baseline.series, &r.scenario.series, &r.channels);
    let mut all: Vec<String> = METRICS.iter().map(|m| m.to_string()).collect();
    all.extend(r.channels.iter().map(|c| format!("purchases:{c}")));
    Summary {
        twinsim_version: env!("CARGO_PKG_VERSION").into(),
        scenario: s.name.clone(),
        changes: s.interventions.iter().map(|i| i.describe()).collect(),
        file: s.path.display().to_string(),
        seed,
        replications: r.replications,
        horizon_days: s.horizon_days,
        parameter_uncertainty: s.parameter_uncertainty && matches!(s.source, crate::scenario::Source::Fitted(_)),
        discount_rate: s.discount_rate,
        initial_customers: r.baseline.series.first().map_or(0.0, |x| x.initial),
        primary: eff(&s.primary),
        also: s.also.iter().map(|m| eff(m)).collect(),
        all_metrics: all.iter().map(|m| eff(m)).collect(),
        defaults_used: s.behaviour.defaults_used.clone(),
        interval: "90% Student-t interval of the mean paired difference over replications; it carries behavioural noise and, with parameter_uncertainty, the fit's parameter uncertainty".into(),
    }
}

/// Writes every run output into `dir` atomically.
pub fn write_all(dir: &Path, s: &Scenario, r: &RunResult, seed: u64) -> Result<Summary> {
    type Render = fn(&RunResult) -> String;
    let tables: [(&str, Render); 5] = [
        ("metrics.csv", metrics_csv),
        ("clv_histogram.csv", clv_histogram_csv),
        ("daily.csv", daily_csv),
        ("cohorts.csv", cohorts_csv),
        ("clv.csv", clv_csv),
    ];
    // The tables are independent: format them on all cores while the summary is computed.
    let (mut files, summary) = rayon::join(
        || {
            tables
                .par_iter()
                .map(|(name, render)| (*name, render(r)))
                .collect::<Vec<_>>()
        },
        || summary(s, r, seed),
    );
    let json =
        serde_json::to_string_pretty(&summary).map_err(|e| Error::Invalid(e.to_string()))? + "\n";
    files.push(("summary.json", json));
    for (name, text) in files {
        let path = dir.join(name);
        write_atomic(&path, |w| {
            w.write_all(text.as_bytes())
                .map_err(|e| Error::io(&path, e))
        })?;
    }
    Ok(summary)
}
