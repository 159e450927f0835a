//! One arm's accounts for one shard: the daily metrics, the referrals made on each day (which
//! the market reads at that day's synchronisation) and the per-customer intervention costs.

use super::ctx::Ctx;
use super::policy::Policy;
use super::referrals::{Referral, Referrals};
use super::twin::{FIRST, Twin};
use crate::metrics::{CLV_BINS, Day, Series, idx};

/// One arm's accounts for one shard, over the days it can see: the shared history's up to
/// the fork, an arm's from it (fresh memory is slow to touch, so neither holds the other's
/// days).
#[derive(Clone)]
pub struct Books {
    /// First day held.
    first: u32,
    /// Metrics of days `first..`: `series.days[0]` is day `first`.
    pub series: Series,
    /// Referrals made on each day held, in the order of the twins that made them.
    referrals: Referrals,
    /// Difference array of per-day intervention costs charged per targeted customer.
    cost_diff: Vec<f64>,
}

impl Books {
    /// Empty accounts for `days` of a `horizon`-day run.
    pub fn new(horizon: u32, days: std::ops::Range<u32>) -> Books {
        let n = days.len();
        Books {
            first: days.start,
            series: Series::window(horizon as usize, days.start as usize..days.end as usize),
            referrals: Referrals::new(days.start, n as u32),
            cost_diff: vec![0.0; n + 1],
        }
    }

    /// First day held.
    pub fn first(&self) -> u32 {
        self.first
    }

    /// The accounts of `day`.
    #[inline]
    pub fn day(&mut self, day: u32) -> &mut Day {
        &mut self.series.days[(day - self.first) as usize]
    }

    /// Asks the CPU to bring the accounts of time `t` (within the days held) into cache: a
    /// twin's next purchase lands on a day whose row was last touched long ago. It pays once
    /// a shard's accounts outgrow the core's cache: over five years (1M twins, reference
    /// model) a run took 7.7% more CPU time without it; over one year, where they fit, the
    /// same either way (medians of 10–15 interleaved pairs). A purchase writes the row's
    /// first line, and what rides on some purchases (a dropout among them) the second; the
    /// third holds what the market and the costs add once a day (see [`crate::metrics::idx`]).
    #[inline]
    pub fn prefetch(&self, t: f32) {
        self.prefetch_day(t as u32);
    }

    /// [`Books::prefetch`] of the accounts of `day` (any day: those not held are let be).
    #[inline]
    pub fn prefetch_day(&self, day: u32) {
        if let Some(row) = self.series.days.get(day.wrapping_sub(self.first) as usize) {
            let p = (row as *const Day).cast::<u8>();
            super::hint::prefetch(p);
            super::hint::prefetch(p.wrapping_add(64));
        }
    }

    /// Counts a twin in on the day it becomes a customer (day 0 for the initial ones).
    pub fn enrol(&mut self, tw: &Twin) {
        if !tw.alive() {
            return;
        }
        if tw.born == 0 && tw.flags & FIRST == 0 {
            self.series.initial += 1.0;
        } else {
            self.day(tw.born as u32)[idx::ACTIVE] += 1.0;
        }
        self.series.cohort_size[tw.cohort as usize] += 1.0;
    }

    /// Records a referral made on `day`.
    #[inline]
    pub fn refer(&mut self, day: u32, r: Referral) {
        self.referrals.push(day, r);
    }

    /// Moves the referrals made on `day` to the end of `out`, in the order made (days are
    /// read in increasing order, each once).
    pub fn take_referrals(&mut self, day: u32, out: &mut Vec<Referral>) {
        self.referrals.take(day, out);
    }

    /// Books per-customer-per-day intervention costs for days [from, to) of one twin.
    pub fn charge(&mut self, policy: &Policy, from: u32, to: u32, segments: u16) {
        if from >= to || !policy.charges(segments) {
            return;
        }
        for (a, b, c) in policy.charges_over(from, to, segments) {
            // Nothing charges before the first intervention, so before the fork.
            debug_assert!(a >= self.first, "a cost before the books' first day");
            self.cost_diff[(a - self.first) as usize] += c;
            self.cost_diff[(b - self.first) as usize] -= c;
        }
    }

    /// Closes a twin's account at the horizon: the costs of one still alive, and its CLV bin.
    pub fn close(&mut self, tw: &Twin, ctx: &Ctx) {
        self.close_in(tw, ctx, clv_bin(tw, ctx));
    }

    /// [`Books::close`] with the twin's CLV bin already worked out (a twin done at the fork
    /// closes alike in both arms).
    #[inline]
    pub fn close_in(&mut self, tw: &Twin, ctx: &Ctx, bin: usize) {
        // Whether the twin can be charged at all first: it is known for most twins, while
        // whether a twin is still alive is a coin toss to the branch predictor.
        if ctx.policy.charges(tw.segments) && tw.alive() {
            self.charge(ctx.policy, tw.born as u32, ctx.horizon, tw.segments);
        }
        self.series.clv_bins[bin] += 1.0;
    }

    /// Closes the books: the per-customer costs become the cost column.
    pub fn finish(&mut self) {
        let mut level = 0.0;
        for (d, diff) in self.series.days.iter_mut().zip(&self.cost_diff) {
            level += diff;
            d[idx::INTERVENTION_COST] += level;
        }
        self.cost_diff.iter_mut().for_each(|c| *c = 0.0);
    }
}

/// The bin of a twin's discounted revenue in the CLV histogram (the last holds everything
/// above).
#[inline]
pub fn clv_bin(tw: &Twin, ctx: &Ctx) -> usize {
    bin_of(tw.clv as f64 * ctx.clv_bin_inv)
}

/// The CLV bin of `x` bin widths: clamped before it is converted, which gives the same bins
/// as converting first and capping after (NaN and below 0 in bin 0) in a third of the
/// instructions (f64 to usize saturates in a dozen).
#[inline]
fn bin_of(x: f64) -> usize {
    x.clamp(0.0, (CLV_BINS - 1) as f64) as u32 as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clamping first gives every value the bin that converting first and capping gave.
    #[test]
    fn clv_bins_are_those_of_converting_and_capping() {
        let edges = (0..=CLV_BINS + 2).flat_map(|k| {
            let k = k as f64;
            [k, k.next_down(), k.next_up(), k + 0.5]
        });
        let odd = [
            -1.0,
            -0.0,
            -1e300,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for x in edges.chain(odd) {
            assert_eq!(bin_of(x), (x as usize).min(CLV_BINS - 1), "{x}");
        }
    }
}
