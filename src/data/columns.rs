//! Which input column holds what: names from the user (or defaults) resolved against the header.

use crate::error::{Error, Result};

/// The columns the user asked for; `None` means "the conventional name, if the file has it".
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    /// Identifier columns; rows sharing any of them are one person.
    pub id_cols: Vec<String>,
    /// The timestamp column.
    pub time_col: String,
    /// Money value of a purchase.
    pub amount_col: Option<String>,
    /// Sales channel.
    pub channel_col: Option<String>,
    /// Event kind (`purchase`, `service`, …).
    pub event_col: Option<String>,
    /// Service outcome, 1–5 or 0–10.
    pub satisfaction_col: Option<String>,
    /// Identifier of the referrer, on a referred customer's rows.
    pub referred_by_col: Option<String>,
    /// Product tier (numeric, or named and ranked by `tier_order`).
    pub tier_col: Option<String>,
    /// Product category.
    pub category_col: Option<String>,
    /// Column whose value on a person's first purchase is that person's segment (`--segment-by`).
    pub segment_col: Option<String>,
    /// Tier names from lowest to highest, for named tiers.
    pub tier_order: Vec<String>,
}

impl Default for ColumnSpec {
    fn default() -> Self {
        ColumnSpec {
            id_cols: vec!["customer_id".into()],
            time_col: "timestamp".into(),
            amount_col: None,
            channel_col: None,
            event_col: None,
            satisfaction_col: None,
            referred_by_col: None,
            tier_col: None,
            category_col: None,
            segment_col: None,
            tier_order: Vec::new(),
        }
    }
}

/// Column positions in the file.
#[derive(Debug, Clone)]
pub struct ResolvedColumns {
    /// All column names, in file order.
    pub names: Vec<String>,
    /// (position, name) of each id column.
    pub ids: Vec<(usize, String)>,
    /// Position of the timestamp.
    pub time: usize,
    /// Position of the amount, if any.
    pub amount: Option<usize>,
    /// Position of the channel, if any.
    pub channel: Option<usize>,
    /// Position of the event kind, if any.
    pub event: Option<usize>,
    /// Position of the satisfaction score, if any.
    pub satisfaction: Option<usize>,
    /// Position of the referrer identifier, if any.
    pub referred_by: Option<usize>,
    /// Position of the product tier, if any.
    pub tier: Option<usize>,
    /// Position of the product category, if any.
    pub category: Option<usize>,
    /// Position of the segment column, with `--segment-by`.
    pub segment: Option<usize>,
}

impl ResolvedColumns {
    /// Resolves `spec` against the column `names` of `file`. A name made only of digits is a
    /// 1-based position.
    pub fn resolve(spec: &ColumnSpec, names: Vec<String>, file: &str) -> Result<Self> {
        let find = |want: &str, option: &str| -> Result<usize> {
            lookup(&names, want).ok_or_else(|| {
                Error::Invalid(format!(
                    "{file}: {option} '{want}' is not a column; the columns are: {}{}",
                    names.join(", "),
                    if names.iter().all(|n| n.starts_with("column")) {
                        " (name them with --columns when the file has no header)"
                    } else {
                        ""
                    }
                ))
            })
        };
        if spec.id_cols.is_empty() {
            return Err(Error::Invalid("--id-cols needs at least one column".into()));
        }
        let ids = spec
            .id_cols
            .iter()
            .map(|c| Ok((find(c, "--id-cols")?, c.clone())))
            .collect::<Result<Vec<_>>>()?;
        let time = find(&spec.time_col, "--time-col")?;
        let optional = |choice: &Option<String>, default: &str, option: &str| match choice {
            Some(c) => find(c, option).map(Some),
            None => Ok(lookup(&names, default)),
        };
        Ok(ResolvedColumns {
            ids,
            time,
            amount: optional(&spec.amount_col, "amount", "--amount-col")?,
            channel: optional(&spec.channel_col, "channel", "--channel-col")?,
            event: optional(&spec.event_col, "event", "--event-col")?,
            satisfaction: optional(&spec.satisfaction_col, "satisfaction", "--satisfaction-col")?,
            referred_by: optional(&spec.referred_by_col, "referred_by", "--referred-by-col")?,
            tier: optional(&spec.tier_col, "tier", "--tier-col")?,
            category: optional(&spec.category_col, "category", "--category-col")?,
            segment: spec
                .segment_col
                .as_ref()
                .map(|c| find(c, "--segment-by"))
                .transpose()?,
            names,
        })
    }
}

fn lookup(names: &[String], want: &str) -> Option<usize> {
    if let Some(i) = names.iter().position(|n| n == want) {
        return Some(i);
    }
    match want.parse::<usize>() {
        Ok(p) if p >= 1 && p <= names.len() => Some(p - 1),
        _ => None,
    }
}
