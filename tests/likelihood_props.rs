//! Properties of the log-likelihoods (densities in the purchase times, so they may exceed 0):
//! finite everywhere sensible, equal to a direct numerical
//! integration over the latent rates on small cases, and consistent closed forms.

use proptest::prelude::*;
use statrs::function::beta::ln_beta;
use statrs::function::gamma::ln_gamma;
use twinsim::fit::bgnbd::BgNbd;
use twinsim::fit::gamma_gamma::GammaGamma;
use twinsim::fit::pareto_nbd::ParetoNbd;

/// ∫₀^∞ g(λ) Gamma(λ; r, α) dλ by the midpoint rule after λ = v^{1/r} (which removes the
/// λ^{r−1} singularity at 0).
fn gamma_expectation(r: f64, alpha: f64, g: impl Fn(f64) -> f64) -> f64 {
    let v_max = (80.0 / alpha).powf(r);
    let n = 400_000;
    let h = v_max / n as f64;
    let sum: f64 = (0..n)
        .map(|k| {
            let lam = ((k as f64 + 0.5) * h).powf(1.0 / r);
            g(lam) * (-alpha * lam).exp()
        })
        .sum();
    sum * h / r * (r * alpha.ln() - ln_gamma(r)).exp()
}

/// ∫₀¹ g(p) Beta(p; a, b) dp, midpoint rule after p = u^{1/a} (b ≥ 1 in the tests).
fn beta_expectation(a: f64, b: f64, g: impl Fn(f64) -> f64) -> f64 {
    let n = 400_000;
    let h = 1.0 / n as f64;
    let sum: f64 = (0..n)
        .map(|k| {
            let p = ((k as f64 + 0.5) * h).powf(1.0 / a);
            g(p) * (1.0 - p).powf(b - 1.0)
        })
        .sum();
    sum * h / a / ln_beta(a, b).exp()
}

#[test]
fn bgnbd_matches_direct_integration() {
    for (m, x, tx, t) in [
        (
            BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap(),
            0.0,
            0.0,
            38.0,
        ),
        (
            BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap(),
            3.0,
            20.0,
            38.0,
        ),
        (BgNbd::new(1.5, 3.0, 2.0, 4.0).unwrap(), 7.0, 9.5, 12.0),
    ] {
        let xi = x as i32;
        // P(data | λ, p) = (1−p)^x λ^x e^{−λT} + [x>0] p (1−p)^{x−1} λ^x e^{−λ t_x}
        let alive = beta_expectation(m.a, m.b, |p| (1.0 - p).powi(xi))
            * gamma_expectation(m.r, m.alpha, |l| l.powi(xi) * (-l * t).exp());
        let dropped = if x > 0.0 {
            beta_expectation(m.a, m.b, |p| p * (1.0 - p).powi(xi - 1))
                * gamma_expectation(m.r, m.alpha, |l| l.powi(xi) * (-l * tx).exp())
        } else {
            0.0
        };
        let direct = (alive + dropped).ln();
        let got = m.ln_likelihood(x, tx, t);
        assert!(
            (got - direct).abs() < 1e-4,
            "x={x}: closed form {got} vs integral {direct}"
        );
    }
}

#[test]
fn expectations_are_consistent() {
    // E[X(t)] is the conditional expectation of a customer just acquired (x = 0, T = 0).
    let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    assert!((m.expected(39.0) - m.conditional_expected(39.0, 0.0, 0.0, 0.0)).abs() < 1e-9);
    let p = ParetoNbd::new(0.553, 10.578, 0.606, 11.669).unwrap();
    assert!((p.expected(39.0) - p.conditional_expected(39.0, 0.0, 0.0, 0.0)).abs() < 1e-9);
    let gg = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
    assert!((gg.conditional_expected_spend(0.0, 0.0) - gg.mean_spend()).abs() < 1e-9);
}

fn param() -> impl Strategy<Value = f64> {
    (-3.0f64..4.0).prop_map(f64::exp)
}

fn history() -> impl Strategy<Value = (f64, f64, f64)> {
    (0u32..300, 0.0f64..1.0, 0.01f64..400.0).prop_map(|(x, frac, t)| {
        let tx = if x == 0 { 0.0 } else { frac * t };
        (x as f64, tx, t)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn bgnbd_is_finite((r, alpha, a, b) in (param(), param(), param(), param()), (x, tx, t) in history()) {
        let m = BgNbd::new(r, alpha, a, b).unwrap();
        let ll = m.ln_likelihood(x, tx, t);
        prop_assert!(ll.is_finite(), "ll {}", ll);
        let pa = m.p_alive(x, tx, t);
        prop_assert!((0.0..=1.0).contains(&pa));
    }

    #[test]
    fn pareto_nbd_is_finite((r, alpha, s, beta) in (param(), param(), param(), param()), (x, tx, t) in history()) {
        let m = ParetoNbd::new(r, alpha, s, beta).unwrap();
        let ll = m.ln_likelihood(x, tx, t);
        prop_assert!(ll.is_finite(), "ll {} at {:?}", ll, (r, alpha, s, beta, x, tx, t));
        let pa = m.p_alive(x, tx, t);
        prop_assert!((0.0..=1.0 + 1e-12).contains(&pa), "p_alive {}", pa);
    }

    #[test]
    fn gamma_gamma_is_finite((p, q, v) in (param(), param(), param()), x in 1u32..200, mean in 0.01f64..1e4) {
        let m = GammaGamma::new(p, q, v).unwrap();
        prop_assert!(m.ln_likelihood(x as f64, mean).is_finite());
    }
}
