//! The CDNOW sample reproduces the published estimates (Fader, Hardie & Lee 2005) and the
//! classic calibration/holdout comparison.

mod common;

use common::{json, shared_data};

fn cdnow_fit(extra: &[&str], out: &std::path::Path) -> Option<serde_json::Value> {
    let model = out.join("model.json");
    let mut args = vec!["--model", "all"];
    args.extend_from_slice(extra);
    common::fit_cdnow(&args, &model).then(|| json(&model))
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    assert!(
        (got / want - 1.0).abs() <= rel,
        "{what}: {got} vs published {want} (tolerance {rel})"
    );
}

#[test]
fn published_estimates() {
    let dir = tempfile::tempdir().unwrap();
    let Some(m) = cdnow_fit(&["--observation-end", "1997-09-30"], dir.path()) else {
        return;
    };
    assert_eq!(m["data"]["customers"], 2357);
    assert_eq!(m["data"]["rows_read"], 6919);
    assert_eq!(m["data"]["rows_rejected"], 0);
    let p = |model: &str, name: &str| m["models"][model]["params"][name].as_f64().unwrap();
    // BG/NBD: FHL (2005) Marketing Science, table 1.
    for (name, want) in [("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426)] {
        close(p("bgnbd", name), want, 0.01, name);
    }
    let ll = m["models"]["bgnbd"]["log_likelihood"].as_f64().unwrap();
    assert!(
        (ll - -9582.4).abs() <= 0.1,
        "BG/NBD log-likelihood {ll} vs -9582.4"
    );
    // Pareto/NBD: same paper.
    for (name, want) in [
        ("r", 0.553),
        ("alpha", 10.578),
        ("s", 0.606),
        ("beta", 11.669),
    ] {
        close(p("pareto_nbd", name), want, 0.02, name);
    }
    let ll = m["models"]["pareto_nbd"]["log_likelihood"]
        .as_f64()
        .unwrap();
    assert!(
        (ll - -9595.0).abs() <= 0.1,
        "Pareto/NBD log-likelihood {ll} vs -9595.0"
    );
    // Gamma-Gamma: FHL (2005) JMR "RFM and CLV".
    for (name, want) in [("p", 6.25), ("q", 3.74), ("v", 15.44)] {
        close(p("gamma_gamma", name), want, 0.02, name);
    }
    assert_eq!(m["models"]["gamma_gamma"]["n_obs"], 946);
    for model in ["bgnbd", "pareto_nbd", "gamma_gamma"] {
        let f = &m["models"][model];
        assert_eq!(f["converged"], true, "{model}: {}", f["message"]);
        for key in ["aic", "bic", "log_likelihood"] {
            assert!(f[key].as_f64().unwrap().is_finite());
        }
        for (_, se) in f["std_errors"].as_object().unwrap() {
            assert!(se.as_f64().unwrap() > 0.0);
        }
    }
    // Published standard errors of BG/NBD r and alpha (FHL 2005): 0.013 and 0.378.
    close(
        m["models"]["bgnbd"]["std_errors"]["r"].as_f64().unwrap(),
        0.0125,
        0.05,
        "se(r)",
    );
}

#[test]
fn calibration_matches_the_published_summary_file() {
    let dir = tempfile::tempdir().unwrap();
    let Some(m) = cdnow_fit(&["--observation-end", "1997-09-30"], dir.path()) else {
        return;
    };
    let data = shared_data().unwrap();
    let mut ours: Vec<(f64, f64, f64)> =
        csv::Reader::from_path(dir.path().join(m["customers_file"].as_str().unwrap()))
            .unwrap()
            .deserialize::<std::collections::HashMap<String, String>>()
            .map(|r| {
                let r = r.unwrap();
                let f = |k: &str| r[k].parse::<f64>().unwrap();
                (f("frequency"), f("recency"), f("T"))
            })
            .collect();
    let mut theirs: Vec<(f64, f64, f64)> =
        csv::Reader::from_path(data.join("cdnow_customers_summary.csv"))
            .unwrap()
            .records()
            .map(|r| {
                let r = r.unwrap();
                (
                    r[1].parse().unwrap(),
                    r[2].parse().unwrap(),
                    r[3].parse().unwrap(),
                )
            })
            .collect();
    let key = |a: &(f64, f64, f64), b: &(f64, f64, f64)| a.partial_cmp(b).unwrap();
    ours.sort_by(key);
    theirs.sort_by(key);
    assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(o.0, t.0);
        assert!(
            (o.1 - t.1).abs() < 0.006 && (o.2 - t.2).abs() < 0.006,
            "{o:?} vs {t:?}"
        );
    }
}

#[test]
fn holdout_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let Some(m) = cdnow_fit(
        &[
            "--holdout-from",
            "1997-10-01",
            "--observation-end",
            "1998-06-30",
        ],
        dir.path(),
    ) else {
        return;
    };
    let h = &m["holdout"];
    assert_eq!(h["actual_total"], 1882.0);
    assert_eq!(h["length"], 39.0);
    let predicted = h["predicted_total"].as_f64().unwrap();
    // BG/NBD under-predicts CDNOW's holdout slightly (the paper's figure 4); lifetimes gives 1,653.
    assert!(
        (1600.0..1700.0).contains(&predicted),
        "predicted {predicted}"
    );
    assert!(h["mae_per_customer"].as_f64().unwrap() > 0.0);
    let rows = h["by_frequency"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[0]["customers"], 1411);
    let total: u64 = rows.iter().map(|r| r["customers"].as_u64().unwrap()).sum();
    assert_eq!(total, 2357);
    // Paper, figure 4: customers with no calibration repeat purchase made 0.237 in the holdout.
    assert!((rows[0]["actual_mean"].as_f64().unwrap() - 0.237).abs() < 0.001);
    assert!((rows[0]["predicted_mean"].as_f64().unwrap() - 0.225).abs() < 0.01);
    assert!(
        h["by_model"]["pareto_nbd"]["predicted_total"]
            .as_f64()
            .unwrap()
            > 1600.0
    );
    // The calibration fit itself is the same as without the holdout.
    assert!((m["models"]["bgnbd"]["log_likelihood"].as_f64().unwrap() - -9582.4).abs() < 0.1);
}
