//! `saddle-experiments`: the studies of saddle-escape (binaries `review`, `compare`,
//! `reproduce`, `second_order`, `octopus`, `large_scale`) and what they share — command-line
//! flags, progress (a bar on a terminal, plain lines otherwise) driven by an optimizer's
//! observer, small statistics, SVG plots of traces ([`plot`]), the low-rank factorization
//! objective ([`low_rank`]) and the comparison at scale ([`scale`]).
//!
//! Each binary documents its command line; every one takes `--quick` (what CI runs):
//!
//! ```text
//! cargo run --release -p saddle-experiments --bin review -- --quick
//! ```
//!
//! The library crates never depend on this package: studies live here, teaching examples in
//! the repository's `examples/`.

pub mod low_rank;
pub mod plot;
pub mod scale;

use autodiff_objectives::{DualNum, FiniteSum, Objective};
use indicatif::{ProgressBar, ProgressStyle};
use pgd_core::IterRecord;
use std::error::Error;
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A deterministic objective seen as a finite sum of one term, so that the stochastic
/// optimizers run on it (SGD = GD, PSGD = GD with Gaussian noise every step).
#[derive(Debug)]
pub struct Single<'a, O>(pub &'a O);
impl<O: Objective> Objective for Single<'_, O> {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        self.0.eval(x)
    }
    fn dim(&self) -> Option<usize> {
        self.0.dim()
    }
}
impl<O: Objective> FiniteSum for Single<'_, O> {
    fn n_terms(&self) -> usize {
        1
    }
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, _: usize, x: &[D]) -> D {
        self.0.eval(x)
    }
}

/// The flags every study understands.
#[derive(Debug, Clone)]
pub struct Args {
    /// `--quick`: a few seconds in the dev profile, no files written (what CI runs).
    pub quick: bool,
    /// `--out PATH`: where plots go (full mode only).
    pub out: Option<PathBuf>,
    /// `--seeds N`.
    pub seeds: Option<u64>,
    /// `--max-d N`.
    pub max_d: Option<usize>,
    /// The remaining positional arguments.
    pub rest: Vec<String>,
}

impl Args {
    /// Parses `std::env::args()`.
    pub fn parse() -> Result<Args, Box<dyn Error>> {
        let mut args = Args {
            quick: false,
            out: None,
            seeds: None,
            max_d: None,
            rest: Vec::new(),
        };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            match a.as_str() {
                "--quick" => args.quick = true,
                "--out" => args.out = Some(PathBuf::from(value(&mut it, "--out")?)),
                "--seeds" => args.seeds = Some(number(&mut it, "--seeds")?),
                "--max-d" => args.max_d = Some(number(&mut it, "--max-d")?),
                other if other.starts_with("--") => {
                    return Err(format!(
                        "unknown flag {other} (the studies take --quick, --out DIR, --seeds N, --max-d N)"
                    )
                    .into());
                }
                _ => args.rest.push(a),
            }
        }
        Ok(args)
    }

    /// The directory plots go to: `--out`, or `docs/figures` of this repository in full
    /// mode; `None` in quick mode unless `--out` was given.
    pub fn figure_dir(&self) -> Option<PathBuf> {
        match (&self.out, self.quick) {
            (Some(p), _) => Some(p.clone()),
            (None, true) => None,
            (None, false) => {
                Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/figures"))
            }
        }
    }
}

fn value(it: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, Box<dyn Error>> {
    it.next()
        .ok_or_else(|| format!("{flag} needs a value").into())
}

/// The value of a flag that takes a non-negative integer, with the flag named on failure.
fn number<T: std::str::FromStr<Err = std::num::ParseIntError>>(
    it: &mut impl Iterator<Item = String>,
    flag: &str,
) -> Result<T, Box<dyn Error>> {
    let v = value(it, flag)?;
    v.parse()
        .map_err(|e| format!("{flag} takes a non-negative integer, got {v:?} ({e})").into())
}

/// How long runs show progress: an indicatif bar when stdout is a terminal; plain lines on
/// stderr (at most one every [`PLAIN_EVERY`], plus the last) when it is not — a log or a
/// pipe; nothing in quick mode (CI). Stdout carries only the study's results either way.
#[derive(Debug)]
pub enum Progress {
    /// On a terminal.
    Bar(ProgressBar),
    /// Not a terminal: line-based (a mutex, so one progress can be shared by threads).
    Lines(Mutex<Lines>),
    /// Quick mode.
    Hidden,
}

/// Minimum time between two plain progress lines.
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// The state of line-based progress.
#[derive(Debug)]
pub struct Lines {
    pos: u64,
    len: u64,
    msg: String,
    start: Instant,
    last: Option<Instant>,
    /// Something changed since the last line.
    dirty: bool,
}

impl Lines {
    fn emit(&mut self, force: bool) {
        self.dirty = true;
        let now = Instant::now();
        if force
            || self
                .last
                .is_none_or(|t| now.duration_since(t) >= PLAIN_EVERY)
        {
            self.last = Some(now);
            self.dirty = false;
            // A single unit of work (a ticker over one run) shows no count.
            let count = if self.len > 1 {
                format!("{}/{} ", self.pos, self.len)
            } else {
                String::new()
            };
            eprintln!(
                "[{:>7.1} s] {count}{}",
                now.duration_since(self.start).as_secs_f64(),
                self.msg
            );
        }
    }
}

impl Progress {
    /// Advances by `n` units.
    pub fn inc(&self, n: u64) {
        match self {
            Progress::Bar(b) => b.inc(n),
            Progress::Lines(l) => {
                let mut l = l.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                l.pos = l.pos.saturating_add(n);
                let done = l.pos >= l.len;
                l.emit(done);
            }
            Progress::Hidden => {}
        }
    }

    /// Sets the message shown next to the count.
    pub fn set_message(&self, msg: String) {
        match self {
            Progress::Bar(b) => b.set_message(msg),
            Progress::Lines(l) => {
                let mut l = l.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                l.msg = msg;
                l.emit(false);
            }
            Progress::Hidden => {}
        }
    }

    /// Runs `f` (which prints results) without the bar drawn over its output.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match self {
            Progress::Bar(b) => b.suspend(f),
            _ => f(),
        }
    }

    /// Removes the bar (a terminal), or prints the last state if it was not printed (lines).
    pub fn finish_and_clear(&self) {
        match self {
            Progress::Bar(b) => b.finish_and_clear(),
            Progress::Lines(l) => {
                let mut l = l.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if l.dirty {
                    l.emit(true);
                }
            }
            Progress::Hidden => {}
        }
    }
}

/// Progress over `len` units of work; see [`Progress`] for what is shown where.
pub fn progress(len: u64, quick: bool) -> Progress {
    if quick {
        return Progress::Hidden;
    }
    if !std::io::stdout().is_terminal() {
        return Progress::Lines(Mutex::new(Lines {
            pos: 0,
            len,
            msg: String::new(),
            start: Instant::now(),
            last: None,
            dirty: false,
        }));
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    Progress::Bar(bar)
}

/// An observer that shows the iteration count of a long run in the progress message every
/// `every` iterations, prefixed by `label`, and never stops the run.
pub fn ticker<'a>(
    bar: &'a Progress,
    label: String,
    every: usize,
) -> impl FnMut(&IterRecord) -> ControlFlow<()> + 'a {
    move |r: &IterRecord| {
        if r.iteration.is_multiple_of(every) {
            bar.set_message(format!("{label}: t = {}, f = {:.4e}", r.iteration, r.value));
        }
        ControlFlow::Continue(())
    }
}

/// Median of a non-empty sample (mean of the two middle values for an even count).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// (min, max) of a sample.
pub fn min_max(xs: &[f64]) -> (f64, f64) {
    xs.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// Least-squares fit y ≈ a + b·x: returns (a, b).
pub fn linear_fit(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let b = sxy / sxx;
    (my - b * mx, b)
}

/// `work(k, &items[k])` for every item, spread round-robin over `threads` scoped threads
/// (item k on thread k mod `threads`), the results in item order. Each item's work must not
/// depend on the thread it runs on. The first failing thread's error is returned.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(usize, &T) -> Result<R, String> + Sync,
) -> Result<Vec<R>, Box<dyn Error>> {
    let threads = threads.max(1);
    let work = &work;
    let mut all: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || -> Result<Vec<(usize, R)>, String> {
                    let mut out = Vec::new();
                    for (k, item) in items.iter().enumerate().skip(t).step_by(threads) {
                        out.push((k, work(k, item)?));
                    }
                    Ok(out)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().map_err(|_| "a worker thread panicked")??);
        }
        Ok::<_, Box<dyn Error>>(all)
    })?;
    all.sort_by_key(|(k, _)| *k);
    Ok(all.into_iter().map(|(_, r)| r).collect())
}
