//! The demo organisation: people, the repositories they work in, and the models each tool uses.

/// One engineer.
pub struct Person {
    pub login: &'static str,
    /// Repositories (by index into `Organisation::repos`) the person works in.
    pub repos: &'static [usize],
}

pub struct Organisation {
    pub people: Vec<Person>,
    pub repos: Vec<&'static str>,
}

/// Claude models with their share of calls; all priced the same by freight's pinned catalog
/// and by ccusage's, so the generated data can check the two against each other.
pub const CLAUDE_MODELS: [(&str, u32); 4] = [
    ("claude-sonnet-4-5-20250929", 50),
    ("claude-haiku-4-5-20251001", 20),
    ("claude-opus-4-6", 15),
    ("claude-sonnet-4-6", 15),
];

pub const CODEX_MODELS: [(&str, u32); 3] = [("gpt-5-codex", 60), ("gpt-5", 25), ("gpt-5-mini", 15)];

/// A model no catalog prices, written only with `variants`.
pub const UNPRICED_MODEL: &str = "acme-internal-coder-2";

impl Organisation {
    pub fn new() -> Organisation {
        let repos = vec!["payments", "web-app", "mobile", "platform", "data-pipeline", "docs", "billing", "search"];
        let people = vec![
            Person { login: "alice", repos: &[0, 6] },
            Person { login: "bilal", repos: &[0, 3] },
            Person { login: "chen", repos: &[1, 2] },
            Person { login: "dana", repos: &[1] },
            Person { login: "emeka", repos: &[3, 4] },
            Person { login: "fatima", repos: &[4, 7] },
            Person { login: "gustav", repos: &[2] },
            Person { login: "hana", repos: &[5, 1] },
            Person { login: "ivan", repos: &[7, 0] },
            Person { login: "jules", repos: &[6, 3] },
            Person { login: "kiri", repos: &[3] },
            Person { login: "lena", repos: &[4, 5] },
        ];
        Organisation { people, repos }
    }

    /// A random person at one of their repositories: the person, the repository's index and
    /// the checkout path the agent sees as its cwd.
    pub fn pick_checkout(&self, rng: &mut impl rand::Rng) -> (&Person, usize, String) {
        let person = &self.people[rng.random_range(0..self.people.len())];
        let repo = person.repos[rng.random_range(0..person.repos.len())];
        let cwd = format!("/home/{}/src/{}", person.login, self.repos[repo]);
        (person, repo, cwd)
    }
}

/// Picks from weighted choices with a random number in 0..total weight.
pub fn weighted<T: Copy>(choices: &[(T, u32)], draw: u32) -> T {
    let mut left = draw;
    for &(value, weight) in choices {
        if left < weight {
            return value;
        }
        left -= weight;
    }
    choices[choices.len() - 1].0
}

pub fn total_weight<T>(choices: &[(T, u32)]) -> u32 {
    choices.iter().map(|(_, weight)| weight).sum()
}
