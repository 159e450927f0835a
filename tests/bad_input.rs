//! Bad input stops the run with `FILE:LINE: field: reason` and exit code 2; `--on-bad-row skip`
//! copies bad rows unchanged to rejected.csv and counts them; outputs are written atomically.

mod common;

use common::{json, twinsim};
use predicates::prelude::*;

const GOOD: &str =
    "customer_id,timestamp,amount\nc1,2025-01-01,10.5\nc1,2025-02-01,12\nc2,2025-01-03,8\n";

fn run_with(bad_row: &str, expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.csv");
    std::fs::write(&log, format!("{GOOD}{bad_row}\nc2,2025-03-01,9\n")).unwrap();
    let model = dir.path().join("model.json");
    std::fs::write(&model, "previous contents").unwrap();
    let shown = format!("{}:5: {expect}", log.display());
    twinsim()
        .arg("fit")
        .arg(&log)
        .arg("-o")
        .arg(&model)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(shown));
    assert_eq!(
        std::fs::read_to_string(&model).unwrap(),
        "previous contents",
        "a failed run must not touch outputs"
    );
}

#[test]
fn malformed_date() {
    run_with(
        "c3,2025-13-45,5",
        "timestamp: '2025-13-45' is not a valid date",
    );
}

#[test]
fn negative_amount() {
    run_with("c3,2025-01-04,-5", "amount: negative amount -5");
}

#[test]
fn missing_id() {
    run_with(",2025-01-04,5", "customer_id: missing id");
}

#[test]
fn wrong_column_count() {
    run_with("c3,2025-01-04", "row: expected 3 fields");
}

#[test]
fn skip_writes_rejected_rows_unchanged_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.csv");
    let bad = [
        "c3,2025-13-45,5",
        "c4,2025-01-04,-5",
        ",2025-01-04,5",
        "c5,2025-01-04",
        "\"unterminated,2025-01-01,1",
    ];
    let mut text = GOOD.to_string();
    for b in &bad[..4] {
        text.push_str(b);
        text.push('\n');
    }
    text.push_str("c2,2025-03-01,9\n");
    std::fs::write(&log, &text).unwrap();
    let model = dir.path().join("out/model.json");
    twinsim()
        .arg("fit")
        .arg(&log)
        .args(["--on-bad-row", "skip", "-o"])
        .arg(&model)
        .assert()
        .code(predicate::in_iter([0, 3]));
    let m = json(&model);
    assert_eq!(m["data"]["rows_rejected"], 4);
    assert_eq!(m["data"]["rows_read"], 8);
    let rejected = std::fs::read_to_string(dir.path().join("out/rejected.csv")).unwrap();
    assert_eq!(rejected, bad[..4].join("\n") + "\n");
}

#[test]
fn missing_file_and_unknown_column() {
    twinsim()
        .args(["fit", "no/such/file.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/file.csv"));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.csv");
    std::fs::write(&log, GOOD).unwrap();
    twinsim()
        .arg("fit")
        .arg(&log)
        .args(["--amount-col", "dollars"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "'dollars' is not a column; the columns are: customer_id, timestamp, amount",
        ));
}
