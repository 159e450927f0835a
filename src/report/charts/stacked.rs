//! Stacked areas of shares over time, one panel per arm (channel mix).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Chart;
use super::theme::{self, Theme, tick};

/// One panel: x values and named share series that stack to 1.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Panel heading.
    pub heading: String,
    /// X values.
    pub xs: Vec<f64>,
    /// (name, colour, share per x).
    pub layers: Vec<(String, RGBColor, Vec<f64>)>,
}

/// Side-by-side stacked area panels.
#[derive(Debug, Clone)]
pub struct StackedChart {
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// The panels.
    pub panels: Vec<Panel>,
}

impl Chart for StackedChart {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: &Theme,
    ) -> Result<(), String> {
        let body = t.frame(root, &self.title, &self.subtitle)?;
        let areas = body.split_evenly((1, self.panels.len().max(1)));
        for (area, p) in areas.iter().zip(&self.panels) {
            let x0 = p.xs.first().copied().unwrap_or(0.0);
            let x1 = p.xs.last().copied().unwrap_or(1.0).max(x0 + 1.0);
            let mut chart = ChartBuilder::on(area)
                .caption(p.heading.as_str(), t.bold(20.0))
                .margin(t.px(10.0))
                .x_label_area_size(t.px(60.0))
                .y_label_area_size(t.px(80.0))
                .build_cartesian_2d(x0..x1, 0f64..1.0)
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(RGBColor(235, 235, 235))
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str())
                .axis_desc_style(t.text(18.0))
                .label_style(t.text(15.0))
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| format!("{:.0}%", 100.0 * v))
                .draw()
                .map_err(|e| e.to_string())?;
            // Draw cumulative tops from the largest down so each layer shows as a band.
            let mut tops: Vec<Vec<f64>> = Vec::new();
            let mut acc = vec![0.0; p.xs.len()];
            for (_, _, s) in &p.layers {
                for (a, v) in acc.iter_mut().zip(s) {
                    *a += if v.is_finite() { *v } else { 0.0 };
                }
                tops.push(acc.clone());
            }
            for (k, (name, color, _)) in p.layers.iter().enumerate().rev() {
                let color = *color;
                chart
                    .draw_series(AreaSeries::new(
                        p.xs.iter().copied().zip(tops[k].iter().copied()),
                        0.0,
                        color.mix(0.9).filled(),
                    ))
                    .map_err(|e| e.to_string())?
                    .label(name.as_str())
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 8), (x + 24, y + 8)], color.filled())
                    });
            }
            theme::legend(&mut chart, t, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    }
}
