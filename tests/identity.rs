//! One person seen as an email on the web, a phone number in the store and a user id in the
//! app is one customer with all purchases; raw identifiers never reach an output file.

mod common;

use common::{json, twinsim};

#[test]
fn email_phone_and_user_id_are_one_customer() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.csv");
    std::fs::write(
        &log,
        "email,phone,user_id,timestamp,channel,amount\n\
         ann@example.com,,,2025-01-02,web,10\n\
         ,+15550001,,2025-01-09,store,20\n\
         ,,ann_app,2025-01-16,app,30\n\
         ann@example.com,+15550001,,2025-01-23,web,40\n\
         ,+15550001,ann_app,2025-02-01,app,50\n\
         bob@example.com,,,2025-01-05,web,15\n\
         ,+15550002,,2025-01-20,store,25\n",
    )
    .unwrap();
    let model = dir.path().join("out/model.json");
    twinsim()
        .arg("fit")
        .arg(&log)
        .args([
            "--id-cols",
            "email,phone,user_id",
            "--observation-end",
            "2025-03-01",
            "-o",
        ])
        .arg(&model)
        .assert()
        .code(predicates::ord::ge(0));
    let m = json(&model);
    // ann (three identities), bob's email and the unlinked phone +15550002: three customers.
    assert_eq!(m["data"]["customers"], 3);
    assert_eq!(m["data"]["identifiers"], 5);
    let customers = std::fs::read_to_string(dir.path().join("out/model.customers.csv")).unwrap();
    let mut freq: Vec<(u32, String)> = customers
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].parse::<f64>().unwrap() as u32, f[9..].join(","))
        })
        .collect();
    freq.sort();
    // ann: first purchase plus four repeats, in all three channels (web, store, app columns).
    assert_eq!(freq.last().unwrap(), &(4, "2,1,2".to_string()));
    for raw in ["ann@", "ann_app", "example.com", "+1555", "bob@"] {
        assert!(
            !customers.contains(raw),
            "raw identifier '{raw}' leaked into the customers file"
        );
        assert!(!std::fs::read_to_string(&model).unwrap().contains(raw));
    }
}

#[test]
fn keys_are_salted() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("e.csv");
    std::fs::write(
        &log,
        "customer_id,timestamp\na,2025-01-01\na,2025-01-05\nb,2025-01-02\n",
    )
    .unwrap();
    let key_with = |salt: &str| {
        let model = dir.path().join(format!("{salt}/model.json"));
        twinsim()
            .arg("fit")
            .arg(&log)
            .args(["--salt", salt, "-o"])
            .arg(&model)
            .assert()
            .code(predicates::ord::ge(0));
        std::fs::read_to_string(dir.path().join(format!("{salt}/model.customers.csv"))).unwrap()
    };
    assert_eq!(key_with("one"), key_with("one"));
    assert_ne!(key_with("one"), key_with("two"));
}
