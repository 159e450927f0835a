//! Engine invariants under random populations and interventions: counts never negative,
//! customers conserved (active = initial + acquired − churned), no purchase after dropout (a
//! debug assertion in the engine, on in tests), nothing changes before an intervention starts,
//! and an intervention whose segment matches nobody changes nothing at all.

use proptest::prelude::*;
use twinsim::engine::{RunOptions, run};
use twinsim::metrics::idx;

const KINDS: [&str; 7] = [
    "kind = \"price_change\"\npercent = 15\nchannel = \"web\"",
    "kind = \"new_channel\"\nname = \"app\"\nattractiveness = 2\naccess_uplift = 0.3",
    "kind = \"close_channel\"\nchannel = \"store\"",
    "kind = \"service_quality\"\nbad_experience = 0.5",
    "kind = \"referral_programme\"\nmultiplier = 3\nreward_cost = 4",
    "kind = \"retention_offer\"\ndropout_multiplier = 0.3\ncost = 0.1",
    "kind = \"marketing_push\"\np_multiplier = 4\ncost = 10",
];

#[allow(clippy::too_many_arguments)]
fn scenario_text(
    customers: u64,
    pareto: bool,
    r: f64,
    kind: usize,
    start: u32,
    segment: &str,
    market: u64,
    seed: u64,
) -> String {
    let purchase = if pareto {
        format!("[population.pareto_nbd]\nr = {r}\nalpha = 3.0\ns = 0.8\nbeta = 10.0\n")
    } else {
        format!("[population.bgnbd]\nr = {r}\nalpha = 3.0\na = 0.9\nb = 2.0\n")
    };
    format!(
        "name = \"prop\"\nhorizon_days = 90\nreplications = 2\nseed = {seed}\n[population]\ncustomers = {customers}\n{purchase}\
         [population.channels]\nnames = [\"web\", \"store\"]\n[population.referral]\nprobability = 0.2\n\
         [population.acquisition]\nmarket_size = {market}\np = 0.05\nq = 0.3\n[metrics]\nprimary = \"revenue\"\n\
         [[intervention]]\n{}\nstart_day = {start}\nsegment = \"{segment}\"\n",
        KINDS[kind]
    )
}

fn run_text(text: &str) -> twinsim::engine::RunResult {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, text).unwrap();
    let s = twinsim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    run(&s, &RunOptions::default(), |_, _| {}).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn counts_conservation_and_windows(
        customers in 1u64..400, pareto in any::<bool>(), r in 0.2f64..3.0, kind in 0usize..7,
        start in 0u32..80, market_extra in 0u64..2000, seed in 0u64..1000,
    ) {
        let text = scenario_text(customers, pareto, r, kind, start, "all", customers + market_extra, seed);
        let res = run_text(&text);
        for arm in [&res.baseline, &res.scenario] {
            for s in &arm.series {
                for d in &s.days {
                    for (i, v) in d.iter().enumerate() {
                        prop_assert!(*v >= 0.0, "metric {} negative: {}", i, v);
                    }
                }
                let end = s.days.last().unwrap()[idx::ACTIVE];
                let acquired = s.total(idx::NEW_EXTERNAL) + s.total(idx::NEW_REFERRED);
                prop_assert_eq!(end, s.initial + acquired - s.total(idx::CHURNED));
                prop_assert!(s.initial <= customers as f64);
            }
        }
        // Before the intervention starts both arms are the same, day by day.
        for (b, c) in res.baseline.series.iter().zip(&res.scenario.series) {
            for day in 0..start as usize {
                prop_assert_eq!(b.days[day], c.days[day], "day {} before start {}", day, start);
            }
        }
    }

    #[test]
    fn an_empty_segment_changes_nothing(kind in 0usize..7, seed in 0u64..1000, pareto in any::<bool>()) {
        // No prospects, so no newcomers: `cohort=newcomer` matches nobody.
        let res = run_text(&scenario_text(300, pareto, 1.0, kind, 5, "cohort=newcomer", 300, seed));
        for (b, c) in res.baseline.series.iter().zip(&res.scenario.series) {
            for (db, dc) in b.days.iter().zip(&c.days) {
                prop_assert_eq!(&db[..idx::INTERVENTION_COST], &dc[..idx::INTERVENTION_COST]);
                prop_assert_eq!(&db[idx::INTERVENTION_COST + 1..], &dc[idx::INTERVENTION_COST + 1..]);
            }
        }
    }
}
