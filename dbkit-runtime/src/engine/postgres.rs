//! PostgreSQL through sqlx.
//!
//! Tuning: `application_name` (shown in `pg_stat_activity`) and `statement_timeout` from
//! `command_timeout`, both sent as startup parameters so they cost no extra round trip. On
//! PostgreSQL 14 and later, `client_connection_check_interval` too: a statement whose client went
//! away (a force drain closed its connection) is then aborted within a second instead of running
//! on — an autocommit write waiting on a lock would otherwise still apply once the lock is freed.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use sqlx::{ConnectOptions, Connection};

use super::pool::SqlPool;
use super::sql::log_options;
use super::{Engine, ServerInfo};
use crate::config::Target;
use crate::{ConfigError, DatabaseConfig, Result};

/// The connect options `config` describes.
fn options(config: &DatabaseConfig) -> Result<PgConnectOptions> {
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
    Ok(options)
}

/// A pool that connects when first asked: a read replica's, which may be down when the database
/// connects. Without the probe's version, `client_connection_check_interval` is not sent (a
/// replica runs reads only, which a closed connection's server-side abort does not concern).
pub(crate) fn connect_lazy(config: &DatabaseConfig, name: &str) -> Result<Engine> {
    let options = options(config)?;
    Ok(Engine::Postgres(SqlPool::new(config, name, log_options(options, config), None, config.get_pool_size())))
}

pub(crate) async fn connect(config: &DatabaseConfig, name: &str) -> Result<(Engine, ServerInfo)> {
    let mut options = options(config)?;
    // Probe first: a direct connection fails at once with the real cause (a pool would retry a
    // refused connection until its timeout), and tells the version the startup parameters depend on.
    let mut probe = options.connect().await?;
    let (version, version_num): (String, String) =
        sqlx::query_as("SELECT current_setting('server_version'), current_setting('server_version_num')")
            .fetch_one(&mut probe)
            .await?;
    probe.close().await?;
    if version_num.parse::<u32>().is_ok_and(|n| n >= 140_000) {
        // An older server refuses a startup parameter it does not know, so only send it to 14+.
        options = options.options([("client_connection_check_interval", "1s")]);
    }
    let pool = SqlPool::new(config, name, log_options(options, config), None, config.get_pool_size());
    Ok((Engine::Postgres(pool), ServerInfo::plain(version)))
}
