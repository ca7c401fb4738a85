//! SVG line plots with plotters (SVG backend only, no system fonts), and the trace → figure
//! helpers the examples share ([`trace_line`], [`perturbation_marks`], [`trace_figures`]).

use pgd_core::{Event, IterRecord, Outcome};
use plotters::prelude::*;
use std::error::Error;
use std::path::{Path, PathBuf};

/// Colours of the series, in order.
const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// One figure: lines against the iteration, optional point markers, optional dashed
/// horizontal reference levels. With `log_y` the values are drawn as log₁₀ (non-positive
/// values are clamped to 1e-300).
#[derive(Debug)]
pub struct Figure<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// x-axis label.
    pub x_label: &'a str,
    /// y-axis label.
    pub y_label: &'a str,
    /// Draw log₁₀ of the values.
    pub log_y: bool,
    /// Named lines.
    pub lines: &'a [(&'a str, Vec<(f64, f64)>)],
    /// Named point markers (drawn as circles on top of the lines).
    pub marks: &'a [(&'a str, Vec<(f64, f64)>)],
    /// Dashed grey horizontal levels.
    pub levels: &'a [f64],
}

impl Figure<'_> {
    /// Writes the figure as an SVG file.
    pub fn write_svg(&self, path: &Path) -> Result<(), Box<dyn Error>> {
        let tf = |y: f64| if self.log_y { y.max(1e-300).log10() } else { y };
        let all = self
            .lines
            .iter()
            .chain(self.marks.iter())
            .flat_map(|(_, v)| v.iter().copied());
        let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
        for (x, y) in all {
            x_max = x_max.max(x);
            y_min = y_min.min(tf(y));
            y_max = y_max.max(tf(y));
        }
        for &l in self.levels {
            y_min = y_min.min(tf(l));
            y_max = y_max.max(tf(l));
        }
        if !(y_min.is_finite() && y_max.is_finite()) {
            return Err(format!("nothing to plot in {}", path.display()).into());
        }
        let pad = 0.05 * (y_max - y_min).max(1e-9);
        let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max * 1.02, (y_min - pad)..(y_max + pad))?;
        let log_y = self.log_y;
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| {
                if log_y {
                    format!("1e{v:.0}")
                } else {
                    format!("{v:.0}")
                }
            })
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        for &l in self.levels {
            chart.draw_series(DashedLineSeries::new(
                [(0.0, tf(l)), (x_max * 1.02, tf(l))],
                6,
                4,
                ShapeStyle::from(&RGBColor(150, 150, 150)).stroke_width(1),
            ))?;
        }
        for (i, (name, pts)) in self.lines.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|&(x, y)| (x, tf(y))),
                    color.stroke_width(2),
                ))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        for (i, (name, pts)) in self.marks.iter().enumerate() {
            let color = COLORS[(self.lines.len() + i) % COLORS.len()];
            chart
                .draw_series(
                    pts.iter()
                        .map(|&(x, y)| Circle::new((x, tf(y)), 4, color.stroke_width(2))),
                )?
                .label(*name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    }
}

/// What to draw from a run's trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// f(x_t).
    Value,
    /// ‖∇f(x_t)‖.
    GradNorm,
}

impl Metric {
    fn of(self, r: &IterRecord) -> f64 {
        match self {
            Metric::Value => r.value,
            Metric::GradNorm => r.grad_norm,
        }
    }
}

/// A run's trace (`record_trace(true)`) as a line (iteration, metric), thinned to about
/// `max_points` points: every k-th record, every record with an event, and the last one.
pub fn trace_line(o: &Outcome, metric: Metric, max_points: usize) -> Vec<(f64, f64)> {
    let k = o.trace.len().div_ceil(max_points.max(1)).max(1);
    o.trace
        .iter()
        .enumerate()
        .filter(|(i, r)| i % k == 0 || r.event.is_some() || *i + 1 == o.trace.len())
        .map(|(_, r)| (r.iteration as f64, metric.of(r)))
        .collect()
}

/// The iterations at which a run was perturbed (Algorithm 2's x_t ← x̃ + ξ), as markers.
pub fn perturbation_marks(o: &Outcome, metric: Metric) -> Vec<(f64, f64)> {
    o.trace
        .iter()
        .filter(|r| matches!(r.event, Some(Event::Perturbed { .. })))
        .map(|r| (r.iteration as f64, metric.of(r)))
        .collect()
}

/// The two standard figures of named runs — f(x_t) (with dashed `value_levels`) and
/// ‖∇f(x_t)‖ on a log scale — with the first run's perturbations marked, written as
/// `{stem}_value.svg` and `{stem}_gradnorm.svg` in `dir` (created if needed). Returns the
/// paths written.
pub fn trace_figures(
    dir: &Path,
    stem: &str,
    title: &str,
    runs: &[(&str, &Outcome)],
    value_levels: &[f64],
) -> Result<[PathBuf; 2], Box<dyn Error>> {
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::with_capacity(2);
    for (metric, suffix, y_label, log_y, levels) in [
        (Metric::Value, "value", "f(x_t)", false, value_levels),
        (
            Metric::GradNorm,
            "gradnorm",
            "|grad f(x_t)| (log scale)",
            true,
            &[][..],
        ),
    ] {
        let lines: Vec<(&str, Vec<(f64, f64)>)> = runs
            .iter()
            .map(|(name, o)| (*name, trace_line(o, metric, 2000)))
            .collect();
        let marks: Vec<(&str, Vec<(f64, f64)>)> = runs
            .iter()
            .take(1)
            .filter(|(_, o)| !o.perturbations.is_empty())
            .map(|(name, o)| (*name, perturbation_marks(o, metric)))
            .map(|(_, m)| ("perturbation", m))
            .collect();
        let path = dir.join(format!("{stem}_{suffix}.svg"));
        Figure {
            title: &format!("{title}: {y_label}"),
            x_label: "iteration t",
            y_label,
            log_y,
            lines: &lines,
            marks: &marks,
            levels,
        }
        .write_svg(&path)?;
        paths.push(path);
    }
    let [a, b]: [PathBuf; 2] = paths.try_into().map_err(|_| "two figures are written")?;
    Ok([a, b])
}
/// Colours of the band series, in order (a 10-colour qualitative palette).
const BAND_COLORS: [RGBColor; 8] = [
    RGBColor(0, 0, 0),
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
];

/// One series of a [`BandFigure`]: its name and (x, mean, standard deviation) points.
pub type Band<'a> = (&'a str, Vec<(f64, f64, f64)>);

/// Mean curves with shaded ±1 standard-deviation bands (linear axes).
#[derive(Debug)]
pub struct BandFigure<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// x-axis label.
    pub x_label: &'a str,
    /// y-axis label.
    pub y_label: &'a str,
    /// The series.
    pub series: &'a [Band<'a>],
}

impl BandFigure<'_> {
    /// Writes the figure as an SVG file.
    pub fn write_svg(&self, path: &Path) -> Result<(), Box<dyn Error>> {
        let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
        for (_, pts) in self.series {
            for &(x, m, s) in pts {
                x_max = x_max.max(x);
                y_min = y_min.min(m - s);
                y_max = y_max.max(m + s);
            }
        }
        if !(y_min.is_finite() && y_max.is_finite()) {
            return Err(format!("nothing to plot in {}", path.display()).into());
        }
        let pad = 0.05 * (y_max - y_min).max(1e-9);
        let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max * 1.02, (y_min - pad)..(y_max + pad))?;
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        for (i, (name, pts)) in self.series.iter().enumerate() {
            let color = BAND_COLORS[i % BAND_COLORS.len()];
            let upper = pts.iter().map(|&(x, m, s)| (x, m + s));
            let lower = pts.iter().rev().map(|&(x, m, s)| (x, m - s));
            chart.draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                color.mix(0.12).filled(),
            )))?;
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|&(x, m, _)| (x, m)),
                    color.stroke_width(2),
                ))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    }
}

/// One series of a [`ScalingFigure`]: its name and (x, y) points, both positive.
pub type Series<'a> = (&'a str, Vec<(f64, f64)>);

/// Lines with circle markers on log₁₀–log₁₀ axes (e.g. a cost against the dimension), the
/// series coloured in order from the band palette.
#[derive(Debug)]
pub struct ScalingFigure<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// x-axis label (the axis itself is drawn in log₁₀).
    pub x_label: &'a str,
    /// y-axis label (log₁₀).
    pub y_label: &'a str,
    /// The series; non-positive points are skipped.
    pub series: &'a [Series<'a>],
}

impl ScalingFigure<'_> {
    /// Writes the figure as an SVG file.
    pub fn write_svg(&self, path: &Path) -> Result<(), Box<dyn Error>> {
        let pts = |v: &[(f64, f64)]| -> Vec<(f64, f64)> {
            v.iter()
                .filter(|(x, y)| *x > 0.0 && *y > 0.0)
                .map(|&(x, y)| (x.log10(), y.log10()))
                .collect()
        };
        let (mut x_min, mut x_max) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut y_min, mut y_max) = (f64::INFINITY, f64::NEG_INFINITY);
        for (_, v) in self.series {
            for (x, y) in pts(v) {
                x_min = x_min.min(x);
                x_max = x_max.max(x);
                y_min = y_min.min(y);
                y_max = y_max.max(y);
            }
        }
        if !(x_min.is_finite() && y_min.is_finite()) {
            return Err(format!("nothing to plot in {}", path.display()).into());
        }
        let (x_lo, x_hi) = (x_min.floor() - 0.25, x_max.ceil() + 0.25);
        // One empty decade on top for the legend (upper left).
        let (y_lo, y_hi) = ((y_min - 0.1).floor(), (y_max + 0.1).ceil() + 1.0);
        let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(self.title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
        let decade = |v: &f64| {
            if (v - v.round()).abs() < 1e-6 {
                format!("1e{:.0}", v.round())
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_labels(((x_hi - x_lo) * 10.0) as usize + 1)
            .y_labels(((y_hi - y_lo) * 10.0) as usize + 1)
            .x_label_formatter(&decade)
            .y_label_formatter(&decade)
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        for (i, (name, v)) in self.series.iter().enumerate() {
            let color = BAND_COLORS[i % BAND_COLORS.len()];
            let p = pts(v);
            chart
                .draw_series(LineSeries::new(p.clone(), color.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart.draw_series(
                p.iter()
                    .map(|&(x, y)| Circle::new((x, y), 4, color.stroke_width(2))),
            )?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    }
}
