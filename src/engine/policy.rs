//! Interventions compiled for the event loop: what applies to a twin on a day, as multipliers.

use crate::population::behaviour::{Behaviour, MAX_CHANNELS};
use crate::scenario::intervention::{Intervention, Kind};

/// What the interventions do to one twin on one day.
#[derive(Debug, Clone, Copy)]
pub struct Effects {
    /// Channel open.
    pub open: [bool; MAX_CHANNELS],
    /// Attractiveness multiplier of each channel.
    pub attract: [f64; MAX_CHANNELS],
    /// Price multiplier P′/P of each channel.
    pub price: [f64; MAX_CHANNELS],
    /// Demand multiplier of each channel from its price, (P′/P)^ε: worked out once per
    /// effect, since `powf` at every event was a tenth of a run.
    pub demand: [f64; MAX_CHANNELS],
    /// Attractiveness of each channel where open, 0 where closed or absent: the choice
    /// weights then need no branch.
    pub reach: [f64; MAX_CHANNELS],
    /// Cost per day of interventions that charge per targeted customer (retention offers).
    pub daily_cost: f64,
    /// Whether some channel's price moves demand (some `demand` ≠ 1): only then do a twin's
    /// choice weights change its purchase rate.
    pub priced: bool,
    /// Bad-experience probability of each channel.
    pub bad: [f64; MAX_CHANNELS],
    /// Cost to serve a purchase in each channel.
    pub cost: [f64; MAX_CHANNELS],
    /// Purchase-rate multiplier from new-channel access.
    pub access: f64,
    /// Referral probability multiplier.
    pub referral: f64,
    /// Reward per referred customer won.
    pub reward: f64,
    /// Dropout multiplier.
    pub dropout: f64,
}

impl Effects {
    /// Whether a twin's hazard is the same under `self` and `other`, whatever its choice
    /// weights: purchase access, channel reach and price demand alike, and, where dropout is a
    /// rate (`pareto`), the dropout multiplier too (a BG/NBD twin's dropout rides on its
    /// purchases, not on its waits).
    fn same_hazard(&self, other: &Effects, pareto: bool) -> bool {
        self.access == other.access
            && self.reach == other.reach
            && self.demand == other.demand
            && (!pareto || self.dropout == other.dropout)
    }

    /// The most these effects multiply any twin's hazard by, against no intervention: the
    /// purchase rate λ × access × (a weighted mean of the reached channels' demand factors,
    /// when priced) is at most λ × access × the largest of them, and the dropout rate is
    /// multiplied by `dropout`; so the hazard λ′ + μ′ ≤ max(both factors) × (λ + μ).
    fn boost(&self) -> f64 {
        let demand = if self.priced {
            (0..MAX_CHANNELS)
                .filter(|&c| self.reach[c] > 0.0)
                .map(|c| self.demand[c])
                .fold(0.0, f64::max)
        } else {
            1.0
        };
        (self.access * demand).max(self.dropout)
    }
}

/// What holds for a twin from some time on: the effects, the first breakpoint after it (up to
/// which they hold) and the first breakpoint at which its hazard changes (at or after that).
#[derive(Debug, Clone, Copy)]
pub struct Stretch<'a> {
    /// The effects.
    pub effects: &'a Effects,
    /// The first breakpoint after the time asked for.
    pub until: f32,
    /// The first breakpoint at which the twin's hazard may change (infinite when never).
    pub steady: f32,
}

/// The scenario's interventions over a behaviour's channels.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The interventions, in file order (bit i of a twin's segment mask is intervention i).
    pub interventions: Vec<Intervention>,
    /// Channel names, new channels appended.
    pub channels: Vec<String>,
    /// Days on which some effect switches, sorted, with the horizon last.
    pub breakpoints: Vec<f32>,
    /// Channels existing at the start.
    pub initial_channels: usize,
    /// Price elasticity of purchase frequency.
    pub elasticity: f64,
    base: Effects,
    /// Channel index each intervention refers to.
    target: Vec<Option<usize>>,
    /// Interval between breakpoints of each day of the horizon.
    day_interval: Vec<u16>,
    /// Effects per (interval between breakpoints, segment mask), precomputed when there are
    /// few interventions: looking them up spares every event a 350-byte copy and a loop.
    table: Vec<Effects>,
    /// Per entry of `table`, the first breakpoint after its interval at which that mask's
    /// hazard changes (infinite when it never does): a wait spends its hazard over the
    /// breakpoints that only move other effects (a referral programme, a BG/NBD retention
    /// offer) in one step, instead of working out the same rate again at each.
    steady: Vec<f32>,
    /// Per segment mask (as the table indexes them), the most any effect from the first
    /// switch on multiplies a twin's hazard by ([`Effects::boost`]); empty when effects are
    /// not tabled.
    boost: Vec<f64>,
    /// Per segment mask (as the table indexes them), the stretches between breakpoints from
    /// the first switch on with their daily cost per customer, where some intervention
    /// charges that mask; empty when effects are not tabled or nothing charges.
    pieces: Vec<Vec<(u32, u32, f64)>>,
    /// Segment-mask bits (segment and pilot) of the interventions that charge per targeted
    /// customer and day (retention offers): a twin with none of them is never charged.
    charged: u16,
}

/// Up to this many interventions, [`Policy::stretch`] reads a precomputed table.
const TABLED_INTERVENTIONS: usize = 4;

impl Policy {
    /// Compiles `interventions` (possibly none: the baseline).
    pub fn new(b: &Behaviour, interventions: &[Intervention], horizon: u32) -> Policy {
        let mut channels = b.channels.clone();
        let mut base = Effects {
            open: [false; MAX_CHANNELS],
            attract: [1.0; MAX_CHANNELS],
            price: [1.0; MAX_CHANNELS],
            demand: [1.0; MAX_CHANNELS],
            reach: [0.0; MAX_CHANNELS],
            daily_cost: 0.0,
            priced: false,
            bad: [0.0; MAX_CHANNELS],
            cost: [0.0; MAX_CHANNELS],
            access: 1.0,
            referral: 1.0,
            reward: 0.0,
            dropout: 1.0,
        };
        for c in 0..channels.len() {
            base.open[c] = true;
            base.bad[c] = b.channel_bad[c];
            base.cost[c] = b.channel_cost[c];
        }
        let mut target = Vec::new();
        for iv in interventions {
            let idx = |name: &str, channels: &[String]| channels.iter().position(|c| c == name);
            target.push(match &iv.kind {
                Kind::NewChannel {
                    name,
                    bad_experience,
                    cost_to_serve,
                    ..
                } => {
                    channels.push(name.clone());
                    let c = channels.len() - 1;
                    base.bad[c] = *bad_experience;
                    base.cost[c] = *cost_to_serve;
                    Some(c)
                }
                Kind::PriceChange {
                    channel: Some(ch), ..
                }
                | Kind::ServiceQuality {
                    channel: Some(ch), ..
                }
                | Kind::CloseChannel { channel: ch } => idx(ch, &channels),
                _ => None,
            });
        }
        let mut breakpoints: Vec<f32> = interventions
            .iter()
            .flat_map(|i| i.breakpoints())
            .filter(|&d| d < horizon)
            .map(|d| d as f32)
            .collect();
        breakpoints.push(horizon as f32);
        breakpoints.sort_by(f32::total_cmp);
        breakpoints.dedup();
        let mut p = Policy {
            interventions: interventions.to_vec(),
            initial_channels: b.channels.len(),
            channels,
            breakpoints,
            elasticity: b.elasticity,
            base,
            target,
            table: Vec::new(),
            steady: Vec::new(),
            boost: Vec::new(),
            pieces: Vec::new(),
            day_interval: Vec::new(),
            charged: interventions
                .iter()
                .enumerate()
                .take(8)
                .filter(|(_, iv)| matches!(iv.kind, Kind::RetentionOffer { .. }))
                .fold(0, |m, (i, _)| m | 1 << i | 1 << (8 + i)),
        };
        let n = p.interventions.len();
        p.day_interval = (0..horizon)
            .map(|d| p.breakpoints.partition_point(|&b| b <= d as f32) as u16)
            .collect();
        if n <= TABLED_INTERVENTIONS {
            // Effects are constant between breakpoints: one entry per interval and mask.
            let starts: Vec<u32> = std::iter::once(0)
                .chain(p.breakpoints.iter().map(|&b| b as u32))
                .collect();
            p.table = starts
                .iter()
                .flat_map(|&day| {
                    let p = &p;
                    (0..1u32 << (2 * n)).map(move |m| {
                        let low = (1u32 << n) - 1;
                        let mask = (m & low) | ((m >> n) & low) << 8;
                        p.compute(day, mask as u16)
                    })
                })
                .collect();
            let masks = 1usize << (2 * n);
            let pareto = matches!(
                b.purchase,
                crate::fit::purchase::PurchaseModel::ParetoNbd(_)
            );
            let intervals = p.table.len() / masks;
            p.steady = vec![f32::INFINITY; p.table.len()];
            for m in 0..masks {
                // From the last interval back: each one's hazard holds up to the next
                // interval's end when the next one's hazard is the same.
                for i in (0..intervals.saturating_sub(1)).rev() {
                    let (here, next) = ((i << (2 * n)) | m, ((i + 1) << (2 * n)) | m);
                    p.steady[here] = if p.table[here].same_hazard(&p.table[next], pareto) {
                        p.steady[next]
                    } else {
                        p.breakpoints[i]
                    };
                }
            }
            let first = p.day_interval.get(p.first_switch() as usize).copied();
            p.boost = (0..masks)
                .map(|m| {
                    let from = first.map_or(p.table.len() / masks, usize::from);
                    (from..p.table.len() / masks)
                        .map(|i| p.table[(i << (2 * n)) | m].boost())
                        .fold(0.0, f64::max)
                })
                .collect();
            if p.charged != 0 {
                p.pieces = (0..masks)
                    .map(|m| {
                        let low = (1usize << n) - 1;
                        let segments = ((m & low) | ((m >> n) & low) << 8) as u16;
                        let mut out = Vec::new();
                        let mut a = p.first_switch();
                        while a < horizon {
                            let b = p.next_stop(a, horizon);
                            let c = p.daily_cost(a, segments);
                            if c != 0.0 {
                                out.push((a, b, c));
                            }
                            a = b;
                        }
                        out
                    })
                    .collect();
            }
        }
        p
    }

    /// The effects at every time of the horizon, when no intervention ever acts (those of
    /// [`Policy::stretch`] at any time from 0 to the horizon, whose hazard then never
    /// changes).
    #[inline]
    pub fn fixed(&self) -> Option<&Effects> {
        // With no intervention the table (always built then) holds the interval up to the
        // horizon first, then the one past it.
        if self.interventions.is_empty() {
            self.table.first()
        } else {
            None
        }
    }

    /// [`Policy::fixed`] at time `t`, if `t` is within the horizon (the one breakpoint).
    #[inline]
    pub fn fixed_at(&self, t: f32) -> Option<&Effects> {
        self.fixed().filter(|_| t >= 0.0 && t < self.breakpoints[0])
    }

    /// The end of the stretch between breakpoints that holds `day`, at most `to` (and after
    /// `day`).
    fn next_stop(&self, day: u32, to: u32) -> u32 {
        (self.next_breakpoint(day as f32) as u32)
            .min(to)
            .max(day + 1)
    }

    /// Per-customer daily costs of a twin with segment mask `segments` over days
    /// [`from`, `to`), as (first day, end, cost per day) in day order, each within one
    /// stretch between breakpoints; nothing is charged before the first switch.
    pub fn charges_over(
        &self,
        from: u32,
        to: u32,
        segments: u16,
    ) -> impl Iterator<Item = (u32, u32, f64)> + '_ {
        let listed = self.pieces.get(self.mask_index(segments));
        let mut a = from.max(self.first_switch());
        // Costs are listed per mask when the effects are tabled; otherwise looked up
        // stretch by stretch.
        let mut listed = listed.map(|v| v.iter());
        std::iter::from_fn(move || match listed.as_mut() {
            Some(it) => loop {
                let &(p, q, c) = it.next()?;
                let (a, b) = (p.max(from), q.min(to));
                if a >= to {
                    return None;
                }
                if a < b {
                    return Some((a, b, c));
                }
            },
            None => loop {
                if a >= to {
                    return None;
                }
                let b = self.next_stop(a, to);
                let c = self.daily_cost(a, segments);
                let here = a;
                a = b;
                if c != 0.0 {
                    return Some((here, b, c));
                }
            },
        })
    }

    /// Where a twin with segment mask `segments` finds its effects in the table.
    #[inline]
    fn mask_index(&self, segments: u16) -> usize {
        let n = self.interventions.len();
        let low = (1u16 << n) - 1;
        (segments & low) as usize | (((segments >> 8) & low) as usize) << n
    }

    /// The most any effect from the first switch on multiplies the hazard of a twin with
    /// segment mask `segments` by, against no intervention (infinite when it cannot tell): a
    /// wait that ends at `t` with no intervention ends no sooner than day + (t − day) / boost
    /// under this policy, if it was pending on `day`.
    #[inline]
    pub fn boost(&self, segments: u16) -> f64 {
        self.boost
            .get(self.mask_index(segments))
            .copied()
            .unwrap_or(f64::INFINITY)
    }

    /// The effects at time `t` (≥ 0) for a twin with segment mask `segments`, with the day's
    /// interval read once (every stretch of every twin's life starts here). Effects not
    /// tabled are worked out into `scratch` (a `Cow` returned in a pair was copied whole,
    /// 440 bytes, even when borrowed).
    #[inline(always)]
    pub fn stretch<'a>(
        &'a self,
        t: f32,
        segments: u16,
        scratch: &'a mut Option<Effects>,
    ) -> Stretch<'a> {
        if let Some(e) = self.fixed_at(t) {
            return Stretch {
                effects: e,
                until: self.breakpoints[0],
                steady: f32::INFINITY,
            };
        }
        let day = t as u32;
        match self.day_interval.get(day as usize) {
            Some(&i) if !self.table.is_empty() && t >= 0.0 => {
                let i = i as usize;
                let k = (i << (2 * self.interventions.len())) | self.mask_index(segments);
                Stretch {
                    effects: &self.table[k],
                    until: self.breakpoints.get(i).copied().unwrap_or(f32::INFINITY),
                    steady: self.steady[k],
                }
            }
            _ => {
                let until = self.next_breakpoint(t);
                Stretch {
                    effects: scratch.insert(self.compute(day, segments)),
                    until,
                    steady: until,
                }
            }
        }
    }

    /// Effects on `day` for a twin with segment mask `segments`, from the interventions.
    fn compute(&self, day: u32, segments: u16) -> Effects {
        let mut e = self.base;
        for (i, iv) in self.interventions.iter().enumerate() {
            let on = iv.applies(
                day,
                segments & (1 << i) != 0,
                segments & (1 << (8 + i)) != 0,
            );
            let c = self.target[i];
            match &iv.kind {
                Kind::NewChannel {
                    attractiveness,
                    access_uplift,
                    ..
                } => {
                    if let Some(c) = c {
                        e.open[c] = on;
                        e.attract[c] = *attractiveness;
                    }
                    if on {
                        e.access *= 1.0 + access_uplift;
                    }
                }
                _ if !on => {}
                Kind::PriceChange { percent, .. } => {
                    let m = 1.0 + percent / 100.0;
                    match c {
                        Some(c) => e.price[c] *= m,
                        None => e.price.iter_mut().for_each(|p| *p *= m),
                    }
                }
                Kind::CloseChannel { .. } => {
                    if let Some(c) = c {
                        e.open[c] = false;
                    }
                }
                Kind::ServiceQuality { bad_experience, .. } => match c {
                    Some(c) => e.bad[c] = *bad_experience,
                    None => e.bad.iter_mut().for_each(|b| *b = *bad_experience),
                },
                Kind::ReferralProgramme {
                    multiplier,
                    reward_cost,
                } => {
                    e.referral *= multiplier;
                    e.reward += reward_cost;
                }
                Kind::RetentionOffer {
                    dropout_multiplier, ..
                } => e.dropout *= dropout_multiplier,
                Kind::PurchaseRate { multiplier } => e.access *= multiplier,
                Kind::MarketingPush { .. } => {}
            }
        }
        for (d, p) in e.demand.iter_mut().zip(&e.price) {
            *d = if *p == 1.0 {
                1.0
            } else {
                p.powf(self.elasticity)
            };
        }
        for c in 0..MAX_CHANNELS {
            e.reach[c] = if e.open[c] { e.attract[c] } else { 0.0 };
        }
        e.priced = e.demand.iter().any(|&d| d != 1.0);
        e.daily_cost = self
            .interventions
            .iter()
            .enumerate()
            .filter(|(i, iv)| {
                iv.applies(
                    day,
                    segments & (1 << i) != 0,
                    segments & (1 << (8 + i)) != 0,
                )
            })
            .fold(0.0, |sum, (_, iv)| match iv.kind {
                Kind::RetentionOffer { cost, .. } => sum + cost,
                _ => sum,
            });
        e
    }

    /// The first breakpoint after time `t`.
    #[inline]
    pub fn next_breakpoint(&self, t: f32) -> f32 {
        // Breakpoints fall on whole days, so those up to `t` are those up to its day: read
        // the day's interval instead of searching (once per event).
        let i = match self.day_interval.get(t as usize) {
            Some(&i) if t >= 0.0 => i as usize,
            _ => self.breakpoints.partition_point(|&b| b <= t),
        };
        self.breakpoints.get(i).copied().unwrap_or(f32::INFINITY)
    }

    /// Channel choice weights of a twin under `e` (unnormalised), their sum, and the sum
    /// before price effects; each is preference × attractiveness × (P′/P)^ε over open
    /// channels (closed and absent ones weigh 0).
    #[inline]
    pub fn channel_weights(
        &self,
        weights: &[u8; MAX_CHANNELS],
        e: &Effects,
    ) -> ([f64; MAX_CHANNELS], f64, f64) {
        let mut w = [0.0; MAX_CHANNELS];
        let (mut total, mut base) = (0.0, 0.0);
        for c in 0..self.channels.len().min(MAX_CHANNELS) {
            let pref = weights[c] as f64 * e.reach[c];
            base += pref;
            w[c] = pref * e.demand[c];
            total += w[c];
        }
        (w, total, base)
    }

    /// Whether some channel the twin would use (weight > 0) is open under `e`: the choice
    /// weights' sum before price effects is positive.
    #[inline]
    pub fn reaches(&self, weights: &[u8; MAX_CHANNELS], e: &Effects) -> bool {
        (0..self.channels.len().min(MAX_CHANNELS)).any(|c| weights[c] > 0 && e.reach[c] > 0.0)
    }

    /// The first day on which some intervention acts (the horizon when none does): before
    /// it, this policy's world is the baseline's.
    pub fn first_switch(&self) -> u32 {
        self.breakpoints.first().map_or(u32::MAX, |&d| d as u32)
    }

    /// Whether some intervention may charge a twin with segment mask `segments` per day (a
    /// retention offer whose segment or pilot holds it).
    #[inline]
    pub fn charges(&self, segments: u16) -> bool {
        self.charged & segments != 0
    }

    /// Cost per day of interventions that charge per targeted customer (retention offers), for
    /// a twin with `segments` on `day`.
    pub fn daily_cost(&self, day: u32, segments: u16) -> f64 {
        let mut scratch = None;
        self.stretch(day as f32, segments, &mut scratch)
            .effects
            .daily_cost
    }

    /// Bass innovation multiplier and marketing cost on `day`.
    pub fn marketing(&self, day: u32) -> (f64, f64) {
        self.interventions
            .iter()
            .filter(|iv| iv.applies(day, true, true))
            .fold((1.0, 0.0), |(m, c), iv| match iv.kind {
                Kind::MarketingPush { p_multiplier, cost } => (m * p_multiplier, c + cost),
                _ => (m, c),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(model: &str, interventions: &str) -> Policy {
        let s = crate::scenario::load_str(
            &format!(
                "name = \"steady\"\nhorizon_days = 200\nreplications = 1\nseed = 1\n\
                 [population]\ncustomers = 10\n{model}\n\
                 [population.price]\nelasticity = -1.5\n{interventions}"
            ),
            std::path::Path::new("steady.toml"),
        )
        .unwrap();
        Policy::new(&s.behaviour, &s.interventions, s.horizon_days)
    }

    /// A wait's hazard runs on across breakpoints that leave it alone (a referral programme
    /// always; a retention offer when dropout rides on purchases, BG/NBD) and stops at those
    /// that move it (a price change; a retention offer when dropout is a rate, Pareto/NBD).
    #[test]
    fn the_hazard_holds_across_breakpoints_that_leave_it_alone() {
        let ivs = "[[intervention]]\nkind = \"referral_programme\"\nmultiplier = 2\nstart_day = 30\n\
                   [[intervention]]\nkind = \"retention_offer\"\ndropout_multiplier = 0.5\nstart_day = 40\n\
                   [[intervention]]\nkind = \"price_change\"\npercent = -10\nstart_day = 50\nend_day = 120\n";
        let bg = policy(
            "[population.bgnbd]\nr = 0.3\nalpha = 5.0\na = 0.8\nb = 2.5",
            ivs,
        );
        let pareto = policy(
            "[population.pareto_nbd]\nr = 0.3\nalpha = 5.0\ns = 0.8\nbeta = 10.0",
            ivs,
        );
        let everyone = 0b111;
        let at = |p: &Policy, t: f32, segments: u16| {
            let mut scratch = None;
            let s = p.stretch(t, segments, &mut scratch);
            (s.until, s.steady)
        };
        assert_eq!(at(&bg, 10.0, everyone), (30.0, 50.0));
        assert_eq!(at(&bg, 35.0, everyone), (40.0, 50.0));
        assert_eq!(at(&bg, 60.0, everyone), (120.0, 120.0));
        assert_eq!(at(&bg, 130.0, everyone), (200.0, f32::INFINITY));
        assert_eq!(at(&pareto, 10.0, everyone), (30.0, 40.0));
        assert_eq!(at(&pareto, 45.0, everyone), (50.0, 50.0));
        // A twin outside the retention offer's segment: the offer never moves its hazard.
        assert_eq!(at(&pareto, 10.0, 0b101), (30.0, 50.0));
    }

    /// Under the baseline a stretch is taken from its fixed effects, not looked up: within
    /// the horizon it is what the table holds for that time, and past it the lookup still
    /// answers.
    #[test]
    fn the_baselines_fixed_stretch_is_the_tabled_one() {
        let model = "[population.bgnbd]\nr = 0.3\nalpha = 5.0\na = 0.8\nb = 2.5\n\
                     [population.channels]\nnames = [\"web\", \"store\"]";
        let b = policy(model, "");
        assert!(b.fixed().is_some());
        for t in [0.0, 0.25, 37.5, 199.0, 199.99] {
            let i = b.day_interval[t as usize] as usize;
            let mut scratch = None;
            let s = b.stretch(t, 0, &mut scratch);
            assert_eq!(
                format!("{:?}", s.effects),
                format!("{:?}", b.table[i]),
                "{t}"
            );
            assert_eq!((s.until, s.steady), (b.breakpoints[i], b.steady[i]), "{t}");
        }
        let mut scratch = None;
        assert_eq!(b.stretch(200.0, 0, &mut scratch).until, f32::INFINITY);
        // An intervention, even one that never moves a hazard, leaves the lookup.
        let referral =
            "[[intervention]]\nkind = \"referral_programme\"\nmultiplier = 2\nstart_day = 50\n";
        assert!(policy(model, referral).fixed().is_none());
    }
}
