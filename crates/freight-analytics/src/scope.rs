//! What part of the organisation a report covers: teams, people, cost centres, repositories,
//! tools and models. Applied after attribution, to the facts and to everything else the report
//! derives, so a scoped report's figures are the same as the matching rows of the whole
//! report. The API's access roles are scopes too: a team lead's token is a scope of their teams.

use crate::attribution::Attribution;
use crate::engine::AnalyticsError;
use crate::grain::Grain;
use crate::pillars::{Facts, NO_COST_CENTRE, NO_REPO};
use datafusion::arrow::array::{Array, BooleanArray, RecordBatch, StringArray};
use freight_core::org::Member;
use serde::Serialize;
use std::collections::BTreeSet;

/// Each dimension: `None` admits every value; a set admits its values only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teams: Option<BTreeSet<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub people: Option<BTreeSet<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_centres: Option<BTreeSet<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repos: Option<BTreeSet<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<BTreeSet<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<BTreeSet<String>>,
}

fn admits(set: &Option<BTreeSet<String>>, value: &str) -> bool {
    set.as_ref().is_none_or(|set| set.contains(value))
}

/// The values both sets admit.
fn intersect(a: Option<BTreeSet<String>>, b: Option<BTreeSet<String>>) -> Option<BTreeSet<String>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.intersection(&b).cloned().collect()),
        (a, b) => a.or(b),
    }
}

impl Scope {
    /// The whole organisation.
    pub fn everything() -> Scope {
        Scope::default()
    }

    pub fn is_everything(&self) -> bool {
        *self == Scope::default()
    }

    /// What both scopes admit (a request's filters within a token's reach).
    pub fn within(self, other: Scope) -> Scope {
        Scope {
            teams: intersect(self.teams, other.teams),
            people: intersect(self.people, other.people),
            cost_centres: intersect(self.cost_centres, other.cost_centres),
            repos: intersect(self.repos, other.repos),
            tools: intersect(self.tools, other.tools),
            models: intersect(self.models, other.models),
        }
    }

    pub fn admits_member(&self, member: &Member) -> bool {
        admits(&self.teams, &member.team)
            && admits(&self.people, &member.person)
            && admits(&self.cost_centres, member.cost_centre.as_deref().unwrap_or(NO_COST_CENTRE))
    }

    /// A fact or line item with these dimensions.
    pub fn admits(&self, member: &Member, repo: &str, tool: &str, model: &str) -> bool {
        self.admits_member(member)
            && admits(&self.repos, repo)
            && admits(&self.tools, tool)
            && admits(&self.models, model)
    }

    /// The fact tables with only the rows this scope admits (each table has the person, team,
    /// cost_centre, repo, tool and model columns the cuts group by).
    pub fn facts(&self, facts: Facts) -> Result<Facts, AnalyticsError> {
        if self.is_everything() {
            return Ok(facts);
        }
        Ok(Facts {
            spend: self.rows(&facts.spend)?,
            session_usage: self.rows(&facts.session_usage)?,
            outputs: self.rows(&facts.outputs)?,
        })
    }

    /// The rows of a fact table (one with the cuts' columns) this scope admits.
    pub fn rows(&self, batch: &RecordBatch) -> Result<RecordBatch, AnalyticsError> {
        let mut keep: Vec<bool> = vec![true; batch.num_rows()];
        let dimensions = [
            ("team", &self.teams),
            ("person", &self.people),
            ("cost_centre", &self.cost_centres),
            ("repo", &self.repos),
            ("tool", &self.tools),
            ("model", &self.models),
        ];
        for (column, set) in dimensions {
            let Some(set) = set else { continue };
            let values = batch
                .column_by_name(column)
                .and_then(|array| array.as_any().downcast_ref::<StringArray>())
                .ok_or_else(|| AnalyticsError::Column(column))?;
            for (row, kept) in keep.iter_mut().enumerate() {
                *kept = *kept && values.is_valid(row) && set.contains(values.value(row));
            }
        }
        let mask = BooleanArray::from(keep);
        Ok(datafusion::arrow::compute::filter_record_batch(batch, &mask)?)
    }

    /// The repositories a scoped report's facts name (its header lists only those): those of
    /// `attribution`'s shares and sessions this scope admits, and of `outputs` (rows it admits).
    pub fn repos_of(
        &self,
        attribution: &Attribution,
        outputs: &RecordBatch,
    ) -> Result<BTreeSet<String>, AnalyticsError> {
        let sessions = &attribution.sessions;
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for share in &attribution.shares {
            let session = &sessions[share.session];
            let repo = share.repo(sessions);
            if self.admits(&session.member, repo, &session.tool, &share.model) {
                names.insert(repo);
            }
        }
        for session in sessions {
            let repo = session.repo.as_deref().unwrap_or(NO_REPO);
            if session.models.iter().any(|usage| self.admits(&session.member, repo, &session.tool, &usage.model)) {
                names.insert(repo);
            }
        }
        let mut names: BTreeSet<String> = names.into_iter().map(str::to_string).collect();
        names.extend(crate::columns::strings(outputs, "repo")?.into_iter().flatten());
        Ok(names)
    }

    /// The attribution's shares and links of the sessions this scope admits (sessions keep
    /// their places, so grain rows still find theirs).
    pub fn attribution(&self, attribution: &Attribution) -> Attribution {
        let sessions = &attribution.sessions;
        let shares = attribution
            .shares
            .iter()
            .filter(|share| {
                let session = &sessions[share.session];
                self.admits(&session.member, share.repo(sessions), &session.tool, &share.model)
            })
            .cloned()
            .collect();
        let admitted: foldhash::HashSet<&str> =
            self.sessions(attribution).map(|index| sessions[index].session.as_str()).collect();
        let links = attribution.links.iter().filter(|link| admitted.contains(link.session.as_str())).cloned().collect();
        Attribution { sessions: sessions.clone(), links, shares, reverts: attribution.reverts.clone() }
    }

    /// The sessions (indexes) with at least one model this scope admits.
    pub fn sessions<'a>(&'a self, attribution: &'a Attribution) -> impl Iterator<Item = usize> + 'a {
        attribution.sessions.iter().enumerate().filter_map(move |(index, session)| {
            let repo = session.repo.as_deref().unwrap_or(crate::pillars::NO_REPO);
            let any_model =
                self.models.is_none() || session.models.iter().any(|usage| admits(&self.models, &usage.model));
            let admitted = self.admits_member(&session.member)
                && admits(&self.repos, repo)
                && admits(&self.tools, &session.tool)
                && any_model;
            admitted.then_some(index)
        })
    }

    /// The grain with only the rows of admitted sessions and models (sessions keep their
    /// places). Callers skip it for [`Scope::everything`], which would copy the grain whole.
    pub fn grain(&self, grain: &Grain, attribution: &Attribution) -> Grain {
        let admitted: foldhash::HashSet<usize> = self.sessions(attribution).collect();
        let rows = grain
            .rows
            .iter()
            .filter(|row| {
                admitted.contains(&(row.session as usize)) && admits(&self.models, &grain.models[row.model as usize])
            })
            .cloned()
            .collect();
        Grain { sessions: grain.sessions.clone(), models: grain.models.clone(), rows }
    }
}
