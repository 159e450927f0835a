//! Scenario files (`scenarios/*.toml`): what changes, for whom, when, and how success is measured.
//! Every problem in a file is reported at once, each with its line and column.

pub mod intervention;
pub mod reader;
pub mod segment;
pub mod sweep;

use std::path::{Path, PathBuf};

use toml::de::DeTable;

use crate::error::{Error, Result};
use crate::fit::bgnbd::BgNbd;
use crate::fit::gamma_gamma::GammaGamma;
use crate::fit::pareto_nbd::ParetoNbd;
use crate::fit::purchase::PurchaseModel;
use crate::population::behaviour::{Behaviour, MAX_CHANNELS, Network};
use crate::population::load::{Fitted, read_fitted};
use intervention::{COMMON, Intervention, KINDS, Kind, Rollout};
use reader::{Problem, Reader, TableReader};
use segment::Segment;

/// Where twins come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A fitted model: one person twin per known customer.
    Fitted(std::sync::Arc<Fitted>),
    /// Inline priors: `customers` new customers on day 0.
    Inline {
        /// Initial customers.
        customers: u64,
    },
}

impl Source {
    /// The known customers (none with inline priors).
    pub fn persons(&self) -> &[crate::population::load::Person] {
        match self {
            Source::Fitted(f) => &f.persons,
            Source::Inline { .. } => &[],
        }
    }

    /// Twins at the start: one per known customer, or the inline customers.
    pub fn initial(&self) -> u64 {
        match self {
            Source::Fitted(f) => f.persons.len() as u64,
            Source::Inline { customers } => *customers,
        }
    }
}

/// Channel names of a scenario: the behaviour's, then each new channel's in file order (as
/// the engine's policy numbers them).
pub fn channel_names(b: &Behaviour, interventions: &[Intervention]) -> Vec<String> {
    let mut channels = b.channels.clone();
    channels.extend(interventions.iter().filter_map(|i| match &i.kind {
        Kind::NewChannel { name, .. } => Some(name.clone()),
        _ => None,
    }));
    channels
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file it came from.
    pub path: PathBuf,
    /// Display name.
    pub name: String,
    /// File-name-safe name, for the output folder.
    pub slug: String,
    /// Days simulated.
    pub horizon_days: u32,
    /// Replications.
    pub replications: u32,
    /// Master seed.
    pub seed: u64,
    /// Annual discount rate for CLV.
    pub discount_rate: f64,
    /// Draw population parameters per replication from the fit's sampling distribution.
    pub parameter_uncertainty: bool,
    /// Twins' origin.
    pub source: Source,
    /// Behavioural parameters.
    pub behaviour: Behaviour,
    /// Primary success metric.
    pub primary: String,
    /// Secondary metrics.
    pub also: Vec<String>,
    /// The changes.
    pub interventions: Vec<Intervention>,
    /// The `[sweep]`, if any: the scenario at each grid point (the file as written is not run).
    pub sweep: Option<sweep::Sweep>,
}

/// All problems of a scenario file.
#[derive(Debug, Clone)]
pub struct Problems {
    /// The file.
    pub path: PathBuf,
    /// Each problem, in file order.
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "{} has {n} problem{}:",
            self.path.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(
                f,
                "  {}:{}:{}: {}: {}",
                self.path.display(),
                p.line,
                p.column,
                p.key,
                p.message
            )?;
        }
        Ok(())
    }
}

/// Flow and stock metrics every run records (plus `purchases:<channel>`).
pub const METRICS: &[&str] = &[
    "purchases",
    "revenue",
    "margin",
    "active_customers",
    "new_customers_external",
    "new_customers_referred",
    "churned",
    "referrals",
    "service_contacts",
    "bad_experiences",
    "upsells",
    "cross_sells",
    "cost_to_serve",
    "intervention_cost",
    "profit",
    "clv",
];

const TOP: &[&str] = &[
    "name",
    "horizon_days",
    "replications",
    "seed",
    "discount_rate",
    "parameter_uncertainty",
    "population",
    "metrics",
    "intervention",
    "sweep",
];
const POPULATION: &[&str] = &[
    "model",
    "customers",
    "time_unit",
    "bgnbd",
    "pareto_nbd",
    "spend",
    "channels",
    "service",
    "referral",
    "acquisition",
    "price",
    "upsell",
    "margin",
];

/// Reads and validates `path`; `Err(Problems)` lists everything wrong with it.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let src = std::fs::read_to_string(path).map_err(|e| LoadError::Other(Error::io(path, e)))?;
    load_str(&src, path)
}

/// Reads and validates scenario text `src` as if it were the file `path` (which names it in
/// messages and anchors its relative paths).
pub fn load_str(src: &str, path: &Path) -> Result<Scenario, LoadError> {
    let (doc, errors) = DeTable::parse_recoverable(src);
    let mut r = Reader::new(src);
    for e in errors {
        let at = e.span().map_or(0, |s| s.start);
        r.problem(at, "toml", e.message().to_string());
    }
    let mut scenario = parse(&mut r, &doc, path);
    if r.problems.is_empty()
        && let Some(s) = &mut scenario
    {
        s.sweep = sweep::read(&mut r, src, &doc, path, parse);
    }
    if r.problems.is_empty()
        && let Some(s) = scenario
    {
        return Ok(s);
    }
    r.problems.sort_by_key(|p| (p.line, p.column));
    Err(LoadError::Problems(Problems {
        path: path.to_path_buf(),
        problems: r.problems,
    }))
}

/// Why a scenario could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The file has problems (all listed).
    Problems(Problems),
    /// The file could not be read at all.
    Other(Error),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Problems(p) => p.fmt(f),
            LoadError::Other(e) => e.fmt(f),
        }
    }
}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Problems(p) => Error::Invalid(p.to_string().trim_end().to_string()),
            LoadError::Other(e) => e,
        }
    }
}

fn slug(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "scenario".into()
    } else {
        s.chars().take(60).collect()
    }
}

fn parse(r: &mut Reader, doc: &toml::Spanned<DeTable>, path: &Path) -> Option<Scenario> {
    let mut top = r.table(doc, "");
    let name = top.str(r, "name");
    let name = top.require(r, "name", name).map(|n| n.0);
    let horizon = top.u64_where(
        r,
        "horizon_days",
        |v| (1..=36_500).contains(&v),
        "a whole number of days from 1 to 36500",
    );
    let horizon = top.require(r, "horizon_days", horizon);
    let replications = top
        .u64_where(
            r,
            "replications",
            |v| (1..=100_000).contains(&v),
            "between 1 and 100000",
        )
        .unwrap_or(20);
    let seed = top
        .u64_where(r, "seed", |v| v >= 0, "a non-negative whole number")
        .unwrap_or(1);
    let discount_rate = top
        .f64_where(
            r,
            "discount_rate",
            |v| (0.0..1.0).contains(&v),
            "an annual rate in [0, 1), e.g. 0.1",
        )
        .unwrap_or(0.1);
    let parameter_uncertainty = top.bool(r, "parameter_uncertainty").unwrap_or(true);
    let pop_start = top.start();
    let population = match top.sub(r, "population") {
        Some(p) => parse_population(r, p, path),
        None => {
            r.problem(pop_start, "population", "missing [population]: give `model = \"outputs/model.json\"` or inline priors with `customers = N`");
            None
        }
    };
    let metrics_at = top.raw("metrics").map_or(0, |v| v.span().start);
    let (primary, also) = match top.sub(r, "metrics") {
        Some(mut m) => {
            let primary = m.str(r, "primary");
            let primary = m.require(r, "primary", primary);
            let also = m.strings(r, "also").unwrap_or_default();
            r.finish(m, &["primary", "also"]);
            (primary.map(|p| p.0), also)
        }
        None => (
            Some("revenue".to_string()),
            vec![
                "purchases".into(),
                "active_customers".into(),
                "referrals".into(),
            ],
        ),
    };
    // Read by `sweep::read` once the file without it is known to be valid.
    top.raw("sweep");
    let tables = top.tables(r, "intervention");
    let mut interventions = Vec::new();
    for t in tables {
        if let Some(i) = parse_intervention(r, t) {
            interventions.push(i);
        }
    }
    r.finish(top, TOP);
    let (source, behaviour) = population?;
    // Check what can be checked even when other keys are wrong: all problems at once.
    let horizon = horizon.map(|h| h as u32);
    let channels = channel_names(&behaviour, &interventions);
    if let Some(p) = &primary {
        check_metrics(r, metrics_at, p, &also, &channels);
    }
    check_interventions(
        r,
        &interventions,
        &behaviour,
        &source,
        horizon.unwrap_or(u32::MAX),
    );
    if interventions.len() > 8 {
        r.problem(
            doc.span().start,
            "intervention",
            "at most 8 interventions per scenario",
        );
    }
    let (name, horizon, primary) = (name?, horizon?, primary?);
    Some(Scenario {
        path: path.to_path_buf(),
        slug: slug(&name),
        name,
        horizon_days: horizon,
        replications: replications as u32,
        seed,
        discount_rate,
        parameter_uncertainty,
        source,
        behaviour,
        primary,
        also,
        interventions,
        sweep: None,
    })
}

fn check_metrics(r: &mut Reader, at: usize, primary: &str, also: &[String], channels: &[String]) {
    for m in std::iter::once(primary).chain(also.iter().map(String::as_str)) {
        let known = METRICS.contains(&m)
            || m.strip_prefix("purchases:")
                .is_some_and(|c| channels.iter().any(|x| x == c));
        if !known {
            let hint = reader::closest(m, METRICS)
                .map(|c| format!(" (did you mean '{c}'?)"))
                .unwrap_or_default();
            r.problem(
                at,
                "metrics",
                format!(
                    "unknown metric '{m}'{hint}: use {} or purchases:<channel>",
                    METRICS.join(", ")
                ),
            );
        }
    }
}

fn check_interventions(
    r: &mut Reader,
    list: &[Intervention],
    b: &Behaviour,
    source: &Source,
    horizon: u32,
) {
    let mut channels: Vec<String> = b.channels.clone();
    for iv in list {
        let key = format!("intervention[{}]", iv.at.2);
        if iv.start_day >= horizon {
            r.problem(iv.at.0, &key, format!("start_day {} is not inside the horizon of {horizon} days: it would change nothing", iv.start_day));
        }
        let need = |c: &str, r: &mut Reader| {
            if !channels.iter().any(|x| x == c) {
                r.problem(
                    iv.at.0,
                    &key,
                    format!(
                        "channel '{c}' does not exist; the channels are: {}",
                        channels.join(", ")
                    ),
                );
            }
        };
        match &iv.kind {
            Kind::PriceChange {
                channel: Some(c), ..
            }
            | Kind::ServiceQuality {
                channel: Some(c), ..
            }
            | Kind::CloseChannel { channel: c } => need(c, r),
            Kind::NewChannel { name, .. } => {
                if channels.len() >= MAX_CHANNELS {
                    r.problem(
                        iv.at.0,
                        &key,
                        format!("at most {MAX_CHANNELS} channels in all"),
                    );
                }
                channels.push(name.clone());
            }
            _ => {}
        }
        for seg in std::iter::once(&iv.segment).chain(iv.rollout.as_ref().map(|ro| &ro.pilot)) {
            for c in seg.channels() {
                if !channels.iter().any(|x| x == c) {
                    r.problem(
                        iv.at.0,
                        &key,
                        format!(
                            "segment '{}' names channel '{c}', which does not exist",
                            seg.text()
                        ),
                    );
                }
            }
            if !segment_nonempty(seg, source) {
                r.problem(iv.at.1, &key, format!("segment '{}' matches nobody in this population: widen it or check the attribute values", seg.text()));
            }
        }
    }
}

/// Whether some twin could match: checked on known customers' histories, or on newcomers.
fn segment_nonempty(seg: &Segment, source: &Source) -> bool {
    use segment::Attributes;
    let newcomer = |random: f64| Attributes {
        channel: "",
        p_alive: 1.0,
        value_decile: 0.0,
        frequency: 0.0,
        cohort: "newcomer",
        referred: false,
        segment: "",
        random,
    };
    if seg.channels().next().is_some() {
        return true; // preferred channels are drawn per twin; any channel can be someone's favourite
    }
    let grid = [0.001, 0.25, 0.5, 0.75, 0.999];
    if grid.iter().any(|&u| seg.matches(&newcomer(u))) {
        return true;
    }
    match source {
        Source::Inline { .. } => false,
        Source::Fitted(f) => f.persons.iter().take(200_000).any(|p| {
            let names = f.model.segments.as_ref().map(|g| &g.fits.names);
            let segment = names
                .and_then(|n| n.get(p.segment as usize))
                .map_or("", |s| s.as_str());
            grid.iter().any(|&u| {
                (1..=10).any(|d| {
                    [0.0, 0.5, 1.0].iter().any(|&pa| {
                        seg.matches(&Attributes {
                            channel: "",
                            p_alive: pa,
                            value_decile: d as f64,
                            frequency: p.x,
                            cohort: "existing",
                            referred: false,
                            segment,
                            random: u,
                        })
                    })
                })
            })
        }),
    }
}

/// A section of positive model parameters, e.g. `[population.bgnbd]` with r, alpha, a, b;
/// `None` when absent or when any value is missing or impossible (each reported).
fn positive_params(
    r: &mut Reader,
    p: &mut TableReader,
    section: &str,
    names: &[&str],
) -> Option<Vec<f64>> {
    let mut t = p.sub(r, section)?;
    let values: Vec<Option<f64>> = names
        .iter()
        .map(|k| t.req_f64(r, k, |v| v > 0.0 && v.is_finite(), "positive"))
        .collect();
    r.finish(t, names);
    values.into_iter().collect()
}

fn parse_population(
    r: &mut Reader,
    mut p: TableReader,
    scenario_path: &Path,
) -> Option<(Source, Behaviour)> {
    let model = p.str(r, "model");
    let customers = p.u64_where(
        r,
        "customers",
        |v| (0..=1_000_000_000).contains(&v),
        "between 0 and 1e9",
    );
    let unit = match p.str(r, "time_unit") {
        Some((u, _)) if u == "week" => 7.0,
        Some((u, _)) if u == "day" => 1.0,
        Some((u, at)) => {
            r.problem(
                at,
                &format!("{}.time_unit", p.path()),
                format!("'{u}' is not a time unit: use \"week\" or \"day\""),
            );
            7.0
        }
        None => 7.0,
    };
    let mut purchase = None;
    if let Some(v) = positive_params(r, &mut p, "bgnbd", &crate::fit::bgnbd::NAMES) {
        purchase = BgNbd::from_slice(&v).ok().map(PurchaseModel::BgNbd);
    }
    if let Some(v) = positive_params(r, &mut p, "pareto_nbd", &crate::fit::pareto_nbd::NAMES) {
        purchase = ParetoNbd::from_slice(&v).ok().map(PurchaseModel::ParetoNbd);
    }
    let spend = positive_params(r, &mut p, "spend", &crate::fit::gamma_gamma::NAMES)
        .and_then(|v| GammaGamma::from_slice(&v).ok());
    let base: Option<(Source, Behaviour)> = match (model, customers) {
        (Some(_), Some(_)) => {
            r.problem(
                p.start(),
                p.path(),
                "give either `model` (fitted customers) or `customers` (inline priors), not both",
            );
            None
        }
        (Some((m, at)), None) => {
            let candidates = [
                PathBuf::from(&m),
                scenario_path.parent().unwrap_or(Path::new(".")).join(&m),
            ];
            match candidates.iter().find(|c| c.is_file()) {
                None => {
                    r.problem(at, "population.model", format!("model file '{m}' not found (looked in the current directory and beside the scenario): run `twinsim fit EVENTS.csv -o {m}` first"));
                    None
                }
                Some(found) => match r
                    .models
                    .get(found)
                    .cloned()
                    .map_or_else(|| read_fitted(found).map(std::sync::Arc::new), Ok)
                    .and_then(|f| f.behaviour().map(|b| (f, b)))
                {
                    Ok((f, b)) => {
                        r.models.insert(found.clone(), f.clone());
                        Some((Source::Fitted(f), b))
                    }
                    Err(e) => {
                        r.problem(at, "population.model", e.to_string());
                        None
                    }
                },
            }
        }
        (None, Some(n)) => {
            let Some(purchase) = purchase else {
                r.problem(p.start(), p.path(), "inline priors need [population.bgnbd] (r, alpha, a, b) or [population.pareto_nbd] (r, alpha, s, beta)");
                return None;
            };
            let mut defaults = Vec::new();
            let spend = spend.unwrap_or_else(|| {
                defaults.push("spend (Gamma-Gamma p=6, q=4, v=90)".to_string());
                GammaGamma::new(6.0, 4.0, 90.0).expect("valid")
            });
            let mut b = Behaviour::with_defaults(
                purchase,
                unit,
                spend,
                vec!["default".into()],
                vec![1.0],
                n,
            );
            b.defaults_used = defaults;
            Some((Source::Inline { customers: n }, b))
        }
        (None, None) => {
            if p.raw("customers").is_none() && p.raw("model").is_none() {
                r.problem(
                    p.start(),
                    p.path(),
                    "give `model = \"outputs/model.json\"` or inline priors with `customers = N`",
                );
            }
            None
        }
    };
    let (source, mut b) = base?;
    if matches!(source, Source::Fitted(_)) {
        if let Some(pm) = purchase {
            b.purchase = pm;
        }
        if let Some(s) = spend {
            b.spend = s;
        }
    }
    overrides(r, &mut p, &mut b);
    r.finish(p, POPULATION);
    Some((source, b))
}

/// Scenario-level overrides of behavioural parameters; whatever is not given stays a default
/// and is listed in `defaults_used`.
fn overrides(r: &mut Reader, p: &mut TableReader, b: &mut Behaviour) {
    let prob = |v: f64| (0.0..=1.0).contains(&v);
    let nonneg = |v: f64| v >= 0.0 && v.is_finite();
    let positive = |v: f64| v > 0.0 && v.is_finite();
    let used = |name: &str, given: bool, b: &mut Behaviour| {
        if !given {
            b.defaults_used.push(name.to_string());
        }
    };
    match p.sub(r, "channels") {
        Some(mut t) => {
            if let Some(names) = t.strings(r, "names") {
                if names.is_empty() || names.len() > MAX_CHANNELS {
                    r.problem(
                        t.start(),
                        &format!("{}.names", t.path()),
                        format!("give 1 to {MAX_CHANNELS} channel names"),
                    );
                } else {
                    let n = names.len();
                    b.channels = names;
                    b.channel_alpha = vec![1.0; n];
                    b.channel_cost = vec![1.0; n];
                    b.channel_bad = vec![0.05; n];
                }
            }
            let n = b.channels.len();
            for (key, target) in [("alpha", 0), ("cost", 1), ("bad_experience", 2)] {
                if let Some(v) = t.numbers(r, key) {
                    let ok = v.len() == n
                        && v.iter().all(|x| {
                            if target == 0 {
                                positive(*x)
                            } else if target == 1 {
                                nonneg(*x)
                            } else {
                                prob(*x)
                            }
                        });
                    if !ok {
                        r.problem(
                            t.start(),
                            &format!("{}.{key}", t.path()),
                            format!(
                                "give {n} values (one per channel: {}), each {}",
                                b.channels.join(", "),
                                ["positive", "≥ 0", "in [0, 1]"][target]
                            ),
                        );
                    } else {
                        *[
                            &mut b.channel_alpha,
                            &mut b.channel_cost,
                            &mut b.channel_bad,
                        ][target] = v;
                    }
                }
            }
            used(
                "channel cost to serve (1 per purchase)",
                t.raw("cost").is_some(),
                b,
            );
            let fitted = b.is_fitted("bad_experience");
            used(
                "bad-experience probability (0.05 per purchase)",
                t.raw("bad_experience").is_some() || fitted,
                b,
            );
            r.finish(t, &["names", "alpha", "cost", "bad_experience"]);
        }
        None => {
            used("channel cost to serve (1 per purchase)", false, b);
            let fitted = b.is_fitted("bad_experience");
            used("bad-experience probability (0.05 per purchase)", fitted, b);
        }
    }
    let section =
        |name: &str,
         keys: &[&str],
         r: &mut Reader,
         p: &mut TableReader,
         b: &mut Behaviour,
         f: &mut dyn FnMut(&mut Reader, &mut TableReader, &mut Behaviour)| {
            match p.sub(r, name) {
                Some(mut t) => {
                    f(r, &mut t, b);
                    r.finish(t, keys);
                }
                None => {
                    if let Some(d) = section_defaults(name, b) {
                        b.defaults_used.push(format!("{name}: {d}"))
                    }
                }
            }
        };
    section(
        "service",
        &[
            "kappa",
            "contact_probability",
            "contact_cost",
            "self_service",
        ],
        r,
        p,
        b,
        &mut |r, t, b| {
            if let Some(v) = t.f64_where(
                r,
                "kappa",
                |v| v >= 1.0 && v.is_finite(),
                "≥ 1 (a bad experience cannot make staying more likely)",
            ) {
                b.kappa = v
            } else if !b.is_fitted("kappa") {
                b.defaults_used
                    .push("κ = 2 (dropout multiplier after a bad experience)".into())
            }
            if let Some(v) = t.f64_where(r, "contact_probability", prob, "a probability") {
                b.contact_probability = v
            }
            if let Some(v) = t.f64_where(r, "contact_cost", nonneg, "≥ 0") {
                b.contact_cost = v
            }
            if let Some(v) = t.f64_where(r, "self_service", prob, "a share in [0, 1]") {
                b.self_service = v
            }
        },
    );
    section(
        "referral",
        &[
            "probability",
            "concentration",
            "conversion",
            "network",
            "degree",
            "rewire",
        ],
        r,
        p,
        b,
        &mut |r, t, b| {
            if let Some(v) = t.f64_where(r, "probability", prob, "a probability") {
                b.referral_mean = v
            } else if !b.is_fitted("referral") {
                b.defaults_used
                    .push("referral probability 0.02 per good purchase".into())
            }
            if let Some(v) = t.f64_where(
                r,
                "concentration",
                |v| v > 0.0,
                "positive (inf: the same for every twin)",
            ) {
                b.referral_concentration = v
            }
            if let Some(v) = t.f64_where(r, "conversion", prob, "a probability") {
                b.referral_conversion = v
            }
            let degree = t
                .u64_where(
                    r,
                    "degree",
                    |v| v >= 2 && v % 2 == 0 && v <= 1000,
                    "an even number from 2 to 1000",
                )
                .unwrap_or(10) as u32;
            let rewire = t
                .f64_where(r, "rewire", prob, "a probability")
                .unwrap_or(0.1);
            match t.str(r, "network") {
                Some((n, _)) if n == "mixed" => b.network = Network::Mixed,
                Some((n, _)) if n == "unbounded" => b.network = Network::Unbounded,
                Some((n, _)) if n == "small_world" => {
                    b.network = Network::SmallWorld { degree, rewire }
                }
                Some((n, at)) => r.problem(
                    at,
                    &format!("{}.network", t.path()),
                    format!(
                        "'{n}' is not a network: use \"small_world\", \"mixed\" or \"unbounded\""
                    ),
                ),
                None => b.network = Network::SmallWorld { degree, rewire },
            }
        },
    );
    section(
        "acquisition",
        &[
            "market_size",
            "p",
            "q",
            "period_days",
            "newcomers_buy_on_arrival",
        ],
        r,
        p,
        b,
        &mut |r, t, b| {
            if let Some(v) = t.u64_where(r, "market_size", |v| v >= 0, "≥ 0") {
                b.bass.market_size = v
            }
            if let Some(v) = t.f64_where(r, "p", prob, "in [0, 1]") {
                b.bass.p = v
            }
            if let Some(v) = t.f64_where(r, "q", |v| (0.0..=10.0).contains(&v), "in [0, 10]") {
                b.bass.q = v
            }
            if let Some(v) = t.f64_where(r, "period_days", |v| v >= 1.0, "≥ 1") {
                b.bass.period_days = v
            }
            if let Some(v) = t.bool(r, "newcomers_buy_on_arrival") {
                b.newcomers_buy_on_arrival = v
            }
        },
    );
    section("price", &["elasticity"], r, p, b, &mut |r, t, b| {
        if let Some(v) = t.f64_where(
            r,
            "elasticity",
            |v| v.is_finite() && v.abs() <= 20.0,
            "between -20 and 20",
        ) {
            b.elasticity = v
        } else {
            b.defaults_used.push("price elasticity -1".into())
        }
    });
    section(
        "upsell",
        &[
            "probability",
            "uplift",
            "cross_sell_probability",
            "cross_sell_amount",
            "concentration",
        ],
        r,
        p,
        b,
        &mut |r, t, b| {
            if let Some(v) = t.f64_where(r, "probability", prob, "a probability") {
                b.upsell_mean = v
            }
            if let Some(v) = t.f64_where(r, "uplift", nonneg, "≥ 0") {
                b.upsell_uplift = v
            }
            if let Some(v) = t.f64_where(r, "cross_sell_probability", prob, "a probability") {
                b.cross_sell_mean = v
            }
            if let Some(v) = t.f64_where(r, "cross_sell_amount", nonneg, "≥ 0") {
                b.cross_sell_amount = v
            }
            if let Some(v) = t.f64_where(
                r,
                "concentration",
                |v| v > 0.0,
                "positive (inf: the same for every twin)",
            ) {
                b.sell_concentration = v
            }
        },
    );
    match p.f64_where(
        r,
        "margin",
        |v| (0.0..=1.0).contains(&v),
        "a share in [0, 1]",
    ) {
        Some(v) => b.margin = v,
        None => b.defaults_used.push("gross margin 30%".into()),
    }
}

/// What an absent scenario section leaves at its defaults, given what the fit supplied;
/// `None` when everything in it was fitted.
fn section_defaults(name: &str, b: &Behaviour) -> Option<String> {
    let pick = |parts: &[(&str, &str)]| -> Option<String> {
        let left: Vec<&str> = parts
            .iter()
            .filter(|(key, _)| key.is_empty() || !b.is_fitted(key))
            .map(|(_, text)| *text)
            .collect();
        (!left.is_empty()).then(|| left.join(", "))
    };
    match name {
        "service" => pick(&[
            ("kappa", "κ = 2 (dropout ×2 after a bad experience)"),
            ("contact_probability", "contact probability 0.1"),
            ("", "contact cost 5"),
        ]),
        "referral" => pick(&[
            (
                "referral",
                "referral probability 0.02 per good purchase (Beta, concentration 10), conversion 0.5",
            ),
            ("", "small-world network of degree 10"),
        ]),
        "acquisition" => pick(&[(
            "bass",
            "Bass diffusion with market size 2 × initial customers, p = 0.005 and q = 0.05 per 30 days",
        )]),
        "price" => {
            Some("price elasticity -1 (an assumption: the data have no price variation)".into())
        }
        "upsell" => pick(&[
            ("upsell", "upsell probability 0.03"),
            ("", "upsell amount +25%"),
            ("cross_sell", "cross-sell probability 0.05"),
            ("", "cross-sell amount +50%"),
        ]),
        _ => Some("defaults".into()),
    }
}

fn parse_intervention(r: &mut Reader, mut t: TableReader) -> Option<Intervention> {
    let kinds: Vec<&str> = KINDS.iter().map(|k| k.0).collect();
    let kind_name = t.str(r, "kind");
    let kind_name = t.require(r, "kind", kind_name);
    let start = t.u64_where(
        r,
        "start_day",
        |v| v >= 0,
        "≥ 0 (0 is the first simulated day)",
    );
    let start_day = t.require(r, "start_day", start).map(|v| v as u32);
    let end_day = t
        .u64_where(r, "end_day", |v| v >= 1, "≥ 1")
        .map(|v| v as u32);
    let mut segment_at = t.start();
    let segment = match t.str(r, "segment") {
        Some((s, at)) => Segment::parse(&s)
            .inspect(|_| segment_at = at)
            .map_err(|e| r.problem(at, &format!("{}.segment", t.path()), e))
            .ok(),
        None => Some(Segment::all()),
    };
    let rollout = match t.sub(r, "rollout") {
        Some(mut ro) => {
            let pilot = ro.str(r, "pilot_segment");
            let pilot = ro.require(r, "pilot_segment", pilot).and_then(|(s, at)| {
                Segment::parse(&s)
                    .map_err(|e| r.problem(at, &format!("{}.pilot_segment", ro.path()), e))
                    .ok()
            });
            let full = ro.u64_where(r, "full_from_day", |v| v >= 0, "≥ 0");
            let full = ro.require(r, "full_from_day", full);
            r.finish(ro, &["pilot_segment", "full_from_day"]);
            pilot.zip(full).map(|(pilot, f)| Rollout {
                pilot,
                full_from_day: f as u32,
            })
        }
        None => None,
    };
    let (name, at) = kind_name?;
    let Some(spec) = KINDS.iter().find(|k| k.0 == name) else {
        let hint = reader::closest(&name, &kinds)
            .map(|c| format!("did you mean '{c}'? "))
            .unwrap_or_default();
        r.problem(
            at,
            &format!("{}.kind", t.path()),
            format!(
                "unknown intervention kind '{name}': {hint}use one of {}",
                kinds.join(", ")
            ),
        );
        return None;
    };
    let prob = |v: f64| (0.0..=1.0).contains(&v);
    let nonneg = |v: f64| v >= 0.0 && v.is_finite();
    let kind = match name.as_str() {
        "price_change" => {
            let pct = t.f64_where(
                r,
                "percent",
                |v| v > -100.0 && v.is_finite(),
                "greater than -100",
            );
            let pct = t.require(r, "percent", pct);
            let channel = t.str(r, "channel").map(|c| c.0);
            pct.map(|percent| Kind::PriceChange { percent, channel })
        }
        "new_channel" => {
            let n = t.str(r, "name");
            let n = t.require(r, "name", n);
            let attractiveness = t
                .f64_where(
                    r,
                    "attractiveness",
                    |v| v > 0.0 && v.is_finite(),
                    "positive",
                )
                .unwrap_or(1.0);
            let access_uplift = t
                .f64_where(r, "access_uplift", nonneg, "≥ 0")
                .unwrap_or(0.0);
            let cost_to_serve = t
                .f64_where(r, "cost_to_serve", nonneg, "≥ 0")
                .unwrap_or(1.0);
            let bad_experience = t
                .f64_where(r, "bad_experience", prob, "a probability")
                .unwrap_or(0.05);
            n.map(|(name, _)| Kind::NewChannel {
                name,
                attractiveness,
                access_uplift,
                cost_to_serve,
                bad_experience,
            })
        }
        "close_channel" => {
            let c = t.str(r, "channel");
            t.require(r, "channel", c)
                .map(|(channel, _)| Kind::CloseChannel { channel })
        }
        "service_quality" => {
            let b = t.req_f64(r, "bad_experience", prob, "a probability");
            let channel = t.str(r, "channel").map(|c| c.0);
            b.map(|bad_experience| Kind::ServiceQuality {
                channel,
                bad_experience,
            })
        }
        "referral_programme" => {
            let m = t.req_f64(r, "multiplier", nonneg, "≥ 0");
            let reward_cost = t.f64_where(r, "reward_cost", nonneg, "≥ 0").unwrap_or(0.0);
            m.map(|multiplier| Kind::ReferralProgramme {
                multiplier,
                reward_cost,
            })
        }
        "purchase_rate" => t
            .req_f64(r, "multiplier", nonneg, "≥ 0")
            .map(|multiplier| Kind::PurchaseRate { multiplier }),
        "retention_offer" => {
            let m = t.req_f64(r, "dropout_multiplier", nonneg, "≥ 0");
            let cost = t.f64_where(r, "cost", nonneg, "≥ 0").unwrap_or(0.0);
            m.map(|dropout_multiplier| Kind::RetentionOffer {
                dropout_multiplier,
                cost,
            })
        }
        _ => {
            let m = t.req_f64(r, "p_multiplier", nonneg, "≥ 0");
            let cost = t.f64_where(r, "cost", nonneg, "≥ 0").unwrap_or(0.0);
            m.map(|p_multiplier| Kind::MarketingPush { p_multiplier, cost })
        }
    };
    let mut known: Vec<&str> = COMMON.iter().map(|p| p.name).collect();
    known.extend(spec.2.iter().map(|p| p.name));
    if let (Some(s), Some(e)) = (start_day, end_day)
        && e <= s
    {
        r.problem(
            t.start(),
            &format!("{}.end_day", t.path()),
            format!("end_day {e} must be after start_day {s}"),
        );
    }
    let index = t
        .path()
        .rsplit('[')
        .next()
        .and_then(|x| x.trim_end_matches(']').parse().ok())
        .unwrap_or(0);
    let at = (t.start(), segment_at, index);
    r.finish(t, &known);
    Some(Intervention {
        kind: kind?,
        start_day: start_day?,
        end_day,
        segment: segment?,
        rollout,
        at,
    })
}
