//! BG/NBD fit time: on the CDNOW sample's 2,357 customers (or, without ../shared, 2,357
//! simulated ones) and on one million simulated customers.
//!
//! `cargo bench --bench fit`

use criterion::{Criterion, criterion_group, criterion_main};
use twinsim::engine::rng;
use twinsim::fit::bgnbd::{BgNbd, Likelihood};
use twinsim::fit::maximise;

/// (x, t_x, T) of `n` customers simulated from CDNOW's estimates over a 39-week calibration
/// with first purchases spread over 12 weeks (continuous times: no two customers alike).
fn simulated(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    use rand::RngExt;
    let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let (mut x, mut tx, mut t) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut times = Vec::new();
    for i in 0..n {
        let mut r = rng::stream(9, 0, i as u64);
        let age = 39.0 - 12.0 * r.random::<f64>();
        m.simulate(age, &mut r, &mut times);
        x.push(times.len() as f64);
        tx.push(times.last().copied().unwrap_or(0.0));
        t.push(age);
    }
    (x, tx, t)
}

fn cdnow() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/cdnow_customers_summary.csv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "{} not found: using 2,357 simulated customers",
            path.display()
        );
        return simulated(2357);
    };
    let (mut x, mut tx, mut t) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let f: Vec<f64> = line.split(',').map(|v| v.trim().parse().unwrap()).collect();
        x.push(f[1]);
        tx.push(f[2]);
        t.push(f[3]);
    }
    (x, tx, t)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("bgnbd_fit");
    g.sample_size(20);
    let (x, tx, t) = cdnow();
    g.bench_function("cdnow_2357", |b| {
        b.iter(|| maximise(&Likelihood::new(&x, &tx, &t), "BG/NBD").unwrap())
    });
    let (x, tx, t) = simulated(1_000_000);
    g.sample_size(10);
    g.bench_function("simulated_1m", |b| {
        b.iter(|| maximise(&Likelihood::new(&x, &tx, &t), "BG/NBD").unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
