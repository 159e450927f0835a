//! Synthetic event logs from stated parameters, for recovery tests, benchmarks and demos: BG/NBD
//! or Pareto/NBD purchases, Gamma-Gamma spend, Dirichlet channel preferences, customers known
//! under a second identifier and, when asked, every optional column the fit reads: service
//! experiences (bad with a per-channel rate, dropout × κ after a bad one) scored on service
//! rows, referrals (a Beta-distributed probability per good purchase, referred customers with
//! their own prior, in waves), Bass-timed acquisition, tier-ups and new categories, segments
//! with their own priors. Each customer has its own random stream, so logs are reproducible.

use std::io::Write;

use rand::RngExt;
use rand_distr::Distribution;
use rand_distr::multi::Dirichlet;
use rayon::prelude::*;

use super::dates::{DAY, format_day};
use crate::engine::rng;
use crate::error::{Error, Result};
use crate::fit::bass::Bass;
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
    /// Optional behaviours and their columns.
    pub extras: SyntheticExtras,
}

/// Service experiences: which purchases are bad and how that moves dropout.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// Probability that a purchase is a bad experience, per channel (one value: all channels).
    pub bad_rate: Vec<f64>,
    /// Dropout multiplier after a bad repeat purchase (BG/NBD; capped at probability 1).
    pub kappa: f64,
    /// Share of purchases whose experience is scored on a service row.
    pub scored_share: f64,
}

/// Referrals: who refers, and how referred customers behave.
#[derive(Debug, Clone, Copy)]
pub struct ReferralSpec {
    /// Beta(a, b) of the referral probability per good purchase.
    pub a: f64,
    /// See `a`.
    pub b: f64,
    /// Purchase process of referred customers (per week); the main process when `None`.
    pub referred: Option<BgNbd>,
}

/// A segment with its own purchase process.
#[derive(Debug, Clone)]
pub struct SegmentSpec {
    /// Value written in the `segment` column.
    pub name: String,
    /// Share of external customers.
    pub share: f64,
    /// Its BG/NBD (per week).
    pub process: BgNbd,
}

/// Optional behaviours; all off by default.
#[derive(Debug, Clone, Default)]
pub struct SyntheticExtras {
    /// Service experiences (`event`, `satisfaction` columns).
    pub service: Option<ServiceSpec>,
    /// Referrals (`referred_by` column).
    pub referral: Option<ReferralSpec>,
    /// External first purchases timed by a Bass curve (p, q per week; M prospects) instead of
    /// uniformly in the cohort window: `customers` is then ignored.
    pub acquisition: Option<Bass>,
    /// Beta(a, b) of the tier-up probability per repeat purchase (`tier` column).
    pub upsell: Option<(f64, f64)>,
    /// Beta(a, b) of the new-category probability per repeat purchase (`category` column).
    pub cross_sell: Option<(f64, f64)>,
    /// Segments (`segment` column), shares summing to 1.
    pub segments: Vec<SegmentSpec>,
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
        let x = &self.extras;
        if let Some(s) = &x.service {
            let n = self.channels.len().max(1);
            if !(s.bad_rate.len() == 1 || s.bad_rate.len() == n)
                || s.bad_rate.iter().any(|v| !(0.0..=1.0).contains(v))
            {
                return Err(Error::Invalid(format!(
                    "--bad-rate: give one probability, or one per channel ({n})"
                )));
            }
            if !(s.kappa >= 0.0 && s.kappa.is_finite() && (0.0..=1.0).contains(&s.scored_share)) {
                return Err(Error::Invalid(
                    "--kappa must be ≥ 0 and --scored-share in [0, 1]".into(),
                ));
            }
            if matches!(self.process, PurchaseProcess::ParetoNbd(_)) && s.kappa != 1.0 {
                return Err(Error::Invalid(
                    "--kappa acts on BG/NBD dropout: use --model bgnbd".into(),
                ));
            }
        }
        for (name, ab) in [
            ("--referral-beta", x.referral.map(|r| (r.a, r.b))),
            ("--upsell-beta", x.upsell),
            ("--cross-sell-beta", x.cross_sell),
        ] {
            if let Some((a, b)) = ab
                && !(a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite())
            {
                return Err(Error::Invalid(format!("{name}: a and b must be positive")));
            }
        }
        if !x.segments.is_empty()
            && ((x.segments.iter().map(|s| s.share).sum::<f64>() - 1.0).abs() > 1e-6
                || x.segments.iter().any(|s| s.share <= 0.0))
        {
            return Err(Error::Invalid(
                "--segment shares must be positive and sum to 1".into(),
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
    /// Of those, customers won by referral.
    pub referred: u64,
}

/// One simulated customer's output: rows, and the times (days from the start) of the
/// referrals it made.
struct Simulated {
    rows: Vec<(i64, String)>,
    referrals: Vec<f64>,
}

/// A customer to simulate: number, first purchase (days from the start), who referred it.
#[derive(Clone, Copy)]
struct Arrival {
    id: u64,
    first: f64,
    referrer: Option<u64>,
}

/// Writes the log as CSV with columns `email,phone,timestamp` then, as configured, `event`,
/// `channel`, `amount`, `satisfaction`, `referred_by`, `tier`, `category`, `segment`; sorted by
/// time.
pub fn write_event_log(spec: &SyntheticSpec, out: &mut dyn Write) -> Result<SyntheticStats> {
    spec.validate()?;
    let dirichlet = (spec.channels.len() >= 2)
        .then(|| {
            Dirichlet::new(spec.channel_alpha.as_slice())
                .map_err(|e| Error::Invalid(format!("channel alpha: {e}")))
        })
        .transpose()?;
    let horizon_days = spec.weeks * 7.0;
    let x = &spec.extras;
    // External arrivals: uniform in the cohort window, or Bass-timed.
    let mut wave: Vec<Arrival> = match &x.acquisition {
        None => (0..spec.customers as u64)
            .map(|id| Arrival {
                id,
                first: rng::stream(spec.seed, 1, id).random::<f64>() * spec.cohort_weeks * 7.0,
                referrer: None,
            })
            .collect(),
        Some(bass) => {
            let mut firsts: Vec<f64> = (0..bass.m as u64)
                .map(|k| bass.quantile(rng::stream(spec.seed, 2, k).random::<f64>()) * 7.0)
                .filter(|&d| d < horizon_days)
                .collect();
            firsts.sort_by(f64::total_cmp);
            firsts
                .into_iter()
                .enumerate()
                .map(|(id, first)| Arrival {
                    id: id as u64,
                    first,
                    referrer: None,
                })
                .collect()
        }
    };
    let mut rows: Vec<(i64, String)> = Vec::new();
    let mut stats = SyntheticStats::default();
    let mut next_id = wave.len() as u64;
    // Referral waves: each customer's referrals become the next wave's customers.
    while !wave.is_empty() {
        let done: Vec<Simulated> = wave
            .par_iter()
            .map(|a| simulate_customer(spec, dirichlet.as_ref(), horizon_days, *a))
            .collect();
        stats.customers += wave.len() as u64;
        stats.referred += wave.iter().filter(|a| a.referrer.is_some()).count() as u64;
        let mut next = Vec::new();
        for (a, sim) in wave.iter().zip(done) {
            rows.extend(sim.rows);
            for first in sim.referrals {
                next.push(Arrival {
                    id: next_id,
                    first,
                    referrer: Some(a.id),
                });
                next_id += 1;
            }
        }
        if next_id > 50 * (spec.customers as u64).max(1_000) {
            return Err(Error::Invalid(
                "referrals grow without bound: lower --referral-beta's mean".into(),
            ));
        }
        wave = next;
    }
    rows.par_sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut header = String::from("email,phone,timestamp");
    for (on, col) in [
        (x.service.is_some(), ",event"),
        (!spec.channels.is_empty(), ",channel"),
        (spec.spend.is_some(), ",amount"),
        (x.service.is_some(), ",satisfaction"),
        (x.referral.is_some(), ",referred_by"),
        (x.upsell.is_some(), ",tier"),
        (x.cross_sell.is_some(), ",category"),
        (!x.segments.is_empty(), ",segment"),
    ] {
        if on {
            header.push_str(col);
        }
    }
    let io = |e| Error::io("<output>", e);
    writeln!(out, "{header}").map_err(io)?;
    for (_, line) in &rows {
        out.write_all(line.as_bytes()).map_err(io)?;
        out.write_all(b"\n").map_err(io)?;
    }
    stats.rows = rows.len() as u64;
    Ok(stats)
}

fn email(id: u64) -> String {
    format!("c{id}@example.com")
}

/// Draws from Beta(a, b) given as a pair.
fn beta_draw(ab: Option<(f64, f64)>, r: &mut rng::TwinRng) -> f64 {
    ab.map_or(0.0, |(a, b)| {
        rand_distr::Beta::new(a, b).map_or(0.0, |d| d.sample(r))
    })
}

fn simulate_customer(
    spec: &SyntheticSpec,
    dirichlet: Option<&Dirichlet<f64>>,
    horizon_days: f64,
    a: Arrival,
) -> Simulated {
    let x = &spec.extras;
    let mut rng = rng::stream(spec.seed, 0, a.id);
    let observe = (horizon_days - a.first) / 7.0;
    // The purchase process: a segment's, the referred prior, or the main one.
    let mut process = spec.process;
    let mut segment = None;
    if !x.segments.is_empty() && a.referrer.is_none() {
        let u = rng.random::<f64>();
        let mut acc = 0.0;
        let seg = x
            .segments
            .iter()
            .find(|s| {
                acc += s.share;
                u < acc
            })
            .unwrap_or(&x.segments[x.segments.len() - 1]);
        process = PurchaseProcess::BgNbd(seg.process);
        segment = Some(seg.name.as_str());
    }
    if let (Some(r), Some(_)) = (&x.referral, a.referrer)
        && let Some(m) = r.referred
    {
        process = PurchaseProcess::BgNbd(m);
    }
    let weights: Option<Vec<f64>> = dirichlet.map(|d| d.sample(&mut rng));
    let rho = beta_draw(x.referral.map(|r| (r.a, r.b)), &mut rng);
    let up = beta_draw(x.upsell, &mut rng);
    let cross = beta_draw(x.cross_sell, &mut rng);
    let has_phone = rng.random::<f64>() < spec.second_id_fraction;
    // Purchases: times (weeks after the first), channel, bad experience.
    let (lambda, dropout) = match process {
        PurchaseProcess::BgNbd(m) => (
            rand_distr::Gamma::new(m.r, 1.0 / m.alpha).map_or(0.0, |d| d.sample(&mut rng)),
            rand_distr::Beta::new(m.a, m.b).map_or(0.0, |d| d.sample(&mut rng)),
        ),
        PurchaseProcess::ParetoNbd(m) => {
            let lambda =
                rand_distr::Gamma::new(m.r, 1.0 / m.alpha).map_or(0.0, |d| d.sample(&mut rng));
            let mu = rand_distr::Gamma::new(m.s, 1.0 / m.beta).map_or(0.0, |d| d.sample(&mut rng));
            // Pareto: the "dropout" slot holds the lifetime in weeks.
            (lambda, -(1.0 - rng.random::<f64>()).ln() / mu)
        }
    };
    let pareto = matches!(process, PurchaseProcess::ParetoNbd(_));
    let end = if pareto {
        dropout.min(observe)
    } else {
        observe
    };
    let n_ch = spec.channels.len();
    let mut purchases: Vec<(f64, usize, bool)> = Vec::new();
    let mut now = 0.0;
    loop {
        let c = match (&weights, n_ch) {
            (_, 0) | (None, _) => 0,
            (Some(w), _) => {
                let u = rng.random::<f64>();
                let mut acc = 0.0;
                w.iter()
                    .position(|p| {
                        acc += p;
                        u < acc
                    })
                    .unwrap_or(w.len() - 1)
            }
        };
        let bad = x.service.as_ref().is_some_and(|s| {
            let rate = s.bad_rate[c.min(s.bad_rate.len() - 1)];
            rng.random::<f64>() < rate
        });
        purchases.push((now, c, bad));
        if !pareto && !purchases.is_empty() && now > 0.0 {
            let kappa = x.service.as_ref().map_or(1.0, |s| s.kappa);
            let p = if bad {
                (kappa * dropout).min(1.0)
            } else {
                dropout
            };
            if rng.random::<f64>() < p {
                break;
            }
        }
        now += -(1.0 - rng.random::<f64>()).ln() / lambda;
        if now > end {
            break;
        }
    }
    let mut amounts = vec![0.0; purchases.len()];
    if let Some(gg) = spec.spend {
        gg.simulate(&mut rng, &mut amounts);
    }
    let me = email(a.id);
    let phone = format!("+1555{:07}", a.id);
    let referred_by = a.referrer.map(email).unwrap_or_default();
    let mut out = Simulated {
        rows: Vec::with_capacity(purchases.len()),
        referrals: Vec::new(),
    };
    let (mut tier, mut categories) = (1u32, 1u32);
    for (k, &(t, c, bad)) in purchases.iter().enumerate() {
        let day_offset = a.first + t * 7.0;
        let secs = spec.start_day * DAY + (day_offset * DAY as f64) as i64;
        // With a second id the first row links both; later rows carry one of the two.
        let (e, p) = match (has_phone, k) {
            (false, _) => (me.as_str(), ""),
            (true, 0) => (me.as_str(), phone.as_str()),
            (true, _) if rng.random::<bool>() => ("", phone.as_str()),
            (true, _) => (me.as_str(), ""),
        };
        let mut category = 0;
        if k > 0 {
            if rng.random::<f64>() < up {
                tier += 1;
            }
            if rng.random::<f64>() < cross {
                category = categories;
                categories += 1;
            } else {
                category = (rng.random::<f64>() * categories as f64) as u32;
            }
        }
        let scored = x
            .service
            .as_ref()
            .is_some_and(|s| rng.random::<f64>() < s.scored_share);
        let score = if bad {
            1 + (rng.random::<f64>() * 2.0) as u32
        } else {
            3 + (rng.random::<f64>() * 3.0) as u32
        };
        // The referred customer's first purchase follows within the hour, if the log lasts.
        if !bad && rng.random::<f64>() < rho && day_offset + 1.0 / 24.0 < horizon_days {
            out.referrals.push(day_offset + 1.0 / 24.0);
        }
        let ts = timestamp(secs, spec.time_of_day);
        let mut line = format!("{e},{p},{ts}");
        let channel = spec.channels.get(c).map(String::as_str);
        let tail = |line: &mut String, event: &str, amount: Option<f64>, sat: Option<u32>| {
            if x.service.is_some() {
                line.push(',');
                line.push_str(event);
            }
            if let Some(ch) = channel {
                line.push(',');
                line.push_str(ch);
            }
            if spec.spend.is_some() {
                line.push(',');
                if let Some(v) = amount {
                    line.push_str(&format!("{v:.2}"));
                }
            }
            if x.service.is_some() {
                line.push(',');
                if let Some(s) = sat {
                    line.push_str(&s.to_string());
                }
            }
            if x.referral.is_some() {
                line.push(',');
                if k == 0 && event == "purchase" {
                    line.push_str(&referred_by);
                }
            }
            if x.upsell.is_some() {
                line.push(',');
                if event == "purchase" {
                    line.push_str(&tier.to_string());
                }
            }
            if x.cross_sell.is_some() {
                line.push(',');
                if event == "purchase" {
                    line.push_str(&format!("cat{category}"));
                }
            }
            if let Some(sg) = segment {
                line.push(',');
                line.push_str(sg);
            }
        };
        tail(&mut line, "purchase", Some(amounts[k]), None);
        out.rows.push((secs, line));
        if scored {
            // The contact a minute after the purchase, under the customer's email.
            let secs = secs + if spec.time_of_day { 60 } else { 0 };
            let mut line = format!("{me},,{}", timestamp(secs, spec.time_of_day));
            tail(&mut line, "service", None, Some(score));
            out.rows.push((secs, line));
        }
    }
    out
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

/// A subscription business: customers join uniformly over `cohort_weeks`, each with a churn
/// probability θ ~ Beta(alpha, beta) per period (sBG), and pay once per period until they churn.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionSpec {
    /// Subscribers.
    pub customers: usize,
    /// Days per period.
    pub period_days: f64,
    /// Log length in weeks.
    pub weeks: f64,
    /// Join window in weeks.
    pub cohort_weeks: f64,
    /// First day (days since 1970-01-01).
    pub start_day: i64,
    /// Beta α of θ.
    pub alpha: f64,
    /// Beta β of θ.
    pub beta: f64,
    /// Price per period.
    pub price: f64,
    /// Master seed.
    pub seed: u64,
}

/// Writes a subscription log (`email,phone,timestamp,amount`, one row per payment) by time.
pub fn write_subscription_log(
    spec: &SubscriptionSpec,
    out: &mut dyn Write,
) -> Result<SyntheticStats> {
    let beta = rand_distr::Beta::new(spec.alpha, spec.beta)
        .map_err(|e| Error::Invalid(format!("--churn-beta: {e}")))?;
    if !(spec.period_days >= 1.0 && spec.weeks > 0.0 && spec.cohort_weeks <= spec.weeks) {
        return Err(Error::Invalid(
            "--period-days must be ≥ 1 and --cohort-weeks ≤ --weeks".into(),
        ));
    }
    let horizon = spec.weeks * 7.0;
    let mut rows: Vec<(i64, String)> = (0..spec.customers as u64)
        .into_par_iter()
        .flat_map_iter(|id| {
            let mut r = rng::stream(spec.seed, 3, id);
            let first = r.random::<f64>() * spec.cohort_weeks * 7.0;
            let theta = beta.sample(&mut r);
            let mut out = Vec::new();
            let mut k = 0.0;
            while first + k * spec.period_days <= horizon {
                let secs =
                    spec.start_day * DAY + ((first + k * spec.period_days) * DAY as f64) as i64;
                out.push((
                    secs,
                    format!(
                        "{},,{},{:.2}",
                        email(id),
                        format_day(secs.div_euclid(DAY)),
                        spec.price
                    ),
                ));
                if r.random::<f64>() < theta {
                    break;
                }
                k += 1.0;
            }
            out
        })
        .collect();
    rows.par_sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let io = |e| Error::io("<output>", e);
    writeln!(out, "email,phone,timestamp,amount").map_err(io)?;
    for (_, line) in &rows {
        out.write_all(line.as_bytes()).map_err(io)?;
        out.write_all(b"\n").map_err(io)?;
    }
    Ok(SyntheticStats {
        rows: rows.len() as u64,
        customers: spec.customers as u64,
        referred: 0,
    })
}
