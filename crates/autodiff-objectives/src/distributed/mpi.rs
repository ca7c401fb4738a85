//! MPI's world as an [`Exchange`] (feature `mpi`, through rsmpi, the `mpi` crate): one
//! `MPI_Allgatherv` per oracle call.
//!
//! The build needs an MPI implementation and libclang (rsmpi generates its bindings); on
//! Debian: `apt-get install libopenmpi-dev openmpi-bin libclang-dev`. Run the program with
//! `mpirun -np P program` (as root, add `--allow-run-as-root`; with more ranks than cores,
//! `--oversubscribe`) or `srun`.
//!
//! ```no_run
//! use autodiff_objectives::distributed::{mpi::initialize, Distributed};
//! use autodiff_objectives::{gradient, objective, DualNum};
//! use nalgebra::dvector;
//! fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D { x[0] * x[0] }
//! let (_universe, world) = initialize().expect("MPI initializes once");
//! let f = Distributed::new(objective!(f, 1), world)?;
//! let (fx, g) = gradient(&f, &dvector![3.0])?; // the same on every rank
//! if f.is_root() {
//!     println!("{fx} {g}");
//! }
//! # Ok::<(), autodiff_objectives::EvalError>(())
//! ```

use super::Exchange;
/// The rsmpi crate, for what this module does not wrap (its `Universe` ends MPI when dropped).
pub use ::mpi as rsmpi;
use ::mpi::Count;
use ::mpi::datatype::PartitionMut;
use ::mpi::environment::Universe;
use ::mpi::topology::SimpleCommunicator;
use ::mpi::traits::{Communicator, CommunicatorCollectives, Destination, Root, Source};

/// An MPI communicator as an [`Exchange`].
pub struct MpiExchange {
    comm: SimpleCommunicator,
}

impl std::fmt::Debug for MpiExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MpiExchange")
            .field("rank", &self.rank())
            .field("ranks", &self.ranks())
            .finish()
    }
}

/// Initializes MPI and returns its universe (keep it alive: MPI is finalized when it drops)
/// and the world communicator as an exchange; `None` if MPI was initialized before.
pub fn initialize() -> Option<(Universe, MpiExchange)> {
    let universe = ::mpi::initialize()?;
    let world = universe.world();
    Some((universe, MpiExchange::new(world)))
}

impl MpiExchange {
    /// The ranks of `comm` (the world, or a sub-communicator).
    pub fn new(comm: SimpleCommunicator) -> Self {
        MpiExchange { comm }
    }

    /// The communicator.
    pub fn communicator(&self) -> &SimpleCommunicator {
        &self.comm
    }
}

fn count(n: usize) -> Count {
    Count::try_from(n).unwrap_or_else(|_| {
        panic!("an all-gather of {n} values is beyond MPI's count type (2³¹ − 1 values)")
    })
}

fn rank_of(r: usize) -> ::mpi::Rank {
    ::mpi::Rank::try_from(r).unwrap_or(::mpi::Rank::MAX)
}

impl Exchange for MpiExchange {
    fn rank(&self) -> usize {
        self.comm.rank() as usize
    }
    fn ranks(&self) -> usize {
        self.comm.size() as usize
    }
    /// `MPI_Allgatherv`.
    ///
    /// # Panics
    /// If the gathered values number 2³¹ or more (16 GiB: MPI's counts are `int`s).
    fn all_gather(&self, mine: &[f64], counts: &[usize], all: &mut Vec<f64>) {
        let total: usize = counts.iter().sum();
        count(total);
        let mut displs = Vec::with_capacity(counts.len());
        let mut at = 0;
        for &c in counts {
            displs.push(count(at));
            at += c;
        }
        let counts: Vec<Count> = counts.iter().map(|&c| count(c)).collect();
        all.clear();
        all.resize(total, 0.0);
        let mut parts = PartitionMut::new(&mut all[..], counts, displs);
        self.comm.all_gather_varcount_into(mine, &mut parts);
    }
    /// `MPI_Send`.
    fn send(&self, to: usize, data: &[f64]) {
        self.comm.process_at_rank(rank_of(to)).send(data);
    }
    /// `MPI_Recv`.
    fn receive(&self, from: usize, buf: &mut [f64]) {
        self.comm.process_at_rank(rank_of(from)).receive_into(buf);
    }
    /// `MPI_Bcast`.
    fn broadcast(&self, root: usize, buf: &mut [f64]) {
        self.comm.process_at_rank(rank_of(root)).broadcast_into(buf);
    }
}
