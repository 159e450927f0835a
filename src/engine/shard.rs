//! A shard: a fixed block of twins with its own calendar and metric accumulators. Each day the
//! engine advances every shard in parallel through the events due that day; work grows with
//! events, not with twins × days.

use rand::RngExt;
use rand_distr::{Distribution, Gamma};

use super::policy::{Effects, Policy};
use super::twin::{ALIVE, FIRST, SCARRED, Twin};
use crate::metrics::{Series, idx};
use crate::population::behaviour::{Behaviour, MAX_CHANNELS};

/// Twins per shard: a multiple of the cache-friendly block, and fixed, so that results do not
/// depend on the number of threads.
pub const SHARD_SIZE: usize = 16_384;

/// How many due twins ahead of the current one to prefetch.
const PREFETCH_AHEAD: usize = 6;

/// Hints the CPU to bring a twin (both of the cache lines it may straddle) into cache.
#[inline(always)]
fn prefetch(tw: &Twin) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let p = (tw as *const Twin).cast::<i8>();
        // SAFETY: prefetching is only a hint: it never faults, whatever the address, and
        // both addresses lie within (or one line past the start of) a live `Twin`.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(p);
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = tw;
}

/// Read-only facts every shard needs during a replication.
pub struct Ctx<'a> {
    /// Behaviour with this replication's parameters.
    pub b: &'a Behaviour,
    /// Interventions of this arm.
    pub policy: &'a Policy,
    /// Days simulated.
    pub horizon: u32,
    /// Whether dropout is Pareto/NBD (a rate) rather than BG/NBD (a probability).
    pub pareto: bool,
    /// ln(1 + annual discount rate) / 365.
    pub discount_per_day: f64,
    /// exp(−discount_per_day × day) for each day of the horizon.
    pub discount_at_day: Vec<f64>,
    /// Gamma(p, 1): spend before dividing by ν.
    pub spend_unit: Gamma<f64>,
    /// Newcomers' and synthetic customers' distributions.
    pub priors: super::spawn::Priors,
}

impl Ctx<'_> {
    /// The discount factor exp(−δt) at time `t` on `day`: the day's factor from a table times
    /// the series of exp(−x) for the fraction of the day, x < δ < 0.002 (the scenario's rate
    /// is below 100% a year), where four terms are exact to 1e−12 and far cheaper than `exp`.
    #[inline]
    pub fn discount(&self, t: f32, day: u32) -> f64 {
        let x = self.discount_per_day * (t as f64 - day as f64);
        self.discount_at_day[day as usize] * (1.0 - x * (1.0 - x * (0.5 - x / 6.0)))
    }
}

/// A referral made today: who made it, from which node, and the reward promised.
#[derive(Debug, Clone, Copy)]
pub struct Referral {
    /// Referrer's node.
    pub node: u32,
    /// Reward per customer won.
    pub reward: f64,
}

/// A block of twins.
#[derive(Clone)]
pub struct Shard {
    /// The twins.
    pub twins: Vec<Twin>,
    /// Local indices of the twins whose next event falls on each day.
    pub calendar: Vec<Vec<u32>>,
    /// This shard's metrics.
    pub series: Series,
    /// Referrals made on the current day.
    pub referrals: Vec<Referral>,
    /// Difference array of per-day intervention costs charged per targeted customer.
    pub cost_diff: Vec<f64>,
    /// Emptied day lists kept for days still to be booked, so that booking allocates only
    /// until the lists in use reach their working size.
    spare: Vec<Vec<u32>>,
}

impl Shard {
    /// An empty shard for a horizon.
    pub fn new(horizon: u32) -> Shard {
        Shard::holding(horizon, Vec::with_capacity(SHARD_SIZE))
    }

    /// An empty shard whose twin vector is `twins` (not yet counted or booked).
    fn holding(horizon: u32, twins: Vec<Twin>) -> Shard {
        Shard {
            twins,
            calendar: vec![Vec::new(); horizon as usize],
            series: Series::new(horizon as usize),
            referrals: Vec::new(),
            cost_diff: vec![0.0; horizon as usize + 1],
            spare: Vec::new(),
        }
    }

    /// Adds a twin (alive ones must have `next` set) and books its first event.
    pub fn push(&mut self, twin: Twin, ctx: &Ctx) {
        let i = self.twins.len() as u32;
        self.enrol(&twin, i, ctx);
        self.twins.push(twin);
    }

    /// A shard of `twins` (alive ones must have `next` set), each booked as by [`Shard::push`];
    /// takes the vector as it is, without copying the twins again.
    pub fn with_twins(twins: Vec<Twin>, ctx: &Ctx) -> Shard {
        let mut sh = Shard::holding(ctx.horizon, Vec::new());
        for (i, tw) in twins.iter().enumerate() {
            sh.enrol(tw, i as u32, ctx);
        }
        sh.twins = twins;
        sh
    }

    /// Counts twin `i` in and books its first event.
    fn enrol(&mut self, twin: &Twin, i: u32, ctx: &Ctx) {
        if twin.alive() {
            let born = twin.born as usize;
            if twin.born == 0 && twin.flags & FIRST == 0 {
                self.series.initial += 1.0;
            } else {
                self.series.days[born][idx::ACTIVE] += 1.0;
            }
            self.series.cohort_size[twin.cohort as usize] += 1.0;
            if twin.next < ctx.horizon as f32 {
                self.book(twin.next, i);
            }
        }
    }

    /// Puts twin `i` on the list of the day of time `t` (within the horizon).
    #[inline]
    fn book(&mut self, t: f32, i: u32) {
        let list = &mut self.calendar[t as usize];
        if list.capacity() == 0
            && let Some(v) = self.spare.pop()
        {
            *list = v;
        }
        list.push(i);
    }

    /// Runs every event due on `day`.
    pub fn step(&mut self, ctx: &Ctx, day: u32) {
        let mut due = std::mem::take(&mut self.calendar[day as usize]);
        for (k, &i) in due.iter().enumerate() {
            // A twin due today was last touched days ago: its state is in main memory, and
            // the load of it was most of the cost of an event (perf: 66% of `step`). Ask
            // for the twin a few places ahead in today's list while this one runs.
            if let Some(&ahead) = due.get(k + PREFETCH_AHEAD) {
                prefetch(&self.twins[ahead as usize]);
            }
            self.advance(ctx, i, day);
        }
        due.clear();
        self.spare.push(due);
    }

    fn advance(&mut self, ctx: &Ctx, i: u32, day: u32) {
        let day_end = (day + 1) as f32;
        loop {
            let t = self.twins[i as usize].next;
            if t >= day_end {
                if t < ctx.horizon as f32 {
                    self.book(t, i);
                }
                return;
            }
            let tw = &self.twins[i as usize];
            let e = ctx.policy.effects(day, tw.segments);
            let (weights, total, base) = ctx.policy.channel_weights(&tw.weights, &e);
            if ctx.pareto && tw.flags & FIRST == 0 {
                let lam = purchase_rate(tw, &e, total, base);
                let mu = dropout_rate(tw, ctx, &e);
                let tw = &mut self.twins[i as usize];
                if tw.rng.random::<f64>() * (lam + mu) < mu {
                    self.die(ctx, i, day);
                    return;
                }
            }
            if self.purchase(ctx, i, (t, day), &e, (&weights, total)) {
                return;
            }
            let next = next_event(&mut self.twins[i as usize], ctx, t);
            self.twins[i as usize].next = next;
        }
    }

    /// One purchase with everything that rides on it; returns whether the twin dropped out.
    fn purchase(
        &mut self,
        ctx: &Ctx,
        i: u32,
        (t, day): (f32, u32),
        e: &Effects,
        (weights, total): (&[f64; MAX_CHANNELS], f64),
    ) -> bool {
        let b = ctx.b;
        let tw = &mut self.twins[i as usize];
        debug_assert!(tw.alive(), "a dropped-out twin must never purchase");
        tw.purchases = tw.purchases.saturating_add(1);
        // Every purchase draws the same numbers in the same order, whatever happens, so that
        // baseline and scenario stay aligned (common random numbers).
        let u_channel = tw.rng.random::<f64>() * total;
        let raw = ctx.spend_unit.sample(&mut tw.rng) / tw.nu as f64;
        let [u_up, u_cross, u_contact, u_bad, u_ref, u_drop]: [f64; 6] =
            std::array::from_fn(|_| tw.rng.random());
        let mut c = 0;
        let mut acc = 0.0;
        for (k, w) in weights.iter().enumerate().take(ctx.policy.channels.len()) {
            acc += w;
            if *w > 0.0 {
                c = k;
                if u_channel < acc {
                    break;
                }
            }
        }
        let mut amount = raw * e.price[c];
        let d = &mut self.series.days[day as usize];
        if u_up < tw.upsell as f64 {
            amount *= 1.0 + b.upsell_uplift;
            d[idx::UPSELLS] += 1.0;
        }
        if u_cross < tw.cross as f64 {
            amount += raw * e.price[c] * b.cross_sell_amount;
            d[idx::CROSS_SELLS] += 1.0;
        }
        d[idx::PURCHASES] += 1.0;
        d[idx::CHANNEL0 + c] += 1.0;
        d[idx::REVENUE] += amount;
        let discounted = amount * ctx.discount(t, day);
        d[idx::DISCOUNTED_REVENUE] += discounted;
        tw.clv += discounted as f32;
        d[idx::COST_TO_SERVE] += e.cost[c] * (1.0 - b.self_service).powi(tw.good as i32);
        if u_contact < b.contact_probability {
            d[idx::CONTACTS] += 1.0;
            d[idx::COST_TO_SERVE] += b.contact_cost;
        }
        let bad = u_bad < e.bad[c];
        if bad {
            d[idx::BAD] += 1.0;
        } else {
            tw.good = tw.good.saturating_add(1);
            if u_ref < tw.refer as f64 * e.referral {
                d[idx::REFERRALS] += 1.0;
                self.referrals.push(Referral {
                    node: tw.node,
                    reward: e.reward,
                });
            }
        }
        let first = tw.flags & FIRST != 0;
        tw.flags &= !FIRST;
        if ctx.pareto {
            if bad {
                tw.flags |= SCARRED;
            }
            return false;
        }
        let p = tw.dropout as f64 * e.dropout * if bad { b.kappa } else { 1.0 };
        if !first && u_drop < p {
            self.die(ctx, i, day);
            return true;
        }
        false
    }

    fn die(&mut self, ctx: &Ctx, i: u32, day: u32) {
        let tw = &mut self.twins[i as usize];
        tw.flags &= !ALIVE;
        let (cohort, born, segments) = (tw.cohort as usize, tw.born as u32, tw.segments);
        let d = &mut self.series.days[day as usize];
        d[idx::CHURNED] += 1.0;
        d[idx::ACTIVE] -= 1.0;
        let months = self.series.cohort_deaths[cohort].len();
        self.series.cohort_deaths[cohort][(day as usize / 30).min(months - 1)] += 1.0;
        self.charge(ctx.policy, born, day + 1, segments);
    }

    /// Books per-customer-per-day intervention costs for days [from, to) of one twin.
    fn charge(&mut self, policy: &Policy, from: u32, to: u32, segments: u16) {
        if from >= to || !policy.charges_per_customer() {
            return;
        }
        // Costs only change at breakpoints: charge piecewise.
        let mut a = from;
        while a < to {
            let b = (policy.next_breakpoint(a as f32) as u32).min(to).max(a + 1);
            let c = policy.daily_cost(a, segments);
            if c != 0.0 {
                self.cost_diff[a as usize] += c;
                self.cost_diff[b as usize] -= c;
            }
            a = b;
        }
    }

    /// Re-times every pending event from the start of `day` on for a world that leaves
    /// policy `from` for `to` (see [`resume`]), and books the calendar afresh.
    pub fn fork(&mut self, from: &Ctx, to: &Ctx, day: u32) {
        let horizon = to.horizon as f32;
        // A newcomer's first purchase falls within its first day whatever the policy.
        let retime = |tw: &mut Twin| {
            if tw.flags & FIRST == 0 && tw.next.is_finite() {
                tw.next = resume(tw, from, to, day);
            }
            tw.next
        };
        let mut moved = Vec::new();
        // Twins due after the horizon under `from` (so in no day's list) may fall within it
        // under `to`; each twin is re-timed once, these before the listed ones.
        for (i, tw) in self.twins.iter_mut().enumerate() {
            if tw.alive() && tw.next >= horizon && tw.next.is_finite() && retime(tw) < horizon {
                moved.push(i as u32);
            }
        }
        // Twins whose time stays on the same day keep their place in that day's list, so a
        // policy that changes nobody's rates leaves the world exactly as it was.
        for d in day as usize..self.calendar.len() {
            let twins = &mut self.twins;
            self.calendar[d].retain(|&i| {
                let next = retime(&mut twins[i as usize]);
                let stays = next as usize == d;
                if !stays {
                    moved.push(i);
                }
                stays
            });
        }
        for i in moved {
            let next = self.twins[i as usize].next;
            if next < horizon {
                debug_assert!(next >= day as f32, "an event before the fork");
                self.book(next, i);
            }
        }
    }

    /// Counts the twins into the CLV histogram of bins `width` wide.
    pub fn bin_clv(&mut self, width: f64) {
        for tw in &self.twins {
            let bin = ((tw.clv as f64 / width) as usize).min(crate::metrics::CLV_BINS - 1);
            self.series.clv_bins[bin] += 1.0;
        }
    }

    /// Closes the books at the horizon: costs of twins still alive, then the cost column.
    pub fn finish(&mut self, ctx: &Ctx) {
        for k in 0..self.twins.len() {
            let tw = &self.twins[k];
            if tw.alive() {
                let (born, seg) = (tw.born as u32, tw.segments);
                self.charge(ctx.policy, born, ctx.horizon, seg);
            }
        }
        let mut level = 0.0;
        for (d, diff) in self.series.days.iter_mut().zip(&self.cost_diff) {
            level += diff;
            d[idx::INTERVENTION_COST] += level;
        }
    }
}

#[inline]
fn purchase_rate(tw: &Twin, e: &Effects, total: f64, base: f64) -> f64 {
    if base <= 0.0 {
        0.0
    } else {
        tw.lambda as f64 * e.access * total / base
    }
}

#[inline]
fn dropout_rate(tw: &Twin, ctx: &Ctx, e: &Effects) -> f64 {
    if !ctx.pareto {
        return 0.0;
    }
    tw.dropout as f64
        * e.dropout
        * if tw.flags & SCARRED != 0 {
            ctx.b.kappa
        } else {
            1.0
        }
}

/// Hazard (purchase plus, for Pareto/NBD, dropout) of a twin under `ctx` on `day`.
#[inline]
fn hazard(tw: &Twin, ctx: &Ctx, day: u32) -> f64 {
    let e = ctx.policy.effects(day, tw.segments);
    let (_, total, base) = ctx.policy.channel_weights(&tw.weights, &e);
    purchase_rate(tw, &e, total, base) + dropout_rate(tw, ctx, &e)
}

/// Time of the twin's next event after `t`: an exponential amount of hazard, spent across the
/// days where interventions switch.
pub fn next_event(tw: &mut Twin, ctx: &Ctx, t: f32) -> f32 {
    let budget: f64 = tw.rng.sample(rand_distr::Exp1);
    spend_hazard(tw, ctx, t, budget)
}

/// Where the event of a twin whose wait was drawn under `from` (constant effects: the
/// baseline) falls under `to`, from the start of `day` on: what is left of the wait is the
/// baseline hazard times the time still to go, and `to` spends it at its own rates. A twin
/// whose rates `to` leaves alone keeps its time exactly.
pub fn resume(tw: &Twin, from: &Ctx, to: &Ctx, day: u32) -> f32 {
    let rate = hazard(tw, from, day);
    let mut now = day as f32;
    while now < to.horizon as f32 && hazard(tw, to, now as u32) == rate {
        now = to.policy.next_breakpoint(now);
    }
    if now >= to.horizon as f32 {
        return tw.next;
    }
    let left = rate * (tw.next as f64 - day as f64);
    spend_hazard(tw, to, day as f32, left.max(0.0))
}

/// When a twin at time `t` with `budget` of hazard to go has its event. Past the last
/// breakpoint the time is given even beyond the horizon (no event within the run), so that
/// [`resume`] can recover the remainder; infinity means a zero rate for good.
fn spend_hazard(tw: &Twin, ctx: &Ctx, t: f32, mut budget: f64) -> f32 {
    let horizon = ctx.horizon as f64;
    let mut now = t as f64;
    loop {
        if now >= horizon {
            return f32::INFINITY;
        }
        let rate = hazard(tw, ctx, now as u32);
        let edge = ctx.policy.next_breakpoint(now as f32) as f64;
        if rate > 0.0 && (now + budget / rate < edge || edge >= horizon) {
            // Never report an event at exactly the time of the last one (f32 rounding).
            let next = (now + budget / rate) as f32;
            return if next <= t {
                f32::from_bits(t.to_bits() + 1)
            } else {
                next
            };
        }
        if edge >= horizon {
            return f32::INFINITY;
        }
        budget -= rate * (edge - now);
        now = edge;
    }
}
