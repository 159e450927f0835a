//! Segment expressions: which twins an intervention targets, e.g. `all`, `channel=store`,
//! `p_alive<0.3`, `value_decile>=8`, `cohort=newcomer`, `segment=gold` (fitted with
//! `--segment-by`), `random<0.1 and frequency>=2`.

/// Twin attributes a segment can test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attributes<'a> {
    /// Preferred channel (largest preference weight).
    pub channel: &'a str,
    /// P(alive) at the start (1 for newcomers).
    pub p_alive: f64,
    /// Decile (1..=10) of expected value among known customers; 0 for newcomers.
    pub value_decile: f64,
    /// Calibration repeat purchases (0 for newcomers).
    pub frequency: f64,
    /// `existing` or `newcomer`.
    pub cohort: &'a str,
    /// Whether the twin came by referral.
    pub referred: bool,
    /// The known customer's fitted segment (`--segment-by`); empty for newcomers.
    pub segment: &'a str,
    /// A uniform number fixed per twin id, for random pilots.
    pub random: f64,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An attribute a condition reads (resolved from its name once, at parsing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attr {
    PAlive,
    ValueDecile,
    Frequency,
    Random,
    Channel,
    Cohort,
    Referred,
    Segment,
}

impl Attr {
    /// Where a numeric attribute sits in [`Attributes::numbers`]; None for words.
    fn numeric(self) -> Option<usize> {
        match self {
            Attr::PAlive => Some(0),
            Attr::ValueDecile => Some(1),
            Attr::Frequency => Some(2),
            Attr::Random => Some(3),
            Attr::Channel | Attr::Cohort | Attr::Referred | Attr::Segment => None,
        }
    }
}

impl Attributes<'_> {
    /// The numeric attributes, in the order [`Attr::numeric`] gives.
    #[inline]
    fn numbers(&self) -> [f64; 4] {
        [self.p_alive, self.value_decile, self.frequency, self.random]
    }
}

/// Attribute names: the first four take numbers, the others words.
const ATTRS: [(&str, Attr); 8] = [
    ("p_alive", Attr::PAlive),
    ("value_decile", Attr::ValueDecile),
    ("frequency", Attr::Frequency),
    ("random", Attr::Random),
    ("channel", Attr::Channel),
    ("cohort", Attr::Cohort),
    ("referred", Attr::Referred),
    ("segment", Attr::Segment),
];

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    attr: Attr,
    op: Op,
    text: String,
    number: Option<f64>,
}

/// A parsed segment: `all`, or conditions joined by `and`.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    text: String,
    conditions: Vec<Condition>,
}

/// Attributes that take numbers.
const NUMERIC: [&str; 4] = ["p_alive", "value_decile", "frequency", "random"];
/// Attributes that take words.
const WORDS: [&str; 4] = ["channel", "cohort", "referred", "segment"];

impl Segment {
    /// Everyone.
    pub fn all() -> Segment {
        Segment {
            text: "all".into(),
            conditions: Vec::new(),
        }
    }

    /// Parses an expression; the error says what is allowed.
    pub fn parse(text: &str) -> Result<Segment, String> {
        let t = text.trim();
        if t == "all" || t.is_empty() {
            return Ok(Segment::all());
        }
        let mut conditions = Vec::new();
        for part in t.split(" and ") {
            let part = part.trim();
            let ops = [
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("!=", Op::Ne),
                ("=", Op::Eq),
                ("<", Op::Lt),
                (">", Op::Gt),
            ];
            let Some((pos, sym, op)) = ops
                .iter()
                .filter_map(|(s, o)| part.find(s).map(|p| (p, *s, *o)))
                .min_by_key(|x| x.0)
            else {
                return Err(format!(
                    "'{part}' is not a condition: write attribute, operator, value, e.g. channel=store or p_alive<0.3"
                ));
            };
            let name = part[..pos].trim();
            let value = part[pos + sym.len()..].trim().to_string();
            let number = value.parse::<f64>().ok();
            let Some(&(_, attr)) = ATTRS.iter().find(|(n, _)| *n == name) else {
                return Err(format!(
                    "unknown segment attribute '{name}': use {} or {}",
                    NUMERIC.join(", "),
                    WORDS.join(", ")
                ));
            };
            if NUMERIC.contains(&name) {
                if number.is_none() {
                    return Err(format!("'{name}' needs a number, not '{value}'"));
                }
            } else if !matches!(op, Op::Eq | Op::Ne) {
                return Err(format!("'{name}' can only be compared with = or !="));
            }
            conditions.push(Condition {
                attr,
                op,
                text: value,
                number,
            });
        }
        Ok(Segment {
            text: t.to_string(),
            conditions,
        })
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The channel names this segment mentions (to check them against the population).
    pub fn channels(&self) -> impl Iterator<Item = &str> {
        self.conditions
            .iter()
            .filter(|c| c.attr == Attr::Channel)
            .map(|c| c.text.as_str())
    }

    /// Whether it holds every twin (`all`: no condition).
    pub fn is_all(&self) -> bool {
        self.conditions.is_empty()
    }

    /// Whether it reads `random` (so a twin's fixed uniform must be drawn to match it).
    pub fn uses_random(&self) -> bool {
        self.conditions.iter().any(|c| c.attr == Attr::Random)
    }

    /// Whether a twin with attributes `a` is in the segment.
    #[inline]
    pub fn matches(&self, a: &Attributes) -> bool {
        // Every condition is looked at (no early exit): a branch on each answer was a coin
        // toss to the predictor for random pilots, at every twin spawned.
        self.conditions.iter().fold(true, |all, c| all & c.holds(a))
    }
}

/// The conditions of several segments in one flat list, each with its segment's mask bit:
/// matching twin after twin, one pass over them, with no list per segment to walk. A
/// numeric condition is an open interval, lo < value < hi (or outside it, for `!=`), so that
/// every comparison is the same two without a branch on the operator.
#[derive(Debug, Clone, Default)]
pub struct Tests {
    /// (the bit's place in the mask, attribute as an index of [`Attributes::numbers`], lo,
    /// hi, outside).
    numbers: Vec<(u32, usize, f64, f64, bool)>,
    /// Conditions on words, with their bits.
    words: Vec<(u16, Condition)>,
    bits: u16,
}

impl Tests {
    /// The segments `segments`, each with the mask bit it sets.
    pub fn new<'a>(segments: impl IntoIterator<Item = (u16, &'a Segment)>) -> Tests {
        let mut t = Tests::default();
        for (bit, seg) in segments {
            t.bits |= bit;
            for c in &seg.conditions {
                let Some(attr) = c.attr.numeric() else {
                    t.words.push((bit, c.clone()));
                    continue;
                };
                let x = c.number.unwrap_or(f64::NAN);
                let (lo, hi, outside) = match c.op {
                    Op::Lt => (f64::NEG_INFINITY, x, false),
                    Op::Le => (f64::NEG_INFINITY, next_up(x), false),
                    Op::Gt => (x, f64::INFINITY, false),
                    Op::Ge => (next_down(x), f64::INFINITY, false),
                    Op::Eq => (next_down(x), next_up(x), false),
                    Op::Ne => (next_down(x), next_up(x), true),
                };
                // Every segment has a bit of its own.
                debug_assert_eq!(bit.count_ones(), 1);
                t.numbers
                    .push((bit.trailing_zeros(), attr, lo, hi, outside));
            }
        }
        t
    }

    /// The bits of the segments that hold a twin with attributes `a` (those none of whose
    /// conditions fail; attributes are finite, or NaN where not drawn). Every condition is
    /// looked at, with no branch on its answer: for a random pilot that answer is a coin
    /// toss to the predictor, at every twin spawned. Inlined where twins are built: the
    /// attributes, read back through memory right after they were written, stalled on store
    /// forwarding (a third of its time, perf).
    #[inline(always)]
    pub fn matching(&self, a: &Attributes) -> u16 {
        let v = a.numbers();
        // A failed condition's bit shifted into place: as `bit × failed` the compiler chose
        // a branch on whether it failed, and mispredicted half the time on `random < 0.5`.
        let failed = self
            .numbers
            .iter()
            .fold(0, |f, &(place, i, lo, hi, outside)| {
                // `& 3`: the index is below 4 by construction; saying so spares a bounds check.
                let x = v[i & 3];
                f | u16::from(((lo < x) & (x < hi)) == outside) << (place & 15)
            });
        let failed = if self.words.is_empty() {
            failed
        } else {
            failed | self.failed_words(a)
        };
        self.bits & !failed
    }

    /// The bits of the segments whose conditions on words `a` fails.
    #[inline(never)]
    fn failed_words(&self, a: &Attributes) -> u16 {
        self.words
            .iter()
            .fold(0, |f, (bit, c)| f | (bit * u16::from(!c.holds(a))))
    }
}

/// The least number above `x` (`f64::next_up`, which is stable only from Rust 1.86; the
/// crate's MSRV is 1.85).
fn next_up(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        x
    } else if x == 0.0 {
        f64::from_bits(1)
    } else if x > 0.0 {
        f64::from_bits(x.to_bits() + 1)
    } else {
        f64::from_bits(x.to_bits() - 1)
    }
}

/// The greatest number below `x`.
fn next_down(x: f64) -> f64 {
    -next_up(-x)
}

impl Condition {
    /// Whether a twin with attributes `a` meets the condition.
    #[inline]
    fn holds(&self, a: &Attributes) -> bool {
        let Some(i) = self.attr.numeric() else {
            let word = match self.attr {
                Attr::Channel => a.channel,
                Attr::Cohort => a.cohort,
                Attr::Referred if a.referred => "true",
                Attr::Referred => "false",
                _ => a.segment,
            };
            return (word == self.text) == (self.op == Op::Eq);
        };
        let ord = a.numbers()[i];
        let v = self.number.unwrap_or(f64::NAN);
        match self.op {
            Op::Eq => ord == v,
            Op::Ne => ord != v,
            Op::Lt => ord < v,
            Op::Le => ord <= v,
            Op::Gt => ord > v,
            Op::Ge => ord >= v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let a = Attributes {
            channel: "store",
            p_alive: 0.2,
            value_decile: 9.0,
            frequency: 3.0,
            cohort: "existing",
            referred: false,
            segment: "gold",
            random: 0.05,
        };
        for (text, want) in [
            ("all", true),
            ("channel=store", true),
            ("channel!=store", false),
            ("segment=gold", true),
            ("segment=silver", false),
            ("p_alive<0.3", true),
            ("value_decile>=8 and random<0.1", true),
            ("frequency>3", false),
            ("cohort=newcomer", false),
        ] {
            assert_eq!(Segment::parse(text).unwrap().matches(&a), want, "{text}");
        }
        assert!(
            Segment::parse("region=north")
                .unwrap_err()
                .contains("unknown segment attribute")
        );
        assert!(Segment::parse("p_alive<high").is_err());
    }

    /// Matching many segments at once gives each segment's own answer, at every operator and
    /// right at its threshold, for twins with and without a drawn uniform.
    #[test]
    fn tests_match_as_each_segment_does() {
        let texts = [
            "p_alive<0.3",
            "p_alive<=0.3",
            "value_decile>8",
            "value_decile>=8 and random<0.1",
            "frequency=3",
            "frequency!=3 and channel=store",
            "random>=0.5",
            "random!=0.25",
            "cohort=newcomer and referred=true",
            "segment!=gold and p_alive>0.1",
        ];
        let segs: Vec<Segment> = texts.iter().map(|t| Segment::parse(t).unwrap()).collect();
        let tests = Tests::new(segs.iter().enumerate().map(|(i, s)| (1u16 << i, s)));
        let mut seen = [0usize; 10];
        for p_alive in [0.0, 0.1, 0.2, 0.3, 0.30000000000000004, 1.0] {
            for decile in [0.0, 7.0, 8.0, 9.0] {
                for frequency in [0.0, 3.0, 4.0] {
                    for random in [f64::NAN, 0.0, 0.05, 0.1, 0.25, 0.5, 0.9] {
                        for (channel, cohort, referred, segment) in [
                            ("store", "existing", false, "gold"),
                            ("web", "newcomer", true, ""),
                        ] {
                            let a = Attributes {
                                channel,
                                p_alive,
                                value_decile: decile,
                                frequency,
                                cohort,
                                referred,
                                segment,
                                random,
                            };
                            let want = segs
                                .iter()
                                .enumerate()
                                .fold(0u16, |m, (i, s)| m | u16::from(s.matches(&a)) << i);
                            assert_eq!(tests.matching(&a), want, "{a:?}");
                            for (i, n) in seen.iter_mut().enumerate() {
                                *n += usize::from(want & (1 << i) != 0);
                            }
                        }
                    }
                }
            }
        }
        for x in [0.0, -0.0, 0.3, -0.3, 1e-320, f64::MAX, f64::MIN] {
            assert!(next_up(x) > x && next_down(x) < x, "{x}");
            assert_eq!(next_down(next_up(x)), if x == 0.0 { 0.0 } else { x });
        }
        // Every segment holds some twins and not others: the grid tests both answers.
        assert!(
            seen.iter().all(|&n| n > 0 && n < 6 * 4 * 3 * 7 * 2),
            "{seen:?}"
        );
    }
}
