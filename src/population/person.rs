//! Person twins: latent traits drawn from each known customer's posterior given its history,
//! and newcomers drawn from the priors.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Gamma};

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

/// The priors of a purchase model as ready-made samplers: newcomers and synthetic customers
/// draw from the same distributions millions of times, so they are set up once.
#[derive(Debug, Clone)]
pub struct Prior {
    lambda: Option<Gamma<f64>>,
    dropout: Dropout,
}

/// The dropout prior: a Beta probability (BG/NBD) or a Gamma rate (Pareto/NBD).
#[derive(Debug, Clone)]
enum Dropout {
    Probability(Option<Beta>),
    Rate(Option<Gamma<f64>>),
}

impl Prior {
    /// Samplers for the priors of `m`.
    pub fn new(m: &PurchaseModel) -> Prior {
        let gamma = |shape: f64, rate: f64| Gamma::new(shape, 1.0 / rate).ok();
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

    /// Draws a newcomer's traits.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Latent {
        let lambda = self.lambda.as_ref().map_or(0.0, |d| d.sample(rng));
        let dropout = match &self.dropout {
            Dropout::Probability(d) => d.as_ref().map_or(0.0, |d| d.sample(rng)),
            Dropout::Rate(d) => d.as_ref().map_or(0.0, |d| d.sample(rng)),
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
pub fn spend_rate_prior(g: &GammaGamma) -> Option<Gamma<f64>> {
    Gamma::new(g.q, 1.0 / g.v).ok()
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

/// The Beta(a, b) distribution, drawn as X / (X + Y) from X ~ Gamma(a), Y ~ Gamma(b): exact,
/// and on a twin's shapes (a ≈ 0.8, b ≈ 2.4) 30 ns a draw against 50 ns for `rand_distr`'s
/// Cheng sampler, which spawning pays for every twin. Below shape 0.05 the Gammas can both
/// underflow to 0, so there `rand_distr::Beta` draws.
#[derive(Debug, Clone)]
pub enum Beta {
    /// Through two Gammas.
    Gammas(Gamma<f64>, Gamma<f64>),
    /// Cheng's algorithm, for tiny shapes.
    Cheng(rand_distr::Beta<f64>),
}

impl Beta {
    /// Beta(a, b); None unless both are positive and finite.
    pub fn new(a: f64, b: f64) -> Option<Beta> {
        if !(a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()) {
            return None;
        }
        if a.min(b) < 0.05 {
            return rand_distr::Beta::new(a, b).ok().map(Beta::Cheng);
        }
        Some(Beta::Gammas(
            Gamma::new(a, 1.0).ok()?,
            Gamma::new(b, 1.0).ok()?,
        ))
    }
}

impl Distribution<f64> for Beta {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Beta::Gammas(x, y) => {
                let x = x.sample(rng);
                x / (x + y.sample(rng))
            }
            Beta::Cheng(d) => d.sample(rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean and variance of Beta draws within 4 standard errors of theory, for the shapes twins
    /// meet (through Gammas) and tiny ones (Cheng).
    #[test]
    fn beta_draws_have_the_right_moments() {
        let mut r = crate::engine::rng::stream(5, 0, 0);
        for (a, b) in [(0.793, 2.426), (1.0, 19.0), (5e7, 9.5e8), (0.01, 0.5)] {
            let d = Beta::new(a, b).unwrap();
            let n = 200_000;
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut r)).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let (m, v) = (a / (a + b), a * b / ((a + b).powi(2) * (a + b + 1.0)));
            assert!(
                (mean - m).abs() < 4.0 * (v / n as f64).sqrt(),
                "Beta({a}, {b}) mean {mean} vs {m}"
            );
            // The variance of the sample variance is at most E(x − m)⁴ ≤ v (for x in [0, 1]).
            assert!(
                (var - v).abs() < 4.0 * (v / n as f64).sqrt(),
                "Beta({a}, {b}) var {var} vs {v}"
            );
            assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
        }
        assert!(Beta::new(0.0, 1.0).is_none() && Beta::new(1.0, f64::NAN).is_none());
    }
}
