//! One arm of one replication: the shards, the market and the newcomers so far, advanced day
//! by day. Both arms share their history until the scenario's first intervention switches on
//! (common random numbers make it the same history), so a world can be forked there.

use rand_distr::Gamma;
use rayon::prelude::*;

use super::cluster::{Cluster, gather_by_key, put_record};
use super::market::Market;
use super::policy::Policy;
use super::shard::{Ctx, Referral, SHARD_SIZE, Shard};
use super::spawn::{Prepared, Priors, newcomer};
use super::twin;
use super::{MARKET_STREAM, Replication, rng};
use crate::fit::purchase::PurchaseModel;
use crate::metrics::{Series, idx};
use crate::population::behaviour::Behaviour;
use crate::scenario::Scenario;

/// The read-only context of one arm in one replication.
pub fn context<'a>(s: &Scenario, b: &'a Behaviour, policy: &'a Policy) -> Ctx<'a> {
    let delta = (1.0 + s.discount_rate).ln() / 365.0;
    Ctx {
        b,
        policy,
        horizon: s.horizon_days,
        pareto: matches!(b.purchase, PurchaseModel::ParetoNbd(_)),
        discount_per_day: delta,
        discount_at_day: (0..s.horizon_days)
            .map(|d| (-delta * d as f64).exp())
            .collect(),
        spend_unit: Gamma::new(b.spend.p, 1.0).expect("validated spend shape"),
        priors: Priors::new(b),
    }
}

/// A world in the middle of a replication (this process's part of it: see [`Cluster`]).
#[derive(Clone)]
pub struct World {
    /// This process's shards in order: local shard j is shard j × size + rank.
    shards: Vec<Shard>,
    rank: usize,
    size: usize,
    market: Market,
    next_id: u64,
    /// Referral rewards and marketing costs, which belong to no shard.
    market_series: Series,
    /// The next day to simulate.
    day: u32,
    seed: u64,
    rep: u32,
    /// Today's referrals from every shard, in shard order.
    referrals: Vec<Referral>,
    /// Newcomers won on the current day: (node, referred).
    won: Vec<(u32, bool)>,
    external: Vec<u32>,
}

impl World {
    /// The initial twins of replication `rep`, before day 0 (this process's shards).
    pub fn spawn(prep: &Prepared, ctx: &Ctx, seed: u64, rep: u32, cluster: &dyn Cluster) -> World {
        let (rank, size) = (cluster.rank(), cluster.size());
        let n0 = prep.initial();
        let n_shards = n0.div_ceil(SHARD_SIZE).max(1);
        // Twins are drawn in parallel within each shard, not a shard per thread: a population
        // of a few shards would leave a core idle while the last shard is drawn.
        let shards: Vec<Shard> = (rank..n_shards)
            .step_by(size)
            .map(|k| {
                let ids = k * SHARD_SIZE..((k + 1) * SHARD_SIZE).min(n0);
                let mut twins = Vec::with_capacity(SHARD_SIZE);
                ids.into_par_iter()
                    .map(|id| prep.initial_twin(ctx, seed, rep, id as u32))
                    .collect_into_vec(&mut twins);
                Shard::with_twins(twins, ctx)
            })
            .collect();
        World {
            shards,
            rank,
            size,
            market: Market::new(ctx.b.bass, ctx.b.network, n0 as u64),
            next_id: n0 as u64,
            market_series: Series::new(ctx.horizon as usize),
            day: 0,
            seed,
            rep,
            referrals: Vec::new(),
            won: Vec::new(),
            external: Vec::new(),
        }
    }

    /// Global number of local shard `j`.
    fn global(&self, j: usize) -> usize {
        j * self.size + self.rank
    }

    /// Simulates the days from the current one up to (not including) `end`.
    pub fn run_until(&mut self, prep: &Prepared, ctx: &Ctx, end: u32, cluster: &dyn Cluster) {
        while self.day < end.min(ctx.horizon) {
            let day = self.day;
            self.shards.par_iter_mut().for_each(|sh| sh.step(ctx, day));
            self.gather_referrals(cluster);
            self.synchronise(prep, ctx, day);
            self.day += 1;
        }
    }

    /// Today's referrals of every shard of every process, in shard order.
    fn gather_referrals(&mut self, cluster: &dyn Cluster) {
        self.referrals.clear();
        if self.size == 1 {
            for sh in &mut self.shards {
                self.referrals.append(&mut sh.referrals);
            }
            return;
        }
        let mut mine = Vec::new();
        for j in 0..self.shards.len() {
            let k = self.global(j);
            let sh = &mut self.shards[j];
            if !sh.referrals.is_empty() {
                put_record(&mut mine, k, |o| {
                    for r in sh.referrals.drain(..) {
                        o.extend([r.node as f64, r.reward]);
                    }
                });
            }
        }
        for (_, rec) in gather_by_key(cluster, &mine) {
            self.referrals.extend(rec.chunks_exact(2).map(|r| Referral {
                node: r[0] as u32,
                reward: r[1],
            }));
        }
    }

    /// The end of a day: referrals in shard order, then external adopters; the newcomers they
    /// bring are born the next day, each in its shard's process. Every process runs the same
    /// market on the same referrals and random numbers, so all agree on who arrives.
    fn synchronise(&mut self, prep: &Prepared, ctx: &Ctx, day: u32) {
        let (seed, rep) = (self.seed, self.rep);
        let mut mr = rng::stream(seed, rep as u64, MARKET_STREAM + day as u64);
        self.won.clear();
        for r in &self.referrals {
            if let Some(node) = self
                .market
                .refer(r.node, ctx.b.referral_conversion, &mut mr)
            {
                self.won.push((node, true));
                self.market_series.days[day as usize][idx::INTERVENTION_COST] += r.reward;
            }
        }
        let (push, cost) = ctx.policy.marketing(day);
        self.market_series.days[day as usize][idx::INTERVENTION_COST] += cost;
        self.market.external(push, &mut mr, &mut self.external);
        self.won.extend(self.external.iter().map(|&n| (n, false)));
        let born = day + 1;
        if born >= ctx.horizon {
            return;
        }
        for &(node, referred) in &self.won {
            let id = self.next_id;
            self.next_id += 1;
            let k = (id as usize) / SHARD_SIZE;
            if k % self.size != self.rank {
                continue;
            }
            let j = k / self.size;
            while self.shards.len() <= j {
                self.shards.push(Shard::new(ctx.horizon));
            }
            let twin = newcomer(prep, ctx, seed, rep, id as u32, node, born, referred);
            let d = &mut self.shards[j].series.days[born as usize];
            d[if referred {
                idx::NEW_REFERRED
            } else {
                idx::NEW_EXTERNAL
            }] += 1.0;
            self.shards[j].push(twin, ctx);
        }
    }

    /// Moves this world, simulated so far under `from` (the baseline: no intervention, so
    /// constant effects), under `to` from today on. A twin's pending wait was drawn as an
    /// exponential amount of hazard; what is left of it at today's start is the baseline rate
    /// times the time still to go, and `to` spends that remainder at its own rates: exactly
    /// the event time `to` would have given the same draw, with no extra random number.
    pub fn fork(&mut self, from: &Ctx, to: &Ctx) {
        let day = self.day;
        self.shards
            .par_iter_mut()
            .for_each(|sh| sh.fork(from, to, day));
    }

    /// Closes the books at the horizon and adds up every process's shards in shard order.
    pub fn finish(
        mut self,
        s: &Scenario,
        prep: &Prepared,
        ctx: &Ctx,
        cluster: &dyn Cluster,
    ) -> Replication {
        // CLV bins of half a mean purchase: fine enough to show the shape, the same for both arms.
        let mean = s.behaviour.spend.mean_spend();
        let width = if mean.is_finite() { 0.5 * mean } else { 10.0 };
        self.shards.par_iter_mut().for_each(|sh| {
            sh.finish(ctx);
            sh.bin_clv(width);
        });
        let mut total = std::mem::replace(&mut self.market_series, Series::new(0));
        total.clv_bin_width = width;
        let (mut clv, mut purchases) = (vec![0.0f32; prep.known()], vec![0u16; prep.known()]);
        fn known(sh: &Shard) -> impl Iterator<Item = (usize, f32, u16)> + '_ {
            sh.twins
                .iter()
                .filter(|tw| tw.flags & twin::KNOWN != 0)
                .map(|tw| (tw.id as usize, tw.clv, tw.purchases))
        }
        if self.size == 1 {
            for sh in &self.shards {
                total.add(&sh.series);
                for (id, c, p) in known(sh) {
                    (clv[id], purchases[id]) = (c, p);
                }
            }
        } else {
            let mut mine = Vec::new();
            for (j, sh) in self.shards.iter().enumerate() {
                put_record(&mut mine, self.global(j), |o| {
                    sh.series.flatten_into(o);
                    for (id, c, p) in known(sh) {
                        o.extend([id as f64, c as f64, p as f64]);
                    }
                });
            }
            for (_, rec) in gather_by_key(cluster, &mine) {
                let rest = total
                    .add_flat(&rec)
                    .expect("every process flattens the same series shape");
                for r in rest.chunks_exact(3) {
                    (clv[r[0] as usize], purchases[r[0] as usize]) = (r[1] as f32, r[2] as u16);
                }
            }
        }
        total.margin_rate = ctx.b.margin;
        total.finish();
        let events = total
            .days
            .iter()
            .map(|d| (d[idx::PURCHASES] + d[idx::CHURNED]) as u64)
            .sum();
        Replication {
            series: total,
            events,
            twins: self.next_id,
            clv,
            purchases,
        }
    }
}
