//! Glue: one function per subcommand, turning CLI options into one validated library job.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use twinsim::engine::cluster::{Cluster, Solo};

use crate::cli::{
    BadRowArg, BenchArgs, CheckArgs, Cli, Command, DemoArgs, FitArgs, GenerateArgs, ModelArg,
    RunArgs, SameDayArg, UnitArg, Workload,
};
use twinsim::data::synthetic::{
    PurchaseProcess, ReferralSpec, SegmentSpec, ServiceSpec, SubscriptionSpec, SyntheticExtras,
    SyntheticSpec, write_event_log, write_subscription_log,
};
use twinsim::data::{
    BadRowPolicy, ColumnSpec, Delimiter, IngestOptions, Periods, SameDay, TimeUnit, dates,
};
use twinsim::fit::bass::Bass;
use twinsim::fit::bgnbd::BgNbd;
use twinsim::fit::contract::ContractOptions;
use twinsim::fit::gamma_gamma::GammaGamma;
use twinsim::fit::pareto_nbd::ParetoNbd;
use twinsim::fit::suite::PurchaseModels;
use twinsim::population::from_log::{FitJob, Stage, fit_event_log};
use twinsim::report::{fit_table, write_atomic};
use twinsim::{Error, Result};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let status = Status {
        quiet: cli.quiet,
        verbose: cli.verbose,
        start: Instant::now(),
    };
    match cli.command {
        Command::Fit(args) => fit(args, &status),
        Command::Generate(args) => generate(args, &status),
        Command::Run(args) => run_scenario(args, &status),
        Command::Check(args) => check(args),
        Command::Report(args) => {
            let path = twinsim::report::render_run(&args.dir)?;
            if !status.quiet {
                println!(
                    "wrote {} and {}",
                    path.display(),
                    args.dir.join("charts").display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => demo(args, &status),
        Command::Bench(args) => bench(args, &status),
    }
}

/// `twinsim bench`: each workload at each size, a line each.
fn bench(a: BenchArgs, status: &Status) -> Result<ExitCode> {
    const REFERENCE: &str = include_str!("../scenarios/reference-model.toml");
    const ALL: &str = include_str!("../benches/scenarios/million.toml");
    println!(
        "{:<10} {:>10} {:>10} {:>7} {:>11} {:>10} {:>8} {:>10} {:>6} {:>11} {:>7} {:>7} {:>10} {:>7} {:>7} {:>9} {:>7}",
        "workload",
        "twins",
        "spawned",
        "threads",
        "events",
        "events/s",
        "ns/event",
        "bare ns/ev",
        "ratio",
        "ratio range",
        "spawn x",
        "lives x",
        "spawn/s",
        "ns/twin",
        "state B",
        "RSS B/twin",
        "peak MB"
    );
    for w in &a.workload {
        let (name, text) = match w {
            Workload::Reference => ("reference", REFERENCE),
            Workload::All => ("all", ALL),
        };
        for &n in &a.twins {
            status.stage(&format!("{name}: {n} twins"));
            let path = std::path::Path::new(name);
            let mut s = twinsim::scenario::load_str(text, path)
                .map_err(|e| Error::Invalid(e.to_string()))?;
            s.source = twinsim::scenario::Source::Inline { customers: n };
            if s.behaviour.bass.market_size > 0 {
                s.behaviour.bass.market_size = n * 3;
            }
            let m = twinsim::engine::bench::measure(&s, a.threads, a.repeat as usize)?;
            let unknown = || "n/a".to_string();
            println!(
                "{:<10} {:>10} {:>10} {:>7} {:>11} {:>10.3e} {:>8.1} {:>10.1} {:>6.2} {:>11} {:>7.2} {:>7.2} {:>10.3e} {:>7.0} {:>7} {:>9} {:>7}",
                name,
                m.twins,
                m.spawned,
                m.threads,
                m.events,
                m.events_per_second(),
                m.ns_per_event(),
                m.bare_ns_per_event(),
                m.ratio(),
                format!("{:.2}-{:.2}", m.ratio_range.0, m.ratio_range.1),
                m.spawn_over_draws(),
                m.lives_over_draws(),
                m.twins_per_second(),
                m.ns_per_twin(),
                m.twin_bytes,
                m.resident_bytes_per_twin()
                    .map_or_else(unknown, |b| format!("{b:.0}")),
                m.peak_rss
                    .map_or_else(unknown, |b| format!("{:.0}", b as f64 / 1e6))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Stage messages on stderr: silent with --quiet, timings with --verbose.
struct Status {
    quiet: bool,
    verbose: bool,
    start: Instant,
}

impl Status {
    fn stage(&self, what: &str) {
        if self.verbose && !self.quiet {
            eprintln!("[{:>8.3}s] {what}", self.start.elapsed().as_secs_f64());
        }
    }

    /// A progress bar on a terminal (hidden with --quiet, or when stderr is not a terminal).
    fn bar(&self, len: u64, what: &str) -> indicatif::ProgressBar {
        use std::io::IsTerminal;
        if self.quiet || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(len);
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed_precise} ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style.progress_chars("=> "));
        bar.set_message(what.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }
}

fn date_arg(option: &str, v: &Option<String>) -> Result<Option<i64>> {
    v.as_deref()
        .map(|s| dates::parse_day(s).map_err(|e| Error::Invalid(format!("{option}: {e}"))))
        .transpose()
}

fn fit(a: FitArgs, status: &Status) -> Result<ExitCode> {
    let delimiter: Delimiter = a
        .delimiter
        .parse()
        .map_err(|e| Error::Invalid(format!("--delimiter: {e}")))?;
    let job = FitJob {
        input: a.input,
        ingest: IngestOptions {
            columns: ColumnSpec {
                id_cols: a.id_cols,
                time_col: a.time_col,
                amount_col: a.amount_col,
                channel_col: a.channel_col,
                event_col: a.event_col,
                satisfaction_col: a.satisfaction_col,
                referred_by_col: a.referred_by_col,
                tier_col: a.tier_col,
                category_col: a.category_col,
                segment_col: a.segment_by.clone(),
                tier_order: a.tier_order.unwrap_or_default(),
            },
            delimiter,
            header: !a.no_header,
            names: a.columns,
            on_bad_row: match a.on_bad_row {
                BadRowArg::Stop => BadRowPolicy::Stop,
                BadRowArg::Skip => BadRowPolicy::Skip,
            },
        },
        periods: Periods {
            observation_end: date_arg("--observation-end", &a.observation_end)?,
            holdout_from: date_arg("--holdout-from", &a.holdout_from)?,
            time_unit: match a.time_unit {
                UnitArg::Week => TimeUnit::Week,
                UnitArg::Day => TimeUnit::Day,
            },
            same_day: match a.same_day {
                SameDayArg::Once => SameDay::Once,
                SameDayArg::Each => SameDay::Each,
            },
            bad_satisfaction: a.bad_satisfaction,
        },
        models: match a.model {
            ModelArg::Bgnbd => PurchaseModels::BgNbd,
            ModelArg::ParetoNbd => PurchaseModels::ParetoNbd,
            ModelArg::All => PurchaseModels::All,
        },
        output: a.output,
        salt: a.salt.unwrap_or_else(random_salt),
        charts: !a.no_charts,
        contract: a.contractual.then_some(ContractOptions {
            period_days: a.period_days,
            annual_discount: a.discount_rate,
        }),
    };
    if !(a.period_days >= 1.0 && a.period_days.is_finite()) {
        return Err(Error::Invalid(format!(
            "--period-days {} must be at least 1",
            a.period_days
        )));
    }
    if !(a.discount_rate >= 0.0 && a.discount_rate < 10.0) {
        return Err(Error::Invalid(format!(
            "--discount-rate {} must be between 0 and 10 (0.1 = 10% a year)",
            a.discount_rate
        )));
    }
    let bar = status.bar(4, "fit");
    let model = fit_event_log(&job, |stage| {
        let what = match stage {
            Stage::Ingest => "reading the event log".to_string(),
            Stage::Ledger => "building per-customer statistics".to_string(),
            Stage::Fit(m) => format!("fitting {m}"),
            Stage::Write => "writing outputs and charts".to_string(),
        };
        bar.set_message(what.clone());
        bar.inc(1);
        status.stage(&what);
    })?;
    bar.finish_and_clear();
    status.stage("done");
    let mut out = std::io::stdout().lock();
    let text = if a.json {
        serde_json::to_string_pretty(&model).map_err(|e| Error::Invalid(e.to_string()))? + "\n"
    } else {
        fit_table::render(&model) + &format!("\n  wrote {}\n", job.output.display())
    };
    if !status.quiet || a.json {
        let _ = out.write_all(text.as_bytes());
    }
    let all_converged = model.models.values().all(|m| m.converged);
    Ok(if all_converged {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

fn random_salt() -> String {
    use rand::RngExt;
    let v: u128 = rand::rng().random();
    format!("{v:032x}")
}

fn generate(a: GenerateArgs, status: &Status) -> Result<ExitCode> {
    let extras = extras(&a)?;
    let process = match a.model {
        ModelArg::ParetoNbd => {
            PurchaseProcess::ParetoNbd(ParetoNbd::new(a.r, a.alpha, a.s, a.beta)?)
        }
        _ => PurchaseProcess::BgNbd(BgNbd::new(a.r, a.alpha, a.a, a.b)?),
    };
    let channels: Vec<String> = a.channels.into_iter().filter(|c| !c.is_empty()).collect();
    let channel_alpha = a.channel_alpha.unwrap_or_else(|| vec![1.0; channels.len()]);
    let spec = SyntheticSpec {
        customers: a.customers,
        weeks: a.weeks,
        cohort_weeks: a.cohort_weeks,
        start_day: dates::parse_day(&a.start)
            .map_err(|e| Error::Invalid(format!("--start: {e}")))?,
        process,
        spend: if a.no_amount {
            None
        } else {
            Some(GammaGamma::new(a.spend_p, a.spend_q, a.spend_v)?)
        },
        channels,
        channel_alpha,
        second_id_fraction: a.second_id_fraction,
        time_of_day: a.time_of_day,
        seed: a.seed,
        extras,
    };
    spec.validate()?;
    status.stage("generating");
    let mut stats = None;
    let subscriptions = a.contractual.then(|| SubscriptionSpec {
        customers: a.customers,
        period_days: a.period_days,
        weeks: a.weeks,
        cohort_weeks: a.cohort_weeks,
        start_day: spec.start_day,
        alpha: a.churn_beta[0],
        beta: a.churn_beta[1],
        price: 10.0,
        seed: a.seed,
    });
    write_atomic(&a.output, |w| {
        stats = Some(match &subscriptions {
            Some(sub) => write_subscription_log(sub, w)?,
            None => write_event_log(&spec, w)?,
        });
        Ok(())
    })?;
    if !status.quiet {
        let s = stats.unwrap_or_default();
        eprintln!(
            "wrote {} rows for {} customers to {}",
            s.rows,
            s.customers,
            a.output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The optional behaviours of `generate`.
fn extras(a: &GenerateArgs) -> Result<SyntheticExtras> {
    let pair = |v: &Option<Vec<f64>>| v.as_ref().map(|v| (v[0], v[1]));
    let bgnbd = |v: &[f64], what: &str| -> Result<BgNbd> {
        match v {
            [r, alpha, a, b] => BgNbd::new(*r, *alpha, *a, *b),
            _ => Err(Error::Invalid(format!("{what}: give r,alpha,a,b"))),
        }
    };
    let segments = a
        .segments
        .iter()
        .map(|text| {
            let bad = || {
                Error::Invalid(format!(
                    "--segment '{text}': write NAME:SHARE:r,alpha,a,b (e.g. gold:0.3:0.5,4,0.6,3)"
                ))
            };
            let mut parts = text.splitn(3, ':');
            let (Some(name), Some(share), Some(prior)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad());
            };
            let share: f64 = share.parse().map_err(|_| bad())?;
            let v: Vec<f64> = prior
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| bad())?;
            Ok(SegmentSpec {
                name: name.to_string(),
                share,
                process: bgnbd(&v, "--segment").map_err(|_| bad())?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(SyntheticExtras {
        service: a.bad_rate.as_ref().map(|rates| ServiceSpec {
            bad_rate: rates.clone(),
            kappa: a.kappa,
            scored_share: a.scored_share,
        }),
        referral: match pair(&a.referral_beta) {
            Some((ra, rb)) => Some(ReferralSpec {
                a: ra,
                b: rb,
                referred: a
                    .referred_prior
                    .as_deref()
                    .map(|v| bgnbd(v, "--referred-prior"))
                    .transpose()?,
            }),
            None => None,
        },
        acquisition: a
            .bass
            .as_ref()
            .map(|v| Bass::new(v[0], v[1], v[2]))
            .transpose()?,
        upsell: pair(&a.upsell_beta),
        cross_sell: pair(&a.cross_sell_beta),
        segments,
    })
}

fn check(a: CheckArgs) -> Result<ExitCode> {
    let s = twinsim::scenario::load(&a.scenario)?;
    let twins = s.source.initial();
    println!(
        "{}: ok — \"{}\", {twins} initial twins, {} days, {} replications, {} intervention(s); outputs would go to outputs/{}/",
        a.scenario.display(),
        s.name,
        s.horizon_days,
        s.replications,
        s.interventions.len(),
        s.slug
    );
    if let Some(sw) = &s.sweep {
        for a in &sw.axes {
            let values: Vec<String> = a.values.iter().map(|v| v.to_string()).collect();
            println!("  sweep {} ({}): {}", a.key, a.target, values.join(", "));
        }
        println!(
            "  {} grid points, each run as its own scenario",
            sw.points.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_scenario(a: RunArgs, status: &Status) -> Result<ExitCode> {
    status.stage("loading the scenario");
    let s = twinsim::scenario::load(&a.scenario)?;
    let opts = twinsim::engine::RunOptions {
        replications: a.replications,
        seed: a.seed,
        threads: a.threads,
    };
    if a.replications == Some(0) {
        return Err(Error::Invalid("--replications must be at least 1".into()));
    }
    let dir = a
        .output
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("outputs").join(&s.slug));
    #[cfg(feature = "mpi")]
    let mpi = twinsim::engine::cluster::Mpi::from_launcher()?;
    #[cfg(feature = "mpi")]
    let cluster: &dyn Cluster = match &mpi {
        Some(m) => m,
        None => &Solo,
    };
    #[cfg(not(feature = "mpi"))]
    let cluster: &dyn Cluster = &Solo;
    // Under MPI every process runs its part; the first writes the outputs and talks.
    let other_rank = Status {
        quiet: true,
        verbose: false,
        start: status.start,
    };
    let status = if cluster.rank() == 0 {
        status
    } else {
        &other_rank
    };
    let start = Instant::now();
    if let Some(sw) = &s.sweep {
        return run_sweep(&s, sw, &opts, cluster, &dir, &a, status);
    }
    let bar = status.bar(
        u64::from(opts.replications.unwrap_or(s.replications)),
        "replications",
    );
    let result = twinsim::engine::run_on(&s, &opts, cluster, track(&bar, status, "replication"))?;
    bar.finish_and_clear();
    if cluster.rank() != 0 {
        return Ok(ExitCode::SUCCESS);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let seed = a.seed.unwrap_or(s.seed);
    status.stage("writing metrics");
    let summary = twinsim::report::run::write_all(&dir, &s, &result, seed)?;
    status.stage("drawing charts and summary.md");
    if a.no_charts {
        // Nothing to draw: the summary in hand is all summary.md needs.
        twinsim::report::write_summary_md(&dir, &summary, &[])?;
    } else {
        twinsim::report::render_run(&dir)?;
    }
    status.stage("done");
    if !status.quiet {
        let p = &summary.primary;
        println!(
            "twinsim run: {} ({} replications, {} days, seed {seed})",
            s.name, result.replications, s.horizon_days
        );
        for e in std::iter::once(p).chain(summary.also.iter()) {
            println!(
                "  {:<24} baseline {:>14.1}  scenario {:>14.1}  change {:>+7.2}% (90% CI {:+.2}% to {:+.2}%)",
                e.metric,
                e.baseline_mean,
                e.scenario_mean,
                100.0 * e.relative_change,
                100.0 * e.relative_low,
                100.0 * e.relative_high
            );
        }
        println!(
            "  {} events in {elapsed:.2} s ({:.1} million events/s); up to {} twins per arm",
            result.events,
            result.events as f64 / elapsed.max(1e-9) / 1e6,
            result.max_twins
        );
        println!("  wrote {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Progress of `what` (replications, sweep points) on `bar` and, with `-v`, as stages.
fn track<'a>(
    bar: &'a indicatif::ProgressBar,
    status: &'a Status,
    what: &'a str,
) -> impl FnMut(u32, u32) + Send + 'a {
    move |done, total| {
        bar.set_position(u64::from(done));
        status.stage(&format!("{what} {done}/{total}"))
    }
}

/// `twinsim run` of a scenario with a `[sweep]`: every grid point, then the sweep's outputs.
fn run_sweep(
    s: &twinsim::scenario::Scenario,
    sw: &twinsim::scenario::sweep::Sweep,
    opts: &twinsim::engine::RunOptions,
    cluster: &dyn Cluster,
    dir: &std::path::Path,
    a: &RunArgs,
    status: &Status,
) -> Result<ExitCode> {
    let start = Instant::now();
    let bar = status.bar(sw.points.len() as u64, "sweep points");
    let results =
        twinsim::engine::run_sweep(sw, opts, cluster, track(&bar, status, "sweep point"))?;
    bar.finish_and_clear();
    if cluster.rank() != 0 {
        return Ok(ExitCode::SUCCESS);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let seed = a.seed.unwrap_or(s.seed);
    status.stage("writing the sweep's outputs");
    let summary = twinsim::report::sweep::summarise(s, sw, &results, seed);
    twinsim::report::sweep::write_all(dir, &summary, !a.no_charts)?;
    status.stage("done");
    if !status.quiet {
        let reps = results.first().map_or(0, |r| r.replications);
        println!(
            "twinsim run: {} — sweep of {} points ({reps} replications each, {} days, seed {seed})",
            s.name,
            sw.points.len(),
            s.horizon_days
        );
        for p in &summary.points {
            let e = &p.summary.primary;
            println!(
                "  {:<32} {} {:>14.1}  change {:>+7.2}% (90% CI {:+.2}% to {:+.2}%)",
                sw.label(&p.values),
                e.metric,
                e.scenario_mean,
                100.0 * e.relative_change,
                100.0 * e.relative_low,
                100.0 * e.relative_high
            );
        }
        let events: u64 = results.iter().map(|r| r.events).sum();
        println!(
            "  {events} events in {elapsed:.2} s ({:.1} million events/s)",
            events as f64 / elapsed.max(1e-9) / 1e6
        );
        println!("  wrote {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The demo scenario: the new app channel on the demo's own fitted population.
const DEMO_SCENARIO: &str = include_str!("../scenarios/new-app-channel.toml");

fn demo(a: DemoArgs, status: &Status) -> Result<ExitCode> {
    let dir = a.output;
    let events = dir.join("events.csv");
    status.stage("generating a synthetic event log");
    let g = GenerateArgs {
        output: events.clone(),
        customers: a.customers,
        weeks: 78.0,
        cohort_weeks: 12.0,
        start: "2025-01-01".into(),
        model: ModelArg::Bgnbd,
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
        s: 0.606,
        beta: 11.669,
        spend_p: 6.25,
        spend_q: 3.74,
        spend_v: 15.44,
        no_amount: false,
        channels: vec!["web".into(), "store".into()],
        channel_alpha: Some(vec![1.5, 1.0]),
        second_id_fraction: 0.2,
        time_of_day: false,
        seed: 2026,
        bad_rate: None,
        kappa: 1.0,
        scored_share: 1.0,
        referral_beta: None,
        referred_prior: None,
        bass: None,
        upsell_beta: None,
        cross_sell_beta: None,
        segments: Vec::new(),
        contractual: false,
        churn_beta: vec![0.704, 1.182],
        period_days: 30.0,
    };
    generate(
        g,
        &Status {
            quiet: true,
            verbose: status.verbose,
            start: status.start,
        },
    )?;
    status.stage("fitting");
    let model = dir.join("model.json");
    let f = FitArgs {
        input: events.clone(),
        output: model.clone(),
        id_cols: vec!["email".into(), "phone".into()],
        time_col: "timestamp".into(),
        amount_col: None,
        channel_col: None,
        event_col: None,
        satisfaction_col: None,
        bad_satisfaction: None,
        referred_by_col: None,
        tier_col: None,
        tier_order: None,
        category_col: None,
        segment_by: None,
        contractual: false,
        period_days: 30.0,
        discount_rate: 0.1,
        columns: None,
        no_header: false,
        delimiter: ",".into(),
        observation_end: None,
        holdout_from: Some("2025-10-01".into()),
        time_unit: UnitArg::Week,
        same_day: SameDayArg::Once,
        model: ModelArg::Bgnbd,
        on_bad_row: BadRowArg::Stop,
        salt: Some("demo".into()),
        json: false,
        no_charts: false,
    };
    let quiet = Status {
        quiet: true,
        verbose: status.verbose,
        start: status.start,
    };
    fit(f, &quiet)?;
    let scenario = dir.join("new-app-channel.toml");
    let text = DEMO_SCENARIO.replace(
        "examples/model/model.json",
        &model.display().to_string().replace('\\', "/"),
    );
    write_atomic(&scenario, |w| {
        w.write_all(text.as_bytes())
            .map_err(|e| Error::io(&scenario, e))
    })?;
    let run_dir = dir.join("new-app-channel");
    let r = RunArgs {
        scenario: scenario.clone(),
        replications: None,
        seed: None,
        threads: None,
        output: Some(run_dir.clone()),
        no_charts: false,
    };
    run_scenario(r, &quiet)?;
    if !status.quiet {
        println!("twinsim demo: everything is in {}", dir.display());
        println!("  event log      {}", events.display());
        println!(
            "  fitted model   {} (charts in {})",
            model.display(),
            dir.join("charts").display()
        );
        println!("  scenario       {}", scenario.display());
        println!("  run outputs    {}", run_dir.display());
        println!("  the brief      {}", run_dir.join("summary.md").display());
        println!("  charts         {}", run_dir.join("charts").display());
    }
    Ok(ExitCode::SUCCESS)
}
