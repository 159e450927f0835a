//! The prospect pool: Bass-diffusion acquisition and where referrals land. Runs serially at each
//! day's synchronisation point, on its own random stream, so results do not depend on threads.

use rand::RngExt;
use rand_distr::{Binomial, Distribution};

use super::rng::TwinRng;
use crate::population::behaviour::{Bass, Network};

/// Prospects and who among them has adopted.
#[derive(Clone)]
pub struct Market {
    bass: Bass,
    network: Network,
    /// Adopted nodes (only for networks, where it matters which node adopts).
    adopted: Vec<u64>,
    /// Prospects who have adopted, including the initial customers.
    pub adopted_count: u64,
    /// Random numbers drawn so far (a binomial count as one), for the bench's bare loop.
    pub draws: u64,
}

impl Market {
    /// A market whose first `initial` nodes are the initial customers.
    pub fn new(bass: Bass, network: Network, initial: u64) -> Market {
        let size = bass.market_size.max(initial);
        let bass = Bass {
            market_size: size,
            ..bass
        };
        let adopted = match network {
            Network::Mixed | Network::Unbounded => Vec::new(),
            Network::SmallWorld { .. } => {
                let mut v = vec![0u64; size.div_ceil(64) as usize];
                for n in 0..initial {
                    v[(n / 64) as usize] |= 1 << (n % 64);
                }
                v
            }
        };
        Market {
            bass,
            network,
            adopted,
            adopted_count: initial,
            draws: 0,
        }
    }

    /// Market size M.
    pub fn size(&self) -> u64 {
        self.bass.market_size
    }

    fn is_adopted(&self, node: u64) -> bool {
        self.adopted[(node / 64) as usize] & (1 << (node % 64)) != 0
    }

    fn adopt(&mut self, node: u64) {
        if !self.adopted.is_empty() {
            self.adopted[(node / 64) as usize] |= 1 << (node % 64);
        }
        self.adopted_count += 1;
    }

    /// Asks the CPU for the adoption bits of the ring neighbours of `node` (where nine in ten
    /// of a small world's referrals land) ahead of [`Market::refer`] from it: with millions
    /// of prospects the bitset outgrows the cache, and the market runs while other threads
    /// wait for it.
    #[inline]
    pub fn prefetch_neighbours(&self, node: u32) {
        let m = self.size();
        if let (Network::SmallWorld { degree, .. }, true) = (self.network, m > 0) {
            // The lines of the farthest neighbours on either side (one line holds 512 nodes):
            // the last two of `refer`'s draws, forward then back, found as it finds them.
            let last = (degree as u64).saturating_sub(1);
            self.prefetch(ring_neighbour(node as u64, last.saturating_sub(1), m));
            self.prefetch(ring_neighbour(node as u64, last, m));
        }
    }

    /// A referral from a customer at `node`: returns the node won, if any.
    pub fn refer(&mut self, node: u32, conversion: f64, rng: &mut TwinRng) -> Option<u32> {
        let m = self.size();
        let bounded = !matches!(self.network, Network::Unbounded);
        if bounded && (m == 0 || self.adopted_count >= m) {
            return None;
        }
        // `Some(node)`: the neighbour the referral reached; `None`: some prospect of a mixed
        // market, numbered once it converts.
        let target = match self.network {
            Network::Unbounded => None,
            Network::Mixed => {
                // A random member of the market, already a customer with probability A/M.
                self.draws += 1;
                if rng.random::<f64>() < self.adopted_count as f64 / m as f64 {
                    return None;
                }
                None
            }
            Network::SmallWorld { degree, rewire } => {
                self.draws += 1;
                let j = rng.random_range(0..degree as u64);
                let ring = ring_neighbour(node as u64, j, m);
                // The edge's rewiring is a property of the graph, not of this draw: hash it.
                let h = super::rng::mix2(node as u64, j);
                let t = if (h >> 11) as f64 / (1u64 << 53) as f64 <= rewire {
                    super::rng::mix2(h, 1) % m
                } else {
                    ring
                };
                if self.is_adopted(t) {
                    return None;
                }
                Some(t)
            }
        };
        self.draws += 1;
        if rng.random::<f64>() >= conversion {
            return None;
        }
        let node = match target {
            Some(t) => t,
            None => self.free_node(rng)?,
        };
        self.adopt(node);
        Some(node as u32)
    }

    /// External adopters on one day: Binomial(prospects left, 1 − e^{−(p·push + q·A/M)/period}).
    pub fn external(&mut self, push: f64, rng: &mut TwinRng, out: &mut Vec<u32>) {
        out.clear();
        let m = self.size();
        let left = m.saturating_sub(self.adopted_count);
        if left == 0 {
            return;
        }
        let share = self.adopted_count as f64 / m as f64;
        let hazard = (self.bass.p * push + self.bass.q * share) / self.bass.period_days;
        let prob = (1.0 - (-hazard).exp()).clamp(0.0, 1.0);
        let n = Binomial::new(left, prob).map_or(0, |d| {
            self.draws += 1;
            d.sample(rng)
        });
        if self.adopted.is_empty() || n == 0 {
            for _ in 0..n {
                if let Some(node) = self.free_node(rng) {
                    self.adopt(node);
                    out.push(node as u32);
                }
            }
            return;
        }
        // As `free_node` for each adopter, with the random probes drawn a few ahead (in the
        // same order, so the same numbers) and their bitset words prefetched: with tens of
        // millions of prospects the bitset outgrows the cache and every probe was a miss. The
        // stream is the day's market stream and nothing draws from it after this. 32 ahead,
        // not 8: a probe takes a few nanoseconds, a miss to the last-level cache far longer
        // (with referrals' bits asked ahead too, the market's share of a run's CPU samples,
        // all behaviours at 10M twins, fell from 6.4% to 3.0%).
        const AHEAD: usize = 32;
        let mut ring = [0u64; AHEAD];
        for slot in ring.iter_mut() {
            *slot = rng.random_range(0..m);
            self.draws += 1;
            self.prefetch(*slot);
        }
        let mut pos = 0;
        for _ in 0..n {
            let mut found = None;
            for _ in 0..64 {
                let probe = ring[pos];
                ring[pos] = rng.random_range(0..m);
                self.draws += 1;
                self.prefetch(ring[pos]);
                pos = (pos + 1) % AHEAD;
                if !self.is_adopted(probe) {
                    found = Some(probe);
                    break;
                }
            }
            if let Some(node) = found.or_else(|| (0..m).find(|&x| !self.is_adopted(x))) {
                self.adopt(node);
                out.push(node as u32);
            }
        }
    }

    /// Asks the CPU to bring the bitset word of `node` into cache (a hint; never faults).
    #[inline]
    fn prefetch(&self, node: u64) {
        if let Some(w) = self.adopted.get((node / 64) as usize) {
            super::hint::prefetch(w);
        }
    }

    /// A node that has not adopted: random tries, then a scan (only when nearly everyone has).
    fn free_node(&mut self, rng: &mut TwinRng) -> Option<u64> {
        let m = self.size();
        if let Network::Unbounded = self.network {
            return Some(self.adopted_count);
        }
        if self.adopted.is_empty() {
            return Some(self.adopted_count.min(m.saturating_sub(1)));
        }
        for _ in 0..64 {
            let n = rng.random_range(0..m);
            self.draws += 1;
            if !self.is_adopted(n) {
                return Some(n);
            }
        }
        (0..m).find(|&n| !self.is_adopted(n))
    }
}

/// Neighbour `j` of `node` on a ring of `m` nodes: (node ± (j/2 + 1)) mod m, forward for
/// even `j`. Wrapped by a comparison rather than `%`: the two 64-bit divisions stood on every
/// referral of the market, which runs alone while the other threads wait.
#[inline]
fn ring_neighbour(node: u64, j: u64, m: u64) -> u64 {
    let offset = j / 2 + 1;
    if node >= m || offset >= m {
        // Only in a market smaller than a twin's neighbourhood.
        return if j % 2 == 0 {
            (node + offset) % m
        } else {
            (node + m - offset % m) % m
        };
    }
    if j % 2 == 0 {
        let t = node + offset;
        if t >= m { t - m } else { t }
    } else if node >= offset {
        node - offset
    } else {
        node + m - offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng;

    /// The ring's neighbours wrapped by comparison are those of the modulo, at both ends of
    /// the ring and in markets smaller than a neighbourhood.
    #[test]
    fn ring_neighbours_wrap_as_the_modulo_does() {
        for m in [1u64, 2, 3, 5, 11, 64, 1000] {
            for node in (0..m).chain([m, m + 3]) {
                for j in 0..12 {
                    let offset = j / 2 + 1;
                    let want = if j % 2 == 0 {
                        (node + offset) % m
                    } else {
                        (node + m - offset % m) % m
                    };
                    assert_eq!(ring_neighbour(node, j, m), want, "m {m} node {node} j {j}");
                }
            }
        }
    }

    /// External adopters drawn with the probes looked ahead are those `free_node` gives one
    /// adopter at a time, from the same stream, up to a nearly full market (many retries).
    #[test]
    fn looking_ahead_picks_the_adopters_free_node_picks() {
        let bass = Bass {
            market_size: 5_000,
            p: 0.05,
            q: 0.4,
            period_days: 3.0,
        };
        let network = Network::SmallWorld {
            degree: 10,
            rewire: 0.1,
        };
        let (mut fast, mut slow) = (
            Market::new(bass, network, 500),
            Market::new(bass, network, 500),
        );
        let mut out = Vec::new();
        for day in 0..120 {
            let mut r = rng::stream(7, 0, day);
            fast.external(1.0, &mut r, &mut out);
            // The reference: `external` as it was, one `free_node` per adopter.
            let mut r = rng::stream(7, 0, day);
            let m = slow.size();
            let share = slow.adopted_count as f64 / m as f64;
            let hazard = (bass.p + bass.q * share) / bass.period_days;
            let prob = (1.0 - (-hazard).exp()).clamp(0.0, 1.0);
            let left = m.saturating_sub(slow.adopted_count);
            let n = if left == 0 {
                0
            } else {
                Binomial::new(left, prob).map_or(0, |d| d.sample(&mut r))
            };
            let mut want = Vec::new();
            for _ in 0..n {
                if let Some(node) = slow.free_node(&mut r) {
                    slow.adopt(node);
                    want.push(node as u32);
                }
            }
            assert_eq!(out, want, "day {day}");
        }
        assert!(fast.adopted_count > 4_900, "{}", fast.adopted_count);
    }
}
