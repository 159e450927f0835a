//! Ingest throughput on a generated log of about one million rows (two id columns, channel,
//! amount): reading rows into events, and building per-person statistics.
//!
//! `cargo bench --bench ingest` — criterion prints rows per second as "elem/s".

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use twinsim::data::synthetic::{PurchaseProcess, SyntheticSpec, write_event_log};
use twinsim::data::{
    ColumnSpec, IngestOptions, Ledger, Periods, SameDay, TimeUnit, read_event_log,
};
use twinsim::fit::bgnbd::BgNbd;
use twinsim::fit::gamma_gamma::GammaGamma;

fn generated_log(dir: &std::path::Path) -> (std::path::PathBuf, u64) {
    let spec = SyntheticSpec {
        customers: 360_000,
        weeks: 78.0,
        cohort_weeks: 12.0,
        start_day: 20_089,
        process: PurchaseProcess::BgNbd(BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap()),
        spend: Some(GammaGamma::new(6.25, 3.74, 15.44).unwrap()),
        channels: vec!["web".into(), "store".into(), "app".into()],
        channel_alpha: vec![1.0; 3],
        second_id_fraction: 0.2,
        time_of_day: false,
        seed: 1,
        extras: Default::default(),
    };
    let path = dir.join("events.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let stats = write_event_log(&spec, &mut f).unwrap();
    (path, stats.rows)
}

fn options() -> IngestOptions {
    IngestOptions {
        columns: ColumnSpec {
            id_cols: vec!["email".into(), "phone".into()],
            ..ColumnSpec::default()
        },
        ..IngestOptions::default()
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (path, rows) = generated_log(dir.path());
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows));
    g.bench_function("read_event_log", |b| {
        b.iter(|| read_event_log(&path, &options()).unwrap())
    });
    let periods = Periods {
        observation_end: None,
        holdout_from: None,
        time_unit: TimeUnit::Week,
        same_day: SameDay::Once,
        bad_satisfaction: None,
    };
    g.bench_function("read_and_build_ledger", |b| {
        b.iter(|| {
            let mut log = read_event_log(&path, &options()).unwrap();
            Ledger::build(&mut log, periods, |c| c.len().to_string()).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
