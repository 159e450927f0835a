//! Likelihood-ratio tests between nested fits: 2·(ln L_full − ln L_restricted) ~ χ²(df).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// One likelihood-ratio test, as `model.json` stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LrTest {
    /// What is tested, in words.
    pub question: String,
    /// 2·(ln L_full − ln L_restricted).
    pub statistic: f64,
    /// Degrees of freedom: extra parameters of the full model.
    pub df: u32,
    /// P(χ²(df) ≥ statistic).
    pub p_value: f64,
    /// Whether the restricted model is rejected at the 5% level.
    pub differs: bool,
}

/// Tests whether the `full` model (log-likelihood, `df` more parameters) fits better than the
/// `restricted` one nested in it.
pub fn lr_test(question: impl Into<String>, restricted: f64, full: f64, df: u32) -> LrTest {
    // A full model can only fit at least as well; a tiny negative value is optimiser noise.
    let statistic = (2.0 * (full - restricted)).max(0.0);
    let p_value = ChiSquared::new(df.max(1) as f64)
        .map(|c| 1.0 - c.cdf(statistic))
        .unwrap_or(f64::NAN);
    LrTest {
        question: question.into(),
        statistic,
        df,
        p_value,
        differs: p_value < 0.05,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi_square_tail() {
        // χ²(1) 95th percentile is 3.841; χ²(4) is 9.488.
        assert!((lr_test("q", 0.0, 3.841 / 2.0, 1).p_value - 0.05).abs() < 1e-3);
        assert!((lr_test("q", 0.0, 9.488 / 2.0, 4).p_value - 0.05).abs() < 1e-3);
        assert!(!lr_test("q", -10.0, -10.0, 2).differs);
    }
}
