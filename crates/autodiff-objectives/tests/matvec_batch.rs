//! The batched dense layer `matvec_add_batch` against the per-sample `matvec_add` calls it
//! stands for: the same values and the same recording, so f, ∇f and ∇²f·v agree **to the bit**
//! on every number type and both tapes — for small layers (recorded sample by sample) with
//! kept and unkept W, data and recorded inputs, the loop's fallbacks, the tape limit and bad
//! shapes; and for wide layers (W's values ≥ 1 MiB, every sample's values computed first) with
//! passes of four and two samples, samples left over and rows left over.

// Exact comparisons are the point: the batch must reproduce the per-sample calls to the bit.
#![allow(clippy::float_cmp)]

mod common;
use autodiff_objectives::reverse;
use autodiff_objectives::{
    Backend, DualNum, EvalError, Objective, gradient_hvp_with, gradient_with, matvec_add,
    matvec_add_batch,
};
use common::{bits, point};
use nalgebra::DVector;
use proptest::prelude::*;

/// Y ← Y + X·Wᵀ through the batch kernel or sample by sample.
fn layer<D, X>(batch: bool, w: &[D], x: &[X], y: &mut [D], samples: usize)
where
    D: DualNum<Primitive = f64> + Copy + std::ops::Mul<X, Output = D>,
    X: Copy + 'static,
{
    if batch {
        matvec_add_batch(w, x, y, samples);
    } else {
        let (cols, rows) = (x.len() / samples, y.len() / samples);
        for (xs, ys) in x.chunks(cols).zip(y.chunks_mut(rows)) {
            matvec_add(w, xs, ys);
        }
    }
}

/// How the third layer's W comes about.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Third {
    /// 2·θ[..]: one common scale, not a slice of the inputs (its values are not kept).
    Scaled,
    /// A permutation of θ's entries: not one run of nodes, so every sample runs the loop.
    Permuted,
}

/// Three layers over `samples` data rows: inputs (`cols`) → `hidden` tanh units → `out` units
/// → `out` units, a smooth readout, and a weight decay. θ = (W₁, b₁, W₂, b₂, W₃ source, c).
#[derive(Debug, Clone, Copy)]
struct Net {
    samples: usize,
    cols: usize,
    hidden: usize,
    out: usize,
    third: Third,
    batch: bool,
}

impl Net {
    fn dims(&self) -> [usize; 5] {
        let (c, h, o) = (self.cols, self.hidden, self.out);
        [h * c, h, o * h, o, o * o]
    }

    fn dim(&self) -> usize {
        self.dims().iter().sum::<usize>() + 1
    }

    fn data(&self) -> Vec<f64> {
        (0..self.samples * self.cols)
            .map(|k| {
                // A zero entry now and then (a black pixel): still a recorded block.
                if k % 11 == 5 {
                    0.0
                } else {
                    (0.37 * k as f64 + 0.1).sin()
                }
            })
            .collect()
    }
}

impl Objective for Net {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        let [nw1, nb1, nw2, nb2, nw3] = self.dims();
        let (w1, rest) = t.split_at(nw1);
        let (b1, rest) = rest.split_at(nb1);
        let (w2, rest) = rest.split_at(nw2);
        let (b2, rest) = rest.split_at(nb2);
        let (w3, c) = rest.split_at(nw3);
        let n = self.samples;
        let mut z: Vec<D> = (0..n).flat_map(|_| b1.iter().copied()).collect();
        layer(self.batch, w1, &self.data(), &mut z, n);
        // Recorded inputs whose partials are not 1, one of them constant.
        let h: Vec<D> = z
            .iter()
            .enumerate()
            .map(|(k, z)| if k % 7 == 3 { D::from(0.5) } else { z.tanh() })
            .collect();
        let mut o: Vec<D> = (0..n).flat_map(|_| b2.iter().copied()).collect();
        layer(self.batch, w2, &h, &mut o, n);
        let w3: Vec<D> = match self.third {
            Third::Scaled => w3.iter().map(|&v| v * 2.0).collect(),
            Third::Permuted => (0..nw3).map(|k| w3[(k * 5 + 2) % nw3]).collect(),
        };
        let mut p = vec![c[0]; n * self.out];
        layer(self.batch, &w3, &o, &mut p, n);
        let mut total = D::from(0.0);
        for (k, (&o, &p)) in o.iter().zip(&p).enumerate() {
            total += (p * (0.3 + 0.01 * k as f64)).sin() + o * o * 0.05;
        }
        total + t.iter().map(|&v| v * v).sum::<D>() * 0.01
    }
}

/// Two forms of one objective agree to the bit: f on `f64`, and f, ∇f and ∇²f·v on both tapes.
/// Returns the first form's ∇f and ∇²f·v.
fn assert_tapes_bitwise<O: Objective>(
    batch: &O,
    plain: &O,
    x: &[f64],
    v: &[f64],
    what: &str,
) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(
        batch.eval(x).to_bits(),
        plain.eval(x).to_bits(),
        "{what}: f64"
    );
    let (fb, gb) = reverse::gradient(batch, x).expect("fits");
    let (fp, gp) = reverse::gradient(plain, x).expect("fits");
    assert_eq!(fb.to_bits(), fp.to_bits(), "{what}: Var64 value");
    assert_eq!(bits(&gb), bits(&gp), "{what}: Var64 ∇f");
    let (fb, gb2, hb) = reverse::gradient_hvp(batch, x, v).expect("fits");
    let (fp, gp2, hp) = reverse::gradient_hvp(plain, x, v).expect("fits");
    assert_eq!(fb.to_bits(), fp.to_bits(), "{what}: VarDual64 value");
    assert_eq!(bits(&gb2), bits(&gp2), "{what}: VarDual64 ∇f");
    assert_eq!(bits(&hb), bits(&hp), "{what}: VarDual64 ∇²f·v");
    (gb, hb)
}

/// The batch and the per-sample form agree to the bit: f on `f64`, and f, ∇f and ∇²f·v on both
/// tapes and in forward mode; the gradient also agrees with forward mode's to rounding.
fn assert_bitwise(net: Net) {
    let batch = Net { batch: true, ..net };
    let plain = Net {
        batch: false,
        ..net
    };
    let what = format!("{net:?}");
    let (x, v) = point(net.dim(), 0.3 + net.samples as f64);
    let (gb, _) = assert_tapes_bitwise(&batch, &plain, &x, &v, &what);
    let (xd, vd) = (DVector::from_vec(x), DVector::from_vec(v));
    let (_, gfb, hfb) = gradient_hvp_with(&batch, &xd, &vd, Backend::Forward).expect("valid");
    let (_, gfp, hfp) = gradient_hvp_with(&plain, &xd, &vd, Backend::Forward).expect("valid");
    assert_eq!(
        bits(gfb.as_slice()),
        bits(gfp.as_slice()),
        "{what}: forward ∇f"
    );
    assert_eq!(
        bits(hfb.as_slice()),
        bits(hfp.as_slice()),
        "{what}: forward ∇²f·v"
    );
    let scale = gfb.amax().max(1.0);
    for (i, (a, b)) in gb.iter().zip(gfb.iter()).enumerate() {
        assert!(
            (a - b).abs() <= 1e-13 * scale,
            "{what}: ∇f[{i}] {a:e} vs forward {b:e}"
        );
    }
}

#[test]
fn the_batch_records_what_the_samples_record() {
    // Samples: less than one pass, whole passes of four (of two on the HVP tape), and passes
    // with samples over; rows: fewer than four, groups of four, groups with rows over.
    for samples in [1, 2, 3, 4, 5, 8, 9] {
        for (cols, hidden, out) in [(2, 3, 2), (7, 8, 4), (5, 9, 6)] {
            for third in [Third::Scaled, Third::Permuted] {
                assert_bitwise(Net {
                    samples,
                    cols,
                    hidden,
                    out,
                    third,
                    batch: true,
                });
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_batches_record_what_the_samples_record(
        samples in 1usize..13,
        cols in 1usize..9,
        hidden in 1usize..11,
        out in 1usize..6,
        permuted in any::<bool>(),
    ) {
        let third = if permuted { Third::Permuted } else { Third::Scaled };
        assert_bitwise(Net { samples, cols, hidden, out, third, batch: true });
    }
}

#[test]
fn wrong_shapes_give_nans_and_never_panic() {
    let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 3 × 2
    let x = [1.0, 1.0, 2.0, 2.0]; // two samples of two
    // Two samples need 6 outputs; 5 do not split into two samples, 4 are 2 per sample (W
    // would need 4 entries).
    for n in [5, 4] {
        let mut y = vec![0.0_f64; n];
        matvec_add_batch(&w, &x, &mut y, 2);
        assert!(y.iter().all(|v| v.is_nan()), "{n} outputs");
    }
    let mut y = [0.0_f64; 6];
    matvec_add_batch(&w, &x, &mut y, 0);
    assert!(y.iter().all(|v| v.is_nan()), "no samples");
    let mut y = [0.0_f64; 6];
    matvec_add_batch(&w, &x, &mut y, 3); // 4 inputs do not split into three samples
    assert!(y.iter().all(|v| v.is_nan()), "three samples");
    // The right shape, for comparison: row s·3 + i is Σⱼ W[i,j]·x_s,j.
    let mut y = [0.0_f64; 6];
    matvec_add_batch(&w, &x, &mut y, 2);
    assert_eq!(y, [3.0, 7.0, 11.0, 6.0, 14.0, 22.0]);
    // No columns: nothing to add; nothing at all: nothing to do.
    let mut y = [1.0_f64, 2.0];
    matvec_add_batch::<f64, f64>(&[], &[], &mut y, 2);
    assert_eq!(y, [1.0, 2.0]);
    matvec_add_batch::<f64, f64>(&[], &[], &mut [], 0);
    // On the tape, a wrong shape gives NaN values (which the checked drivers report).
    fn bad<D: DualNum<Primitive = f64> + Copy>(t: &[D]) -> D {
        let mut y = vec![t[0]; 5];
        matvec_add_batch(&t[..6], &[1.0, 2.0, 3.0, 4.0], &mut y, 2);
        y.iter().copied().sum()
    }
    let x = DVector::from_element(6, 0.5);
    let err = gradient_with(&autodiff_objectives::objective!(bad), &x, Backend::Reverse);
    assert!(
        matches!(err, Err(EvalError::NonFiniteValue { .. })),
        "{err:?}"
    );
}

/// One wide layer over many samples, for the tape limit.
struct Wide {
    samples: usize,
}

impl Objective for Wide {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        let data: Vec<f64> = (0..self.samples * 6)
            .map(|k| (0.2 * k as f64).cos())
            .collect();
        let mut y = vec![D::from(0.1); self.samples * 8];
        matvec_add_batch(&t[..48], &data, &mut y, self.samples);
        y.iter().map(|y| y.sin()).sum()
    }
}

#[test]
fn exceeding_the_limit_inside_a_batch_is_an_error_and_the_tape_stays_usable() {
    let f = Wide { samples: 12 };
    let (x, v) = point(48, 0.1);
    let full = reverse::gradient(&f, &x).expect("fits");
    let previous = reverse::set_tape_limit(100);
    let g = reverse::gradient(&f, &x);
    let h = reverse::gradient_hvp(&f, &x, &v);
    reverse::set_tape_limit(previous);
    assert!(
        matches!(g, Err(EvalError::TapeLimitExceeded { limit: 100 })),
        "{g:?}"
    );
    assert!(
        matches!(h, Err(EvalError::TapeLimitExceeded { limit: 100 })),
        "{h:?}"
    );
    let again = reverse::gradient(&f, &x).expect("fits");
    assert_eq!(bits(&again.1), bits(&full.1));
}

/// Two layers wide enough (W's values ≥ 1 MiB) for the batch to compute every sample's values
/// first: 2 048 data inputs → 66 tanh units → 2 050 outputs, over `samples` samples.
struct WideNet {
    samples: usize,
    batch: bool,
}

const WIDE: (usize, usize, usize) = (2_048, 66, 2_050);

impl WideNet {
    fn dim() -> usize {
        let (p, h, o) = WIDE;
        h * p + h + o * h
    }
}

impl Objective for WideNet {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, t: &[D]) -> D {
        let (p, h, o) = WIDE;
        let n = self.samples;
        let (w1, rest) = t.split_at(h * p);
        let (b1, w2) = rest.split_at(h);
        let data: Vec<f64> = (0..n * p).map(|k| (0.013 * k as f64).sin()).collect();
        let mut z: Vec<D> = (0..n).flat_map(|_| b1.iter().copied()).collect();
        layer(self.batch, w1, &data, &mut z, n);
        let hidden: Vec<D> = z
            .iter()
            .enumerate()
            .map(|(k, z)| if k % 13 == 4 { D::from(-0.5) } else { z.tanh() })
            .collect();
        let mut out = vec![D::from(0.1); n * o];
        layer(self.batch, w2, &hidden, &mut out, n);
        out.iter()
            .enumerate()
            .map(|(k, &y)| (y * (0.5 + 0.001 * (k % 97) as f64)).sin())
            .sum()
    }
    fn dim(&self) -> Option<usize> {
        Some(Self::dim())
    }
}

/// With W's values computed for several samples per pass (passes of four and of two, samples
/// left over, rows left over), the batch still records what the samples record: f, ∇f and
/// ∇²f·v to the bit; and ∇f·v agrees with forward mode's directional derivative.
#[test]
fn wide_layers_computed_several_samples_per_pass_record_what_the_samples_record() {
    let d = WideNet::dim();
    let x: Vec<f64> = (0..d).map(|i| 0.02 * (0.37 * i as f64).sin()).collect();
    let v: Vec<f64> = (0..d).map(|i| (0.11 * i as f64).cos()).collect();
    for samples in [1, 5, 9] {
        let (batch, plain) = (
            WideNet {
                samples,
                batch: true,
            },
            WideNet {
                samples,
                batch: false,
            },
        );
        let (gb, hb) = assert_tapes_bitwise(&batch, &plain, &x, &v, &format!("{samples} samples"));
        let (xd, vd) = (DVector::from_vec(x.clone()), DVector::from_vec(v.clone()));
        let dir = autodiff_objectives::directional(&batch, &xd, &vd).expect("valid");
        let gv: f64 = gb.iter().zip(&v).map(|(g, v)| g * v).sum();
        assert!(
            (gv - dir.slope).abs() <= 1e-11 * dir.slope.abs().max(1.0),
            "{samples}: ∇f·v {gv:e} against forward mode's {:e}",
            dir.slope
        );
        let vhv: f64 = hb.iter().zip(&v).map(|(h, v)| h * v).sum();
        assert!(
            (vhv - dir.curvature).abs() <= 1e-10 * dir.curvature.abs().max(1.0),
            "{samples}: vᵀ∇²f·v {vhv:e} against forward mode's {:e}",
            dir.curvature
        );
    }
}
