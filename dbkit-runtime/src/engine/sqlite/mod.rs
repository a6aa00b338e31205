//! SQLite through sqlx.
//!
//! Tuning: WAL journal and `synchronous = NORMAL` for files (readers never block the writer, and a
//! commit is durable at the next checkpoint, SQLite's recommended pairing), a busy timeout so that
//! concurrent writers wait instead of failing at once, and `foreign_keys = ON`, which SQLite leaves
//! off by default.
//!
//! An in-memory database is opened with a unique shared-cache name, so every pooled connection sees
//! the same database; the pool keeps one connection open for its whole life (no recycling, no idle
//! reaping), because the database disappears when its last connection closes.

pub(crate) mod native;

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use super::sql::{log_options, pool_options};
use super::{Engine, ServerInfo};
use crate::config::Target;
use crate::{DatabaseConfig, Result};

pub(crate) async fn connect(config: &DatabaseConfig) -> Result<(Engine, ServerInfo)> {
    let mut pool = pool_options::<sqlx::Sqlite>(config);
    let options = match config.target() {
        Target::SqliteMemory => {
            // sqlx gives `:memory:` a process-unique `file:sqlx-in-memory-N` name with shared cache.
            pool = pool.min_connections(1).max_lifetime(None).idle_timeout(None);
            SqliteConnectOptions::from_str("sqlite::memory:")?
        }
        Target::SqliteFile(path) => SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal),
        Target::Server(_) => unreachable!("an SQLite configuration always has an SQLite target"),
    };
    let options = options.busy_timeout(config.get_sqlite_busy_timeout()).foreign_keys(true);
    let pool = pool.connect_with(log_options(options, config)).await?;
    let version: String = sqlx::query_scalar("SELECT sqlite_version()").fetch_one(&pool).await?;
    Ok((Engine::Sqlite(pool), ServerInfo::plain(version)))
}
