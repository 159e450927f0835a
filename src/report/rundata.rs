//! A finished run read back from its output folder, so that charts and the summary can be
//! re-rendered (`twinsim report DIR`) from the files alone.

use std::collections::BTreeMap;
use std::path::Path;

use super::run::Summary;
use crate::error::{Error, Result};

/// Everything the charts and `summary.md` need.
#[derive(Debug, Clone)]
pub struct RunData {
    /// `summary.json`.
    pub summary: Summary,
    /// metric → [baseline, scenario] → replication → daily values.
    pub metrics: BTreeMap<String, [Vec<Vec<f64>>; 2]>,
    /// Channel names, in `metrics.csv` order.
    pub channels: Vec<String>,
    /// (arm 0/1, cohort, month, customers, share active).
    pub cohorts: Vec<(usize, usize, usize, f64, f64)>,
    /// (arm 0/1, low, high, twins).
    pub clv: Vec<(usize, f64, f64, f64)>,
}

fn arm(s: &str) -> Option<usize> {
    match s {
        "baseline" => Some(0),
        "scenario" => Some(1),
        _ => None,
    }
}

fn bad(path: &Path, line: usize, what: &str) -> Error {
    Error::Invalid(format!(
        "{}:{line}: {what}: is this a twinsim run folder?",
        path.display()
    ))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

impl RunData {
    /// Reads `summary.json`, `metrics.csv`, `cohorts.csv` and `clv_histogram.csv` from `dir`.
    pub fn read(dir: &Path) -> Result<RunData> {
        let sp = dir.join("summary.json");
        let summary: Summary = serde_json::from_str(&read(&sp)?)
            .map_err(|e| Error::Invalid(format!("{}: {e}", sp.display())))?;
        let mp = dir.join("metrics.csv");
        let mut metrics: BTreeMap<String, [Vec<Vec<f64>>; 2]> = BTreeMap::new();
        let mut channels = Vec::new();
        for (i, line) in read(&mp)?.lines().enumerate().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let (Some(a), Ok(rep), Ok(day), Ok(v)) = (
                f.first().and_then(|s| arm(s)),
                f.get(1).map_or(Ok(0), |s| s.parse::<usize>()),
                f.get(2).map_or(Ok(0), |s| s.parse::<usize>()),
                f.get(4).map_or(Ok(f64::NAN), |s| s.parse::<f64>()),
            ) else {
                return Err(bad(&mp, i + 1, "malformed row"));
            };
            let name = f.get(3).copied().unwrap_or_default();
            if let Some(c) = name.strip_prefix("purchases:")
                && !channels.iter().any(|x| x == c)
            {
                channels.push(c.to_string());
            }
            let entry = metrics.entry(name.to_string()).or_default();
            let reps = &mut entry[a];
            if reps.len() <= rep {
                reps.resize(rep + 1, Vec::new());
            }
            if reps[rep].len() != day {
                return Err(bad(&mp, i + 1, "days out of order"));
            }
            reps[rep].push(v);
        }
        let cp = dir.join("cohorts.csv");
        let mut cohorts = Vec::new();
        for (i, line) in read(&cp)?.lines().enumerate().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let parsed = (|| {
                Some((
                    arm(f.first()?)?,
                    f.get(1)?.parse().ok()?,
                    f.get(2)?.parse().ok()?,
                    f.get(3)?.parse().ok()?,
                    f.get(4)?.parse().ok()?,
                ))
            })();
            cohorts.push(parsed.ok_or_else(|| bad(&cp, i + 1, "malformed row"))?);
        }
        let hp = dir.join("clv_histogram.csv");
        let mut clv = Vec::new();
        for (i, line) in read(&hp)?.lines().enumerate().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let parsed = (|| {
                Some((
                    arm(f.first()?)?,
                    f.get(1)?.parse().ok()?,
                    f.get(2)?.parse().unwrap_or(f64::INFINITY),
                    f.get(3)?.parse().ok()?,
                ))
            })();
            clv.push(parsed.ok_or_else(|| bad(&hp, i + 1, "malformed row"))?);
        }
        Ok(RunData {
            summary,
            metrics,
            channels,
            cohorts,
            clv,
        })
    }

    /// Replications × days of a metric in one arm (empty when absent).
    pub fn series(&self, metric: &str, arm: usize) -> &[Vec<f64>] {
        self.metrics.get(metric).map_or(&[], |m| &m[arm])
    }
}
