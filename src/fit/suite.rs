//! Fits every model the data support in one go: the purchase/dropout model(s), spend, channel
//! mix, and the holdout comparison.

use indexmap::IndexMap;

use super::holdout::{HoldoutReport, accuracy};
use super::purchase::PurchaseModel;
use super::{Fitted, bgnbd, channel, gamma_gamma, maximise, pareto_nbd};
use crate::data::Ledger;
use crate::error::Result;

/// Which purchase/dropout models to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseModels {
    /// BG/NBD only.
    BgNbd,
    /// Pareto/NBD only.
    ParetoNbd,
    /// Both, compared by AIC/BIC and holdout accuracy.
    All,
}

/// Fitted models keyed by their `model.json` names, plus the holdout comparison.
#[derive(Debug, Clone)]
pub struct FitSuite {
    /// `bgnbd`, `pareto_nbd`, `gamma_gamma`, `channel_dirichlet` as fitted.
    pub models: IndexMap<String, Fitted>,
    /// The purchase model the rest of twinsim uses (the first one fitted).
    pub primary: String,
    /// Holdout comparison, when the ledger has a holdout period.
    pub holdout: Option<HoldoutReport>,
}

/// Fits the chosen purchase models, Gamma-Gamma when amounts exist and the channel model when
/// channels exist; `progress` is called with each model's name before it is fitted.
pub fn fit_ledger(
    ledger: &Ledger,
    which: PurchaseModels,
    mut progress: impl FnMut(&str),
) -> Result<FitSuite> {
    let mut models = IndexMap::new();
    if matches!(which, PurchaseModels::BgNbd | PurchaseModels::All) {
        progress("bgnbd");
        let lik = bgnbd::Likelihood::new(&ledger.x, &ledger.t_x, &ledger.t);
        models.insert("bgnbd".to_string(), maximise(&lik, "BG/NBD")?);
    }
    if matches!(which, PurchaseModels::ParetoNbd | PurchaseModels::All) {
        progress("pareto_nbd");
        let lik = pareto_nbd::Likelihood::new(&ledger.x, &ledger.t_x, &ledger.t);
        models.insert("pareto_nbd".to_string(), maximise(&lik, "Pareto/NBD")?);
    }
    let primary = models.keys().next().cloned().unwrap_or_default();
    let sum = &ledger.summary;
    let holdout = match (sum.holdout_length, &sum.holdout_from, &sum.holdout_end) {
        (Some(length), Some(from), Some(to)) => {
            let mut by_model = IndexMap::new();
            for (name, m) in &models {
                let model = PurchaseModel::from_fitted(name, m)?;
                by_model.insert(
                    name.clone(),
                    accuracy(ledger, length, |x, tx, t, len| {
                        model.conditional_expected(len, x, tx, t)
                    }),
                );
            }
            let top = by_model[&primary].clone();
            Some(HoldoutReport {
                model: primary.clone(),
                length,
                from: from.clone(),
                to: to.clone(),
                actual_total: ledger.holdout_x.iter().sum(),
                predicted_total: top.predicted_total,
                mae_per_customer: top.mae_per_customer,
                by_frequency: top.by_frequency,
                by_model,
            })
        }
        _ => None,
    };
    if ledger.has_amount() {
        let lik = gamma_gamma::Likelihood::new(&ledger.x, &ledger.spend_mean);
        if lik.n_obs() >= 2 {
            progress("gamma_gamma");
            models.insert("gamma_gamma".to_string(), maximise(&lik, "Gamma-Gamma")?);
        }
    }
    if ledger.channels.len() >= 2 {
        progress("channel_dirichlet");
        let lik = channel::Likelihood::new(&ledger.channels, &ledger.channel_counts);
        models.insert(
            "channel_dirichlet".to_string(),
            maximise(&lik, "Dirichlet-multinomial channel mix")?,
        );
    }
    Ok(FitSuite {
        models,
        primary,
        holdout,
    })
}

use super::Objective as _;
