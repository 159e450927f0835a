//! The compact per-twin state (80 bytes including its random stream).

use super::rng::TwinRng;
use crate::population::behaviour::MAX_CHANNELS;

/// Twin is alive.
pub const ALIVE: u8 = 1;
/// Twin came by referral.
pub const REFERRED: u8 = 2;
/// Twin is a known customer (a person twin).
pub const KNOWN: u8 = 4;
/// Pareto/NBD twin had a bad experience: its dropout rate is multiplied by κ from then on.
pub const SCARRED: u8 = 8;
/// Next event is the newcomer's first purchase (no dropout after it, as in BG/NBD).
pub const FIRST: u8 = 16;
/// The wait to the twin's first event is still to be drawn, from time `next` on: its life
/// (for initial twins, a pass over their spawn batch) draws it with the rates it works out
/// anyway, instead of spawning working them out too.
pub const UNDRAWN: u8 = 32;

/// One twin. Rates are per day; times are days since the start of the run.
#[derive(Debug, Clone)]
pub struct Twin {
    /// Its own random stream, derived from (seed, replication, id).
    pub rng: TwinRng,
    /// Purchase rate while alive.
    pub lambda: f32,
    /// BG/NBD dropout probability per purchase, or Pareto/NBD dropout rate per day.
    pub dropout: f32,
    /// 1/ν, ν the Gamma-Gamma spend rate: a purchase is Gamma(p, 1) × 1/ν (kept as the
    /// reciprocal so that a purchase multiplies instead of dividing).
    pub spend_scale: f32,
    /// Referral probability per good purchase.
    pub refer: f32,
    /// Upsell probability per purchase.
    pub upsell: f32,
    /// Cross-sell probability per purchase.
    pub cross: f32,
    /// Time of the next event (with [`UNDRAWN`], the time its first wait starts from).
    pub next: f32,
    /// Discounted revenue so far.
    pub clv: f32,
    /// Global id (known customers first, in ledger order).
    pub id: u32,
    /// Node in the prospect network.
    pub node: u32,
    /// Purchases made in this run.
    pub purchases: u16,
    /// Day it became a customer (0 for the initial ones).
    pub born: u16,
    /// Bit i: in intervention i's segment; bit 8 + i: in its pilot segment.
    pub segments: u16,
    /// Channel preference weights, quantised to 1/255.
    pub weights: [u8; MAX_CHANNELS],
    /// [`ALIVE`], [`REFERRED`], [`KNOWN`], [`SCARRED`], [`FIRST`], [`UNDRAWN`].
    pub flags: u8,
    /// Retention cohort: 0 for customers at the start, 1 + month of arrival for newcomers.
    pub cohort: u8,
    /// Good experiences so far (saturating): they shift service to self-service.
    pub good: u8,
}

impl Twin {
    /// Whether the twin is alive.
    #[inline]
    pub fn alive(&self) -> bool {
        self.flags & ALIVE != 0
    }
}

// `quantise` packs the weights into one u64.
const _: () = assert!(MAX_CHANNELS <= 8);

/// Quantises preference weights (summing to 1) to bytes, keeping at least one positive.
pub fn quantise(w: &[f64]) -> [u8; MAX_CHANNELS] {
    // The bytes are gathered in one register: a twin is copied right after it is built, and
    // reading eight bytes just written one by one stalls on store forwarding (perf: a
    // quarter of spawning's own time, then half of it again in the caller's copy).
    let mut bits = 0u64;
    for (i, v) in w.iter().take(MAX_CHANNELS).enumerate() {
        // Rounds half up (v ≥ 0); `as` saturates to 0..=255. `round` is a libm call on
        // baseline x86-64, once per channel of every twin spawned.
        bits |= u64::from((v * 255.0 + 0.5) as u8) << (8 * i);
    }
    if bits == 0 {
        let best = w
            .iter()
            .take(MAX_CHANNELS)
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        bits = 1 << (8 * best);
    }
    bits.to_le_bytes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn twin_is_compact() {
        assert!(
            std::mem::size_of::<super::Twin>() <= 80,
            "{}",
            std::mem::size_of::<super::Twin>()
        );
    }
}
