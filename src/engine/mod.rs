//! The simulation engine: spawns twins, runs baseline and scenario arms side by side with common
//! random numbers over replications, one seed ⇒ identical results whatever the thread count.
//!
//! Each day every shard advances in parallel through the events due that day; then, serially
//! and in shard order, referrals are resolved and newcomers placed (the synchronisation point).

pub mod market;
pub mod policy;
pub mod rng;
pub mod shard;
pub mod spawn;
pub mod twin;

use rand_distr::Gamma;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::fit::purchase::PurchaseModel;
use crate::metrics::{Series, idx};
use crate::population::behaviour::Behaviour;
use crate::scenario::Scenario;
use market::Market;
use policy::Policy;
use shard::{Ctx, SHARD_SIZE, Shard};
use spawn::{Prepared, newcomer};

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
struct Replication {
    series: Series,
    events: u64,
    twins: u64,
    clv: Vec<f32>,
    purchases: Vec<u16>,
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
    /// Events (purchases and dropouts) simulated, both arms.
    pub events: u64,
    /// Most twins (initial plus newcomers) in any one arm and replication.
    pub max_twins: u64,
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

/// Runs a scenario; `progress(replication)` is called after each replication.
pub fn run(
    s: &Scenario,
    opts: &RunOptions,
    mut progress: impl FnMut(u32, u32),
) -> Result<RunResult> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start worker threads: {e}")))?;
    let reps = opts.replications.unwrap_or(s.replications);
    let seed = opts.seed.unwrap_or(s.seed);
    let prepared = Prepared::new(s);
    let scenario_policy = Policy::new(&s.behaviour, &s.interventions, s.horizon_days);
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
        max_twins: 0,
    };
    // Few twins per replication: run replications side by side; many: one at a time, with the
    // shards of each in parallel. Either way every replication is computed alone and added in
    // order, so the results are the same.
    let batch = if prepared.initial() < 50_000 {
        pool.current_num_threads().max(1) * 2
    } else {
        1
    };
    let mut rep = 0;
    while rep < reps {
        let upto = (rep + batch as u32).min(reps);
        let done: Vec<[Replication; 2]> = pool.install(|| {
            (rep..upto)
                .into_par_iter()
                .map(|k| {
                    let b = replication_behaviour(s, seed, k);
                    [
                        simulate(s, &prepared, &b, &baseline_policy, seed, k),
                        simulate(s, &prepared, &b, &scenario_policy, seed, k),
                    ]
                })
                .collect()
        });
        for pair in done {
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

fn simulate(
    s: &Scenario,
    prep: &Prepared,
    b: &Behaviour,
    policy: &Policy,
    seed: u64,
    rep: u32,
) -> Replication {
    let horizon = s.horizon_days;
    let ctx = Ctx {
        b,
        policy,
        horizon,
        pareto: matches!(b.purchase, PurchaseModel::ParetoNbd(_)),
        discount_per_day: (1.0 + s.discount_rate).ln() / 365.0,
        spend_unit: Gamma::new(b.spend.p, 1.0).expect("validated spend shape"),
    };
    let n0 = prep.initial();
    let n_shards = n0.div_ceil(SHARD_SIZE).max(1);
    let mut shards: Vec<Shard> = (0..n_shards)
        .into_par_iter()
        .map(|k| {
            let mut sh = Shard::new(horizon);
            for id in k * SHARD_SIZE..((k + 1) * SHARD_SIZE).min(n0) {
                sh.push(prep.initial_twin(&ctx, seed, rep, id as u32), &ctx);
            }
            sh
        })
        .collect();
    let mut market = Market::new(b.bass, b.network, n0 as u64);
    let mut next_id = n0 as u64;
    let mut market_series = Series::new(horizon as usize);
    let mut external = Vec::new();
    for day in 0..horizon {
        shards.par_iter_mut().for_each(|sh| sh.step(&ctx, day));
        // Synchronisation: referrals in shard order, then external adopters.
        let mut mr = rng::stream(seed, rep as u64, MARKET_STREAM + day as u64);
        let mut won: Vec<(u32, bool)> = Vec::new();
        for sh in &mut shards {
            for r in sh.referrals.drain(..) {
                if let Some(node) = market.refer(r.node, b.referral_conversion, &mut mr) {
                    won.push((node, true));
                    market_series.days[day as usize][idx::INTERVENTION_COST] += r.reward;
                }
            }
        }
        let (push, cost) = policy.marketing(day);
        market_series.days[day as usize][idx::INTERVENTION_COST] += cost;
        market.external(push, &mut mr, &mut external);
        won.extend(external.iter().map(|&n| (n, false)));
        let born = day + 1;
        if born >= horizon {
            continue;
        }
        for (node, referred) in won {
            let id = next_id;
            next_id += 1;
            let k = (id as usize) / SHARD_SIZE;
            while shards.len() <= k {
                shards.push(Shard::new(horizon));
            }
            let twin = newcomer(prep, &ctx, seed, rep, id as u32, node, born, referred);
            let d = &mut shards[k].series.days[born as usize];
            d[if referred {
                idx::NEW_REFERRED
            } else {
                idx::NEW_EXTERNAL
            }] += 1.0;
            shards[k].push(twin, &ctx);
        }
    }
    shards.par_iter_mut().for_each(|sh| sh.finish(&ctx));
    let mut total = market_series;
    let mut events = 0;
    // CLV bins of half a mean purchase: fine enough to show the shape, the same for both arms.
    let mean = s.behaviour.spend.mean_spend();
    let width = if mean.is_finite() { 0.5 * mean } else { 10.0 };
    total.clv_bin_width = width;
    let (mut clv, mut purchases) = (vec![0.0f32; prep.known()], vec![0u16; prep.known()]);
    for sh in &shards {
        total.add(&sh.series);
        for tw in &sh.twins {
            let bin = ((tw.clv as f64 / width) as usize).min(crate::metrics::CLV_BINS - 1);
            total.clv_bins[bin] += 1.0;
            if tw.flags & twin::KNOWN != 0 {
                clv[tw.id as usize] = tw.clv;
                purchases[tw.id as usize] = tw.purchases;
            }
        }
    }
    total.margin_rate = b.margin;
    total.finish();
    for d in &total.days {
        events += (d[idx::PURCHASES] + d[idx::CHURNED]) as u64;
    }
    Replication {
        series: total,
        events,
        twins: next_id,
        clv,
        purchases,
    }
}
