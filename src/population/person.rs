//! Person twins: latent traits drawn from each known customer's posterior given its history,
//! and newcomers drawn from the priors.

use rand::{Rng, RngExt};
use rand_distr::{Beta, Distribution, Gamma};

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
            lambda: gamma(r + x, alpha + t, rng),
            dropout: beta(a, b + x, rng),
        },
        // Alive at T: λ ~ Gamma(r+x, α+T), μ ~ Gamma(s, β+T), independent.
        PurchaseModel::ParetoNbd(ParetoNbd { r, alpha, s, beta }) => Latent {
            lambda: gamma(r + x, alpha + t, rng),
            dropout: gamma(s, beta + t, rng),
        },
    })
}

/// Draws a newcomer's traits from the priors.
pub fn sample_prior<R: Rng + ?Sized>(m: &PurchaseModel, rng: &mut R) -> Latent {
    match *m {
        PurchaseModel::BgNbd(BgNbd { r, alpha, a, b }) => Latent {
            lambda: gamma(r, alpha, rng),
            dropout: beta(a, b, rng),
        },
        PurchaseModel::ParetoNbd(ParetoNbd {
            r,
            alpha,
            s,
            beta: bt,
        }) => Latent {
            lambda: gamma(r, alpha, rng),
            dropout: gamma(s, bt, rng),
        },
    }
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
    gamma(g.q + g.p * n, g.v + total, rng)
}

/// Gamma(shape, rate) draw.
pub fn gamma<R: Rng + ?Sized>(shape: f64, rate: f64, rng: &mut R) -> f64 {
    Gamma::new(shape, 1.0 / rate).map_or(0.0, |d| d.sample(rng))
}

/// Beta(a, b) draw.
pub fn beta<R: Rng + ?Sized>(a: f64, b: f64, rng: &mut R) -> f64 {
    Beta::new(a, b).map_or(0.0, |d| d.sample(rng))
}
