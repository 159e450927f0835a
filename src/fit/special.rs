//! Special functions: ln Γ and ψ (from statrs), the Gauss hypergeometric function 2F1 (by hand:
//! no well-kept crate has a dependable real 2F1), and log-space helpers.

use std::sync::OnceLock;

pub use statrs::function::beta::ln_beta;
pub use statrs::function::gamma::{digamma, ln_gamma};

/// ln(e^a + e^b) without overflow.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// ln(e^a − e^b) for a ≥ b (−∞ when equal).
pub fn log_sub_exp(a: f64, b: f64) -> f64 {
    if b == f64::NEG_INFINITY {
        return a;
    }
    let d = b - a;
    if d >= 0.0 {
        return f64::NEG_INFINITY;
    }
    // ln(1 − e^d): use ln(−expm1(d)) near 0 and ln_1p(−e^d) far from it (Mächler 2012).
    a + if d > -std::f64::consts::LN_2 {
        (-d.exp_m1()).ln()
    } else {
        (-d.exp()).ln_1p()
    }
}

/// Gauss hypergeometric function ₂F₁(a, b; c; z) for real arguments and z < 1.
///
/// Power series for −0.6 ≤ z ≤ 0.95; the Pfaff transformation for z < −0.6; for 0.95 < z < 1 Euler's
/// integral (when c > a > 0 or c > b > 0) by composite Gauss–Legendre quadrature on panels graded
/// towards t = 1, where the integrand peaks; otherwise the series, which still converges for z < 1.
/// Returns NaN for z ≥ 1 or c a non-positive integer.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    if z.is_nan() || z >= 1.0 || (c <= 0.0 && c == c.floor()) {
        return f64::NAN;
    }
    if z == 0.0 || a == 0.0 || b == 0.0 {
        return 1.0;
    }
    // The series converges like z^k: at 0.95 about 700 cheap terms, still far cheaper than
    // the quadrature below.
    if (0.0..=0.95).contains(&z) || z.abs() <= 0.6 {
        return series(a, b, c, z);
    }
    if z < 0.0 {
        let w = z / (z - 1.0);
        return (1.0 - z).powf(-a) * hyp2f1(a, c - b, c, w);
    }
    // c − a is often 1 up to rounding (Pareto/NBD uses c = a + 1).
    if c - a >= 1.0 - 1e-9 && a > 0.0 {
        return euler_integral(b, a, c, z);
    }
    if c - b >= 1.0 - 1e-9 && b > 0.0 {
        return euler_integral(a, b, c, z);
    }
    series(a, b, c, z)
}

fn series(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    for k in 0..200_000 {
        let k = k as f64;
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if term.abs() <= 1e-16 * sum.abs() {
            break;
        }
        if term == 0.0 {
            break;
        }
    }
    sum
}

/// Γ(c)/(Γ(b)Γ(c−b)) ∫₀¹ t^{b−1} (1−t)^{c−b−1} (1−zt)^{−a} dt, with c − b ≥ 1, b > 0.
/// The substitution u = t^b removes the t^{b−1} endpoint singularity.
fn euler_integral(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let ln_norm = ln_gamma(c) - ln_gamma(b) - ln_gamma(c - b) - b.ln();
    let inv_b = 1.0 / b;
    let e = (c - b - 1.0).max(0.0);
    // In logs: (1−t)^e underflows exactly where (1−zt)^−a overflows (large a, z near 1).
    let f = |u: f64| {
        let t = u.powf(inv_b);
        let ln_base = if e < 1e-9 { 0.0 } else { e * (-t).ln_1p() };
        (ln_base - a * (-z * t).ln_1p()).exp()
    };
    // Panels [1−2^{−k}, 1−2^{−k−1}] until the last one is far narrower than the peak near u = 1,
    // whose width is about b(1−z); and [2^{−k−1}, 2^{−k}] towards u = 0, where t = u^{1/b} has a
    // derivative singularity that a single Gauss rule resolves poorly.
    let width = (b * (1.0 - z)).min(1.0);
    let upper = ((1.0 / width).log2().ceil() as i32 + 12).clamp(4, 200);
    let mut total = 0.0;
    let mut hi = 0.5;
    for k in 1..=40 {
        let lo = if k == 40 { 0.0 } else { 0.5f64.powi(k + 1) };
        total += gauss_legendre(&f, lo, hi);
        hi = lo;
    }
    let mut lo = 0.5;
    for k in 2..=upper {
        let hi = if k == upper {
            1.0
        } else {
            1.0 - 0.5f64.powi(k)
        };
        total += gauss_legendre(&f, lo, hi);
        lo = hi;
    }
    total * ln_norm.exp()
}

/// 20-point Gauss–Legendre rule on [lo, hi].
fn gauss_legendre(f: &impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let (nodes, weights) = legendre_rule();
    let mid = 0.5 * (lo + hi);
    let half = 0.5 * (hi - lo);
    nodes
        .iter()
        .zip(weights)
        .map(|(x, w)| w * f(mid + half * x))
        .sum::<f64>()
        * half
}

const GL_POINTS: usize = 20;

/// Nodes and weights by Newton's method on the Legendre polynomial: twenty lines, computed once,
/// cheaper than a dependency for one fixed rule.
pub(crate) fn legendre_rule() -> &'static ([f64; GL_POINTS], [f64; GL_POINTS]) {
    static RULE: OnceLock<([f64; GL_POINTS], [f64; GL_POINTS])> = OnceLock::new();
    RULE.get_or_init(|| {
        let n = GL_POINTS;
        let mut nodes = [0.0; GL_POINTS];
        let mut weights = [0.0; GL_POINTS];
        for i in 0..n {
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut dp = 0.0;
            for _ in 0..100 {
                let (mut p0, mut p1) = (1.0, x);
                for k in 2..=n {
                    let k = k as f64;
                    let p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / dp;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            nodes[i] = x;
            weights[i] = 2.0 / ((1.0 - x * x) * dp * dp);
        }
        (nodes, weights)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_integrates_polynomials_exactly() {
        let v = gauss_legendre(&|x: f64| x.powi(7) + 3.0 * x * x, 0.0, 2.0);
        assert!((v - (256.0 / 8.0 + 8.0)).abs() < 1e-12, "{v}");
    }

    #[test]
    fn hyp2f1_elementary_cases() {
        // 2F1(1,1;2;z) = −ln(1−z)/z
        for z in [-3.0, -0.9, -0.3, 0.2, 0.55, 0.7, 0.9, 0.99, 0.999_999] {
            let want = -(1.0f64 - z).ln() / z;
            let got = hyp2f1(1.0, 1.0, 2.0, z);
            assert!((got / want - 1.0).abs() < 1e-12, "z={z}: {got} vs {want}");
        }
        // 2F1(a,b;b;z) = (1−z)^−a
        let got = hyp2f1(2.5, 3.0, 3.0, 0.8);
        assert!((got / 0.2f64.powf(-2.5) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn log_helpers() {
        assert!((log_add_exp(1.0, 2.0) - (1f64.exp() + 2f64.exp()).ln()).abs() < 1e-14);
        assert!((log_sub_exp(2.0, 1.0) - (2f64.exp() - 1f64.exp()).ln()).abs() < 1e-14);
        assert_eq!(log_sub_exp(1.0, 1.0), f64::NEG_INFINITY);
    }
}
