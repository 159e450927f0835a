//! Bass recovery: adoptions drawn from a known Bass curve (inverse-CDF sampling of M adoption
//! times) fit back p, q and M within 5%.

use rand::RngExt;
use twinsim::engine::rng;
use twinsim::fit::bass::{Bass, Likelihood};
use twinsim::fit::maximise;

#[test]
fn recovers_p_q_and_m() {
    for (p, q, m, periods, seed) in [
        (0.03, 0.38, 100_000.0, 12, 1),
        (0.01, 0.5, 50_000.0, 14, 2),
        (0.05, 0.1, 200_000.0, 20, 3),
    ] {
        let truth = Bass::new(p, q, m).unwrap();
        let mut r = rng::stream(seed, 0, 0);
        let mut counts = vec![0.0; periods];
        for _ in 0..m as usize {
            let t = truth.quantile(r.random::<f64>());
            if t < periods as f64 {
                counts[t as usize] += 1.0;
            }
        }
        let lik = Likelihood::new(&counts).unwrap();
        let f = maximise(&lik, "Bass").unwrap();
        assert!(f.converged, "{}", f.message);
        let est = lik.params(&f.values().iter().map(|v| v.ln()).collect::<Vec<_>>());
        for (name, got, want) in [("p", est.p, p), ("q", est.q, q), ("M", est.m, m)] {
            assert!(
                (got / want - 1.0).abs() < 0.05,
                "{name}: {got} vs {want} (p={p}, q={q}, M={m})"
            );
        }
    }
}
