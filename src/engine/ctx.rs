//! What an arm's twins read while they live: the behaviour, the interventions, and the tables
//! set up once per replication.

use crate::population::sampling::Gamma;

use super::policy::Policy;
use super::spawn::Priors;
use crate::fit::purchase::PurchaseModel;
use crate::population::behaviour::Behaviour;
use crate::scenario::Scenario;

/// Read-only facts every twin of one arm needs during a replication.
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
    pub spend_unit: Gamma,
    /// Newcomers' and synthetic customers' distributions.
    pub priors: Priors,
    /// Width of a bin of the CLV histogram: half a mean purchase, the same for both arms.
    pub clv_bin_width: f64,
    /// 1 / `clv_bin_width` (every twin's account is closed with it: a product, not a division).
    pub clv_bin_inv: f64,
    /// Share of the cost to serve left after g good experiences, (1 − self-service)^g, for
    /// every g a twin can count (a table: `powi` was a call at every purchase).
    pub serve_share: [f64; 256],
}

impl Ctx<'_> {
    /// The discount factor exp(−δt) at a time on `day` (within the horizon) whose
    /// [`Ctx::discount_within_day`] is `within`: the day's factor from a table times it.
    #[inline]
    pub fn discount(&self, day: u32, within: f64) -> f64 {
        self.discount_at_day[day as usize] * within
    }

    /// The factor exp(−δx) for the fraction x of its day that time `t` on `day` is into it:
    /// the series of exp(−x) for x < δ < 0.002 (the scenario's rate is below 100% a year),
    /// where four terms are exact to 1e−12 and far cheaper than `exp`. It reads no table, so
    /// it can be worked out as soon as an event's time is known, whatever the day.
    #[inline(always)]
    pub fn discount_within_day(&self, t: f32, day: u32) -> f64 {
        let x = self.discount_per_day * (t as f64 - day as f64);
        // x × (1/6) rather than x / 6: a division sat on every purchase, and the cubic term
        // is below 2e−9, so the two differ far below the result's last bit.
        1.0 - x * (1.0 - x * (0.5 - x * (1.0 / 6.0)))
    }
}

/// The read-only context of one arm in one replication.
pub fn context<'a>(s: &Scenario, b: &'a Behaviour, policy: &'a Policy) -> Ctx<'a> {
    let delta = (1.0 + s.discount_rate).ln() / 365.0;
    let mean = s.behaviour.spend.mean_spend();
    let clv_bin_width = if mean.is_finite() { 0.5 * mean } else { 10.0 };
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
        clv_bin_width,
        clv_bin_inv: 1.0 / clv_bin_width,
        serve_share: std::array::from_fn(|g| (1.0 - b.self_service).powi(g as i32)),
    }
}
