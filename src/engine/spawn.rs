//! Spawning twins: person twins from known customers' posteriors, newcomers from the priors,
//! each with its own stream and its segment memberships for the scenario's interventions.

use rand::RngExt;

use super::ctx::Ctx;
use super::rng;
use super::twin::{ALIVE, FIRST, KNOWN, REFERRED, Twin, UNDRAWN, quantise};
use crate::population::behaviour::Behaviour;
use crate::population::behaviour::MAX_CHANNELS;
use crate::population::load::Person;
use crate::population::person::{
    Latent, Prior, Propensity, sample_posterior, sample_spend_rate, spend_rate_prior,
};
use crate::population::sampling::Gamma;
use crate::scenario::segment::{Attributes, Tests};
use crate::scenario::{Scenario, Source};

/// The distributions every newcomer and synthetic customer draws from, set up once per
/// replication (their parameters change between replications with parameter uncertainty).
pub struct Priors {
    purchase: Prior,
    referred: Option<Prior>,
    spend: Option<Gamma>,
    refer: Propensity,
    upsell: Propensity,
    cross: Propensity,
}

impl Priors {
    /// Samplers for the priors of `b`.
    pub fn new(b: &Behaviour) -> Priors {
        Priors {
            purchase: Prior::new(&b.purchase),
            referred: b.referred_purchase.as_ref().map(Prior::new),
            spend: spend_rate_prior(&b.spend),
            refer: Propensity::new(b.referral_mean, b.referral_concentration),
            upsell: Propensity::new(b.upsell_mean, b.sell_concentration),
            cross: Propensity::new(b.cross_sell_mean, b.cross_sell_concentration),
        }
    }

    fn spend_rate(&self, r: &mut rng::TwinRng) -> f64 {
        self.spend
            .as_ref()
            .map_or(0.0, |d| rand_distr::Distribution::sample(d, r))
    }

    /// Draws what spawning a synthetic twin draws — purchase and dropout traits, spend rate,
    /// channel preferences, referral, upsell and cross-sell propensities — and nothing else
    /// (the bare loop of [`super::bench`]); returns their sum.
    pub fn draw_only(&self, b: &Behaviour, r: &mut rng::TwinRng) -> f64 {
        let l = self.purchase.sample(r);
        let mut acc = l.lambda + l.dropout + self.spend_rate(r);
        if b.channels.len() > 1 {
            for &alpha in &b.channel_alpha {
                acc += Gamma::draw(alpha, 1.0, r);
            }
        }
        acc + self.refer.sample(r) + self.upsell.sample(r) + self.cross.sample(r)
    }
}

/// What spawning needs from the population, computed once per run.
pub struct Prepared<'s> {
    persons: &'s [Person],
    p_alive: Vec<f64>,
    decile: Vec<u8>,
    inline: usize,
    segment_names: Vec<String>,
    /// Channels of the scenario arm (new ones included): every twin gets a weight for each, so
    /// that both arms can start from the same twins.
    channels: usize,
    /// Every twin's segment mask when no intervention targets a segment or runs a pilot
    /// (nothing to match twin by twin).
    everyone: Option<u16>,
    /// Whether some segment reads `random` (only then is a twin's fixed uniform drawn).
    random: bool,
    /// Whether some segment reads the preferred channel (only then is it looked for).
    by_channel: bool,
    /// Mask bits every twin has: interventions (and pilots) whose segment is everyone.
    always: u16,
    /// The other segments and pilots, with the mask bit each sets: only these are matched
    /// twin by twin.
    tests: Tests,
}

impl<'s> Prepared<'s> {
    /// Ranks known customers by expected value over the horizon (for `value_decile`);
    /// `scenario` is the scenario arm's policy, whose channels every twin gets a weight for.
    pub fn new(s: &'s Scenario, scenario: &super::policy::Policy) -> Prepared<'s> {
        let (persons, inline, segment_names): (&[Person], usize, Vec<String>) = match &s.source {
            Source::Fitted(f) => (
                &f.persons,
                0,
                f.model
                    .segments
                    .as_ref()
                    .map(|g| g.fits.names.clone())
                    .unwrap_or_default(),
            ),
            Source::Inline { customers } => (&[], *customers as usize, Vec::new()),
        };
        let b = &s.behaviour;
        let horizon = s.horizon_days as f64 / b.unit_days;
        let p_alive: Vec<f64> = persons
            .iter()
            .map(|p| b.purchase.p_alive(p.x, p.t_x, p.t))
            .collect();
        let value: Vec<f64> = persons
            .iter()
            .map(|p| {
                let spend = if p.spend_mean.is_finite() {
                    b.spend
                        .conditional_expected_spend(p.spend_n as f64, p.spend_mean)
                } else {
                    b.spend.mean_spend()
                };
                b.purchase.conditional_expected(horizon, p.x, p.t_x, p.t) * spend
            })
            .collect();
        let mut order: Vec<usize> = (0..persons.len()).collect();
        order.sort_by(|&i, &j| value[i].total_cmp(&value[j]).then(i.cmp(&j)));
        let mut decile = vec![0u8; persons.len()];
        for (rank, &i) in order.iter().enumerate() {
            decile[i] = (1 + rank * 10 / persons.len().max(1)) as u8;
        }
        let channels = scenario.channels.len();
        let segments = || {
            s.interventions.iter().take(8).flat_map(|iv| {
                std::iter::once(&iv.segment).chain(iv.rollout.as_ref().map(|r| &r.pilot))
            })
        };
        Prepared {
            channels,
            persons,
            p_alive,
            decile,
            inline,
            segment_names,
            everyone: s
                .interventions
                .iter()
                .all(|iv| iv.segment.is_all() && iv.rollout.is_none())
                .then(|| (1u16 << s.interventions.len().min(8)).wrapping_sub(1)),
            always: s
                .interventions
                .iter()
                .enumerate()
                .take(8)
                .fold(0, |m, (i, iv)| {
                    let pilot_all = iv.rollout.as_ref().is_some_and(|r| r.pilot.is_all());
                    m | u16::from(iv.segment.is_all()) << i | u16::from(pilot_all) << (8 + i)
                }),
            tests: Tests::new(
                s.interventions
                    .iter()
                    .enumerate()
                    .take(8)
                    .flat_map(|(i, iv)| {
                        let pilot = iv.rollout.as_ref().map(|r| (1u16 << (8 + i), &r.pilot));
                        std::iter::once((1u16 << i, &iv.segment))
                            .chain(pilot)
                            .filter(|(_, seg)| !seg.is_all())
                    }),
            ),
            random: segments().any(|seg| seg.uses_random()),
            by_channel: segments().any(|seg| seg.channels().next().is_some()),
        }
    }

    /// Known customers.
    pub fn known(&self) -> usize {
        self.persons.len()
    }

    /// Twins at the start.
    pub fn initial(&self) -> usize {
        self.persons.len() + self.inline
    }

    /// Known customers' keys.
    pub fn keys(&self) -> Vec<String> {
        self.persons.iter().map(|p| p.key.clone()).collect()
    }

    /// Twin number `id` of the initial population.
    #[inline(always)]
    pub fn initial_twin(&self, ctx: &Ctx, seed: u64, rep: u32, id: u32) -> Twin {
        let mut r = rng::stream(seed, rep as u64, id as u64);
        let b = ctx.b;
        let (latent, nu, counts, attrs) = match self.persons.get(id as usize) {
            Some(p) => {
                let model = b
                    .segment_purchase
                    .get(p.segment as usize)
                    .unwrap_or(&b.purchase);
                let latent = sample_posterior(model, p.x, p.t_x, p.t, &mut r);
                let nu = sample_spend_rate(&b.spend, p.spend_n, p.spend_mean, &mut r);
                (
                    latent,
                    nu,
                    p.channel_counts,
                    (
                        self.p_alive[id as usize],
                        self.decile[id as usize] as f64,
                        p.x,
                        "existing",
                        self.segment_names
                            .get(p.segment as usize)
                            .map_or("", |s| s.as_str()),
                    ),
                )
            }
            None => (
                Some(ctx.priors.purchase.sample(&mut r)),
                ctx.priors.spend_rate(&mut r),
                [0; MAX_CHANNELS],
                (1.0, 0.0, 0.0, "existing", ""),
            ),
        };
        let mut tw = build(
            self, ctx, r, latent, nu, &counts, id, id, 0, 0, attrs, false, seed,
        );
        if self.persons.get(id as usize).is_some() {
            tw.flags |= KNOWN;
        }
        if tw.alive() {
            tw.next = 0.0;
            tw.flags |= UNDRAWN;
        }
        tw
    }
}

/// A newcomer (external or referred) from day `born`, buying on arrival unless the behaviour says not.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn newcomer(
    prep: &Prepared,
    ctx: &Ctx,
    seed: u64,
    rep: u32,
    id: u32,
    node: u32,
    born: u32,
    referred: bool,
) -> Twin {
    let mut r = rng::stream(seed, rep as u64, id as u64);
    let prior = match (&ctx.priors.referred, referred) {
        (Some(m), true) => m,
        _ => &ctx.priors.purchase,
    };
    let latent = prior.sample(&mut r);
    let nu = ctx.priors.spend_rate(&mut r);
    let months = crate::metrics::months(ctx.horizon as usize);
    let cohort = (1 + born as usize / 30).min(months) as u8;
    let mut tw = build(
        prep,
        ctx,
        r,
        Some(latent),
        nu,
        &[0; MAX_CHANNELS],
        id,
        node,
        born,
        cohort,
        (1.0, 0.0, 0.0, "newcomer", ""),
        referred,
        seed,
    );
    if referred {
        tw.flags |= REFERRED;
    }
    if ctx.b.newcomers_buy_on_arrival {
        tw.flags |= FIRST;
        tw.next = born as f32 + tw.rng.random::<f32>().min(0.999_999);
    } else {
        tw.next = born as f32;
        tw.flags |= UNDRAWN;
    }
    tw
}

// Inlined: its arguments and the twin it returns went through memory, and reading them
// back right after they were written stalled on store forwarding (perf: 45% of its time).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn build(
    prep: &Prepared,
    ctx: &Ctx,
    mut r: rng::TwinRng,
    latent: Option<Latent>,
    nu: f64,
    counts: &[u16; MAX_CHANNELS],
    id: u32,
    node: u32,
    born: u32,
    cohort: u8,
    (p_alive, decile, frequency, cohort_name, segment): (f64, f64, f64, &str, &str),
    referred: bool,
    seed: u64,
) -> Twin {
    let b = ctx.b;
    let c0 = b.channels.len();
    // Channel preferences: Dirichlet(α + own counts) over existing channels; a channel the
    // scenario opens starts at the twin's average weight (attractiveness scales it later).
    let mut w = [0.0; MAX_CHANNELS];
    let mut total = 0.0;
    if c0 == 1 {
        // A Dirichlet of one component is 1: no draw.
        (w[0], total) = (1.0, 1.0);
    } else {
        for c in 0..c0 {
            w[c] = Gamma::draw(b.channel_alpha[c] + counts[c] as f64, 1.0, &mut r);
            total += w[c];
        }
    }
    let n = prep.channels.max(c0);
    for v in w.iter_mut().take(c0) {
        *v /= total.max(f64::MIN_POSITIVE);
    }
    for v in w.iter_mut().take(n).skip(c0) {
        *v = 1.0 / c0 as f64;
    }
    let refer = ctx.priors.refer.sample(&mut r);
    let upsell = ctx.priors.upsell.sample(&mut r);
    let cross = ctx.priors.cross.sample(&mut r);
    // A `match`, not `unwrap_or_else`: the closure's dozen captures were gathered for every
    // twin, even those of a scenario whose interventions all reach everyone (callgrind: 25
    // instructions a twin spawned).
    let segments = match prep.everyone {
        Some(mask) => mask,
        None => {
            let channel = if prep.by_channel {
                let preferred = (0..c0).max_by(|&i, &j| w[i].total_cmp(&w[j])).unwrap_or(0);
                b.channels[preferred].as_str()
            } else {
                ""
            };
            let attrs = Attributes {
                channel,
                p_alive,
                value_decile: decile,
                frequency,
                cohort: cohort_name,
                referred,
                segment,
                random: if prep.random {
                    rng::fixed_uniform(seed, id as u64)
                } else {
                    f64::NAN
                },
            };
            prep.always | prep.tests.matching(&attrs)
        }
    };
    let (lambda, dropout, flags) = match latent {
        Some(l) => {
            let dropout = match b.purchase {
                crate::fit::purchase::PurchaseModel::BgNbd(_) => l.dropout,
                crate::fit::purchase::PurchaseModel::ParetoNbd(_) => l.dropout / b.unit_days,
            };
            (l.lambda / b.unit_days, dropout, ALIVE)
        }
        None => (0.0, 0.0, 0),
    };
    Twin {
        rng: r,
        lambda: lambda as f32,
        dropout: dropout as f32,
        spend_scale: (1.0 / nu.max(1e-12)) as f32,
        refer: refer as f32,
        upsell: upsell as f32,
        cross: cross as f32,
        next: f32::INFINITY,
        clv: 0.0,
        id,
        node,
        purchases: 0,
        born: born.min(u16::MAX as u32) as u16,
        segments,
        weights: quantise(&w[..n.min(MAX_CHANNELS)]),
        flags,
        cohort,
        good: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ctx::context;
    use crate::engine::policy::Policy;

    /// A segment on the preferred channel holds exactly the twins whose largest weight is
    /// that channel's (the channel is only looked for when some segment reads it).
    #[test]
    fn a_channel_segment_holds_the_twins_preferring_it() {
        let s = crate::scenario::load_str(
            "name = \"by channel\"\nhorizon_days = 100\nreplications = 1\nseed = 9\n\
             [population]\ncustomers = 2000\n[population.bgnbd]\nr = 0.3\nalpha = 5.0\na = 0.8\nb = 2.5\n\
             [population.channels]\nnames = [\"web\", \"store\"]\nalpha = [1.0, 1.0]\n\
             [[intervention]]\nkind = \"purchase_rate\"\nmultiplier = 1.2\nstart_day = 10\n\
             segment = \"channel=web\"\n",
            std::path::Path::new("channel.toml"),
        )
        .unwrap();
        let policy = Policy::new(&s.behaviour, &s.interventions, s.horizon_days);
        let prep = Prepared::new(&s, &policy);
        let ctx = context(&s, &s.behaviour, &policy);
        let mut web = 0;
        for id in 0..2000 {
            let tw = prep.initial_twin(&ctx, 9, 0, id);
            let [w, st, ..] = tw.weights;
            let inside = tw.segments & 1 != 0;
            web += usize::from(inside);
            // Equal after rounding to bytes, the weights no longer tell.
            if w != st {
                assert_eq!(inside, w > st, "twin {id}: weights {w}, {st}");
            }
        }
        assert!((700..1300).contains(&web), "{web} of 2000 prefer the web");
    }
}
