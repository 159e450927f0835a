//! Daily metric series per arm and replication, and the effects computed from them.

pub mod summary;

use crate::population::behaviour::MAX_CHANNELS;

/// Index of each daily flow accumulated by the engine. A day's row is three cache lines: every
/// purchase writes the first (its channel's count among it, for the first four channels); what
/// rides on some purchases — a referral, a bad experience, an upsell, a cross-sell, a contact,
/// a dropout — the second; the rest of the channels and what the market and the costs add once a
/// day the third. A twin's next purchase day has its first two lines prefetched: a dropout's
/// count in the third missed the cache (perf: 4% of a twin's events).
pub mod idx {
    /// Purchases.
    pub const PURCHASES: usize = 0;
    /// Revenue.
    pub const REVENUE: usize = 1;
    /// Revenue discounted to day 0.
    pub const DISCOUNTED_REVENUE: usize = 2;
    /// Cost to serve (purchases and contacts).
    pub const COST_TO_SERVE: usize = 3;
    /// Purchases in channel c < 4 are at `CHANNEL0 + c` (see [`channel`]).
    pub const CHANNEL0: usize = 4;
    /// Referrals made.
    pub const REFERRALS: usize = 8;
    /// Bad experiences.
    pub const BAD: usize = 9;
    /// Upsells.
    pub const UPSELLS: usize = 10;
    /// Cross-sells.
    pub const CROSS_SELLS: usize = 11;
    /// Service contacts.
    pub const CONTACTS: usize = 12;
    /// Customers who dropped out.
    pub const CHURNED: usize = 13;
    /// Net change in active customers (births − deaths), turned into a level at the end.
    pub const ACTIVE: usize = 14;
    /// Newcomers from outside (Bass).
    pub const NEW_EXTERNAL: usize = 15;
    /// Purchases in channel c ≥ 4 are at `CHANNEL4 + c − 4` (see [`channel`]).
    pub const CHANNEL4: usize = 16;
    /// Newcomers by referral.
    pub const NEW_REFERRED: usize = CHANNEL4 + super::MAX_CHANNELS - 4;
    /// Cost of interventions.
    pub const INTERVENTION_COST: usize = NEW_REFERRED + 1;

    /// Index of the purchases in channel `c` (below `MAX_CHANNELS`), without a branch.
    #[inline]
    pub const fn channel(c: usize) -> usize {
        CHANNEL0 + c + (CHANNEL4 - CHANNEL0 - 4) * (c >= 4) as usize
    }
}

/// Number of accumulated values per day.
pub const WIDTH: usize = idx::INTERVENTION_COST + 1;

/// A day's accumulated values, starting on a cache line of its own so that the columns a
/// purchase writes (see [`idx`]) span as few lines as they can.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(64))]
pub struct Day(pub [f64; WIDTH]);

impl Default for Day {
    fn default() -> Day {
        Day([0.0; WIDTH])
    }
}

impl std::ops::Deref for Day {
    type Target = [f64; WIDTH];
    #[inline]
    fn deref(&self) -> &[f64; WIDTH] {
        &self.0
    }
}

impl std::ops::DerefMut for Day {
    #[inline]
    fn deref_mut(&mut self) -> &mut [f64; WIDTH] {
        &mut self.0
    }
}

/// One arm's one replication: daily values, cohort retention and per-customer CLV.
#[derive(Debug, Clone)]
pub struct Series {
    /// Daily values; `ACTIVE` holds the end-of-day level once [`Series::finish`] ran.
    pub days: Vec<Day>,
    /// Customers alive at the start.
    pub initial: f64,
    /// Gross margin on revenue.
    pub margin_rate: f64,
    /// Cohort sizes: 0 = customers at the start, k = arrivals in month k − 1.
    pub cohort_size: Vec<f64>,
    /// Dropouts per cohort (row) and month (column).
    pub cohort_deaths: Vec<Vec<f64>>,
    /// Twins by discounted revenue over the horizon, in bins of `clv_bin_width` (the last bin
    /// holds everything above).
    pub clv_bins: Vec<f64>,
    /// Width of a CLV bin.
    pub clv_bin_width: f64,
}

/// Bins of the CLV histogram.
pub const CLV_BINS: usize = 60;

impl Series {
    /// Empty series.
    pub fn new(horizon: usize) -> Series {
        Series::window(horizon, 0..horizon)
    }

    /// Empty accounts for days `days` of a `horizon`-day run (cohorts for the whole run): a
    /// shard's part of the run before or after the arms part.
    pub fn window(horizon: usize, days: std::ops::Range<usize>) -> Series {
        let months = months(horizon);
        Series {
            days: vec![Day::default(); days.len()],
            initial: 0.0,
            margin_rate: 0.0,
            cohort_size: vec![0.0; months + 1],
            cohort_deaths: vec![vec![0.0; months]; months + 1],
            clv_bins: vec![0.0; CLV_BINS],
            clv_bin_width: 1.0,
        }
    }

    /// Adds another shard's values (shards are added in a fixed order).
    pub fn add(&mut self, o: &Series) {
        self.add_at(o, 0);
    }

    /// Adds another shard's values whose first day is day `first` of this series.
    pub fn add_at(&mut self, o: &Series, first: usize) {
        for (a, b) in self.days[first..].iter_mut().zip(&o.days) {
            for (x, y) in a.iter_mut().zip(b.iter()) {
                *x += y;
            }
        }
        self.initial += o.initial;
        for (a, b) in self.cohort_size.iter_mut().zip(&o.cohort_size) {
            *a += b;
        }
        for (ra, rb) in self.cohort_deaths.iter_mut().zip(&o.cohort_deaths) {
            for (a, b) in ra.iter_mut().zip(rb) {
                *a += b;
            }
        }
        for (a, b) in self.clv_bins.iter_mut().zip(&o.clv_bins) {
            *a += b;
        }
    }

    /// Appends this series' values (everything [`Series::add`] adds) to `out`, for sending to
    /// another process.
    pub fn flatten_into(&self, out: &mut Vec<f64>) {
        out.extend(self.days.iter().flat_map(|d| d.iter()));
        out.push(self.initial);
        out.extend(&self.cohort_size);
        out.extend(self.cohort_deaths.iter().flatten());
        out.extend(&self.clv_bins);
    }

    /// Adds a series flattened by [`Series::flatten_into`] at the start of `flat` in the same
    /// order as [`Series::add`] would; returns the rest of `flat` (None when too short).
    pub fn add_flat<'f>(&mut self, flat: &'f [f64]) -> Option<&'f [f64]> {
        let n = self.days.len();
        self.merge_flat(flat, 0..n, |a, b| *a += b)
    }

    /// [`Series::add_flat`] of a series of days `days` of this one (see [`Series::add_at`]).
    pub fn add_flat_at<'f>(
        &mut self,
        flat: &'f [f64],
        days: std::ops::Range<usize>,
    ) -> Option<&'f [f64]> {
        self.merge_flat(flat, days, |a, b| *a += b)
    }

    /// A series of `horizon` days read back from [`Series::flatten_into`]'s values, bit for bit,
    /// and the rest of `flat` (None when too short).
    pub fn from_flat(horizon: usize, flat: &[f64]) -> Option<(Series, &[f64])> {
        let mut s = Series::new(horizon);
        let rest = s.merge_flat(flat, 0..horizon, |a, b| *a = b)?;
        Some((s, rest))
    }

    fn merge_flat<'f>(
        &mut self,
        flat: &'f [f64],
        days: std::ops::Range<usize>,
        op: impl Fn(&mut f64, f64),
    ) -> Option<&'f [f64]> {
        let mut rest = flat;
        let mut take = |n: usize| -> Option<&'f [f64]> {
            let (a, b) = rest.split_at_checked(n)?;
            rest = b;
            Some(a)
        };
        for d in self.days.get_mut(days)? {
            for (x, y) in d.iter_mut().zip(take(WIDTH)?) {
                op(x, *y);
            }
        }
        op(&mut self.initial, take(1)?[0]);
        let n = self.cohort_size.len();
        for (a, b) in self.cohort_size.iter_mut().zip(take(n)?) {
            op(a, *b);
        }
        for row in &mut self.cohort_deaths {
            let n = row.len();
            for (a, b) in row.iter_mut().zip(take(n)?) {
                op(a, *b);
            }
        }
        for (a, b) in self.clv_bins.iter_mut().zip(take(CLV_BINS)?) {
            op(a, *b);
        }
        Some(rest)
    }

    /// Turns the births − deaths column into end-of-day active customers.
    pub fn finish(&mut self) {
        let mut level = self.initial;
        for d in &mut self.days {
            level += d[idx::ACTIVE];
            d[idx::ACTIVE] = level;
        }
    }

    /// Total of a flow over the horizon.
    pub fn total(&self, i: usize) -> f64 {
        self.days.iter().map(|d| d[i]).sum()
    }

    /// Share of each cohort still active at the end of each month (NaN before it exists).
    pub fn retention(&self) -> Vec<Vec<f64>> {
        self.cohort_size
            .iter()
            .zip(&self.cohort_deaths)
            .enumerate()
            .map(|(c, (&size, deaths))| {
                let mut gone = 0.0;
                deaths
                    .iter()
                    .enumerate()
                    .map(|(m, d)| {
                        gone += d;
                        if size == 0.0 || (c > 0 && m + 1 < c) {
                            f64::NAN
                        } else {
                            1.0 - gone / size
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// 30-day months in a horizon.
pub fn months(horizon: usize) -> usize {
    horizon.div_ceil(30).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every flow has a column of its own within the row, each channel's included, and the
    /// columns a purchase and what rides on it write lie in the row's first two cache lines.
    #[test]
    fn every_flow_has_its_own_column() {
        let mut named = vec![
            idx::PURCHASES,
            idx::REVENUE,
            idx::DISCOUNTED_REVENUE,
            idx::COST_TO_SERVE,
            idx::REFERRALS,
            idx::BAD,
            idx::UPSELLS,
            idx::CROSS_SELLS,
            idx::CONTACTS,
            idx::CHURNED,
            idx::ACTIVE,
            idx::NEW_EXTERNAL,
            idx::NEW_REFERRED,
            idx::INTERVENTION_COST,
        ];
        named.extend((0..MAX_CHANNELS).map(idx::channel));
        let mut sorted = named.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..WIDTH).collect::<Vec<_>>(), "{named:?}");
        for i in [
            idx::REFERRALS,
            idx::BAD,
            idx::CONTACTS,
            idx::CHURNED,
            idx::ACTIVE,
        ] {
            assert!(i < 16, "column {i} past the first two lines");
        }
        assert!((0..4).all(|c| idx::channel(c) < 8));
    }
}
