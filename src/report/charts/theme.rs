//! One clean theme for every chart: embedded DejaVu Sans (no system fonts needed), the Okabe–Ito
//! colour-blind-safe palette, a title, a subtitle, labelled axes and a source line.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Baseline colour (blue).
pub const BASELINE: RGBColor = RGBColor(0, 114, 178);
/// Scenario colour (orange).
pub const SCENARIO: RGBColor = RGBColor(230, 159, 0);
/// Further categorical colours, distinguishable with colour-blindness (Okabe & Ito 2008).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
];
/// Text grey.
pub const GREY: RGBColor = RGBColor(90, 90, 90);

/// Font family name the embedded fonts are registered under.
const FAMILY: &str = "sans-serif";

/// Registers the embedded fonts (once per process).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are valid TrueType shipped by the dejavu crate; failure would be a build bug.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Sizes for one output: SVG at 1× (1600×900), PNG at 2× (3200×1800) for crisp slides.
#[derive(Debug, Clone)]
pub struct Theme {
    /// Multiplier of every size.
    pub scale: f64,
    /// The source line, e.g. `twinsim 0.1.0, seed 42`.
    pub source: String,
}

impl Theme {
    /// A size in pixels at this scale.
    pub fn px(&self, v: f64) -> u32 {
        (v * self.scale).round() as u32
    }

    /// Regular text of size `v`.
    pub fn text(&self, v: f64) -> TextStyle<'static> {
        (FAMILY, v * self.scale).into_font().color(&BLACK)
    }

    /// Grey text of size `v`.
    pub fn grey(&self, v: f64) -> TextStyle<'static> {
        (FAMILY, v * self.scale).into_font().color(&GREY)
    }

    /// Bold text of size `v`.
    pub fn bold(&self, v: f64) -> TextStyle<'static> {
        (FAMILY, v * self.scale, FontStyle::Bold)
            .into_font()
            .color(&BLACK)
    }

    /// Draws the frame (white background, title, subtitle, source) and returns the plot area.
    pub fn frame<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
        subtitle: &str,
    ) -> Result<DrawingArea<DB, Shift>, String> {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (_, h) = root.dim_in_pixel();
        let pad = self.px(28.0) as i32;
        root.draw(&Text::new(
            clip(title, 90),
            (pad, self.px(20.0) as i32),
            self.bold(30.0),
        ))
        .map_err(|e| e.to_string())?;
        root.draw(&Text::new(
            clip(subtitle, 150),
            (pad, self.px(60.0) as i32),
            self.grey(18.0),
        ))
        .map_err(|e| e.to_string())?;
        root.draw(&Text::new(
            self.source.clone(),
            (pad, h as i32 - self.px(30.0) as i32),
            self.grey(14.0),
        ))
        .map_err(|e| e.to_string())?;
        let body = root.margin(self.px(95.0), self.px(45.0), self.px(15.0), self.px(30.0));
        Ok(body)
    }
}

/// Draws the legend box of a chart at `pos` in the theme's style.
pub fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    t: &Theme,
    pos: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .label_font(t.text(16.0))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(200, 200, 200))
        .position(pos)
        .margin(t.px(12.0))
        .draw()
        .map_err(|e| e.to_string())
}

/// Shortens `s` to at most `n` characters with an ellipsis.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// A finite, non-empty axis range around values (padded when flat).
pub fn range(values: impl Iterator<Item = f64>, include_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if include_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let span = hi - lo;
    if span <= f64::EPSILON * hi.abs().max(1.0) {
        return (lo - 1.0, hi + 1.0);
    }
    (lo - 0.04 * span, hi + 0.06 * span)
}

/// Axis numbers: thousands separators, no needless decimals.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
