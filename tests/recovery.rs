//! Parameter recovery: logs made by `twinsim generate` from known parameters fit back within
//! three standard errors (20,000 customers each).

mod common;

use common::{json, twinsim};

struct Case {
    name: &'static str,
    /// r, alpha, a, b for `generate` (a and b unused for Pareto/NBD).
    bgnbd: [f64; 4],
    /// More `generate` options.
    extra: &'static [&'static str],
    /// More `fit` options.
    fit_extra: &'static [&'static str],
}

fn recover(case: &Case, seed: u64) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.csv");
    let [r, alpha, a, b] = case.bgnbd.map(|v| v.to_string());
    twinsim()
        .args([
            "generate",
            "--customers",
            "20000",
            "--weeks",
            "78",
            "--time-of-day",
            "-q",
        ])
        .args([
            "--r",
            &r,
            "--alpha",
            &alpha,
            "--a",
            &a,
            "--b",
            &b,
            "--seed",
            &seed.to_string(),
        ])
        .args(case.extra)
        .arg("-o")
        .arg(&log)
        .assert()
        .success();
    let model = dir.path().join("model.json");
    twinsim()
        .arg("fit")
        .arg(&log)
        .args([
            "--id-cols",
            "email,phone",
            "--same-day",
            "each",
            "--salt",
            "t",
            "-o",
        ])
        .arg(&model)
        .args(case.fit_extra)
        .assert()
        .success();
    json(&model)
}

fn within_3se(m: &serde_json::Value, model: &str, truth: &[(&str, f64)], case: &str) {
    common::within_3se(&m["models"][model], truth, &format!("{case} {model}"));
}

#[test]
fn bgnbd_recovers_three_parameter_sets() {
    let cases = [
        Case {
            name: "CDNOW-like",
            bgnbd: [0.243, 4.414, 0.793, 2.426],
            extra: &[],
            fit_extra: &[],
        },
        Case {
            name: "small r, large b",
            bgnbd: [0.08, 2.0, 0.6, 12.0],
            extra: &[],
            fit_extra: &[],
        },
        Case {
            name: "frequent buyers, quick churn",
            bgnbd: [2.0, 6.0, 1.5, 3.5],
            extra: &[],
            fit_extra: &[],
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let m = recover(case, 100 + i as u64);
        assert_eq!(
            m["data"]["customers"], 20000,
            "{}: identity merge must find every customer",
            case.name
        );
        let [r, alpha, a, b] = case.bgnbd;
        within_3se(
            &m,
            "bgnbd",
            &[("r", r), ("alpha", alpha), ("a", a), ("b", b)],
            case.name,
        );
    }
}

#[test]
fn spend_and_channel_mix_recover() {
    let case = Case {
        name: "spend and channels",
        bgnbd: [1.0, 5.0, 0.8, 4.0],
        extra: &[
            "--spend-p",
            "4",
            "--spend-q",
            "5",
            "--spend-v",
            "40",
            "--channels",
            "web,store,app",
            "--channel-alpha",
            "2,1,0.5",
        ],
        fit_extra: &[],
    };
    let m = recover(&case, 7);
    within_3se(
        &m,
        "gamma_gamma",
        &[("p", 4.0), ("q", 5.0), ("v", 40.0)],
        case.name,
    );
    within_3se(
        &m,
        "channel_dirichlet",
        &[("web", 2.0), ("store", 1.0), ("app", 0.5)],
        case.name,
    );
}

#[test]
fn pareto_nbd_recovers() {
    let case = Case {
        name: "Pareto/NBD",
        bgnbd: [0.55, 10.6, 0.8, 2.4],
        extra: &["--model", "pareto-nbd", "--s", "0.9", "--beta", "12"],
        fit_extra: &["--model", "pareto-nbd"],
    };
    let m = recover(&case, 5);
    within_3se(
        &m,
        "pareto_nbd",
        &[("r", 0.55), ("alpha", 10.6), ("s", 0.9), ("beta", 12.0)],
        case.name,
    );
}
