//! Order statistics of measured times, for the benchmark and the logs.

/// Median and 99th percentile of `values` (sorted in place).
pub fn median_p99(values: &mut [f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p99() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).rev().collect();
        let (m, p) = median_p99(&mut v);
        assert_eq!(m, 51.0); // index round(99*0.5)=50 → 51
        assert_eq!(p, 99.0);
        assert!(median_p99(&mut []).0.is_nan());
    }
}
