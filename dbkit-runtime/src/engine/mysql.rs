//! MySQL and MariaDB through sqlx.
//!
//! Tuning: the configured character set (`utf8mb4` by default, the only one that stores all of
//! Unicode), the session time zone pinned to UTC so `TIMESTAMP` values round-trip unchanged, and a
//! strict `sql_mode` so that an out-of-range or truncated value is an error rather than a silent
//! change. `command_timeout` becomes `max_statement_time` on MariaDB and `max_execution_time` on
//! MySQL (which applies it to `SELECT` only).

use std::str::FromStr;
use std::sync::Arc;

use sqlx::mysql::MySqlConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};

use super::pool::{SetUp, SqlPool};
use super::sql::log_options;
use super::{Engine, MySqlFlavor, ServerInfo};
use crate::config::Target;
use crate::{ConfigError, DatabaseConfig, Result};

/// Appended to the session's `sql_mode` on every new connection (sqlx already adds
/// `PIPES_AS_CONCAT` and `NO_ENGINE_SUBSTITUTION`).
const STRICT_MODES: &str = "STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_IN_DATE,NO_ZERO_DATE";

pub(crate) fn flavor_of(version: &str) -> MySqlFlavor {
    if version.to_ascii_lowercase().contains("mariadb") { MySqlFlavor::MariaDb } else { MySqlFlavor::MySql }
}

/// MariaDB added `INSERT … RETURNING` in 10.5; MySQL has none.
pub(crate) fn has_insert_returning(flavor: MySqlFlavor, version: &str) -> bool {
    let mut numbers = version.split(|c: char| !c.is_ascii_digit()).map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    flavor == MySqlFlavor::MariaDb && (major, minor) >= (10, 5)
}

/// The connect options `config` describes, and what runs on each new connection.
fn options(config: &DatabaseConfig) -> Result<(MySqlConnectOptions, SetUp<sqlx::MySql>)> {
    let Target::Server(url) = config.target() else { unreachable!("a MySQL configuration always has a server target") };
    let mut url = url.clone();
    if url.scheme() != "mysql" {
        // sqlx only knows `mysql:`; `mariadb:` is dbkit's alias.
        url = url::Url::parse(&url.as_str().replacen(url.scheme(), "mysql", 1))
            .map_err(|e| ConfigError::new(format!("invalid MySQL URL {}: {e}", config.redacted_url())))?;
    }
    let mut options = MySqlConnectOptions::from_str(url.as_str())
        .map_err(|e| ConfigError::new(format!("invalid MySQL URL {}: {e}", config.redacted_url())))?
        .charset(config.get_charset())
        .timezone(Some("+00:00".to_owned()));
    if let Some(password) = config.password_secret() {
        options = options.password(password);
    }
    let command_timeout = config.get_command_timeout();
    let set_up: SetUp<sqlx::MySql> = Arc::new(move |conn| {
        Box::pin(async move {
            let strict = format!("SET SESSION sql_mode = CONCAT(@@sql_mode, ',{STRICT_MODES}')");
            conn.execute(sqlx::AssertSqlSafe(strict)).await?;
            if let Some(timeout) = command_timeout {
                let version: String = sqlx::query_scalar("SELECT VERSION()").fetch_one(&mut *conn).await?;
                // Both are numbers we format ourselves; nothing user-supplied reaches this SQL.
                let set = match flavor_of(&version) {
                    MySqlFlavor::MariaDb => format!("SET SESSION max_statement_time = {}", timeout.as_secs_f64()),
                    MySqlFlavor::MySql => format!("SET SESSION max_execution_time = {}", timeout.as_millis()),
                };
                conn.execute(sqlx::AssertSqlSafe(set)).await?;
            }
            Ok(())
        })
    });
    Ok((log_options(options, config), set_up))
}

/// A pool that connects when first asked: a read replica's, which may be down when the database
/// connects.
pub(crate) fn connect_lazy(config: &DatabaseConfig, name: &str) -> Result<Engine> {
    let (options, set_up) = options(config)?;
    Ok(Engine::MySql(SqlPool::new(config, name, options, Some(set_up), config.get_pool_size())))
}

pub(crate) async fn connect(config: &DatabaseConfig, name: &str) -> Result<(Engine, ServerInfo)> {
    let (options, set_up) = options(config)?;
    // Probe first: a direct connection fails at once with the real cause (a pool would retry a
    // refused connection until its timeout), and tells the server's version.
    let mut probe = options.connect().await?;
    let version: String = sqlx::query_scalar("SELECT VERSION()").fetch_one(&mut probe).await?;
    probe.close().await?;
    let pool = SqlPool::new(config, name, options, Some(set_up), config.get_pool_size());
    let flavor = flavor_of(&version);
    let mysql_insert_returning =
        config.get_mysql_insert_returning().unwrap_or_else(|| has_insert_returning(flavor, &version));
    Ok((
        Engine::MySql(pool),
        ServerInfo { version, mysql_flavor: Some(flavor), mysql_insert_returning, clickhouse_query_parameters: false },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returning_is_mariadb_10_5_and_later() {
        for (version, expected) in [
            ("10.11.6-MariaDB-0+deb12u1", true),
            ("10.5.0-MariaDB", true),
            ("10.4.32-MariaDB", false),
            ("11.4.2-MariaDB-ubu2404", true),
            ("8.0.36", false),
            ("8.4.0-commercial", false),
        ] {
            assert_eq!(has_insert_returning(flavor_of(version), version), expected, "{version}");
        }
    }
}
