//! `freight eval` on a labelled organisation generated with a seed other than the one the
//! detectors were developed on (7): each tokenmaxxing flag's precision and recall, honest heavy
//! users left alone, and the optimizable figure against the generator's truth.

use crate::support::freight_json;
use serde_json::Value;

const SEED: &str = "20261124";

fn number(value: &Value) -> f64 {
    value.as_f64().or_else(|| value.as_str().and_then(|text| text.parse().ok())).unwrap_or(f64::NAN)
}

#[test]
fn flags_and_optimizable_cost_match_the_generators_truth() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("org");
    let evaluation = freight_json(&["eval", "--seed", SEED, "--out", out.to_str().expect("utf-8"), "--json"]);
    let flags = evaluation["flags"].as_array().expect("flags");
    assert_eq!(flags.len(), 6, "{evaluation:#}");
    for flag in flags {
        let name = flag["flag"].as_str().expect("name");
        assert!(flag["labelled"].as_u64().expect("labelled") >= 3, "{name}: too few labelled people to score");
        let (precision, recall) = (number(&flag["precision"]), number(&flag["recall"]));
        assert!(precision >= 0.9, "{name}: precision {precision} below 0.9: {flag}");
        assert!(recall >= 0.8, "{name}: recall {recall} below 0.8: {flag}");
    }
    assert_eq!(evaluation["honest_heavy_flagged"], 0, "honest heavy users with high output were flagged");
    assert!(evaluation["honest_heavy_people"].as_u64().expect("heavy") >= 10);
    let figure = |name: &str| {
        evaluation["figures"].as_array().expect("figures").iter().find(|f| f["figure"] == name).cloned().expect(name)
    };
    let optimizable = figure("optimizable");
    assert!(number(&optimizable["truth"]) > 0.0);
    assert!(number(&optimizable["error"]) <= 0.05, "optimizable off by more than 5%: {optimizable}");
    // Spend is read exactly; so are the caching and restart savings, which need no class.
    assert!(number(&figure("cost")["error"]) < 1e-9, "{}", figure("cost"));
    assert!(number(&figure("optimizable_caching")["error"]) < 1e-6, "{}", figure("optimizable_caching"));
    assert!(number(&figure("optimizable_restart")["error"]) < 1e-6, "{}", figure("optimizable_restart"));
    // Where every cheaper tier did worse (large changes), nothing moves and nothing is saved.
    let cells = evaluation["cells"].as_array().expect("cells");
    let large: Vec<&Value> = cells.iter().filter(|c| c["class"] == "large_change").collect();
    assert!(!large.is_empty());
    for cell in large {
        assert!(cell["true_move"].is_null() && cell["freight_move"].is_null(), "{cell}");
        assert_eq!(number(&cell["freight_saving"]), 0.0, "{cell}");
    }
    // Every decision the truth makes, freight makes.
    for cell in cells {
        assert_eq!(cell["true_move"], cell["freight_move"], "{cell}");
    }
    // The dataset it wrote reports the same flags through `freight report --dataset`.
    let report = freight_json(&[
        "report",
        "--dataset",
        out.to_str().expect("utf-8"),
        "--org",
        out.join("org.toml").to_str().expect("utf-8"),
        "--as-of",
        "2026-10-01T00:00:00Z",
        "--no-survival",
        "--json",
    ]);
    let flagged = report["flags"].as_array().expect("flags").len() as u64;
    let counted: u64 = flags.iter().map(|f| f["flagged"].as_u64().unwrap_or(0)).sum();
    assert_eq!(flagged, counted, "report --dataset shows other flags than eval scored");
    // Each summary reads as one sentence: its text is split over source lines, not here.
    for flag in report["flags"].as_array().expect("flags") {
        let summary = flag["summary"].as_str().expect("summary");
        assert!(!summary.contains("  ") && !summary.contains('\n') && !summary.contains('\\'), "{summary:?}");
    }
    assert!(report["behaviours"]["by_team"].as_array().is_some_and(|teams| !teams.is_empty()));
}
