//! Charts and the brief: `twinsim demo` produces every chart as PNG (3200×1800) and SVG with its
//! title and axis labels; rendering survives degenerate runs; summary.md agrees with summary.json.

mod common;

use std::path::Path;

use common::{json, twinsim};

fn check_png(path: &Path) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: not a valid image: {e}", path.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), (3200, 1800), "{}", path.display());
    // Something is drawn in the title band and in the plot area (not a blank canvas).
    let dark = |y0: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (0..3200).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0.iter().map(|&c| c as u32).sum::<u32>() < 300)
            .count()
    };
    assert!(dark(30, 110) > 2000, "{}: no title", path.display());
    let colourful = (250..1500)
        .step_by(5)
        .flat_map(|y| (300..3100).step_by(5).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = img.get_pixel(x, y).0;
            p.iter().max().unwrap() - p.iter().min().unwrap() > 60
        });
    assert!(
        colourful.count() > 50,
        "{}: no coloured data drawn",
        path.display()
    );
}

fn check_svg(path: &Path, must: &[&str]) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(text.starts_with("<svg"), "{}", path.display());
    for m in must {
        assert!(text.contains(m), "{} lacks '{m}'", path.display());
    }
}

#[test]
fn demo_draws_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    twinsim()
        .args(["demo", "--customers", "1500", "-o"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicates::str::contains("summary.md"));
    let run = out.join("new-app-channel/charts");
    let charts: &[(&Path, &str, &[&str])] = &[
        (
            &run,
            "metric_purchases",
            &[
                "Cumulative purchases: baseline vs scenario",
                "day of the simulation",
                "baseline",
                "scenario",
            ],
        ),
        (
            &run,
            "metric_revenue",
            &["Cumulative revenue", "day of the simulation"],
        ),
        (
            &run,
            "metric_active_customers",
            &["Active customers: baseline vs scenario", "active customers"],
        ),
        (
            &run,
            "metric_referrals",
            &["Cumulative referrals", "day of the simulation"],
        ),
        (
            &run,
            "effect_purchases",
            &[
                "Effect on cumulative purchases",
                "difference in cumulative purchases",
                "paired difference",
            ],
        ),
        (
            &run,
            "effects_total",
            &["Total effect per metric", "change vs baseline (%)"],
        ),
        (
            &run,
            "retention",
            &[
                "Cohort retention",
                "month of the simulation",
                "share of the cohort still active",
            ],
        ),
        (
            &run,
            "channel_mix",
            &["Channel mix", "share of purchases", "app"],
        ),
        (
            &run,
            "clv_distribution",
            &["Customer lifetime value", "twins (mean over replications)"],
        ),
        (
            &out.join("charts"),
            "holdout_by_frequency",
            &[
                "Holdout: actual vs predicted",
                "repeat purchases in the calibration period",
            ],
        ),
        (
            &out.join("charts"),
            "repeat_purchase_distribution",
            &["data vs fitted BG/NBD", "customers"],
        ),
    ];
    for (dir, name, texts) in charts {
        check_png(&dir.join(format!("{name}.png")));
        let mut must = texts.to_vec();
        must.push("twinsim ");
        check_svg(&dir.join(format!("{name}.svg")), &must);
    }
    assert!(out.join("new-app-channel/summary.md").is_file());
}

#[test]
fn degenerate_runs_still_draw() {
    let dir = tempfile::tempdir().unwrap();
    let long = "A very long scenario name that goes on and on ".repeat(6);
    let path = dir.path().join("tiny.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"{long}\"\nhorizon_days = 1\nreplications = 1\n[population]\ncustomers = 30\n[population.bgnbd]\nr = 0.2\nalpha = 4.0\na = 0.8\nb = 2.4\n\
             [population.upsell]\nprobability = 0.0\n[metrics]\nprimary = \"upsells\"\nalso = [\"revenue\", \"referrals\"]\n\
             [[intervention]]\nkind = \"price_change\"\npercent = 5\nstart_day = 0\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    twinsim()
        .arg("run")
        .arg(&path)
        .arg("-o")
        .arg(&out)
        .arg("-q")
        .assert()
        .success();
    for name in [
        "metric_upsells",
        "effect_upsells",
        "effects_total",
        "retention",
        "channel_mix",
        "clv_distribution",
    ] {
        check_svg(
            &out.join(format!("charts/{name}.svg")),
            &["one replication: no interval band", "…"],
        );
        let img = image::open(out.join(format!("charts/{name}.png"))).unwrap();
        assert_eq!((img.width(), img.height()), (3200, 1800));
    }
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("one replication"));
    // `twinsim report` redraws from the files alone.
    std::fs::remove_dir_all(out.join("charts")).unwrap();
    std::fs::remove_file(out.join("summary.md")).unwrap();
    twinsim().arg("report").arg(&out).assert().success();
    assert!(out.join("charts/effects_total.png").is_file());
    assert_eq!(std::fs::read_to_string(out.join("summary.md")).unwrap(), md);
}

#[test]
fn summary_md_numbers_equal_summary_json() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    twinsim()
        .current_dir(root)
        .args([
            "run",
            "scenarios/price-increase.toml",
            "--replications",
            "6",
            "-q",
            "-o",
        ])
        .arg(out.path())
        .assert()
        .success();
    let s = json(&out.path().join("summary.json"));
    let md = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
    let parse = |cell: &str| -> f64 { cell.trim().replace(',', "").parse().unwrap_or(f64::NAN) };
    let close = |shown: f64, exact: f64| {
        (shown - exact).abs() <= if exact.abs() >= 100.0 { 0.5 } else { 0.005 } + 1e-9
    };
    let mut rows = 0;
    for e in std::iter::once(&s["primary"]).chain(s["also"].as_array().unwrap().iter()) {
        let metric = e["metric"].as_str().unwrap();
        let row = md
            .lines()
            .find(|l| {
                l.starts_with(&format!("| {metric} |"))
                    || l.starts_with(&format!("| **{metric}** (primary) |"))
            })
            .unwrap_or_else(|| panic!("no row for {metric}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (lo, hi) = cells[5].split_once(" to ").unwrap();
        for (shown, key) in [
            (cells[2], "baseline_mean"),
            (cells[3], "scenario_mean"),
            (cells[4], "difference"),
            (lo, "difference_low"),
            (hi, "difference_high"),
        ] {
            let exact = e[key].as_f64().unwrap();
            assert!(
                close(parse(shown), exact),
                "{metric} {key}: summary.md shows {shown}, summary.json has {exact}"
            );
        }
        let pct = format!("{:+.1}%", 100.0 * e["relative_change"].as_f64().unwrap());
        assert!(
            cells[6].starts_with(&pct),
            "{metric}: {} vs {pct}",
            cells[6]
        );
        rows += 1;
    }
    assert_eq!(rows, 1 + s["also"].as_array().unwrap().len());
}
