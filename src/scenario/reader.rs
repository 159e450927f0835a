//! Reading a spanned TOML document key by key, collecting every problem (unknown key, wrong
//! type, impossible value) with its line and column instead of stopping at the first one.

use std::collections::BTreeSet;

use toml::Spanned;

use crate::population::load::Fitted;
use toml::de::{DeTable, DeValue};

/// One problem in a scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Dotted key path, e.g. `intervention[2].percent`.
    pub key: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// Collects problems while a document is read.
pub struct Reader<'s> {
    src: &'s str,
    /// Problems found so far, in document order of discovery.
    pub problems: Vec<Problem>,
    /// Fitted models read so far, by path: a sweep's points share one copy.
    pub models: std::collections::HashMap<std::path::PathBuf, std::sync::Arc<Fitted>>,
}

/// A table being read: remembers which keys were used so the rest can be reported as unknown.
pub struct TableReader<'t, 'i> {
    table: &'t DeTable<'i>,
    path: String,
    span: std::ops::Range<usize>,
    used: BTreeSet<String>,
}

impl<'s> Reader<'s> {
    /// A reader over source text `src`.
    pub fn new(src: &'s str) -> Self {
        Reader {
            src,
            problems: Vec::new(),
            models: Default::default(),
        }
    }

    /// Records a problem at byte offset `at`.
    pub fn problem(&mut self, at: usize, key: &str, message: impl Into<String>) {
        let before = &self.src[..at.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        self.problems.push(Problem {
            line,
            column,
            key: key.to_string(),
            message: message.into(),
        });
    }

    /// Starts reading `table` found at `path`.
    pub fn table<'t, 'i>(
        &self,
        table: &'t Spanned<DeTable<'i>>,
        path: &str,
    ) -> TableReader<'t, 'i> {
        TableReader {
            table: table.get_ref(),
            path: path.to_string(),
            span: table.span(),
            used: BTreeSet::new(),
        }
    }

    /// Reports keys of `t` that were never asked for, listing the ones that exist.
    pub fn finish(&mut self, t: TableReader<'_, '_>, known: &[&str]) {
        for (k, _) in t.table.iter() {
            if !t.used.contains(k.get_ref().as_ref()) {
                let key = t.key(k.get_ref());
                let hint = closest(k.get_ref(), known)
                    .map(|c| format!("did you mean '{c}'? "))
                    .unwrap_or_default();
                self.problem(
                    k.span().start,
                    &key,
                    format!(
                        "unknown key '{}': {hint}allowed here: {}",
                        k.get_ref(),
                        known.join(", ")
                    ),
                );
            }
        }
    }
}

impl<'t, 'i> TableReader<'t, 'i> {
    fn key(&self, k: &str) -> String {
        if self.path.is_empty() {
            k.to_string()
        } else {
            format!("{}.{k}", self.path)
        }
    }

    /// Where the table starts (for problems about a missing key).
    pub fn start(&self) -> usize {
        self.span.start
    }

    /// The dotted path of this table.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw value of `key`, marking it used.
    pub fn raw(&mut self, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.used.insert(key.to_string());
        self.table.get(key)
    }

    /// A number (integer or float).
    pub fn f64(&mut self, r: &mut Reader, key: &str) -> Option<f64> {
        let v = self.raw(key)?;
        number(v.get_ref())
            .map_err(|m| r.problem(v.span().start, &self.key(key), m))
            .ok()
    }

    /// A number that must satisfy `ok`, described by `what` in the message.
    pub fn f64_where(
        &mut self,
        r: &mut Reader,
        key: &str,
        ok: impl Fn(f64) -> bool,
        what: &str,
    ) -> Option<f64> {
        let v = self.f64(r, key)?;
        if ok(v) {
            Some(v)
        } else {
            let at = self
                .table
                .get(key)
                .map_or(self.span.start, |s| s.span().start);
            r.problem(
                at,
                &self.key(key),
                format!("{v} is impossible: it must be {what}"),
            );
            None
        }
    }

    /// A required number that must satisfy `ok` (a missing key is a problem too).
    pub fn req_f64(
        &mut self,
        r: &mut Reader,
        key: &str,
        ok: impl Fn(f64) -> bool,
        what: &str,
    ) -> Option<f64> {
        let v = self.f64_where(r, key, ok, what);
        self.require(r, key, v)
    }

    /// A whole number that must satisfy `ok`.
    pub fn u64_where(
        &mut self,
        r: &mut Reader,
        key: &str,
        ok: impl Fn(i64) -> bool,
        what: &str,
    ) -> Option<u64> {
        let v = self.raw(key)?;
        let at = v.span().start;
        match v.get_ref() {
            DeValue::Integer(i) => {
                match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                    Ok(n) if ok(n) => Some(n as u64),
                    Ok(n) => {
                        r.problem(
                            at,
                            &self.key(key),
                            format!("{n} is impossible: it must be {what}"),
                        );
                        None
                    }
                    Err(_) => {
                        r.problem(at, &self.key(key), "integer out of range");
                        None
                    }
                }
            }
            other => {
                r.problem(
                    at,
                    &self.key(key),
                    format!("expected a whole number, found a {}", other.type_str()),
                );
                None
            }
        }
    }

    /// A string.
    pub fn str(&mut self, r: &mut Reader, key: &str) -> Option<(String, usize)> {
        let v = self.raw(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span().start)),
            other => {
                r.problem(
                    v.span().start,
                    &self.key(key),
                    format!("expected a string, found a {}", other.type_str()),
                );
                None
            }
        }
    }

    /// A boolean.
    pub fn bool(&mut self, r: &mut Reader, key: &str) -> Option<bool> {
        let v = self.raw(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                r.problem(
                    v.span().start,
                    &self.key(key),
                    format!("expected true or false, found a {}", other.type_str()),
                );
                None
            }
        }
    }

    /// An array of strings.
    pub fn strings(&mut self, r: &mut Reader, key: &str) -> Option<Vec<String>> {
        self.array(r, key, "strings, e.g. [\"a\", \"b\"]", |v| match v {
            DeValue::String(s) => Ok(s.to_string()),
            other => Err(format!("expected a string, found a {}", other.type_str())),
        })
    }

    /// An array of numbers.
    pub fn numbers(&mut self, r: &mut Reader, key: &str) -> Option<Vec<f64>> {
        self.array(r, key, "numbers, e.g. [1.0, 2.0]", number)
    }

    /// An array whose elements `elem` reads; each bad element is a problem of its own.
    fn array<T>(
        &mut self,
        r: &mut Reader,
        key: &str,
        what: &str,
        elem: impl Fn(&DeValue) -> Result<T, String>,
    ) -> Option<Vec<T>> {
        let v = self.raw(key)?;
        let DeValue::Array(items) = v.get_ref() else {
            r.problem(
                v.span().start,
                &self.key(key),
                format!("expected an array of {what}"),
            );
            return None;
        };
        let mut out = Vec::new();
        for it in items.iter() {
            match elem(it.get_ref()) {
                Ok(x) => out.push(x),
                Err(m) => r.problem(it.span().start, &self.key(key), m),
            }
        }
        Some(out)
    }

    /// A sub-table (inline or not).
    pub fn sub(&mut self, r: &mut Reader, key: &str) -> Option<TableReader<'t, 'i>> {
        let v = self.raw(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some(TableReader {
                table: t,
                path: self.key(key),
                span: v.span(),
                used: BTreeSet::new(),
            }),
            other => {
                r.problem(
                    v.span().start,
                    &self.key(key),
                    format!("expected a table, found a {}", other.type_str()),
                );
                None
            }
        }
    }

    /// An array of tables (`[[key]]`), each with its index.
    pub fn tables(&mut self, r: &mut Reader, key: &str) -> Vec<TableReader<'t, 'i>> {
        let Some(v) = self.raw(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            r.problem(
                v.span().start,
                &self.key(key),
                format!("expected [[{key}]] tables"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            match it.get_ref() {
                DeValue::Table(t) => out.push(TableReader {
                    table: t,
                    path: format!("{}[{}]", self.key(key), i + 1),
                    span: it.span(),
                    used: BTreeSet::new(),
                }),
                other => r.problem(
                    it.span().start,
                    &self.key(key),
                    format!("expected a table, found a {}", other.type_str()),
                ),
            }
        }
        out
    }

    /// Requires `key`: records a problem when it is absent.
    pub fn require<T>(&self, r: &mut Reader, key: &str, v: Option<T>) -> Option<T> {
        if v.is_none() && self.table.get(key).is_none() {
            r.problem(
                self.span.start,
                &self.key(key),
                format!("missing required key '{key}'"),
            );
        }
        v
    }
}

/// A TOML integer or float as f64.
pub fn number(v: &DeValue) -> Result<f64, String> {
    match v {
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse()
            .map_err(|_| format!("'{}' is not a number", f.as_str())),
        DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
            .map(|v| v as f64)
            .map_err(|_| format!("'{}' is out of range", i.as_str())),
        other => Err(format!("expected a number, found a {}", other.type_str())),
    }
}

/// The known name closest to `word` by edit distance, if it is plausibly a misspelling.
pub fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_and_numbers_report_each_bad_element() {
        let src = "a = [1, 2.5, \"x\", 0x10]\nb = 3\nc = \"no\"\n";
        let doc = DeTable::parse(src).unwrap();
        let mut r = Reader::new(src);
        let mut t = r.table(&doc, "");
        assert_eq!(t.numbers(&mut r, "a"), Some(vec![1.0, 2.5, 16.0]));
        assert_eq!(t.f64(&mut r, "b"), Some(3.0));
        assert_eq!(t.f64(&mut r, "c"), None);
        r.finish(t, &["a", "b", "c"]);
        let found: Vec<(usize, usize, &str)> = r
            .problems
            .iter()
            .map(|p| (p.line, p.column, p.key.as_str()))
            .collect();
        assert_eq!(found, vec![(1, 14, "a"), (3, 5, "c")]);
        assert_eq!(
            closest("horizon_dayz", &["horizon_days", "seed"]),
            Some("horizon_days")
        );
    }
}
