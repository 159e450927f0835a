//! A run split over processes is the single-process run, bit for bit: the processes are played
//! here by threads exchanging through shared memory, so the split logic is tested without MPI
//! (tests/mpi.rs runs the real thing).

mod common;

use std::sync::{Arc, Condvar, Mutex};

use twinsim::engine::cluster::Cluster;
use twinsim::engine::{RunOptions, RunResult, run, run_on};

/// Shared mailbox of all-gather rounds.
struct Board {
    size: usize,
    state: Mutex<Round>,
    turn: Condvar,
}

/// The round in progress: what each member posted, and how many have read it.
struct Round {
    posted: Vec<Option<Vec<f64>>>,
    read: usize,
}

/// One thread's view of the group.
struct Member {
    rank: usize,
    board: Arc<Board>,
}

impl Cluster for Member {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.board.size
    }
    fn all_gather(&self, mine: &[f64]) -> Vec<Vec<f64>> {
        let b = &self.board;
        let mut g = b.state.lock().unwrap();
        // Wait until the previous round has been read by everyone.
        while g.posted[self.rank].is_some() {
            g = b.turn.wait(g).unwrap();
        }
        g.posted[self.rank] = Some(mine.to_vec());
        b.turn.notify_all();
        while g.posted.iter().any(Option::is_none) {
            g = b.turn.wait(g).unwrap();
        }
        let all: Vec<Vec<f64>> = g.posted.iter().flatten().cloned().collect();
        g.read += 1;
        if g.read == b.size {
            // Last reader: open the next round.
            g.read = 0;
            g.posted.iter_mut().for_each(|v| *v = None);
            b.turn.notify_all();
        }
        all
    }
}

/// `work` run by `size` threads standing in for processes, each with its member; results in
/// rank order.
fn on_members<T: Send>(size: usize, work: impl Fn(&Member) -> T + Sync) -> Vec<T> {
    let board = Arc::new(Board {
        size,
        state: Mutex::new(Round {
            posted: vec![None; size],
            read: 0,
        }),
        turn: Condvar::new(),
    });
    std::thread::scope(|sc| {
        let handles: Vec<_> = (0..size)
            .map(|rank| {
                let member = Member {
                    rank,
                    board: board.clone(),
                };
                let work = &work;
                sc.spawn(move || work(&member))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// One thread per process, one worker thread each.
fn one_thread() -> RunOptions {
    RunOptions {
        threads: Some(1),
        ..RunOptions::default()
    }
}

fn split_run(path: &std::path::Path, size: usize) -> Vec<RunResult> {
    on_members(size, |member| {
        let s = twinsim::scenario::load(path).unwrap();
        run_on(&s, &one_thread(), member, |_, _| {}).unwrap()
    })
}

fn check(customers: u64, replications: u32, sizes: &[usize]) {
    let dir = tempfile::tempdir().unwrap();
    let path = common::coupled_scenario(dir.path(), customers, replications);
    let s = twinsim::scenario::load(&path).unwrap();
    let alone = run(&s, &RunOptions::default(), |_, _| {}).unwrap();
    for &size in sizes {
        for (rank, r) in split_run(&path, size).iter().enumerate() {
            for (a, b) in [
                (&alone.baseline, &r.baseline),
                (&alone.scenario, &r.scenario),
            ] {
                assert_eq!(a.series.len(), b.series.len());
                for (x, y) in a.series.iter().zip(&b.series) {
                    assert!(
                        x.days == y.days,
                        "{size} processes, rank {rank}: daily metrics differ"
                    );
                    assert_eq!(x.clv_bins, y.clv_bins);
                    assert_eq!(x.cohort_deaths, y.cohort_deaths);
                    assert_eq!(x.initial, y.initial);
                }
            }
            assert_eq!(alone.events, r.events);
            assert_eq!(alone.simulated_events, r.simulated_events);
            assert_eq!(alone.max_twins, r.max_twins);
            assert_eq!(alone.simulated_twins, r.simulated_twins);
        }
    }
}

#[test]
fn shards_split_over_processes_give_the_single_process_result() {
    // 60,000 twins are 4 shards: with 5 processes one holds none and still takes part.
    check(60_000, 2, &[2, 3, 5]);
}

#[test]
fn replications_spread_over_processes_give_the_single_process_result() {
    check(3_000, 5, &[2, 3]);
}

#[test]
fn a_sweep_shared_out_over_processes_gives_the_single_process_result() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::coupled_scenario(dir.path(), 3_000, 3);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("[sweep]\npercent = [-20, 0]\nmultiplier = [1, 3]\n");
    std::fs::write(&path, text).unwrap();
    let s = twinsim::scenario::load(&path).unwrap();
    let sw = s.sweep.as_ref().unwrap();
    let opts = RunOptions::default();
    let solo = twinsim::engine::cluster::Solo;
    let alone = twinsim::engine::run_sweep(sw, &opts, &solo, |_, _| {}).unwrap();
    // Four points over two processes, and over five (one of which computes none).
    for size in [2, 5] {
        let split = on_members(size, |member| {
            twinsim::engine::run_sweep(sw, &one_thread(), member, |_, _| {}).unwrap()
        });
        for (rank, rs) in split.iter().enumerate() {
            assert_eq!(rs.len(), 4);
            for (k, (a, b)) in alone.iter().zip(rs).enumerate() {
                // Everything: series, known customers, counts, names.
                let bits = |r: &RunResult| format!("{r:?}");
                assert!(
                    bits(a) == bits(b),
                    "{size} processes, rank {rank}, point {k} differs"
                );
            }
        }
    }
}
