//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/data` beside the project. Absent in a user's own clone: the test says so and
/// skips; under `CI=true` its absence is a failure.
pub fn shared_data() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if dir.join("CDNOW_sample.txt").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing, and CI=true: the CDNOW checks must run in CI",
            dir.display()
        );
    }
    eprintln!(
        "skipping: {} not found (it sits beside the project in CI)",
        dir.display()
    );
    None
}

/// The twinsim binary under test.
pub fn twinsim() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("twinsim").expect("binary built")
}

/// Reads a JSON file.
pub fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("valid JSON")
}

/// Reads a CSV file into rows of string fields keyed by header name.
pub fn csv_rows(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    csv::Reader::from_path(path)
        .expect("readable CSV")
        .deserialize()
        .map(|r| r.expect("valid row"))
        .collect()
}

/// Sums of a metric per (arm, replication, day) from metrics.csv: rows in file order.
pub fn metric_series(path: &std::path::Path, arm: &str, rep: u32, metric: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(path).expect("metrics.csv");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0] == arm && f[1] == rep.to_string() && f[3] == metric)
                .then(|| f[4].parse().unwrap())
        })
        .collect()
}

/// Runs `twinsim fit` on the CDNOW sample with the standard column mapping plus `extra`,
/// writing `model`; `false` (after saying so) when ../shared is absent outside CI.
pub fn fit_cdnow(extra: &[&str], model: &std::path::Path) -> bool {
    let Some(data) = shared_data() else {
        return false;
    };
    twinsim()
        .arg("fit")
        .arg(data.join("CDNOW_sample.txt"))
        .args([
            "--no-header",
            "--delimiter",
            "whitespace",
            "--columns",
            "master_id,customer_id,date,cds,amount",
        ])
        .args([
            "--id-cols",
            "customer_id",
            "--time-col",
            "date",
            "--amount-col",
            "amount",
            "--salt",
            "test",
        ])
        .args(extra)
        .arg("-o")
        .arg(model)
        .assert()
        .success();
    true
}

/// Asserts that a fitted model (a `models.<name>` entry of model.json) converged and that each
/// named parameter lies within three standard errors of its true value.
pub fn within_3se(f: &serde_json::Value, truth: &[(&str, f64)], what: &str) {
    assert_eq!(f["converged"], true, "{what}: {}", f["message"]);
    for (name, want) in truth {
        let est = f["params"][name].as_f64().unwrap();
        let se = f["std_errors"][name].as_f64().unwrap();
        assert!(se > 0.0 && se.is_finite(), "{what} {name}: se {se}");
        assert!(
            (est - want).abs() <= 3.0 * se,
            "{what} {name}: estimate {est} (se {se}) vs true {want}: {:.1} standard errors",
            (est - want) / se
        );
    }
}

/// Runs `twinsim run SCENARIO -q --no-charts -o OUT`, which must succeed.
pub fn run_quiet(scenario: &std::path::Path, out: &std::path::Path) {
    twinsim()
        .arg("run")
        .arg(scenario)
        .args(["-q", "--no-charts", "-o"])
        .arg(out)
        .assert()
        .success();
}

/// A scenario of `customers` twins (60,000: four shards, split over processes by shard; 3,000:
/// replications spread over processes) with every coupling between twins — Bass acquisition,
/// referrals over a small-world network, a pilot that rolls out — for checking that a run split
/// over processes is the single-process run; written into `dir`.
pub fn coupled_scenario(dir: &std::path::Path, customers: u64, replications: u32) -> PathBuf {
    let path = dir.join(format!("coupled-{customers}.toml"));
    std::fs::write(
        &path,
        format!(
            r#"name = "coupled"
horizon_days = 120
replications = {replications}
seed = 99
[population]
customers = {customers}
time_unit = "week"
[population.bgnbd]
r = 0.243
alpha = 4.414
a = 0.793
b = 2.426
[population.channels]
names = ["web", "store"]
alpha = [1.2, 0.8]
bad_experience = [0.04, 0.06]
[population.referral]
probability = 0.05
conversion = 0.6
network = "small_world"
degree = 10
[population.acquisition]
market_size = {market}
p = 0.002
q = 0.05
period_days = 30
[metrics]
primary = "revenue"
also = ["new_customers_referred", "active_customers"]
[[intervention]]
kind = "referral_programme"
multiplier = 2
reward_cost = 10
start_day = 20
rollout = {{ pilot_segment = "random < 0.2", full_from_day = 60 }}
[[intervention]]
kind = "price_change"
percent = -10
channel = "web"
start_day = 45
"#,
            market = customers * 3
        ),
    )
    .expect("scenario written");
    path
}
