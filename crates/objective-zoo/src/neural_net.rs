//! A small two-layer tanh network with squared loss, on a deterministically generated data set.

use crate::{ClosedForm, CriticalPoint, PointKind, ZooError, min_eigenvalue};
use autodiff_objectives::seeded::SplitMix64;
use autodiff_objectives::{DualNum, FiniteSum, Objective, matvec, matvec_add};
use nalgebra::{DMatrix, DVector};

/// The training loss of a two-layer network x ↦ vᵀtanh(Wx) (h hidden tanh units, no biases,
/// one linear output) under squared loss on m samples (xᵢ, yᵢ):
///
/// f(W, v) = (1/m) Σᵢ ½ rᵢ², rᵢ = Σⱼ vⱼ tanh(wⱼᵀxᵢ) − yᵢ.
///
/// # Layout
///
/// θ ∈ ℝ^{h(p+1)} holds W ∈ ℝ^{h×p} row-major, then v: θ[j·p + k] = W_{jk}, θ[h·p + j] = vⱼ.
///
/// # Derivatives (exact, hand-derived)
///
/// With zⱼ = wⱼᵀxᵢ, tⱼ = tanh zⱼ, sⱼ = 1 − tⱼ²: ∂rᵢ/∂W_{jk} = vⱼsⱼx_{ik}, ∂rᵢ/∂vⱼ = tⱼ,
/// ∂²rᵢ/∂vⱼ∂W_{jk} = sⱼx_{ik}, ∂²rᵢ/∂W_{jk}∂W_{jq} = −2vⱼtⱼsⱼx_{ik}x_{iq} (other second
/// derivatives 0), and ∇f = (1/m)Σ rᵢ∇rᵢ, ∇²f = (1/m)Σ (∇rᵢ∇rᵢᵀ + rᵢ∇²rᵢ).
///
/// # Critical points
///
/// - **θ = 0** is critical (every ∂rᵢ vanishes: tⱼ = 0 and vⱼ = 0) with value (1/2m)Σyᵢ².
///   There ∇²f = −(1/m)Σᵢ yᵢ∇²rᵢ couples each unit's (wⱼ, vⱼ) only through
///   −vⱼ(wⱼᵀc) with c = (1/m)Σᵢ yᵢxᵢ, so its eigenvalues are ±‖c‖ (each h times) and 0
///   (h(p − 1) times): **λ_min(0) = −‖(1/m)Σᵢ yᵢxᵢ‖**, a strict saddle unless c = 0.
/// - For a [`TwoLayerNet::teacher`] problem, the teacher's weights θ* (and θ* with unit 0's
///   signs flipped, the same function since tanh is odd) fit the data exactly: value 0, global
///   minima, λ_min computed from the eigenvalues of the closed-form Hessian.
///
/// f is a [`FiniteSum`](autodiff_objectives::FiniteSum) with terms fᵢ = ½rᵢ².
///
/// ```
/// use autodiff_objectives::{gradient, hessian};
/// use objective_zoo::{ClosedForm, PointKind, TwoLayerNet};
/// let f = TwoLayerNet::teacher(2, 3, 50, 42)?;
/// let zero = &f.critical_points()[0];
/// assert_eq!(zero.kind, PointKind::StrictSaddle);
/// let (_, g) = gradient(&f, &zero.x)?;
/// assert_eq!(g.norm(), 0.0);
/// let lambda_min = hessian(&f, &zero.x)?.symmetric_eigenvalues().min();
/// assert!((lambda_min - zero.lambda_min).abs() < 1e-12);
/// assert!((zero.lambda_min + f.input_target_correlation().norm()).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TwoLayerNet {
    hidden: usize,
    /// m × p, row i is xᵢᵀ.
    inputs: DMatrix<f64>,
    targets: Vec<f64>,
    teacher: Option<DVector<f64>>,
}

impl TwoLayerNet {
    /// A teacher–student problem: inputs xᵢ ~ N(0, I_p), a teacher of the same shape with
    /// W*_{jk} ~ N(0, 1/p) and v*ⱼ ~ N(0, 1), labels yᵢ = v*ᵀtanh(W*xᵢ); all from `seed`.
    /// Needs p, h, m ≥ 1.
    ///
    /// ```
    /// use objective_zoo::{TwoLayerNet, ZooError};
    /// let f = TwoLayerNet::teacher(2, 4, 30, 1)?;
    /// assert_eq!(f.dimension_of_parameters(), 12);
    /// assert!(matches!(TwoLayerNet::teacher(2, 0, 30, 1), Err(ZooError::DimensionTooSmall { .. })));
    /// # Ok::<(), ZooError>(())
    /// ```
    pub fn teacher(
        input_dim: usize,
        hidden: usize,
        samples: usize,
        seed: u64,
    ) -> Result<Self, ZooError> {
        Self::check_sizes(input_dim, hidden, samples)?;
        let mut rng = SplitMix64::new(seed);
        let p = input_dim;
        let scale = 1.0 / (p as f64).sqrt();
        let mut theta = DVector::zeros(hidden * (p + 1));
        for k in 0..hidden * p {
            theta[k] = scale * rng.normal();
        }
        for j in 0..hidden {
            theta[hidden * p + j] = rng.normal();
        }
        let inputs = DMatrix::from_fn(samples, p, |_, _| rng.normal());
        let mut net = TwoLayerNet {
            hidden,
            inputs,
            targets: vec![0.0; samples],
            teacher: None,
        };
        net.targets = (0..samples).map(|i| net.output(&theta, i)).collect();
        net.teacher = Some(theta);
        Ok(net)
    }

    /// A network with `hidden` units on a given data set: `inputs` is m × p (row i = xᵢᵀ),
    /// `targets` has m entries; everything finite, m, p, h ≥ 1.
    ///
    /// ```
    /// use nalgebra::{dmatrix, dvector};
    /// use objective_zoo::{TwoLayerNet, ZooError};
    /// let xor = dmatrix![1.0, 1.0; 1.0, -1.0; -1.0, 1.0; -1.0, -1.0];
    /// let f = TwoLayerNet::from_data(xor.clone(), dvector![-1.0, 1.0, 1.0, -1.0], 2)?;
    /// assert_eq!(f.num_samples(), 4);
    /// assert!(matches!(
    ///     TwoLayerNet::from_data(xor, dvector![1.0], 2),
    ///     Err(ZooError::DimensionMismatch { .. })
    /// ));
    /// # Ok::<(), ZooError>(())
    /// ```
    pub fn from_data(
        inputs: DMatrix<f64>,
        targets: DVector<f64>,
        hidden: usize,
    ) -> Result<Self, ZooError> {
        Self::check_sizes(inputs.ncols(), hidden, inputs.nrows())?;
        if targets.len() != inputs.nrows() {
            return Err(ZooError::DimensionMismatch {
                what: "targets (one per input row)",
                expected: inputs.nrows(),
                got: targets.len(),
            });
        }
        ZooError::check_finite("inputs (column-major)", inputs.as_slice())?;
        ZooError::check_finite("targets", targets.as_slice())?;
        Ok(TwoLayerNet {
            hidden,
            inputs,
            targets: targets.iter().copied().collect(),
            teacher: None,
        })
    }

    fn check_sizes(p: usize, h: usize, m: usize) -> Result<(), ZooError> {
        for (objective, got) in [
            ("TwoLayerNet input dimension", p),
            ("TwoLayerNet hidden units", h),
            ("TwoLayerNet samples", m),
        ] {
            if got == 0 {
                return Err(ZooError::DimensionTooSmall {
                    objective,
                    min: 1,
                    got,
                });
            }
        }
        Ok(())
    }

    /// h(p + 1), the number of parameters.
    pub fn dimension_of_parameters(&self) -> usize {
        self.hidden * (self.inputs.ncols() + 1)
    }

    /// m, the number of samples.
    pub fn num_samples(&self) -> usize {
        self.targets.len()
    }

    /// The inputs (m × p, row i = xᵢᵀ).
    pub fn inputs(&self) -> &DMatrix<f64> {
        &self.inputs
    }

    /// The targets yᵢ.
    pub fn targets(&self) -> &[f64] {
        &self.targets
    }

    /// The teacher's weights θ*, for a [`TwoLayerNet::teacher`] problem.
    pub fn teacher_weights(&self) -> Option<&DVector<f64>> {
        self.teacher.as_ref()
    }

    /// c = (1/m)Σᵢ yᵢxᵢ; λ_min at θ = 0 is −‖c‖.
    pub fn input_target_correlation(&self) -> DVector<f64> {
        self.inputs
            .tr_mul(&DVector::from_column_slice(&self.targets))
            / self.targets.len() as f64
    }

    /// The network's output on sample i for parameters θ (f64).
    fn output(&self, theta: &DVector<f64>, i: usize) -> f64 {
        let p = self.inputs.ncols();
        (0..self.hidden)
            .map(|j| {
                let z: f64 = (0..p).map(|k| theta[j * p + k] * self.inputs[(i, k)]).sum();
                theta[self.hidden * p + j] * z.tanh()
            })
            .sum()
    }

    /// rᵢ, ∇rᵢ and the per-unit (tⱼ, sⱼ) at θ.
    fn sample_jet(&self, theta: &DVector<f64>, i: usize) -> (f64, DVector<f64>, Vec<(f64, f64)>) {
        let (p, h) = (self.inputs.ncols(), self.hidden);
        let mut grad = DVector::zeros(h * (p + 1));
        let mut units = Vec::with_capacity(h);
        let mut out = 0.0;
        for j in 0..h {
            let z: f64 = (0..p).map(|k| theta[j * p + k] * self.inputs[(i, k)]).sum();
            let t = z.tanh();
            let s = 1.0 - t * t;
            let v = theta[h * p + j];
            out += v * t;
            for k in 0..p {
                grad[j * p + k] = v * s * self.inputs[(i, k)];
            }
            grad[h * p + j] = t;
            units.push((t, s));
        }
        (out - self.targets[i], grad, units)
    }
}

impl Objective for TwoLayerNet {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let mut sum = D::from(0.0);
        for i in 0..self.targets.len() {
            sum += self.eval_term(i, x);
        }
        sum / self.targets.len() as f64
    }
    fn dim(&self) -> Option<usize> {
        Some(self.dimension_of_parameters())
    }
    // Block by block (64 terms per block): gradients and HVPs of many samples need tape for
    // one block only, and `parallel_gradient` gives the sequential result bit for bit.
    autodiff_objectives::finite_sum_blocks!();
}

impl FiniteSum for TwoLayerNet {
    fn n_terms(&self) -> usize {
        self.targets.len()
    }
    /// fᵢ(θ) = ½rᵢ²; NaN for i ≥ m or a θ of the wrong length.
    fn eval_term<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, x: &[D]) -> D {
        let (p, h) = (self.inputs.ncols(), self.hidden);
        let Some(&yi) = self.targets.get(i) else {
            return D::from(f64::NAN);
        };
        if x.len() != h * (p + 1) {
            return D::from(f64::NAN);
        }
        // The loops `z = 0; z += W[j,k]·xᵢₖ` and `out = −yᵢ; out += v_j·tanh z_j`, as dense
        // kernels (one block each on the reverse tape).
        let sample: Vec<f64> = self.inputs.row(i).iter().copied().collect();
        let mut z = vec![D::from(0.0); h];
        matvec(&x[..h * p], &sample, &mut z);
        let t: Vec<D> = z.iter().map(|z| z.tanh()).collect();
        let mut out = [D::from(-yi)];
        matvec_add(&x[h * p..], &t, &mut out);
        out[0] * out[0] * 0.5
    }
}

impl ClosedForm for TwoLayerNet {
    fn name(&self) -> String {
        format!(
            "two-layer tanh network (p = {}, h = {}, m = {})",
            self.inputs.ncols(),
            self.hidden,
            self.targets.len()
        )
    }
    fn dimension(&self) -> usize {
        self.dimension_of_parameters()
    }
    fn closed_value(&self, x: &DVector<f64>) -> f64 {
        let m = self.targets.len();
        (0..m)
            .map(|i| 0.5 * (self.output(x, i) - self.targets[i]).powi(2))
            .sum::<f64>()
            / m as f64
    }
    fn closed_gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        let m = self.targets.len();
        let mut g = DVector::zeros(x.len());
        for i in 0..m {
            let (r, jr, _) = self.sample_jet(x, i);
            g.axpy(r, &jr, 1.0);
        }
        g / m as f64
    }
    fn closed_hessian(&self, x: &DVector<f64>) -> DMatrix<f64> {
        let (p, h) = (self.inputs.ncols(), self.hidden);
        let m = self.targets.len();
        let n = x.len();
        let mut hess = DMatrix::zeros(n, n);
        for i in 0..m {
            let (r, jr, units) = self.sample_jet(x, i);
            hess.ger(1.0, &jr, &jr, 1.0);
            for (j, &(t, s)) in units.iter().enumerate() {
                let v = x[h * p + j];
                for k in 0..p {
                    let xk = self.inputs[(i, k)];
                    // ∂²r/∂vⱼ∂W_{jk} = sⱼ x_k
                    hess[(h * p + j, j * p + k)] += r * s * xk;
                    hess[(j * p + k, h * p + j)] += r * s * xk;
                    // ∂²r/∂W_{jk}∂W_{jq} = −2 vⱼ tⱼ sⱼ x_k x_q
                    for q in 0..p {
                        hess[(j * p + k, j * p + q)] +=
                            r * (-2.0 * v * t * s) * xk * self.inputs[(i, q)];
                    }
                }
            }
        }
        hess / m as f64
    }
    /// θ = 0 (λ_min = −‖(1/m)Σyᵢxᵢ‖), then for a teacher problem θ* and θ* with unit 0's signs
    /// flipped (global minima, λ_min from the closed-form Hessian).
    fn critical_points(&self) -> Vec<CriticalPoint> {
        let n = self.dimension_of_parameters();
        let m = self.targets.len() as f64;
        let c = self.input_target_correlation().norm();
        let mut points = vec![CriticalPoint {
            label: "all weights zero".into(),
            x: DVector::zeros(n),
            value: self.targets.iter().map(|y| y * y).sum::<f64>() / (2.0 * m),
            lambda_min: -c,
            kind: if c > 0.0 {
                PointKind::StrictSaddle
            } else {
                PointKind::DegenerateSaddle
            },
        }];
        if let Some(theta) = &self.teacher {
            let p = self.inputs.ncols();
            let mut flipped = theta.clone();
            for k in 0..p {
                flipped[k] = -flipped[k];
            }
            flipped[self.hidden * p] = -flipped[self.hidden * p];
            for (label, x) in [
                ("teacher weights", theta.clone()),
                ("teacher weights, unit 0 sign-flipped", flipped),
            ] {
                let lambda_min = min_eigenvalue(&self.closed_hessian(&x));
                points.push(CriticalPoint {
                    label: label.into(),
                    value: self.closed_value(&x),
                    x,
                    lambda_min,
                    kind: PointKind::GlobalMinimum,
                });
            }
        }
        points
    }
}
