//! Charts of `twinsim fit`: calibration vs holdout purchases by frequency, and the fitted vs
//! empirical distribution of calibration repeat purchases.

use std::path::Path;

use super::bars::{BarChart, Bars};
use super::save;
use super::theme::{BASELINE, SCENARIO};
use crate::data::Ledger;
use crate::error::Result;
use crate::fit::holdout::TOP_BUCKET;
use crate::fit::purchase::PurchaseModel;
use crate::population::ModelFile;

/// Draws the fit charts into `dir`; returns the names written.
pub fn fit_charts(model: &ModelFile, ledger: &Ledger, dir: &Path) -> Result<Vec<String>> {
    let source = format!("twinsim {}, {}", model.twinsim_version, model.data.source);
    let unit = match model.data.time_unit {
        crate::data::TimeUnit::Week => "weeks",
        crate::data::TimeUnit::Day => "days",
    };
    let mut written = Vec::new();
    let labels: Vec<String> = (0..=TOP_BUCKET)
        .map(|k| {
            if k == TOP_BUCKET {
                format!("{k}+")
            } else {
                k.to_string()
            }
        })
        .collect();
    if let Some(h) = &model.holdout {
        let chart = BarChart {
            title: "Holdout: actual vs predicted repeat purchases per customer".into(),
            subtitle: format!(
                "{} model, holdout {} to {} ({:.0} {unit}); by calibration repeat purchases",
                h.model, h.from, h.to, h.length
            ),
            x_label: "repeat purchases in the calibration period".into(),
            y_label: "mean repeat purchases in the holdout".into(),
            categories: labels.clone(),
            groups: vec![
                Bars {
                    label: "actual".into(),
                    color: BASELINE,
                    values: h.by_frequency.iter().map(|r| r.actual_mean).collect(),
                    whiskers: None,
                },
                Bars {
                    label: "predicted".into(),
                    color: SCENARIO,
                    values: h.by_frequency.iter().map(|r| r.predicted_mean).collect(),
                    whiskers: None,
                },
            ],
        };
        save(&chart, dir, "holdout_by_frequency", &source)?;
        written.push("holdout_by_frequency".into());
    }
    if let Some(fitted) = model.models.get("bgnbd")
        && let Ok(PurchaseModel::BgNbd(m)) = PurchaseModel::from_fitted("bgnbd", fitted)
    {
        let n = TOP_BUCKET as usize + 1;
        let mut empirical = vec![0.0; n];
        let mut expected = vec![0.0; n];
        for i in 0..ledger.len() {
            empirical[(ledger.x[i] as usize).min(n - 1)] += 1.0;
            let mut below = 0.0;
            for (k, e) in expected.iter_mut().enumerate().take(n - 1) {
                let p = m.prob_x(k as u32, ledger.t[i]);
                *e += p;
                below += p;
            }
            expected[n - 1] += (1.0 - below).max(0.0);
        }
        let chart = BarChart {
            title: "Repeat purchases in the calibration period: data vs fitted BG/NBD".into(),
            subtitle: format!(
                "{} customers; expected counts sum P(X(T) = x) over each customer's age T",
                ledger.len()
            ),
            x_label: "repeat purchases".into(),
            y_label: "customers".into(),
            categories: labels,
            groups: vec![
                Bars {
                    label: "data".into(),
                    color: BASELINE,
                    values: empirical,
                    whiskers: None,
                },
                Bars {
                    label: "fitted BG/NBD".into(),
                    color: SCENARIO,
                    values: expected,
                    whiskers: None,
                },
            ],
        };
        save(&chart, dir, "repeat_purchase_distribution", &source)?;
        written.push("repeat_purchase_distribution".into());
    }
    Ok(written)
}
