//! The reference workload of `../shared/peers/reference-model.md`, expressed as
//! `scenarios/reference-model.toml`, reproduces the expected totals per 1,000 customers
//! (scenario arm, 100,000 customers, D = 365) within the reference's tolerances: purchases and
//! revenue 3%, referred customers 5%, alive at the end 3%.

mod common;

use common::{metric_series, run_quiet};

#[test]
fn reference_totals_per_thousand_customers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ref");
    let scenario =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/reference-model.toml");
    run_quiet(&scenario, &out);
    let metrics = out.join("metrics.csv");
    let per_thousand = |metric: &str| -> f64 {
        metric_series(&metrics, "scenario", 0, metric)
            .iter()
            .sum::<f64>()
            / 100.0
    };
    let alive = metric_series(&metrics, "scenario", 0, "active_customers");
    assert_eq!(alive.len(), 365);
    for (what, got, want, tolerance) in [
        ("purchases", per_thousand("purchases"), 1467.0, 0.03),
        ("revenue", per_thousand("revenue"), 51350.0, 0.03),
        (
            "referred",
            per_thousand("new_customers_referred"),
            73.4,
            0.05,
        ),
        ("alive at the end", alive[364] / 100.0, 831.0, 0.03),
    ] {
        assert!(
            (got / want - 1.0).abs() <= tolerance,
            "{what}: {got:.1} per 1,000 customers vs the reference's {want}"
        );
    }
}
