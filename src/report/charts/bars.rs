//! Grouped bars over categories, with optional interval whiskers (holdout tables, CLV
//! histograms, total effects).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Chart;
use super::theme::{self, Theme, range, tick};

/// One group of bars (one per category).
#[derive(Debug, Clone)]
pub struct Bars {
    /// Legend label.
    pub label: String,
    /// Colour.
    pub color: RGBColor,
    /// Height per category.
    pub values: Vec<f64>,
    /// Interval (low, high) per category.
    pub whiskers: Option<Vec<(f64, f64)>>,
}

/// A grouped bar chart.
#[derive(Debug, Clone)]
pub struct BarChart {
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label with unit.
    pub y_label: String,
    /// Category names.
    pub categories: Vec<String>,
    /// The groups.
    pub groups: Vec<Bars>,
}

impl Chart for BarChart {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: &Theme,
    ) -> Result<(), String> {
        let body = t.frame(root, &self.title, &self.subtitle)?;
        let n = self.categories.len().max(1);
        let ys = self.groups.iter().flat_map(|g| {
            g.values.iter().copied().chain(
                g.whiskers
                    .iter()
                    .flat_map(|w| w.iter().flat_map(|(a, b)| [*a, *b])),
            )
        });
        let (y0, y1) = range(ys, true);
        let mut chart = ChartBuilder::on(&body)
            .margin(t.px(10.0))
            .x_label_area_size(t.px(70.0))
            .y_label_area_size(t.px(95.0))
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), y0..y1)
            .map_err(|e| e.to_string())?;
        let cats = self.categories.clone();
        let step = (n / 14).max(1);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(215, 215, 215))
            .x_labels(n.min(40))
            .x_label_formatter(&move |v| {
                let i = v.round();
                if (v - i).abs() < 1e-6
                    && i >= 0.0
                    && (i as usize) < cats.len()
                    && (i as usize) % step == 0
                {
                    cats[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| tick(*v))
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .axis_desc_style(t.text(18.0))
            .label_style(t.text(15.0))
            .draw()
            .map_err(|e| e.to_string())?;
        let g = self.groups.len().max(1) as f64;
        let width = 0.8 / g;
        for (k, grp) in self.groups.iter().enumerate() {
            let color = grp.color;
            let offset = -0.4 + width * k as f64;
            chart
                .draw_series(
                    grp.values
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| v.is_finite())
                        .map(|(i, &v)| {
                            let x = i as f64 + offset;
                            Rectangle::new(
                                [(x + 0.05 * width, 0.0), (x + 0.95 * width, v)],
                                color.mix(0.85).filled(),
                            )
                        }),
                )
                .map_err(|e| e.to_string())?
                .label(grp.label.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 8), (x + 24, y + 8)], color.filled())
                });
            if let Some(w) = &grp.whiskers {
                let stroke = BLACK.stroke_width(t.px(2.0));
                chart
                    .draw_series(
                        w.iter()
                            .enumerate()
                            .filter(|(_, (a, b))| a.is_finite() && b.is_finite())
                            .map(|(i, &(a, b))| {
                                let x = i as f64 + offset + 0.5 * width;
                                PathElement::new(vec![(x, a), (x, b)], stroke)
                            }),
                    )
                    .map_err(|e| e.to_string())?;
            }
        }
        chart
            .draw_series(LineSeries::new(
                [(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
                BLACK.stroke_width(t.px(1.0)),
            ))
            .map_err(|e| e.to_string())?;
        theme::legend(&mut chart, t, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}
