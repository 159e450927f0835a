//! Outputs, one file per format: atomic file writes, the `fit` summary table, the per-customer
//! CSV and `model.json`.

pub mod atomic;
pub mod charts;
pub mod customers;
pub mod fit_table;
pub mod markdown;
pub mod run;
pub mod rundata;
pub mod sweep;

pub use atomic::write_atomic;

/// Redraws the charts and `summary.md` of the run in `dir` from its files; returns the path of
/// `summary.md`.
pub fn render_run(dir: &std::path::Path) -> crate::error::Result<std::path::PathBuf> {
    let data = rundata::RunData::read(dir)?;
    let drawn = self::charts::run_charts(&data, dir)?;
    write_summary_md(dir, &data.summary, &drawn)
}

/// Writes `summary.md` of the run in `dir` from its summary and the charts drawn (as
/// `run_charts` lists them); returns its path.
pub fn write_summary_md(
    dir: &std::path::Path,
    summary: &run::Summary,
    drawn: &[(String, String)],
) -> crate::error::Result<std::path::PathBuf> {
    let text = markdown::render(summary, drawn);
    let path = dir.join("summary.md");
    write_atomic(&path, |w| {
        w.write_all(text.as_bytes())
            .map_err(|e| crate::error::Error::io(&path, e))
    })?;
    Ok(path)
}
