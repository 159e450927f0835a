//! A shard: a fixed block of initial twins (and a fixed share of the newcomers) with its
//! accounts — the history both arms share before the scenario's first intervention, each
//! arm's after it — and its known customers' own results. Shards are lived in parallel, the
//! twins of one shard one after another in id order, so results do not depend on threads.

use super::books::{Books, clv_bin};
use super::ctx::Ctx;
use super::life;
use super::twin::{KNOWN, Twin};

/// Initial twins per shard: fixed, so that results do not depend on the number of threads;
/// large enough that a shard's accounts (three series of a few tens of kB) cost little per
/// twin, small enough that a few hundred thousand twins still keep every core busy.
pub const SHARD_SIZE: usize = 16_384;

/// A block of twins and its accounts.
#[derive(Clone)]
pub struct Shard {
    /// The history both arms share (all of it when no intervention acts within the horizon).
    pub shared: Books,
    /// Each arm's accounts from the fork on, when the arms part within the horizon.
    arms: Option<Box<[Books; 2]>>,
    /// Per arm, each known customer's discounted revenue and purchases, in id order from the
    /// shard's first id (the scenario's list stays empty when the arms never part).
    pub known: [Vec<(f32, u16)>; 2],
}

impl Shard {
    /// Empty accounts for a horizon whose arms part on day `fork` (if before the horizon):
    /// the shared history holds the days up to the fork (newcomers born on it included),
    /// each arm the days from it.
    pub fn new(horizon: u32, fork: u32) -> Shard {
        let forked = fork < horizon;
        let arm = || Books::new(horizon, fork..horizon);
        Shard {
            shared: Books::new(horizon, 0..if forked { fork + 1 } else { horizon }),
            arms: forked.then(|| Box::new([arm(), arm()])),
            known: [Vec::new(), Vec::new()],
        }
    }

    /// Each arm's accounts after the fork, if the arms part.
    pub fn arms(&self) -> Option<&[Books; 2]> {
        self.arms.as_deref()
    }

    /// Each arm's accounts after the fork, if the arms part.
    pub fn arms_mut(&mut self) -> Option<&mut [Books; 2]> {
        self.arms.as_deref_mut()
    }

    /// Lives a twin that joins before the arms part (an initial twin, or a newcomer born by
    /// the fork day) through the horizon: under the baseline up to `fork`, then a copy of it
    /// under each arm's policy. The twin is lived where it lies (passed by value, it was
    /// copied just after it was built, and that copy stalled on store forwarding).
    pub fn live_joint(&mut self, tw: &mut Twin, [base, scen]: [&Ctx; 2], fork: u32) {
        self.shared.enrol(tw);
        let known = tw.flags & KNOWN != 0;
        match self.arms.as_deref_mut() {
            None => {
                life::live(tw, base, &mut self.shared, base.horizon);
                self.shared.close(tw, base);
                if known {
                    self.known[0].push((tw.clv, tw.purchases));
                }
            }
            Some([a, b]) => {
                life::live(tw, base, &mut self.shared, fork);
                if life::done(tw, scen) {
                    // No event left in either arm (about half of all twins): both close
                    // as they are, with no copy, no fork and no lives of nothing.
                    // Both arms bin the same revenue alike (one bin width for both).
                    let bin = clv_bin(tw, base);
                    a.close_in(tw, base, bin);
                    b.close_in(tw, scen, bin);
                    if known {
                        self.known[0].push((tw.clv, tw.purchases));
                        self.known[1].push((tw.clv, tw.purchases));
                    }
                    return;
                }
                let mut tv = tw.clone();
                life::fork(&mut tv, base, scen, fork);
                live_rest(a, tw, base);
                live_rest(b, &mut tv, scen);
                if known {
                    self.known[0].push((tw.clv, tw.purchases));
                    self.known[1].push((tv.clv, tv.purchases));
                }
            }
        }
    }
}

/// Lives a twin that joins one arm after the arms parted through the horizon.
pub fn live_alone(books: &mut Books, tw: &mut Twin, ctx: &Ctx) {
    books.enrol(tw);
    live_rest(books, tw, ctx);
}

/// Lives a twin from where it is through the horizon and closes its account.
fn live_rest(books: &mut Books, tw: &mut Twin, ctx: &Ctx) {
    life::live(tw, ctx, books, ctx.horizon);
    books.close(tw, ctx);
}
