//! Determinism: the same seed gives identical metrics.csv bytes with 1, 2 and 8 threads, on the
//! path that runs replications side by side (small populations) and on the one that runs the
//! shards of a replication in parallel (large ones); and the baseline arm does not depend on the
//! interventions (common random numbers).

mod common;

use common::twinsim;

fn scenario(
    dir: &std::path::Path,
    name: &str,
    customers: u64,
    interventions: &str,
) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            r#"name = "{name}"
horizon_days = 120
replications = 3
seed = 77
[population]
customers = {customers}
[population.bgnbd]
r = 0.5
alpha = 4.0
a = 0.8
b = 2.4
[population.channels]
names = ["web", "store"]
alpha = [1.0, 2.0]
[population.referral]
probability = 0.08
[population.acquisition]
market_size = {}
p = 0.01
q = 0.2
[metrics]
primary = "revenue"
{interventions}
"#,
            customers * 3
        ),
    )
    .unwrap();
    path
}

const CHANGES: &str = r#"
[[intervention]]
kind = "price_change"
percent = 5
channel = "web"
start_day = 20
[[intervention]]
kind = "referral_programme"
multiplier = 2
start_day = 10
segment = "random<0.5"
"#;

fn metrics(path: &std::path::Path, threads: u32) -> Vec<u8> {
    let out = tempfile::tempdir().unwrap();
    twinsim()
        .arg("run")
        .arg(path)
        .args(["-q", "--threads", &threads.to_string(), "-o"])
        .arg(out.path())
        .assert()
        .success();
    std::fs::read(out.path().join("metrics.csv")).unwrap()
}

#[test]
fn identical_bytes_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    for customers in [3_000, 60_000] {
        let path = scenario(dir.path(), &format!("det{customers}"), customers, CHANGES);
        let one = metrics(&path, 1);
        assert!(one.len() > 1000);
        assert_eq!(
            one,
            metrics(&path, 2),
            "{customers} customers: 1 vs 2 threads"
        );
        assert_eq!(
            one,
            metrics(&path, 8),
            "{customers} customers: 1 vs 8 threads"
        );
    }
}

#[test]
fn baseline_does_not_depend_on_the_interventions() {
    let dir = tempfile::tempdir().unwrap();
    let a = metrics(&scenario(dir.path(), "a", 3_000, CHANGES), 2);
    let other = r#"
[[intervention]]
kind = "new_channel"
name = "app"
attractiveness = 2
access_uplift = 0.2
start_day = 5
[[intervention]]
kind = "retention_offer"
dropout_multiplier = 0.5
start_day = 0
"#;
    let b = metrics(&scenario(dir.path(), "b", 3_000, other), 2);
    let baseline = |bytes: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(bytes)
            .lines()
            .filter(|l| l.starts_with("baseline,") && !l.contains(",purchases:"))
            .map(String::from)
            .collect()
    };
    assert!(!baseline(&a).is_empty());
    assert_eq!(baseline(&a), baseline(&b));
    let scenario_rows = |bytes: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(bytes)
            .lines()
            .filter(|l| l.starts_with("scenario,"))
            .map(String::from)
            .collect()
    };
    assert_ne!(
        scenario_rows(&a),
        scenario_rows(&b),
        "the interventions must change the scenario arm"
    );
}
