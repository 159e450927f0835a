//! Cache hints: asking the CPU for memory a twin will touch soon, so that the wait for it
//! overlaps the work in between (the one place the engine uses the intrinsic).

/// Asks the CPU to bring the cache line holding `p` into L1. Only a hint: it never faults,
/// whatever `p` is, and does nothing where the target has no such instruction.
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is only a hint and never faults, even on an invalid address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
