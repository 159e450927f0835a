//! Deck-ready charts (PNG at 3200×1800 and SVG at 1600×900) drawn through one generic function
//! per chart type over any plotters `DrawingBackend`; the run charts are built from the output
//! files alone (see [`super::rundata::RunData`]), so `twinsim report` can redraw them.

pub mod bars;
pub mod fit;
pub mod lines;
pub mod stacked;
pub mod theme;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::rundata::RunData;
use crate::error::{Error, Result};
use bars::{BarChart, Bars};
use lines::{Line, LineChart};
use stacked::{Panel, StackedChart};
use theme::{BASELINE, PALETTE, SCENARIO, Theme};

/// SVG size; the PNG is twice as large for crisp slides.
pub const SIZE: (u32, u32) = (1600, 900);

/// Something that can draw itself on any backend.
pub trait Chart {
    /// Draws onto `root` with theme `t`.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: &Theme,
    ) -> std::result::Result<(), String>;
}

/// Writes `dir/name.png` and `dir/name.svg` (each atomically) and returns their paths.
pub fn save(chart: &impl Chart, dir: &Path, name: &str, source: &str) -> Result<[PathBuf; 2]> {
    theme::register_fonts();
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let fail =
        |what: &str, e: String| Error::Invalid(format!("drawing chart {name} ({what}): {e}"));
    let png = dir.join(format!("{name}.png"));
    let tmp = dir.join(format!(".{name}.tmp.png"));
    {
        let t = Theme {
            scale: 2.0,
            source: source.to_string(),
        };
        let root = BitMapBackend::new(&tmp, (SIZE.0 * 2, SIZE.1 * 2)).into_drawing_area();
        chart.draw(&root, &t).map_err(|e| fail("png", e))?;
        root.present().map_err(|e| fail("png", e.to_string()))?;
    }
    std::fs::rename(&tmp, &png).map_err(|e| Error::io(&png, e))?;
    let svg = dir.join(format!("{name}.svg"));
    let mut text = String::new();
    {
        let t = Theme {
            scale: 1.0,
            source: source.to_string(),
        };
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        chart.draw(&root, &t).map_err(|e| fail("svg", e))?;
        root.present().map_err(|e| fail("svg", e.to_string()))?;
    }
    super::write_atomic(&svg, |w| {
        w.write_all(text.as_bytes()).map_err(|e| Error::io(&svg, e))
    })?;
    Ok([png, svg])
}

/// Metrics that are levels (plotted as they are); every other metric is a daily flow, plotted
/// cumulatively.
fn is_stock(metric: &str) -> bool {
    metric == "active_customers"
}

/// Human label with unit for a metric.
pub fn label(metric: &str) -> String {
    match metric {
        "revenue" | "margin" | "profit" | "cost_to_serve" | "intervention_cost"
        | "discounted_revenue" => format!("{} (money)", metric.replace('_', " ")),
        "active_customers" => "active customers".into(),
        m => match m.strip_prefix("purchases:") {
            Some(c) => format!("purchases in {c}"),
            None => m.replace('_', " "),
        },
    }
}

/// The daily series a summary metric is drawn from (`clv` is discounted revenue).
fn daily_name(metric: &str) -> &str {
    if metric == "clv" {
        "discounted_revenue"
    } else {
        metric
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    sorted[i] + frac * (sorted[(i + 1).min(sorted.len() - 1)] - sorted[i])
}

/// Per day: mean and (5%, 95%) over replications of `values[rep][day]`.
fn bands(values: &[Vec<f64>]) -> (Vec<f64>, Vec<(f64, f64)>) {
    let days = values.iter().map(Vec::len).min().unwrap_or(0);
    let mut mean = Vec::with_capacity(days);
    let mut band = Vec::with_capacity(days);
    for d in 0..days {
        let mut v: Vec<f64> = values.iter().map(|r| r[d]).collect();
        v.sort_by(f64::total_cmp);
        mean.push(v.iter().sum::<f64>() / v.len() as f64);
        band.push((quantile(&v, 0.05), quantile(&v, 0.95)));
    }
    (mean, band)
}

fn cumulative(values: &[Vec<f64>], stock: bool) -> Vec<Vec<f64>> {
    values
        .iter()
        .map(|r| {
            if stock {
                return r.clone();
            }
            let mut acc = 0.0;
            r.iter()
                .map(|v| {
                    acc += v;
                    acc
                })
                .collect()
        })
        .collect()
}

/// File-name-safe chart name.
pub fn file_name(metric: &str) -> String {
    metric.replace([':', ' ', '/'], "_")
}

/// Draws every run chart into `dir/charts/`; returns (title, png path relative to `dir`).
pub fn run_charts(data: &RunData, dir: &Path) -> Result<Vec<(String, String)>> {
    let s = &data.summary;
    let charts = dir.join("charts");
    let source = format!("twinsim {}, seed {}", s.twinsim_version, s.seed);
    let reps = s.replications;
    let band_note = if reps > 1 {
        format!("{reps} replications; shaded: 90% of replications")
    } else {
        "one replication: no interval band".to_string()
    };
    let subtitle = format!("{} · {band_note}", theme::clip(&s.scenario, 80));
    let mut out = Vec::new();
    let mut metrics: Vec<String> = vec![s.primary.metric.clone()];
    metrics.extend(s.also.iter().map(|e| e.metric.clone()));
    for m in ["purchases", "revenue", "active_customers", "referrals"] {
        if !metrics.iter().any(|x| x == m) {
            metrics.push(m.to_string());
        }
    }
    for m in &metrics {
        let daily = daily_name(m);
        let (b, c) = (data.series(daily, 0), data.series(daily, 1));
        if b.is_empty() {
            continue;
        }
        let stock = is_stock(daily);
        let what = if stock {
            label(daily)
        } else {
            format!("cumulative {}", label(daily))
        };
        let (bc, cc) = (cumulative(b, stock), cumulative(c, stock));
        // The mean over replications per day, with the 5–95% band when there is more than one.
        let line = |name: &str, color, vals: &[Vec<f64>]| {
            let (mean, band) = bands(vals);
            Line {
                label: name.to_string(),
                color,
                dashed: false,
                points: mean
                    .iter()
                    .enumerate()
                    .map(|(d, v)| (d as f64, *v))
                    .collect(),
                band: (reps > 1).then_some(band),
            }
        };
        let chart = LineChart {
            title: format!("{}: baseline vs scenario", capitalise(&what)),
            subtitle: subtitle.clone(),
            x_label: "day of the simulation".into(),
            y_label: what.clone(),
            lines: vec![
                line("baseline", BASELINE, &bc),
                line("scenario", SCENARIO, &cc),
            ],
            zero_line: false,
            from_zero: true,
            markers: false,
        };
        let name = format!("metric_{}", file_name(m));
        save(&chart, &charts, &name, &source)?;
        out.push((chart.title.clone(), format!("charts/{name}.png")));
        let diffs: Vec<Vec<f64>> = bc
            .iter()
            .zip(&cc)
            .map(|(x, y)| y.iter().zip(x).map(|(a, b)| a - b).collect())
            .collect();
        let effect = LineChart {
            title: format!("Effect on {what}: scenario − baseline"),
            subtitle: subtitle.clone(),
            x_label: "day of the simulation".into(),
            y_label: format!("difference in {what}"),
            lines: vec![line("paired difference", PALETTE[2], &diffs)],
            zero_line: true,
            from_zero: false,
            markers: false,
        };
        let name = format!("effect_{}", file_name(m));
        save(&effect, &charts, &name, &source)?;
        out.push((effect.title.clone(), format!("charts/{name}.png")));
    }
    let effects: Vec<&crate::metrics::summary::Effect> =
        std::iter::once(&s.primary).chain(s.also.iter()).collect();
    let total = BarChart {
        title: "Total effect per metric, with 90% intervals".into(),
        subtitle: subtitle.clone(),
        x_label: "metric".into(),
        y_label: "change vs baseline (%)".into(),
        categories: effects.iter().map(|e| label(&e.metric)).collect(),
        groups: vec![Bars {
            label: "scenario − baseline".into(),
            color: PALETTE[2],
            values: effects.iter().map(|e| pct(e.relative_change)).collect(),
            whiskers: Some(
                effects
                    .iter()
                    .map(|e| (pct(e.relative_low), pct(e.relative_high)))
                    .collect(),
            ),
        }],
    };
    save(&total, &charts, "effects_total", &source)?;
    out.push((total.title.clone(), "charts/effects_total.png".into()));
    out.push(retention(data, &charts, &subtitle, &source)?);
    out.push(channel_mix(data, &charts, &subtitle, &source)?);
    out.push(clv(data, &charts, &subtitle, &source)?);
    Ok(out)
}

fn pct(v: f64) -> f64 {
    if v.is_finite() { 100.0 * v } else { 0.0 }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

fn retention(
    data: &RunData,
    charts: &Path,
    subtitle: &str,
    source: &str,
) -> Result<(String, String)> {
    let mut lines = Vec::new();
    let cohorts: Vec<usize> = {
        let mut c: Vec<usize> = data.cohorts.iter().map(|r| r.1).collect();
        c.sort();
        c.dedup();
        c.into_iter().take(6).collect()
    };
    for (k, &cohort) in cohorts.iter().enumerate() {
        for arm in 0..2 {
            let points: Vec<(f64, f64)> = data
                .cohorts
                .iter()
                .filter(|r| r.0 == arm && r.1 == cohort)
                .map(|r| (r.2 as f64, r.4))
                .collect();
            if points.is_empty() {
                continue;
            }
            let name = if cohort == 0 {
                "customers at start".to_string()
            } else {
                format!("joined in month {cohort}")
            };
            lines.push(Line {
                label: format!("{name}, {}", if arm == 0 { "baseline" } else { "scenario" }),
                color: PALETTE[k % PALETTE.len()],
                dashed: arm == 1,
                points,
                band: None,
            });
        }
    }
    let chart = LineChart {
        title: "Cohort retention: share still active (solid: baseline, dashed: scenario)".into(),
        subtitle: subtitle.to_string(),
        x_label: "month of the simulation".into(),
        y_label: "share of the cohort still active".into(),
        lines,
        zero_line: false,
        from_zero: true,
        markers: false,
    };
    save(&chart, charts, "retention", source)?;
    Ok((chart.title, "charts/retention.png".into()))
}

fn channel_mix(
    data: &RunData,
    charts: &Path,
    subtitle: &str,
    source: &str,
) -> Result<(String, String)> {
    let mut panels = Vec::new();
    for arm in 0..2 {
        let per_channel: Vec<Vec<f64>> = data
            .channels
            .iter()
            .map(|c| {
                let reps = data.series(&format!("purchases:{c}"), arm);
                let days = reps.first().map_or(0, Vec::len);
                (0..days)
                    .map(|d| reps.iter().map(|r| r[d]).sum::<f64>())
                    .collect()
            })
            .collect();
        let days = per_channel.first().map_or(0, Vec::len);
        // Weekly shares: daily counts are too sparse for small populations.
        let weeks = days.div_ceil(7).max(1);
        let mut xs = Vec::new();
        let mut layers: Vec<(String, RGBColor, Vec<f64>)> = data
            .channels
            .iter()
            .enumerate()
            .map(|(k, c)| (c.clone(), PALETTE[k % PALETTE.len()], Vec::new()))
            .collect();
        for w in 0..weeks {
            let range = w * 7..((w + 1) * 7).min(days);
            let totals: Vec<f64> = per_channel
                .iter()
                .map(|v| v[range.clone()].iter().sum())
                .collect();
            let all: f64 = totals.iter().sum();
            xs.push((w * 7) as f64);
            for (layer, t) in layers.iter_mut().zip(&totals) {
                layer.2.push(if all > 0.0 { t / all } else { 0.0 });
            }
        }
        panels.push(Panel {
            heading: if arm == 0 {
                "baseline".into()
            } else {
                "scenario".into()
            },
            xs,
            layers,
        });
    }
    let chart = StackedChart {
        title: "Channel mix: share of purchases by channel, weekly".into(),
        subtitle: subtitle.to_string(),
        x_label: "day of the simulation".into(),
        y_label: "share of purchases".into(),
        panels,
    };
    save(&chart, charts, "channel_mix", source)?;
    Ok((chart.title, "charts/channel_mix.png".into()))
}

fn clv(data: &RunData, charts: &Path, subtitle: &str, source: &str) -> Result<(String, String)> {
    let bins: Vec<&(usize, f64, f64, f64)> = data.clv.iter().filter(|r| r.0 == 0).collect();
    let categories = bins
        .iter()
        .map(|r| {
            if r.2.is_finite() {
                theme::tick(r.1)
            } else {
                format!("{}+", theme::tick(r.1))
            }
        })
        .collect();
    let counts = |arm: usize| {
        data.clv
            .iter()
            .filter(|r| r.0 == arm)
            .map(|r| r.3)
            .collect::<Vec<f64>>()
    };
    let chart = BarChart {
        title: "Customer lifetime value over the horizon (discounted revenue per twin)".into(),
        subtitle: subtitle.to_string(),
        x_label: "discounted revenue per twin (money, lower bin edge)".into(),
        y_label: "twins (mean over replications)".into(),
        categories,
        groups: vec![
            Bars {
                label: "baseline".into(),
                color: BASELINE,
                values: counts(0),
                whiskers: None,
            },
            Bars {
                label: "scenario".into(),
                color: SCENARIO,
                values: counts(1),
                whiskers: None,
            },
        ],
    };
    save(&chart, charts, "clv_distribution", source)?;
    Ok((chart.title, "charts/clv_distribution.png".into()))
}
