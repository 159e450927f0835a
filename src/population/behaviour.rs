//! Every behavioural parameter the engine uses (DESIGN.md §3), with the documented defaults
//! used where neither the fit nor the scenario gives a value. `defaults_used` lists them so the
//! summary can say which behaviours are assumptions.

use crate::fit::gamma_gamma::GammaGamma;
use crate::fit::purchase::PurchaseModel;

/// How referrals find prospects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Network {
    /// Every prospect is equally reachable (fully mixed market).
    Mixed,
    /// Watts–Strogatz small world over the prospect pool: a ring where each node links to its
    /// `degree` nearest nodes, each link rewired to a random node with probability `rewire`.
    SmallWorld {
        /// Mean degree k (even).
        degree: u32,
        /// Rewiring probability.
        rewire: f64,
    },
    /// No prospect pool: every converted referral is a new customer, however many there are
    /// (the reference workload's independent referral trees).
    Unbounded,
}

/// Bass diffusion of external acquisition among a pool of prospects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bass {
    /// Market potential M: prospects, including those already customers.
    pub market_size: u64,
    /// Innovation coefficient per period.
    pub p: f64,
    /// Imitation coefficient per period.
    pub q: f64,
    /// Period of p and q, in days.
    pub period_days: f64,
}

/// All behavioural parameters of one population.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Purchase and dropout model; rates per `unit_days`.
    pub purchase: PurchaseModel,
    /// Days per time unit of `purchase`.
    pub unit_days: f64,
    /// Spend per transaction.
    pub spend: GammaGamma,
    /// Channel names (at most [`MAX_CHANNELS`], new channels included).
    pub channels: Vec<String>,
    /// Dirichlet concentration of channel preferences.
    pub channel_alpha: Vec<f64>,
    /// Cost to serve one purchase, per channel.
    pub channel_cost: Vec<f64>,
    /// Probability that a purchase is a bad experience, per channel.
    pub channel_bad: Vec<f64>,
    /// Dropout multiplier after a bad experience (κ).
    pub kappa: f64,
    /// Probability that a purchase leads to a service contact.
    pub contact_probability: f64,
    /// Cost of one service contact.
    pub contact_cost: f64,
    /// Share of the remaining cost to serve that each good experience moves to self-service
    /// (cost of a purchase = channel cost × (1 − self_service)^good experiences, capped at 255).
    pub self_service: f64,
    /// Mean referral probability per good purchase.
    pub referral_mean: f64,
    /// Beta concentration (a + b) of the referral probability across twins.
    pub referral_concentration: f64,
    /// Probability that a referred prospect becomes a customer.
    pub referral_conversion: f64,
    /// Who referrals reach.
    pub network: Network,
    /// External acquisition.
    pub bass: Bass,
    /// Newcomers arrive with their first purchase (BG/NBD dates a customer from it); when
    /// false they arrive as customers who buy later.
    pub newcomers_buy_on_arrival: bool,
    /// Price elasticity of purchase frequency ε: λ ← λ·(P′/P)^ε.
    pub elasticity: f64,
    /// Mean upsell (tier-up) probability per purchase.
    pub upsell_mean: f64,
    /// Relative amount uplift of an upsold purchase.
    pub upsell_uplift: f64,
    /// Mean cross-sell (new category) probability per purchase.
    pub cross_sell_mean: f64,
    /// Amount of a cross-sold item, relative to the purchase.
    pub cross_sell_amount: f64,
    /// Beta concentration of the upsell probability across twins.
    pub sell_concentration: f64,
    /// Beta concentration of the cross-sell probability across twins.
    pub cross_sell_concentration: f64,
    /// Purchase model of referred newcomers, when the fit found them different.
    pub referred_purchase: Option<PurchaseModel>,
    /// Purchase model per fitted segment (`--segment-by`), when the fit found segments differ;
    /// indexed like [`crate::population::load::Person::segment`].
    pub segment_purchase: Vec<PurchaseModel>,
    /// Gross margin on revenue.
    pub margin: f64,
    /// Names of the parameters that took their documented defaults.
    pub defaults_used: Vec<String>,
    /// Behaviours fitted from data (`kappa`, `bad_experience`, `referral`, `bass`, …): a
    /// scenario that does not set them does not list them as defaults.
    pub fitted: Vec<&'static str>,
}

/// Most channels a run can have, new ones included (channel weights are 8 bytes per twin).
pub const MAX_CHANNELS: usize = 8;

impl Behaviour {
    /// The documented defaults, around a purchase model and spend model.
    pub fn with_defaults(
        purchase: PurchaseModel,
        unit_days: f64,
        spend: GammaGamma,
        channels: Vec<String>,
        channel_alpha: Vec<f64>,
        customers: u64,
    ) -> Behaviour {
        let c = channels.len();
        Behaviour {
            purchase,
            unit_days,
            spend,
            channels,
            channel_alpha,
            channel_cost: vec![1.0; c],
            channel_bad: vec![0.05; c],
            kappa: 2.0,
            contact_probability: 0.1,
            contact_cost: 5.0,
            self_service: 0.05,
            referral_mean: 0.02,
            referral_concentration: 10.0,
            referral_conversion: 0.5,
            network: Network::SmallWorld {
                degree: 10,
                rewire: 0.1,
            },
            bass: Bass {
                market_size: customers.saturating_mul(2),
                p: 0.005,
                q: 0.05,
                period_days: 30.0,
            },
            newcomers_buy_on_arrival: true,
            elasticity: -1.0,
            upsell_mean: 0.03,
            upsell_uplift: 0.25,
            cross_sell_mean: 0.05,
            cross_sell_amount: 0.5,
            sell_concentration: 20.0,
            cross_sell_concentration: 20.0,
            referred_purchase: None,
            segment_purchase: Vec::new(),
            margin: 0.3,
            defaults_used: Vec::new(),
            fitted: Vec::new(),
        }
    }

    /// Whether behaviour `name` was fitted from data.
    pub fn is_fitted(&self, name: &str) -> bool {
        self.fitted.contains(&name)
    }
}
