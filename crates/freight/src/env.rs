//! freight's own environment variables, in one place. The agents' variables
//! (`CLAUDE_CONFIG_DIR`, `CODEX_HOME`, `HOME`) are read where their logs are found,
//! in `freight_ingest::discover`.
/// A TOML file of price overrides (same as `--prices`).
pub const FREIGHT_PRICES: &str = "FREIGHT_PRICES";
/// Default time zone for reports (same as `--timezone`).
pub const FREIGHT_TIMEZONE: &str = "FREIGHT_TIMEZONE";
/// The org directory file (same as `--org`).
pub const FREIGHT_ORG: &str = "FREIGHT_ORG";
/// The server's config file (same as `freight serve --config`).
pub const FREIGHT_CONFIG: &str = "FREIGHT_CONFIG";
