//! Lines over time with shaded interval bands (baseline vs scenario, effects, retention curves).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Chart;
use super::theme::{self, Theme, range, tick};

/// One line, optionally with a band (low, high) per point.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend label.
    pub label: String,
    /// Colour.
    pub color: RGBColor,
    /// Dashed instead of solid.
    pub dashed: bool,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// Band (low, high) per point, when there is one.
    pub band: Option<Vec<(f64, f64)>>,
}

/// A line chart.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: String,
    /// X axis label with unit.
    pub x_label: String,
    /// Y axis label with unit.
    pub y_label: String,
    /// The lines.
    pub lines: Vec<Line>,
    /// Draw a horizontal line at zero.
    pub zero_line: bool,
    /// Y axis from zero.
    pub from_zero: bool,
    /// A dot at every point (few points: a sweep's grid).
    pub markers: bool,
}

impl Chart for LineChart {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: &Theme,
    ) -> Result<(), String> {
        let body = t.frame(root, &self.title, &self.subtitle)?;
        let xs = self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
        let (x0, x1) = range(xs, false);
        let ys = self.lines.iter().flat_map(|l| {
            l.points.iter().map(|p| p.1).chain(
                l.band
                    .iter()
                    .flat_map(|b| b.iter().flat_map(|(a, c)| [*a, *c])),
            )
        });
        let (y0, y1) = range(ys, self.from_zero || self.zero_line);
        let mut chart = ChartBuilder::on(&body)
            .margin(t.px(10.0))
            .x_label_area_size(t.px(60.0))
            .y_label_area_size(t.px(95.0))
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(215, 215, 215))
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .axis_desc_style(t.text(18.0))
            .label_style(t.text(15.0))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(|e| e.to_string())?;
        if self.zero_line {
            chart
                .draw_series(LineSeries::new(
                    [(x0, 0.0), (x1, 0.0)],
                    BLACK.stroke_width(t.px(1.5)),
                ))
                .map_err(|e| e.to_string())?;
        }
        for l in &self.lines {
            if let Some(band) = &l.band {
                let mut poly: Vec<(f64, f64)> =
                    l.points.iter().zip(band).map(|(p, b)| (p.0, b.1)).collect();
                poly.extend(l.points.iter().zip(band).rev().map(|(p, b)| (p.0, b.0)));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        l.color.mix(0.18).filled(),
                    )))
                    .map_err(|e| e.to_string())?;
            }
        }
        for l in &self.lines {
            let style = l.color.stroke_width(t.px(3.0));
            let color = l.color;
            let w = t.px(3.0);
            let glyph = t.px(14.0) as i32;
            let legend = move |(x, y): (i32, i32)| {
                PathElement::new(vec![(x, y), (x + glyph, y)], color.stroke_width(w))
            };
            if l.dashed {
                chart
                    .draw_series(DashedLineSeries::new(
                        l.points.iter().copied(),
                        t.px(12.0),
                        t.px(8.0),
                        style,
                    ))
                    .map_err(|e| e.to_string())?
                    .label(l.label.as_str())
                    .legend(legend);
            } else {
                chart
                    .draw_series(LineSeries::new(l.points.iter().copied(), style))
                    .map_err(|e| e.to_string())?
                    .label(l.label.as_str())
                    .legend(legend);
            }
        }
        if self.markers {
            for l in &self.lines {
                let dot = l.color.filled();
                chart
                    .draw_series(l.points.iter().map(|p| Circle::new(*p, t.px(6.0), dot)))
                    .map_err(|e| e.to_string())?;
            }
        }
        theme::legend(&mut chart, t, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}
