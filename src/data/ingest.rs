//! Streaming ingest of an event log: CSV (any one-byte delimiter, quoting handled by the `csv`
//! crate) or whitespace-separated text, with a bad-row policy. Each row becomes a compact
//! [`Event`]; identifiers go into the [`IdentityGraph`].

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::columns::{ColumnSpec, ResolvedColumns};
use super::dates::parse_timestamp;
use super::identity::IdentityGraph;
use super::labels::{Labels, NO_LABEL};
use crate::error::{Error, Result};

/// How fields are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// One byte, CSV quoting rules.
    Byte(u8),
    /// Runs of spaces or tabs, leading ones ignored (no quoting).
    Whitespace,
}

impl std::str::FromStr for Delimiter {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "whitespace" | "space" | "spaces" => Ok(Delimiter::Whitespace),
            "tab" | "\\t" | "\t" => Ok(Delimiter::Byte(b'\t')),
            "comma" => Ok(Delimiter::Byte(b',')),
            "semicolon" => Ok(Delimiter::Byte(b';')),
            s if s.len() == 1 => Ok(Delimiter::Byte(s.as_bytes()[0])),
            _ => Err(format!(
                "'{s}' is not a delimiter: use one character, 'tab' or 'whitespace'"
            )),
        }
    }
}

/// What to do with a malformed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadRowPolicy {
    /// Stop with `FILE:LINE: field: reason`.
    #[default]
    Stop,
    /// Keep going; the row is counted and can be copied to `rejected.csv`.
    Skip,
}

/// How to read the file.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Column mapping.
    pub columns: ColumnSpec,
    /// Field separator.
    pub delimiter: Delimiter,
    /// Whether the first line names the columns.
    pub header: bool,
    /// Column names for a file without a header (or to override it).
    pub names: Option<Vec<String>>,
    /// Bad-row policy.
    pub on_bad_row: BadRowPolicy,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            columns: ColumnSpec::default(),
            delimiter: Delimiter::Byte(b','),
            header: true,
            names: None,
            on_bad_row: BadRowPolicy::Stop,
        }
    }
}

/// Kind of an event row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A purchase.
    Purchase,
    /// A service contact.
    Service,
}

/// One event, 40 bytes.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    /// Seconds since the Unix epoch, UTC.
    pub time: i64,
    /// Money value; NaN when the row has none.
    pub amount: f64,
    /// Identifier node (see [`IdentityGraph`]) of the row's first identifier.
    pub node: u32,
    /// Channel index into [`EventLog::channels`]; `NO_CHANNEL` when absent.
    pub channel: u16,
    /// Purchase or service.
    pub kind: EventKind,
    /// Satisfaction score 0–10; [`NO_SATISFACTION`] when absent.
    pub satisfaction: u8,
    /// Product tier rank; NaN when absent.
    pub tier: f32,
    /// Category number in [`EventLog::categories`]; [`NO_LABEL`] when absent.
    pub category: u32,
    /// Referrer identifier number in [`EventLog::referrers`]; [`NO_LABEL`] when absent.
    pub referrer: u32,
    /// Segment number in [`EventLog::segments`]; [`NO_LABEL`] when absent.
    pub segment: u32,
}

/// Channel index meaning "no channel on this row".
pub const NO_CHANNEL: u16 = u16::MAX;

/// Satisfaction value meaning "no score on this row".
pub const NO_SATISFACTION: u8 = u8::MAX;

/// A rejected row: where it is and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// 1-based line.
    pub line: u64,
    /// Byte range of the raw row in the file.
    pub span: (u64, u64),
    /// The column at fault.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// Everything read from one event log.
#[derive(Debug)]
pub struct EventLog {
    /// The file read.
    pub source: PathBuf,
    /// Resolved column positions.
    pub columns: ResolvedColumns,
    /// The accepted events, in file order.
    pub events: Vec<Event>,
    /// Identifiers and their merges.
    pub identity: IdentityGraph,
    /// Channel names, in order of first appearance.
    pub channels: Vec<String>,
    /// Product categories seen.
    pub categories: Labels,
    /// Referrer identifiers seen (resolved to persons by the ledger).
    pub referrers: Labels,
    /// Segment values seen (with `--segment-by`).
    pub segments: Labels,
    /// Highest satisfaction score seen (tells a 1–5 scale from 0–10).
    pub max_satisfaction: Option<u8>,
    /// Data rows read (header excluded).
    pub rows_read: u64,
    /// Rows with an event kind other than purchase or service, counted and left out.
    pub rows_other_events: u64,
    /// Rows rejected under [`BadRowPolicy::Skip`].
    pub rejected: Vec<Rejected>,
}

/// Reads `path` into an [`EventLog`].
pub fn read_event_log(path: &Path, opts: &IngestOptions) -> Result<EventLog> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let display = path.display().to_string();
    match opts.delimiter {
        Delimiter::Byte(b) => read_csv(file, b, &display, path, opts),
        Delimiter::Whitespace => read_whitespace(file, &display, path, opts),
    }
}

/// Copies the raw bytes of the rejected rows of `source` to `dest`, unchanged.
pub fn copy_rejected_rows(
    source: &Path,
    rejected: &[Rejected],
    dest: &mut dyn Write,
) -> Result<()> {
    let mut f = File::open(source).map_err(|e| Error::io(source, e))?;
    let mut buf = Vec::new();
    for r in rejected {
        buf.resize((r.span.1 - r.span.0) as usize, 0);
        f.seek(SeekFrom::Start(r.span.0))
            .and_then(|_| f.read_exact(&mut buf))
            .map_err(|e| Error::io(source, e))?;
        let terminated = buf.last() == Some(&b'\n');
        dest.write_all(&buf).map_err(|e| Error::io(source, e))?;
        if !terminated {
            dest.write_all(b"\n").map_err(|e| Error::io(source, e))?;
        }
    }
    Ok(())
}

/// A row's problem before it is tied to a file and line.
struct RowError {
    field: String,
    reason: String,
}

/// Turns fields into events; shared by both readers.
struct RowParser<'a> {
    cols: ResolvedColumns,
    tier_order: &'a [String],
    file: &'a str,
    policy: BadRowPolicy,
    log: EventLog,
    nodes: Vec<u32>,
    /// Logs are usually sorted by time, so consecutive rows often share a timestamp.
    last_time: (Vec<u8>, i64),
}

impl<'a> RowParser<'a> {
    fn new(cols: ResolvedColumns, opts: &'a IngestOptions, file: &'a str, path: &Path) -> Self {
        let policy = opts.on_bad_row;
        RowParser {
            cols: cols.clone(),
            tier_order: &opts.columns.tier_order,
            file,
            policy,
            nodes: Vec::with_capacity(cols.ids.len()),
            last_time: (Vec::new(), 0),
            log: EventLog {
                source: path.to_path_buf(),
                columns: cols.clone(),
                events: Vec::new(),
                identity: IdentityGraph::default(),
                channels: Vec::new(),
                categories: Labels::default(),
                referrers: Labels::default(),
                segments: Labels::default(),
                max_satisfaction: None,
                rows_read: 0,
                rows_other_events: 0,
                rejected: Vec::new(),
            },
        }
    }

    /// Handles one row; `Err` only when the policy is to stop.
    fn row<'r>(
        &mut self,
        n_fields: usize,
        field: impl Fn(usize) -> &'r [u8],
        line: u64,
        span: (u64, u64),
    ) -> Result<()> {
        self.log.rows_read += 1;
        match self.parse(n_fields, field) {
            Ok(()) => Ok(()),
            Err(e) => match self.policy {
                BadRowPolicy::Stop => Err(Error::BadRow {
                    file: self.file.to_string(),
                    line,
                    field: e.field,
                    reason: e.reason,
                }),
                BadRowPolicy::Skip => {
                    self.log.rejected.push(Rejected {
                        line,
                        span,
                        field: e.field,
                        reason: e.reason,
                    });
                    Ok(())
                }
            },
        }
    }

    fn parse<'r>(
        &mut self,
        n_fields: usize,
        field: impl Fn(usize) -> &'r [u8],
    ) -> std::result::Result<(), RowError> {
        let cols = &self.cols;
        if n_fields != cols.names.len() {
            return Err(RowError {
                field: "row".into(),
                reason: format!(
                    "expected {} fields ({}), found {n_fields}",
                    cols.names.len(),
                    cols.names.join(", ")
                ),
            });
        }
        let name = |i: usize| cols.names[i].clone();
        let kind = match cols.event.map(&field) {
            None | Some(b"") | Some(b"purchase") => EventKind::Purchase,
            Some(b"service") => EventKind::Service,
            Some(_) => {
                self.log.rows_other_events += 1;
                return Ok(());
            }
        };
        let raw_time = field(cols.time);
        let time = if raw_time == self.last_time.0.as_slice() && !raw_time.is_empty() {
            self.last_time.1
        } else {
            let t = parse_timestamp(raw_time).map_err(|reason| RowError {
                field: name(cols.time),
                reason,
            })?;
            self.last_time.0.clear();
            self.last_time.0.extend_from_slice(raw_time);
            self.last_time.1 = t;
            t
        };
        let amount = match cols.amount.map(|i| (i, trim(field(i)))) {
            None | Some((_, b"")) => f64::NAN,
            Some((i, raw)) => {
                let v: f64 = std::str::from_utf8(raw)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .filter(|v: &f64| v.is_finite())
                    .ok_or_else(|| RowError {
                        field: name(i),
                        reason: format!("'{}' is not a number", String::from_utf8_lossy(raw)),
                    })?;
                if v < 0.0 {
                    return Err(RowError {
                        field: name(i),
                        reason: format!(
                            "negative amount {v}: amounts must be ≥ 0 (leave refunds out of the log)"
                        ),
                    });
                }
                v
            }
        };
        let channel = match cols.channel.map(|i| trim(field(i))) {
            None | Some(b"") => NO_CHANNEL,
            Some(raw) => channel_index(&mut self.log.channels, raw).ok_or_else(|| RowError {
                field: name(cols.channel.unwrap_or_default()),
                reason: "more than 65,534 distinct channels".into(),
            })?,
        };
        self.nodes.clear();
        for (i, col) in &cols.ids {
            let v = trim(field(*i));
            if !v.is_empty() {
                let n = self.log.identity.node(col, v);
                self.nodes.push(n);
            }
        }
        let Some(&node) = self.nodes.first() else {
            return Err(RowError {
                field: cols
                    .ids
                    .iter()
                    .map(|(_, c)| c.as_str())
                    .collect::<Vec<_>>()
                    .join("|"),
                reason: "missing id: every identifier column is empty".into(),
            });
        };
        for &other in &self.nodes[1..] {
            self.log.identity.union(node, other);
        }
        let satisfaction = match cols.satisfaction.map(|i| (i, trim(field(i)))) {
            None | Some((_, b"")) => NO_SATISFACTION,
            Some((i, raw)) => {
                let v = std::str::from_utf8(raw)
                    .ok()
                    .and_then(|s| s.parse::<u8>().ok())
                    .filter(|v| *v <= 10)
                    .ok_or_else(|| RowError {
                        field: name(i),
                        reason: format!(
                            "'{}' is not a satisfaction score: use whole numbers 1–5 or 0–10",
                            String::from_utf8_lossy(raw)
                        ),
                    })?;
                self.log.max_satisfaction = self.log.max_satisfaction.max(Some(v));
                v
            }
        };
        let tier = match cols.tier.map(|i| (i, trim(field(i)))) {
            None | Some((_, b"")) => f32::NAN,
            Some((i, raw)) => tier_rank(raw, self.tier_order).ok_or_else(|| RowError {
                field: name(i),
                reason: if self.tier_order.is_empty() {
                    format!(
                        "'{}' is not a numeric tier: rank named tiers with --tier-order low,mid,high",
                        String::from_utf8_lossy(raw)
                    )
                } else {
                    format!(
                        "'{}' is not one of the tiers in --tier-order ({})",
                        String::from_utf8_lossy(raw),
                        self.tier_order.join(", ")
                    )
                },
            })?,
        };
        let label = |labels: &mut Labels, col: Option<usize>| match col.map(|i| (i, trim(field(i))))
        {
            None | Some((_, b"")) => Ok(NO_LABEL),
            Some((i, raw)) => labels.intern(raw).ok_or_else(|| RowError {
                field: name(i),
                reason: "more than 4 billion distinct values".into(),
            }),
        };
        let category = label(&mut self.log.categories, cols.category)?;
        let referrer = label(&mut self.log.referrers, cols.referred_by)?;
        let segment = label(&mut self.log.segments, cols.segment)?;
        self.log.events.push(Event {
            time,
            amount,
            node,
            channel,
            kind,
            satisfaction,
            tier,
            category,
            referrer,
            segment,
        });
        Ok(())
    }
}

/// A tier's rank: its number, or its position in `order` when tiers are named.
fn tier_rank(raw: &[u8], order: &[String]) -> Option<f32> {
    if order.is_empty() {
        std::str::from_utf8(raw)
            .ok()?
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
    } else {
        order
            .iter()
            .position(|t| t.as_bytes() == raw)
            .map(|p| p as f32)
    }
}

fn channel_index(channels: &mut Vec<String>, raw: &[u8]) -> Option<u16> {
    if let Some(i) = channels.iter().position(|c| c.as_bytes() == raw) {
        return Some(i as u16);
    }
    if channels.len() >= NO_CHANNEL as usize {
        return None;
    }
    channels.push(String::from_utf8_lossy(raw).into_owned());
    Some((channels.len() - 1) as u16)
}

fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

fn default_names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("column{i}")).collect()
}

fn utf8_names(fields: impl Iterator<Item = Vec<u8>>) -> Vec<String> {
    fields
        .map(|f| String::from_utf8_lossy(trim(&f)).into_owned())
        .collect()
}

fn read_csv(
    file: File,
    delim: u8,
    display: &str,
    path: &Path,
    opts: &IngestOptions,
) -> Result<EventLog> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(file);
    let mut rec = csv::ByteRecord::new();
    let csv_err = |e: csv::Error, line: u64| match e.kind() {
        csv::ErrorKind::Io(_) => Error::io(path, std::io::Error::other(e.to_string())),
        _ => Error::BadRow {
            file: display.to_string(),
            line,
            field: "row".into(),
            reason: e.to_string(),
        },
    };
    let mut header = None;
    if opts.header {
        if !rdr.read_byte_record(&mut rec).map_err(|e| csv_err(e, 1))? {
            return Err(Error::Invalid(format!("{display}: the file is empty")));
        }
        header = Some(utf8_names(rec.iter().map(<[u8]>::to_vec)));
    }
    let mut start = rdr.position().byte();
    let mut line = rdr.position().line();
    let first = rdr
        .read_byte_record(&mut rec)
        .map_err(|e| csv_err(e, line))?;
    let names = opts
        .names
        .clone()
        .or(header)
        .unwrap_or_else(|| default_names(rec.len()));
    let cols = ResolvedColumns::resolve(&opts.columns, names, display)?;
    let mut parser = RowParser::new(cols, opts, display, path);
    let mut more = first;
    while more {
        let end = rdr.position().byte();
        if !(rec.len() == 1 && rec[0].is_empty()) {
            parser.row(rec.len(), |i| &rec[i], line, (start, end))?;
        }
        start = end;
        line = rdr.position().line();
        more = match rdr.read_byte_record(&mut rec) {
            Ok(m) => m,
            Err(e)
                if opts.on_bad_row == BadRowPolicy::Skip
                    && !matches!(e.kind(), csv::ErrorKind::Io(_)) =>
            {
                parser.log.rows_read += 1;
                let end = rdr.position().byte();
                parser.log.rejected.push(Rejected {
                    line,
                    span: (start, end),
                    field: "row".into(),
                    reason: e.to_string(),
                });
                start = end;
                line = rdr.position().line();
                rec.clear();
                true
            }
            Err(e) => return Err(csv_err(e, line)),
        };
    }
    Ok(parser.log)
}

fn read_whitespace(
    file: File,
    display: &str,
    path: &Path,
    opts: &IngestOptions,
) -> Result<EventLog> {
    let mut rdr = BufReader::with_capacity(1 << 16, file);
    let mut buf = Vec::new();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut offset = 0u64;
    let mut line = 0u64;
    let mut parser: Option<RowParser> = None;
    loop {
        buf.clear();
        let n = rdr
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        line += 1;
        let span = (offset, offset + n as u64);
        offset += n as u64;
        split_whitespace(&buf, &mut spans);
        if spans.is_empty() {
            continue;
        }
        let p = match &mut parser {
            Some(p) => p,
            None => {
                let header = opts
                    .header
                    .then(|| utf8_names(spans.iter().map(|&(a, b)| buf[a..b].to_vec())));
                let is_header = header.is_some();
                let names = opts
                    .names
                    .clone()
                    .or(header)
                    .unwrap_or_else(|| default_names(spans.len()));
                let cols = ResolvedColumns::resolve(&opts.columns, names, display)?;
                let p = parser.insert(RowParser::new(cols, opts, display, path));
                if is_header {
                    continue;
                }
                p
            }
        };
        p.row(spans.len(), |i| &buf[spans[i].0..spans[i].1], line, span)?;
    }
    parser
        .map(|p| p.log)
        .ok_or_else(|| Error::Invalid(format!("{display}: the file is empty")))
}

fn split_whitespace(line: &[u8], spans: &mut Vec<(usize, usize)>) {
    spans.clear();
    let mut i = 0;
    let n = line.len();
    while i < n {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < n && !line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i > start {
            spans.push((start, i));
        }
    }
}
