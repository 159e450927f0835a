//! 2F1 against 30-digit mpmath values (tests/data/hyp2f1_reference.py makes the table).

use twinsim::fit::special::hyp2f1;

#[test]
fn hyp2f1_matches_mpmath() {
    let text = include_str!("data/hyp2f1_reference.csv");
    let mut worst: f64 = 0.0;
    for line in text.lines().skip(1) {
        let v: Vec<f64> = line.split(',').map(|s| s.parse().unwrap()).collect();
        let got = hyp2f1(v[0], v[1], v[2], v[3]);
        let rel = (got / v[4] - 1.0).abs();
        worst = worst.max(rel);
        assert!(
            rel < 1e-10,
            "2F1({}, {}, {}; {}) = {got}, mpmath {}: rel. error {rel:e}",
            v[0],
            v[1],
            v[2],
            v[3],
            v[4]
        );
    }
    eprintln!("worst relative error {worst:e}");
}
