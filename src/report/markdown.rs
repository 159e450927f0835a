//! `summary.md`: a one-page brief of a run that renders cleanly on GitHub.

use std::fmt::Write as _;

use super::run::Summary;
use crate::metrics::summary::Effect;

/// Metrics where less is better.
const LOWER_IS_BETTER: &[&str] = &[
    "churned",
    "cost_to_serve",
    "intervention_cost",
    "bad_experiences",
    "service_contacts",
];

/// Numbers as the brief shows them: thousands separators, two decimals below 100.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v.abs() >= 100.0 {
        let s = super::fit_table::thousands(v.abs());
        if v < 0.0 { format!("-{s}") } else { s }
    } else {
        format!("{v:.2}")
    }
}

/// A signed percentage with one decimal.
pub fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:+.1}%", 100.0 * v)
    } else {
        "n/a".into()
    }
}

/// The plain verdict for one effect.
pub fn verdict(e: &Effect) -> &'static str {
    let lower_better = LOWER_IS_BETTER.contains(&e.metric.as_str());
    if e.replications < 2 {
        return "one replication: no interval, no verdict";
    }
    // A channel's share is neither good nor bad in itself: say which way it moves.
    if e.metric.starts_with("purchases:") {
        return if e.difference_low > 0.0 {
            "more purchases here"
        } else if e.difference_high < 0.0 {
            "fewer purchases here"
        } else {
            "no clear effect"
        };
    }
    if e.difference_low > 0.0 {
        if lower_better {
            "the change hurts"
        } else {
            "the change helps"
        }
    } else if e.difference_high < 0.0 {
        if lower_better {
            "the change helps"
        } else {
            "the change hurts"
        }
    } else {
        "no clear effect"
    }
}

/// One sentence: "revenue +4.1% (90% CI +3.2% to +5.0%): the change helps".
pub fn headline(e: &Effect) -> String {
    format!(
        "{} {} (90% CI {} to {}): {}",
        e.metric,
        pct(e.relative_change),
        pct(e.relative_low),
        pct(e.relative_high),
        verdict(e)
    )
}

/// Renders the brief; `charts` are (title, relative png path).
pub fn render(s: &Summary, charts: &[(String, String)]) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# {}\n", s.scenario);
    let changes = if s.changes.is_empty() {
        "nothing changes (a baseline check)".to_string()
    } else {
        s.changes.join("; ")
    };
    let _ = writeln!(
        m,
        "What happens to {} customers over {} days if {changes}? Twins of every customer ran {} paired replications (seed {}, twinsim {}).\n",
        num(s.initial_customers),
        s.horizon_days,
        s.replications,
        s.seed,
        s.twinsim_version
    );
    let _ = writeln!(m, "**{}**\n", capital(&headline(&s.primary)));
    let _ = writeln!(
        m,
        "| metric | baseline | scenario | difference | 90% interval | change | verdict |"
    );
    let _ = writeln!(m, "|---|---:|---:|---:|---:|---:|---|");
    for (k, e) in std::iter::once(&s.primary).chain(s.also.iter()).enumerate() {
        let name = if k == 0 {
            format!("**{}** (primary)", e.metric)
        } else {
            e.metric.clone()
        };
        let _ = writeln!(
            m,
            "| {name} | {} | {} | {} | {} to {} | {} ({} to {}) | {} |",
            num(e.baseline_mean),
            num(e.scenario_mean),
            num(e.difference),
            num(e.difference_low),
            num(e.difference_high),
            pct(e.relative_change),
            pct(e.relative_low),
            pct(e.relative_high),
            verdict(e)
        );
    }
    let _ = writeln!(m, "\nIntervals: {}.\n", s.interval);
    let _ = writeln!(
        m,
        "## Assumptions that are defaults, not fitted or stated\n"
    );
    if s.defaults_used.is_empty() {
        let _ = writeln!(
            m,
            "None: every behavioural parameter was fitted or set in the scenario."
        );
    } else {
        for d in &s.defaults_used {
            let _ = writeln!(m, "- {d}");
        }
        let _ = writeln!(
            m,
            "\nState them in the scenario file (see the README) to replace a default."
        );
    }
    if !charts.is_empty() {
        let _ = writeln!(m, "\n## Charts\n");
        for (title, path) in charts {
            let _ = writeln!(
                m,
                "- [{title}]({path}) ([SVG]({}))",
                path.replace(".png", ".svg")
            );
        }
        if let Some((title, path)) = charts.first() {
            let _ = writeln!(m, "\n![{title}]({path})");
        }
    }
    m
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}
