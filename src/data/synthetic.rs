//! Synthetic event logs from stated parameters (BG/NBD or Pareto/NBD purchases, Gamma-Gamma
//! spend, Dirichlet channel preferences, customers known under a second identifier), for tests,
//! benchmarks and demos. Each customer has its own random stream, so logs are reproducible.

use std::io::Write;

use rand::RngExt;
use rand_distr::Distribution;
use rand_distr::multi::Dirichlet;
use rayon::prelude::*;

use super::dates::{DAY, format_day};
use crate::engine::rng;
use crate::error::{Error, Result};
use crate::fit::bgnbd::BgNbd;
use crate::fit::gamma_gamma::GammaGamma;
use crate::fit::pareto_nbd::ParetoNbd;

/// The purchase/dropout process to simulate.
#[derive(Debug, Clone, Copy)]
pub enum PurchaseProcess {
    /// BG/NBD, parameters per week.
    BgNbd(BgNbd),
    /// Pareto/NBD, parameters per week.
    ParetoNbd(ParetoNbd),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SyntheticSpec {
    /// Number of customers.
    pub customers: usize,
    /// Length of the log in weeks from `start_day`.
    pub weeks: f64,
    /// Customers make their first purchase uniformly in the first `cohort_weeks`.
    pub cohort_weeks: f64,
    /// First day (days since 1970-01-01).
    pub start_day: i64,
    /// Purchases and dropout.
    pub process: PurchaseProcess,
    /// Spend per transaction; no amount column when `None`.
    pub spend: Option<GammaGamma>,
    /// Channel names; no channel column when empty.
    pub channels: Vec<String>,
    /// Dirichlet concentration of channel preferences (one per channel).
    pub channel_alpha: Vec<f64>,
    /// Share of customers who also appear under a phone number.
    pub second_id_fraction: f64,
    /// Write times of day (each purchase at its exact time) instead of dates only.
    pub time_of_day: bool,
    /// Master seed.
    pub seed: u64,
}

impl SyntheticSpec {
    /// Checks ranges and lengths.
    pub fn validate(&self) -> Result<()> {
        if self.customers == 0 {
            return Err(Error::Invalid("--customers must be at least 1".into()));
        }
        if !(self.weeks > 0.0 && self.cohort_weeks > 0.0 && self.cohort_weeks <= self.weeks) {
            return Err(Error::Invalid(format!(
                "--weeks {} and --cohort-weeks {} must be positive with cohort ≤ weeks",
                self.weeks, self.cohort_weeks
            )));
        }
        if !(0.0..=1.0).contains(&self.second_id_fraction) {
            return Err(Error::Invalid(
                "--second-id-fraction must be between 0 and 1".into(),
            ));
        }
        if self.channels.len() != self.channel_alpha.len()
            || self.channel_alpha.iter().any(|a| a.is_nan() || *a <= 0.0)
        {
            return Err(Error::Invalid(
                "give one positive --channel-alpha per channel".into(),
            ));
        }
        Ok(())
    }
}

/// Counts of what was written.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyntheticStats {
    /// Rows written.
    pub rows: u64,
    /// Customers written.
    pub customers: u64,
}

/// Writes the log as CSV with columns `email,phone,timestamp,channel,amount` (channel and amount
/// only when configured), sorted by time.
pub fn write_event_log(spec: &SyntheticSpec, out: &mut dyn Write) -> Result<SyntheticStats> {
    spec.validate()?;
    let dirichlet = (spec.channels.len() >= 2)
        .then(|| {
            Dirichlet::new(spec.channel_alpha.as_slice())
                .map_err(|e| Error::Invalid(format!("channel alpha: {e}")))
        })
        .transpose()?;
    let horizon_days = spec.weeks * 7.0;
    let mut rows: Vec<(i64, String)> = (0..spec.customers)
        .into_par_iter()
        .flat_map_iter(|i| {
            let mut rng = rng::stream(spec.seed, 0, i as u64);
            let first = rng.random::<f64>() * spec.cohort_weeks * 7.0;
            let mut times = Vec::new();
            let observe = (horizon_days - first) / 7.0;
            match spec.process {
                PurchaseProcess::BgNbd(m) => m.simulate(observe, &mut rng, &mut times),
                PurchaseProcess::ParetoNbd(m) => m.simulate(observe, &mut rng, &mut times),
            }
            let n = times.len() + 1;
            let mut amounts = vec![0.0; n];
            if let Some(gg) = spec.spend {
                gg.simulate(&mut rng, &mut amounts);
            }
            let weights: Option<Vec<f64>> = dirichlet.as_ref().map(|d| d.sample(&mut rng));
            let has_phone = rng.random::<f64>() < spec.second_id_fraction;
            let email = format!("c{i}@example.com");
            let phone = format!("+1555{i:07}");
            let mut out = Vec::with_capacity(n);
            for k in 0..n {
                let day_offset = first + if k == 0 { 0.0 } else { times[k - 1] * 7.0 };
                let secs = spec.start_day * DAY + (day_offset * DAY as f64) as i64;
                let channel = match (&weights, spec.channels.len()) {
                    (_, 0) => None,
                    (None, _) => Some(spec.channels[0].as_str()),
                    (Some(w), _) => {
                        let u = rng.random::<f64>();
                        let mut acc = 0.0;
                        let idx = w.iter().position(|p| {
                            acc += p;
                            u < acc
                        });
                        Some(spec.channels[idx.unwrap_or(w.len() - 1)].as_str())
                    }
                };
                // With a second id the first row links both; later rows carry one of the two.
                let (e, p) = match (has_phone, k) {
                    (false, _) => (email.as_str(), ""),
                    (true, 0) => (email.as_str(), phone.as_str()),
                    (true, _) if rng.random::<bool>() => ("", phone.as_str()),
                    (true, _) => (email.as_str(), ""),
                };
                let mut line = format!("{e},{p},{}", timestamp(secs, spec.time_of_day));
                if let Some(c) = channel {
                    line.push(',');
                    line.push_str(c);
                }
                if spec.spend.is_some() {
                    line.push_str(&format!(",{:.2}", amounts[k]));
                }
                out.push((secs, line));
            }
            out
        })
        .collect();
    rows.par_sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut header = String::from("email,phone,timestamp");
    if !spec.channels.is_empty() {
        header.push_str(",channel");
    }
    if spec.spend.is_some() {
        header.push_str(",amount");
    }
    let io = |e| Error::io("<output>", e);
    writeln!(out, "{header}").map_err(io)?;
    for (_, line) in &rows {
        out.write_all(line.as_bytes()).map_err(io)?;
        out.write_all(b"\n").map_err(io)?;
    }
    Ok(SyntheticStats {
        rows: rows.len() as u64,
        customers: spec.customers as u64,
    })
}

fn timestamp(secs: i64, time_of_day: bool) -> String {
    let day = secs.div_euclid(DAY);
    if !time_of_day {
        return format_day(day);
    }
    let s = secs.rem_euclid(DAY);
    format!(
        "{}T{:02}:{:02}:{:02}",
        format_day(day),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}
