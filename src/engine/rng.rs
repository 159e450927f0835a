//! Per-entity random streams: one Xoroshiro128++ (16 bytes) per twin or synthetic customer,
//! seeded from a hash of (seed, stream, index) so results do not depend on threads or order.
//! Its 2^128 − 1 period leaves no chance that two of even 10^8 streams of 10^6 draws overlap,
//! and the state is half of Xoshiro256++'s: the twins are memory-bound, so a twin fits in fewer
//! bytes.

use rand::SeedableRng;
use rand_xoshiro::Xoroshiro128PlusPlus;

/// The generator every twin and synthetic customer uses.
pub type TwinRng = Xoroshiro128PlusPlus;

/// SplitMix64 finaliser: a bijective 64-bit mix.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stream of entity `index` in sub-stream `stream` (e.g. a replication) of master `seed`.
pub fn stream(seed: u64, stream: u64, index: u64) -> TwinRng {
    let h = mix(mix(mix(seed ^ 0x7477_696e_7369_6d00).wrapping_add(stream)).wrapping_add(index));
    TwinRng::seed_from_u64(h)
}

/// Hash of two words (used for implicit graph edges and per-twin fixed uniforms).
pub fn mix2(a: u64, b: u64) -> u64 {
    mix(mix(a ^ 0x9e37_79b9_7f4a_7c15).wrapping_add(b))
}

/// A uniform in [0, 1) fixed by (seed, id): the same in every replication and arm.
pub fn fixed_uniform(seed: u64, id: u64) -> f64 {
    (mix2(mix2(seed, 0x5eed), id) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// Value stability: these draws are part of twinsim's reproducibility promise.
    #[test]
    fn streams_are_stable_and_distinct() {
        let a: u64 = stream(42, 0, 0).random();
        let b: u64 = stream(42, 0, 1).random();
        let c: u64 = stream(42, 1, 0).random();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, stream(42, 0, 0).random::<u64>());
    }

    /// Value stability: a change here changes every twin of every run; make it on purpose only.
    #[test]
    fn pinned_draws() {
        let mut r = stream(42, 0, 0);
        assert_eq!(r.random::<u64>(), 10_355_750_993_911_327_981);
        assert_eq!(r.random::<f64>(), 0.14364822450343395);
        assert_eq!(fixed_uniform(42, 7), 0.5307076483014348);
    }
}
