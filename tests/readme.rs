//! README.md documents every intervention kind and parameter exactly as the code defines them.

#[test]
fn readme_reference_table_matches_the_code() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = twinsim::scenario::intervention::reference_table();
    assert!(
        readme.contains(&table),
        "README.md's intervention table is out of date; replace it with:\n\n{table}"
    );
}
