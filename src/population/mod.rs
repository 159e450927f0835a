//! The population model: what `fit` writes (`model.json` plus a per-customer sibling CSV) and
//! what later stages read to spawn twins.

pub mod behaviour;
pub mod from_log;
pub mod load;
pub mod parameters;
pub mod person;
pub mod sampling;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::data::ledger::{LedgerSummary, SameDay, TimeUnit};
use crate::error::{Error, Result};
use crate::fit::Fitted;
use crate::fit::contract::ContractReport;
use crate::fit::holdout::HoldoutReport;
use crate::fit::lrt::LrTest;
use crate::fit::suite::SegmentFits;

/// Schema tag of `model.json`; bump on any incompatible change.
pub const SCHEMA: &str = "twinsim.model/1";

/// What the fit was run on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataSection {
    /// Input file as given.
    pub source: String,
    /// Customers fitted.
    pub customers: usize,
    /// Data rows read (header excluded).
    pub rows_read: u64,
    /// Rows rejected as malformed (with `--on-bad-row skip`).
    pub rows_rejected: u64,
    /// Rows of other event kinds, left out.
    pub rows_other_events: u64,
    /// Distinct identifiers before merging into persons.
    pub identifiers: usize,
    /// Unit of recency, age and rates.
    pub time_unit: TimeUnit,
    /// How same-day purchases were counted.
    pub same_day: SameDay,
    /// Channel names, in the order of the channel model's parameters.
    pub channels: Vec<String>,
    /// Counts and periods from the ledger.
    #[serde(flatten)]
    pub ledger: LedgerSummary,
}

/// The contents of `model.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFile {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// twinsim version that wrote it.
    pub twinsim_version: String,
    /// The purchase model used for twins.
    pub primary_model: String,
    /// Data summary.
    pub data: DataSection,
    /// Fitted models by name (`bgnbd`, `pareto_nbd`, `gamma_gamma`, `channel_dirichlet`).
    pub models: IndexMap<String, Fitted>,
    /// Holdout comparison, with `--holdout-from`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub holdout: Option<HoldoutReport>,
    /// Per-customer statistics file, relative to this file.
    pub customers_file: String,
    /// Every engine parameter: its value and whether it was fitted (with the model and standard
    /// error) or is a documented default.
    #[serde(default)]
    pub parameters: IndexMap<String, ParamSource>,
    /// Likelihood-ratio tests between nested fits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<LrTest>,
    /// Why behaviours the columns could speak to were not fitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Contractual retention, with `--contractual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractReport>,
    /// Per-segment fits, with `--segment-by`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<SegmentSection>,
}

/// Segments of `--segment-by`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentSection {
    /// The column.
    pub column: String,
    /// Fits and test.
    #[serde(flatten)]
    pub fits: SegmentFits,
}

/// Where an engine parameter's value comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParamSource {
    /// The value the engine uses.
    pub value: f64,
    /// Standard error, when fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std_error: Option<f64>,
    /// `fitted: <model>` or `default`.
    pub source: String,
}

impl ModelFile {
    /// Reads and checks a model file.
    pub fn read(path: &Path) -> Result<ModelFile> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let m: ModelFile = serde_json::from_str(&text).map_err(|e| Error::ModelFile {
            path: path.to_path_buf(),
            reason: format!("not a twinsim model file: {e}"),
        })?;
        if m.schema != SCHEMA {
            return Err(Error::ModelFile {
                path: path.to_path_buf(),
                reason: format!(
                    "schema '{}' is not supported (expected '{SCHEMA}'): re-run `twinsim fit`",
                    m.schema
                ),
            });
        }
        Ok(m)
    }

    /// The sibling per-customer file name for a model file path: `model.json` → `model.customers.csv`.
    pub fn customers_path(model_path: &Path) -> PathBuf {
        let stem = model_path
            .file_stem()
            .map_or("model".into(), |s| s.to_string_lossy().into_owned());
        model_path.with_file_name(format!("{stem}.customers.csv"))
    }
}
