//! The Gamma and Beta samplers twins are drawn with: spawning an all-behaviours twin is some
//! thirteen Gamma draws and little else, so these are the cost of a twin.
//!
//! Written by hand because `rand_distr`'s Gamma, below shape 1, boosts a draw of shape + 1 by
//! `U^(1/shape)` through `powf` (some 120 instructions, a quarter of a spawn's). Here the
//! boost is `exp(−E/shape)` with E a ziggurat exponential: the same distribution (−ln U is
//! Exp(1)) for a third of the cost. Above shape 1 it is the same Marsaglia–Tsang method, the
//! normal and uniform from `rand_distr` and `rand`.

use rand::Rng;
use rand::distr::Open01;
use rand_distr::{Distribution, Exp1, StandardNormal};

/// An Exp(1) draw (`rand_distr`'s ziggurat). Called directly rather than through
/// `Rng::sample`, which a long caller such as a twin's life did not inline: the call took 52
/// instructions for a draw of about 20 (callgrind).
#[inline(always)]
pub fn exponential<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    Exp1.sample(rng)
}

/// A standard normal draw (`rand_distr`'s ziggurat), called directly as [`exponential`].
#[inline(always)]
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

/// U^(1/a) for a uniform U, drawn as exp(−E/a) with E ~ Exp(1) (−ln U is Exp(1)): `inv_a` is
/// 1/a. The boost of a small-shape Gamma and the Beta(a, 1) draw.
#[inline(always)]
fn power_of_uniform<R: Rng + ?Sized>(inv_a: f64, rng: &mut R) -> f64 {
    (-exponential(rng) * inv_a).exp()
}

/// Gamma(shape, scale), ready to sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gamma {
    /// Marsaglia–Tsang's d = shape − 1/3 (of shape + 1 below shape 1).
    d: f64,
    /// Marsaglia–Tsang's c = 1 / √(9d).
    c: f64,
    /// d × scale: a draw v of the method is d·v·scale.
    d_scale: f64,
    /// 1/shape below shape 1 (the boost's exponent), 0 at or above it.
    inv_shape: f64,
    /// Shape exactly 1: an exponential of mean `d_scale`.
    exponential: bool,
}

impl Gamma {
    /// Gamma of `shape` and `scale`; `None` unless both are positive and finite.
    pub fn new(shape: f64, scale: f64) -> Option<Gamma> {
        if !(shape > 0.0 && scale > 0.0 && shape.is_finite() && scale.is_finite()) {
            return None;
        }
        if shape == 1.0 {
            return Some(Gamma {
                d: 1.0,
                c: 0.0,
                d_scale: scale,
                inv_shape: 0.0,
                exponential: true,
            });
        }
        let (boosted, inv_shape) = if shape < 1.0 {
            (shape + 1.0, 1.0 / shape)
        } else {
            (shape, 0.0)
        };
        let d = boosted - 1.0 / 3.0;
        Some(Gamma {
            d,
            c: 1.0 / (9.0 * d).sqrt(),
            d_scale: d * scale,
            inv_shape,
            exponential: false,
        })
    }

    /// Gamma(shape, 1/rate) drawn once (0 when the parameters are not positive and finite).
    /// Inlined as [`Prior::sample`](crate::population::person::Prior::sample) is.
    #[inline(always)]
    pub fn draw<R: Rng + ?Sized>(shape: f64, rate: f64, rng: &mut R) -> f64 {
        // A `match`, not `map_or`, which the compiler kept out of line with the draw in it.
        match Gamma::new(shape, 1.0 / rate) {
            Some(g) => g.sample(rng),
            None => 0.0,
        }
    }

    /// Marsaglia and Tsang (2000): v = (1 + c·x)³ for a standard normal x, accepted with a
    /// squeeze that spares the logarithms all but a few percent of the time.
    #[inline(always)]
    fn marsaglia_tsang<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        loop {
            let x = standard_normal(rng);
            let cube_root = 1.0 + self.c * x;
            if cube_root <= 0.0 {
                continue;
            }
            let v = cube_root * cube_root * cube_root;
            let u: f64 = Open01.sample(rng);
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + self.d * (1.0 - v + v.ln()) {
                return v;
            }
        }
    }
}

impl Distribution<f64> for Gamma {
    // Inlined wherever it is drawn: a call cost a Gamma draw in a twin's life a third more
    // instructions than the same draw in a loop of its own (callgrind).
    #[inline(always)]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if self.exponential {
            let e = exponential(rng);
            return e * self.d_scale;
        }
        let v = self.marsaglia_tsang(rng) * self.d_scale;
        if self.inv_shape == 0.0 {
            v
        } else {
            // Gamma(a) = Gamma(a + 1) · U^(1/a).
            v * power_of_uniform(self.inv_shape, rng)
        }
    }
}

/// The Beta(a, b) distribution. With either shape 1 it is one exponential through a closed
/// form (a referral, upsell or cross-sell propensity of mean m and concentration 1/m often
/// is); otherwise X / (X + Y) from X ~ Gamma(a), Y ~ Gamma(b): exact, and on a twin's shapes
/// (a ≈ 0.8, b ≈ 2.4) cheaper than `rand_distr`'s Cheng sampler, which spawning pays for
/// every twin. Below shape 0.05 the Gammas can both underflow to 0, so there
/// `rand_distr::Beta` draws.
#[derive(Debug, Clone)]
pub enum Beta {
    /// Through two Gammas.
    Gammas(Gamma, Gamma),
    /// Beta(a, 1) = U^(1/a) = exp(−E/a): the reciprocal of a.
    PowerOfUniform(f64),
    /// Beta(1, b) = 1 − U^(1/b) = −expm1(−E/b): the reciprocal of b.
    OneMinusPower(f64),
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
        Some(if b == 1.0 {
            Beta::PowerOfUniform(1.0 / a)
        } else if a == 1.0 {
            Beta::OneMinusPower(1.0 / b)
        } else {
            Beta::Gammas(Gamma::new(a, 1.0)?, Gamma::new(b, 1.0)?)
        })
    }

    /// Beta(a, b) drawn once (0 when the shapes are not positive and finite).
    #[inline]
    pub fn draw<R: Rng + ?Sized>(a: f64, b: f64, rng: &mut R) -> f64 {
        Beta::new(a, b).map_or(0.0, |d| d.sample(rng))
    }
}

impl Distribution<f64> for Beta {
    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Beta::Gammas(x, y) => {
                let x = x.sample(rng);
                x / (x + y.sample(rng))
            }
            Beta::PowerOfUniform(inv_a) => power_of_uniform(*inv_a, rng),
            Beta::OneMinusPower(inv_b) => {
                let e = exponential(rng);
                -(-e * inv_b).exp_m1()
            }
            Beta::Cheng(d) => d.sample(rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{ContinuousCDF, Gamma as GammaCdf};

    /// Kolmogorov–Smirnov distance between sorted draws and a CDF.
    fn ks(xs: &mut [f64], cdf: impl Fn(f64) -> f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf(x);
                (f - i as f64 / n).abs().max((f - (i + 1) as f64 / n).abs())
            })
            .fold(0.0, f64::max)
    }

    /// Gamma draws follow the Gamma distribution (Kolmogorov–Smirnov, critical value at
    /// 0.1%: 1.95/√n) at the shapes twins meet: small ones (boosted), exactly 1, large ones.
    #[test]
    fn gamma_draws_follow_the_gamma_distribution() {
        let mut r = crate::engine::rng::stream(11, 0, 0);
        let n = 50_000;
        for shape in [0.06, 0.243, 0.5, 0.793, 1.0, 1.5, 2.426, 6.25, 19.0, 400.0] {
            let scale = 2.5;
            let g = Gamma::new(shape, scale).unwrap();
            let mut xs: Vec<f64> = (0..n).map(|_| g.sample(&mut r)).collect();
            assert!(xs.iter().all(|&x| x >= 0.0 && x.is_finite()));
            let truth = GammaCdf::new(shape, 1.0 / scale).unwrap();
            let d = ks(&mut xs, |x| truth.cdf(x));
            assert!(
                d < 1.95 / (n as f64).sqrt(),
                "Gamma({shape}, {scale}): KS distance {d}"
            );
        }
    }

    /// A sampler that drew the boost with the wrong exponent (shape instead of 1/shape)
    /// would fail the test above: the check can tell.
    #[test]
    fn the_distribution_check_tells_a_wrong_boost() {
        let mut r = crate::engine::rng::stream(11, 0, 1);
        let mut g = Gamma::new(0.5, 1.0).unwrap();
        g.inv_shape = 0.5;
        let n = 50_000;
        let mut xs: Vec<f64> = (0..n).map(|_| g.sample(&mut r)).collect();
        let truth = GammaCdf::new(0.5, 1.0).unwrap();
        assert!(ks(&mut xs, |x| truth.cdf(x)) > 1.95 / (n as f64).sqrt());
    }

    #[test]
    fn gamma_refuses_impossible_parameters() {
        for (shape, scale) in [(0.0, 1.0), (-1.0, 1.0), (1.0, 0.0), (f64::NAN, 1.0)] {
            assert!(Gamma::new(shape, scale).is_none(), "{shape}, {scale}");
        }
        assert!(Gamma::new(f64::INFINITY, 1.0).is_none());
        assert_eq!(
            Gamma::draw(0.0, 1.0, &mut crate::engine::rng::stream(1, 0, 0)),
            0.0
        );
    }

    /// Mean and variance of Beta draws within 4 standard errors of theory, for the shapes twins
    /// meet (through Gammas and through the closed forms at shape 1) and tiny ones (Cheng).
    #[test]
    fn beta_draws_have_the_right_moments() {
        let mut r = crate::engine::rng::stream(5, 0, 0);
        for (a, b) in [
            (0.793, 2.426),
            (1.0, 19.0),
            (0.5, 9.5),
            (2.5, 1.0),
            (1.0, 1.0),
            (5e7, 9.5e8),
            (0.01, 0.5),
        ] {
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
