//! Fits every model the data support in one go: the purchase/dropout model(s), service
//! experience, spend, channel mix, referral, acquisition, upsell and cross-sell, contractual
//! churn and segments, with the likelihood-ratio tests between nested fits and the holdout
//! comparison. What the data cannot support is left out with a note saying why.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::contract::{ContractOptions, ContractReport, renewals, retention_table};
use super::holdout::{HoldoutReport, accuracy};
use super::lrt::{LrTest, lr_test};
use super::purchase::PurchaseModel;
use super::sbg::Sbg;
use super::{
    Fitted, Objective, bass, bdw, beta_binomial, bgnbd, channel, gamma_gamma, maximise, pareto_nbd,
    sbg, service,
};
use crate::data::Ledger;
use crate::data::labels::NO_LABEL;
use crate::error::Result;

/// Which purchase/dropout models to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseModels {
    /// BG/NBD only.
    BgNbd,
    /// Pareto/NBD only.
    ParetoNbd,
    /// Both, compared by AIC/BIC and holdout accuracy.
    All,
}

/// What to fit beyond what the columns imply.
#[derive(Debug, Clone, Copy)]
pub struct SuiteOptions {
    /// Purchase models.
    pub models: PurchaseModels,
    /// Contractual churn models, with `--contractual`.
    pub contract: Option<ContractOptions>,
}

/// Separate fits per segment and the test of whether they differ.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentFits {
    /// Segment names in fitting order (`(other)` gathers segments too small to fit alone).
    pub names: Vec<String>,
    /// Customers per segment.
    pub customers: Vec<usize>,
    /// The primary purchase model fitted on each segment.
    pub models: IndexMap<String, Fitted>,
    /// Pooled vs separate fits.
    pub test: Option<LrTest>,
}

/// Fitted models keyed by their `model.json` names, plus tests, notes and reports.
#[derive(Debug, Clone)]
pub struct FitSuite {
    /// Every fitted model by name.
    pub models: IndexMap<String, Fitted>,
    /// The purchase model the rest of twinsim uses (the first one fitted).
    pub primary: String,
    /// Holdout comparison, when the ledger has a holdout period.
    pub holdout: Option<HoldoutReport>,
    /// Likelihood-ratio tests between nested fits.
    pub tests: Vec<LrTest>,
    /// Why a behaviour the columns could speak to was not fitted.
    pub notes: Vec<String>,
    /// Contractual retention, with `--contractual`.
    pub contract: Option<ContractReport>,
    /// Discounted expected residual lifetime per customer (periods), with `--contractual`.
    pub derl: Option<Vec<f64>>,
    /// Per-segment fits, with `--segment-by`.
    pub segments: Option<SegmentFits>,
}

/// Smallest group fitted on its own (referred customers, a segment).
const MIN_GROUP: usize = 20;

/// Fits the chosen purchase models and every other model the ledger's columns support;
/// `progress` is called with each model's name before it is fitted.
pub fn fit_ledger(
    ledger: &Ledger,
    opts: &SuiteOptions,
    mut progress: impl FnMut(&str),
) -> Result<FitSuite> {
    let mut s = FitSuite {
        models: IndexMap::new(),
        primary: String::new(),
        holdout: None,
        tests: Vec::new(),
        notes: Vec::new(),
        contract: None,
        derl: None,
        segments: None,
    };
    let which = opts.models;
    if matches!(which, PurchaseModels::BgNbd | PurchaseModels::All) {
        progress("bgnbd");
        let f = fit_purchase("bgnbd", &ledger.x, &ledger.t_x, &ledger.t)?;
        s.models.insert("bgnbd".into(), f);
    }
    if matches!(which, PurchaseModels::ParetoNbd | PurchaseModels::All) {
        progress("pareto_nbd");
        let f = fit_purchase("pareto_nbd", &ledger.x, &ledger.t_x, &ledger.t)?;
        s.models.insert("pareto_nbd".into(), f);
    }
    s.primary = s.models.keys().next().cloned().unwrap_or_default();
    s.holdout = holdout(ledger, &s.models, &s.primary)?;
    fit_service(ledger, &mut s, &mut progress);
    if ledger.has_amount() {
        let lik = gamma_gamma::Likelihood::new(&ledger.x, &ledger.spend_mean);
        let (lo, hi) = (0..ledger.len())
            .filter(|&i| ledger.x[i] > 0.0)
            .map(|i| ledger.spend_mean[i])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if lo.is_finite() && hi - lo <= 1e-9 * hi.abs() {
            // A fixed price (a subscription fee): nothing varies, so Gamma-Gamma has no
            // identified parameters and would run off to infinity.
            s.notes.push(format!(
                "spend: every repeat customer's mean amount is {hi}: Gamma-Gamma is not identified, so spend uses defaults"
            ));
        } else if lik.n_obs() >= 2 {
            progress("gamma_gamma");
            s.models
                .insert("gamma_gamma".into(), maximise(&lik, "Gamma-Gamma")?);
        } else {
            s.notes
                .push("spend: fewer than two repeat customers with amounts".into());
        }
    }
    if ledger.channels.len() >= 2 {
        progress("channel_dirichlet");
        let lik = channel::Likelihood::new(&ledger.channels, &ledger.channel_counts);
        s.models.insert(
            "channel_dirichlet".into(),
            maximise(&lik, "Dirichlet-multinomial channel mix")?,
        );
    }
    fit_referral(ledger, &mut s, &mut progress);
    fit_acquisition(ledger, &mut s, &mut progress);
    for (on, name, trials, successes, what) in [
        (
            ledger.has.tier,
            "upsell",
            &ledger.tier_trials,
            &ledger.tier_ups,
            "tier-up per repeat purchase",
        ),
        (
            ledger.has.category,
            "cross_sell",
            &ledger.category_trials,
            &ledger.new_categories,
            "new category per repeat purchase",
        ),
    ] {
        if on {
            progress(name);
            fit_share(&mut s, name, trials, successes, what);
        }
    }
    if let Some(c) = &opts.contract {
        progress("sbg");
        fit_contract(ledger, c, &mut s)?;
    }
    if ledger.has.segment {
        progress("segments");
        fit_segments(ledger, &mut s);
    }
    Ok(s)
}

/// Fits purchase model `name` (`bgnbd` or `pareto_nbd`) on (x, t_x, T).
pub fn fit_purchase(name: &str, x: &[f64], t_x: &[f64], t: &[f64]) -> Result<Fitted> {
    match name {
        "pareto_nbd" => maximise(&pareto_nbd::Likelihood::new(x, t_x, t), "Pareto/NBD"),
        _ => maximise(&bgnbd::Likelihood::new(x, t_x, t), "BG/NBD"),
    }
}

/// (x, t_x, T) of the customers `keep` selects.
fn subset(l: &Ledger, keep: impl Fn(usize) -> bool) -> [Vec<f64>; 3] {
    let idx: Vec<usize> = (0..l.len()).filter(|&i| keep(i)).collect();
    [&l.x, &l.t_x, &l.t].map(|v| idx.iter().map(|&i| v[i]).collect())
}

fn holdout(
    ledger: &Ledger,
    models: &IndexMap<String, Fitted>,
    primary: &str,
) -> Result<Option<HoldoutReport>> {
    let sum = &ledger.summary;
    let (Some(length), Some(from), Some(to)) =
        (sum.holdout_length, &sum.holdout_from, &sum.holdout_end)
    else {
        return Ok(None);
    };
    let mut by_model = IndexMap::new();
    for (name, m) in models {
        let model = PurchaseModel::from_fitted(name, m)?;
        by_model.insert(
            name.clone(),
            accuracy(ledger, length, |x, tx, t, len| {
                model.conditional_expected(len, x, tx, t)
            }),
        );
    }
    let top = by_model[primary].clone();
    Ok(Some(HoldoutReport {
        model: primary.to_string(),
        length,
        from: from.clone(),
        to: to.clone(),
        actual_total: ledger.holdout_x.iter().sum(),
        predicted_total: top.predicted_total,
        mae_per_customer: top.mae_per_customer,
        by_frequency: top.by_frequency,
        by_model,
    }))
}

/// Bad-experience rates per channel and, on BG/NBD, κ in the extended model.
fn fit_service(ledger: &Ledger, s: &mut FitSuite, progress: &mut impl FnMut(&str)) {
    let Some(e) = &ledger.experiences else {
        return;
    };
    progress("bad_experience");
    let rates = service::bad_rates(e);
    let names = ledger
        .channels
        .iter()
        .cloned()
        .chain(["(no channel)".to_string()]);
    let (mut params, mut ses, mut ll) = (IndexMap::new(), IndexMap::new(), 0.0);
    for ((name, &(rate, se)), (&n, &k)) in names.zip(&rates).zip(e.known.iter().zip(&e.bad)) {
        if n > 0 {
            params.insert(name.clone(), rate);
            ses.insert(name, se);
            let (k, n) = (k as f64, n as f64);
            ll += if k > 0.0 { k * rate.ln() } else { 0.0 }
                + if n > k {
                    (n - k) * (1.0 - rate).ln()
                } else {
                    0.0
                };
        }
    }
    let known: u64 = e.known.iter().sum();
    if known == 0 {
        s.notes
            .push("service: the satisfaction column has no scores on purchases or contacts".into());
        return;
    }
    s.models.insert(
        "bad_experience".into(),
        Fitted::closed_form(
            params,
            ses,
            ll,
            known as usize,
            &format!(
                "share of observed experiences scored ≤ {} (binomial MLE per channel)",
                e.bad_at_most
            ),
        ),
    );
    let bad_repeats: u32 = (0..ledger.len()).map(|i| e.row(i)[1]).sum();
    let Some(bg) = s.models.get("bgnbd").filter(|_| s.primary == "bgnbd") else {
        s.notes
            .push("service: κ is fitted in the extended BG/NBD; fit with --model bgnbd".into());
        return;
    };
    if bad_repeats < 5 {
        s.notes.push(format!(
            "service: only {bad_repeats} bad experiences on repeat purchases: κ is not identified"
        ));
        return;
    }
    progress("bgnbd_service");
    let start = [
        bg.param("r"),
        bg.param("alpha"),
        bg.param("a"),
        bg.param("b"),
    ];
    let pooled_ll = bg.log_likelihood;
    let lik = service::Likelihood::new(&ledger.x, &ledger.t_x, &ledger.t, e, &rates, start);
    match maximise(&lik, "BG/NBD with service experience") {
        Ok(f) => {
            s.tests.push(lr_test(
                "Do bad experiences change dropout (κ ≠ 1)?",
                pooled_ll,
                f.log_likelihood,
                1,
            ));
            s.models.insert("bgnbd_service".into(), f);
        }
        Err(err) => s.notes.push(format!("service: {err}")),
    }
}

/// Referral probability per purchase (beta-binomial) and separate priors for referred customers.
fn fit_referral(ledger: &Ledger, s: &mut FitSuite, progress: &mut impl FnMut(&str)) {
    if !ledger.has.referred_by {
        return;
    }
    progress("referral");
    fit_share(
        s,
        "referral",
        &ledger.referral_trials,
        &ledger.referrals,
        "customer won by referral per purchase that was not a bad experience",
    );
    let referred = ledger.referred.iter().filter(|r| **r).count();
    let external = ledger.len() - referred;
    if referred < MIN_GROUP || external < MIN_GROUP {
        s.notes.push(format!(
            "referral: {referred} referred and {external} other customers: at least {MIN_GROUP} of each are needed for separate priors"
        ));
        return;
    }
    let primary = s.primary.clone();
    progress(&format!("{primary}_referred"));
    let fits = [true, false].map(|want| {
        let [x, tx, t] = subset(ledger, |i| ledger.referred[i] == want);
        fit_purchase(&primary, &x, &tx, &t)
    });
    match fits {
        [Ok(r), Ok(o)] => {
            let k = r.params.len() as u32;
            s.tests.push(lr_test(
                "Do referred customers buy and churn differently?",
                s.models[&primary].log_likelihood,
                r.log_likelihood + o.log_likelihood,
                k,
            ));
            s.models.insert(format!("{primary}_referred"), r);
            s.models.insert(format!("{primary}_external"), o);
        }
        [Err(e), _] | [_, Err(e)] => s.notes.push(format!("referral priors: {e}")),
    }
}

/// Beta-binomial success probability stored under `name`, when there is anything to fit.
fn fit_share(s: &mut FitSuite, name: &str, trials: &[u32], successes: &[u32], what: &str) {
    let n: u64 = trials.iter().map(|&t| t as u64).sum();
    let k: u64 = successes.iter().map(|&t| t as u64).sum();
    if n < 10 || k == 0 {
        s.notes.push(format!(
            "{name}: {k} successes in {n} chances ({what}): too few to fit"
        ));
        return;
    }
    match maximise(&beta_binomial::Likelihood::new(trials, successes), name) {
        Ok(mut f) => {
            f.message = format!("{what}; {}", f.message);
            s.models.insert(name.into(), f);
        }
        Err(e) => s.notes.push(format!("{name}: {e}")),
    }
}

/// Bass diffusion on first purchases per time unit: external arrivals only when the log says
/// who was referred (referred arrivals come from the referral model).
fn fit_acquisition(ledger: &Ledger, s: &mut FitSuite, progress: &mut impl FnMut(&str)) {
    let unit = ledger.time_unit.days();
    let Some(day0) = ledger.first_day.iter().copied().min() else {
        return;
    };
    let end = ledger.t.iter().fold(0.0f64, |m, &t| m.max(t));
    let periods = end.ceil() as usize;
    let mut counts = vec![0.0; periods.max(1)];
    let mut referred = 0usize;
    for i in 0..ledger.len() {
        if ledger.referred[i] {
            referred += 1;
            continue;
        }
        let last = counts.len() - 1;
        let k = (((ledger.first_day[i] - day0) as f64) / unit) as usize;
        counts[k.min(last)] += 1.0;
    }
    let lik = match bass::Likelihood::observed_until(&counts, end) {
        Ok(l) => l,
        Err(e) => {
            s.notes.push(format!("acquisition: {e}"));
            return;
        }
    };
    progress("bass");
    let adopted: f64 = counts.iter().sum();
    let fit = maximise(&lik, "Bass diffusion").and_then(|f| {
        // A market the log saw saturate puts the estimate on the boundary M = adopted, where
        // the Hessian is singular: fit p and q with M held there instead, and say so.
        let left = f.params.get("m_minus_adopted").copied().unwrap_or(f64::INFINITY);
        if f.converged || left > 0.01 * adopted.max(1.0) {
            return Ok(f);
        }
        let mut g = maximise(&lik.saturated(), "Bass diffusion (saturated market)")?;
        g.params.insert("m_minus_adopted".into(), 0.0);
        g.std_errors.insert("m_minus_adopted".into(), 0.0);
        g.message = format!(
            "the market saturated within the log (the free fit ran to M = adopted), so M is held at the number adopted and its standard error is 0; {}",
            g.message
        );
        Ok(g)
    });
    match fit {
        Ok(mut f) => {
            if let Some(note) = cohort_sample(&counts, end, &f) {
                s.notes.push(note);
                return;
            }
            // Report M itself: the optimiser works on ln(M − adopted) so that M ≥ adopted.
            let m = f.params.shift_remove("m_minus_adopted").unwrap_or(0.0) + adopted;
            let se = f
                .std_errors
                .shift_remove("m_minus_adopted")
                .unwrap_or(f64::NAN);
            f.params.insert("m".into(), m);
            f.std_errors.insert("m".into(), se);
            f.message = format!(
                "first purchases per {} of {} external customers{}; {}",
                if unit == 7.0 { "week" } else { "day" },
                adopted,
                if referred > 0 {
                    format!(" ({referred} referred arrivals left to the referral model)")
                } else {
                    String::new()
                },
                f.message
            );
            s.models.insert("bass".into(), f);
        }
        Err(e) => s.notes.push(format!("acquisition: {e}")),
    }
}

/// A cohort sample (everyone acquired in a window, then followed) says nothing about
/// acquisition, and Bass fitted to it would invent a market. The log is taken for one when
/// first purchases stop before the last quarter of the log and a flat arrival window explains
/// their timing better (by AIC, both conditional on the number of arrivals) than the fitted
/// Bass curve does. A note says why; `None` keeps Bass.
fn cohort_sample(counts: &[f64], end: f64, bass_fit: &Fitted) -> Option<String> {
    let active = counts.iter().rposition(|&c| c > 0.0).map_or(0, |k| k + 1);
    if active == 0 || active * 4 >= counts.len() * 3 {
        return None;
    }
    let n: f64 = counts.iter().sum();
    let (p, q) = (bass_fit.params.get("p")?, bass_fit.params.get("q")?);
    let curve = bass::Bass::new(*p, *q, n).ok()?;
    let total = curve.cdf(end);
    let mut ll_bass = 0.0;
    let mut prev = 0.0;
    for (k, &c) in counts.iter().enumerate() {
        let f = curve.cdf((k as f64 + 1.0).min(end));
        if c > 0.0 {
            ll_bass += c * ((f - prev) / total).max(1e-300).ln();
        }
        prev = f;
    }
    let ll_flat = -n * (active as f64).ln();
    let (aic_bass, aic_flat) = (-2.0 * ll_bass + 4.0, -2.0 * ll_flat + 2.0);
    (aic_flat < aic_bass).then(|| {
        format!(
            "acquisition: first purchases stop after period {active} of {} and a flat arrival window fits their timing better than Bass (AIC {aic_flat:.1} vs {aic_bass:.1}): the log looks like a cohort sample, so Bass is not fitted",
            counts.len()
        )
    })
}

/// sBG and BdW on renewals, the retention table and DERL per customer.
fn fit_contract(ledger: &Ledger, c: &ContractOptions, s: &mut FitSuite) -> Result<()> {
    let r = renewals(&ledger.t_x, &ledger.t, ledger.time_unit.days(), c);
    let keep: Vec<usize> = (0..ledger.len()).filter(|&i| r.observed[i]).collect();
    let lik = sbg::Likelihood::from_customers(
        &keep.iter().map(|&i| r.renewals[i]).collect::<Vec<_>>(),
        &keep.iter().map(|&i| r.churned[i]).collect::<Vec<_>>(),
    )?;
    let f = maximise(&lik, "shifted-beta-geometric")?;
    let m = Sbg::new(f.param("alpha"), f.param("beta"))?;
    let bdw_fit = maximise(
        &bdw::Likelihood::new(&lik, m.alpha, m.beta),
        "beta-discrete-Weibull",
    );
    let bdw_model = match &bdw_fit {
        Ok(b) => {
            s.tests.push(lr_test(
                "Does each customer's churn change with tenure (BdW c ≠ 1)?",
                f.log_likelihood,
                b.log_likelihood,
                1,
            ));
            Some(bdw::Bdw::new(
                b.param("alpha"),
                b.param("beta"),
                b.param("c"),
            )?)
        }
        Err(e) => {
            s.notes.push(format!("contract: {e}"));
            None
        }
    };
    s.contract = Some(retention_table(&lik, &m, bdw_model.as_ref(), c, keep.len()));
    let d = c.discount_per_period();
    s.derl = Some(
        (0..ledger.len())
            .map(|i| {
                if r.churned[i] {
                    0.0
                } else {
                    m.derl(d, r.renewals[i])
                }
            })
            .collect(),
    );
    s.models.insert("sbg".into(), f);
    if let Ok(b) = bdw_fit {
        s.models.insert("bdw".into(), b);
    }
    Ok(())
}

/// The primary model per segment and the likelihood-ratio test against the pooled fit.
fn fit_segments(ledger: &Ledger, s: &mut FitSuite) {
    let n_seg = ledger.segment_names.len();
    let mut sizes = vec![0usize; n_seg];
    for &g in &ledger.segment {
        if g != NO_LABEL {
            sizes[g as usize] += 1;
        }
    }
    // Segments too small to fit alone (and customers without a value) form "(other)".
    let group_of = |i: usize| -> usize {
        let g = ledger.segment[i];
        if g != NO_LABEL && sizes[g as usize] >= MIN_GROUP {
            g as usize
        } else {
            n_seg
        }
    };
    let mut names = Vec::new();
    let mut customers = Vec::new();
    let mut models = IndexMap::new();
    let mut total_ll = 0.0;
    let mut failed = false;
    for g in 0..=n_seg {
        let [x, tx, t] = subset(ledger, |i| group_of(i) == g);
        if x.is_empty() {
            continue;
        }
        let name = if g == n_seg {
            "(other)".to_string()
        } else {
            ledger.segment_names[g].clone()
        };
        match fit_purchase(&s.primary, &x, &tx, &t) {
            Ok(f) => {
                total_ll += f.log_likelihood;
                models.insert(name.clone(), f);
            }
            Err(e) => {
                failed = true;
                s.notes.push(format!("segment '{name}': {e}"));
            }
        }
        names.push(name);
        customers.push(x.len());
    }
    let k = s.models[&s.primary].params.len() as u32;
    let test = (!failed && models.len() >= 2).then(|| {
        lr_test(
            format!("Do the {} segments differ?", models.len()),
            s.models[&s.primary].log_likelihood,
            total_ll,
            k * (models.len() as u32 - 1),
        )
    });
    s.segments = Some(SegmentFits {
        names,
        customers,
        models,
        test,
    });
}
