//! Word of mouth: on a fully mixed market with referrals off, simulated cumulative adoption
//! follows the Bass closed form F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t}) within one
//! percentage point at every period.

mod common;

use common::{metric_series, twinsim};

#[test]
fn adoption_follows_the_bass_curve() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("bass.toml");
    let (p, q, period, periods) = (0.03, 0.38, 30.0, 20);
    std::fs::write(
        &scenario,
        format!(
            r#"name = "Bass check"
horizon_days = {}
replications = 1
seed = 9
[population]
customers = 0
[population.bgnbd]
r = 0.243
alpha = 4.414
a = 0.793
b = 2.426
[population.referral]
probability = 0.0
network = "mixed"
[population.acquisition]
market_size = 100000
p = {p}
q = {q}
period_days = {period}
[metrics]
primary = "new_customers_external"
"#,
            periods * 30 + 1
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    twinsim()
        .arg("run")
        .arg(&scenario)
        .arg("-o")
        .arg(&out)
        .arg("-q")
        .assert()
        .success();
    let new = metric_series(
        &out.join("metrics.csv"),
        "baseline",
        0,
        "new_customers_external",
    );
    let bass = |t: f64| {
        let e = (-(p + q) * t).exp();
        (1.0 - e) / (1.0 + q / p * e)
    };
    let mut cum = 0.0;
    let mut worst: f64 = 0.0;
    for (day, n) in new.iter().enumerate() {
        cum += n;
        // Adopters on day d are customers from day d + 1: the count through day D is F(D).
        if day > 0 && day % 30 == 0 {
            let gap = cum / 100_000.0 - bass(day as f64 / period);
            worst = worst.max(gap.abs());
            assert!(
                gap.abs() < 0.01,
                "period {}: simulated {:.4} vs Bass {:.4}",
                day / 30,
                cum / 1e5,
                bass(day as f64 / period)
            );
        }
    }
    assert!(
        cum > 90_000.0,
        "the market should be nearly saturated after {periods} periods: {cum}"
    );
    eprintln!("largest gap {:.2} percentage points", 100.0 * worst);
}
