//! Ranks as threads of one process: the [`Exchange`] the tests and examples use, so that a
//! program written for MPI (SPMD: the same code on every rank) can be run and checked without
//! MPI. Nothing is faster this way than [`parallel_gradient`](crate::parallel_gradient); it is
//! for checking.

use super::Exchange;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

#[derive(Debug, Default)]
struct State {
    /// Point-to-point messages not yet received, by (from, to), in the order sent.
    mail: std::collections::HashMap<(usize, usize), std::collections::VecDeque<Vec<f64>>>,
    /// Completed all-gathers.
    round: u64,
    /// This round's parts, by rank.
    parts: Vec<Option<Vec<f64>>>,
    arrived: usize,
    /// The last completed round's concatenation.
    result: Arc<Vec<f64>>,
    /// A rank panicked: the others stop at their next collective (as MPI aborts the job).
    dead: bool,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One rank of [`run`]: an [`Exchange`] over the threads of this process.
#[derive(Debug)]
pub struct InProcess {
    rank: usize,
    ranks: usize,
    shared: Arc<Shared>,
}

/// Marks the group dead if its rank's thread unwinds.
struct DeathWatch<'a>(&'a Shared);

impl Drop for DeathWatch<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.lock().dead = true;
            self.0.changed.notify_all();
        }
    }
}

impl InProcess {
    /// Waits on the group's condition variable; panics if a rank died meanwhile.
    fn wait<'a>(&self, st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let st = self
            .shared
            .changed
            .wait(st)
            .unwrap_or_else(PoisonError::into_inner);
        assert!(!st.dead, "rank {}: another rank died", self.rank);
        st
    }
}

impl Exchange for InProcess {
    fn rank(&self) -> usize {
        self.rank
    }
    fn ranks(&self) -> usize {
        self.ranks
    }
    /// # Panics
    /// If another rank panicked (the job is dead, as MPI would abort it), or if `mine` is not
    /// `counts[rank]` long (a broken caller).
    fn all_gather(&self, mine: &[f64], counts: &[usize], all: &mut Vec<f64>) {
        assert_eq!(
            mine.len(),
            counts[self.rank],
            "rank {}: part of the wrong length",
            self.rank
        );
        let mut st = self.shared.lock();
        assert!(!st.dead, "rank {}: another rank died", self.rank);
        let round = st.round;
        st.parts[self.rank] = Some(mine.to_vec());
        st.arrived += 1;
        if st.arrived == self.ranks {
            let all: Vec<f64> = st
                .parts
                .iter_mut()
                .flat_map(|p| p.take().unwrap_or_default())
                .collect();
            st.result = Arc::new(all);
            st.arrived = 0;
            st.round += 1;
            self.shared.changed.notify_all();
        } else {
            while st.round == round && !st.dead {
                st = self
                    .shared
                    .changed
                    .wait(st)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            assert!(st.round != round, "rank {}: another rank died", self.rank);
        }
        // The next round cannot complete before this rank has joined it, so `result` is still
        // this round's.
        all.clear();
        all.extend_from_slice(&st.result);
    }
    /// # Panics
    /// If another rank died.
    fn send(&self, to: usize, data: &[f64]) {
        let mut st = self.shared.lock();
        assert!(!st.dead, "rank {}: another rank died", self.rank);
        st.mail
            .entry((self.rank, to))
            .or_default()
            .push_back(data.to_vec());
        self.shared.changed.notify_all();
    }
    /// # Panics
    /// If another rank died, or if the message's length is not `buf`'s (a broken caller).
    fn receive(&self, from: usize, buf: &mut [f64]) {
        let mut st = self.shared.lock();
        assert!(!st.dead, "rank {}: another rank died", self.rank);
        loop {
            if let Some(m) = st
                .mail
                .get_mut(&(from, self.rank))
                .and_then(|q| q.pop_front())
            {
                assert_eq!(
                    m.len(),
                    buf.len(),
                    "rank {}: message of the wrong length",
                    self.rank
                );
                buf.copy_from_slice(&m);
                return;
            }
            st = self.wait(st);
        }
    }
    /// An all-gather in which only `root` contributes.
    fn broadcast(&self, root: usize, buf: &mut [f64]) {
        let mut counts = vec![0; self.ranks];
        counts[root] = buf.len();
        let mine: &[f64] = if root == self.rank { buf } else { &[] };
        let mut all = Vec::new();
        self.all_gather(mine, &counts, &mut all);
        buf.copy_from_slice(&all);
    }
}

/// Runs `body` on `ranks` threads, each with its rank's [`InProcess`] exchange, and returns
/// their results in rank order — an `mpirun -np ranks` inside one process.
///
/// ```
/// use autodiff_objectives::distributed::{in_process, Exchange};
/// let sums = in_process::run(3, |ex| {
///     let mut all = Vec::new();
///     ex.all_gather(&[ex.rank() as f64], &[1, 1, 1], &mut all);
///     all
/// });
/// assert_eq!(sums, vec![vec![0.0, 1.0, 2.0]; 3]);
/// ```
///
/// # Panics
/// If a rank panics, every rank stops at its next collective and that panic is resumed here
/// (a job that loses a rank dies, as under MPI).
pub fn run<R: Send>(ranks: usize, body: impl Fn(InProcess) -> R + Sync) -> Vec<R> {
    let ranks = ranks.max(1);
    let shared = Arc::new(Shared::default());
    shared.lock().parts = vec![None; ranks];
    let results: Vec<std::thread::Result<R>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..ranks)
            .map(|rank| {
                let (shared, body) = (Arc::clone(&shared), &body);
                scope.spawn(move || {
                    let _watch = DeathWatch(&shared);
                    body(InProcess {
                        rank,
                        ranks,
                        shared: Arc::clone(&shared),
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let died = |p: &Box<dyn std::any::Any + Send>| {
        p.downcast_ref::<String>()
            .is_some_and(|m| m.contains("another rank died"))
    };
    // The panic that killed the job, not the ranks that stopped because of it.
    let first = results
        .iter()
        .position(|r| r.as_ref().is_err_and(|p| !died(p)));
    let mut out = Vec::with_capacity(ranks);
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(v) => out.push(v),
            Err(payload) if first.is_none_or(|f| f == i) => std::panic::resume_unwind(payload),
            Err(_) => {}
        }
    }
    out
}
