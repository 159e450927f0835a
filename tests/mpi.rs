//! `mpirun -np N twinsim run …` (built with `--features mpi`) writes the same bytes as the
//! single-process run with the same seed, for 1, 2 and 3 processes.
#![cfg(feature = "mpi")]

mod common;

use std::process::Command;

/// Whether `mpirun` is on the PATH; under `CI=true` its absence fails the test.
fn have_mpirun() -> bool {
    let found = Command::new("mpirun")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "mpirun not found, and CI=true: .ci/run installs openmpi-bin"
        );
        eprintln!("skipping: mpirun not found (apt install openmpi-bin)");
    }
    found
}

#[test]
fn split_over_one_two_three_processes_gives_the_same_bytes() {
    if !have_mpirun() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Four shards split over the processes, then few twins whose replications are spread.
    for (customers, reps) in [(60_000, 2), (3_000, 5)] {
        let scenario = common::coupled_scenario(dir.path(), customers, reps);
        compare(dir.path(), &scenario, customers);
    }
}

#[test]
fn a_sweep_over_one_two_three_processes_gives_the_same_bytes() {
    if !have_mpirun() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::coupled_scenario(dir.path(), 3_000, 3);
    let mut text = std::fs::read_to_string(&scenario).unwrap();
    text.push_str("[sweep]\npercent = [-20, 0, 10]\n");
    std::fs::write(&scenario, text).unwrap();
    let outs: Vec<_> = [None, Some(1), Some(2), Some(3)]
        .into_iter()
        .map(|ranks| {
            let out = dir.path().join(format!("sweep-{ranks:?}"));
            launch(ranks, &scenario, &out);
            std::fs::read(out.join("sweep.csv")).unwrap()
        })
        .collect();
    for (n, o) in outs.iter().enumerate().skip(1) {
        assert!(o == &outs[0], "sweep.csv differs with {n} processes");
    }
}

/// Runs `scenario` into `out`, alone or under `mpirun -np ranks`.
fn launch(ranks: Option<usize>, scenario: &std::path::Path, out: &std::path::Path) {
    let bin = env!("CARGO_BIN_EXE_twinsim");
    let mut cmd = match ranks {
        None => Command::new(bin),
        Some(n) => {
            let mut c = Command::new("mpirun");
            // Two-core CI machines: three processes need oversubscription; CI runs as root.
            c.args(["--oversubscribe", "-np", &n.to_string(), bin])
                .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
                .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
            c
        }
    };
    let o = cmd
        .args(["run", "--no-charts", "-q", "--threads", "1", "--output"])
        .arg(out)
        .arg(scenario)
        .output()
        .expect("started");
    assert!(
        o.status.success(),
        "{ranks:?} ranks: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn compare(dir: &std::path::Path, scenario: &std::path::Path, customers: u64) {
    let run = |out: &std::path::Path, ranks: Option<usize>| launch(ranks, scenario, out);
    let alone = dir.join(format!("alone-{customers}"));
    run(&alone, None);
    for n in [1, 2, 3] {
        let out = dir.join(format!("np{n}-{customers}"));
        run(&out, Some(n));
        for file in [
            "metrics.csv",
            "daily.csv",
            "cohorts.csv",
            "clv_histogram.csv",
        ] {
            let a = std::fs::read(alone.join(file)).unwrap();
            let b =
                std::fs::read(out.join(file)).unwrap_or_else(|e| panic!("{n} ranks, {file}: {e}"));
            assert!(
                a == b,
                "{file} differs with {n} processes ({customers} twins)"
            );
        }
    }
    // The coupling happened: referred newcomers across shards and processes.
    let referred = common::metric_series(
        &alone.join("metrics.csv"),
        "scenario",
        0,
        "new_customers_referred",
    );
    assert!(referred.iter().sum::<f64>() > customers as f64 / 1000.0);
}
