//! Property tests: the CSV reader never panics, whatever the bytes, and what it accepts is sane.

use proptest::prelude::*;
use twinsim::data::{BadRowPolicy, ColumnSpec, Delimiter, IngestOptions, read_event_log};

fn opts(delimiter: Delimiter, policy: BadRowPolicy) -> IngestOptions {
    IngestOptions {
        columns: ColumnSpec {
            id_cols: vec!["customer_id".into(), "email".into()],
            ..ColumnSpec::default()
        },
        delimiter,
        header: true,
        names: None,
        on_bad_row: policy,
    }
}

fn row() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        Just(String::new()),
        "[a-z0-9@.]{1,8}",
        "(19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]",
        "[0-9]{8}",
        "-?[0-9]{1,4}(\\.[0-9]{1,2})?",
        "\"[^\"]{0,5}\"?",
        any::<String>(),
    ];
    proptest::collection::vec(field, 0..6).prop_map(|f| f.join(","))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), ws in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        let mut content = b"customer_id,email,timestamp,amount,channel\n".to_vec();
        content.extend(bytes);
        std::fs::write(&p, content).unwrap();
        let d = if ws { Delimiter::Whitespace } else { Delimiter::Byte(b',') };
        for policy in [BadRowPolicy::Stop, BadRowPolicy::Skip] {
            let _ = read_event_log(&p, &opts(d, policy));
        }
    }

    #[test]
    fn rows_are_accepted_or_rejected_never_lost(rows in proptest::collection::vec(row(), 0..30)) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        let text = format!("customer_id,email,timestamp,amount,channel\n{}\n", rows.join("\n"));
        std::fs::write(&p, text).unwrap();
        if let Ok(log) = read_event_log(&p, &opts(Delimiter::Byte(b','), BadRowPolicy::Skip)) {
            prop_assert_eq!(log.rows_read as usize, log.events.len() + log.rejected.len() + log.rows_other_events as usize);
            for e in &log.events {
                prop_assert!(e.amount.is_nan() || e.amount >= 0.0);
            }
        }
    }
}
