//! sBG on the published example of Fader & Hardie (2007, "How to project customer retention"):
//! fitting years 1–7 of each segment gives the paper's estimates to 1%, the projection of the
//! later years matches the paper's projection to 1% and follows the observed survivors (the
//! paper's point).

use twinsim::fit::maximise;
use twinsim::fit::sbg::{Likelihood, Sbg};

const REGULAR: [f64; 13] = [
    1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0, 223.0, 207.0, 194.0, 183.0, 173.0,
];
const HIGH_END: [f64; 13] = [
    1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0, 468.0, 445.0, 427.0, 409.0, 394.0,
];

fn fit(alive: &[f64]) -> Sbg {
    let f = maximise(&Likelihood::new(&alive[..8]).unwrap(), "sBG").unwrap();
    assert!(f.converged, "{}", f.message);
    Sbg::new(f.param("alpha"), f.param("beta")).unwrap()
}

#[test]
fn published_estimates_and_projection() {
    for (alive, alpha, beta) in [(&REGULAR, 0.704, 1.182), (&HIGH_END, 0.668, 3.806)] {
        let m = fit(alive);
        assert!(
            (m.alpha / alpha - 1.0).abs() < 0.01,
            "alpha {} vs {alpha}",
            m.alpha
        );
        assert!(
            (m.beta / beta - 1.0).abs() < 0.01,
            "beta {} vs {beta}",
            m.beta
        );
        // The paper's projection (its estimates carried forward) for years 8–12, to 1%.
        let paper = Sbg::new(alpha, beta).unwrap();
        for t in 8..=12 {
            let (ours, theirs) = (m.survival(t), paper.survival(t));
            assert!(
                (ours / theirs - 1.0).abs() < 0.01,
                "year {t}: projected {ours} vs the paper's projection {theirs}"
            );
        }
        for (t, &actual) in alive.iter().enumerate().skip(8) {
            let projected = 1000.0 * m.survival(t as u32);
            assert!(
                (projected / actual - 1.0).abs() < 0.06,
                "year {t}: projected {projected:.0} vs actual {actual}"
            );
        }
    }
}

#[test]
fn closed_forms_are_consistent() {
    let m = Sbg::new(0.704, 1.182).unwrap();
    let mut s = 1.0;
    for t in 1..40 {
        s -= m.churn_at(t);
        assert!((s - m.survival(t)).abs() < 1e-12);
        assert!((m.survival(t) / m.survival(t - 1) - m.retention_rate(t)).abs() < 1e-12);
    }
    // DERL is the discounted sum of survival probabilities from the next period on.
    let d: f64 = 0.1;
    let direct: f64 = (1..5000)
        .map(|k| m.survival(3 + k) / m.survival(3) / (1.0 + d).powi(k as i32 - 1))
        .sum();
    assert!(
        (m.derl(d, 3) - direct).abs() < 1e-6 * direct,
        "{} vs {direct}",
        m.derl(d, 3)
    );
}
