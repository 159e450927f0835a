//! Engine speed: the reference workload (`scenarios/reference-model.toml`) and the
//! all-behaviours workload (`benches/scenarios/million.toml`), baseline and scenario arms, one
//! replication, at 100,000 and 1,000,000 initial twins; and the bare loop that draws the same
//! random numbers as the reference run (every twin it spawns, every wait and purchase), so
//! that the engine's cost per event over its random numbers is measured in the same
//! `cargo bench` run.
//!
//! `cargo bench --bench engine`; `twinsim bench` prints the same measurements as a table
//! (events/s, ns per event, the ratio to the bare loop, twins spawned per second, bytes per twin,
//! peak memory).

use criterion::{Criterion, criterion_group, criterion_main};
use twinsim::engine::bench::{Draws, bare_loop};
use twinsim::engine::{RunOptions, run};
use twinsim::scenario::{Scenario, Source, load};

fn workload(file: &str, customers: u64) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let mut s = load(&path).unwrap_or_else(|e| panic!("{e}"));
    s.source = Source::Inline { customers };
    if s.behaviour.bass.market_size > 0 {
        s.behaviour.bass.market_size = customers * 3;
    }
    s
}

fn bench(c: &mut Criterion) {
    for (name, file) in [
        ("engine_reference_365d", "scenarios/reference-model.toml"),
        (
            "engine_all_behaviours_365d",
            "benches/scenarios/million.toml",
        ),
    ] {
        let mut g = c.benchmark_group(name);
        g.sample_size(10);
        for customers in [100_000u64, 1_000_000] {
            let s = workload(file, customers);
            let res = run(&s, &RunOptions::default(), |_, _| {}).unwrap();
            eprintln!(
                "{name}, {customers} twins: {} events simulated per run (both arms)",
                res.simulated_events
            );
            g.bench_function(format!("{customers}_twins"), |b| {
                b.iter(|| run(&s, &RunOptions::default(), |_, _| {}).unwrap())
            });
            if name == "engine_reference_365d" {
                let draws = Draws::of(&res, &s, customers);
                g.bench_function(format!("bare_random_loop_{customers}_twins"), |b| {
                    b.iter(|| bare_loop(&s.behaviour, &draws))
                });
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
