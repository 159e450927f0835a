//! Measuring the engine: how fast twins spawn, what an event costs, and what drawing the same
//! random numbers costs in a bare loop, so that the engine's overhead over its random numbers
//! is one ratio from one run on one machine.

use std::hint::black_box;
use std::time::Instant;

use rand::RngExt;
use rand_distr::{Distribution, Exp1};
use rayon::prelude::*;

use super::ctx::context;
use super::policy::Policy;
use super::spawn::{Prepared, Priors};
use super::twin::Twin;
use super::{RunOptions, rng};
use crate::error::{Error, Result};
use crate::population::behaviour::Behaviour;
use crate::population::sampling::Gamma;
use crate::scenario::Scenario;

/// One workload measured at one size.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Initial twins.
    pub twins: u64,
    /// Twins spawned by the run: initial ones and every newcomer, those that joined before
    /// the arms parted counted once.
    pub spawned: u64,
    /// Worker threads.
    pub threads: usize,
    /// Events simulated (the history both arms share counted once).
    pub events: u64,
    /// Wall time of the whole run, both arms, in seconds (median of the repeats).
    pub run_seconds: f64,
    /// Wall time of spawning the initial twins once, in seconds (median of the repeats).
    pub spawn_seconds: f64,
    /// Wall time of the bare loop drawing the run's random numbers, in seconds (median).
    pub bare_seconds: f64,
    /// Wall time of the bare loop's twins' part alone (each twin's stream and traits), in
    /// seconds (median).
    pub bare_twin_seconds: f64,
    /// Median over the repeats of each repeat's run time over its bare loop's time: the two
    /// are timed one right after the other, so a slow spell of a shared machine moves both.
    pub paired_ratio: f64,
    /// The lowest and highest of the paired ratios: how far one repeat can stray on this
    /// machine (a shared VM moves a single ratio by ±0.1 or more).
    pub ratio_range: (f64, f64),
    /// Bytes of one twin's state while it is lived (twins are not kept once lived).
    pub twin_bytes: usize,
    /// Peak resident memory of the process so far (Linux), in bytes.
    pub peak_rss: Option<u64>,
}

impl Measurement {
    /// Events per second of wall time, whole run (spawning included).
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.run_seconds.max(1e-12)
    }
    /// Wall nanoseconds per event, whole run (spawning included; all threads at work).
    pub fn ns_per_event(&self) -> f64 {
        1e9 * self.run_seconds / self.events.max(1) as f64
    }
    /// Wall nanoseconds per event of the bare loop drawing the run's random numbers.
    pub fn bare_ns_per_event(&self) -> f64 {
        1e9 * self.bare_seconds / self.events.max(1) as f64
    }
    /// Cost of the run over the cost of its random numbers alone: the median of the paired
    /// per-repeat ratios (the ratio of the median times, `run_seconds / bare_seconds`, mixes
    /// repeats timed in different spells).
    pub fn ratio(&self) -> f64 {
        self.paired_ratio
    }
    /// Spawning alone (timed for the initial twins) scaled to every twin the run spawned, in
    /// seconds: what the bare loop's twins' part draws the numbers of.
    fn spawning_seconds(&self) -> f64 {
        self.spawn_seconds * self.spawned as f64 / self.twins.max(1) as f64
    }
    /// Where the ratio comes from, roughly: spawning alone over drawing the same twins'
    /// numbers.
    pub fn spawn_over_draws(&self) -> f64 {
        self.spawning_seconds() / self.bare_twin_seconds.max(1e-12)
    }
    /// Where the ratio comes from, roughly: the rest of a run (its time less spawning) over
    /// the bare loop's events' part. Medians of separate timings: a guide to where the time
    /// goes, not a measurement of it.
    pub fn lives_over_draws(&self) -> f64 {
        let events = self.bare_seconds - self.bare_twin_seconds;
        (self.run_seconds - self.spawning_seconds()) / events.max(1e-12)
    }
    /// Twins spawned per second of wall time.
    pub fn twins_per_second(&self) -> f64 {
        self.twins as f64 / self.spawn_seconds.max(1e-12)
    }
    /// CPU nanoseconds to spawn one twin (wall time × threads / twins).
    pub fn ns_per_twin(&self) -> f64 {
        1e9 * self.spawn_seconds * self.threads as f64 / self.twins.max(1) as f64
    }
    /// Peak resident memory of the whole process per twin spawned, in bytes.
    pub fn resident_bytes_per_twin(&self) -> Option<f64> {
        self.peak_rss.map(|b| b as f64 / self.spawned.max(1) as f64)
    }
}

/// Runs `s` (one replication, both arms), spawning alone and the bare loop on `threads`
/// threads, `repeat` times each, interleaved (each run next to its bare loop, in turns first),
/// and keeps the median times and the median of the paired ratios: on a shared machine one
/// slow moment then moves neither.
pub fn measure(s: &Scenario, threads: Option<usize>, repeat: usize) -> Result<Measurement> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start worker threads: {e}")))?;
    let opts = RunOptions {
        replications: Some(1),
        seed: None,
        threads,
    };
    let policy = Policy::new(&s.behaviour, &[], s.horizon_days);
    let scenario = Policy::new(&s.behaviour, &s.interventions, s.horizon_days);
    let prep = Prepared::new(s, &scenario);
    let ctx = context(s, &s.behaviour, &policy);
    let timed = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64()
    };
    reset_peak_rss();
    let (mut runs, mut spawns, mut bares) = (Vec::new(), Vec::new(), Vec::new());
    let mut bare_twin_parts = Vec::new();
    let time_run = || -> Result<(f64, super::RunResult)> {
        let t = Instant::now();
        let r = super::run_in(&pool, s, &opts, &super::cluster::Solo, |_, _| {})?;
        Ok((t.elapsed().as_secs_f64(), r))
    };
    // The bare loop's two parts timed one after the other: together they are the bare loop.
    let time_bare = |res: &super::RunResult| {
        let draws = Draws::of(res, s, prep.initial() as u64);
        let twins = timed(&mut || {
            pool.install(|| black_box(bare_twins(&s.behaviour, &draws)));
        });
        let events = timed(&mut || {
            pool.install(|| black_box(bare_events(&s.behaviour, &draws)));
        });
        (twins, events)
    };
    let mut res: Option<super::RunResult> = None;
    for i in 0..repeat.max(1) {
        // A run and its bare loop back to back, in turns first, so that a machine speeding up
        // or slowing down over the pair tips the paired ratios both ways (every run draws the
        // same numbers: the previous run's counts serve a bare loop timed first).
        let ((t, r), (twin_part, event_part)) = match &res {
            Some(last) if i % 2 == 1 => {
                let bare = time_bare(last);
                (time_run()?, bare)
            }
            _ => {
                let run = time_run()?;
                let bare = time_bare(&run.1);
                (run, bare)
            }
        };
        bares.push(twin_part + event_part);
        bare_twin_parts.push(twin_part);
        runs.push(t);
        res = Some(r);
        // Spawning alone: each initial twin drawn and built, ready to live (its wait to a
        // first event is drawn by its life, from the rates that works out anyway).
        spawns.push(timed(&mut || {
            pool.install(|| {
                (0..prep.initial() as u32).into_par_iter().for_each(|id| {
                    black_box(prep.initial_twin(&ctx, s.seed, 0, id));
                })
            })
        }));
    }
    let res = res.expect("at least one run");
    let mut paired: Vec<f64> = runs
        .iter()
        .zip(&bares)
        .map(|(r, b)| r / b.max(1e-12))
        .collect();
    // `median` sorts the ratios: the range is their ends.
    let paired_ratio = median(&mut paired);
    Ok(Measurement {
        paired_ratio,
        ratio_range: (paired[0], paired[paired.len() - 1]),
        twins: prep.initial() as u64,
        spawned: res.simulated_twins,
        threads: pool.current_num_threads(),
        events: res.simulated_events,
        run_seconds: median(&mut runs),
        spawn_seconds: median(&mut spawns),
        bare_seconds: median(&mut bares),
        bare_twin_seconds: median(&mut bare_twin_parts),
        twin_bytes: std::mem::size_of::<Twin>(),
        peak_rss: peak_rss(),
    })
}

/// The median of `v` (not empty).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The random numbers a run drew, counted from its results (what the engine draws is fixed
/// by its code: see [`Draws::of`]), for the bare loop to draw the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draws {
    /// Twins spawned: a stream each, and its traits (see [`Priors::draw_only`]).
    pub twins: u64,
    /// Exponential waits to a next event.
    pub waits: u64,
    /// Purchases: a channel uniform, a Gamma spend amount and six uniforms each.
    pub purchases: u64,
    /// Single uniforms besides: a newcomer's moment of arrival on its first day, and each
    /// Pareto/NBD event's choice between purchase and dropout.
    pub uniforms: u64,
    /// The market's numbers: referral targets and conversions, external adopters' probes
    /// (drawn as integers below a bound) and each day's binomial count of them (as one).
    pub market: u64,
}

impl Draws {
    /// What run `r` of scenario `s` (with `initial` twins at the start of each replication)
    /// drew, from its counts: every twin spawned draws its stream and traits; one alive then
    /// draws its wait to a first event, or, a newcomer buying on arrival, the moment of it;
    /// every purchase draws its eight numbers and a wait (BG/NBD draws the wait first, even
    /// for a purchase the twin drops out at); every Pareto/NBD event but a first purchase on
    /// arrival draws its choice.
    /// Exact for BG/NBD (checked against counters in the engine: on every bundled scenario,
    /// and again on both workloads once BG/NBD drew its waits first);
    /// for Pareto/NBD a newcomer born the day the arms part makes its first purchase in both
    /// and is counted one choice too many (47 of 184,546 in one check). The market counts
    /// its own; a binomial count, a few numbers, counts as one (the bare loop is the
    /// cheaper for it, the ratio larger).
    pub fn of(r: &super::RunResult, s: &Scenario, initial: u64) -> Draws {
        let b = &s.behaviour;
        let pareto = matches!(
            b.purchase,
            crate::fit::purchase::PurchaseModel::ParetoNbd(_)
        );
        let arrive = b.newcomers_buy_on_arrival;
        let newcomers = r
            .simulated_twins
            .saturating_sub(initial * r.replications as u64);
        let alive_initial: u64 = r.baseline.series.iter().map(|x| x.initial as u64).sum();
        let purchases = r.simulated_purchases;
        let dropouts = r.simulated_events - purchases;
        let first_waits = alive_initial + if arrive { 0 } else { newcomers };
        let arrivals = if arrive { newcomers } else { 0 };
        Draws {
            twins: r.simulated_twins,
            waits: first_waits + purchases,
            purchases,
            uniforms: arrivals
                + if pareto {
                    (purchases + dropouts).saturating_sub(arrivals)
                } else {
                    0
                },
            market: r.simulated_market_draws,
        }
    }
}

/// Blocks the bare loop splits its draws into, so that threads share them evenly.
const BLOCKS: u64 = 256;

/// Block `k`'s share of `total` draws: the first `total % BLOCKS` blocks take one more.
fn share(total: u64, k: u64) -> u64 {
    total / BLOCKS + u64::from(k < total % BLOCKS)
}

/// The bare loop's blocks, numbered, one rayon job each, as the run's shards (see
/// `world::replicate`): no thread is left with a run of blocks the others cannot share.
fn blocks() -> impl ParallelIterator<Item = u64> {
    (0..BLOCKS as u32)
        .into_par_iter()
        .with_max_len(1)
        .map(u64::from)
}

/// Draws `d`'s random numbers and nothing else, in parallel on the engine's generator: the
/// twins' ([`bare_twins`]), then the events' and the market's ([`bare_events`]). Returns a sum
/// so nothing is optimised away.
pub fn bare_loop(b: &Behaviour, d: &Draws) -> f64 {
    bare_twins(b, d) + bare_events(b, d)
}

/// The twins' part of the bare loop: each twin's stream and what spawning it draws (see
/// [`Priors::draw_only`]).
pub fn bare_twins(b: &Behaviour, d: &Draws) -> f64 {
    let priors = Priors::new(b);
    blocks()
        .map(|k| {
            let first = k * (d.twins / BLOCKS) + k.min(d.twins % BLOCKS);
            (first..first + share(d.twins, k))
                .map(|id| priors.draw_only(b, &mut rng::stream(0, 0, id)))
                .sum::<f64>()
        })
        .sum()
}

/// The events' part of the bare loop: the waits, the purchases' numbers, the single uniforms
/// and the market's numbers, each in one loop.
pub fn bare_events(b: &Behaviour, d: &Draws) -> f64 {
    let spend = Gamma::new(b.spend.p, 1.0).unwrap_or(Gamma::new(1.0, 1.0).expect("valid"));
    blocks()
        .map(|k| {
            let mut acc = 0.0;
            let mut r = rng::stream(1, 0, k);
            for _ in 0..share(d.waits, k) {
                let e: f64 = r.sample(Exp1);
                acc += e;
            }
            for _ in 0..share(d.purchases, k) {
                acc += r.random::<f64>();
                acc += spend.sample(&mut r);
                for _ in 0..6 {
                    acc += r.random::<f64>();
                }
            }
            for _ in 0..share(d.uniforms, k) {
                acc += r.random::<f64>();
            }
            // Bounded like an adopter's probe among tens of millions of prospects.
            for _ in 0..share(d.market, k) {
                acc += r.random_range(0..30_000_001u64) as f64;
            }
            acc
        })
        .sum()
}

/// Starts the peak resident memory afresh (Linux: writing 5 to `clear_refs`), so that each
/// measurement reports its own peak; where the system does not allow it, the peak stays the
/// process's so far.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory of this process (`VmHWM`), where the system tells it.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A measurement of a small reference run: the ratio is one of the paired ratios' median,
    /// within their range; the run's counts and the twin's size are the engine's.
    #[test]
    fn a_measurement_holds_together() {
        let mut s = crate::scenario::load_str(
            include_str!("../../scenarios/reference-model.toml"),
            std::path::Path::new("reference"),
        )
        .unwrap();
        s.source = crate::scenario::Source::Inline { customers: 3000 };
        let m = measure(&s, Some(1), 3).unwrap();
        let (lo, hi) = m.ratio_range;
        assert!(lo > 0.0 && lo <= m.ratio() && m.ratio() <= hi, "{m:?}");
        assert!(hi.is_finite(), "{m:?}");
        // Both parts of the bare loop take time, and so do spawning and living.
        assert!(
            0.0 < m.bare_twin_seconds && m.bare_twin_seconds < m.bare_seconds,
            "{m:?}"
        );
        for part in [m.spawn_over_draws(), m.lives_over_draws()] {
            assert!(part.is_finite() && part > 0.0, "{m:?}");
        }
        assert_eq!(m.twins, 3000);
        assert!(m.spawned >= m.twins && m.events > 0, "{m:?}");
        assert!(m.twin_bytes <= 128);
    }
}
