//! One replication, both arms. First every shard lives its initial twins through the horizon,
//! in parallel (a twin's life depends on no other twin). Then the market runs day by day —
//! once for the history both arms share, up to the scenario's first intervention, then once
//! per arm — turning each day's referrals (in shard order) and external adopters into
//! newcomers, who are lived through the horizon on the day they arrive; their referrals fall
//! on that day or later, so the market always has every referral of the day it reads.
//!
//! Split over processes ([`Cluster`]), shard k lives on process k mod size; each day's
//! referrals are gathered so that every process runs the same market and lives the newcomers
//! of its own shards; at the end every shard's accounts are gathered and added in shard order.

use rayon::prelude::*;

use super::books::Books;
use super::cluster::{Cluster, gather_by_key, put_record};
use super::ctx::Ctx;
use super::life;
use super::market::Market;
use super::referrals::Referral;
use super::shard::{SHARD_SIZE, Shard, live_alone};
use super::spawn::{Prepared, newcomer};
use super::{MARKET_STREAM, Replication, rng};
use crate::metrics::{Series, idx};

/// Initial twins spawned together, their first waits drawn together, then lived one after
/// another: spawning and a first wait are mostly random draws, independent from twin to twin,
/// and in a loop of its own the CPU overlaps one twin's draws with the next's instead of
/// waiting on each twin's life in between (reference workload, 1M twins: spawning apart, 4%
/// less wall time, medians of 20 interleaved runs; first waits apart, 1.0% less CPU time at
/// 200k, 60 pairs on one core). 64 twins are 5 kB.
const SPAWN_BATCH: usize = 64;

/// Fewest newcomers in a day for which they are lived in parallel.
const PARALLEL_ARRIVALS: usize = 64;

/// Most shards newcomers are dealt over. A newcomer's events land on days ahead in its
/// shard's accounts (about 105 kB a shard over a year), and every day visits every shard
/// that takes newcomers, so what matters is whether those accounts stay in a core's own
/// cache from one day to the next. Dealt over all 611 shards of 10M twins (64 MB), the
/// all-behaviours workload took 8% more CPU time than over 64 (19.2 s against 17.8 s,
/// medians of 5 interleaved runs); over 64 (7 MB, 3.4 MB a core on two cores), the
/// reference workload took 4.1% more than over 16 at 1M twins (450.7 against 432.0 ms,
/// 12 interleaved runs) and 4.1% more at 10M (4191 against 4019 ms, 6 runs), all
/// behaviours 1.9% more at 1M (8 runs); over 8, 5.6% more at 1M. 16 shards (1.7 MB) keep
/// 16 cores busy with a day's newcomers, 32 once the arms run side by side, and a fixed
/// number, not one from the cores, keeps results the same whatever the threads.
const NEWCOMER_SHARDS: usize = 16;

/// How many referrals ahead the market asks for the adoption bits a referral will read.
const REFERRALS_AHEAD: usize = 8;

/// Which shards are this process's, and where newcomers go.
#[derive(Clone, Copy)]
struct Layout {
    rank: usize,
    size: usize,
    /// Initial twins.
    initial: usize,
    /// Shards in all processes: blocks of [`SHARD_SIZE`] initial twins, at least one.
    shards: usize,
}

impl Layout {
    /// Global number of local shard `j`.
    fn global(&self, j: usize) -> usize {
        j * self.size + self.rank
    }

    /// Shards in all processes that newcomers join: the first [`NEWCOMER_SHARDS`].
    fn newcomer_shards(&self) -> usize {
        self.shards.min(NEWCOMER_SHARDS)
    }

    /// Local shards that newcomers join: the first so many of this process's.
    fn local_newcomer_shards(&self) -> usize {
        self.newcomer_shards()
            .saturating_sub(self.rank)
            .div_ceil(self.size)
    }

    /// Which of the newcomer shards (in all processes) newcomer `id` joins: newcomers are
    /// dealt round robin over them, so that each day's few spread over them (and the cores).
    /// Its local number, if the shard is this process's, is [`Layout::local`] of it.
    fn newcomer_turn(&self, id: u64) -> usize {
        ((id - self.initial as u64) % self.newcomer_shards() as u64) as usize
    }

    /// Local number of global shard `k`, if it is this process's.
    #[inline]
    fn local(&self, k: usize) -> Option<usize> {
        // Alone, without the two divisions: the market asks for every newcomer.
        if self.size == 1 {
            return Some(k);
        }
        (k % self.size == self.rank).then_some(k / self.size)
    }
}

/// What every day's synchronisation needs besides the shards.
struct Env<'p, 's> {
    prep: &'p Prepared<'s>,
    seed: u64,
    rep: u32,
    layout: Layout,
    cluster: &'p dyn Cluster,
}

/// The market's side of an arm (or of the shared history): prospects, ids handed out so far,
/// its own costs, and buffers reused from day to day.
#[derive(Clone)]
struct Exchange {
    market: Market,
    next_id: u64,
    /// Referral rewards and marketing costs, which belong to no shard.
    series: Series,
    referrals: Vec<Referral>,
    won: Vec<(u32, bool)>,
    external: Vec<u32>,
    /// Today's newcomers of each local shard: (id, node, referred).
    arrivals: Vec<Vec<(u32, u32, bool)>>,
}

impl Exchange {
    /// Today's referrals of every shard of every process, in shard order, into `referrals`.
    fn gather<B>(
        &mut self,
        blocks: &mut [B],
        books: &impl Fn(&mut B) -> &mut Books,
        day: u32,
        env: &Env,
    ) {
        self.referrals.clear();
        if env.layout.size == 1 {
            for b in blocks.iter_mut() {
                books(b).take_referrals(day, &mut self.referrals);
            }
            return;
        }
        let (mut mine, mut day_refs) = (Vec::new(), Vec::new());
        for (j, b) in blocks.iter_mut().enumerate() {
            day_refs.clear();
            books(b).take_referrals(day, &mut day_refs);
            if !day_refs.is_empty() {
                put_record(&mut mine, env.layout.global(j), |o| {
                    o.extend(day_refs.iter().flat_map(|r| [r.node as f64, r.reward]));
                });
            }
        }
        for (_, rec) in gather_by_key(env.cluster, &mine) {
            self.referrals.extend(rec.chunks_exact(2).map(|r| Referral {
                node: r[0] as u32,
                reward: r[1],
            }));
        }
    }

    /// The end of `day`: referrals in shard order, then external adopters; the newcomers
    /// they bring are born the next day and dealt to their shards (this process's only).
    /// Every process runs the same market on the same referrals and random numbers, so all
    /// agree on who arrives.
    fn synchronise(&mut self, ctx: &Ctx, day: u32, env: &Env) {
        let mut mr = rng::stream(env.seed, env.rep as u64, MARKET_STREAM + day as u64);
        self.won.clear();
        for (k, r) in self.referrals.iter().enumerate() {
            if let Some(ahead) = self.referrals.get(k + REFERRALS_AHEAD) {
                self.market.prefetch_neighbours(ahead.node);
            }
            if let Some(node) = self
                .market
                .refer(r.node, ctx.b.referral_conversion, &mut mr)
            {
                self.won.push((node, true));
                self.series.days[day as usize][idx::INTERVENTION_COST] += r.reward;
            }
        }
        let (push, cost) = ctx.policy.marketing(day);
        self.series.days[day as usize][idx::INTERVENTION_COST] += cost;
        self.market.external(push, &mut mr, &mut self.external);
        self.won.extend(self.external.iter().map(|&n| (n, false)));
        self.arrivals.iter_mut().for_each(Vec::clear);
        if day + 1 >= ctx.horizon {
            return;
        }
        // The newcomer shards taken in turn, from the first newcomer's: a division for each
        // newcomer stood on the market's serial path.
        let turns = env.layout.newcomer_shards();
        let mut turn = env.layout.newcomer_turn(self.next_id);
        for &(node, referred) in &self.won {
            let id = self.next_id;
            self.next_id += 1;
            if let Some(j) = env.layout.local(turn) {
                self.arrivals[j].push((id as u32, node, referred));
            }
            turn = if turn + 1 == turns { 0 } else { turn + 1 };
        }
    }

    /// Runs the market on each of `days`: gathers the day's referrals from `books` of each
    /// block, and `welcome`s each newcomer into its block the day it is born (in parallel
    /// over blocks, in id order within one).
    fn run<B: Send>(
        &mut self,
        blocks: &mut [B],
        days: std::ops::Range<u32>,
        ctx: &Ctx,
        env: &Env,
        books: impl Fn(&mut B) -> &mut Books + Sync,
        welcome: impl Fn(&mut B, super::twin::Twin) + Sync,
    ) {
        for day in days {
            self.gather(blocks, &books, day, env);
            self.synchronise(ctx, day, env);
            let born = day + 1;
            let arrive = |(b, arrivals): (&mut B, &Vec<(u32, u32, bool)>)| {
                for &(id, node, referred) in arrivals {
                    let new = if referred {
                        idx::NEW_REFERRED
                    } else {
                        idx::NEW_EXTERNAL
                    };
                    books(b).day(born)[new] += 1.0;
                    let (p, s, r) = (env.prep, env.seed, env.rep);
                    let tw = newcomer(p, ctx, s, r, id, node, born, referred);
                    welcome(b, tw);
                }
            };
            // Only the shards newcomers join: split among the threads, the others were
            // whole tasks of nothing, and a thread that stole one sat idle.
            let joined = env.layout.local_newcomer_shards();
            let blocks = &mut blocks[..joined];
            // A day's few newcomers are not worth waking the other threads for; shards are
            // independent, so either way gives the same result.
            if self.arrivals.iter().map(Vec::len).sum::<usize>() < PARALLEL_ARRIVALS {
                blocks.iter_mut().zip(&self.arrivals).for_each(arrive);
            } else {
                blocks
                    .par_iter_mut()
                    .zip(&self.arrivals)
                    // One shard a job, as for the initial twins (see `replicate`).
                    .with_max_len(1)
                    .filter(|(_, a)| !a.is_empty())
                    .for_each(arrive);
            }
        }
    }
}

/// Both arms of replication `rep` under `ctxs` (baseline, scenario); this process's part of
/// it, with every process getting the whole result.
pub fn replicate(
    prep: &Prepared,
    ctxs: [&Ctx; 2],
    seed: u64,
    rep: u32,
    cluster: &dyn Cluster,
) -> [Replication; 2] {
    let [base, scen] = ctxs;
    let horizon = base.horizon;
    let fork = scen.policy.first_switch().min(horizon);
    let forked = fork < horizon;
    let initial = prep.initial();
    let layout = Layout {
        rank: cluster.rank(),
        size: cluster.size(),
        initial,
        shards: initial.div_ceil(SHARD_SIZE).max(1),
    };
    let env = Env {
        prep,
        seed,
        rep,
        layout,
        cluster,
    };
    let mut shards: Vec<Shard> = (layout.rank..layout.shards)
        .step_by(layout.size)
        .collect::<Vec<_>>()
        .into_par_iter()
        // One shard a job: left to itself rayon handed a thread a run of shards to live one
        // after another, which no idle thread could take a share of. At the end of this
        // phase (170-260 ms; reference, 1M twins, 2 threads) one thread then sat idle for a
        // median 14 ms (1-33 ms, 13 runs); one shard a job, 3 ms (0-6.5 ms, 14 runs).
        .with_max_len(1)
        .map(|k| {
            let mut sh = Shard::new(horizon, fork);
            let mut batch = Vec::with_capacity(SPAWN_BATCH);
            let ids = k * SHARD_SIZE..((k + 1) * SHARD_SIZE).min(initial);
            for first in ids.clone().step_by(SPAWN_BATCH) {
                let last = (first + SPAWN_BATCH).min(ids.end);
                batch.clear();
                batch.extend((first..last).map(|id| prep.initial_twin(base, seed, rep, id as u32)));
                batch.iter_mut().for_each(|tw| life::first_wait(tw, base));
                // Lived in id order, as before: the shard's accounts add up alike.
                for tw in &mut batch {
                    sh.live_joint(tw, ctxs, fork);
                }
            }
            sh
        })
        .collect();
    let mut shared = Exchange {
        market: Market::new(base.b.bass, base.b.network, initial as u64),
        next_id: initial as u64,
        series: Series::new(horizon as usize),
        referrals: Vec::new(),
        won: Vec::new(),
        external: Vec::new(),
        arrivals: vec![Vec::new(); layout.local_newcomer_shards()],
    };
    shared.run(
        &mut shards,
        0..fork,
        base,
        &env,
        |sh| &mut sh.shared,
        |sh, mut tw| sh.live_joint(&mut tw, ctxs, fork),
    );
    let mut arms = [None, None];
    if forked {
        let mut parted = [shared.clone(), shared.clone()];
        parted
            .iter_mut()
            .for_each(|x| x.series = Series::new(horizon as usize));
        let (mut a, mut b): (Vec<&mut Books>, Vec<&mut Books>) = shards
            .iter_mut()
            .map(|sh| {
                let [a, b] = sh.arms_mut().expect("forked shards hold both arms");
                (a, b)
            })
            .unzip();
        let [pa, pb] = &mut parted;
        let arm = |x: &mut Exchange, books: &mut [&mut Books], ctx: &Ctx| {
            x.run(
                books,
                fork..horizon,
                ctx,
                &env,
                |b| &mut **b,
                |b, mut tw| live_alone(b, &mut tw, ctx),
            );
        };
        if layout.size == 1 {
            rayon::join(|| arm(pa, &mut a, base), || arm(pb, &mut b, scen));
        } else {
            // Every exchange is a collective call: one arm after the other on every process.
            arm(pa, &mut a, base);
            arm(pb, &mut b, scen);
        }
        arms = parted.map(Some);
    }
    finish(shards, &shared, arms, ctxs, fork, &env)
}

/// Closes the books and adds up every process's shards in shard order: an arm is the shared
/// history plus its own part, market first.
fn finish(
    mut shards: Vec<Shard>,
    shared: &Exchange,
    arms: [Option<Exchange>; 2],
    ctxs: [&Ctx; 2],
    fork: u32,
    env: &Env,
) -> [Replication; 2] {
    shards.par_iter_mut().for_each(|sh| {
        sh.shared.finish();
        if let Some(arms) = sh.arms_mut() {
            arms.iter_mut().for_each(Books::finish);
        }
    });
    let known = env.prep.known();
    let forked = arms[0].is_some();
    let (horizon, fork) = (ctxs[0].horizon as usize, fork as usize);
    let mut out: [(Series, Vec<f32>, Vec<u16>); 2] = std::array::from_fn(|a| {
        let mut total = shared.series.clone();
        if let Some(x) = &arms[a] {
            total.add(&x.series);
        }
        (total, vec![0.0f32; known], vec![0u16; known])
    });
    // Arm a's known results; without a fork both arms have the baseline's.
    let pick = |a: usize| if forked { a } else { 0 };
    if env.layout.size == 1 {
        // The arms are added up side by side, each in shard order.
        out.par_iter_mut()
            .enumerate()
            .for_each(|(a, (total, clv, purchases))| {
                for (k, sh) in shards.iter().enumerate() {
                    total.add(&sh.shared.series);
                    if let Some(arms) = sh.arms() {
                        total.add_at(&arms[a].series, arms[a].first() as usize);
                    }
                    for (i, &(c, p)) in sh.known[pick(a)].iter().enumerate() {
                        (clv[k * SHARD_SIZE + i], purchases[k * SHARD_SIZE + i]) = (c, p);
                    }
                }
            });
    } else {
        let mut mine = Vec::new();
        for (j, sh) in shards.iter().enumerate() {
            put_record(&mut mine, env.layout.global(j), |o| {
                sh.shared.series.flatten_into(o);
                if let Some(arms) = sh.arms() {
                    arms.iter().for_each(|b| b.series.flatten_into(o));
                }
                for a in 0..2 {
                    o.extend(
                        sh.known[pick(a)]
                            .iter()
                            .flat_map(|&(c, p)| [c as f64, p as f64]),
                    );
                }
            });
        }
        for (k, rec) in gather_by_key(env.cluster, &mine) {
            let bad = "every process flattens the same series shape";
            let [(t0, c0, p0), (t1, c1, p1)] = &mut out;
            // Shared days first (up to the fork, see `Shard::new`), then each arm's from it.
            let shared = 0..if forked { fork + 1 } else { horizon };
            t1.add_flat_at(&rec, shared.clone()).expect(bad);
            let mut rest = t0.add_flat_at(&rec, shared).expect(bad);
            if forked {
                let after = t0.add_flat_at(rest, fork..horizon).expect(bad);
                rest = t1.add_flat_at(after, fork..horizon).expect(bad);
            }
            let n = rest.len() / 4;
            for ((clv, purchases), part) in [(c0, p0), (c1, p1)]
                .into_iter()
                .zip(rest.chunks_exact(2 * n.max(1)))
            {
                for (i, r) in part.chunks_exact(2).enumerate() {
                    (clv[k * SHARD_SIZE + i], purchases[k * SHARD_SIZE + i]) =
                        (r[0] as f32, r[1] as u16);
                }
            }
        }
    }
    let mut a = 0;
    out.map(|(mut series, clv, purchases)| {
        let ctx = ctxs[a];
        let twins = arms[a].as_ref().map_or(shared.next_id, |x| x.next_id);
        let market_draws = arms[a]
            .as_ref()
            .map_or(shared.market.draws, |x| x.market.draws);
        a += 1;
        series.clv_bin_width = ctx.clv_bin_width;
        series.margin_rate = ctx.b.margin;
        series.finish();
        let events = series
            .days
            .iter()
            .map(|d| (d[idx::PURCHASES] + d[idx::CHURNED]) as u64)
            .sum();
        Replication {
            series,
            events,
            twins,
            shared_twins: shared.next_id,
            market_draws,
            shared_market_draws: shared.market.draws,
            clv,
            purchases,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the number of processes, every newcomer joins exactly one shard, among the
    /// first [`NEWCOMER_SHARDS`] and within its process's newcomer shards, dealt round robin.
    #[test]
    fn every_newcomer_joins_one_of_the_first_shards() {
        for shards in [1, 5, 64, 65, 611] {
            let initial = shards * SHARD_SIZE - 7;
            for size in 1..=4 {
                let layouts: Vec<Layout> = (0..size)
                    .map(|rank| Layout {
                        rank,
                        size,
                        initial,
                        shards,
                    })
                    .collect();
                let total: usize = layouts.iter().map(Layout::local_newcomer_shards).sum();
                assert_eq!(
                    total,
                    shards.min(NEWCOMER_SHARDS),
                    "{shards} shards, {size}"
                );
                for id in initial as u64..initial as u64 + 1000 {
                    let joins: Vec<usize> = layouts
                        .iter()
                        .filter_map(|l| {
                            let j = l.local(l.newcomer_turn(id))?;
                            assert!(j < l.local_newcomer_shards());
                            Some(l.global(j))
                        })
                        .collect();
                    let expected = (id - initial as u64) as usize % shards.min(NEWCOMER_SHARDS);
                    assert_eq!(joins, [expected], "{shards} shards, {size} processes");
                    // The market takes the shards in turn from one newcomer to the next.
                    let l = &layouts[0];
                    let turn = l.newcomer_turn(id) + 1;
                    let next = if turn == l.newcomer_shards() { 0 } else { turn };
                    assert_eq!(l.newcomer_turn(id + 1), next);
                }
            }
        }
    }
}
