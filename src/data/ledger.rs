//! Per-person sufficient statistics: frequency x, recency t_x and age T (in the chosen time
//! unit), repeat spend, channel counts and holdout purchases. This is all the fit needs.

use super::dates::{DAY, format_day};
use super::ingest::{EventKind, EventLog, NO_CHANNEL, NO_SATISFACTION};
use super::labels::NO_LABEL;
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
    /// Highest satisfaction score that counts as a bad experience; default 2 on a 1–5 scale and
    /// 6 on a 0–10 scale (NPS detractors).
    pub bad_satisfaction: Option<u8>,
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
    /// Customers whose first purchase names a referrer.
    #[serde(default)]
    pub referred_customers: u64,
    /// Referred customers whose referrer is a customer of the log.
    #[serde(default)]
    pub referrers_found: u64,
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

/// Service experiences per customer, when the log has satisfaction scores. A transaction's
/// experience is its worst score: on its own rows, or on service contacts from it until the next
/// transaction. Transactions without any score have an unknown experience.
#[derive(Debug, Clone)]
pub struct Experiences {
    /// Dropout classes: 0 good, 1 bad, 2 + c unknown in channel c, 2 + channels unknown without one.
    pub classes: usize,
    /// Repeat transactions per customer and class, row-major (customers × classes).
    pub counts: Vec<u32>,
    /// Class of each customer's last repeat transaction ([`NO_CLASS`] when x = 0).
    pub last: Vec<u16>,
    /// Calibration transactions with a known experience, per channel (last: no channel).
    pub known: Vec<u64>,
    /// Of those, the bad ones.
    pub bad: Vec<u64>,
    /// Highest score counted as bad.
    pub bad_at_most: u8,
}

/// Class meaning "no repeat transaction".
pub const NO_CLASS: u16 = u16::MAX;

impl Experiences {
    /// Class counts of customer `i`.
    pub fn row(&self, i: usize) -> &[u32] {
        &self.counts[i * self.classes..(i + 1) * self.classes]
    }
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
    /// Day of the last calibration purchase.
    pub last_day: Vec<i64>,
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
    /// Service experiences, with a satisfaction column.
    pub experiences: Option<Experiences>,
    /// Whether each customer's first purchase names a referrer.
    pub referred: Vec<bool>,
    /// Customers of the ledger that each customer referred.
    pub referrals: Vec<u32>,
    /// Calibration transactions that were not bad experiences: chances to refer.
    pub referral_trials: Vec<u32>,
    /// Repeat transactions whose tier can be compared with the previous one.
    pub tier_trials: Vec<u32>,
    /// Of those, transactions at a higher tier than the previous one.
    pub tier_ups: Vec<u32>,
    /// Repeat transactions with a category, after one with a category.
    pub category_trials: Vec<u32>,
    /// Of those, transactions in a category the customer had not bought before.
    pub new_categories: Vec<u32>,
    /// Segment of each customer (index into `segment_names`; [`NO_LABEL`] without a value).
    pub segment: Vec<u32>,
    /// Segment values, with `--segment-by`.
    pub segment_names: Vec<String>,
    /// Which optional columns the log had.
    pub has: OptionalColumns,
    /// The periods used.
    pub time_unit: TimeUnit,
    /// Summary counts.
    pub summary: LedgerSummary,
}

/// Which optional columns were present.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalColumns {
    /// `amount`.
    pub amount: bool,
    /// `satisfaction`.
    pub satisfaction: bool,
    /// `referred_by`.
    pub referred_by: bool,
    /// `tier`.
    pub tier: bool,
    /// `category`.
    pub category: bool,
    /// The `--segment-by` column.
    pub segment: bool,
}

/// One row as the ledger sorts them: by person, time, purchases before service contacts.
#[derive(Debug, Clone, Copy)]
struct Row {
    person: u32,
    time: i64,
    service: bool,
    amount: f64,
    tier: f32,
    category: u32,
    referrer: u32,
    segment: u32,
    channel: u16,
    satisfaction: u8,
}

/// Per-call constants of [`Ledger::add_person`].
struct Frame {
    each: bool,
    cal_end_t: f64,
    obs_end_t: f64,
    n_ch: usize,
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

    /// Whether the log had amounts.
    pub fn has_amount(&self) -> bool {
        self.has.amount
    }

    /// Builds the ledger from an event log; persons are keyed by `hash_key(canonical id)`.
    pub fn build(
        log: &mut EventLog,
        periods: Periods,
        hash_key: impl Fn(&[u8]) -> String,
    ) -> Result<Ledger> {
        let persons = log.identity.persons();
        let mut service_contacts = 0;
        let mut rows: Vec<Row> = Vec::with_capacity(log.events.len());
        for e in &log.events {
            let service = e.kind == EventKind::Service;
            service_contacts += service as u64;
            rows.push(Row {
                person: persons.of_node[e.node as usize],
                time: e.time,
                service,
                amount: e.amount,
                tier: e.tier,
                category: e.category,
                referrer: e.referrer,
                segment: e.segment,
                channel: e.channel,
                satisfaction: e.satisfaction,
            });
        }
        let purchases = rows.iter().filter(|r| !r.service);
        let (Some(first_day_all), Some(last_day)) = (
            purchases.clone().map(|r| r.time.div_euclid(DAY)).min(),
            purchases.map(|r| r.time.div_euclid(DAY)).max(),
        ) else {
            return Err(Error::Invalid(format!(
                "{}: no purchase rows: nothing to fit",
                log.source.display()
            )));
        };
        rows.sort_unstable_by_key(|r| (r.person, r.time, r.service));
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
        let cols = &log.columns;
        let has = OptionalColumns {
            amount: cols.amount.is_some(),
            satisfaction: cols.satisfaction.is_some(),
            referred_by: cols.referred_by.is_some(),
            tier: cols.tier.is_some(),
            category: cols.category.is_some(),
            segment: cols.segment.is_some(),
        };
        let experiences = has.satisfaction.then(|| {
            let scale_max = log.max_satisfaction.unwrap_or(5);
            Experiences {
                classes: n_ch + 3,
                counts: Vec::new(),
                last: Vec::new(),
                known: vec![0; n_ch + 1],
                bad: vec![0; n_ch + 1],
                bad_at_most: periods
                    .bad_satisfaction
                    .unwrap_or(if scale_max <= 5 { 2 } else { 6 }),
            }
        });
        let mut l = Ledger {
            keys: Vec::new(),
            x: Vec::new(),
            t_x: Vec::new(),
            t: Vec::new(),
            first_day: Vec::new(),
            last_day: Vec::new(),
            spend_mean: Vec::new(),
            spend_n: Vec::new(),
            holdout_x: Vec::new(),
            channels: log.channels.clone(),
            channel_counts: Vec::new(),
            experiences,
            referred: Vec::new(),
            referrals: Vec::new(),
            referral_trials: Vec::new(),
            tier_trials: Vec::new(),
            tier_ups: Vec::new(),
            category_trials: Vec::new(),
            new_categories: Vec::new(),
            segment: Vec::new(),
            segment_names: (0..log.segments.len() as u32)
                .map(|s| log.segments.text(s))
                .collect(),
            has,
            time_unit: periods.time_unit,
            summary: LedgerSummary {
                customers: 0,
                first_seen_in_holdout: 0,
                calibration_purchases: 0,
                repeat_purchases: 0,
                service_contacts,
                referred_customers: 0,
                referrers_found: 0,
                purchases_after_end: 0,
                first_day: format_day(first_day_all),
                calibration_end: format_day(cal_end),
                holdout_from: periods.holdout_from.map(format_day),
                holdout_end: periods.holdout_from.map(|_| format_day(obs_end)),
                holdout_length: periods.holdout_from.map(|_| (obs_end_t - cal_end_t) / unit),
            },
        };
        let frame = Frame {
            each,
            cal_end_t,
            obs_end_t,
            n_ch,
        };
        // Ledger index of each person, and the referrer label of each referred customer.
        let mut index_of_person = vec![u32::MAX; persons.canonical.len()];
        let mut referrer_label: Vec<u32> = Vec::new();
        let mut scratch = Scratch::default();
        let mut start = 0;
        while start < rows.len() {
            let person = rows[start].person;
            let end = start
                + rows[start..]
                    .iter()
                    .take_while(|r| r.person == person)
                    .count();
            if let Some(label) = l.add_person(
                &rows[start..end],
                &frame,
                &persons.canonical[person as usize],
                &hash_key,
                &mut scratch,
            ) {
                index_of_person[person as usize] = (l.len() - 1) as u32;
                referrer_label.push(label);
            }
            start = end;
        }
        l.summary.customers = l.x.len();
        if l.is_empty() {
            return Err(Error::Invalid(format!(
                "no customer made a first purchase on or before {}: nothing to fit",
                format_day(cal_end)
            )));
        }
        l.credit_referrers(log, &persons.of_node, &index_of_person, &referrer_label);
        Ok(l)
    }

    /// Counts each referred customer as a referral of its referrer, when the referrer's
    /// identifier (under any id column) belongs to a customer of the ledger.
    fn credit_referrers(
        &mut self,
        log: &EventLog,
        person_of_node: &[u32],
        index_of_person: &[u32],
        referrer_label: &[u32],
    ) {
        let mut resolved: Vec<Option<u32>> = vec![None; log.referrers.len()];
        for (label, slot) in resolved.iter_mut().enumerate() {
            let value = log.referrers.get(label as u32);
            *slot = log.columns.ids.iter().find_map(|(_, col)| {
                let node = log.identity.lookup(col, value)?;
                let i = index_of_person[person_of_node[node as usize] as usize];
                (i != u32::MAX).then_some(i)
            });
        }
        for (referee, &label) in referrer_label.iter().enumerate() {
            if label == NO_LABEL {
                continue;
            }
            self.summary.referred_customers += 1;
            if let Some(referrer) = resolved[label as usize].filter(|&r| r as usize != referee) {
                self.referrals[referrer as usize] += 1;
                self.summary.referrers_found += 1;
            }
        }
    }

    /// Adds one person (all its rows); returns its referrer label when it is a calibration
    /// customer, `None` when it is not.
    fn add_person(
        &mut self,
        rows: &[Row],
        f: &Frame,
        canonical: &[u8],
        hash_key: &impl Fn(&[u8]) -> String,
        sc: &mut Scratch,
    ) -> Option<u32> {
        let time = |secs: i64| {
            if f.each {
                secs as f64 / DAY as f64
            } else {
                secs.div_euclid(DAY) as f64
            }
        };
        sc.purchases.clear();
        sc.services.clear();
        for r in rows {
            if r.service {
                sc.services.push(*r);
            } else {
                sc.purchases.push(*r);
            }
        }
        let rows = &sc.purchases;
        let first_row = rows.first()?;
        let first = time(first_row.time);
        if first > f.cal_end_t {
            if first <= f.obs_end_t {
                self.summary.first_seen_in_holdout += 1;
            } else {
                self.summary.purchases_after_end += rows.len() as u64;
            }
            return None;
        }
        let unit = self.time_unit.days();
        let (mut x, mut last, mut holdout) = (0u64, first, 0u64);
        let (mut spend_sum, mut spend_n) = (0.0, 0u32);
        let ch_base = self.channel_counts.len();
        self.channel_counts.resize(ch_base + f.n_ch, 0);
        let classes = self.experiences.as_ref().map_or(0, |e| e.classes);
        let ex_base = self.experiences.as_ref().map_or(0, |e| e.counts.len());
        if let Some(e) = &mut self.experiences {
            e.counts.resize(ex_base + classes, 0);
            e.last.push(NO_CLASS);
        }
        let mut ledger_row = PersonCounts::default();
        sc.seen_categories.clear();
        let mut prev_tier = f32::NAN;
        let mut service_at = 0;
        let mut i = 0;
        let mut is_first = true;
        let mut last_secs = first_row.time;
        while i < rows.len() {
            let t = time(rows[i].time);
            // One transaction: a single row, or every row of the day under the classic rule.
            let mut j = i + 1;
            if !f.each {
                while j < rows.len() && time(rows[j].time) == t {
                    j += 1;
                }
            }
            let group = &rows[i..j];
            let amounts = group.iter().map(|r| r.amount).filter(|a| !a.is_nan());
            let (amount, has_amount) = amounts.fold((0.0, false), |(s, _), a| (s + a, true));
            if t <= f.cal_end_t {
                self.summary.calibration_purchases += 1;
                for r in group {
                    if r.channel != NO_CHANNEL {
                        self.channel_counts[ch_base + r.channel as usize] += 1;
                    }
                }
                // The experience: the worst score on the transaction or on contacts until the
                // next transaction (within calibration).
                let next_t = rows.get(j).map(|r| time(r.time));
                let mut worst = group
                    .iter()
                    .map(|r| r.satisfaction)
                    .min()
                    .unwrap_or(NO_SATISFACTION);
                while service_at < sc.services.len() && time(sc.services[service_at].time) < t {
                    service_at += 1;
                }
                while service_at < sc.services.len() {
                    let st = time(sc.services[service_at].time);
                    if next_t.is_some_and(|n| st >= n) || st > f.cal_end_t {
                        break;
                    }
                    worst = worst.min(sc.services[service_at].satisfaction);
                    service_at += 1;
                }
                let channel = group
                    .iter()
                    .map(|r| r.channel)
                    .find(|&c| c != NO_CHANNEL)
                    .map_or(f.n_ch, |c| c as usize);
                let mut bad = false;
                if let Some(e) = &mut self.experiences {
                    let known = worst != NO_SATISFACTION;
                    bad = known && worst <= e.bad_at_most;
                    if known {
                        e.known[channel] += 1;
                        e.bad[channel] += bad as u64;
                    }
                    if !is_first {
                        let class = if !known { 2 + channel } else { bad as usize };
                        e.counts[ex_base + class] += 1;
                        if let Some(l) = e.last.last_mut() {
                            *l = class as u16;
                        }
                    }
                }
                ledger_row.referral_trials += (!bad) as u32;
                let tier = group.iter().map(|r| r.tier).fold(f32::NAN, f32::max);
                if !tier.is_nan() {
                    if !is_first && !prev_tier.is_nan() {
                        ledger_row.tier_trials += 1;
                        ledger_row.tier_ups += (tier > prev_tier) as u32;
                    }
                    prev_tier = tier;
                }
                let had_categories = !sc.seen_categories.is_empty();
                let mut new_category = false;
                let mut any_category = false;
                for r in group.iter().filter(|r| r.category != NO_LABEL) {
                    any_category = true;
                    if !sc.seen_categories.contains(&r.category) {
                        new_category = true;
                        sc.seen_categories.push(r.category);
                    }
                }
                if !is_first && any_category && had_categories {
                    ledger_row.category_trials += 1;
                    ledger_row.new_categories += new_category as u32;
                }
                if !is_first {
                    x += 1;
                    last = t;
                    last_secs = group[0].time;
                    if has_amount {
                        spend_sum += amount;
                        spend_n += 1;
                    }
                }
            } else if t <= f.obs_end_t {
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
        self.t.push((f.cal_end_t - first) / unit);
        self.first_day.push(first_row.time.div_euclid(DAY));
        self.last_day.push(last_secs.div_euclid(DAY));
        self.spend_mean.push(if spend_n > 0 {
            spend_sum / spend_n as f64
        } else {
            f64::NAN
        });
        self.spend_n.push(spend_n);
        self.holdout_x.push(holdout as f64);
        let referrer = rows
            .iter()
            .map(|r| r.referrer)
            .find(|&r| r != NO_LABEL)
            .unwrap_or(NO_LABEL);
        self.referred.push(referrer != NO_LABEL);
        self.referrals.push(0);
        self.referral_trials.push(ledger_row.referral_trials);
        self.tier_trials.push(ledger_row.tier_trials);
        self.tier_ups.push(ledger_row.tier_ups);
        self.category_trials.push(ledger_row.category_trials);
        self.new_categories.push(ledger_row.new_categories);
        self.segment.push(
            rows.iter()
                .map(|r| r.segment)
                .find(|&s| s != NO_LABEL)
                .unwrap_or(NO_LABEL),
        );
        Some(referrer)
    }
}

/// Per-person counters gathered while walking its transactions.
#[derive(Default)]
struct PersonCounts {
    referral_trials: u32,
    tier_trials: u32,
    tier_ups: u32,
    category_trials: u32,
    new_categories: u32,
}

/// Buffers reused across persons.
#[derive(Default)]
struct Scratch {
    purchases: Vec<Row>,
    services: Vec<Row>,
    seen_categories: Vec<u32>,
}
