//! The simulation engine: spawns twins, runs baseline and scenario arms side by side with common
//! random numbers over replications, one seed ⇒ identical results whatever the thread count.
//!
//! A twin's life depends on no other twin, so each shard lives its twins through the horizon
//! one after another, shards in parallel; then the market runs day by day, serially, turning
//! each day's referrals (in shard order) into newcomers, who are lived the day they arrive.
//! Both arms share their history up to the scenario's first intervention; there each twin is
//! copied and lives on under each arm's policy.

pub mod bench;
pub mod books;
pub mod cluster;
pub mod ctx;
pub mod hint;
pub mod life;
pub mod market;
pub mod policy;
pub mod referrals;
pub mod rng;
pub mod shard;
pub mod spawn;
pub mod twin;
pub mod world;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::fit::purchase::PurchaseModel;
use crate::metrics::{self, Series, idx};
use crate::population::behaviour::Behaviour;
use crate::scenario::Scenario;
use cluster::Cluster;
use ctx::context;
use policy::Policy;
use spawn::Prepared;

/// Stream numbers above every twin id: the market's daily streams and parameter draws.
const MARKET_STREAM: u64 = 1 << 48;
const PARAMETER_STREAM: u64 = 1 << 47;

/// One arm's results over all replications.
#[derive(Debug, Clone)]
pub struct ArmResult {
    /// Per replication.
    pub series: Vec<Series>,
    /// Per known customer: discounted revenue over the horizon, summed over replications.
    pub clv_known: Vec<f64>,
    /// Per known customer: purchases over the horizon, summed over replications.
    pub purchases_known: Vec<f64>,
}

/// One replication of one arm.
#[derive(Clone)]
pub struct Replication {
    /// Its metrics.
    pub series: Series,
    /// Purchases and dropouts it holds.
    pub events: u64,
    /// Twins, initial and newcomers.
    pub twins: u64,
    /// Of them, those that joined before the arms parted (the same twins in both arms).
    pub shared_twins: u64,
    /// Random numbers the market drew for this arm, those before the arms parted included.
    pub market_draws: u64,
    /// Of them, those drawn before the arms parted (the same in both arms).
    pub shared_market_draws: u64,
    /// Per known customer: discounted revenue.
    pub clv: Vec<f32>,
    /// Per known customer: purchases.
    pub purchases: Vec<u16>,
}

impl Replication {
    /// Appends everything in it to `out`, for sending to another process.
    fn flatten_into(&self, out: &mut Vec<f64>) {
        let s = &self.series;
        out.extend([
            self.events as f64,
            self.twins as f64,
            self.shared_twins as f64,
            self.market_draws as f64,
            self.shared_market_draws as f64,
            s.margin_rate,
            s.clv_bin_width,
        ]);
        s.flatten_into(out);
        out.extend(self.clv.iter().map(|&c| c as f64));
        out.extend(self.purchases.iter().map(|&p| p as f64));
    }

    /// Reads one back (`horizon` days, `known` customers) from the start of `flat`.
    fn from_flat(horizon: usize, known: usize, flat: &[f64]) -> Option<(Replication, &[f64])> {
        let (head, flat) = flat.split_at_checked(7)?;
        let (mut series, flat) = Series::from_flat(horizon, flat)?;
        (series.margin_rate, series.clv_bin_width) = (head[5], head[6]);
        let (clv, flat) = flat.split_at_checked(known)?;
        let (purchases, rest) = flat.split_at_checked(known)?;
        let r = Replication {
            series,
            events: head[0] as u64,
            twins: head[1] as u64,
            shared_twins: head[2] as u64,
            market_draws: head[3] as u64,
            shared_market_draws: head[4] as u64,
            clv: clv.iter().map(|&c| c as f32).collect(),
            purchases: purchases.iter().map(|&p| p as u16).collect(),
        };
        Some((r, rest))
    }
}

/// Both arms.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Unchanged world.
    pub baseline: ArmResult,
    /// With the interventions.
    pub scenario: ArmResult,
    /// Channel names (new channels included).
    pub channels: Vec<String>,
    /// Keys of the known customers (empty with inline priors).
    pub keys: Vec<String>,
    /// Replications run.
    pub replications: u32,
    /// Events (purchases and dropouts) in both arms' results.
    pub events: u64,
    /// Events actually simulated: the history both arms share before the scenario's first
    /// intervention counts once.
    pub simulated_events: u64,
    /// Of them, purchases (the rest are dropouts).
    pub simulated_purchases: u64,
    /// Most twins (initial plus newcomers) in any one arm and replication.
    pub max_twins: u64,
    /// Twins actually spawned: those that joined before the arms parted count once.
    pub simulated_twins: u64,
    /// Random numbers the market actually drew (referral targets and conversions, external
    /// adopters), those before the arms parted counted once.
    pub simulated_market_draws: u64,
}

impl RunResult {
    /// Appends its numbers to `out`, for sending to another process (which knows the
    /// scenario, so the names are not sent).
    fn flatten_into(&self, out: &mut Vec<f64>) {
        out.extend([
            self.replications as f64,
            self.events as f64,
            self.simulated_events as f64,
            self.simulated_purchases as f64,
            self.max_twins as f64,
            self.simulated_twins as f64,
            self.simulated_market_draws as f64,
        ]);
        for arm in [&self.baseline, &self.scenario] {
            for s in &arm.series {
                out.extend([s.margin_rate, s.clv_bin_width]);
                s.flatten_into(out);
            }
            out.extend(&arm.clv_known);
            out.extend(&arm.purchases_known);
        }
    }

    /// Reads back a run of scenario `s` flattened by [`RunResult::flatten_into`].
    fn from_flat(s: &Scenario, flat: &[f64]) -> Option<RunResult> {
        let (head, mut rest) = flat.split_at_checked(7)?;
        let keys: Vec<String> = s.source.persons().iter().map(|p| p.key.clone()).collect();
        let mut arm = || -> Option<ArmResult> {
            let mut series = Vec::new();
            for _ in 0..head[0] as usize {
                let (m, tail) = rest.split_at_checked(2)?;
                let (mut x, tail) = Series::from_flat(s.horizon_days as usize, tail)?;
                (x.margin_rate, x.clv_bin_width) = (m[0], m[1]);
                series.push(x);
                rest = tail;
            }
            let (clv, tail) = rest.split_at_checked(keys.len())?;
            let (purchases, tail) = tail.split_at_checked(keys.len())?;
            rest = tail;
            Some(ArmResult {
                series,
                clv_known: clv.to_vec(),
                purchases_known: purchases.to_vec(),
            })
        };
        let (baseline, scenario) = (arm()?, arm()?);
        Some(RunResult {
            baseline,
            scenario,
            channels: crate::scenario::channel_names(&s.behaviour, &s.interventions),
            keys,
            replications: head[0] as u32,
            events: head[1] as u64,
            simulated_events: head[2] as u64,
            simulated_purchases: head[3] as u64,
            max_twins: head[4] as u64,
            simulated_twins: head[5] as u64,
            simulated_market_draws: head[6] as u64,
        })
    }
}

/// Run options beyond the scenario file.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Override of the scenario's replications.
    pub replications: Option<u32>,
    /// Override of the seed.
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
}

/// Runs a scenario in this process; `progress(replication)` is called after each replication.
pub fn run(s: &Scenario, opts: &RunOptions, progress: impl FnMut(u32, u32)) -> Result<RunResult> {
    run_on(s, opts, &cluster::Solo, progress)
}

/// Runs a scenario split over the processes of `cluster` (every process calls it and gets the
/// same result, the single-process result bit for bit).
pub fn run_on(
    s: &Scenario,
    opts: &RunOptions,
    cluster: &dyn Cluster,
    progress: impl FnMut(u32, u32),
) -> Result<RunResult> {
    run_in(&pool(opts)?, s, opts, cluster, progress)
}

/// The worker threads `opts` asks for.
fn pool(opts: &RunOptions) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start worker threads: {e}")))
}

/// Fewest initial twins for which one replication's shards fill the cores; below it,
/// replications (and sweep points) run side by side instead.
const FEW_TWINS: usize = 50_000;

/// Runs every point of a sweep in this process or split over `cluster`, in point order;
/// `progress(points done, points)` is called as points finish. With few twins per point the
/// points run side by side, each on its own (over several processes, point k on process
/// k mod size, all exchanged at the end); otherwise one after another, each with its shards
/// spread over the cores and processes. Every point is the run of its own scenario, whatever
/// the order, the threads or the processes.
pub fn run_sweep(
    sw: &crate::scenario::sweep::Sweep,
    opts: &RunOptions,
    cluster: &dyn Cluster,
    progress: impl FnMut(u32, u32) + Send,
) -> Result<Vec<RunResult>> {
    let pool = pool(opts)?;
    let total = sw.points.len() as u32;
    let few = sw
        .points
        .iter()
        .all(|p| (p.scenario.source.initial() as usize) < FEW_TWINS);
    if cluster.size() == 1 && few {
        let progress = std::sync::Mutex::new((0, progress));
        return pool.install(|| {
            sw.points
                .par_iter()
                // One point a job (see `world::replicate`).
                .with_max_len(1)
                .map(|p| {
                    let r = run_in(&pool, &p.scenario, opts, cluster, |_, _| {});
                    let mut g = progress.lock().unwrap_or_else(|e| e.into_inner());
                    g.0 += 1;
                    let done = g.0;
                    (g.1)(done, total);
                    r
                })
                .collect()
        });
    }
    let mut progress = progress;
    if cluster.size() > 1 && few {
        // Points shared out: point k on process k mod size, computed whole, all exchanged.
        let mine: Vec<usize> = (cluster.rank()..sw.points.len())
            .step_by(cluster.size())
            .collect();
        let done: Vec<(usize, RunResult)> = pool.install(|| {
            mine.par_iter()
                .with_max_len(1)
                .map(|&k| {
                    run_in(
                        &pool,
                        &sw.points[k].scenario,
                        opts,
                        &cluster::Solo,
                        |_, _| {},
                    )
                    .map(|r| (k, r))
                })
                .collect::<Result<_>>()
        })?;
        let mut flat = Vec::new();
        for (k, r) in &done {
            cluster::put_record(&mut flat, *k, |o| r.flatten_into(o));
        }
        let out: Vec<RunResult> = cluster::gather_by_key(cluster, &flat)
            .into_iter()
            .map(|(k, rec)| {
                RunResult::from_flat(&sw.points[k].scenario, &rec)
                    .expect("every process flattens runs alike")
            })
            .collect();
        progress(total, total);
        return Ok(out);
    }
    let mut out = Vec::with_capacity(sw.points.len());
    for (k, p) in sw.points.iter().enumerate() {
        out.push(run_in(&pool, &p.scenario, opts, cluster, |_, _| {})?);
        progress(k as u32 + 1, total);
    }
    Ok(out)
}

/// [`run_on`] on the threads of `pool`.
fn run_in(
    pool: &rayon::ThreadPool,
    s: &Scenario,
    opts: &RunOptions,
    cluster: &dyn Cluster,
    mut progress: impl FnMut(u32, u32),
) -> Result<RunResult> {
    let reps = opts.replications.unwrap_or(s.replications);
    let seed = opts.seed.unwrap_or(s.seed);
    let scenario_policy = Policy::new(&s.behaviour, &s.interventions, s.horizon_days);
    let prepared = Prepared::new(s, &scenario_policy);
    let baseline_policy = Policy::new(&s.behaviour, &[], s.horizon_days);
    let mut out = RunResult {
        baseline: ArmResult {
            series: Vec::new(),
            clv_known: vec![0.0; prepared.known()],
            purchases_known: vec![0.0; prepared.known()],
        },
        scenario: ArmResult {
            series: Vec::new(),
            clv_known: vec![0.0; prepared.known()],
            purchases_known: vec![0.0; prepared.known()],
        },
        channels: scenario_policy.channels.clone(),
        keys: prepared.keys(),
        replications: reps,
        events: 0,
        simulated_events: 0,
        simulated_purchases: 0,
        max_twins: 0,
        simulated_twins: 0,
        simulated_market_draws: 0,
    };
    // Few twins per replication: run replications side by side — across processes too, each
    // computing its own (replication k on process k mod size) and all exchanging them at the
    // end; many: one at a time, with the shards of each in parallel (across processes, every
    // exchange is a collective call that all must make in the same order: one replication and
    // one arm at a time). Either way every replication is computed alone and added in order,
    // so the results are the same.
    let spread = cluster.size() > 1 && prepared.initial() < FEW_TWINS;
    let whole = cluster;
    let cluster: &dyn Cluster = if spread { &cluster::Solo } else { whole };
    let alone = cluster.size() == 1;
    let batch = if alone && prepared.initial() < FEW_TWINS {
        pool.current_num_threads().max(1) * 2
    } else {
        1
    };
    let fork = (scenario_policy.first_switch() as usize).min(s.horizon_days as usize);
    let mut rep = 0;
    while rep < reps {
        let upto = if spread {
            reps
        } else {
            (rep + batch as u32).min(reps)
        };
        let mine: Vec<u32> = (rep..upto)
            .filter(|&k| !spread || k as usize % whole.size() == whole.rank())
            .collect();
        let mut done: Vec<[Replication; 2]> = pool.install(|| {
            mine.into_par_iter()
                // One replication a job (see `world::replicate`).
                .with_max_len(1)
                .map(|k| {
                    let b = replication_behaviour(s, seed, k);
                    let arms = [&baseline_policy, &scenario_policy];
                    replicate(s, &prepared, &b, arms, (seed, k), cluster)
                })
                .collect()
        });
        if spread {
            done =
                exchange_replications(whole, done, rep, s.horizon_days as usize, prepared.known());
        }
        for pair in done {
            let shared = |col: &dyn Fn(&metrics::Day) -> f64| -> u64 {
                pair[0].series.days[..fork]
                    .iter()
                    .map(|d| col(d) as u64)
                    .sum()
            };
            let purchases = |r: &Replication| -> u64 {
                r.series.days.iter().map(|d| d[idx::PURCHASES] as u64).sum()
            };
            out.simulated_events +=
                pair[0].events + pair[1].events - shared(&|d| d[idx::PURCHASES] + d[idx::CHURNED]);
            out.simulated_purchases +=
                purchases(&pair[0]) + purchases(&pair[1]) - shared(&|d| d[idx::PURCHASES]);
            out.simulated_twins += pair[0].twins + pair[1].twins - pair[0].shared_twins;
            out.simulated_market_draws +=
                pair[0].market_draws + pair[1].market_draws - pair[0].shared_market_draws;
            for (r, arm) in pair.into_iter().zip([&mut out.baseline, &mut out.scenario]) {
                out.events += r.events;
                out.max_twins = out.max_twins.max(r.twins);
                for (acc, v) in arm.clv_known.iter_mut().zip(&r.clv) {
                    *acc += *v as f64;
                }
                for (acc, v) in arm.purchases_known.iter_mut().zip(&r.purchases) {
                    *acc += *v as f64;
                }
                arm.series.push(r.series);
            }
            rep += 1;
            progress(rep, reps);
        }
    }
    Ok(out)
}

/// The behaviour of one replication: with parameter uncertainty, the purchase and spend
/// parameters are drawn from the fit's sampling distribution (normal on the log scale).
fn replication_behaviour(s: &Scenario, seed: u64, rep: u32) -> Behaviour {
    let mut b = s.behaviour.clone();
    let crate::scenario::Source::Fitted(f) = &s.source else {
        return b;
    };
    if !s.parameter_uncertainty {
        return b;
    }
    let mut r = rng::stream(seed, rep as u64, PARAMETER_STREAM);
    let draw = |name: &str, r: &mut rng::TwinRng| -> Option<Vec<f64>> {
        let m = f.model.models.get(name)?;
        let k = m.params.len();
        let cov = nalgebra::DMatrix::from_fn(k, k, |i, j| {
            m.log_param_covariance
                .get(i)
                .and_then(|row| row.get(j))
                .copied()
                .unwrap_or(0.0)
        });
        let chol = cov.cholesky()?;
        let z = nalgebra::DVector::from_fn(k, |_, _| {
            rand_distr::Distribution::sample(&rand_distr::StandardNormal, r)
        });
        let dz = chol.l() * z;
        Some(
            m.values()
                .iter()
                .zip(dz.iter())
                .map(|(v, d)| (v.ln() + d).exp())
                .collect(),
        )
    };
    if let Some(v) = draw(&f.model.primary_model, &mut r) {
        b.purchase = match b.purchase {
            PurchaseModel::BgNbd(_) => crate::fit::bgnbd::BgNbd::from_slice(&v)
                .map(PurchaseModel::BgNbd)
                .unwrap_or(b.purchase),
            PurchaseModel::ParetoNbd(_) => crate::fit::pareto_nbd::ParetoNbd::from_slice(&v)
                .map(PurchaseModel::ParetoNbd)
                .unwrap_or(b.purchase),
        };
    }
    if let Some(v) = draw("gamma_gamma", &mut r) {
        b.spend = crate::fit::gamma_gamma::GammaGamma::from_slice(&v).unwrap_or(b.spend);
    }
    b
}

/// Every process's replications (process p holds those k ≡ p mod size, from `first` on, in
/// order), in replication order, on every process.
fn exchange_replications(
    cluster: &dyn Cluster,
    mine: Vec<[Replication; 2]>,
    first: u32,
    horizon: usize,
    known: usize,
) -> Vec<[Replication; 2]> {
    let mut flat = Vec::new();
    let size = cluster.size();
    for (j, pair) in mine.iter().enumerate() {
        let k = first as usize + j * size + cluster.rank();
        cluster::put_record(&mut flat, k, |o| {
            pair[0].flatten_into(o);
            pair[1].flatten_into(o);
        });
    }
    cluster::gather_by_key(cluster, &flat)
        .into_iter()
        .map(|(_, rec)| {
            let (a, rest) = Replication::from_flat(horizon, known, &rec)
                .expect("every process flattens replications alike");
            let (b, _) = Replication::from_flat(horizon, known, rest)
                .expect("every process flattens replications alike");
            [a, b]
        })
        .collect()
}

/// Both arms of replication `rep` with behaviour `b` under the two policies.
fn replicate(
    s: &Scenario,
    prep: &Prepared,
    b: &Behaviour,
    [baseline, scenario]: [&Policy; 2],
    (seed, rep): (u64, u32),
    cluster: &dyn Cluster,
) -> [Replication; 2] {
    let (base, scen) = (context(s, b, baseline), context(s, b, scenario));
    world::replicate(prep, [&base, &scen], seed, rep, cluster)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both arms are one world until the scenario's first intervention (day 40) and part
    /// after it; a run is the same whatever the thread count.
    #[test]
    fn arms_share_their_history_up_to_the_first_intervention() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            "name = \"fork\"\nhorizon_days = 120\nreplications = 1\nseed = 7\n\
             [population]\ncustomers = 40000\n[population.bgnbd]\nr = 0.5\nalpha = 4.0\na = 0.8\nb = 2.5\n\
             [population.channels]\nnames = [\"web\", \"store\"]\n\
             [population.acquisition]\nmarket_size = 80000\np = 0.01\nq = 0.2\n\
             [[intervention]]\nkind = \"price_change\"\npercent = -20\nchannel = \"web\"\nstart_day = 40\n\
             [[intervention]]\nkind = \"new_channel\"\nname = \"app\"\nattractiveness = 2\nstart_day = 70\n",
        )
        .unwrap();
        let s = crate::scenario::load(&path).unwrap();
        let b = s.behaviour.clone();
        let base = Policy::new(&b, &[], s.horizon_days);
        let scen = Policy::new(&b, &s.interventions, s.horizon_days);
        let prep = Prepared::new(&s, &scen);
        let solo = &cluster::Solo;
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| replicate(&s, &prep, &b, [&base, &scen], (7, 0), solo))
        };
        let [b1, s1] = on(1);
        let [b2, s2] = on(3);
        assert_eq!(b1.series.days, b2.series.days);
        assert_eq!(s1.series.days, s2.series.days);
        assert_eq!(s1.clv, s2.clv);
        assert_eq!(b1.series.days[..40], s1.series.days[..40]);
        assert_ne!(b1.series.days[40..], s1.series.days[40..]);
        assert!(b1.twins > 40_000 && s1.twins > 40_000, "newcomers arrive");
    }
}
