//! The org directory: which emails and account ids belong to which person, and each person's
//! team and cost centre. Anyone not in it lands in the `unassigned` team — shown, never dropped.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The team of everyone the directory does not know.
pub const UNASSIGNED_TEAM: &str = "unassigned";

/// Where one identity (an email, an account id) belongs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Member {
    /// The directory's id for the person, or the identity itself when unknown.
    pub person: String,
    pub team: String,
    pub cost_centre: Option<String>,
    /// False when the identity was not in the directory.
    pub known: bool,
}

/// One person as written in the directory file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PersonEntry {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub cost_centre: Option<String>,
}

/// A team's defaults (its cost centre, for people who do not name their own).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TeamEntry {
    pub name: String,
    #[serde(default)]
    pub cost_centre: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryFile {
    #[serde(default)]
    person: Vec<PersonEntry>,
    #[serde(default)]
    team: Vec<TeamEntry>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DirectoryError {
    #[error("org directory: {0}")]
    Toml(String),
    #[error("org directory line {line}: {problem}")]
    Csv { line: usize, problem: String },
    #[error("org directory: {identity:?} is listed for both {first:?} and {second:?}")]
    Ambiguous { identity: String, first: String, second: String },
    #[error("org directory: person {0:?} appears twice")]
    DuplicatePerson(String),
}

/// People, teams and the identities that lead to them.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    people: Vec<PersonEntry>,
    teams: HashMap<String, TeamEntry>,
    /// Lower-cased email or account id -> index into `people`.
    by_identity: HashMap<String, usize>,
    by_id: HashMap<String, usize>,
}

impl Directory {
    /// Reads the TOML form: `[[person]]` tables (`id`, `name`, `emails`, `accounts`, `team`,
    /// `cost_centre`) and optional `[[team]]` tables (`name`, `cost_centre`).
    pub fn from_toml(text: &str) -> Result<Directory, DirectoryError> {
        let file: DirectoryFile = toml::from_str(text).map_err(|error| DirectoryError::Toml(error.to_string()))?;
        Directory::new(file.person, file.team)
    }

    /// Reads the CSV form: a header naming `person`, `email` (or `identity`), `team` and
    /// optionally `cost_centre` and `name`; one row per identity, a person may have several.
    pub fn from_csv(text: &str) -> Result<Directory, DirectoryError> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let header = reader.headers().map_err(|error| DirectoryError::Csv { line: 1, problem: error.to_string() })?;
        let column = |names: &[&str]| header.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)));
        let person_col = column(&["person", "id"])
            .ok_or_else(|| DirectoryError::Csv { line: 1, problem: "no `person` column".into() })?;
        let identity_col = column(&["email", "identity", "account"]);
        let team_col = column(&["team"]);
        let cost_col = column(&["cost_centre", "cost_center"]);
        let name_col = column(&["name"]);
        let mut people: Vec<PersonEntry> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (row_number, record) in reader.records().enumerate() {
            let line = row_number + 2;
            let record = record.map_err(|error| DirectoryError::Csv { line, problem: error.to_string() })?;
            let field =
                |col: Option<usize>| col.and_then(|c| record.get(c)).filter(|v| !v.is_empty()).map(str::to_string);
            let id =
                field(Some(person_col)).ok_or_else(|| DirectoryError::Csv { line, problem: "empty person".into() })?;
            let slot = *index.entry(id.clone()).or_insert_with(|| {
                people.push(PersonEntry {
                    id: id.clone(),
                    name: None,
                    emails: Vec::new(),
                    accounts: Vec::new(),
                    team: None,
                    cost_centre: None,
                });
                people.len() - 1
            });
            let entry = &mut people[slot];
            if let Some(identity) = field(identity_col) {
                entry.emails.push(identity);
            }
            for (value, target) in [
                (field(team_col), &mut entry.team),
                (field(cost_col), &mut entry.cost_centre),
                (field(name_col), &mut entry.name),
            ] {
                if let Some(value) = value {
                    if target.as_ref().is_some_and(|old| *old != value) {
                        return Err(DirectoryError::Csv {
                            line,
                            problem: format!(
                                "person {id:?} is given two different values: {old:?} and {value:?}",
                                old = target.as_deref().unwrap_or_default()
                            ),
                        });
                    }
                    *target = Some(value);
                }
            }
        }
        Directory::new(people, Vec::new())
    }

    /// Reads a directory file, TOML or CSV by its extension.
    pub fn parse(text: &str, is_csv: bool) -> Result<Directory, DirectoryError> {
        if is_csv { Directory::from_csv(text) } else { Directory::from_toml(text) }
    }

    pub fn new(people: Vec<PersonEntry>, teams: Vec<TeamEntry>) -> Result<Directory, DirectoryError> {
        let mut directory = Directory {
            teams: teams.into_iter().map(|team| (team.name.clone(), team)).collect(),
            ..Directory::default()
        };
        for (slot, person) in people.iter().enumerate() {
            if directory.by_id.insert(person.id.clone(), slot).is_some() {
                return Err(DirectoryError::DuplicatePerson(person.id.clone()));
            }
            for identity in person.emails.iter().chain(&person.accounts).chain(std::iter::once(&person.id)) {
                let key = identity.to_lowercase();
                match directory.by_identity.get(&key) {
                    Some(&other) if other != slot => {
                        return Err(DirectoryError::Ambiguous {
                            identity: identity.clone(),
                            first: people[other].id.clone(),
                            second: person.id.clone(),
                        });
                    }
                    _ => {
                        directory.by_identity.insert(key, slot);
                    }
                }
            }
        }
        directory.people = people;
        Ok(directory)
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// Adds people the directory does not know (by any identity), e.g. with the team their
    /// telemetry named; people it lists keep the directory's word.
    pub fn with_unlisted(mut self, extra: impl IntoIterator<Item = PersonEntry>) -> Directory {
        for person in extra {
            let identities = person.emails.iter().chain(&person.accounts).chain(std::iter::once(&person.id));
            let known = identities.clone().any(|identity| self.by_identity.contains_key(&identity.to_lowercase()));
            if known || self.by_id.contains_key(&person.id) {
                continue;
            }
            let slot = self.people.len();
            for identity in identities {
                self.by_identity.insert(identity.to_lowercase(), slot);
            }
            self.by_id.insert(person.id.clone(), slot);
            self.people.push(person);
        }
        self
    }

    pub fn people(&self) -> &[PersonEntry] {
        &self.people
    }

    /// Where an email, account id or person id belongs; unknown identities are their own
    /// person in the unassigned team.
    pub fn resolve(&self, identity: &str) -> Member {
        match self.by_identity.get(&identity.trim().to_lowercase()) {
            Some(&slot) => self.member(slot),
            None => Member {
                person: identity.trim().to_string(),
                team: UNASSIGNED_TEAM.to_string(),
                cost_centre: None,
                known: false,
            },
        }
    }

    fn member(&self, slot: usize) -> Member {
        let person = &self.people[slot];
        let team = person.team.clone().unwrap_or_else(|| UNASSIGNED_TEAM.to_string());
        let cost_centre =
            person.cost_centre.clone().or_else(|| self.teams.get(&team).and_then(|entry| entry.cost_centre.clone()));
        Member { person: person.id.clone(), team, cost_centre, known: true }
    }

    /// Every team named in the directory, sorted, with how many people it has.
    pub fn team_sizes(&self) -> Vec<(String, usize)> {
        let mut sizes: HashMap<String, usize> = HashMap::new();
        for slot in 0..self.people.len() {
            *sizes.entry(self.member(slot).team).or_default() += 1;
        }
        let mut sizes: Vec<_> = sizes.into_iter().collect();
        sizes.sort();
        sizes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telemetry_people_are_added_only_where_the_directory_is_silent() {
        let person = |email: &str, team: &str| PersonEntry {
            id: email.into(),
            name: None,
            emails: vec![email.into()],
            accounts: Vec::new(),
            team: Some(team.into()),
            cost_centre: None,
        };
        let directory = Directory::from_toml(TOML)
            .expect("parses")
            .with_unlisted([person("alice@acme.dev", "growth"), person("dana@acme.dev", "search")]);
        assert_eq!(directory.resolve("alice@acme.dev").team, "payments");
        let dana = directory.resolve("Dana@acme.dev");
        assert_eq!((dana.team.as_str(), dana.known), ("search", true));
        assert_eq!(directory.resolve("eve@acme.dev").team, UNASSIGNED_TEAM);
    }

    const TOML: &str = r#"
[[person]]
id = "alice"
emails = ["Alice@Acme.dev", "1234+alice@users.noreply.github.com"]
accounts = ["acct_01"]
team = "payments"

[[person]]
id = "bilal"
emails = ["bilal@acme.dev"]
team = "platform"
cost_centre = "CC-9"

[[team]]
name = "payments"
cost_centre = "CC-1"
"#;

    #[test]
    fn resolves_emails_accounts_and_ids_case_insensitively() {
        let directory = Directory::from_toml(TOML).expect("parses");
        let alice = directory.resolve("alice@acme.DEV");
        assert_eq!((alice.person.as_str(), alice.team.as_str()), ("alice", "payments"));
        assert_eq!(alice.cost_centre.as_deref(), Some("CC-1"), "team default");
        assert_eq!(directory.resolve("acct_01").person, "alice");
        assert_eq!(directory.resolve("bilal").cost_centre.as_deref(), Some("CC-9"), "own cost centre wins");
    }

    #[test]
    fn unknown_people_are_unassigned_not_dropped() {
        let directory = Directory::from_toml(TOML).expect("parses");
        let stranger = directory.resolve("contractor@elsewhere.io");
        assert_eq!(stranger.person, "contractor@elsewhere.io");
        assert_eq!(stranger.team, UNASSIGNED_TEAM);
        assert!(!stranger.known);
    }

    #[test]
    fn csv_rows_gather_per_person() {
        let csv = "person,email,team,cost_centre\nalice,alice@acme.dev,payments,CC-1\nalice,a@old.dev,,\nbilal,bilal@acme.dev,platform,\n";
        let directory = Directory::from_csv(csv).expect("parses");
        assert_eq!(directory.resolve("a@old.dev").team, "payments");
        assert_eq!(directory.team_sizes(), vec![("payments".into(), 1), ("platform".into(), 1)]);
    }

    #[test]
    fn conflicts_name_what_and_where() {
        let twice = "[[person]]\nid='a'\nemails=['x@y']\n[[person]]\nid='b'\nemails=['X@y']\n";
        assert!(matches!(Directory::from_toml(twice), Err(DirectoryError::Ambiguous { .. })));
        let csv = "person,email,team\nalice,a@x,payments\nalice,b@x,search\n";
        let error = Directory::from_csv(csv).expect_err("two teams");
        assert!(error.to_string().contains("line 3"), "{error}");
        assert!(Directory::from_toml("[[person]]\nid='a'\nfoo=1\n").is_err(), "unknown field");
    }
}
