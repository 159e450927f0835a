//! The processes one run is split over. Shards go to processes round robin (shard k to process
//! k mod size); at each day's synchronisation every process gets every referral, so each runs
//! the same market and places the newcomers of its own shards; at the end every process gets
//! every shard's metrics and adds them in shard order, so the sums are the single-process
//! sums, bit for bit.

/// A group of processes that run one simulation together.
pub trait Cluster: Sync {
    /// This process's number, 0 ≤ rank < size.
    fn rank(&self) -> usize;
    /// How many processes.
    fn size(&self) -> usize;
    /// Every process's `mine`, in rank order, on every process (a collective call: every
    /// process must make it, in the same order).
    fn all_gather(&self, mine: &[f64]) -> Vec<Vec<f64>>;
}

/// A single process: the whole simulation is here.
#[derive(Debug, Clone, Copy, Default)]
pub struct Solo;

impl Cluster for Solo {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_gather(&self, mine: &[f64]) -> Vec<Vec<f64>> {
        vec![mine.to_vec()]
    }
}

/// Records of `(key, payload)` from every process, in key order (keys are shards, or
/// replications): each process sends its records as `[key, length, payload…]…`.
pub fn gather_by_key(cluster: &dyn Cluster, mine: &[f64]) -> Vec<(usize, Vec<f64>)> {
    let mut out = Vec::new();
    for part in cluster.all_gather(mine) {
        let mut rest = &part[..];
        while let [k, n, tail @ ..] = rest {
            let n = *n as usize;
            out.push((*k as usize, tail[..n].to_vec()));
            rest = &tail[n..];
        }
    }
    out.sort_by_key(|(k, _)| *k);
    out
}

/// Appends one shard's record for [`gather_by_key`].
pub fn put_record(out: &mut Vec<f64>, shard: usize, payload: impl FnOnce(&mut Vec<f64>)) {
    out.push(shard as f64);
    let at = out.len();
    out.push(0.0);
    payload(out);
    out[at] = (out.len() - at - 1) as f64;
}

#[cfg(feature = "mpi")]
pub use self::mpi_cluster::Mpi;

#[cfg(feature = "mpi")]
mod mpi_cluster {
    use mpi::datatype::PartitionMut;
    use mpi::topology::SimpleCommunicator;
    use mpi::traits::*;

    /// The processes of an MPI job (`mpirun -np N twinsim …`), over the system's MPI library.
    pub struct Mpi {
        // Dropping the universe finalises MPI: it lives as long as the cluster.
        _universe: mpi::environment::Universe,
        world: SimpleCommunicator,
    }

    impl Mpi {
        /// Joins the MPI job this process was started in, when a launcher (`mpirun`,
        /// `srun`) started it; None for a plain start, which runs alone without touching MPI.
        pub fn from_launcher() -> crate::error::Result<Option<Mpi>> {
            const LAUNCHED: [&str; 3] = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"];
            if !LAUNCHED.iter().any(|v| std::env::var_os(v).is_some()) {
                return Ok(None);
            }
            // The engine calls MPI from one thread at a time, not always the main one.
            let fail = |why: &str| crate::error::Error::Invalid(format!("MPI: {why}"));
            let (universe, level) = mpi::initialize_with_threading(mpi::Threading::Serialized)
                .ok_or_else(|| fail("already initialised in this process"))?;
            if level < mpi::Threading::Serialized {
                return Err(fail(
                    "the MPI library does not support MPI_THREAD_SERIALIZED, which twinsim needs",
                ));
            }
            let world = universe.world();
            Ok(Some(Mpi {
                _universe: universe,
                world,
            }))
        }
    }

    // SAFETY: MPI is initialised at MPI_THREAD_SERIALIZED (checked in `from_launcher`), which allows
    // calls from any thread as long as no two overlap; the engine makes its collective calls
    // only from the one thread that runs the day loop, one replication and arm at a time
    // (`engine::run_on` turns off every concurrent mode when there is more than one process).
    unsafe impl Sync for Mpi {}
    // SAFETY: as above; the handle is only a communicator number valid in the whole process.
    unsafe impl Send for Mpi {}

    impl super::Cluster for Mpi {
        fn rank(&self) -> usize {
            self.world.rank() as usize
        }
        fn size(&self) -> usize {
            self.world.size() as usize
        }
        fn all_gather(&self, mine: &[f64]) -> Vec<Vec<f64>> {
            let n = mine.len() as mpi::Count;
            let mut counts = vec![0 as mpi::Count; self.size()];
            self.world.all_gather_into(&n, &mut counts[..]);
            let displs: Vec<mpi::Count> = counts
                .iter()
                .scan(0, |acc, &c| {
                    let at = *acc;
                    *acc += c;
                    Some(at)
                })
                .collect();
            let total: mpi::Count = counts.iter().sum();
            let mut all = vec![0.0f64; total as usize];
            {
                let mut part = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
                self.world.all_gather_varcount_into(mine, &mut part);
            }
            counts
                .iter()
                .zip(&displs)
                .map(|(&c, &d)| all[d as usize..(d + c) as usize].to_vec())
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_in_shard_order() {
        let mut mine = Vec::new();
        put_record(&mut mine, 3, |o| o.extend([1.0, 2.0]));
        put_record(&mut mine, 1, |_| {});
        put_record(&mut mine, 2, |o| o.push(5.0));
        let got = gather_by_key(&Solo, &mine);
        assert_eq!(got, vec![(1, vec![]), (2, vec![5.0]), (3, vec![1.0, 2.0])]);
    }
}
