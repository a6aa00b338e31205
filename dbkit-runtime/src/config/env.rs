//! Configuration from environment variables and `.env` files.
//!
//! (Being written: layering, the seeds' per-backend layout and the generic `DB_` layout.)

use std::collections::BTreeMap;

use crate::{ConfigError, DatabaseConfig};

/// A snapshot of configuration variables: the process environment layered over `.env.<APP_ENV>`
/// layered over `.env`.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// Reads `.env`, then `.env.<APP_ENV>`, from the current directory, then the process environment.
    pub fn load() -> Result<Env, ConfigError> {
        Ok(Env { vars: std::env::vars().collect() })
    }

    /// An explicit set of variables (for tests, or configuration from elsewhere).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        Env { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").field("variables", &self.vars.len()).finish()
    }
}

/// The databases `env` configures, by name.
pub(crate) fn databases(env: &Env) -> Result<Vec<(String, DatabaseConfig)>, ConfigError> {
    let mut out = Vec::new();
    if let Some(url) = env.get("DB_URL") {
        let config = DatabaseConfig::parse_url(url, Some("DB_URL"))?;
        out.push((config.backend().name().to_owned(), config));
    }
    Ok(out)
}
