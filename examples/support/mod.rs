//! Shared by the examples of this directory (included with `mod support;`): command-line
//! flags, a progress bar driven by an optimizer's observer, small statistics and SVG plots.
//! Not every example uses every item.
#![allow(dead_code)]

pub mod plot;

use indicatif::{ProgressBar, ProgressStyle};
use pgd_core::IterRecord;
use std::error::Error;
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::PathBuf;

/// The flags every example understands.
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
                "--seeds" => args.seeds = Some(value(&mut it, "--seeds")?.parse()?),
                "--max-d" => args.max_d = Some(value(&mut it, "--max-d")?.parse()?),
                other if other.starts_with("--") => {
                    return Err(format!("unknown flag {other}").into());
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
            (None, false) => Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/figures")),
        }
    }
}

fn value(it: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, Box<dyn Error>> {
    it.next()
        .ok_or_else(|| format!("{flag} needs a value").into())
}

/// A progress bar over `len` units of work; hidden in quick mode or when stdout is not a
/// terminal.
pub fn progress(len: u64, quick: bool) -> ProgressBar {
    if quick || !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// An observer that shows the iteration count of a long run in the bar's message every
/// `every` iterations, prefixed by `label`, and never stops the run.
pub fn ticker<'a>(
    bar: &'a ProgressBar,
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
