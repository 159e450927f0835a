//! From an event log to a population model on disk: ingest → ledger → fits → `model.json`,
//! the per-customer file and, when rows were skipped, `rejected.csv`.

use std::path::{Path, PathBuf};

use super::SegmentSection;
use super::parameters::behaviour_from_model;
use super::{DataSection, ModelFile, SCHEMA};
use crate::data::{self, BadRowPolicy, IngestOptions, Ledger, Periods};
use crate::error::{Error, Result};
use crate::fit::contract::ContractOptions;
use crate::fit::purchase::PurchaseModel;
use crate::fit::suite::{FitSuite, PurchaseModels, SuiteOptions, fit_ledger};
use crate::report::{customers::write_customers, write_atomic};

/// Everything `twinsim fit` needs.
#[derive(Debug, Clone)]
pub struct FitJob {
    /// The event log.
    pub input: PathBuf,
    /// How to read it.
    pub ingest: IngestOptions,
    /// Calibration and holdout periods.
    pub periods: Periods,
    /// Purchase models to fit.
    pub models: PurchaseModels,
    /// Where `model.json` goes.
    pub output: PathBuf,
    /// Salt for the person keys.
    pub salt: String,
    /// Draw the fit charts into `charts/` beside the model.
    pub charts: bool,
    /// Contractual churn models, with `--contractual`.
    pub contract: Option<ContractOptions>,
}

/// Stages of a fit, for progress reporting.
#[derive(Debug, Clone, Copy)]
pub enum Stage<'a> {
    /// Reading the log.
    Ingest,
    /// Building per-person statistics.
    Ledger,
    /// Fitting the named model.
    Fit(&'a str),
    /// Writing outputs.
    Write,
}

/// Runs the job, writes its files atomically and returns the model file.
pub fn fit_event_log(job: &FitJob, mut progress: impl FnMut(Stage)) -> Result<ModelFile> {
    progress(Stage::Ingest);
    let mut log = data::read_event_log(&job.input, &job.ingest)?;
    let dir = job
        .output
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    if job.ingest.on_bad_row == BadRowPolicy::Skip && !log.rejected.is_empty() {
        write_atomic(&dir.join("rejected.csv"), |w| {
            data::ingest::copy_rejected_rows(&job.input, &log.rejected, w)
        })?;
    }
    progress(Stage::Ledger);
    let key = data::salt_key(&job.salt);
    let ledger = Ledger::build(&mut log, job.periods, |c| data::person_key(&key, c))?;
    let opts = SuiteOptions {
        models: job.models,
        contract: job.contract,
    };
    let suite = fit_ledger(&ledger, &opts, |m| progress(Stage::Fit(m)))?;
    progress(Stage::Write);
    let customers_path = ModelFile::customers_path(&job.output);
    let mut model = model_file(job, &log, &ledger, &suite, &customers_path);
    model.parameters = behaviour_from_model(&model, ledger.len() as u64)?.1;
    let p_alive = p_alive(&ledger, &suite)?;
    write_atomic(&customers_path, |w| {
        write_customers(&ledger, &p_alive, suite.derl.as_deref(), w)
    })?;
    write_atomic(&job.output, |w| {
        serde_json::to_writer_pretty(&mut *w, &model)
            .map_err(|e| Error::io(&job.output, e.into()))?;
        w.write_all(b"\n").map_err(|e| Error::io(&job.output, e))
    })?;
    if job.charts {
        crate::report::charts::fit::fit_charts(&model, &ledger, &dir.join("charts"))?;
    }
    Ok(model)
}

fn p_alive(ledger: &Ledger, suite: &FitSuite) -> Result<Vec<f64>> {
    let m = PurchaseModel::from_fitted(&suite.primary, &suite.models[&suite.primary])?;
    Ok((0..ledger.len())
        .map(|i| m.p_alive(ledger.x[i], ledger.t_x[i], ledger.t[i]))
        .collect())
}

fn model_file(
    job: &FitJob,
    log: &data::EventLog,
    ledger: &Ledger,
    suite: &FitSuite,
    customers: &Path,
) -> ModelFile {
    ModelFile {
        schema: SCHEMA.into(),
        twinsim_version: env!("CARGO_PKG_VERSION").into(),
        primary_model: suite.primary.clone(),
        data: DataSection {
            source: job.input.display().to_string(),
            customers: ledger.len(),
            rows_read: log.rows_read,
            rows_rejected: log.rejected.len() as u64,
            rows_other_events: log.rows_other_events,
            identifiers: log.identity.len(),
            time_unit: job.periods.time_unit,
            same_day: job.periods.same_day,
            channels: ledger.channels.clone(),
            ledger: ledger.summary.clone(),
        },
        models: suite.models.clone(),
        holdout: suite.holdout.clone(),
        customers_file: customers
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
        parameters: Default::default(),
        tests: suite.tests.clone(),
        notes: suite.notes.clone(),
        contract: suite.contract.clone(),
        segments: suite.segments.clone().map(|fits| SegmentSection {
            column: job.ingest.columns.segment_col.clone().unwrap_or_default(),
            fits,
        }),
    }
}
