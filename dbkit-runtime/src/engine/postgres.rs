//! PostgreSQL through sqlx.
//!
//! Tuning: `application_name` (shown in `pg_stat_activity`) and `statement_timeout` from
//! `command_timeout`, both sent as startup parameters so they cost no extra round trip.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use super::{Engine, ServerInfo, log_options, pool_options, probe_then_pool};
use crate::config::Target;
use crate::{ConfigError, DatabaseConfig, Result};

pub(crate) async fn connect(config: &DatabaseConfig) -> Result<(Engine, ServerInfo)> {
    let Target::Server(url) = config.target() else {
        unreachable!("a PostgreSQL configuration always has a server target")
    };
    // The URL carries no password (it was taken out when the config was built), so a parse error
    // cannot leak one; sqlx still reads every connection parameter it supports (sslmode, …).
    let mut options = PgConnectOptions::from_str(url.as_str())
        .map_err(|e| ConfigError::new(format!("invalid PostgreSQL URL {}: {e}", config.redacted_url())))?
        .application_name(config.get_application_name());
    if let Some(password) = config.password_secret() {
        options = options.password(password);
    }
    if let Some(timeout) = config.get_command_timeout() {
        options = options.options([("statement_timeout", format!("{}ms", timeout.as_millis()))]);
    }
    let (pool, version) =
        probe_then_pool(pool_options(config), log_options(options, config), "SHOW server_version").await?;
    Ok((Engine::Postgres(pool), ServerInfo { version, mysql_flavor: None }))
}
