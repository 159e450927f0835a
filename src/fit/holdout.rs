//! Calibration/holdout validation: predicted vs actual repeat purchases in the holdout period,
//! in total, per customer and per calibration frequency (0, 1, …, 7+), as in the classic papers.

use indexmap::IndexMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Ledger;

/// Calibration frequencies shown one by one; the last bucket is this value and above.
pub const TOP_BUCKET: u32 = 7;

/// One row of the holdout table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrequencyRow {
    /// Calibration repeat purchases (the last bucket holds this and above).
    pub frequency: u32,
    /// Display label, e.g. `7+`.
    pub label: String,
    /// Customers in the bucket.
    pub customers: usize,
    /// Mean actual holdout purchases.
    pub actual_mean: f64,
    /// Mean predicted holdout purchases.
    pub predicted_mean: f64,
}

/// Holdout accuracy of one model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelAccuracy {
    /// Predicted holdout repeat purchases, all customers.
    pub predicted_total: f64,
    /// Mean absolute error per customer.
    pub mae_per_customer: f64,
    /// Per-frequency table.
    pub by_frequency: Vec<FrequencyRow>,
}

/// The holdout comparison stored in `model.json`; the top-level numbers are the primary model's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HoldoutReport {
    /// Model whose numbers are at the top level.
    pub model: String,
    /// Holdout length in time units.
    pub length: f64,
    /// First holdout day.
    pub from: String,
    /// Last holdout day.
    pub to: String,
    /// Actual repeat purchases in the holdout.
    pub actual_total: f64,
    /// Predicted by the primary model.
    pub predicted_total: f64,
    /// Primary model's mean absolute error per customer.
    pub mae_per_customer: f64,
    /// Primary model's per-frequency table.
    pub by_frequency: Vec<FrequencyRow>,
    /// Every fitted purchase model's accuracy.
    pub by_model: IndexMap<String, ModelAccuracy>,
}

/// Scores a model's per-customer predictions `predict(x, t_x, T, length)` against the ledger.
pub fn accuracy(
    ledger: &Ledger,
    length: f64,
    predict: impl Fn(f64, f64, f64, f64) -> f64 + Sync,
) -> ModelAccuracy {
    let predicted: Vec<f64> = (0..ledger.len())
        .into_par_iter()
        .map(|i| predict(ledger.x[i], ledger.t_x[i], ledger.t[i], length))
        .collect();
    let n = TOP_BUCKET as usize + 1;
    let (mut count, mut act, mut pred) = (vec![0usize; n], vec![0.0; n], vec![0.0; n]);
    let mut abs_err = 0.0;
    for (i, &p) in predicted.iter().enumerate() {
        let k = (ledger.x[i] as usize).min(TOP_BUCKET as usize);
        count[k] += 1;
        act[k] += ledger.holdout_x[i];
        pred[k] += p;
        abs_err += (ledger.holdout_x[i] - p).abs();
    }
    let by_frequency = (0..n)
        .map(|k| FrequencyRow {
            frequency: k as u32,
            label: if k == n - 1 {
                format!("{k}+")
            } else {
                k.to_string()
            },
            customers: count[k],
            actual_mean: if count[k] > 0 {
                act[k] / count[k] as f64
            } else {
                0.0
            },
            predicted_mean: if count[k] > 0 {
                pred[k] / count[k] as f64
            } else {
                0.0
            },
        })
        .collect();
    ModelAccuracy {
        predicted_total: predicted.iter().sum(),
        mae_per_customer: abs_err / ledger.len().max(1) as f64,
        by_frequency,
    }
}
