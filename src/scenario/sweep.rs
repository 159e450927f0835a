//! `[sweep]`: one or two parameters of a scenario varied over a grid, for a response curve.
//! Each grid point is the scenario document with the swept values written in, then read and
//! checked like any scenario file, so a value out of range is reported at its own place in the
//! `[sweep]` table, and a point runs exactly as the same file with that value written in would.
//!
//! ```toml
//! [sweep]
//! percent = [-10, -5, 0, 5, 10]        # the one intervention that takes `percent`
//! intervention.2.start_day = [30, 90]  # or a path: 1-based table numbers
//! ```

use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Scenario;
use super::intervention::{COMMON, KINDS};
use super::reader::{Reader, number};

/// Most grid points one sweep may have.
pub const MAX_POINTS: usize = 500;

/// One swept parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The key as written in `[sweep]`, e.g. `percent`.
    pub key: String,
    /// What it sets: a dotted path with 1-based table numbers, e.g. `intervention.2.percent`.
    pub target: String,
    /// Its values, in the order given.
    pub values: Vec<f64>,
}

/// One grid point: a value for each axis and the scenario with them written in.
#[derive(Debug, Clone)]
pub struct Point {
    /// One value per axis.
    pub values: Vec<f64>,
    /// The scenario at this point (its own `sweep` is `None`).
    pub scenario: Scenario,
}

/// A validated sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// One or two axes.
    pub axes: Vec<Axis>,
    /// Every combination of the axes' values, the first axis varying slowest.
    pub points: Vec<Point>,
}

impl Sweep {
    /// A point's label, e.g. `percent=-5, start_day=30`.
    pub fn label(&self, values: &[f64]) -> String {
        self.axes
            .iter()
            .zip(values)
            .map(|(a, v)| format!("{}={v}", a.key))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A `[sweep]` entry as written: its dotted key, its values and where each value is.
struct Entry<'t, 'i> {
    key: String,
    at: usize,
    values: Vec<(f64, &'t Spanned<DeValue<'i>>)>,
}

/// Reads the `[sweep]` of `doc` (whose scenario, read without it, was valid) and every point
/// of its grid, each read by `parse`; problems go to `r`.
pub(super) fn read<'i>(
    r: &mut Reader,
    src: &str,
    doc: &Spanned<DeTable<'i>>,
    path: &Path,
    parse: impl Fn(&mut Reader, &Spanned<DeTable<'i>>, &Path) -> Option<Scenario>,
) -> Option<Sweep> {
    let raw = doc.get_ref().get("sweep")?;
    let DeValue::Table(table) = raw.get_ref() else {
        r.problem(
            raw.span().start,
            "sweep",
            "expected a table: [sweep] with `key = [values]`",
        );
        return None;
    };
    let mut entries = Vec::new();
    collect(r, table, "", &mut entries);
    // In file order (the table's keys come sorted): the first axis is the charts' x axis.
    entries.sort_by_key(|e| e.at);
    if entries.is_empty() || entries.len() > 2 {
        if r.problems.is_empty() {
            r.problem(
                raw.span().start,
                "sweep",
                format!(
                    "a sweep varies one or two parameters; this one gives {}",
                    entries.len()
                ),
            );
        }
        return None;
    }
    let mut targets = Vec::new();
    for e in &entries {
        targets.push(resolve(r, doc.get_ref(), e));
    }
    let targets: Vec<Vec<Step>> = targets.into_iter().collect::<Option<_>>()?;
    if targets.len() == 2 && targets[0] == targets[1] {
        r.problem(
            entries[1].at,
            &format!("sweep.{}", entries[1].key),
            "both axes set the same parameter",
        );
        return None;
    }
    let n: usize = entries.iter().map(|e| e.values.len()).product();
    if n > MAX_POINTS {
        r.problem(
            raw.span().start,
            "sweep",
            format!("{n} grid points; at most {MAX_POINTS}"),
        );
        return None;
    }
    let axes: Vec<Axis> = entries
        .iter()
        .zip(&targets)
        .map(|(e, t)| Axis {
            key: e.key.clone(),
            target: describe(t),
            values: e.values.iter().map(|v| v.0).collect(),
        })
        .collect();
    let mut without = doc.clone();
    without.get_mut().remove("sweep");
    let mut points = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    for k in 0..n {
        // The first axis varies slowest.
        let pick: Vec<usize> = match entries.len() {
            1 => vec![k],
            _ => vec![k / entries[1].values.len(), k % entries[1].values.len()],
        };
        let mut point = without.clone();
        for ((e, t), &j) in entries.iter().zip(&targets).zip(&pick) {
            set(point.get_mut(), t, e.values[j].1.clone());
        }
        let mut pr = Reader::new(src);
        // The points share the fitted model read for the file (one copy, read once).
        pr.models = std::mem::take(&mut r.models);
        let scenario = parse(&mut pr, &point, path);
        r.models = std::mem::take(&mut pr.models);
        let values: Vec<f64> = entries
            .iter()
            .zip(&pick)
            .map(|(e, &j)| e.values[j].0)
            .collect();
        if pr.problems.is_empty()
            && let Some(scenario) = scenario
        {
            points.push(Point { values, scenario });
            continue;
        }
        // The file without the sweep was valid: what is wrong comes from the values.
        let label = entries
            .iter()
            .zip(&values)
            .map(|(e, v)| format!("{} = {v}", e.key))
            .collect::<Vec<_>>()
            .join(", ");
        // The same problem at several points is reported once, at the first.
        for mut p in pr.problems {
            let first = seen.insert((p.line, p.column, p.key.clone(), p.message.clone()));
            if first {
                p.message = format!("at sweep point {label}: {}", p.message);
                r.problems.push(p);
            }
        }
    }
    (points.len() == n).then_some(Sweep { axes, points })
}

/// Gathers the arrays of a `[sweep]` table (dotted keys make nested tables) as entries.
fn collect<'t, 'i>(
    r: &mut Reader,
    table: &'t DeTable<'i>,
    prefix: &str,
    out: &mut Vec<Entry<'t, 'i>>,
) {
    for (k, v) in table.iter() {
        let key = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        match v.get_ref() {
            DeValue::Table(t) => collect(r, t, &key, out),
            DeValue::Array(items) => {
                let mut values = Vec::new();
                for item in items.iter() {
                    match number(item.get_ref()) {
                        Ok(x) if x.is_finite() => values.push((x, item)),
                        Ok(_) => r.problem(
                            item.span().start,
                            &format!("sweep.{key}"),
                            "a finite number",
                        ),
                        Err(m) => r.problem(item.span().start, &format!("sweep.{key}"), m),
                    }
                }
                if items.is_empty() {
                    r.problem(
                        v.span().start,
                        &format!("sweep.{key}"),
                        "give at least one value",
                    );
                } else if values.len() == items.len() {
                    out.push(Entry {
                        key,
                        at: k.span().start,
                        values,
                    });
                }
            }
            _ => r.problem(
                v.span().start,
                &format!("sweep.{key}"),
                "expected a list of values, e.g. percent = [-10, 0, 10]",
            ),
        }
    }
}

/// A step of a target path: a table's key, or the n-th (0-based) of an array of tables.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Human form of a target path, 1-based.
fn describe(t: &[Step]) -> String {
    t.iter()
        .map(|s| match s {
            Step::Key(k) => k.clone(),
            Step::Index(i) => (i + 1).to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Where entry `e` writes its values: a bare key names the one intervention that takes it;
/// a dotted key is a path, numbers counting `[[tables]]` from 1.
fn resolve(r: &mut Reader, doc: &DeTable, e: &Entry) -> Option<Vec<Step>> {
    let interventions: Vec<&DeTable> = match doc.get("intervention").map(|v| v.get_ref()) {
        Some(DeValue::Array(a)) => a
            .iter()
            .filter_map(|t| match t.get_ref() {
                DeValue::Table(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let problem = |r: &mut Reader, m: String| r.problem(e.at, &format!("sweep.{}", e.key), m);
    if !e.key.contains('.') {
        let takes = |t: &DeTable| {
            COMMON.iter().any(|p| p.name == e.key)
                || t.get("kind")
                    .and_then(|k| match k.get_ref() {
                        DeValue::String(s) => KINDS.iter().find(|x| x.0 == s.as_ref()),
                        _ => None,
                    })
                    .is_some_and(|kind| kind.2.iter().any(|p| p.name == e.key))
        };
        let found: Vec<usize> = (0..interventions.len())
            .filter(|&i| takes(interventions[i]))
            .collect();
        return match found[..] {
            [i] => Some(vec![
                Step::Key("intervention".into()),
                Step::Index(i),
                Step::Key(e.key.clone()),
            ]),
            [] => {
                problem(
                    r,
                    format!(
                        "no intervention takes '{}': name an intervention's parameter (e.g. percent, multiplier, start_day) or give a path such as population.referral.probability",
                        e.key
                    ),
                );
                None
            }
            _ => {
                let list: Vec<String> = found.iter().map(|i| (i + 1).to_string()).collect();
                problem(
                    r,
                    format!(
                        "interventions {} all take '{}': say which, e.g. intervention.{}.{}",
                        list.join(" and "),
                        e.key,
                        found[0] + 1,
                        e.key
                    ),
                );
                None
            }
        };
    }
    // Where the walk is: the document, a value in it, or past a key the file does not have
    // (the tables on the way are then made, and the reader says whether the key belongs).
    enum At<'a, 'i> {
        Root,
        Value(&'a DeValue<'i>),
        Missing,
    }
    let mut steps = Vec::new();
    let mut here = At::Root;
    let parts: Vec<&str> = e.key.split('.').collect();
    for (j, part) in parts.iter().enumerate() {
        let last = j + 1 == parts.len();
        let before = parts[..j].join(".");
        match (part.parse::<usize>(), &here) {
            (Ok(n), At::Value(DeValue::Array(items))) => {
                let Some(item) = n.checked_sub(1).and_then(|i| items.get(i)) else {
                    problem(
                        r,
                        format!(
                            "there is no table number {n} here: tables count from 1 and there are {}",
                            items.len()
                        ),
                    );
                    return None;
                };
                steps.push(Step::Index(n - 1));
                here = At::Value(item.get_ref());
            }
            (Ok(_), At::Missing) => {
                problem(r, format!("there are no [[{before}]] tables"));
                return None;
            }
            (Ok(_), _) => {
                problem(
                    r,
                    format!("'{part}' numbers a [[table]], but '{before}' is not a list of tables"),
                );
                return None;
            }
            (Err(_), At::Value(DeValue::Array(_))) => {
                problem(
                    r,
                    format!("'{before}' is a list of tables: say which, e.g. {before}.1.{part}"),
                );
                return None;
            }
            (Err(_), At::Value(DeValue::Table(t))) => {
                here = t.get(*part).map_or(At::Missing, |v| At::Value(v.get_ref()));
                steps.push(Step::Key(part.to_string()));
            }
            (Err(_), At::Root) => {
                here = doc
                    .get(*part)
                    .map_or(At::Missing, |v| At::Value(v.get_ref()));
                steps.push(Step::Key(part.to_string()));
            }
            (Err(_), At::Missing) => steps.push(Step::Key(part.to_string())),
            (Err(_), At::Value(_)) => {
                problem(r, format!("'{before}' is not a table"));
                return None;
            }
        }
        if last
            && matches!(
                here,
                At::Value(DeValue::Array(_)) | At::Value(DeValue::Table(_))
            )
        {
            problem(
                r,
                format!(
                    "'{}' holds a table or a list, not one value: sweep a single value",
                    e.key
                ),
            );
            return None;
        }
    }
    if matches!(steps.first(), Some(Step::Key(k)) if k == "sweep") {
        problem(r, "a sweep cannot sweep itself".into());
        return None;
    }
    Some(steps)
}

/// Writes `value` at `path` in `doc`, making the tables on the way that are missing (the
/// scenario reader then says whether the key belongs there).
fn set<'i>(doc: &mut DeTable<'i>, path: &[Step], value: Spanned<DeValue<'i>>) {
    let span = value.span();
    let mut table = doc;
    for (j, step) in path.iter().enumerate() {
        let last = j + 1 == path.len();
        let Step::Key(k) = step else { continue };
        if last {
            table.insert(Spanned::new(span.clone(), k.clone().into()), value);
            return;
        }
        if table.get(k.as_str()).is_none() {
            table.insert(
                Spanned::new(span.clone(), k.clone().into()),
                Spanned::new(span.clone(), DeValue::Table(DeTable::new())),
            );
        }
        let next = table.get_mut(k.as_str()).expect("just made").get_mut();
        table = match (next, path.get(j + 1)) {
            (DeValue::Array(items), Some(Step::Index(i))) => {
                match items.get_mut(*i).map(|v| v.get_mut()) {
                    Some(DeValue::Table(t)) => t,
                    _ => return,
                }
            }
            (DeValue::Table(t), _) => t,
            _ => return,
        };
    }
}
