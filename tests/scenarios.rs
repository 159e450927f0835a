//! Scenario files: the bundled ones are valid and run; bad ones exit 2 naming file, line,
//! column and what to do, and `check` lists every problem at once.

mod common;

use common::twinsim;
use predicates::prelude::*;

#[test]
fn bundled_scenarios_are_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir.join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            twinsim()
                .current_dir(dir)
                .arg("check")
                .arg(&path)
                .assert()
                .success()
                .stdout(predicate::str::contains("ok"));
            n += 1;
        }
    }
    assert!(n >= 5, "at least five example scenarios");
}

#[test]
fn every_problem_is_reported_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        r#"name = "broken"
horizon_days = -5
replications = 2
colour = "blue"
[population]
customers = 100
[population.bgnbd]
r = 0.5
alpha = 4.0
a = 0.8
b = 2.4
[[intervention]]
kind = "price_chnage"
percent = 5
start_day = 1
[[intervention]]
kind = "retention_offer"
dropout_multiplier = 0.5
start_day = 1
segment = "p_alive>2"
"#,
    )
    .unwrap();
    let shown = path.display().to_string();
    twinsim()
        .arg("check")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("4 problems"))
        .stderr(predicate::str::contains(format!("{shown}:2:16: horizon_days: -5 is impossible")))
        .stderr(predicate::str::contains(format!("{shown}:4:1: colour: unknown key 'colour'")))
        .stderr(predicate::str::contains(format!("{shown}:13:8: intervention[1].kind: unknown intervention kind 'price_chnage': did you mean 'price_change'?")))
        .stderr(predicate::str::contains(format!("{shown}:20:11: intervention[2]: segment 'p_alive>2' matches nobody")));
    twinsim().arg("run").arg(&path).assert().code(2);
}

#[test]
fn missing_model_file_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    std::fs::write(
        &path,
        "name = \"m\"\nhorizon_days = 30\n[population]\nmodel = \"nowhere/model.json\"\n",
    )
    .unwrap();
    twinsim()
        .arg("run")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}:4:9: population.model: model file 'nowhere/model.json' not found",
            path.display()
        )))
        .stderr(predicate::str::contains("run `twinsim fit"));
}

#[test]
fn run_writes_every_output() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    twinsim()
        .current_dir(root)
        .args([
            "run",
            "scenarios/retention-pilot.toml",
            "--replications",
            "4",
            "-q",
            "-o",
        ])
        .arg(out.path())
        .assert()
        .success();
    for f in [
        "metrics.csv",
        "daily.csv",
        "summary.json",
        "cohorts.csv",
        "clv.csv",
    ] {
        assert!(out.path().join(f).is_file(), "{f} missing");
    }
    let s = common::json(&out.path().join("summary.json"));
    assert_eq!(s["primary"]["metric"], "active_customers");
    assert_eq!(s["replications"], 4);
    let low = s["primary"]["difference_low"].as_f64().unwrap();
    let high = s["primary"]["difference_high"].as_f64().unwrap();
    let mid = s["primary"]["difference"].as_f64().unwrap();
    assert!(low <= mid && mid <= high);
    assert!(
        s["defaults_used"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d.as_str().unwrap().contains("elasticity"))
    );
    let clv = std::fs::read_to_string(out.path().join("clv.csv")).unwrap();
    assert_eq!(clv.lines().count(), 2001, "one row per known customer");
}

#[test]
fn a_log_with_only_ids_and_dates_fits_runs_and_names_its_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.csv");
    twinsim()
        .args([
            "generate",
            "--customers",
            "800",
            "--no-amount",
            "--channels",
            "",
            "--seed",
            "4",
            "-q",
            "-o",
        ])
        .arg(&log)
        .assert()
        .success();
    let model = dir.path().join("model.json");
    twinsim()
        .arg("fit")
        .arg(&log)
        .args(["--id-cols", "email,phone", "--no-charts", "-q", "-o"])
        .arg(&model)
        .assert()
        .success();
    let m = common::json(&model);
    assert!(m["models"]["gamma_gamma"].is_null() && m["models"]["channel_dirichlet"].is_null());
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        format!(
            "name = \"bare\"\nhorizon_days = 60\nreplications = 3\n[population]\nmodel = \"{}\"\n[[intervention]]\nkind = \"retention_offer\"\ndropout_multiplier = 0.5\nstart_day = 10\n",
            model.display()
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    twinsim()
        .arg("run")
        .arg(&scenario)
        .args(["--no-charts", "-q", "-o"])
        .arg(&out)
        .assert()
        .success();
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    for default in [
        "spend (Gamma-Gamma",
        "channels (one channel",
        "price elasticity -1",
        "referral probability",
    ] {
        assert!(
            md.contains(default),
            "summary.md does not say that '{default}' is a default:\n{md}"
        );
    }
}
