//! The fitted purchase/dropout model, whichever it is: one value with the closed forms every
//! later stage needs (P(alive), conditional expectations), so callers never match on names.

use super::Fitted;
use super::bgnbd::BgNbd;
use super::pareto_nbd::ParetoNbd;
use crate::error::{Error, Result};

/// A purchase/dropout model with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PurchaseModel {
    /// BG/NBD.
    BgNbd(BgNbd),
    /// Pareto/NBD.
    ParetoNbd(ParetoNbd),
}

impl PurchaseModel {
    /// The model stored under `name` in `model.json` (`bgnbd` or `pareto_nbd`).
    pub fn from_fitted(name: &str, fitted: &Fitted) -> Result<Self> {
        // By name, not position: a JSON reader may reorder keys.
        let get = |names: [&str; 4]| -> Result<Vec<f64>> {
            names.iter().map(|n| fitted.get(n)).collect()
        };
        match name {
            "bgnbd" => Ok(PurchaseModel::BgNbd(BgNbd::from_slice(&get(
                crate::fit::bgnbd::NAMES,
            )?)?)),
            "pareto_nbd" => Ok(PurchaseModel::ParetoNbd(ParetoNbd::from_slice(&get(
                crate::fit::pareto_nbd::NAMES,
            )?)?)),
            other => Err(Error::Invalid(format!(
                "'{other}' is not a purchase model (bgnbd, pareto_nbd)"
            ))),
        }
    }

    /// P(alive at T | x, t_x, T).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        match self {
            PurchaseModel::BgNbd(m) => m.p_alive(x, t_x, t),
            PurchaseModel::ParetoNbd(m) => m.p_alive(x, t_x, t),
        }
    }

    /// Expected purchases in the next `horizon` time units given (x, t_x, T).
    pub fn conditional_expected(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> f64 {
        match self {
            PurchaseModel::BgNbd(m) => m.conditional_expected(horizon, x, t_x, t),
            PurchaseModel::ParetoNbd(m) => m.conditional_expected(horizon, x, t_x, t),
        }
    }
}
