//! The human summary `twinsim fit` prints: data counts, a parameter table per model and the
//! holdout comparison, aligned for a terminal.

use std::fmt::Write;

use crate::population::ModelFile;

/// Renders the summary of a fitted model file.
pub fn render(m: &ModelFile) -> String {
    let d = &m.data;
    let mut s = String::new();
    let unit = match d.time_unit {
        crate::data::TimeUnit::Week => "week",
        crate::data::TimeUnit::Day => "day",
    };
    let _ = writeln!(s, "twinsim fit: {}", d.source);
    let _ = writeln!(
        s,
        "  rows {} read, {} rejected, {} other events; {} identifiers → {} customers",
        thousands(d.rows_read as f64),
        thousands(d.rows_rejected as f64),
        thousands(d.rows_other_events as f64),
        thousands(d.identifiers as f64),
        thousands(d.customers as f64)
    );
    let _ = writeln!(
        s,
        "  calibration {} .. {} ({} repeat purchases); rates per {unit}",
        d.ledger.first_day,
        d.ledger.calibration_end,
        thousands(d.ledger.repeat_purchases as f64)
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  {:<18} {:<8} {:>12} {:>10}",
        "model", "param", "estimate", "std.err"
    );
    for (name, f) in &m.models {
        let mut first = true;
        for (p, v) in &f.params {
            let se = f.std_errors.get(p).copied().unwrap_or(f64::NAN);
            let _ = writeln!(
                s,
                "  {:<18} {:<8} {:>12} {:>10}",
                if first { name.as_str() } else { "" },
                p,
                num(*v),
                num(se)
            );
            first = false;
        }
        let _ = writeln!(
            s,
            "  {:<18} log-lik {:.2}  AIC {:.1}  BIC {:.1}  n {}  {}",
            "",
            f.log_likelihood,
            f.aic,
            f.bic,
            f.n_obs,
            if f.converged {
                "converged"
            } else {
                "NOT CONVERGED"
            }
        );
        if !f.converged {
            let _ = writeln!(s, "  {:<18} {}", "", f.message);
        }
    }
    if let Some(h) = &m.holdout {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "  holdout {} .. {} ({:.1} {unit}s): actual {:.0}, predicted {:.1} ({}), MAE per customer {:.3}",
            h.from, h.to, h.length, h.actual_total, h.predicted_total, h.model, h.mae_per_customer
        );
        let _ = writeln!(
            s,
            "  {:>9} {:>9} {:>8} {:>10}",
            "frequency", "customers", "actual", "predicted"
        );
        for r in &h.by_frequency {
            let _ = writeln!(
                s,
                "  {:>9} {:>9} {:>8.3} {:>10.3}",
                r.label, r.customers, r.actual_mean, r.predicted_mean
            );
        }
        if h.by_model.len() > 1 {
            for (name, a) in &h.by_model {
                let _ = writeln!(
                    s,
                    "  {name:<12} predicted {:.1}, MAE per customer {:.3}",
                    a.predicted_total, a.mae_per_customer
                );
            }
        }
    }
    if let Some(seg) = &m.segments {
        let _ = writeln!(s);
        let _ = writeln!(s, "  segments by '{}':", seg.column);
        for ((name, n), f) in seg
            .fits
            .names
            .iter()
            .zip(&seg.fits.customers)
            .zip(seg.fits.models.values())
        {
            let params: Vec<String> = f
                .params
                .iter()
                .map(|(k, v)| format!("{k} {}", num(*v)))
                .collect();
            let _ = writeln!(s, "  {name:<18} {n:>8} customers  {}", params.join("  "));
        }
    }
    let tests = m
        .tests
        .iter()
        .chain(m.segments.iter().filter_map(|g| g.fits.test.as_ref()));
    for (k, t) in tests.enumerate() {
        if k == 0 {
            let _ = writeln!(s, "\n  likelihood-ratio tests:");
        }
        let _ = writeln!(
            s,
            "  {} {}: χ² {:.2}, df {}, p {}",
            t.question,
            if t.differs { "yes" } else { "no" },
            t.statistic,
            t.df,
            num(t.p_value)
        );
    }
    for (k, note) in m.notes.iter().enumerate() {
        if k == 0 {
            let _ = writeln!(s, "\n  notes:");
        }
        let _ = writeln!(s, "  - {note}");
    }
    s
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else if v.abs() >= 1e5 || (v != 0.0 && v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}
