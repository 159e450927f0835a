//! A twin's life: its events one after another, from its current state to a given day, into
//! one arm's books. Nothing a twin does depends on other twins (referrals and the market only
//! bring newcomers), so a twin is lived through the horizon in one go while its state sits in
//! registers, instead of being fetched from memory at every event.

use rand::RngExt;

use super::books::Books;
use super::ctx::Ctx;
use super::policy::Effects;
use super::referrals::Referral;
use super::rng::TwinRng;
use super::twin::{ALIVE, FIRST, SCARRED, Twin, UNDRAWN};
use crate::metrics::idx;
use crate::population::behaviour::MAX_CHANNELS;
use crate::population::sampling::exponential;

/// Lives `tw` through its events before day `end` (at most the horizon) under `ctx`. A twin
/// just spawned ([`UNDRAWN`]) first draws its wait to a first event, whatever `end`.
pub fn live(tw: &mut Twin, ctx: &Ctx, books: &mut Books, end: u32) {
    let end = end.min(ctx.horizon) as f32;
    if tw.flags & UNDRAWN != 0 {
        first_wait(tw, ctx);
    }
    // A twin that never buys again has an infinite time (and NaN never compares below).
    if tw.alive() && tw.next < end {
        books.prefetch(tw.next);
        events(tw, ctx, books, end);
    }
}

/// Draws the wait of a twin just spawned ([`UNDRAWN`]) to its first event under `ctx`, from
/// the rates at its start (spawning once worked them out too). [`live`] does it for a twin
/// that has not had it; a batch of twins spawned together has it in a pass of its own,
/// where one twin's chain (rates, draw, the rate's reciprocal, the time) overlaps the next
/// twin's instead of waiting behind the branches of a life.
#[inline]
pub fn first_wait(tw: &mut Twin, ctx: &Ctx) {
    tw.flags &= !UNDRAWN;
    let first = tw.next;
    let (rate, steady) = rates(tw, ctx, first);
    // The reciprocal before the draw, which does not need it: the division runs beside it.
    let rate = Rate::new(rate);
    let budget = exponential(&mut tw.rng);
    tw.next = spend_hazard_until(tw, ctx, first, budget, rate, steady);
}

/// The events of a live twin from its next one (before `end`) on. Out of line: setting it up
/// (the stretch's effects, choice weights and purchase rate, some 160 instructions with the
/// call, callgrind) is for a twin with an event before `end` only — not the half of all twins
/// whose first wait ends past the horizon, nor a twin's life in an arm where it has nothing
/// left to do.
#[inline(never)]
fn events(tw: &mut Twin, ctx: &Ctx, books: &mut Books, end: f32) {
    // The twin's stream is a local for the whole life, kept in registers through the
    // purchases: in the twin, it went through memory before and after every purchase, and
    // each trip sat on the chain of its draws.
    let mut rng = tw.rng.clone();
    events_with(tw, &mut rng, ctx, books, end);
    tw.rng = rng;
}

/// [`events`] drawing from `rng` (the twin's stream, taken out of it).
#[inline(always)]
fn events_with(tw: &mut Twin, rng: &mut TwinRng, ctx: &Ctx, books: &mut Books, end: f32) {
    while tw.alive() && tw.next < end {
        // Effects, choice weights and purchase rate hold from one breakpoint to the next:
        // they are looked up once per stretch between breakpoints, not at every event (the
        // lookup sat on each event's chain of dependent loads).
        let mut scratch = None;
        let s = ctx.policy.stretch(tw.next, tw.segments, &mut scratch);
        let (e, until) = (s.effects, s.until);
        let (weights, total, base) = ctx.policy.channel_weights(&tw.weights, e);
        let choice = Choice::new(&weights, total, ctx.policy.channels.len());
        let lam = purchase_rate(tw, e, total, base);
        // The hazard after a purchase, and its reciprocal, once a stretch: worked out after
        // each purchase, the division stood between it and the next event's time (perf put a
        // tenth of the event loop's samples on the multiplication that waited for it).
        let mut rate = Rate::new(lam + dropout_rate(tw, ctx, e));
        // The day of the next event, carried from the prefetch that worked it out, and the
        // discount within it, worked out with the event's time: at the purchase, its chain of
        // some ten dependent operations held up the purchase (perf put 2.6% of a run's
        // samples on it; run CPU time 1.6% less, reference 1M, 30 pinned pairs, 90% CI
        // 1.0–3.1%).
        let mut day = tw.next as u32;
        let mut within = ctx.discount_within_day(tw.next, day);
        loop {
            let t = tw.next;
            // BG/NBD: the wait to the next purchase does not hang on this one (only whether
            // the twin is still there to make it does): its hazard is drawn first.
            let ahead = (!ctx.pareto).then(|| exponential(rng));
            if ctx.pareto && tw.flags & FIRST == 0 {
                let mu = dropout_rate(tw, ctx, e);
                if rng.random::<f64>() * (lam + mu) < mu {
                    die(tw, ctx, books, day);
                    return;
                }
            }
            purchase(tw, rng, ctx, books, (day, within), e, &choice);
            if !tw.alive() {
                return;
            }
            // Pareto/NBD: the wait starts after the purchase, from this stretch's rates (a
            // bad experience may have scarred the twin: its dropout rate is taken afresh).
            if ctx.pareto {
                rate = Rate::new(lam + dropout_rate(tw, ctx, e));
            }
            // Either way its time is worked out here, after the purchase. Worked out before
            // it, the branches on it waited for the exponential draw and held up everything
            // behind them (the CPU retires in order), the whole purchase among it: a whole
            // run took 4.3–5.5% more CPU time (reference, 1M twins, medians of three rounds of
            // 15–20 interleaved pairs; all behaviours, the same either way) for the same
            // instructions.
            let budget = ahead.unwrap_or_else(|| exponential(rng));
            (tw.next, day) = next_time(tw, ctx, books, t, (rate, s.steady), budget);
            if !(tw.next < until && tw.next < end) {
                break;
            }
            within = ctx.discount_within_day(tw.next, day);
        }
    }
}

/// Time of the next event of a twin at `t` that drew `budget` of hazard (an exponential
/// amount), at hazard `rate` up to `steady`: the hazard spent at it and on across later
/// stretches; and its day (saturated, for a time past the horizon), whose accounts are asked
/// into cache (the event loop takes the day from here rather than converting the time again).
#[inline(always)]
fn next_time(
    tw: &Twin,
    ctx: &Ctx,
    books: &Books,
    t: f32,
    (rate, steady): (Rate, f32),
    budget: f64,
) -> (f32, u32) {
    let next = spend_hazard_until(tw, ctx, t, budget, rate, steady);
    let day = next as u32;
    books.prefetch_day(day);
    (next, day)
}

/// One purchase with everything that rides on it, drawing from `rng` (the twin's stream);
/// a twin that drops out at it is no longer alive.
/// Inlined into the event loop since the stream stays in registers and the hazard's
/// reciprocal is worked out once a stretch: the call's eight arguments (two on the stack),
/// its saved registers and its reloads cost more than the loop's spills, 2.5% of a run's
/// instructions (callgrind, reference, 200k twins); whole-process CPU time 1.6% less (80
/// interleaved pairs on one core, 90% CI 1.2–2.0%), bench ratio at 1M 2.070 → 2.040 (10
/// rounds). (Before those two changes, inlined, the ratio was 2.26 against 2.09–2.15.)
#[inline(always)]
fn purchase(
    tw: &mut Twin,
    rng: &mut TwinRng,
    ctx: &Ctx,
    books: &mut Books,
    (day, within): (u32, f64),
    e: &Effects,
    choice: &Choice,
) {
    let b = ctx.b;
    debug_assert!(tw.alive(), "a dropped-out twin must never purchase");
    tw.purchases = tw.purchases.saturating_add(1);
    // Every purchase draws the same numbers in the same order, whatever happens, so that
    // baseline and scenario stay aligned (common random numbers).
    let u_channel = rng.random::<f64>() * choice.total;
    let raw = rand_distr::Distribution::sample(&ctx.spend_unit, rng) * tw.spend_scale as f64;
    let [u_up, u_cross, u_contact, u_bad, u_ref, u_drop]: [f64; 6] =
        std::array::from_fn(|_| rng.random());
    let c = choice.channel(u_channel, ctx.policy.channels.len());
    let mut amount = raw * e.price[c];
    let d = books.day(day);
    if u_up < tw.upsell as f64 {
        amount *= 1.0 + b.upsell_uplift;
        d[idx::UPSELLS] += 1.0;
    }
    if u_cross < tw.cross as f64 {
        amount += raw * e.price[c] * b.cross_sell_amount;
        d[idx::CROSS_SELLS] += 1.0;
    }
    d[idx::PURCHASES] += 1.0;
    d[idx::channel(c)] += 1.0;
    d[idx::REVENUE] += amount;
    let discounted = amount * ctx.discount(day, within);
    d[idx::DISCOUNTED_REVENUE] += discounted;
    tw.clv += discounted as f32;
    d[idx::COST_TO_SERVE] += e.cost[c] * ctx.serve_share[tw.good as usize];
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
            books.refer(
                day,
                Referral {
                    node: tw.node,
                    reward: e.reward,
                },
            );
        }
    }
    let first = tw.flags & FIRST != 0;
    tw.flags &= !FIRST;
    if ctx.pareto {
        if bad {
            tw.flags |= SCARRED;
        }
        return;
    }
    let p = tw.dropout as f64 * e.dropout * if bad { b.kappa } else { 1.0 };
    if !first && u_drop < p {
        die(tw, ctx, books, day);
    }
}

/// A stretch's channel choice: where each channel's share of the choice uniform starts,
/// and the shares' total. Worked out once a stretch, and only for the channels there are:
/// the starts worked out at every purchase were hoisted out of the event loop for all eight
/// possible channels, at every stretch (callgrind).
struct Choice {
    /// Start of channel k's share; infinite for a channel closed to the twin (weight 0).
    starts: [f64; MAX_CHANNELS],
    /// Sum of the shares.
    total: f64,
}

impl Choice {
    /// The choice among the first `channels` of `weights`, which sum to `total`.
    #[inline(always)]
    fn new(weights: &[f64; MAX_CHANNELS], total: f64, channels: usize) -> Choice {
        let mut starts = [f64::INFINITY; MAX_CHANNELS];
        let mut acc = 0.0;
        for (start, &w) in starts.iter_mut().zip(weights).take(channels) {
            if w > 0.0 {
                *start = acc;
            }
            acc += w;
        }
        Choice { starts, total }
    }

    /// The channel of uniform `u` (times the total): the last one open to the twin whose
    /// share starts at or below it (one past the total, by rounding, takes the last).
    /// Without a branch: which channel it is was a coin toss to the branch predictor at
    /// every purchase.
    #[inline(always)]
    fn channel(&self, u: f64, channels: usize) -> usize {
        let mut c = 0;
        for (k, &start) in self.starts.iter().enumerate().take(channels) {
            c = if start <= u { k } else { c };
        }
        c
    }
}

fn die(tw: &mut Twin, ctx: &Ctx, books: &mut Books, day: u32) {
    tw.flags &= !ALIVE;
    let d = books.day(day);
    d[idx::CHURNED] += 1.0;
    d[idx::ACTIVE] -= 1.0;
    let s = &mut books.series;
    let months = s.cohort_deaths[tw.cohort as usize].len();
    s.cohort_deaths[tw.cohort as usize][(day as usize / 30).min(months - 1)] += 1.0;
    books.charge(ctx.policy, tw.born as u32, day + 1, tw.segments);
}

/// λ × access uplift × the price effect on the twin's channel mix (its choice weights with
/// prices over those without): 1 unless some price moved, which spares most events a division.
#[inline]
fn purchase_rate(tw: &Twin, e: &Effects, total: f64, base: f64) -> f64 {
    if base <= 0.0 {
        0.0
    } else if e.priced {
        tw.lambda as f64 * e.access * (total / base)
    } else {
        tw.lambda as f64 * e.access
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

/// Hazard (purchase plus, for Pareto/NBD, dropout) of a twin under `ctx` at time `t` (≥ 0),
/// and the first breakpoint after `t` at which it may change.
#[inline]
fn rates(tw: &Twin, ctx: &Ctx, t: f32) -> (f64, f32) {
    // Under the baseline (every initial twin's first wait, and the rate a fork starts
    // from) the effects never change: through the stretch lookup a rate took some 85
    // instructions with its call, from the fixed effects about half that (callgrind).
    match ctx.policy.fixed_at(t) {
        Some(e) if !e.priced => (
            unpriced_rate(tw, ctx, e) + dropout_rate(tw, ctx, e),
            f32::INFINITY,
        ),
        _ => stretch_rates(tw, ctx, t),
    }
}

/// [`rates`] from the stretch that holds `t`.
#[inline(never)]
fn stretch_rates(tw: &Twin, ctx: &Ctx, t: f32) -> (f64, f32) {
    let mut scratch = None;
    let s = ctx.policy.stretch(t, tw.segments, &mut scratch);
    let (e, until) = (s.effects, s.steady);
    let purchase = if e.priced {
        let (_, total, base) = ctx.policy.channel_weights(&tw.weights, e);
        purchase_rate(tw, e, total, base)
    } else {
        unpriced_rate(tw, ctx, e)
    };
    (purchase + dropout_rate(tw, ctx, e), until)
}

/// The purchase rate under effects `e` that move no price: the channel mix leaves it alone,
/// only whether some channel the twin likes is open matters.
#[inline(always)]
fn unpriced_rate(tw: &Twin, ctx: &Ctx, e: &Effects) -> f64 {
    if ctx.policy.reaches(&tw.weights, e) {
        tw.lambda as f64 * e.access
    } else {
        0.0
    }
}

/// Whether a twin lived under the baseline up to the fork has no event left in either arm,
/// `to` being the scenario arm's context: it dropped out, or its pending event falls past
/// the horizon and [`fork`] would keep it there. Fork keeps the time of a newcomer's first
/// purchase and an infinite time; otherwise it spends the hazard left at `to`'s rates, at
/// most `boost` times the baseline's, so the event comes no sooner than fork + (next − fork)
/// / boost: past the horizon when next − fork ≥ boost × (horizon − fork). (With margin: the
/// spending adds and subtracts in f64, some 1e−13 days off; a miss only costs a fork.)
#[inline]
pub fn done(tw: &Twin, to: &Ctx) -> bool {
    if !tw.alive() {
        return true;
    }
    let horizon = to.horizon as f32;
    if tw.next < horizon {
        return false;
    }
    if tw.flags & FIRST != 0 || tw.next.is_infinite() {
        return true;
    }
    let boost = to.policy.boost(tw.segments);
    if boost <= 1.0 {
        // Rates never raised: the same hazard is spent no sooner.
        return true;
    }
    let fork = to.policy.first_switch().min(to.horizon) as f64;
    tw.next as f64 - fork >= boost * (to.horizon as f64 - fork) * (1.0 + 1e-9) + 1e-6
}

/// Moves a twin lived under `from` (the baseline: no intervention, so constant effects) up to
/// the start of `day` under `to` from then on. Its pending wait was drawn as an exponential
/// amount of hazard; what is left of it is the baseline rate times the time still to go, and
/// `to` spends that at its own rates: exactly the time `to` would have given the same draw,
/// with no extra random number. A twin whose rates `to` leaves alone keeps its time exactly;
/// a newcomer's first purchase falls within its first day whatever the policy.
pub fn fork(tw: &mut Twin, from: &Ctx, to: &Ctx, day: u32) {
    if !tw.alive() || tw.flags & FIRST != 0 || !tw.next.is_finite() {
        return;
    }
    debug_assert!(tw.next >= day as f32, "an event before the fork");
    let (rate, _) = rates(tw, from, day as f32);
    let mut now = day as f32;
    let mut at_day = None;
    loop {
        if now >= to.horizon as f32 {
            return;
        }
        let (r, until) = rates(tw, to, now);
        at_day.get_or_insert((r, until));
        if r != rate {
            break;
        }
        now = until;
    }
    let left = rate * (tw.next as f64 - day as f64);
    let (at, edge) = at_day.expect("the loop looks at `day` first");
    tw.next = spend_hazard_until(tw, to, day as f32, left.max(0.0), Rate::new(at), edge);
}

/// When a twin at time `t` with `budget` of hazard to go, at hazard `rate` from `t` to the
/// first breakpoint after it at which that may change (`edge`), has its event. Past the last
/// breakpoint that changes it the time is given even beyond the horizon (no event within the
/// run), so that [`fork`] can recover the remainder; infinity means a zero rate for good.
#[inline]
fn spend_hazard_until(tw: &Twin, ctx: &Ctx, t: f32, budget: f64, rate: Rate, edge: f32) -> f32 {
    let (horizon, now, edge64) = (ctx.horizon as f64, t as f64, edge as f64);
    // Nearly every wait ends within its stretch (or its stretch runs to the horizon): that
    // case inline, the walk across breakpoints out of line, where its rate lookups do not
    // crowd the event loop.
    let at = now + time_for(budget, rate);
    if now < horizon && rate.per_day > 0.0 && (at < edge64 || edge64 >= horizon) {
        return after(t, at);
    }
    spend_across(tw, ctx, t, budget, rate.per_day, edge)
}

/// A hazard rate per day with its reciprocal, worked out where the rate is known, ahead of
/// the draw whose time it gives.
#[derive(Clone, Copy)]
struct Rate {
    /// Hazard per day.
    per_day: f64,
    /// Its reciprocal: days per unit of hazard.
    inverse: f64,
}

impl Rate {
    /// The rate `per_day` with its reciprocal.
    #[inline(always)]
    fn new(per_day: f64) -> Rate {
        Rate {
            per_day,
            inverse: 1.0 / per_day,
        }
    }
}

/// The time it takes to spend `budget` of hazard at `rate`: the budget times the rate's
/// reciprocal, not over the rate. The rate is known long before the budget is drawn, so the
/// division runs beside the exponential draw, and only a multiplication stands between the
/// draw and the branch on the event time (divided, the division's latency was on it: perf put
/// a tenth of a life's samples on the addition that waited for it). The product may differ
/// from the quotient in the last bit of the f64; rounded to the f32 event time, it changed no
/// output of the bundled scenarios.
#[inline(always)]
fn time_for(budget: f64, rate: Rate) -> f64 {
    budget * rate.inverse
}

/// The time `at` (in days, f64) as an event time after one at `t`: never exactly the time of
/// the last one (f32 rounding).
#[inline(always)]
fn after(t: f32, at: f64) -> f32 {
    let next = at as f32;
    if next <= t {
        f32::from_bits(t.to_bits() + 1)
    } else {
        next
    }
}

/// [`spend_hazard_until`] whatever the stretches: the hazard is spent stretch by stretch.
#[cold]
#[inline(never)]
fn spend_across(
    tw: &Twin,
    ctx: &Ctx,
    t: f32,
    mut budget: f64,
    mut rate: f64,
    mut edge: f32,
) -> f32 {
    let horizon = ctx.horizon as f64;
    let mut now = t as f64;
    loop {
        if now >= horizon {
            return f32::INFINITY;
        }
        let edge64 = edge as f64;
        let at = now + time_for(budget, Rate::new(rate));
        if rate > 0.0 && (at < edge64 || edge64 >= horizon) {
            return after(t, at);
        }
        if edge64 >= horizon {
            return f32::INFINITY;
        }
        budget -= rate * (edge64 - now);
        now = edge64;
        (rate, edge) = rates(tw, ctx, edge);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ctx::context;
    use crate::engine::policy::Policy;
    use crate::engine::spawn::Prepared;

    /// A twin that [`done`] says is done has no event left under the scenario either: forked
    /// and lived on, it books nothing and ends as it was, whether the scenario slows twins
    /// (price up, rate down: most twins are done) or speeds them (price down: only those
    /// dropped out or never buying again are).
    #[test]
    fn a_done_twin_has_nothing_left_in_either_arm() {
        for (change, slows) in [("percent = 10", true), ("percent = -20", false)] {
            let s = crate::scenario::load_str(
                &format!(
                    "name = \"done\"\nhorizon_days = 200\nreplications = 1\nseed = 5\n\
                     [population]\ncustomers = 2000\n[population.bgnbd]\nr = 0.3\nalpha = 5.0\na = 0.8\nb = 2.5\n\
                     [population.price]\nelasticity = -1.5\n\
                     [[intervention]]\nkind = \"price_change\"\n{change}\nstart_day = 60\n\
                     [[intervention]]\nkind = \"purchase_rate\"\nmultiplier = 0.9\nstart_day = 120\n"
                ),
                std::path::Path::new("done.toml"),
            )
            .unwrap();
            let base = Policy::new(&s.behaviour, &[], s.horizon_days);
            let scen = Policy::new(&s.behaviour, &s.interventions, s.horizon_days);
            let prep = Prepared::new(&s, &scen);
            let (cb, cs) = (
                context(&s, &s.behaviour, &base),
                context(&s, &s.behaviour, &scen),
            );
            let (mut done, mut alive) = (0, 0);
            for id in 0..2000 {
                let mut tw = prep.initial_twin(&cb, 5, 0, id);
                let mut books = Books::new(200, 0..200);
                live(&mut tw, &cb, &mut books, 60);
                if !super::done(&tw, &cs) {
                    continue;
                }
                done += 1;
                alive += usize::from(tw.alive());
                let mut tv = tw.clone();
                fork(&mut tv, &cb, &cs, 60);
                let mut after = Books::new(200, 60..200);
                live(&mut tv, &cs, &mut after, 200);
                let booked: f64 = after.series.days.iter().map(|d| d[idx::PURCHASES]).sum();
                assert_eq!(booked, 0.0, "twin {id} bought after being done");
                assert_eq!(
                    (tv.clv, tv.purchases, tv.flags),
                    (tw.clv, tw.purchases, tw.flags)
                );
            }
            // Slowed, most twins are done; sped up, those that dropped out and those whose
            // wait ends far enough past the horizon that the speed-up cannot bring it in.
            assert!(
                done > if slows { 500 } else { 50 },
                "{change}: {done} twins done"
            );
            assert!(alive > 100, "{change}: {alive} alive twins done");
        }
    }

    /// A life lived in pieces (up to some day, then on) is the life lived in one go: the
    /// twin's state and its accounts are the same bits, whatever the pieces.
    #[test]
    fn a_life_in_pieces_is_the_life_in_one_go() {
        let s = crate::scenario::load_str(
            "name = \"life\"\nhorizon_days = 200\nreplications = 1\nseed = 3\n\
             [population]\ncustomers = 300\n[population.bgnbd]\nr = 2.0\nalpha = 8.0\na = 0.3\nb = 6.0\n\
             [population.referral]\nprobability = 0.2\n\
             [population.channels]\nnames = [\"web\", \"store\"]\n\
             [[intervention]]\nkind = \"price_change\"\npercent = 10\nstart_day = 50\nend_day = 120\n",
            std::path::Path::new("life.toml"),
        )
        .unwrap();
        let policy = Policy::new(&s.behaviour, &s.interventions, s.horizon_days);
        let prep = Prepared::new(&s, &policy);
        let ctx = context(&s, &s.behaviour, &policy);
        let mut events = 0.0;
        for id in 0..300 {
            let tw = prep.initial_twin(&ctx, 3, 0, id);
            let (mut whole, mut pieces) = (tw.clone(), tw);
            let (mut a, mut b) = (Books::new(200, 0..200), Books::new(200, 0..200));
            live(&mut whole, &ctx, &mut a, 200);
            for end in [0, 37, 50, 51, 119, 200, 400] {
                live(&mut pieces, &ctx, &mut b, end);
            }
            assert_eq!(format!("{whole:?}"), format!("{pieces:?}"));
            assert_eq!(a.series.days, b.series.days);
            events += a.series.days.iter().map(|d| d[idx::PURCHASES]).sum::<f64>();
            for day in 0..200 {
                let (mut ra, mut rb) = (Vec::new(), Vec::new());
                a.take_referrals(day, &mut ra);
                b.take_referrals(day, &mut rb);
                assert_eq!(ra.len(), rb.len());
            }
        }
        assert!(events > 300.0, "twins buy: {events}");
    }
}
