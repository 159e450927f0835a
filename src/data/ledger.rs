//! Per-person sufficient statistics: frequency x, recency t_x and age T (in the chosen time
//! unit), repeat spend, channel counts and holdout purchases. This is all the fit needs.

use super::dates::{DAY, format_day};
use super::ingest::{EventKind, EventLog, NO_CHANNEL};
use crate::error::{Error, Result};

/// The unit that fitted rates are expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// 7 days.
    Week,
    /// 1 day.
    Day,
}

impl TimeUnit {
    /// Days in one unit.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Week => 7.0,
            TimeUnit::Day => 1.0,
        }
    }
}

/// How several purchases by one person on one day count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SameDay {
    /// As one transaction (amounts summed), at the start of the day: the classic convention.
    Once,
    /// Each at its own time of day; the period then ends at midnight after its last day.
    Each,
}

/// Which days are calibration and which are holdout.
#[derive(Debug, Clone, Copy)]
pub struct Periods {
    /// Last day observed (days since 1970-01-01); default: the day of the last event.
    pub observation_end: Option<i64>,
    /// First day of the holdout period, if any; calibration ends the day before.
    pub holdout_from: Option<i64>,
    /// Unit of x-axis quantities t_x and T.
    pub time_unit: TimeUnit,
    /// Same-day purchases policy.
    pub same_day: SameDay,
}

/// Counts that describe what the ledger was built from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LedgerSummary {
    /// Customers: persons whose first purchase is in the calibration period (written once, as
    /// `data.customers` of `model.json`).
    #[serde(skip)]
    pub customers: usize,
    /// Persons whose first purchase falls in the holdout (not fitted).
    pub first_seen_in_holdout: usize,
    /// Purchase transactions in the calibration period (after the same-day rule).
    pub calibration_purchases: u64,
    /// Repeat transactions in the calibration period.
    pub repeat_purchases: u64,
    /// Service contacts read.
    pub service_contacts: u64,
    /// Purchases after the observation end (ignored).
    pub purchases_after_end: u64,
    /// First purchase day in the data.
    pub first_day: String,
    /// Last calibration day.
    pub calibration_end: String,
    /// First holdout day, with a holdout.
    pub holdout_from: Option<String>,
    /// Last holdout day, with a holdout.
    pub holdout_end: Option<String>,
    /// Holdout length in time units.
    pub holdout_length: Option<f64>,
}

/// Per-person statistics, one entry per customer in every vector (struct of arrays).
#[derive(Debug, Clone)]
pub struct Ledger {
    /// Salted-hash key of each customer.
    pub keys: Vec<String>,
    /// Repeat transactions in calibration.
    pub x: Vec<f64>,
    /// Time of the last repeat transaction since the first one (0 when x = 0).
    pub t_x: Vec<f64>,
    /// Time from the first transaction to the end of calibration.
    pub t: Vec<f64>,
    /// Day of the first purchase.
    pub first_day: Vec<i64>,
    /// Mean value of repeat transactions with an amount (NaN when none).
    pub spend_mean: Vec<f64>,
    /// Number of repeat transactions with an amount.
    pub spend_n: Vec<u32>,
    /// Transactions in the holdout period (all zero without a holdout).
    pub holdout_x: Vec<f64>,
    /// Channel names.
    pub channels: Vec<String>,
    /// Calibration purchases per customer and channel, row-major (customers × channels).
    pub channel_counts: Vec<u32>,
    /// Whether the log had amounts.
    pub has_amount: bool,
    /// The periods used.
    pub time_unit: TimeUnit,
    /// Summary counts.
    pub summary: LedgerSummary,
}

impl Ledger {
    /// Number of customers.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Channel counts of customer `i`.
    pub fn channel_row(&self, i: usize) -> &[u32] {
        let c = self.channels.len();
        &self.channel_counts[i * c..(i + 1) * c]
    }

    /// Builds the ledger from an event log; persons are keyed by `hash_key(canonical id)`.
    pub fn build(
        log: &mut EventLog,
        periods: Periods,
        hash_key: impl Fn(&[u8]) -> String,
    ) -> Result<Ledger> {
        let persons = log.identity.persons();
        let mut service_contacts = 0;
        let mut rows: Vec<(u32, i64, f64, u16)> = Vec::with_capacity(log.events.len());
        for e in &log.events {
            match e.kind {
                EventKind::Purchase => rows.push((
                    persons.of_node[e.node as usize],
                    e.time,
                    e.amount,
                    e.channel,
                )),
                EventKind::Service => service_contacts += 1,
            }
        }
        if rows.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: no purchase rows: nothing to fit",
                log.source.display()
            )));
        }
        rows.sort_unstable_by_key(|r| (r.0, r.1));
        let last_day = rows.iter().map(|r| r.1.div_euclid(DAY)).max().unwrap_or(0);
        let first_day_all = rows.iter().map(|r| r.1.div_euclid(DAY)).min().unwrap_or(0);
        let obs_end = periods.observation_end.unwrap_or(last_day);
        let cal_end = periods.holdout_from.map_or(obs_end, |h| h - 1);
        if cal_end < first_day_all {
            return Err(Error::Invalid(format!(
                "the calibration period ends on {} but the first purchase is on {}: move --observation-end or --holdout-from later",
                format_day(cal_end),
                format_day(first_day_all)
            )));
        }
        if periods.holdout_from.is_some() && obs_end < cal_end + 1 {
            return Err(Error::Invalid(format!(
                "--holdout-from {} is after --observation-end {}: the holdout would be empty",
                format_day(cal_end + 1),
                format_day(obs_end)
            )));
        }
        let unit = periods.time_unit.days();
        let n_ch = log.channels.len();
        let each = periods.same_day == SameDay::Each;
        // End of calibration and holdout, in fractional days on the scale purchase times use.
        let (cal_end_t, obs_end_t) = if each {
            ((cal_end + 1) as f64, (obs_end + 1) as f64)
        } else {
            (cal_end as f64, obs_end as f64)
        };
        let mut l = Ledger {
            keys: Vec::new(),
            x: Vec::new(),
            t_x: Vec::new(),
            t: Vec::new(),
            first_day: Vec::new(),
            spend_mean: Vec::new(),
            spend_n: Vec::new(),
            holdout_x: Vec::new(),
            channels: log.channels.clone(),
            channel_counts: Vec::new(),
            has_amount: log.columns.amount.is_some(),
            time_unit: periods.time_unit,
            summary: LedgerSummary {
                customers: 0,
                first_seen_in_holdout: 0,
                calibration_purchases: 0,
                repeat_purchases: 0,
                service_contacts,
                purchases_after_end: 0,
                first_day: format_day(first_day_all),
                calibration_end: format_day(cal_end),
                holdout_from: periods.holdout_from.map(format_day),
                holdout_end: periods.holdout_from.map(|_| format_day(obs_end)),
                holdout_length: periods.holdout_from.map(|_| (obs_end_t - cal_end_t) / unit),
            },
        };
        let mut start = 0;
        while start < rows.len() {
            let person = rows[start].0;
            let end = start + rows[start..].iter().take_while(|r| r.0 == person).count();
            l.add_person(
                &rows[start..end],
                each,
                cal_end_t,
                obs_end_t,
                n_ch,
                &persons.canonical[person as usize],
                &hash_key,
            );
            start = end;
        }
        l.summary.customers = l.x.len();
        if l.is_empty() {
            return Err(Error::Invalid(format!(
                "no customer made a first purchase on or before {}: nothing to fit",
                format_day(cal_end)
            )));
        }
        Ok(l)
    }

    #[allow(clippy::too_many_arguments)]
    fn add_person(
        &mut self,
        rows: &[(u32, i64, f64, u16)],
        each: bool,
        cal_end_t: f64,
        obs_end_t: f64,
        n_ch: usize,
        canonical: &[u8],
        hash_key: &impl Fn(&[u8]) -> String,
    ) {
        let time = |secs: i64| {
            if each {
                secs as f64 / DAY as f64
            } else {
                secs.div_euclid(DAY) as f64
            }
        };
        let first = time(rows[0].1);
        if first > cal_end_t {
            if first <= obs_end_t {
                self.summary.first_seen_in_holdout += 1;
            } else {
                self.summary.purchases_after_end += rows.len() as u64;
            }
            return;
        }
        let unit = self.time_unit.days();
        let (mut x, mut last, mut holdout) = (0u64, first, 0u64);
        let (mut spend_sum, mut spend_n) = (0.0, 0u32);
        let ch_base = self.channel_counts.len();
        self.channel_counts.resize(ch_base + n_ch, 0);
        let mut i = 0;
        let mut is_first = true;
        while i < rows.len() {
            let t = time(rows[i].1);
            // One transaction: a single row, or every row of the day under the classic rule.
            let mut j = i + 1;
            if !each {
                while j < rows.len() && time(rows[j].1) == t {
                    j += 1;
                }
            }
            let amounts = rows[i..j].iter().map(|r| r.2).filter(|a| !a.is_nan());
            let (amount, has_amount) = amounts.fold((0.0, false), |(s, _), a| (s + a, true));
            if t <= cal_end_t {
                self.summary.calibration_purchases += 1;
                for r in &rows[i..j] {
                    if r.3 != NO_CHANNEL {
                        self.channel_counts[ch_base + r.3 as usize] += 1;
                    }
                }
                if !is_first {
                    x += 1;
                    last = t;
                    if has_amount {
                        spend_sum += amount;
                        spend_n += 1;
                    }
                }
            } else if t <= obs_end_t {
                holdout += 1;
            } else {
                self.summary.purchases_after_end += (j - i) as u64;
            }
            is_first = false;
            i = j;
        }
        self.summary.repeat_purchases += x;
        self.keys.push(hash_key(canonical));
        self.x.push(x as f64);
        self.t_x.push((last - first) / unit);
        self.t.push((cal_end_t - first) / unit);
        self.first_day.push(rows[0].1.div_euclid(DAY));
        self.spend_mean.push(if spend_n > 0 {
            spend_sum / spend_n as f64
        } else {
            f64::NAN
        });
        self.spend_n.push(spend_n);
        self.holdout_x.push(holdout as f64);
    }
}
