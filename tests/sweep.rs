//! `[sweep]`: each grid point is the scenario with the swept values written in (bit for bit
//! the same run), points run side by side give what they give one by one, a neutral point
//! has no effect at all (common random numbers), bad sweeps are reported with their line and
//! column, and `twinsim run` writes the sweep's table, summary and response curves.

mod common;

use common::twinsim;
use predicates::prelude::*;
use twinsim::engine::cluster::Solo;
use twinsim::engine::{RunOptions, RunResult, run, run_sweep};
use twinsim::scenario::{Scenario, load_str};

const BASE: &str = r#"name = "sweep test"
horizon_days = 150
replications = 3
seed = 17
[population]
customers = 2500
[population.bgnbd]
r = 0.5
alpha = 4.0
a = 0.8
b = 2.4
[population.referral]
probability = 0.05
[population.channels]
names = ["web", "store"]
alpha = [1.0, 1.0]
[population.price]
elasticity = -1.5
[metrics]
primary = "purchases"
also = ["revenue", "referrals"]
[[intervention]]
kind = "purchase_rate"
multiplier = 1.1
start_day = 30
[[intervention]]
kind = "price_change"
percent = 5
channel = "web"
start_day = 60
"#;

fn load(text: &str) -> Scenario {
    load_str(text, std::path::Path::new("sweep.toml")).unwrap_or_else(|e| panic!("{e}"))
}

fn same(a: &RunResult, b: &RunResult) -> bool {
    let bits = |r: &RunResult| format!("{:?}{:?}", r.baseline.series, r.scenario.series);
    bits(a) == bits(b) && a.events == b.events
}

#[test]
fn a_point_is_the_scenario_with_its_values_written_in() {
    let s = load(&format!(
        "{BASE}[sweep]\nmultiplier = [0.8, 1.25]\nintervention.2.start_day = [40, 90]\n"
    ));
    let sw = s.sweep.as_ref().expect("a sweep");
    assert_eq!(sw.axes.len(), 2);
    assert_eq!(sw.axes[0].target, "intervention.1.multiplier");
    assert_eq!(sw.axes[1].target, "intervention.2.start_day");
    let opts = RunOptions::default();
    let results = run_sweep(sw, &opts, &Solo, |_, _| {}).unwrap();
    assert_eq!(results.len(), 4);
    for (p, r) in sw.points.iter().zip(&results) {
        let written = BASE
            .replace("multiplier = 1.1", &format!("multiplier = {}", p.values[0]))
            .replace("start_day = 60", &format!("start_day = {}", p.values[1]));
        let alone = load(&written);
        assert!(alone.sweep.is_none());
        let what = |s: &Scenario| -> Vec<String> {
            s.interventions
                .iter()
                .map(|i| format!("{:?} {} {:?}", i.kind, i.start_day, i.end_day))
                .collect()
        };
        assert_eq!(what(&alone), what(&p.scenario));
        let direct = run(&alone, &opts, |_, _| {}).unwrap();
        assert!(
            same(&direct, r),
            "point {:?} differs from its own scenario",
            p.values
        );
    }
    // The first axis varies slowest.
    let values: Vec<Vec<f64>> = sw.points.iter().map(|p| p.values.clone()).collect();
    assert_eq!(
        values,
        [[0.8, 40.0], [0.8, 90.0], [1.25, 40.0], [1.25, 90.0]]
    );
}

#[test]
fn points_side_by_side_give_what_they_give_one_by_one() {
    let s = load(&format!("{BASE}[sweep]\npercent = [-10, 0, 10]\n"));
    let sw = s.sweep.as_ref().unwrap();
    let on = |threads| {
        let opts = RunOptions {
            threads: Some(threads),
            ..RunOptions::default()
        };
        run_sweep(sw, &opts, &Solo, |_, _| {}).unwrap()
    };
    let (one, two) = (on(1), on(2));
    for (a, b) in one.iter().zip(&two) {
        assert!(same(a, b), "threads changed a sweep point");
    }
    let mut calls = Vec::new();
    run_sweep(sw, &RunOptions::default(), &Solo, |d, t| calls.push((d, t))).unwrap();
    assert_eq!(calls.last(), Some(&(3, 3)), "progress reaches every point");
}

#[test]
fn a_neutral_point_changes_nothing_and_the_response_is_monotone() {
    // Only the purchase-rate multiplier is swept; the price change is removed.
    let base = BASE
        .split("[[intervention]]\nkind = \"price_change\"")
        .next()
        .unwrap();
    let s = load(&format!("{base}[sweep]\nmultiplier = [0.5, 1, 2]\n"));
    let sw = s.sweep.as_ref().unwrap();
    let results = run_sweep(sw, &RunOptions::default(), &Solo, |_, _| {}).unwrap();
    let sum = twinsim::report::sweep::summarise(&s, sw, &results, 17);
    let change: Vec<f64> = sum
        .points
        .iter()
        .map(|p| p.summary.primary.difference)
        .collect();
    assert!(change[0] < 0.0 && change[2] > 0.0, "{change:?}");
    for e in &sum.points[1].summary.all_metrics {
        assert!(
            e.difference == 0.0 || e.difference.is_nan(),
            "multiplier 1 changed {}: {}",
            e.metric,
            e.difference
        );
    }
}

fn check_fails(dir: &std::path::Path, sweep: &str, expected: &[&str]) {
    let path = dir.join("bad.toml");
    std::fs::write(&path, format!("{BASE}[sweep]\n{sweep}\n")).unwrap();
    let mut a = twinsim().arg("check").arg(&path).assert().code(2);
    for e in expected {
        a = a.stderr(predicate::str::contains(*e));
    }
}

#[test]
fn bad_sweeps_are_reported_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let shown = dir.path().join("bad.toml").display().to_string();
    // The line after `[sweep]`: the value itself, then the key.
    let line = BASE.lines().count() + 2;
    check_fails(
        dir.path(),
        "percent = [5, -150]",
        &[
            &format!("{shown}:{line}:15:"),
            "at sweep point percent = -150",
            "greater than -100",
        ],
    );
    check_fails(
        dir.path(),
        "start_day = [1, 2]",
        &[
            &format!("{shown}:{line}:1:"),
            "interventions 1 and 2 all take 'start_day'",
            "intervention.1.start_day",
        ],
    );
    check_fails(
        dir.path(),
        "colour = [1, 2]",
        &["no intervention takes 'colour'"],
    );
    check_fails(
        dir.path(),
        "intervention.3.percent = [1]",
        &["no table number 3", "there are 2"],
    );
    check_fails(
        dir.path(),
        "population.referral.colour = [0.1]",
        &["unknown key 'colour'", "probability"],
    );
    check_fails(dir.path(), "percent = []", &["at least one value"]);
    check_fails(
        dir.path(),
        "population.channels.names = [1]",
        &["holds a table or a list, not one value"],
    );
    check_fails(
        dir.path(),
        "population.nothing.1.x = [1]",
        &["there are no [[population.nothing]] tables"],
    );
    // A section the file leaves out is made for the sweep.
    let ok = dir.path().join("ok.toml");
    std::fs::write(
        &ok,
        format!(
            "{BASE}[sweep]
population.service.kappa = [1, 2]
"
        ),
    )
    .unwrap();
    twinsim()
        .arg("check")
        .arg(&ok)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 grid points"));
    check_fails(dir.path(), "percent = [\"high\"]", &["expected a number"]);
    check_fails(
        dir.path(),
        "percent = [1]\nmultiplier = [1]\nintervention.2.start_day = [70]",
        &["one or two parameters; this one gives 3"],
    );
}

#[test]
fn run_writes_the_sweep_table_summary_and_response_curves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sweep.toml");
    std::fs::write(&path, format!("{BASE}[sweep]\npercent = [-10, 0, 10]\n")).unwrap();
    let out = dir.path().join("out");
    twinsim()
        .args(["run", "-q", "--replications", "2", "--output"])
        .arg(&out)
        .arg(&path)
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("point,percent,metric,baseline,scenario,difference")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len() % 3, 0);
    assert!(rows.iter().any(|r| r.starts_with("2,0,purchases,")));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(json["points"].as_array().unwrap().len(), 3);
    assert_eq!(json["axes"][0]["target"], "intervention.2.percent");
    let md = std::fs::read_to_string(out.join("sweep.md")).unwrap();
    assert!(md.contains("| percent |"), "{md}");
    for m in ["purchases", "revenue", "referrals"] {
        for ext in ["png", "svg"] {
            let f = out.join("charts").join(format!("sweep_{m}.{ext}"));
            assert!(
                std::fs::metadata(&f)
                    .map(|m| m.len() > 1000)
                    .unwrap_or(false),
                "{f:?}"
            );
        }
    }
    // Without charts: the tables only.
    let bare = dir.path().join("bare");
    twinsim()
        .args([
            "run",
            "-q",
            "--no-charts",
            "--replications",
            "2",
            "--output",
        ])
        .arg(&bare)
        .arg(&path)
        .assert()
        .success();
    assert!(!bare.join("charts").exists());
    assert_eq!(
        std::fs::read(bare.join("sweep.csv")).unwrap(),
        csv.as_bytes()
    );
}

#[test]
fn points_share_one_fitted_model() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/price-sweep.toml");
    let s = twinsim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let sw = s.sweep.as_ref().unwrap();
    let model = |s: &Scenario| match &s.source {
        twinsim::scenario::Source::Fitted(f) => f.clone(),
        _ => panic!("price-sweep.toml runs on the fitted example population"),
    };
    let first = model(&s);
    assert!(sw.points.len() >= 5);
    for p in &sw.points {
        assert!(
            std::sync::Arc::ptr_eq(&first, &model(&p.scenario)),
            "a point holds its own copy of the customers"
        );
    }
}
