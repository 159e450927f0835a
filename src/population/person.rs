//! Person twins: latent traits drawn from each known customer's posterior given its history,
//! and newcomers drawn from the priors.

use rand::{Rng, RngExt};
use rand_distr::Distribution;

use super::sampling::{Beta, Gamma};

use crate::fit::bgnbd::BgNbd;
use crate::fit::gamma_gamma::GammaGamma;
use crate::fit::pareto_nbd::ParetoNbd;
use crate::fit::purchase::PurchaseModel;

/// Purchase and dropout traits of one twin, per time unit of the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latent {
    /// Purchase rate while alive.
    pub lambda: f64,
    /// BG/NBD: dropout probability after each purchase; Pareto/NBD: dropout rate.
    pub dropout: f64,
}

/// Draws a known customer's traits from the exact posterior given (x, t_x, T); `None` when the
/// draw says it has already dropped out (BG/NBD: right after its last purchase).
pub fn sample_posterior<R: Rng + ?Sized>(
    m: &PurchaseModel,
    x: f64,
    t_x: f64,
    t: f64,
    rng: &mut R,
) -> Option<Latent> {
    let alive = rng.random::<f64>() < m.p_alive(x, t_x, t);
    if !alive {
        return None;
    }
    Some(match *m {
        // Alive: λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x).
        PurchaseModel::BgNbd(BgNbd { r, alpha, a, b }) => Latent {
            lambda: Gamma::draw(r + x, alpha + t, rng),
            dropout: Beta::draw(a, b + x, rng),
        },
        // Alive at T: λ ~ Gamma(r+x, α+T), μ ~ Gamma(s, β+T), independent.
        PurchaseModel::ParetoNbd(ParetoNbd { r, alpha, s, beta }) => Latent {
            lambda: Gamma::draw(r + x, alpha + t, rng),
            dropout: Gamma::draw(s, beta + t, rng),
        },
    })
}

/// The priors of a purchase model as ready-made samplers: newcomers and synthetic customers
/// draw from the same distributions millions of times, so they are set up once.
#[derive(Debug, Clone)]
pub struct Prior {
    lambda: Option<Gamma>,
    dropout: Dropout,
}

/// The dropout prior: a Beta probability (BG/NBD) or a Gamma rate (Pareto/NBD).
#[derive(Debug, Clone)]
enum Dropout {
    Probability(Option<Beta>),
    Rate(Option<Gamma>),
}

impl Prior {
    /// Samplers for the priors of `m`.
    pub fn new(m: &PurchaseModel) -> Prior {
        let gamma = |shape: f64, rate: f64| Gamma::new(shape, 1.0 / rate);
        match *m {
            PurchaseModel::BgNbd(BgNbd { r, alpha, a, b }) => Prior {
                lambda: gamma(r, alpha),
                dropout: Dropout::Probability(Beta::new(a, b)),
            },
            PurchaseModel::ParetoNbd(ParetoNbd {
                r,
                alpha,
                s,
                beta: bt,
            }) => Prior {
                lambda: gamma(r, alpha),
                dropout: Dropout::Rate(gamma(s, bt)),
            },
        }
    }

    /// Draws a newcomer's traits. Inlined where twins are spawned: out of line, the twin's
    /// stream went through memory on the way in and out, on the chain of its draws.
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Latent {
        // `match`es, not `map_or`: the compiler kept `map_or` and the draw in it out of line.
        let lambda = match &self.lambda {
            Some(d) => d.sample(rng),
            None => 0.0,
        };
        let dropout = match &self.dropout {
            Dropout::Probability(Some(d)) => d.sample(rng),
            Dropout::Rate(Some(d)) => d.sample(rng),
            Dropout::Probability(None) | Dropout::Rate(None) => 0.0,
        };
        Latent { lambda, dropout }
    }
}

/// A per-twin probability (referral, upsell, cross-sell): Beta with a given mean and
/// concentration across twins; an infinite concentration means everyone has the mean.
#[derive(Debug, Clone)]
pub enum Propensity {
    /// The same for every twin.
    Fixed(f64),
    /// Beta across twins.
    Beta(Beta),
}

impl Propensity {
    /// The distribution of mean `mean` and concentration a + b = `concentration`.
    pub fn new(mean: f64, concentration: f64) -> Propensity {
        if mean <= 0.0 {
            Propensity::Fixed(0.0)
        } else if mean >= 1.0 {
            Propensity::Fixed(1.0)
        } else if concentration.is_infinite() {
            Propensity::Fixed(mean)
        } else {
            Beta::new(mean * concentration, (1.0 - mean) * concentration)
                .map_or(Propensity::Fixed(mean), Propensity::Beta)
        }
    }

    /// One twin's probability (draws nothing when fixed).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Propensity::Fixed(p) => *p,
            Propensity::Beta(d) => d.sample(rng),
        }
    }
}

/// The Gamma-Gamma prior of the spend rate ν, ready to sample.
pub fn spend_rate_prior(g: &GammaGamma) -> Option<Gamma> {
    Gamma::new(g.q, 1.0 / g.v)
}

/// Spend rate ν of a twin: the Gamma-Gamma posterior Gamma(q + p·n, γ + n·m̄) given `n`
/// transactions of mean `mean` (the prior when n = 0).
pub fn sample_spend_rate<R: Rng + ?Sized>(g: &GammaGamma, n: u32, mean: f64, rng: &mut R) -> f64 {
    let n = if mean.is_finite() && mean > 0.0 {
        n as f64
    } else {
        0.0
    };
    let total = if n > 0.0 { n * mean } else { 0.0 };
    Gamma::draw(g.q + g.p * n, g.v + total, rng)
}
