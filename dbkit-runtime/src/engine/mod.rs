//! Engines: the pooled connections of one backend, built from a [`DatabaseConfig`].
//!
//! Each backend module turns the shared settings into its pool (max connections =
//! `pool_size + max_overflow`, acquire timeout = `pool_timeout`, max lifetime = `pool_recycle`,
//! `pool_pre_ping`, idle timeout) plus its own tuning, documented there. The sqlx backends share
//! dbkit's pool of sqlx connections ([`pool`]).
//!
//! A backend is one module here and one variant of [`Engine`]: its engine, the session type it
//! hands out where it is not sqlx's (`clickhouse`, `oracle`) and the row code generated
//! repositories call (`clickhouse/row.rs`, `oracle/row.rs`; for the sqlx backends, `sql.rs`, which
//! also holds the pool settings the three share).

#[cfg(feature = "clickhouse")]
pub(crate) mod clickhouse;
#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "oracle")]
pub(crate) mod oracle;
#[cfg(feature = "_sql")]
pub(crate) mod pool;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "_sql")]
pub(crate) mod sql;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

use crate::{Backend, DatabaseConfig, Error, Result};

/// A backend's pool.
#[derive(Debug, Clone)]
#[doc(hidden)] // `pub` only so the sealed `SqlDriver` can name it; the module is private.
#[cfg_attr(not(feature = "_sql"), allow(unreachable_pub))]
// without a sqlx backend, nothing does
// One engine per database, inside its `Arc`: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Engine {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::SqliteEngine),
    #[cfg(feature = "postgres")]
    Postgres(pool::SqlPool<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(pool::SqlPool<sqlx::MySql>),
    #[cfg(feature = "clickhouse")]
    ClickHouse(::clickhouse::Client),
    #[cfg(feature = "oracle")]
    Oracle(::oracle::pool::Pool),
}

/// Which product answers on a MySQL connection: they differ in SQL (MariaDB has `RETURNING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MySqlFlavor {
    /// Oracle MySQL.
    MySql,
    /// MariaDB.
    MariaDb,
}

/// What is known about the server once connected.
#[derive(Debug, Clone)]
pub(crate) struct ServerInfo {
    pub(crate) version: String,
    pub(crate) mysql_flavor: Option<MySqlFlavor>,
    /// Whether `INSERT … RETURNING` works (MariaDB 10.5+; never MySQL).
    pub(crate) mysql_insert_returning: bool,
    /// Whether a ClickHouse server takes server-side query parameters (19.11 and later).
    pub(crate) clickhouse_query_parameters: bool,
}

impl ServerInfo {
    /// A server that is not MySQL-protocol.
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "clickhouse", feature = "oracle"))]
    pub(crate) fn plain(version: String) -> Self {
        ServerInfo { version, mysql_flavor: None, mysql_insert_returning: false, clickhouse_query_parameters: false }
    }
}

impl Engine {
    /// Opens the pool and makes the first connection, so a bad address or password fails here.
    /// `name` is the database's, for the pool's metrics.
    pub(crate) async fn connect(
        config: &DatabaseConfig,
        // Only the pool of the sqlx backends records metrics under it.
        #[cfg_attr(not(feature = "_sql"), allow(unused_variables))] name: &str,
    ) -> Result<(Engine, ServerInfo)> {
        config.validate()?;
        let backend = config.backend();
        if !backend.is_enabled() {
            return Err(Error::BackendNotEnabled { backend });
        }
        let connect = async {
            match backend {
                #[cfg(feature = "sqlite")]
                Backend::Sqlite => sqlite::connect(config, name).await,
                #[cfg(feature = "postgres")]
                Backend::Postgres => postgres::connect(config, name).await,
                #[cfg(feature = "mysql")]
                Backend::MySql => mysql::connect(config, name).await,
                #[cfg(feature = "clickhouse")]
                Backend::ClickHouse => clickhouse::connect(config).await,
                #[cfg(feature = "oracle")]
                Backend::Oracle => oracle::connect(config).await,
                #[allow(unreachable_patterns)] // reachable when a backend's feature is off
                _ => Err(Error::BackendNotEnabled { backend }),
            }
        };
        let timeout = config.get_connect_timeout();
        match tokio::time::timeout(timeout, connect).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout { database: String::new(), what: "the first connection", elapsed: timeout }),
        }
    }

    /// A read replica's engine: its pool, which connects when first asked (see [`crate::replicas`]).
    pub(crate) fn connect_lazy(
        config: &DatabaseConfig,
        #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(unused_variables))] name: &str,
    ) -> Result<Engine> {
        config.validate()?;
        match config.backend() {
            #[cfg(feature = "postgres")]
            Backend::Postgres => postgres::connect_lazy(config, name),
            #[cfg(feature = "mysql")]
            Backend::MySql => mysql::connect_lazy(config, name),
            backend => Err(Error::Config(crate::ConfigError::new(format!(
                "read replicas are supported on PostgreSQL and MySQL/MariaDB, not {backend}"
            )))),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "sqlite")]
            Engine::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Engine::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Engine::MySql(_) => Backend::MySql,
            #[cfg(feature = "clickhouse")]
            Engine::ClickHouse(_) => Backend::ClickHouse,
            #[cfg(feature = "oracle")]
            Engine::Oracle(_) => Backend::Oracle,
        }
    }

    /// Connections open, and of those idle.
    pub(crate) fn pool_counts(&self) -> (u32, u32) {
        match self {
            #[cfg(feature = "sqlite")]
            Engine::Sqlite(e) => {
                let (open, idle) = e.native.pool_counts();
                (open + e.pool.size(), idle + e.pool.idle())
            }
            #[cfg(feature = "postgres")]
            Engine::Postgres(p) => (p.size(), p.idle()),
            #[cfg(feature = "mysql")]
            Engine::MySql(p) => (p.size(), p.idle()),
            // hyper's connection pool inside the client is not observable.
            #[cfg(feature = "clickhouse")]
            Engine::ClickHouse(_) => (0, 0),
            #[cfg(feature = "oracle")]
            Engine::Oracle(p) => oracle::pool_counts(p),
        }
    }

    /// Runs the backend's cheapest round trip.
    pub(crate) async fn ping(&self) -> Result<()> {
        match self {
            #[cfg(feature = "sqlite")]
            Engine::Sqlite(e) => e.native.ping().await?,
            #[cfg(feature = "postgres")]
            Engine::Postgres(p) => sqlx::query("SELECT 1").execute(&mut *p.acquire().await?).await.map(drop)?,
            #[cfg(feature = "mysql")]
            Engine::MySql(p) => sqlx::query("SELECT 1").execute(&mut *p.acquire().await?).await.map(drop)?,
            #[cfg(feature = "clickhouse")]
            Engine::ClickHouse(c) => c.query("SELECT 1").execute().await?,
            #[cfg(feature = "oracle")]
            Engine::Oracle(p) => oracle::ping(p).await?,
        }
        Ok(())
    }

    /// Asks the server for its version.
    pub(crate) async fn server_version(&self) -> Result<String> {
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Engine::Sqlite(e) => e.native.version().await?,
            #[cfg(feature = "postgres")]
            Engine::Postgres(p) => {
                sqlx::query_scalar("SHOW server_version").fetch_one(&mut *p.acquire().await?).await?
            }
            #[cfg(feature = "mysql")]
            Engine::MySql(p) => sqlx::query_scalar("SELECT VERSION()").fetch_one(&mut *p.acquire().await?).await?,
            #[cfg(feature = "clickhouse")]
            Engine::ClickHouse(c) => c.query("SELECT version()").fetch_one().await?,
            #[cfg(feature = "oracle")]
            Engine::Oracle(p) => oracle::server_version(p).await?,
        })
    }

    /// Closes idle connections now and waits for the others to be returned, then closes them.
    pub(crate) async fn close(&self) {
        match self {
            #[cfg(feature = "sqlite")]
            Engine::Sqlite(e) => {
                e.native.close();
                e.pool.close_and_wait().await;
                e.native.close_writer().await;
            }
            #[cfg(feature = "postgres")]
            Engine::Postgres(p) => p.close_and_wait().await,
            #[cfg(feature = "mysql")]
            Engine::MySql(p) => p.close_and_wait().await,
            // Dropping the last clone of the client closes its HTTP connections.
            #[cfg(feature = "clickhouse")]
            Engine::ClickHouse(_) => {}
            #[cfg(feature = "oracle")]
            Engine::Oracle(p) => oracle::close(p).await,
        }
    }
}
