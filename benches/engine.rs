//! Engine speed on the all-behaviours workload (`benches/scenarios/million.toml`): baseline and
//! scenario arms, one replication, at 100,000 and 1,000,000 initial twins.
//!
//! `cargo bench --bench engine`; the whole-process equivalent is
//! `twinsim run benches/scenarios/million.toml`, which also prints events per second.

use criterion::{Criterion, criterion_group, criterion_main};
use twinsim::engine::{RunOptions, run};
use twinsim::scenario::{Source, load};

fn bench(c: &mut Criterion) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/scenarios/million.toml");
    let base = load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("engine_all_behaviours_365d");
    g.sample_size(10);
    for customers in [100_000u64, 1_000_000] {
        let mut s = base.clone();
        s.source = Source::Inline { customers };
        s.behaviour.bass.market_size = customers * 3;
        let res = run(&s, &RunOptions::default(), |_, _| {}).unwrap();
        eprintln!(
            "{customers} twins: {} events per run (both arms), up to {} twins per arm",
            res.events, res.max_twins
        );
        g.bench_function(format!("{customers}_twins"), |b| {
            b.iter(|| run(&s, &RunOptions::default(), |_, _| {}).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
