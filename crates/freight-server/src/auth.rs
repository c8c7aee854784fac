//! Who is asking: API tokens (kept as SHA-256 hashes in `DIR/auth/tokens.json`, never in the
//! clear), their roles and the part of the organisation each may read, and the audit log of
//! reads. Requests from localhost without a token act as admin unless the config says not to.

use freight_analytics::Scope;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const TOKENS_FILE: &str = "auth/tokens.json";
pub const AUDIT_FILE: &str = "audit/reads.ndjson";
/// Every token starts with this, so a leaked one is easy to search for.
pub const TOKEN_PREFIX: &str = "frt_";

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "role")]
pub enum Role {
    /// Everything.
    Admin,
    /// Every team's figures; per-person detail only with `per_person`.
    Finance {
        #[serde(default)]
        per_person: bool,
    },
    /// Their teams' figures, people within them included.
    TeamLead { teams: BTreeSet<String> },
    /// Their own figures.
    Engineer { person: String },
    /// Sends telemetry and outcomes; reads nothing.
    Ingest,
}

impl Role {
    pub fn name(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Finance { .. } => "finance",
            Role::TeamLead { .. } => "team_lead",
            Role::Engineer { .. } => "engineer",
            Role::Ingest => "ingest",
        }
    }

    /// The part of the organisation it may read (None: it reads no reports).
    pub fn scope(&self) -> Option<Scope> {
        match self {
            Role::Admin | Role::Finance { .. } => Some(Scope::everything()),
            Role::TeamLead { teams } => Some(Scope { teams: Some(teams.clone()), ..Scope::default() }),
            Role::Engineer { person } => Some(Scope { people: Some([person.clone()].into()), ..Scope::default() }),
            Role::Ingest => None,
        }
    }

    /// May it see figures per person (a cut by person, a filter on one)?
    pub fn sees_people(&self) -> bool {
        match self {
            Role::Finance { per_person } => *per_person,
            Role::Ingest => false,
            _ => true,
        }
    }

    pub fn ingests(&self) -> bool {
        matches!(self, Role::Admin | Role::Ingest)
    }

    /// Server-wide figures (Prometheus): spend by team and model, store health.
    pub fn reads_org_metrics(&self) -> bool {
        matches!(self, Role::Admin | Role::Finance { .. })
    }
}

/// One token as kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub role: Role,
    /// SHA-256 of the token, hex.
    pub sha256: String,
    pub created_at: String,
}

/// Who made a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's id, or `localhost`.
    pub id: String,
    pub role: Role,
}

fn hash(token: &str) -> String {
    let digest = sha2::Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
}

fn file_error(path: &Path, reason: impl ToString) -> AuthError {
    AuthError::File { path: path.to_path_buf(), reason: reason.to_string() }
}

/// The token file of a data dir: read when it changes, written atomically.
pub struct Tokens {
    path: PathBuf,
    cached: Mutex<(Option<std::time::SystemTime>, Vec<TokenRecord>)>,
}

impl Tokens {
    pub fn open(data_dir: &Path) -> Tokens {
        Tokens { path: data_dir.join(TOKENS_FILE), cached: Mutex::new((None, Vec::new())) }
    }

    /// The tokens as the file now holds them (re-read only when its modification time moved,
    /// so tokens made with `freight token create` work without a restart).
    pub fn records(&self) -> Result<Vec<TokenRecord>, AuthError> {
        let modified = std::fs::metadata(&self.path).and_then(|meta| meta.modified()).ok();
        let mut cached = self.cached.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cached.0 != modified || modified.is_none() {
            let records = match std::fs::read(&self.path) {
                Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| file_error(&self.path, error))?,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(error) => return Err(file_error(&self.path, error)),
            };
            *cached = (modified, records);
        }
        Ok(cached.1.clone())
    }

    /// The principal a bearer token stands for.
    pub fn authenticate(&self, token: &str) -> Result<Option<Principal>, AuthError> {
        let wanted = hash(token.trim());
        Ok(self
            .records()?
            .into_iter()
            .find(|record| constant_time_eq(record.sha256.as_bytes(), wanted.as_bytes()))
            .map(|record| Principal { id: record.id, role: record.role }))
    }

    /// Makes a token; returns it (shown once, never kept) and its record.
    pub fn create(&self, name: &str, role: Role) -> Result<(String, TokenRecord), AuthError> {
        use rand::RngCore;
        let mut secret = [0u8; 24];
        rand::rng().fill_bytes(&mut secret);
        let token = format!("{TOKEN_PREFIX}{}", secret.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let mut records = self.records()?;
        let id = format!(
            "t{}",
            records.iter().filter_map(|r| r.id.strip_prefix('t')?.parse::<u64>().ok()).max().unwrap_or(0) + 1
        );
        let record = TokenRecord {
            id,
            name: name.to_string(),
            role,
            sha256: hash(&token),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        records.push(record.clone());
        self.write(&records)?;
        Ok((token, record))
    }

    /// Removes a token by id; false when there was none.
    pub fn revoke(&self, id: &str) -> Result<bool, AuthError> {
        let mut records = self.records()?;
        let before = records.len();
        records.retain(|record| record.id != id);
        if records.len() == before {
            return Ok(false);
        }
        self.write(&records)?;
        Ok(true)
    }

    fn write(&self, records: &[TokenRecord]) -> Result<(), AuthError> {
        let bytes = serde_json::to_vec_pretty(records).map_err(|error| file_error(&self.path, error))?;
        freight_store::write_atomic(&self.path, &bytes).map_err(|error| file_error(&self.path, error))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One read, as the audit log keeps it.
#[derive(Debug, Serialize)]
pub struct AuditEntry<'a> {
    pub at: String,
    pub principal: &'a str,
    pub role: &'static str,
    pub path: &'a str,
    pub query: &'a str,
    pub status: u16,
    /// Whether the answer could hold figures of single people.
    pub per_person: bool,
}

/// The append-only audit log of API reads.
pub struct Audit {
    file: Mutex<Option<std::fs::File>>,
    path: PathBuf,
}

impl Audit {
    pub fn open(data_dir: &Path) -> Result<Audit, AuthError> {
        let path = data_dir.join(AUDIT_FILE);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|error| file_error(folder, error))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|error| file_error(&path, error))?;
        Ok(Audit { file: Mutex::new(Some(file)), path })
    }

    /// Appends one entry (a whole line per write, so concurrent readers never see half).
    pub fn record(&self, entry: &AuditEntry<'_>) -> Result<(), AuthError> {
        let mut line = serde_json::to_vec(entry).map_err(|error| file_error(&self.path, error))?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match file.as_mut() {
            Some(file) => file.write_all(&line).map_err(|error| file_error(&self.path, error)),
            None => Err(file_error(&self.path, "closed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_hashed_and_found_by_their_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tokens = Tokens::open(dir.path());
        let lead = Role::TeamLead { teams: ["payments".to_string()].into() };
        let (secret, record) = tokens.create("Ana", lead.clone()).expect("creates");
        assert!(secret.starts_with(TOKEN_PREFIX));
        let kept = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).expect("kept");
        assert!(!kept.contains(&secret), "the secret itself is never written");
        let found = tokens.authenticate(&secret).expect("reads").expect("known");
        assert_eq!((found.id.as_str(), &found.role), (record.id.as_str(), &lead));
        assert!(tokens.authenticate("frt_wrong").expect("reads").is_none());
        let (_, second) = tokens.create("ops", Role::Ingest).expect("creates");
        assert_ne!(second.id, record.id);
        assert!(tokens.revoke(&record.id).expect("revokes"));
        assert!(tokens.authenticate(&secret).expect("reads").is_none(), "a revoked token opens nothing");
    }
}
