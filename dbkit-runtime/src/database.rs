//! [`Database`]: one connected database, its pool, and the sessions it hands out.

use std::fmt;
use std::sync::Arc;

use crate::engine::{Engine, MySqlFlavor, ServerInfo};
use crate::session::{DatabaseState, SessionTracker};
#[cfg(feature = "_sql")]
use crate::session::{Session, SqlDriver, Transaction};
use crate::{Backend, DatabaseConfig, Error, Result};

/// A connected database: a pool of connections to one backend, shared by cheap clones.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use dbkit_runtime::{Backend, Database};
///
/// let db = Database::connect("sqlite::memory:").await?;
/// assert_eq!(db.backend(), Backend::Sqlite);
/// db.health_check().await?;
///
/// // Commit on success, roll back on error: the closure's `Result` decides.
/// db.transaction::<sqlx::Sqlite, _>(async |tx| {
///     sqlx::query("CREATE TABLE notes (body TEXT)").execute(&mut **tx).await?;
///     sqlx::query("INSERT INTO notes VALUES ('kept')").execute(&mut **tx).await?;
///     Ok(())
/// })
/// .await?;
/// let mut session = db.session::<sqlx::Sqlite>().await?;
/// let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes").fetch_one(&mut *session).await?;
/// assert_eq!(n, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    config: DatabaseConfig,
    engine: Engine,
    server: ServerInfo,
    tracker: Arc<SessionTracker>,
}

/// A snapshot of a database's identity and pool, from [`Database::info`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatabaseInfo {
    /// The registered name.
    pub name: String,
    /// The backend.
    pub backend: Backend,
    /// The server's version string, as the server reports it (`SELECT VERSION()` or equivalent).
    pub server_version: String,
    /// The most connections the pool opens (`pool_size + max_overflow`).
    pub pool_max: u32,
    /// Connections open now.
    pub pool_size: u32,
    /// Open connections not in use.
    pub pool_idle: u32,
    /// Open connections in use.
    pub pool_in_use: u32,
    /// Sessions handed out and not yet returned.
    pub sessions_in_flight: usize,
    /// Open, draining or closed.
    pub state: DatabaseState,
}

impl Database {
    /// Connects to the database at `url`; the backend comes from the scheme (see
    /// [`DatabaseConfig::from_url`]). The database is named after its backend (`"postgres"`, …).
    ///
    /// The first connection is made before this returns, so a wrong address or password is an
    /// error here, not at the first query.
    pub async fn connect(url: &str) -> Result<Database> {
        Database::connect_with(DatabaseConfig::from_url(url)?).await
    }

    /// Connects with a full configuration. The database is named after its backend.
    pub async fn connect_with(config: DatabaseConfig) -> Result<Database> {
        let name = config.backend().name();
        Database::connect_named(name, config).await
    }

    /// Connects and names the database `name` (as the [`DatabaseManager`](crate::DatabaseManager)
    /// does); the name appears in errors, logs and metrics.
    pub async fn connect_named(name: &str, config: DatabaseConfig) -> Result<Database> {
        let (engine, server) = Engine::connect(&config).await.map_err(|e| match e {
            Error::Timeout { what, elapsed, .. } => Error::Timeout { database: name.to_owned(), what, elapsed },
            e => e,
        })?;
        tracing::info!(database = name, backend = %config.backend(), url = %config.redacted_url(),
            server_version = %server.version, "connected");
        Ok(Database {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                config,
                engine,
                server,
                tracker: Arc::new(SessionTracker::default()),
            }),
        })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.inner.engine.backend()
    }

    /// The configuration it was connected with.
    pub fn config(&self) -> &DatabaseConfig {
        &self.inner.config
    }

    /// The server's version string, as reported when the database connected.
    pub fn server_version(&self) -> &str {
        &self.inner.server.version
    }

    /// For a MySQL-protocol database, whether MySQL or MariaDB answers.
    pub fn mysql_flavor(&self) -> Option<MySqlFlavor> {
        self.inner.server.mysql_flavor
    }

    /// Open, draining or closed.
    pub fn state(&self) -> DatabaseState {
        self.inner.tracker.state()
    }

    /// Sessions handed out and not yet returned.
    pub fn sessions_in_flight(&self) -> usize {
        self.inner.tracker.in_flight()
    }

    /// Runs the backend's cheapest round trip (`SELECT 1`). A draining or closed database is
    /// unhealthy, so a readiness probe fails as soon as shutdown begins.
    pub async fn health_check(&self) -> Result<()> {
        match self.state() {
            DatabaseState::Open => self.inner.engine.ping().await,
            state => Err(Error::Unavailable { database: self.inner.name.clone(), state: state.as_str() }),
        }
    }

    /// The backend, server version and pool figures. Asks the server for its version again, so it
    /// also shows whether the server is reachable.
    pub async fn info(&self) -> Result<DatabaseInfo> {
        let server_version = self.inner.engine.server_version().await?;
        let (size, idle) = self.inner.engine.pool_counts();
        Ok(DatabaseInfo {
            name: self.inner.name.clone(),
            backend: self.backend(),
            server_version,
            pool_max: self.inner.config.max_connections(),
            pool_size: size,
            pool_idle: idle,
            pool_in_use: size.saturating_sub(idle),
            sessions_in_flight: self.sessions_in_flight(),
            state: self.state(),
        })
    }

    /// Checks that this database is a `DB` one; `what` names the caller in the error.
    #[cfg(feature = "_sql")]
    pub(crate) fn sqlx_pool<DB: SqlDriver>(&self, what: &'static str) -> Result<&sqlx::Pool<DB>> {
        DB::pool(&self.inner.engine).ok_or_else(|| Error::BackendMismatch {
            what,
            expected: DB::BACKEND,
            actual: self.backend(),
            database: self.inner.name.clone(),
        })
    }

    /// Hands out a pooled connection, counted as in flight until dropped.
    ///
    /// Fails with [`Error::BackendMismatch`] when this is not a `DB` database, with
    /// [`Error::Unavailable`] once a drain has started, and with a timeout when no connection frees
    /// up within `pool_timeout`.
    #[cfg(feature = "_sql")]
    pub async fn session<DB: SqlDriver>(&self) -> Result<Session<DB>> {
        let pool = self.sqlx_pool::<DB>("a session")?;
        let in_flight = self.inner.tracker.enter(&self.inner.name)?;
        let conn = pool.acquire().await?;
        Ok(Session::new(conn, in_flight))
    }

    /// Begins a transaction on a pooled connection. See [`Transaction`].
    #[cfg(feature = "_sql")]
    pub async fn begin<DB: SqlDriver>(&self) -> Result<Transaction<DB>> {
        let pool = self.sqlx_pool::<DB>("a transaction")?;
        let in_flight = self.inner.tracker.enter(&self.inner.name)?;
        let tx = pool.begin().await?;
        Ok(Transaction::new(tx, in_flight))
    }

    /// Runs `f` in a transaction: commits when it returns `Ok`, rolls back when it returns `Err`
    /// (or panics, or its future is dropped). The connection always goes back to the pool.
    #[cfg(feature = "_sql")]
    pub async fn transaction<DB, T>(&self, f: impl AsyncFnOnce(&mut Transaction<DB>) -> Result<T>) -> Result<T>
    where
        DB: SqlDriver,
    {
        let mut tx = self.begin::<DB>().await?;
        match f(&mut tx).await {
            Ok(value) => {
                tx.commit().await?;
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(database = %self.inner.name, error = %rollback, "rollback failed");
                }
                Err(error)
            }
        }
    }

    /// Stops handing out sessions and closes the pool, waiting for connections in use to be
    /// returned. Idempotent.
    pub async fn close(&self) {
        self.inner.tracker.set_state(DatabaseState::Closed);
        self.inner.engine.close().await;
        tracing::info!(database = %self.inner.name, "closed");
    }

    #[allow(dead_code)] // used by draining
    pub(crate) fn tracker(&self) -> &Arc<SessionTracker> {
        &self.inner.tracker
    }

    #[allow(dead_code)] // used by draining
    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("name", &self.inner.name)
            .field("backend", &self.backend())
            .field("url", &self.inner.config.redacted_url())
            .field("state", &self.state())
            .field("sessions_in_flight", &self.sessions_in_flight())
            .finish()
    }
}
