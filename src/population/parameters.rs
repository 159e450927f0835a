//! From the fitted models of `model.json` to the engine's [`Behaviour`]: each parameter takes its
//! fitted value where the data spoke to it and its documented default otherwise, and the
//! record of which is which ([`ParamSource`]) goes into `model.json` and the run summary.

use indexmap::IndexMap;

use super::behaviour::{Behaviour, MAX_CHANNELS};
use super::{ModelFile, ParamSource};
use crate::error::Result;
use crate::fit::Fitted;
use crate::fit::bgnbd::BgNbd;
use crate::fit::gamma_gamma::GammaGamma;
use crate::fit::purchase::PurchaseModel;

/// Records sources while the behaviour is assembled.
#[derive(Default)]
struct Record(IndexMap<String, ParamSource>);

impl Record {
    fn fitted(&mut self, name: &str, value: f64, se: Option<f64>, model: &str) {
        self.0.insert(
            name.to_string(),
            ParamSource {
                value,
                std_error: se.filter(|s| s.is_finite()),
                source: format!("fitted: {model}"),
            },
        );
    }

    fn assumed(&mut self, name: &str, value: f64) {
        self.0.insert(
            name.to_string(),
            ParamSource {
                value,
                std_error: None,
                source: "default".into(),
            },
        );
    }

    /// Every parameter of a fitted model, under `prefix.`.
    fn model(&mut self, prefix: &str, f: &Fitted, model: &str) {
        for (n, v) in &f.params {
            self.fitted(
                &format!("{prefix}.{n}"),
                *v,
                f.std_errors.get(n).copied(),
                model,
            );
        }
    }
}

/// Beta(a, b) of a beta-binomial fit as (mean, concentration).
fn mean_concentration(f: &Fitted) -> Result<(f64, f64)> {
    let (a, b) = (f.get("a")?, f.get("b")?);
    Ok((a / (a + b), a + b))
}

/// The behaviour a fitted model implies for `customers` known customers, and where each
/// parameter came from.
pub fn behaviour_from_model(
    m: &ModelFile,
    customers: u64,
) -> Result<(Behaviour, IndexMap<String, ParamSource>)> {
    let mut rec = Record::default();
    let mut defaults = Vec::new();
    let mut fitted = Vec::new();
    let primary = &m.primary_model;
    let service = m.models.get("bgnbd_service").filter(|_| primary == "bgnbd");
    let purchase = match service {
        // With service data the extended model's (r, α, a, b) go with its κ.
        Some(f) => {
            rec.model("purchase", f, "bgnbd_service");
            PurchaseModel::BgNbd(BgNbd::new(
                f.get("r")?,
                f.get("alpha")?,
                f.get("a")?,
                f.get("b")?,
            )?)
        }
        None => {
            rec.model("purchase", &m.models[primary], primary);
            PurchaseModel::from_fitted(primary, &m.models[primary])?
        }
    };
    let spend = match m.models.get("gamma_gamma") {
        Some(f) => {
            rec.model("spend", f, "gamma_gamma");
            fitted.push("spend");
            GammaGamma::new(f.get("p")?, f.get("q")?, f.get("v")?)?
        }
        None => {
            defaults.push("spend (Gamma-Gamma p=6, q=4, v=90: mean 180 per purchase)".to_string());
            for (n, v) in [("p", 6.0), ("q", 4.0), ("v", 90.0)] {
                rec.assumed(&format!("spend.{n}"), v);
            }
            GammaGamma::new(6.0, 4.0, 90.0)?
        }
    };
    let (channels, alpha): (Vec<String>, Vec<f64>) = match m.models.get("channel_dirichlet") {
        Some(f) => {
            rec.model("channel_alpha", f, "channel_dirichlet");
            fitted.push("channels");
            (
                f.params.keys().take(MAX_CHANNELS).cloned().collect(),
                f.values().into_iter().take(MAX_CHANNELS).collect(),
            )
        }
        None => {
            defaults.push("channels (one channel, 'default')".to_string());
            rec.assumed("channel_alpha.default", 1.0);
            (vec!["default".to_string()], vec![1.0])
        }
    };
    let unit = m.data.time_unit.days();
    let mut b = Behaviour::with_defaults(purchase, unit, spend, channels, alpha, customers);
    match m.models.get("bad_experience") {
        Some(f) => {
            fitted.push("bad_experience");
            let known: Vec<f64> = f.params.values().copied().collect();
            let pooled = known.iter().sum::<f64>() / known.len().max(1) as f64;
            for (k, ch) in b.channels.clone().iter().enumerate() {
                // One channel in the fit and none in the log: the pooled rate applies.
                let v = f.params.get(ch).copied().unwrap_or(pooled);
                b.channel_bad[k] = v;
                rec.fitted(
                    &format!("bad_experience.{ch}"),
                    v,
                    f.std_errors.get(ch).copied(),
                    "bad_experience",
                );
            }
        }
        None => {
            for (k, ch) in b.channels.iter().enumerate() {
                rec.assumed(&format!("bad_experience.{ch}"), b.channel_bad[k]);
            }
        }
    }
    match service {
        Some(f) => {
            fitted.push("kappa");
            b.kappa = f.get("kappa")?;
        }
        None => rec.assumed("kappa", b.kappa),
    }
    let d = &m.data.ledger;
    if d.service_contacts > 0 && d.calibration_purchases > 0 {
        fitted.push("contact_probability");
        b.contact_probability =
            (d.service_contacts as f64 / d.calibration_purchases as f64).min(1.0);
        rec.fitted(
            "contact_probability",
            b.contact_probability,
            None,
            "service contacts per purchase in the log",
        );
    } else {
        rec.assumed("contact_probability", b.contact_probability);
    }
    match m.models.get("referral") {
        Some(f) => {
            fitted.push("referral");
            (b.referral_mean, b.referral_concentration) = mean_concentration(f)?;
            // The log records referrals that won a customer: conversion is part of the rate.
            b.referral_conversion = 1.0;
            rec.model("referral", f, "referral");
            rec.fitted(
                "referral_conversion",
                1.0,
                Some(0.0),
                "referral (the log records only referrals that converted)",
            );
        }
        None => {
            rec.assumed("referral.mean", b.referral_mean);
            rec.assumed("referral.concentration", b.referral_concentration);
            rec.assumed("referral_conversion", b.referral_conversion);
        }
    }
    let referred_differs = m
        .tests
        .iter()
        .any(|t| t.question.starts_with("Do referred customers") && t.differs);
    if let (true, Some(f)) = (
        referred_differs,
        m.models.get(&format!("{primary}_referred")),
    ) {
        fitted.push("referred_prior");
        b.referred_purchase = Some(PurchaseModel::from_fitted(primary, f)?);
        rec.model("referred_purchase", f, &format!("{primary}_referred"));
    }
    match m.models.get("bass") {
        Some(f) => {
            fitted.push("bass");
            b.bass.p = f.get("p")?;
            b.bass.q = f.get("q")?;
            b.bass.market_size = f.get("m")?.round().max(customers as f64) as u64;
            b.bass.period_days = unit;
            rec.model("bass", f, "bass");
        }
        None => {
            rec.assumed("bass.p", b.bass.p);
            rec.assumed("bass.q", b.bass.q);
            rec.assumed("bass.m", b.bass.market_size as f64);
        }
    }
    for (name, model) in [("upsell", "upsell"), ("cross_sell", "cross_sell")] {
        match m.models.get(model) {
            Some(f) => {
                fitted.push(if name == "upsell" {
                    "upsell"
                } else {
                    "cross_sell"
                });
                let (mean, conc) = mean_concentration(f)?;
                if name == "upsell" {
                    (b.upsell_mean, b.sell_concentration) = (mean, conc);
                } else {
                    (b.cross_sell_mean, b.cross_sell_concentration) = (mean, conc);
                }
                rec.model(name, f, model);
            }
            None => {
                let mean = if name == "upsell" {
                    b.upsell_mean
                } else {
                    b.cross_sell_mean
                };
                rec.assumed(&format!("{name}.mean"), mean);
            }
        }
    }
    if let Some(seg) = &m.segments {
        let differs = seg.fits.test.as_ref().is_some_and(|t| t.differs);
        if differs {
            fitted.push("segments");
            for name in &seg.fits.names {
                if let Some(f) = seg.fits.models.get(name) {
                    b.segment_purchase
                        .push(PurchaseModel::from_fitted(primary, f)?);
                    rec.model(&format!("segment[{name}]"), f, primary);
                } else {
                    b.segment_purchase.push(b.purchase);
                }
            }
        }
    }
    for (name, v) in [
        ("contact_cost", b.contact_cost),
        ("self_service", b.self_service),
        ("elasticity", b.elasticity),
        ("upsell_uplift", b.upsell_uplift),
        ("cross_sell_amount", b.cross_sell_amount),
        ("margin", b.margin),
    ] {
        rec.assumed(name, v);
    }
    b.defaults_used = defaults;
    b.fitted = fitted;
    Ok((b, rec.0))
}
