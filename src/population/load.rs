//! The population a scenario runs on: fitted (`model.json` + per-customer file) or inline priors.

use std::path::Path;

use super::ModelFile;
use super::behaviour::{Behaviour, MAX_CHANNELS};
use super::parameters::behaviour_from_model;
use crate::data::labels::NO_LABEL;
use crate::error::{Error, Result};

/// One known customer's history, as the per-customer file stores it.
#[derive(Debug, Clone)]
pub struct Person {
    /// Salted key.
    pub key: String,
    /// Calibration repeat purchases.
    pub x: f64,
    /// Recency.
    pub t_x: f64,
    /// Age.
    pub t: f64,
    /// Mean repeat spend (NaN if none).
    pub spend_mean: f64,
    /// Repeat transactions with an amount.
    pub spend_n: u32,
    /// Purchases per channel.
    pub channel_counts: [u16; MAX_CHANNELS],
    /// Index of the person's segment in `model.segments.names` ([`NO_LABEL`] without one).
    pub segment: u32,
}

/// A fitted population.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The model file.
    pub model: ModelFile,
    /// Known customers.
    pub persons: Vec<Person>,
}

/// Reads `model.json` and its per-customer file.
pub fn read_fitted(path: &Path) -> Result<Fitted> {
    let model = ModelFile::read(path)?;
    let customers = path.with_file_name(&model.customers_file);
    let mut rdr = csv::Reader::from_path(&customers).map_err(|e| Error::ModelFile {
        path: customers.clone(),
        reason: format!("cannot read the per-customer file ({e}): re-run `twinsim fit`"),
    })?;
    let header = rdr
        .headers()
        .map_err(|e| Error::ModelFile {
            path: customers.clone(),
            reason: e.to_string(),
        })?
        .clone();
    let col = |name: &str| header.iter().position(|h| h == name);
    let need = |name: &str| {
        col(name).ok_or_else(|| Error::ModelFile {
            path: customers.clone(),
            reason: format!("column '{name}' is missing: re-run `twinsim fit`"),
        })
    };
    let (k, x, tx, t, sm, sn) = (
        need("key")?,
        need("frequency")?,
        need("recency")?,
        need("T")?,
        need("spend_mean")?,
        need("spend_n")?,
    );
    let ch: Vec<usize> = model
        .data
        .channels
        .iter()
        .take(MAX_CHANNELS)
        .filter_map(|c| col(&format!("channel:{c}")))
        .collect();
    let seg_col = col("segment");
    let seg_names: Vec<String> = model
        .segments
        .as_ref()
        .map(|s| s.fits.names.clone())
        .unwrap_or_default();
    let mut persons = Vec::with_capacity(model.data.customers);
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| Error::ModelFile {
            path: customers.clone(),
            reason: e.to_string(),
        })?;
        let num = |j: usize| -> Result<f64> {
            let s = rec.get(j).unwrap_or("");
            if s.is_empty() {
                return Ok(f64::NAN);
            }
            s.parse().map_err(|_| Error::ModelFile {
                path: customers.clone(),
                reason: format!("line {}: '{s}' is not a number", i + 2),
            })
        };
        let mut counts = [0u16; MAX_CHANNELS];
        for (slot, &j) in counts.iter_mut().zip(&ch) {
            *slot = num(j)?.clamp(0.0, u16::MAX as f64) as u16;
        }
        persons.push(Person {
            key: rec.get(k).unwrap_or("").to_string(),
            x: num(x)?,
            t_x: num(tx)?,
            t: num(t)?,
            spend_mean: num(sm)?,
            spend_n: num(sn)?.max(0.0) as u32,
            channel_counts: counts,
            segment: seg_col
                .and_then(|j| rec.get(j))
                .and_then(|v| {
                    seg_names
                        .iter()
                        .position(|n| n == v)
                        .or_else(|| seg_names.iter().position(|n| n == "(other)"))
                })
                .map_or(NO_LABEL, |p| p as u32),
        });
    }
    Ok(Fitted { model, persons })
}

impl Fitted {
    /// Behaviour from the fitted models; what was not fitted takes its default (listed).
    pub fn behaviour(&self) -> Result<Behaviour> {
        Ok(behaviour_from_model(&self.model, self.persons.len() as u64)?.0)
    }
}
