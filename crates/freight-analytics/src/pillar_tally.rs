//! The four pillars' rows tallied in Rust straight from the attribution and the period's
//! outputs: what [`crate::pillars::PILLARS_SQL`] gives over the fact tables, key for key and
//! digit for digit, without building them. A server answers a new period in a fraction of
//! the time the facts and the SQL took; the SQL stays the reference (a test holds the two
//! equal for every cut) and what `--facts-dir` hands to other engines.

use crate::attribution::{Attribution, Fate};
use crate::engine::AnalyticsError;
use crate::pillars::{Cut, FactSum, NO_COST_CENTRE, NO_REPO, OptimizableBySession, Output};
use crate::pillars::{PillarSums, SpendSums, UsageSums};
use crate::scope::Scope;
use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{Float64Type, UInt64Type};
use freight_core::org::Member;

/// The value of a fact row's column `cut` (the total's one key is `all`).
fn key_of<'a>(cut: Option<Cut>, member: &'a Member, repo: &'a str, tool: &'a str, model: &'a str) -> &'a str {
    match cut {
        None => "all",
        Some(Cut::Team) => &member.team,
        Some(Cut::Person) => &member.person,
        Some(Cut::CostCentre) => member.cost_centre.as_deref().unwrap_or(NO_COST_CENTRE),
        Some(Cut::Repo) => repo,
        Some(Cut::Tool) => tool,
        Some(Cut::Model) => model,
    }
}

/// The `s` part's sums of a key, by fate and evidence, in [`SpendSums`]' order.
#[derive(Default)]
struct SpendTally {
    cost: FactSum,
    by_fate: [FactSum; 5],
    exact: FactSum,
    heuristic: FactSum,
}

#[derive(Default)]
struct Tally<'a> {
    spend: Option<SpendTally>,
    usage: Option<UsageSums>,
    optimizable: FactSum,
    /// The last session counted in `usage.sessions` (a session's rows come together).
    last_session: Option<usize>,
    people: foldhash::HashSet<&'a str>,
    output: Output,
}

/// The rows [`crate::pillars::pillar_rows`] would give for `cut` over the facts of
/// `attribution` (with `optimizable` per session and model), its spend and usage rows kept
/// only when `scope` admits them, and `outputs` (the period's `outputs` rows `scope` admits):
/// in key order.
pub fn pillar_sums(
    attribution: &Attribution,
    optimizable: &OptimizableBySession<'_>,
    outputs: &RecordBatch,
    scope: &Scope,
    cut: Option<Cut>,
) -> Result<Vec<PillarSums>, AnalyticsError> {
    let mut keys: foldhash::HashMap<&str, Tally> = Default::default();
    let sessions = &attribution.sessions;
    let scoped = !scope.is_everything();

    // `spend`: one row per share.
    for share in &attribution.shares {
        let session = &sessions[share.session];
        let repo = share.repo(sessions);
        if scoped && !scope.admits(&session.member, repo, &session.tool, &share.model) {
            continue;
        }
        let key = key_of(cut, &session.member, repo, &session.tool, &share.model);
        let spend = keys.entry(key).or_default().spend.get_or_insert_with(SpendTally::default);
        spend.cost.add(share.amount);
        let fate = match share.fate {
            Fate::Shipped => 0,
            Fate::Reverted => 1,
            Fate::Rejected => 2,
            Fate::NeverShipped => 3,
            Fate::Pending => 4,
        };
        spend.by_fate[fate].add(share.amount);
        match share.evidence {
            Some("exact") => spend.exact.add(share.amount),
            Some("heuristic") => spend.heuristic.add(share.amount),
            _ => {}
        }
    }

    // `session_usage`: one row per (session, model).
    for (index, session) in sessions.iter().enumerate() {
        let repo = session.repo.as_deref().unwrap_or(NO_REPO);
        for usage in &session.models {
            if scoped && !scope.admits(&session.member, repo, &session.tool, &usage.model) {
                continue;
            }
            let key = key_of(cut, &session.member, repo, &session.tool, &usage.model);
            let tally = keys.entry(key).or_default();
            let sums = tally.usage.get_or_insert_with(UsageSums::default);
            sums.tokens += usage.tokens;
            sums.calls += usage.calls;
            sums.unpriced_calls += usage.unpriced_calls;
            if let Some(&saving) = optimizable.get(&(index, usage.model.as_str())) {
                tally.optimizable.add(saving);
            }
            if tally.last_session != Some(index) {
                tally.last_session = Some(index);
                sums.sessions += 1;
            }
            tally.people.insert(&session.member.person);
        }
    }

    // `outputs`: the period's rows, in order (a float sum depends on it, as SQL's does).
    let column = |name: &'static str| outputs.column_by_name(name).ok_or(AnalyticsError::Column(name));
    let text = |name: &'static str| -> Result<&StringArray, AnalyticsError> {
        column(name)?.as_string_opt::<i32>().ok_or(AnalyticsError::Column(name))
    };
    let count = |name: &'static str| {
        column(name)?.as_primitive_opt::<UInt64Type>().ok_or(AnalyticsError::Column(name)).map(|a| a.values())
    };
    let flag = |name: &'static str| column(name)?.as_boolean_opt().ok_or(AnalyticsError::Column(name));
    let (kind, quantity) = (
        text("kind")?,
        column("quantity")?.as_primitive_opt::<Float64Type>().ok_or(AnalyticsError::Column("quantity"))?,
    );
    let (ai, deployed) = (flag("ai")?, flag("deployed")?);
    let (lines, surviving, reworked) = (count("lines_added")?, count("surviving_lines")?, count("reworked_lines")?);
    let key_column = match cut {
        None => None,
        Some(cut) => Some(text(cut.column())?),
    };
    for row in 0..outputs.num_rows() {
        let key = match key_column {
            None => "all",
            Some(values) => values.value(row),
        };
        let output = &mut keys.entry(key).or_default().output;
        // SUM skips NULLs; none of these columns has any.
        let amount = if quantity.is_valid(row) { quantity.value(row) } else { 0.0 };
        let is_ai = ai.is_valid(row) && ai.value(row);
        match kind.value(row) {
            "commit" => {
                output.commits += amount;
                output.lines_added += lines[row];
                if is_ai {
                    output.ai_commits += amount;
                    output.ai_lines_added += lines[row];
                    output.surviving_ai_lines += surviving[row];
                    output.reworked_ai_lines += reworked[row];
                    if deployed.is_valid(row) && deployed.value(row) {
                        output.deployed_ai_commits += amount;
                    }
                }
            }
            "merged_pr" => output.merged_prs += amount,
            "rejected_pr" => output.rejected_prs += amount,
            "ticket" => output.tickets += amount,
            "deploy" => output.deploys += amount,
            "failed_deploy" => output.failed_deploys += amount,
            "incident" => output.incidents += amount,
            "event" => output.other_outcomes += 1,
            _ => {}
        }
    }

    let mut rows: Vec<PillarSums> = keys
        .into_iter()
        .map(|(key, mut tally)| {
            if let Some(usage) = tally.usage.as_mut() {
                usage.people = tally.people.len() as u64;
                usage.optimizable = tally.optimizable.money();
            }
            let spend = tally.spend.map(|spend| {
                let [shipped, reverted, rejected, never_shipped, pending] = spend.by_fate.map(FactSum::money);
                SpendSums {
                    cost: spend.cost.money(),
                    shipped,
                    reverted,
                    rejected,
                    never_shipped,
                    pending,
                    exact_linked: spend.exact.money(),
                    heuristic_linked: spend.heuristic.money(),
                }
            });
            PillarSums { key: key.to_string(), spend, usage: tally.usage, output: tally.output }
        })
        .collect();
    rows.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::{Outcomes, SessionSpend, Share};
    use crate::pillars::{Facts, OutputWindow, facts, outputs_as_of, pillar_sums as sql_sums, register_facts};
    use crate::usage::ModelUsage;
    use freight_core::link::OutcomeRef;
    use freight_core::org::{Directory, PersonEntry};
    use freight_core::outcome::{Commit, Deploy, Incident, OutcomeEvent, PullRequest, SessionTrailer, Ticket};
    use freight_core::{Money, TokenCounts};
    use std::collections::BTreeSet;
    use std::sync::Arc;

    /// A small deterministic generator (xorshift), so each seed is one organisation.
    struct Pick(u64);

    impl Pick {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn of<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len() as u64) as usize]
        }
    }

    const PEOPLE: [&str; 5] = ["ana", "bo", "cy", "di", "ed"];
    const REPOS: [&str; 3] = ["api", "web", "ops"];
    const MODELS: [&str; 3] = ["opus", "sonnet", "haiku"];

    fn directory() -> Directory {
        let person = |id: &str, team: Option<&str>, cost_centre: Option<&str>| PersonEntry {
            id: id.into(),
            name: None,
            emails: vec![format!("{id}@example.com")],
            accounts: Vec::new(),
            team: team.map(str::to_string),
            cost_centre: cost_centre.map(str::to_string),
        };
        Directory::new(
            vec![
                person("ana", Some("web"), Some("cc-1")),
                person("bo", Some("web"), None),
                person("cy", Some("data"), Some("cc-2")),
                person("di", None, None),
            ],
            Vec::new(),
        )
        .expect("directory")
    }

    /// Sessions with spend on one to three models (some unpriced), shares of every fate and
    /// evidence (outcomes in other repositories too), and every kind of output.
    fn organisation(seed: u64, directory: &Directory) -> (Attribution, Vec<(usize, String, Money)>, Outcomes) {
        let mut pick = Pick(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let money = |pick: &mut Pick| Money::new(pick.below(10_000_000) as i64, 1 + pick.below(10) as u32);
        let mut sessions = Vec::new();
        let mut shares = Vec::new();
        let mut optimizable = Vec::new();
        for index in 0..40 {
            let person = pick.of(&PEOPLE);
            let mut models: Vec<&str> = MODELS.iter().copied().filter(|_| pick.below(2) == 0).collect();
            if models.is_empty() {
                models.push("sonnet");
            }
            let usage: Vec<ModelUsage> = models
                .iter()
                .map(|model| ModelUsage {
                    model: (*model).into(),
                    tokens: TokenCounts {
                        input: pick.below(1_000_000),
                        output: pick.below(100_000),
                        cache_read: pick.below(10_000_000),
                        cache_write_5m: pick.below(100_000),
                        cache_write_1h: pick.below(10_000),
                        reasoning: pick.below(1_000),
                    },
                    cost: money(&mut pick),
                    calls: 1 + pick.below(300),
                    unpriced_calls: pick.below(3),
                })
                .collect();
            for model in &models {
                if pick.below(3) == 0 {
                    optimizable.push((index, (*model).to_string(), money(&mut pick)));
                }
                for _ in 0..pick.below(4) {
                    let outcome = match pick.below(3) {
                        0 => None,
                        1 => Some(OutcomeRef::Commit {
                            repo: pick.of(&REPOS).into(),
                            sha: format!("c{}", pick.below(50)),
                        }),
                        _ => Some(OutcomeRef::PullRequest { repo: pick.of(&REPOS).into(), number: pick.below(20) }),
                    };
                    let evidence = outcome.as_ref().map(|_| if pick.below(2) == 0 { "exact" } else { "heuristic" });
                    shares.push(Share {
                        session: index,
                        model: (*model).into(),
                        outcome,
                        fate: Fate::ALL[pick.below(5) as usize],
                        evidence,
                        amount: money(&mut pick),
                    });
                }
            }
            sessions.push(SessionSpend {
                session: format!("s{index}"),
                tool: if pick.below(4) == 0 { "codex".into() } else { "claude-code".into() },
                member: directory.resolve(&format!("{person}@example.com")),
                repo: (pick.below(4) != 0).then(|| pick.of(&REPOS).to_string()),
                first_ts: 0,
                last_ts: 0,
                models: usage,
            });
        }
        let at = |pick: &mut Pick| 1_000 + pick.below(9_000) as i64;
        let commits = (0..60)
            .map(|index| {
                let ai = pick.below(2) == 0;
                Commit {
                    repo: pick.of(&REPOS).into(),
                    sha: format!("c{index}"),
                    author_name: "someone".into(),
                    author_email: format!("{}@example.com", pick.of(&PEOPLE)),
                    authored_at: 0,
                    committed_at: at(&mut pick),
                    summary: String::new(),
                    parents: if pick.below(10) == 0 { 2 } else { 1 },
                    lines_added: pick.below(500),
                    lines_removed: pick.below(100),
                    files_changed: 1,
                    agents: Vec::new(),
                    sessions: if ai {
                        vec![SessionTrailer { trailer: "Freight-Session".into(), session: format!("s{index}") }]
                    } else {
                        Vec::new()
                    },
                    reverts: None,
                }
            })
            .collect();
        let pulls = (0..20)
            .map(|number| {
                let closed = at(&mut pick);
                let merged = pick.below(3) != 0;
                PullRequest {
                    repo: pick.of(&REPOS).into(),
                    number,
                    author: format!("{}@example.com", pick.of(&PEOPLE)),
                    head_branch: None,
                    opened_at: 0,
                    merged_at: merged.then_some(closed),
                    closed_at: (pick.below(5) != 0).then_some(closed),
                    merge_sha: None,
                    lines_added: pick.below(300),
                    lines_removed: 0,
                    review_minutes: None,
                }
            })
            .collect();
        let tickets = (0..25)
            .map(|index| Ticket {
                id: format!("t{index}"),
                team: (pick.below(3) != 0).then(|| pick.of(&["web", "data", "ghosts"]).to_string()),
                person: (pick.below(2) == 0).then(|| format!("{}@example.com", pick.of(&PEOPLE))),
                resolved_at: at(&mut pick),
                weight: [1.0, 0.5, 0.1, 3.0, 0.7][pick.below(5) as usize],
            })
            .collect();
        let deploys = (0..10)
            .map(|_| Deploy {
                repo: pick.of(&REPOS).into(),
                sha: None,
                environment: "production".into(),
                succeeded: pick.below(4) != 0,
                at: at(&mut pick),
                creator: (pick.below(2) == 0).then(|| format!("{}@example.com", pick.of(&PEOPLE))),
            })
            .collect();
        let incidents = (0..6)
            .map(|index| Incident {
                id: format!("i{index}"),
                repo: (pick.below(2) == 0).then(|| pick.of(&REPOS).to_string()),
                team: (pick.below(2) == 0).then(|| "web".to_string()),
                opened_at: at(&mut pick),
                resolved_at: None,
                caused_by: None,
            })
            .collect();
        let events = (0..8)
            .map(|_| OutcomeEvent {
                kind: "campaign".into(),
                person: (pick.below(2) == 0).then(|| format!("{}@example.com", pick.of(&PEOPLE))),
                team: (pick.below(2) == 0).then(|| "data".to_string()),
                at: at(&mut pick),
                value: [0.1, 0.2, 2.5][pick.below(3) as usize],
                unit: "count".into(),
            })
            .collect();
        let outcomes = Outcomes { commits, pulls, tickets, deploys, incidents, events, ..Outcomes::default() };
        (Attribution { sessions, shares, ..Attribution::default() }, optimizable, outcomes)
    }

    /// Rows as the report prints them, so a zero's scale counts ("0" against "0.000…").
    fn printed(sums: Vec<PillarSums>) -> Vec<String> {
        sums.into_iter().map(|sums| serde_json::to_string(&sums.into_row()).expect("json")).collect()
    }

    #[test]
    fn tallies_equal_the_pillar_sql_over_the_facts_for_every_cut_and_scope() {
        let directory = directory();
        let catalog = freight_core::PriceCatalog::pinned().expect("catalog");
        let schema = Arc::new(crate::columns::test_usage_schema(Vec::new()));
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let engine = runtime
            .block_on(crate::Engine::new(schema.clone(), vec![RecordBatch::new_empty(schema)], &catalog))
            .expect("engine");
        let set = |values: &[&str]| Some(values.iter().map(|v| v.to_string()).collect::<BTreeSet<String>>());
        let scopes = [
            Scope::everything(),
            Scope { teams: set(&["web"]), ..Scope::default() },
            Scope { people: set(&["cy", "ed@example.com"]), ..Scope::default() },
            Scope { repos: set(&["api", NO_REPO]), ..Scope::default() },
            Scope { models: set(&["opus"]), tools: set(&["claude-code"]), ..Scope::default() },
            Scope { cost_centres: set(&["cc-1", NO_COST_CENTRE]), ..Scope::default() },
        ];
        let cuts = [None, Some(Cut::Team), Some(Cut::Person), Some(Cut::CostCentre), Some(Cut::Repo)];
        let cuts = cuts.into_iter().chain([Some(Cut::Tool), Some(Cut::Model)]);
        let cuts: Vec<Option<Cut>> = cuts.collect();
        let mut compared = 0;
        for seed in 1..=3 {
            let (whole, optimizable, outcomes) = organisation(seed, &directory);
            let optimizable: OptimizableBySession<'_> =
                optimizable.iter().map(|(session, model, amount)| ((*session, model.as_str()), *amount)).collect();
            let as_of = 9_000;
            let kept = outputs_as_of(&outcomes, &directory, as_of).expect("outputs");
            let window = OutputWindow { from: Some(2_000), to: Some(8_000), as_of };
            for scope in &scopes {
                let attribution = if scope.is_everything() { whole.clone() } else { scope.attribution(&whole) };
                let Facts { spend, session_usage, outputs } =
                    scope.facts(facts(&attribution, &optimizable, &kept, &window).expect("facts")).expect("scoped");
                assert!(outputs.num_rows() > 0 || !scope.is_everything());
                let registered = Facts { spend, session_usage, outputs: outputs.clone() };
                register_facts(&engine, &registered).expect("register");
                for &cut in &cuts {
                    let by_sql = runtime.block_on(sql_sums(&engine, cut)).expect("sql");
                    let tallied = pillar_sums(&attribution, &optimizable, &outputs, scope, cut).expect("tally");
                    assert_eq!(printed(tallied), printed(by_sql), "seed {seed}, cut {cut:?}, scope {scope:?}");
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 3 * 6 * 7);
    }
}
