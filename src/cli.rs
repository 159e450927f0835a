//! Command-line definition (clap derive). Only builds the command; `commands` turns it into
//! library calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// twinsim: test a product change on digital twins of your customers before it ships.
#[derive(Debug, Parser)]
#[command(name = "twinsim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// No progress output on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Print the time of each stage on stderr.
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit customer behaviour models to an event log and write model.json.
    Fit(FitArgs),
    /// Write a synthetic event log from stated parameters.
    Generate(GenerateArgs),
    /// Run a scenario against its baseline and write metrics and effects.
    Run(RunArgs),
    /// Validate a scenario file without running it; lists every problem.
    Check(CheckArgs),
    /// Redraw the charts and summary.md of an existing run folder without re-running it.
    Report(ReportArgs),
    /// Generate a realistic event log, fit it, run a bundled scenario and say where it all is.
    Demo(DemoArgs),
    /// Measure the engine: events/s, ns per event against a bare random-number loop, twins
    /// spawned per second, bytes per twin.
    Bench(BenchArgs),
}

/// Bundled benchmark workloads.
#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
pub enum Workload {
    /// The reference model of ../shared/peers/reference-model.md (scenarios/reference-model.toml).
    Reference,
    /// Every behaviour and four interventions (benches/scenarios/million.toml).
    All,
}

/// `twinsim bench` options.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Initial twins, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000_000u64, 10_000_000])]
    pub twins: Vec<u64>,
    /// Workloads, comma-separated.
    #[arg(long, value_delimiter = ',', value_enum, default_values_t = [Workload::Reference, Workload::All])]
    pub workload: Vec<Workload>,
    /// Worker threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Times each measurement is repeated (interleaved); the medians are shown.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
}

/// `twinsim report` options.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run's output folder (with summary.json and metrics.csv).
    pub dir: PathBuf,
}

/// `twinsim demo` options.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to put everything.
    #[arg(short, long, default_value = "outputs/demo")]
    pub output: PathBuf,
    /// Customers in the generated log.
    #[arg(long, default_value_t = 5000)]
    pub customers: usize,
}

/// `twinsim run` options.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Replications [default: the scenario's].
    #[arg(long)]
    pub replications: Option<u32>,
    /// Master seed [default: the scenario's].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output folder [default: outputs/<scenario-slug>].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Skip the charts (for timing runs); summary.md is still written.
    #[arg(long)]
    pub no_charts: bool,
}

/// `twinsim check` options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The scenario file.
    pub scenario: PathBuf,
}

/// Purchase models to fit.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModelArg {
    /// BG/NBD (Fader, Hardie & Lee 2005).
    Bgnbd,
    /// Pareto/NBD (Schmittlein et al. 1987).
    ParetoNbd,
    /// Both, compared.
    All,
}

/// Time unit of fitted rates.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UnitArg {
    /// Weeks (the classic papers' unit).
    Week,
    /// Days.
    Day,
}

/// Same-day purchases.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SameDayArg {
    /// Count a person's purchases on one day once (amounts summed).
    Once,
    /// Count each purchase at its time of day.
    Each,
}

/// Bad-row policy.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BadRowArg {
    /// Stop at the first malformed row.
    Stop,
    /// Skip it, count it and copy it to rejected.csv beside the outputs.
    Skip,
}

/// `twinsim fit` options.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// The event log (CSV, or whitespace-separated text with --delimiter whitespace).
    pub input: PathBuf,
    /// Where to write model.json (the per-customer file goes beside it).
    #[arg(short, long, default_value = "outputs/model.json")]
    pub output: PathBuf,
    /// Identifier columns; rows sharing any identifier are one person.
    #[arg(long, value_delimiter = ',', default_value = "customer_id")]
    pub id_cols: Vec<String>,
    /// Timestamp column (ISO date, ISO date-time or YYYYMMDD).
    #[arg(long, default_value = "timestamp")]
    pub time_col: String,
    /// Amount column [default: `amount` if present].
    #[arg(long)]
    pub amount_col: Option<String>,
    /// Channel column [default: `channel` if present].
    #[arg(long)]
    pub channel_col: Option<String>,
    /// Event-kind column [default: `event` if present]; rows other than purchase/service are skipped.
    #[arg(long)]
    pub event_col: Option<String>,
    /// Satisfaction column, 1–5 or 0–10 [default: `satisfaction` if present].
    #[arg(long)]
    pub satisfaction_col: Option<String>,
    /// Highest satisfaction score that counts as a bad experience [default: 2 on a 1–5 scale, 6 on 0–10].
    #[arg(long, value_name = "SCORE")]
    pub bad_satisfaction: Option<u8>,
    /// Referrer-identifier column [default: `referred_by` if present].
    #[arg(long)]
    pub referred_by_col: Option<String>,
    /// Product-tier column [default: `tier` if present]; numeric unless --tier-order names them.
    #[arg(long)]
    pub tier_col: Option<String>,
    /// Named tiers from lowest to highest, e.g. `basic,plus,premium`.
    #[arg(long, value_delimiter = ',')]
    pub tier_order: Option<Vec<String>>,
    /// Product-category column [default: `category` if present].
    #[arg(long)]
    pub category_col: Option<String>,
    /// Fit each value of this column (on a customer's first purchase) as its own segment too.
    #[arg(long, value_name = "COLUMN")]
    pub segment_by: Option<String>,
    /// The log is of subscription payments: also fit the shifted-beta-geometric (and
    /// beta-discrete-Weibull) churn models on renewals per period, project retention and write
    /// each customer's discounted expected residual lifetime.
    #[arg(long)]
    pub contractual: bool,
    /// Length of one contract period in days, with --contractual.
    #[arg(long, default_value_t = 30.0, value_name = "DAYS")]
    pub period_days: f64,
    /// Annual discount rate for the discounted expected residual lifetime.
    #[arg(long, default_value_t = 0.1, value_name = "RATE")]
    pub discount_rate: f64,
    /// Column names, in file order (for files without a header).
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// The file has no header line.
    #[arg(long)]
    pub no_header: bool,
    /// Field separator: one character, `tab` or `whitespace`.
    #[arg(long, default_value = ",")]
    pub delimiter: String,
    /// Last day observed [default: the day of the last event].
    #[arg(long, value_name = "DATE")]
    pub observation_end: Option<String>,
    /// First day of a holdout period: fit on the days before, validate on the rest.
    #[arg(long, value_name = "DATE")]
    pub holdout_from: Option<String>,
    /// Unit of fitted rates and times.
    #[arg(long, value_enum, default_value = "week")]
    pub time_unit: UnitArg,
    /// How several purchases by one person on one day count.
    #[arg(long, value_enum, default_value = "once")]
    pub same_day: SameDayArg,
    /// Purchase model(s) to fit.
    #[arg(long, value_enum, default_value = "bgnbd")]
    pub model: ModelArg,
    /// What to do with malformed rows.
    #[arg(long, value_enum, default_value = "stop")]
    pub on_bad_row: BadRowArg,
    /// Salt for hashing person keys [default: random, so keys cannot be matched across fits].
    #[arg(long, env = "TWINSIM_SALT", hide_env_values = true)]
    pub salt: Option<String>,
    /// Print model.json to stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Skip the fit charts.
    #[arg(long)]
    pub no_charts: bool,
}

/// `twinsim generate` options.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Where to write the CSV event log.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Number of customers.
    #[arg(long, default_value_t = 10_000)]
    pub customers: usize,
    /// Length of the log in weeks.
    #[arg(long, default_value_t = 78.0)]
    pub weeks: f64,
    /// First purchases fall uniformly in the first this many weeks.
    #[arg(long, default_value_t = 12.0)]
    pub cohort_weeks: f64,
    /// First day of the log.
    #[arg(long, default_value = "2025-01-01")]
    pub start: String,
    /// Purchase/dropout process.
    #[arg(long, value_enum, default_value = "bgnbd")]
    pub model: ModelArg,
    /// Purchase-rate shape (per week).
    #[arg(long, default_value_t = 0.243)]
    pub r: f64,
    /// Purchase-rate rate (per week).
    #[arg(long, default_value_t = 4.414)]
    pub alpha: f64,
    /// BG/NBD dropout Beta a.
    #[arg(long, default_value_t = 0.793)]
    pub a: f64,
    /// BG/NBD dropout Beta b.
    #[arg(long, default_value_t = 2.426)]
    pub b: f64,
    /// Pareto/NBD dropout-rate shape.
    #[arg(long, default_value_t = 0.606)]
    pub s: f64,
    /// Pareto/NBD dropout-rate rate.
    #[arg(long, default_value_t = 11.669)]
    pub beta: f64,
    /// Gamma-Gamma p.
    #[arg(long, default_value_t = 6.25)]
    pub spend_p: f64,
    /// Gamma-Gamma q.
    #[arg(long, default_value_t = 3.74)]
    pub spend_q: f64,
    /// Gamma-Gamma v (γ).
    #[arg(long, default_value_t = 15.44)]
    pub spend_v: f64,
    /// Leave out the amount column.
    #[arg(long)]
    pub no_amount: bool,
    /// Channels (empty for no channel column).
    #[arg(long, value_delimiter = ',', default_value = "web,store,app")]
    pub channels: Vec<String>,
    /// Dirichlet concentration per channel [default: 1 each].
    #[arg(long, value_delimiter = ',')]
    pub channel_alpha: Option<Vec<f64>>,
    /// Share of customers also seen under a phone number.
    #[arg(long, default_value_t = 0.2)]
    pub second_id_fraction: f64,
    /// Write exact times of day (ISO date-times) instead of dates.
    #[arg(long)]
    pub time_of_day: bool,
    /// Master seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Bad-experience probability per purchase: one value, or one per channel (adds `event`
    /// and `satisfaction` columns: service rows scoring purchases).
    #[arg(long, value_delimiter = ',', help_heading = "Optional behaviours")]
    pub bad_rate: Option<Vec<f64>>,
    /// Dropout multiplier after a bad repeat purchase (with --bad-rate).
    #[arg(long, default_value_t = 1.0, help_heading = "Optional behaviours")]
    pub kappa: f64,
    /// Share of purchases whose experience is scored on a service row.
    #[arg(long, default_value_t = 1.0, help_heading = "Optional behaviours")]
    pub scored_share: f64,
    /// Beta a,b of the referral probability per good purchase (adds `referred_by`).
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 2,
        help_heading = "Optional behaviours"
    )]
    pub referral_beta: Option<Vec<f64>>,
    /// BG/NBD r,alpha,a,b of referred customers [default: the main prior].
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 4,
        help_heading = "Optional behaviours"
    )]
    pub referred_prior: Option<Vec<f64>>,
    /// Bass p,q,M (per week): external customers arrive on a Bass curve; --customers is ignored.
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 3,
        help_heading = "Optional behaviours"
    )]
    pub bass: Option<Vec<f64>>,
    /// Beta a,b of the tier-up probability per repeat purchase (adds `tier`).
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 2,
        help_heading = "Optional behaviours"
    )]
    pub upsell_beta: Option<Vec<f64>>,
    /// Beta a,b of the new-category probability per repeat purchase (adds `category`).
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 2,
        help_heading = "Optional behaviours"
    )]
    pub cross_sell_beta: Option<Vec<f64>>,
    /// A segment NAME:SHARE:r,alpha,a,b with its own BG/NBD (repeat; adds `segment`).
    #[arg(long = "segment", help_heading = "Optional behaviours")]
    pub segments: Vec<String>,
    /// Write a subscription log instead: one payment per period until churn (sBG).
    #[arg(long, help_heading = "Subscriptions")]
    pub contractual: bool,
    /// Beta alpha,beta of the churn probability per period, with --contractual.
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 2,
        default_value = "0.704,1.182",
        help_heading = "Subscriptions"
    )]
    pub churn_beta: Vec<f64>,
    /// Days per period, with --contractual.
    #[arg(long, default_value_t = 30.0, help_heading = "Subscriptions")]
    pub period_days: f64,
}
