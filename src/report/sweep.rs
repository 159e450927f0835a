//! A sweep's outputs: `sweep.csv` (every metric's effect at every grid point, tidy),
//! `sweep.json`, `sweep.md` (the response of the declared metrics, one table) and a
//! response-curve chart per declared metric (`charts/sweep_<metric>.png` and `.svg`).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::charts::lines::{Line, LineChart};
use super::charts::theme::{PALETTE, SCENARIO};
use super::charts::{file_name, label, save};
use super::markdown::{num, pct};
use super::run::{Summary, summary};
use super::write_atomic;
use crate::engine::RunResult;
use crate::error::{Error, Result};
use crate::metrics::summary::Effect;
use crate::scenario::Scenario;
use crate::scenario::sweep::{Axis, Sweep};

/// One grid point in `sweep.json`.
#[derive(Debug, Clone, Serialize)]
pub struct PointSummary {
    /// One value per axis, in axis order.
    pub values: Vec<f64>,
    /// The point's run summary (as `summary.json` of a run).
    pub summary: Summary,
}

/// `sweep.json`.
#[derive(Debug, Clone, Serialize)]
pub struct SweepSummary {
    /// twinsim version.
    pub twinsim_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario file.
    pub file: String,
    /// Seed, the same at every point (common random numbers across points too).
    pub seed: u64,
    /// The swept parameters.
    pub axes: Vec<AxisSummary>,
    /// Every point, the first axis varying slowest.
    pub points: Vec<PointSummary>,
}

/// One axis in `sweep.json`.
#[derive(Debug, Clone, Serialize)]
pub struct AxisSummary {
    /// Key as written in `[sweep]`.
    pub key: String,
    /// What it sets.
    pub target: String,
    /// Its values.
    pub values: Vec<f64>,
}

impl From<&Axis> for AxisSummary {
    fn from(a: &Axis) -> Self {
        AxisSummary {
            key: a.key.clone(),
            target: a.target.clone(),
            values: a.values.clone(),
        }
    }
}

/// Summarises each point's run (`results` in point order).
pub fn summarise(s: &Scenario, sw: &Sweep, results: &[RunResult], seed: u64) -> SweepSummary {
    SweepSummary {
        twinsim_version: env!("CARGO_PKG_VERSION").into(),
        scenario: s.name.clone(),
        file: s.path.display().to_string(),
        seed,
        axes: sw.axes.iter().map(AxisSummary::from).collect(),
        points: sw
            .points
            .iter()
            .zip(results)
            .map(|(p, r)| PointSummary {
                values: p.values.clone(),
                summary: summary(&p.scenario, r, seed),
            })
            .collect(),
    }
}

/// `sweep.csv`: one row per point and metric.
pub fn sweep_csv(s: &SweepSummary) -> String {
    let mut out = String::from("point");
    for a in &s.axes {
        let _ = write!(out, ",{}", a.key);
    }
    out.push_str(",metric,baseline,scenario,difference,difference_low,difference_high,relative_change,relative_low,relative_high,replications\n");
    for (k, p) in s.points.iter().enumerate() {
        for e in &p.summary.all_metrics {
            let _ = write!(out, "{}", k + 1);
            for v in &p.values {
                let _ = write!(out, ",{v}");
            }
            let _ = writeln!(
                out,
                ",{},{},{},{},{},{},{},{},{},{}",
                e.metric,
                e.baseline_mean,
                e.scenario_mean,
                e.difference,
                e.difference_low,
                e.difference_high,
                e.relative_change,
                e.relative_low,
                e.relative_high,
                e.replications
            );
        }
    }
    out
}

/// The declared metrics (primary first) of a point.
fn declared(p: &PointSummary) -> impl Iterator<Item = &Effect> {
    std::iter::once(&p.summary.primary).chain(p.summary.also.iter())
}

/// `sweep.md`: what was swept and, per point, each declared metric's change with its interval.
pub fn sweep_md(s: &SweepSummary, charts: &[(String, String)]) -> String {
    let mut out = format!("# Sweep: {}\n\n", s.scenario);
    for a in &s.axes {
        let values: Vec<String> = a.values.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(out, "- `{}` ({}): {}", a.key, a.target, values.join(", "));
    }
    let first = s.points.first();
    let reps = first.map_or(0, |p| p.summary.replications);
    let _ = writeln!(
        out,
        "\n{} points, {} replications each, seed {} at every point (common random numbers: the points differ only by the swept values). Each cell: the scenario's mean and its change against the same point's baseline, with the 90% interval of the change.\n",
        s.points.len(),
        reps,
        s.seed
    );
    let metrics: Vec<String> = first.map_or_else(Vec::new, |p| {
        declared(p).map(|e| e.metric.clone()).collect()
    });
    out.push('|');
    for a in &s.axes {
        let _ = write!(out, " {} |", a.key);
    }
    for m in &metrics {
        let _ = write!(out, " {} |", label(m));
    }
    out.push_str("\n|");
    for _ in 0..s.axes.len() + metrics.len() {
        out.push_str("---:|");
    }
    out.push('\n');
    for p in &s.points {
        out.push('|');
        for v in &p.values {
            let _ = write!(out, " {v} |");
        }
        for e in declared(p) {
            let _ = write!(
                out,
                " {} ({}; {} to {}) |",
                num(e.scenario_mean),
                pct(e.relative_change),
                pct(e.relative_low),
                pct(e.relative_high)
            );
        }
        out.push('\n');
    }
    if !charts.is_empty() {
        out.push_str("\n## Response curves\n\n");
        for (title, path) in charts {
            let _ = writeln!(out, "![{title}]({path})\n");
        }
    }
    out
}

/// The response curve of `metric`: its change (percent, with the 90% interval) against the
/// first axis, a line per value of the second.
fn response_chart(s: &SweepSummary, metric: &str) -> LineChart {
    let x = &s.axes[0];
    let effect = |p: &PointSummary| declared(p).find(|e| e.metric == metric).cloned();
    let groups: Vec<(String, Vec<&PointSummary>)> = match s.axes.get(1) {
        None => vec![(
            format!("change in {}", label(metric)),
            s.points.iter().collect(),
        )],
        Some(second) => second
            .values
            .iter()
            .enumerate()
            .map(|(j, v)| {
                let pts = s
                    .points
                    .iter()
                    .skip(j)
                    .step_by(second.values.len())
                    .collect();
                (format!("{} = {v}", second.key), pts)
            })
            .collect(),
    };
    let lines = groups
        .into_iter()
        .enumerate()
        .map(|(g, (name, pts))| {
            let mut rows: Vec<(f64, Effect)> = pts
                .iter()
                .filter_map(|p| effect(p).map(|e| (p.values[0], e)))
                .filter(|(_, e)| e.relative_change.is_finite())
                .collect();
            rows.sort_by(|a, b| a.0.total_cmp(&b.0));
            let reps = rows.first().map_or(0, |r| r.1.replications);
            Line {
                label: name,
                color: if s.axes.len() == 1 {
                    SCENARIO
                } else {
                    PALETTE[g % PALETTE.len()]
                },
                dashed: false,
                points: rows
                    .iter()
                    .map(|(v, e)| (*v, 100.0 * e.relative_change))
                    .collect(),
                band: (reps > 1).then(|| {
                    rows.iter()
                        .map(|(_, e)| (100.0 * e.relative_low, 100.0 * e.relative_high))
                        .collect()
                }),
            }
        })
        .collect();
    LineChart {
        title: format!("Response of {} to {}", label(metric), x.key),
        subtitle: format!(
            "{} · change against each point's baseline; shaded: 90% interval",
            super::charts::theme::clip(&s.scenario, 70)
        ),
        x_label: format!("{} ({})", x.key, x.target),
        y_label: format!("change in {} (%)", label(metric)),
        lines,
        zero_line: true,
        from_zero: false,
        markers: true,
    }
}

/// Writes `sweep.csv`, `sweep.json`, `sweep.md` and (unless `charts` is false) the response
/// curves into `dir`, each file atomically.
pub fn write_all(dir: &Path, s: &SweepSummary, charts: bool) -> Result<()> {
    let json = serde_json::to_string_pretty(s).map_err(|e| Error::Invalid(e.to_string()))? + "\n";
    let mut drawn = Vec::new();
    if charts && let Some(p) = s.points.first() {
        let source = format!("twinsim {}, seed {}", s.twinsim_version, s.seed);
        for e in declared(p) {
            let name = format!("sweep_{}", file_name(&e.metric));
            save(
                &response_chart(s, &e.metric),
                &dir.join("charts"),
                &name,
                &source,
            )?;
            drawn.push((
                format!("Response of {}", label(&e.metric)),
                format!("charts/{name}.png"),
            ));
        }
    }
    for (name, text) in [
        ("sweep.csv", sweep_csv(s)),
        ("sweep.json", json),
        ("sweep.md", sweep_md(s, &drawn)),
    ] {
        let path = dir.join(name);
        write_atomic(&path, |w| {
            w.write_all(text.as_bytes())
                .map_err(|e| Error::io(&path, e))
        })?;
    }
    Ok(())
}
