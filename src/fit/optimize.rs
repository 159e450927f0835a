//! Maximum likelihood on the log scale with argmin's L-BFGS (Nelder–Mead as a fallback), then a
//! finite-difference Hessian for standard errors and an honest convergence verdict.

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::LBFGS;
use indexmap::IndexMap;
use nalgebra::DMatrix;

use super::{Fitted, Objective};
use crate::error::{Error, Result};

/// Log-parameters beyond ±this are penalised: e^25 ≈ 7e10 is far outside any sensible estimate,
/// and keeping the search finite avoids overflow in the likelihoods.
const LOG_BOUND: f64 = 25.0;

/// The objective as argmin sees it. argmin asks for the cost and then the gradient at the same
/// point; models with analytic gradients compute both at once, so the last pair is cached.
struct Problem<'a, O> {
    obj: &'a O,
    last: std::sync::Mutex<Option<Evaluation>>,
}

/// A point, the penalised cost there and its gradient.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

impl<'a, O: Objective> Problem<'a, O> {
    fn new(obj: &'a O) -> Self {
        Problem {
            obj,
            last: std::sync::Mutex::new(None),
        }
    }

    /// Penalised cost and gradient at `p`.
    fn eval(&self, p: &[f64], need_grad: bool) -> (f64, Option<Vec<f64>>) {
        if let Ok(guard) = self.last.lock()
            && let Some((q, f, g)) = guard.as_ref()
            && q.as_slice() == p
        {
            return (*f, Some(g.clone()));
        }
        let (c, extra) = penalty(p);
        if !need_grad && !self.obj.analytic_gradient() {
            return (self.obj.neg_ll(&c) + extra, None);
        }
        let mut g = vec![0.0; p.len()];
        let f = self.obj.neg_ll_grad(&c, &mut g) + extra;
        for ((gi, &v), &cv) in g.iter_mut().zip(p).zip(&c) {
            *gi += 2e3 * (v - cv);
            if !gi.is_finite() {
                *gi = 0.0;
            }
        }
        if let Ok(mut guard) = self.last.lock() {
            *guard = Some((p.to_vec(), f, g.clone()));
        }
        (f, Some(g))
    }
}

fn penalty(p: &[f64]) -> (Vec<f64>, f64) {
    let mut extra = 0.0;
    let clamped = p
        .iter()
        .map(|&v| {
            let c = v.clamp(-LOG_BOUND, LOG_BOUND);
            extra += 1e3 * (v - c) * (v - c);
            c
        })
        .collect();
    (clamped, extra)
}

impl<O: Objective> CostFunction for Problem<'_, O> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        let f = self.eval(p, false).0;
        Ok(if f.is_finite() { f } else { f64::MAX })
    }
}

impl<O: Objective> Gradient for Problem<'_, O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        Ok(self.eval(p, true).1.unwrap_or_else(|| vec![0.0; p.len()]))
    }
}

/// Fits `obj` by maximum likelihood; `model` names it in messages.
pub fn maximise(obj: &impl Objective, model: &str) -> Result<Fitted> {
    let names = obj.names();
    let k = names.len();
    let start = obj.start();
    let f0 = obj.neg_ll(&start);
    if !f0.is_finite() {
        return Err(Error::Fit {
            model: model.into(),
            reason: "the log-likelihood is not finite at the starting values: check that the data have positive ages T and non-negative counts".into(),
        });
    }
    let problem = Problem::new(obj);
    let (mut best, mut iterations, mut status) = lbfgs(&problem, start.clone());
    if best.is_none()
        || !matches!(
            status,
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        )
    {
        // Line-search trouble or the iteration limit: restart from a simplex search.
        let from = best.clone().unwrap_or(start);
        let (nm, it) = nelder_mead(&problem, from, k);
        iterations += it;
        let (polished, it2, st2) = lbfgs(&problem, nm.clone());
        iterations += it2;
        best = Some(polished.unwrap_or(nm));
        status = st2;
    }
    let theta = best.unwrap_or_else(|| obj.start());
    let mut grad = vec![0.0; k];
    let nll = obj.neg_ll_grad(&theta, &mut grad);
    let h = hessian(obj, &theta);
    let cov = h.clone().cholesky().map(|c| c.inverse());
    let grad_max = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    let grad_ok = grad_max <= 1e-3 * (1.0 + nll.abs()).sqrt();
    let at_bound = theta.iter().position(|v| v.abs() >= LOG_BOUND - 1e-6);
    let params: IndexMap<String, f64> = names
        .iter()
        .cloned()
        .zip(theta.iter().map(|v| v.exp()))
        .collect();
    let (std_errors, cov_rows, pd) = match &cov {
        Some(c) => (
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), theta[i].exp() * c[(i, i)].max(0.0).sqrt()))
                .collect(),
            (0..k)
                .map(|i| (0..k).map(|j| c[(i, j)]).collect())
                .collect(),
            true,
        ),
        None => (
            names.iter().map(|n| (n.clone(), f64::NAN)).collect(),
            Vec::new(),
            false,
        ),
    };
    let converged = grad_ok && pd && at_bound.is_none();
    let message = if converged {
        format!(
            "converged: largest gradient {grad_max:.1e} after {iterations} iterations ({status})"
        )
    } else if let Some(i) = at_bound {
        format!(
            "did not converge: {} ran off to {} (the likelihood keeps rising towards the boundary); the data may not identify it — too few repeat buyers, or a period too short to see anyone leave. Try more data, a longer calibration period or another model",
            names[i],
            if theta[i] > 0.0 { "infinity" } else { "zero" }
        )
    } else if !pd {
        // The flattest direction is the eigenvector of the smallest eigenvalue; name the
        // parameter that dominates it.
        let eig = h.clone().symmetric_eigen();
        let low = eig.eigenvalues.imin();
        let weak = eig.eigenvectors.column(low).iamax();
        format!(
            "did not converge: the Hessian is not positive definite at the estimate, so standard errors are undefined; the flattest direction involves {}. The model is poorly identified by these data: try more customers or a longer calibration period",
            names[weak]
        )
    } else {
        format!(
            "did not converge: the largest gradient is still {grad_max:.2e} after {iterations} iterations ({status}); the estimates may be imprecise — check for extreme customers (very large x) or rescale time with --time-unit"
        )
    };
    let ll = -nll;
    let n = obj.n_obs();
    Ok(Fitted {
        params,
        std_errors,
        log_param_covariance: cov_rows,
        log_likelihood: ll,
        aic: 2.0 * k as f64 - 2.0 * ll,
        bic: k as f64 * (n.max(1) as f64).ln() - 2.0 * ll,
        n_obs: n,
        converged,
        iterations,
        message,
    })
}

fn lbfgs<O: Objective>(
    problem: &Problem<'_, O>,
    start: Vec<f64>,
) -> (Option<Vec<f64>>, u64, TerminationStatus) {
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-9)
        .and_then(|s| s.with_tolerance_cost(1e-13));
    let Ok(solver) = solver else {
        return (None, 0, TerminationStatus::NotTerminated);
    };
    match Executor::new(Problem::new(problem.obj), solver)
        .configure(|s| s.param(start).max_iters(500))
        .run()
    {
        Ok(res) => {
            let st = res.state();
            (
                st.get_best_param().cloned(),
                st.get_iter(),
                st.get_termination_status().clone(),
            )
        }
        Err(_) => (None, 0, TerminationStatus::NotTerminated),
    }
}

fn nelder_mead<O: Objective>(
    problem: &Problem<'_, O>,
    start: Vec<f64>,
    k: usize,
) -> (Vec<f64>, u64) {
    let mut simplex = vec![start.clone()];
    for i in 0..k {
        let mut v = start.clone();
        v[i] += 0.5;
        simplex.push(v);
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-10);
    let Ok(solver) = solver else {
        return (start, 0);
    };
    match Executor::new(Problem::new(problem.obj), solver)
        .configure(|s| s.max_iters(4000))
        .run()
    {
        Ok(res) => {
            let st = res.state();
            (st.get_best_param().cloned().unwrap_or(start), st.get_iter())
        }
        Err(_) => (start, 0),
    }
}

/// Hessian of −ln L on the log scale by central differences of the gradient, symmetrised.
pub fn hessian(obj: &impl Objective, theta: &[f64]) -> DMatrix<f64> {
    let k = theta.len();
    let h = 1e-4;
    let mut m = DMatrix::zeros(k, k);
    let mut p = theta.to_vec();
    let (mut gu, mut gd) = (vec![0.0; k], vec![0.0; k]);
    for j in 0..k {
        p[j] = theta[j] + h;
        obj.neg_ll_grad(&p, &mut gu);
        p[j] = theta[j] - h;
        obj.neg_ll_grad(&p, &mut gd);
        p[j] = theta[j];
        for i in 0..k {
            m[(i, j)] = (gu[i] - gd[i]) / (2.0 * h);
        }
    }
    (&m + m.transpose()) * 0.5
}
