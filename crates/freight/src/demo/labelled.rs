//! A labelled organisation for `freight eval`: honest people (some of them heavy users who ship
//! much), and people with each tokenmaxxing behaviour injected — looping agents, scripted
//! cadence, spend with nothing shipped, frontier models on one-line questions, split pull
//! requests and trivial tickets, a shared account. Every session has a task class, a model
//! tier and a fate drawn from a known table of outcome rates, so the generator knows the truth
//! the detectors and the optimizable and wasted figures are measured against.

use freight_analytics::attribution::Outcomes;
use freight_analytics::tokenmaxxing::FlagKind;
use freight_core::link::RepoPlace;
use freight_core::outcome::{AiAgent, Commit, Millis, PullRequest, SessionTrailer, Ticket};
use freight_core::{Actions, Money, PriceCatalog, Speed, TokenCounts, Tool, UsageEvent};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;

/// The models of the three tiers (the default portfolio's).
pub const TIER_MODELS: [&str; 3] =
    ["claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"];

/// How a person works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Honest,
    /// Many long sessions, two or three at once, frontier models, long days — and much shipped.
    HonestHeavy,
    Looping,
    Scripted,
    NoOutcome,
    FrontierTrivial,
    SplitPulls,
    TrivialTickets,
    SharedAccount,
}

impl Profile {
    /// The flag a profile should raise (none for honest people).
    pub fn flag(self) -> Option<FlagKind> {
        match self {
            Profile::Honest | Profile::HonestHeavy => None,
            Profile::Looping => Some(FlagKind::IdleLoop),
            Profile::Scripted => Some(FlagKind::MachineCadence),
            Profile::NoOutcome => Some(FlagKind::SpendNoOutcome),
            Profile::FrontierTrivial => Some(FlagKind::FrontierTrivial),
            Profile::SplitPulls | Profile::TrivialTickets => Some(FlagKind::OutputInflation),
            Profile::SharedAccount => Some(FlagKind::SharedAccount),
        }
    }
}

/// Task classes as the generator makes them (the same names as `routing::TaskClass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Question,
    Investigation,
    SmallChange,
    Feature,
    LargeChange,
}

const CLASSES: [Class; 5] =
    [Class::Question, Class::Investigation, Class::SmallChange, Class::Feature, Class::LargeChange];

/// The chance a session of a class on a tier (frontier, standard, economy) ships: where the
/// cheaper tiers do as well, and where they do worse.
fn ship_rate(class: Class, tier: usize) -> f64 {
    let rates = match class {
        Class::Question => [0.92, 0.92, 0.91],
        Class::Investigation => [0.55, 0.54, 0.30],
        Class::SmallChange => [0.85, 0.85, 0.84],
        Class::Feature => [0.70, 0.69, 0.35],
        Class::LargeChange => [0.60, 0.35, 0.20],
    };
    rates[tier]
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelledPlan {
    pub seed: u64,
    pub people: u64,
    pub weeks: u64,
    /// The report's as-of time; activity ends ten days before it (past the ship grace).
    pub end: Millis,
}

impl LabelledPlan {
    pub fn start(&self) -> Millis {
        self.activity_end() - self.weeks as Millis * 7 * DAY
    }

    pub fn activity_end(&self) -> Millis {
        (self.end - 10 * DAY).div_euclid(DAY) * DAY
    }
}

/// One person of the organisation.
#[derive(Debug, Clone, Serialize)]
pub struct PersonTruth {
    pub person: String,
    pub email: String,
    pub team: String,
    pub profile: Profile,
}

/// What the generator knows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LabelledTruth {
    pub people: Vec<PersonTruth>,
    pub sessions: u64,
    pub calls: u64,
    pub cost: Money,
    /// Spend of sessions whose work did not ship (never shipped, rejected, reverted).
    pub wasted: Money,
    pub routing: Money,
    pub caching: Money,
    pub restart: Money,
    /// Per (class, tier): the true outcome rate over the sessions generated, their count, and
    /// the cheaper tier the truth moves them to.
    pub cells: Vec<CellTruth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CellTruth {
    pub class: Class,
    pub tier: usize,
    pub sessions: u64,
    pub rate: f64,
    pub moved_to: Option<usize>,
    pub saving: Money,
}

/// A generated organisation.
pub struct Labelled {
    pub events: Vec<(UsageEvent, Actions, u32)>,
    pub outcomes: Outcomes,
    pub org_toml: String,
    pub truth: LabelledTruth,
}

/// The bloat threshold and grace the truth of restart savings uses (the default portfolio's).
const BLOAT: u64 = 120_000;
const GRACE: usize = 5;
const MIN_CACHEABLE: u64 = 1_024;

struct Person {
    index: u64,
    email: String,
    team: u64,
    profile: Profile,
    /// Hours east of UTC.
    offset: i64,
}

struct SessionPlan {
    id: String,
    person: usize,
    start: Millis,
    class: Class,
    tier: usize,
    /// Home folder (machine) it runs on.
    home: String,
    /// Fixed gap between calls (scripted), else random gaps.
    fixed_gap: Option<Millis>,
    /// Insert a loop of this many calls.
    loop_calls: usize,
    /// Send everything uncached.
    cache_miss: bool,
    /// Drag the conversation on past the bloat point.
    drag: bool,
    ship_rate: f64,
}

/// The generator's working state.
struct Generator<'c> {
    plan: LabelledPlan,
    rng: ChaCha8Rng,
    /// The tiers' models' prices, resolved once.
    prices: [Option<&'c freight_core::ModelPrice>; 3],
    people: Vec<Person>,
    events: Vec<(UsageEvent, Actions, u32)>,
    outcomes: Outcomes,
    truth: LabelledTruth,
    /// Per session: (class, tier, ship rate, per-tier alternative cost, cost).
    cells: Vec<(Class, usize, f64, [Money; 3], Money)>,
    commit_counter: u64,
    pull_counter: u64,
}

fn profiles(people: u64, rng: &mut impl Rng) -> Vec<Profile> {
    // A twentieth of the organisation per behaviour (at least three people each), a sixth heavy
    // honest users, the rest honest; shuffled.
    let per = (people / 20).max(3);
    let mut list = Vec::new();
    for profile in
        [Profile::Looping, Profile::Scripted, Profile::NoOutcome, Profile::FrontierTrivial, Profile::SharedAccount]
    {
        list.extend(std::iter::repeat_n(profile, per as usize));
    }
    list.extend(std::iter::repeat_n(Profile::SplitPulls, per.div_ceil(2) as usize));
    list.extend(std::iter::repeat_n(Profile::TrivialTickets, (per / 2).max(2) as usize));
    list.extend(std::iter::repeat_n(Profile::HonestHeavy, (people / 6) as usize));
    while (list.len() as u64) < people {
        list.push(Profile::Honest);
    }
    list.truncate(people as usize);
    for i in (1..list.len()).rev() {
        let j = rng.random_range(0..=i);
        list.swap(i, j);
    }
    list
}

fn hex(rng: &mut impl Rng, bytes: usize) -> String {
    (0..bytes).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
}

/// An exponential gap with a floor: people and agents at work (coefficient of variation near 1).
fn human_gap(rng: &mut impl Rng) -> Millis {
    let u: f64 = rng.random_range(1e-9..1.0);
    5_000 + (-u.ln() * 35_000.0) as Millis
}

impl Generator<'_> {
    /// The cost of `tokens` on tier `tier`'s model.
    fn price(&self, tier: usize, tokens: &TokenCounts) -> Money {
        let prompt = tokens.input + tokens.cache_read + tokens.cache_write_5m + tokens.cache_write_1h;
        self.price_in_band(tier, tokens, prompt)
    }

    /// The cost of `tokens` on tier `tier`'s model at the rates of a `prompt`-token call.
    fn price_in_band(&self, tier: usize, tokens: &TokenCounts, prompt: u64) -> Money {
        self.prices[tier].map_or(Money::ZERO, |price| price.cost_in_band(tokens, Speed::Standard, prompt))
    }

    fn repo(&self, person: &Person) -> String {
        format!("repo-{:02}", person.team)
    }

    /// The sessions one person starts over the period.
    fn plan_sessions(&mut self, who: usize) -> Vec<SessionPlan> {
        let (profile, offset, index) = (self.people[who].profile, self.people[who].offset, self.people[who].index);
        let mut sessions = Vec::new();
        let days = self.plan.weeks * 7;
        for day in 0..days {
            let midnight = self.plan.start() + day as Millis * DAY;
            // 2026-01-05 was a Monday; days since it, mod 7, are weekdays 0..4.
            let weekday = (midnight / DAY - 20_458).rem_euclid(7);
            let workday = weekday < 5;
            let (count, streams, first_hour, last_hour): (u32, u32, i64, i64) = match profile {
                Profile::HonestHeavy => (self.rng.random_range(9..=13), 3, 8, 20),
                Profile::NoOutcome => (self.rng.random_range(9..=13), 2, 8, 19),
                Profile::Scripted => (self.rng.random_range(6..=9), 1, 0, 24),
                Profile::SharedAccount => (self.rng.random_range(10..=14), 4, 6, 22),
                _ => (self.rng.random_range(3..=6), 1, 9, 18),
            };
            // Scripts run on Saturdays too.
            let scripted_saturday = profile == Profile::Scripted && weekday == 5;
            if !(workday || scripted_saturday) {
                continue;
            }
            let mut stream_clock: Vec<Millis> = (0..streams)
                .map(|_| midnight + (first_hour - offset) * HOUR + self.rng.random_range(0..90i64) * MINUTE)
                .collect();
            for n in 0..count {
                let stream = (n % streams) as usize;
                let start = if profile == Profile::Scripted {
                    // Around the clock: spread over the whole day.
                    midnight + (n as Millis * 24 / count as Millis) * HOUR + self.rng.random_range(0..50) * MINUTE
                } else {
                    stream_clock[stream]
                };
                if profile != Profile::Scripted && start > midnight + (last_hour - offset) * HOUR {
                    break;
                }
                let class = self.draw_class(profile);
                let tier = self.draw_tier(profile);
                let home = match profile {
                    Profile::SharedAccount => format!(
                        "/home/{}",
                        ["u", "ext-a", "ext-b", "ext-c"][stream % 4].to_owned() + &index.to_string()
                    ),
                    // A laptop and a devbox, sessions on both at once: not a shared account.
                    Profile::HonestHeavy if stream > 0 => format!("/Users/u{index}"),
                    _ => format!("/home/u{index}"),
                };
                let looping = profile == Profile::Looping && self.rng.random_bool(0.3);
                // Honest agents wait on CI now and then: a short poll, then back to work.
                let waits = !looping && self.rng.random_bool(0.05);
                let rate = match profile {
                    Profile::NoOutcome => 0.0,
                    _ if looping => 0.0,
                    _ => ship_rate(class, tier),
                };
                sessions.push(SessionPlan {
                    id: format!("{}-{}-{}", hex(&mut self.rng, 4), hex(&mut self.rng, 2), hex(&mut self.rng, 6)),
                    person: who,
                    start,
                    class,
                    tier,
                    home,
                    fixed_gap: (profile == Profile::Scripted).then_some(30_000),
                    loop_calls: match (looping, waits) {
                        (true, _) => self.rng.random_range(60..=240),
                        (false, true) => self.rng.random_range(10..=30),
                        _ => 0,
                    },
                    cache_miss: self.rng.random_bool(0.05),
                    drag: class == Class::LargeChange && self.rng.random_bool(0.5),
                    ship_rate: rate,
                });
                // The stream's next session starts after this one ends (roughly) and a break.
                stream_clock[stream] =
                    start + self.expected_minutes(class) * MINUTE + self.rng.random_range(5..40) * MINUTE;
            }
            // Frontier one-liners at volume.
            if profile == Profile::FrontierTrivial {
                for n in 0..self.rng.random_range(16..=24) {
                    let start =
                        midnight + (9 - offset) * HOUR + n * 25 * MINUTE + self.rng.random_range(0..10) * MINUTE;
                    let id = format!("{}-{}-{}", hex(&mut self.rng, 4), hex(&mut self.rng, 2), hex(&mut self.rng, 6));
                    sessions.push(SessionPlan {
                        id,
                        person: who,
                        start,
                        class: Class::Question,
                        tier: 0,
                        home: format!("/home/u{index}"),
                        fixed_gap: None,
                        loop_calls: 0,
                        cache_miss: false,
                        drag: false,
                        ship_rate: ship_rate(Class::Question, 0),
                    });
                }
            }
        }
        sessions
    }

    fn expected_minutes(&self, class: Class) -> Millis {
        match class {
            Class::Question => 3,
            Class::Investigation => 15,
            Class::SmallChange => 10,
            Class::Feature => 35,
            Class::LargeChange => 110,
        }
    }

    fn draw_class(&mut self, profile: Profile) -> Class {
        let weights: [u32; 5] = match profile {
            Profile::HonestHeavy | Profile::NoOutcome => [15, 15, 25, 35, 10],
            Profile::Scripted => [0, 40, 0, 50, 10],
            _ => [25, 15, 30, 25, 5],
        };
        let mut draw = self.rng.random_range(0..weights.iter().sum::<u32>());
        for (class, weight) in CLASSES.iter().zip(weights) {
            if draw < weight {
                return *class;
            }
            draw -= weight;
        }
        Class::Feature
    }

    fn draw_tier(&mut self, profile: Profile) -> usize {
        let weights: [u32; 3] = match profile {
            Profile::HonestHeavy => [60, 30, 10],
            _ => [35, 45, 20],
        };
        let draw = self.rng.random_range(0..100);
        if draw < weights[0] {
            0
        } else if draw < weights[0] + weights[1] {
            1
        } else {
            2
        }
    }

    /// Writes one session's calls and outcome.
    fn session(&mut self, plan: &SessionPlan) {
        let person = &self.people[plan.person];
        let (email, repo) = (person.email.clone(), self.repo(person));
        let model = TIER_MODELS[plan.tier];
        let rng = &mut self.rng;
        // The calls' shape by class (kept inside the classifier's bounds but for a few
        // ambiguous sessions, as real work is).
        let ambiguous = rng.random_bool(0.03);
        let mut calls: usize = match plan.class {
            Class::Question => rng.random_range(2..=6),
            Class::Investigation => rng.random_range(12..=40),
            Class::SmallChange => rng.random_range(5..=18),
            Class::Feature => rng.random_range(28..=90),
            Class::LargeChange => rng.random_range(110..=200),
        };
        if ambiguous {
            calls = match plan.class {
                Class::Question => 10,
                Class::Investigation => 6,
                Class::SmallChange => 24,
                Class::Feature => 120,
                Class::LargeChange => 95,
            };
        }
        let edits = matches!(plan.class, Class::SmallChange | Class::Feature | Class::LargeChange);
        let mut context: u64 = rng.random_range(8_000..20_000);
        let growth: u64 = match plan.class {
            Class::LargeChange if plan.drag => rng.random_range(1_500..2_500),
            Class::LargeChange => 600,
            Class::Feature => rng.random_range(300..800),
            _ => rng.random_range(200..1_500),
        };
        let mut first_prompt = 0;
        let mut ts = plan.start;
        let loop_at = if plan.loop_calls > 0 { calls / 3 } else { usize::MAX };
        let loop_turn: u32 = rng.random_range(1..u32::MAX);
        let test_turn: u32 = rng.random_range(1..u32::MAX);
        let total_calls = calls + plan.loop_calls;
        let mut bloated_at: Option<usize> = None;
        let (mut cost, mut alternatives, mut caching, mut restart) =
            (Money::ZERO, [Money::ZERO; 3], Money::ZERO, Money::ZERO);
        for n in 0..total_calls {
            let in_loop = n >= loop_at && n < loop_at + plan.loop_calls;
            let rng = &mut self.rng;
            let (actions, turn, output) = if in_loop {
                (Actions::SHELL, loop_turn, rng.random_range(30..120))
            } else if plan.class == Class::Question {
                (
                    if rng.random_bool(0.5) { Actions::READ } else { Actions::NONE },
                    rng.random_range(1..u32::MAX),
                    rng.random_range(40..250),
                )
            } else if !edits {
                let action = if rng.random_bool(0.7) { Actions::READ } else { Actions::SHELL };
                (action, rng.random_range(1..u32::MAX), rng.random_range(60..500))
            } else {
                match rng.random_range(0..10) {
                    0..=3 => (Actions::EDIT, rng.random_range(1..u32::MAX), rng.random_range(300..2_000)),
                    4..=6 => (Actions::READ, rng.random_range(1..u32::MAX), rng.random_range(50..300)),
                    7 => (Actions::TEST, test_turn, rng.random_range(40..200)),
                    8 => (Actions::BUILD, rng.random_range(1..u32::MAX), rng.random_range(40..200)),
                    _ => (Actions::NONE, 0, rng.random_range(100..800)),
                }
            };
            let actions = if n == 0 && edits { Actions::READ } else { actions };
            let new = if in_loop { rng.random_range(20..80) } else { growth };
            let tokens = if plan.cache_miss && n > 0 {
                TokenCounts { input: context + new, output, ..TokenCounts::default() }
            } else if n == 0 {
                TokenCounts {
                    input: rng.random_range(3..300),
                    output,
                    cache_write_5m: context,
                    ..TokenCounts::default()
                }
            } else {
                TokenCounts {
                    input: rng.random_range(3..300),
                    output,
                    cache_read: context,
                    cache_write_5m: new,
                    ..TokenCounts::default()
                }
            };
            let prompt = tokens.input + tokens.cache_read + tokens.cache_write_5m;
            if n == 0 {
                first_prompt = prompt;
            }
            if bloated_at.is_none() && prompt >= BLOAT {
                bloated_at = Some(n);
            }
            let call_cost = self.price(plan.tier, &tokens);
            cost += call_cost;
            for (tier, alternative) in alternatives.iter_mut().enumerate() {
                *alternative += self.price(tier, &tokens);
            }
            if plan.cache_miss && n > 0 && tokens.input >= MIN_CACHEABLE {
                let cached = TokenCounts { cache_read: tokens.input, ..TokenCounts::default() };
                let sent = TokenCounts { input: tokens.input, ..TokenCounts::default() };
                caching += self.price(plan.tier, &sent) - self.price(plan.tier, &cached);
            }
            if let Some(at) = bloated_at
                && n > at + GRACE
                && prompt > first_prompt
            {
                let resent = TokenCounts { cache_read: prompt - first_prompt, ..TokenCounts::default() };
                restart += self.price_in_band(plan.tier, &resent, prompt);
            }
            self.events.push((
                UsageEvent {
                    timestamp: chrono::DateTime::from_timestamp_millis(ts).unwrap_or_default(),
                    tool: Tool::ClaudeCode,
                    user: Some(email.clone()),
                    session_id: plan.id.clone(),
                    project: Some(format!("-{}-src-{repo}", plan.home.trim_start_matches('/').replace('/', "-"))),
                    cwd: Some(format!("{}/src/{repo}", plan.home)),
                    git_branch: Some(format!("s/{}", &plan.id[..8])),
                    model: Some(model.to_string()),
                    provider: Some("anthropic".into()),
                    message_id: Some(format!("msg_{}_{n}", plan.id)),
                    request_id: Some(format!("req_{}_{n}", plan.id)),
                    is_sidechain: false,
                    speed: Speed::Standard,
                    tokens,
                    reported_cost: None,
                },
                actions,
                turn,
            ));
            // Claude Code compacts a conversation near its window; one that is not dragged on
            // stays under the bloat mark.
            context = (context + new).min(190_000);
            if !plan.drag && plan.class == Class::LargeChange {
                context = context.min(BLOAT - 10_000);
            }
            ts += match plan.fixed_gap {
                Some(gap) => gap + self.rng.random_range(-300..300),
                None => human_gap(&mut self.rng),
            };
        }
        self.truth.sessions += 1;
        self.truth.calls += total_calls as u64;
        self.truth.cost += cost;
        self.truth.restart += restart;
        self.truth.caching += caching;
        self.cells.push((plan.class, plan.tier, plan.ship_rate, alternatives, cost));
        // The fate.
        let shipped = self.rng.random_bool(plan.ship_rate);
        let end = ts;
        let author = &self.people[plan.person];
        let (author_email, author_name) = (author.email.clone(), format!("Person {}", author.index));
        let commit = |generator: &mut Generator, at: Millis, lines: u64, trailer: bool| -> String {
            generator.commit_counter += 1;
            let sha = format!("{:040x}", u128::from(generator.plan.seed) << 64 | u128::from(generator.commit_counter));
            generator.outcomes.commits.push(Commit {
                repo: repo.clone(),
                sha: sha.clone(),
                author_name: author_name.clone(),
                author_email: author_email.clone(),
                authored_at: at,
                committed_at: at,
                summary: format!("change {}", generator.commit_counter),
                parents: 1,
                lines_added: lines,
                lines_removed: lines / 4,
                files_changed: 1 + lines / 40,
                agents: vec![AiAgent::ClaudeCode],
                sessions: if trailer {
                    vec![SessionTrailer { trailer: "Freight-Session".into(), session: plan.id.clone() }]
                } else {
                    Vec::new()
                },
                reverts: None,
            });
            sha
        };
        if shipped {
            let lines = self.rng.random_range(20..300);
            commit(self, end + 10 * MINUTE, lines, true);
        } else {
            self.truth.wasted += cost;
            match self.rng.random_range(0..10) {
                0..=1 => {
                    self.pull_counter += 1;
                    self.outcomes.pulls.push(PullRequest {
                        repo: repo.clone(),
                        number: self.pull_counter,
                        author: author_email.clone(),
                        head_branch: Some(format!("s/{}", &plan.id[..8])),
                        opened_at: end + 20 * MINUTE,
                        merged_at: None,
                        closed_at: Some(end + 2 * DAY),
                        merge_sha: None,
                        lines_added: 80,
                        lines_removed: 10,
                        review_minutes: Some(30),
                    });
                }
                2 => {
                    // Reverted the next night by its author, by hand, while nobody works.
                    let sha = commit(self, end + 10 * MINUTE, 60, true);
                    let night = (end + DAY).div_euclid(DAY) * DAY + 150 * MINUTE;
                    self.commit_counter += 1;
                    let revert_sha =
                        format!("{:040x}", u128::from(self.plan.seed) << 64 | u128::from(self.commit_counter));
                    self.outcomes.commits.push(Commit {
                        repo: repo.clone(),
                        sha: revert_sha,
                        author_name: author_name.clone(),
                        author_email: author_email.clone(),
                        authored_at: night,
                        committed_at: night,
                        summary: "Revert".into(),
                        parents: 1,
                        lines_added: 15,
                        lines_removed: 60,
                        files_changed: 1,
                        agents: Vec::new(),
                        sessions: Vec::new(),
                        reverts: Some(sha),
                    });
                }
                _ => {}
            }
        }
    }

    /// Pull requests and tickets beyond the sessions' own: each person's merged pull requests
    /// and resolved tickets, split and trivial ones for the inflating profiles.
    fn pulls_and_tickets(&mut self) {
        let days = self.plan.weeks * 7;
        let mut ticket_counter = 0u64;
        for who in 0..self.people.len() {
            let (profile, email, team) =
                (self.people[who].profile, self.people[who].email.clone(), self.people[who].team);
            let repo = self.repo(&self.people[who]);
            for day in 0..days {
                let midnight = self.plan.start() + day as Millis * DAY;
                let (pulls, pull_lines, tickets, trivial): (u32, (u64, u64), u32, bool) = match profile {
                    Profile::SplitPulls => (self.rng.random_range(3..=5), (2, 9), 0, false),
                    Profile::TrivialTickets => (0, (30, 300), self.rng.random_range(3..=5), true),
                    Profile::HonestHeavy => (
                        u32::from(self.rng.random_bool(0.8)) + u32::from(self.rng.random_bool(0.5)),
                        (30, 500),
                        u32::from(self.rng.random_bool(0.5)),
                        false,
                    ),
                    _ => (u32::from(self.rng.random_bool(0.4)), (30, 400), u32::from(self.rng.random_bool(0.3)), false),
                };
                for n in 0..pulls {
                    self.pull_counter += 1;
                    let opened = midnight + 10 * HOUR + n as Millis * HOUR;
                    // Now and then a one-line fix, from anyone.
                    let lines = match self.rng.random_bool(0.1) {
                        true => self.rng.random_range(1..=5),
                        false => self.rng.random_range(pull_lines.0..=pull_lines.1),
                    };
                    self.outcomes.pulls.push(PullRequest {
                        repo: repo.clone(),
                        number: self.pull_counter,
                        author: email.clone(),
                        head_branch: Some(format!("pr/{}", self.pull_counter)),
                        opened_at: opened,
                        merged_at: Some(opened + 3 * HOUR),
                        closed_at: Some(opened + 3 * HOUR),
                        merge_sha: None,
                        lines_added: lines * 4 / 5,
                        lines_removed: lines / 5,
                        review_minutes: Some(20),
                    });
                }
                for _ in 0..tickets {
                    ticket_counter += 1;
                    self.outcomes.tickets.push(Ticket {
                        id: format!("T-{ticket_counter}"),
                        team: Some(format!("team-{team:02}")),
                        person: Some(email.clone()),
                        resolved_at: midnight + 15 * HOUR,
                        weight: if trivial { 1.0 } else { f64::from(self.rng.random_range(1..=5u32)) },
                    });
                }
            }
        }
    }

    /// The truth of routing: per (class, tier), the mean ship rate of its sessions; a cell
    /// moves to the cheapest tier whose mean rate is within the tolerance (both with enough
    /// sessions), saving the difference of its sessions' cost on that tier's model.
    fn routing_truth(&mut self, tolerance: f64, min_sessions: u64) {
        let mut cells: BTreeMap<(Class, usize), (u64, f64, Vec<usize>)> = BTreeMap::new();
        for (index, (class, tier, rate, _, _)) in self.cells.iter().enumerate() {
            let cell = cells.entry((*class, *tier)).or_default();
            cell.0 += 1;
            cell.1 += rate;
            cell.2.push(index);
        }
        let rate = |cell: &(u64, f64, Vec<usize>)| cell.1 / cell.0.max(1) as f64;
        let mut result = Vec::new();
        for (&(class, tier), cell) in &cells {
            let moved_to = (tier + 1..3).rev().find(|&cheaper| {
                cell.0 >= min_sessions
                    && cells
                        .get(&(class, cheaper))
                        .is_some_and(|other| other.0 >= min_sessions && rate(other) >= rate(cell) - tolerance)
            });
            let saving: Money = moved_to.map_or(Money::ZERO, |to| {
                cell.2.iter().map(|&i| (self.cells[i].4 - self.cells[i].3[to]).max(Money::ZERO)).sum()
            });
            self.truth.routing += saving;
            result.push(CellTruth { class, tier, sessions: cell.0, rate: rate(cell), moved_to, saving });
        }
        self.truth.cells = result;
    }
}

/// Generates the organisation.
pub fn generate(plan: LabelledPlan, catalog: &PriceCatalog) -> Labelled {
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
    let profiles = profiles(plan.people, &mut rng);
    let teams = (plan.people / 10).max(2);
    let people: Vec<Person> = profiles
        .into_iter()
        .enumerate()
        .map(|(index, profile)| Person {
            index: index as u64,
            email: format!("u{index}@eval.example"),
            team: index as u64 % teams,
            profile,
            offset: rng.random_range(0..=3),
        })
        .collect();
    let mut generator = Generator {
        plan,
        rng,
        prices: TIER_MODELS.map(|model| catalog.resolve(model)),
        people,
        events: Vec::new(),
        outcomes: Outcomes::default(),
        truth: LabelledTruth::default(),
        cells: Vec::new(),
        commit_counter: 0,
        pull_counter: 0,
    };
    for who in 0..generator.people.len() {
        let sessions = generator.plan_sessions(who);
        for session in &sessions {
            generator.session(session);
        }
    }
    generator.pulls_and_tickets();
    let portfolio = freight_analytics::optimizable::Portfolio::default();
    generator.routing_truth(portfolio.tolerance, portfolio.min_sessions);
    for team in 0..teams {
        generator.outcomes.repos.push(RepoPlace { name: format!("repo-{team:02}"), workdir: None });
    }
    let mut org_toml = String::new();
    for person in &generator.people {
        org_toml.push_str(&format!(
            "[[person]]\nid = \"u{}\"\nemails = [\"{}\"]\nteam = \"team-{:02}\"\ncost_centre = \"cc-{}\"\n\n",
            person.index,
            person.email,
            person.team,
            person.team % 4
        ));
    }
    generator.truth.people = generator
        .people
        .iter()
        .map(|p| PersonTruth {
            person: format!("u{}", p.index),
            email: p.email.clone(),
            team: format!("team-{:02}", p.team),
            profile: p.profile,
        })
        .collect();
    generator.events.sort_by_key(|event| event.0.timestamp);
    Labelled { events: generator.events, outcomes: generator.outcomes, org_toml, truth: generator.truth }
}
