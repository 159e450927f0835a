//! Person twins are exact: over 2,000 replications, the mean simulated purchases of each CDNOW
//! customer in the 39 weeks after calibration match the closed-form E[X(t) | x, t_x, T], in
//! total and per calibration-frequency bucket, within 2%.

mod common;

use common::{csv_rows, fit_cdnow, json, twinsim};
use twinsim::fit::Fitted;
use twinsim::fit::purchase::PurchaseModel;

#[test]
fn bgnbd_forward_purchases_match_the_conditional_expectation() {
    forward_purchases_match("bgnbd");
}

#[test]
fn pareto_nbd_forward_purchases_match_the_conditional_expectation() {
    forward_purchases_match("pareto-nbd");
}

fn forward_purchases_match(model_arg: &str) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.json");
    if !fit_cdnow(
        &["--observation-end", "1997-09-30", "--model", model_arg],
        &model,
    ) {
        return;
    }
    let scenario = dir.path().join("forward.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"name = "CDNOW forward 39 weeks"
horizon_days = 273
replications = 2000
seed = 5
parameter_uncertainty = false
[population]
model = "{}"
[population.channels]
bad_experience = [0.0]
[population.referral]
probability = 0.0
[population.acquisition]
market_size = 0
[metrics]
primary = "purchases"
"#,
            model.display()
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
    let m = json(&model);
    let name = model_arg.replace('-', "_");
    let fitted: Fitted = serde_json::from_value(m["models"][&name].clone()).unwrap();
    let bg = PurchaseModel::from_fitted(&name, &fitted).unwrap();
    let hist: std::collections::HashMap<String, (f64, f64, f64)> =
        csv_rows(&dir.path().join("model.customers.csv"))
            .into_iter()
            .map(|r| {
                (
                    r["key"].clone(),
                    (
                        r["frequency"].parse().unwrap(),
                        r["recency"].parse().unwrap(),
                        r["T"].parse().unwrap(),
                    ),
                )
            })
            .collect();
    let (mut sim, mut exact) = ([0.0; 8], [0.0; 8]);
    for r in csv_rows(&out.join("clv.csv")) {
        let (x, tx, t) = hist[&r["key"]];
        let k = (x as usize).min(7);
        sim[k] += r["baseline_purchases"].parse::<f64>().unwrap();
        exact[k] += bg.conditional_expected(39.0, x, tx, t);
    }
    let (s, e): (f64, f64) = (sim.iter().sum(), exact.iter().sum());
    let ratios: Vec<String> = (0..8)
        .map(|k| format!("{k}: {:.4}", sim[k] / exact[k]))
        .collect();
    eprintln!(
        "{name}: simulated {s:.1} vs closed form {e:.1}; per bucket simulated/closed form {}",
        ratios.join(", ")
    );
    assert!(
        (s / e - 1.0).abs() < 0.02,
        "total: simulated {s:.1} vs closed form {e:.1}"
    );
    for k in 0..8 {
        assert!(
            (sim[k] / exact[k] - 1.0).abs() < 0.02,
            "frequency {k}: simulated {:.2} vs closed form {:.2}",
            sim[k],
            exact[k]
        );
    }
}
