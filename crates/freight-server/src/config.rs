//! The server's configuration: one TOML file, every key optional, defaults that bind to
//! localhost and keep data under `./freight-data`. Secrets are named by environment variable,
//! never written in the file.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// OTLP/HTTP listen address (`/v1/logs`, `/v1/traces`, `/v1/metrics`) and the webhooks.
    pub listen: SocketAddr,
    /// OTLP/gRPC listen address; `grpc = false` turns it off.
    pub grpc_listen: SocketAddr,
    pub grpc: bool,
    pub data_dir: PathBuf,
    /// Largest request body accepted, before and after gzip (bytes).
    pub max_body_bytes: usize,
    pub store: StoreConfig,
    pub github: GithubConfig,
    pub org: OrgConfig,
    pub auth: AuthConfig,
    pub api: ApiConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Requests from loopback without a token act as admin (turn off behind a local proxy).
    pub trust_localhost: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// How long a computed report is served before it is computed again (seconds); a stale
    /// one is served while the new one is made.
    pub cache_secs: u64,
    /// Memory the kept reports and their rendered answers may take (MiB, estimated by their
    /// bytes); beyond it the reports computed longest ago are dropped.
    pub cache_mb: u64,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        AuthConfig { trust_localhost: true }
    }
}

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig { cache_secs: 60, cache_mb: 1024 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub flush_rows: usize,
    pub flush_interval_secs: u64,
    pub compact_at: usize,
    /// Days of events kept; absent keeps everything.
    pub retention_days: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GithubConfig {
    /// Environment variable holding the webhook secret. Without a secret, webhooks are refused.
    pub webhook_secret_env: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrgConfig {
    /// The org directory (TOML or CSV) reports use.
    pub directory: Option<PathBuf>,
    /// Price overrides (TOML) on top of the pinned catalog.
    pub prices: Option<PathBuf>,
    /// Git repositories reports mine for outcomes.
    pub repos: Vec<PathBuf>,
    /// A freight dataset (docs/DATASET.md) whose outcome files reports add: commits with
    /// their survival, pull requests, deploys, tickets, incidents, from another system in bulk.
    pub outcomes_dataset: Option<PathBuf>,
    /// The model portfolio and tokenmaxxing marks (TOML, docs/BEHAVIOURS.md).
    pub portfolio: Option<PathBuf>,
    /// How often the server mines the registered repositories (seconds; 0: only when a
    /// registration or a `push` webhook says one changed).
    pub mine_interval_secs: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 4318)),
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 4317)),
            grpc: true,
            data_dir: PathBuf::from("freight-data"),
            max_body_bytes: 16 << 20,
            store: StoreConfig::default(),
            github: GithubConfig::default(),
            org: OrgConfig::default(),
            auth: AuthConfig::default(),
            api: ApiConfig::default(),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        let store = freight_store::StoreOptions::default();
        StoreConfig {
            flush_rows: store.flush_rows,
            flush_interval_secs: store.flush_interval.as_secs(),
            compact_at: store.compact_at,
            retention_days: None,
        }
    }
}

impl Default for OrgConfig {
    fn default() -> OrgConfig {
        OrgConfig {
            directory: None,
            prices: None,
            repos: Vec::new(),
            outcomes_dataset: None,
            portfolio: None,
            mine_interval_secs: 600,
        }
    }
}

impl Default for GithubConfig {
    fn default() -> GithubConfig {
        GithubConfig { webhook_secret_env: "FREIGHT_GITHUB_WEBHOOK_SECRET".into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl Config {
    /// Reads a config file; paths in it are relative to the file's folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let mut config: Config = toml::from_str(&text)
            .map_err(|error| ConfigError::Invalid { path: path.to_path_buf(), reason: error.to_string() })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let anchor = |relative: &mut PathBuf| {
            if relative.is_relative() {
                *relative = base.join(&*relative);
            }
        };
        anchor(&mut config.data_dir);
        config.org.directory.as_mut().map(anchor);
        config.org.prices.as_mut().map(anchor);
        config.org.outcomes_dataset.as_mut().map(anchor);
        config.org.portfolio.as_mut().map(anchor);
        config.org.repos.iter_mut().for_each(anchor);
        if config.max_body_bytes == 0 {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                reason: "max_body_bytes must be above 0".into(),
            });
        }
        Ok(config)
    }

    pub fn store_options(&self) -> freight_store::StoreOptions {
        freight_store::StoreOptions {
            flush_rows: self.store.flush_rows.max(1),
            flush_interval: Duration::from_secs(self.store.flush_interval_secs.max(1)),
            compact_at: self.store.compact_at,
            retention_days: self.store.retention_days,
            ..freight_store::StoreOptions::default()
        }
    }

    /// The webhook secret, read from its environment variable.
    pub fn github_secret(&self) -> Option<Vec<u8>> {
        std::env::var(&self.github.webhook_secret_env).ok().filter(|secret| !secret.is_empty()).map(String::into_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_sets_what_it_names_and_anchors_paths_at_its_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("freight.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:9318\"\ndata_dir = \"data\"\n[store]\nretention_days = 30\n[org]\nrepos = [\"/srv/api\", \"web\"]\n").expect("writes");
        let config = Config::load(&path).expect("loads");
        assert_eq!(config.listen.port(), 9318);
        assert_eq!(config.data_dir, dir.path().join("data"));
        assert_eq!(config.store.retention_days, Some(30));
        assert_eq!(config.store.flush_rows, 250_000);
        assert_eq!(config.org.repos, [PathBuf::from("/srv/api"), dir.path().join("web")]);
        assert!(config.auth.trust_localhost, "loopback is trusted unless the file says not");
        assert_eq!((config.api.cache_secs, config.org.mine_interval_secs), (60, 600));

        std::fs::write(&path, "[auth]\ntrust_localhost = false\n[api]\ncache_secs = 5\n[org]\noutcomes_dataset = \"ds\"\nmine_interval_secs = 0\n").expect("writes");
        let config = Config::load(&path).expect("loads");
        assert!(!config.auth.trust_localhost);
        assert_eq!((config.api.cache_secs, config.org.mine_interval_secs), (5, 0));
        assert_eq!(config.org.outcomes_dataset, Some(dir.path().join("ds")));

        std::fs::write(&path, "listen = \"0.0.0.0:9318\"\nlisten_port = 1\n").expect("writes");
        let error = Config::load(&path).expect_err("unknown key").to_string();
        assert!(error.contains("listen_port"), "{error}");
    }
}
