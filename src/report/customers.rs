//! The per-customer statistics file beside `model.json`: salted keys only, never raw ids.

use std::io::Write;

use crate::data::Ledger;
use crate::error::{Error, Result};

/// Writes `key,frequency,recency,T,first_day,spend_mean,spend_n,holdout_frequency,p_alive,…`
/// plus one `channel:<name>` count column per channel, then `referred`, `segment` and `derl`
/// when the log and fit have them. `p_alive` comes from the primary model.
pub fn write_customers(
    ledger: &Ledger,
    p_alive: &[f64],
    derl: Option<&[f64]>,
    w: &mut dyn Write,
) -> Result<()> {
    let io = |e| Error::io("customers file", e);
    let mut header = String::from(
        "key,frequency,recency,T,first_day,spend_mean,spend_n,holdout_frequency,p_alive",
    );
    for c in &ledger.channels {
        header.push_str(",channel:");
        header.push_str(&clean(c));
    }
    if ledger.has.referred_by {
        header.push_str(",referred");
    }
    if ledger.has.segment {
        header.push_str(",segment");
    }
    if derl.is_some() {
        header.push_str(",derl");
    }
    writeln!(w, "{header}").map_err(io)?;
    for (i, p_alive) in p_alive.iter().enumerate() {
        write!(
            w,
            "{},{},{},{},{},{},{},{},{:.6}",
            ledger.keys[i],
            ledger.x[i],
            ledger.t_x[i],
            ledger.t[i],
            crate::data::dates::format_day(ledger.first_day[i]),
            if ledger.spend_mean[i].is_nan() {
                String::new()
            } else {
                format!("{:.4}", ledger.spend_mean[i])
            },
            ledger.spend_n[i],
            ledger.holdout_x[i],
            p_alive
        )
        .map_err(io)?;
        for n in ledger.channel_row(i) {
            write!(w, ",{n}").map_err(io)?;
        }
        if ledger.has.referred_by {
            write!(w, ",{}", ledger.referred[i] as u8).map_err(io)?;
        }
        if ledger.has.segment {
            let g = ledger.segment[i];
            let name = ledger
                .segment_names
                .get(g as usize)
                .map_or("", |s| s.as_str());
            write!(w, ",{}", clean(name)).map_err(io)?;
        }
        if let Some(d) = derl {
            write!(w, ",{:.4}", d[i]).map_err(io)?;
        }
        writeln!(w).map_err(io)?;
    }
    Ok(())
}

/// A value safe in an unquoted CSV field.
fn clean(s: &str) -> String {
    s.replace([',', '"', '\n', '\r'], "_")
}
