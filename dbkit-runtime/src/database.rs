//! [`Database`]: one connected database, its pool, and the sessions it hands out.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

#[cfg(feature = "_sql")]
use crate::drain::tracker::InFlight;
use crate::drain::tracker::{DatabaseState, SessionTracker};
#[cfg(feature = "_sql")]
use crate::engine::pool::{AcquireError, SqlPool};
use crate::engine::{Engine, MySqlFlavor, ServerInfo};
use crate::observe::Telemetry;
#[cfg(feature = "_sql")]
use crate::replicas::ReadFrom;
use crate::replicas::{ReplicaInfo, ReplicaPosition, ReplicaSet};
#[cfg(feature = "_sql")]
use crate::session::{Session, SqlDriver, Transaction};
#[cfg(feature = "_transactions")]
use crate::transaction::DatabaseTransaction;
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
/// // Commit on success, roll back on error: the closure's `Result` decides. (A SQLite unit runs
/// // on dbkit's native engine, whose raw connection is rusqlite's.)
/// db.transaction(async |tx| {
///     tx.sqlite()?.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('kept')")?;
///     Ok(())
/// })
/// .await?;
/// // Raw sqlx sessions run on the same database.
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
    /// Read replicas, when configured (PostgreSQL, MySQL/MariaDB).
    replicas: Option<Arc<ReplicaSet>>,
}

/// A snapshot of a database's identity and pool, from [`Database::info`].
///
/// It implements `serde::Serialize` with these field names, the backend and state as their
/// lower-case names; it holds no URL, host, user or password:
///
/// ```json
/// {
///   "name": "main", "backend": "postgres", "server_version": "15.8",
///   "pool_max": 15, "pool_size": 1, "pool_idle": 1, "pool_in_use": 0,
///   "sessions_in_flight": 0, "state": "open"
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
    /// Each read replica: its state, lag and replayed position (see [`crate::replicas`]); in JSON
    /// only when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<ReplicaInfo>,
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
        // The calls' clock calibrates itself once per process, in about 0.6 ms: here, rather than
        // in the first call (see `retry::Attempts`).
        quanta::Instant::now();
        let (engine, server) = Engine::connect(&config, name).await.map_err(|e| match e {
            Error::Timeout { what, elapsed, .. } => Error::Timeout { database: name.to_owned(), what, elapsed },
            e => e,
        })?;
        tracing::info!(database = name, backend = %config.backend(), url = %config.redacted_url(),
            server_version = %server.version, "connected");
        let mariadb = server.mysql_flavor == Some(MySqlFlavor::MariaDb);
        let telemetry = Telemetry::new(name, &config, crate::observe::system_name(config.backend(), mariadb));
        // The native SQLite engine has no pool to wait on: its connections are counted once here.
        let (open, idle) = engine.pool_counts();
        telemetry.connections(open, idle);
        let replicas = ReplicaSet::connect(&config, name, &engine).await?;
        Ok(Database {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                config,
                engine,
                server,
                tracker: Arc::new(SessionTracker::new(name, telemetry)),
                replicas,
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

    /// Whether this MySQL-protocol server takes `INSERT … RETURNING` (MariaDB 10.5 and later, unless
    /// [`DatabaseConfig::mysql_insert_returning`] says otherwise). Generated `create` reads the row
    /// back in the same transaction where it does not.
    pub fn mysql_insert_returning(&self) -> bool {
        self.inner.server.mysql_insert_returning
    }

    /// Whether this ClickHouse server takes server-side query parameters (19.11 and later, unless
    /// [`DatabaseConfig::clickhouse_query_parameters`] says otherwise). Generated
    /// `#[dbkit::queries]` methods send their values as parameters where it does, and write them
    /// into the statement with the `clickhouse` crate's escaping where it does not (18.16).
    pub fn clickhouse_query_parameters(&self) -> bool {
        self.inner.server.clickhouse_query_parameters
    }

    /// Open, draining or closed.
    pub fn state(&self) -> DatabaseState {
        self.inner.tracker.state()
    }

    /// Sessions handed out and not yet returned.
    pub fn sessions_in_flight(&self) -> usize {
        self.inner.tracker.in_flight()
    }

    /// Connections open now, in use or idle. Unlike [`info`](Database::info), no round trip, so it
    /// also answers for a drained database.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use std::time::Duration;
    /// use dbkit_runtime::{Database, DrainMode};
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// assert_eq!(db.connections_open(), 1);
    /// db.drain(DrainMode::Graceful, Duration::from_secs(5)).await;
    /// assert_eq!(db.connections_open(), 0);
    /// # Ok(()) }
    /// ```
    pub fn connections_open(&self) -> u32 {
        self.inner.engine.pool_counts().0
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
            replicas: self.replica_info(),
        })
    }

    /// Checks that this database is a `DB` one; `what` names the caller in the error.
    #[cfg(feature = "_sql")]
    pub(crate) fn sqlx_pool<DB: SqlDriver>(&self, what: &'static str) -> Result<&SqlPool<DB>> {
        DB::pool(&self.inner.engine).ok_or_else(|| Error::BackendMismatch {
            what,
            expected: vec![DB::BACKEND],
            actual: self.backend(),
            database: self.inner.name.clone(),
        })
    }

    /// Hands out a pooled connection, counted as in flight until dropped.
    ///
    /// Fails with [`Error::BackendMismatch`] when this is not a `DB` database, with
    /// [`Error::Unavailable`] once a drain has started (also for a caller that was still waiting
    /// for a connection when it started), and with a timeout when no connection frees up within
    /// `pool_timeout`.
    #[cfg(feature = "_sql")]
    pub async fn session<DB: SqlDriver>(&self) -> Result<Session<DB>> {
        let pool = self.sqlx_pool::<DB>("a session")?;
        let in_flight = self.inner.tracker.enter(&self.inner.name)?;
        let telemetry = &self.inner.tracker.telemetry;
        let Some(started) = telemetry.acquiring() else {
            // No recorder: nothing to time.
            let conn = pool.acquire().await.map_err(|e| self.closed_pool(e))?;
            return Ok(Session::new(conn, in_flight));
        };
        self.acquire_observed(pool, in_flight, started).await
    }

    /// [`session`](Self::session) with a recorder: the wait, a timeout and the checkout go to the
    /// pool's metrics. Out of line, so the unobserved path stays small.
    #[cfg(feature = "_sql")]
    #[inline(never)]
    async fn acquire_observed<DB: SqlDriver>(
        &self,
        pool: &SqlPool<DB>,
        mut in_flight: InFlight,
        started: quanta::Instant,
    ) -> Result<Session<DB>> {
        let telemetry = &self.inner.tracker.telemetry;
        let acquired = pool.acquire().await;
        let timed_out = matches!(acquired, Err(AcquireError::TimedOut));
        let at = telemetry.acquired(started, acquired.is_ok(), timed_out, pool.size());
        let conn = acquired.map_err(|e| self.closed_pool(e))?;
        in_flight.checked_out(at);
        Ok(Session::new(conn, in_flight))
    }

    /// Begins a transaction on a pooled connection. See [`Transaction`].
    ///
    /// Fails like [`session`](Database::session).
    #[cfg(feature = "_sql")]
    pub async fn begin<DB: SqlDriver>(&self) -> Result<Transaction<DB>> {
        self.session::<DB>().await?.begin().await
    }

    /// The database's metric handles and labels.
    pub(crate) fn telemetry(&self) -> &Telemetry {
        &self.inner.tracker.telemetry
    }

    /// A closed pool means a drain closed it while we waited: say so as dbkit does.
    #[cfg(feature = "_sql")]
    fn closed_pool(&self, error: AcquireError) -> Error {
        match error {
            AcquireError::Closed => self.inner.tracker.unavailable(self.state()),
            error => Error::Sqlx(error.into()),
        }
    }

    /// Runs `f` in a transaction: commits when it returns `Ok`, rolls back when it returns `Err`
    /// (or panics, or its future is dropped). The connection always goes back to the pool (once
    /// the database is draining, it is closed instead).
    ///
    /// `f` gets a [`DatabaseTransaction`], whatever the backend: the same code runs on SQLite,
    /// PostgreSQL, MySQL and Oracle. Nothing in it is retried; [`transaction_with`](Database::transaction_with)
    /// reruns the whole transaction when that is safe. ClickHouse has no transactions:
    /// [`Error::TransactionsUnsupported`].
    ///
    /// `f` runs inside [`cancellable`](Database::cancellable): a
    /// [`DrainMode::Force`](crate::DrainMode::Force) drain drops it where it stands, rolls the
    /// transaction back and returns [`Error::Unavailable`].
    #[cfg(feature = "_transactions")]
    pub async fn transaction<T>(&self, f: impl AsyncFnOnce(&mut DatabaseTransaction) -> Result<T>) -> Result<T> {
        self.run_transaction(f).await.map_err(|failed| failed.error)
    }

    /// One run of a unit of work, for [`transaction`](Database::transaction) and each attempt of
    /// [`transaction_with`](Database::transaction_with): begin, `f` inside the force drain's
    /// cancellation, then `COMMIT` on `Ok` or `ROLLBACK` on `Err`.
    ///
    /// One span, `transaction`, covers it and the generated calls inside (see [`crate::observe`]).
    #[cfg(feature = "_transactions")]
    pub(crate) async fn run_transaction<T>(
        &self,
        f: impl AsyncFnOnce(&mut DatabaseTransaction) -> Result<T>,
    ) -> Result<T, FailedTransaction> {
        use tracing::Instrument;
        let telemetry = self.telemetry();
        let span = if !crate::observe::__spans_wanted() {
            tracing::Span::none()
        } else {
            tracing::info_span!(
            target: "dbkit",
            "transaction",
            db.system.name = telemetry.system,
            db.namespace = %telemetry.namespace,
            server.address = %telemetry.server_address,
            error.type = tracing::field::Empty,
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            )
        };
        let result = self.run_transaction_in_span(f).instrument(span.clone()).await;
        if let Err(failed) = &result
            && !span.is_disabled()
        {
            span.record("error.type", crate::observe::error_type(&failed.error));
            span.record("otel.status_code", "ERROR");
        }
        result
    }

    #[cfg(feature = "_transactions")]
    async fn run_transaction_in_span<T>(
        &self,
        f: impl AsyncFnOnce(&mut DatabaseTransaction) -> Result<T>,
    ) -> Result<T, FailedTransaction> {
        let not_committed = |error| FailedTransaction { error, committing: false };
        let mut tx = DatabaseTransaction::begin(self).await.map_err(not_committed)?;
        let tracker = &self.inner.tracker;
        let outcome = tokio::select! {
            biased;
            () = tracker.cancelled() => None,
            outcome = f(&mut tx) => Some(outcome),
        };
        let Some(outcome) = outcome else {
            // Not `rollback().await`: the abandoned statement's reply would be waited for first.
            // Dropping `tx` drops its connection, and the pool is already closed by then, so the
            // driver closes it (queuing a ROLLBACK ahead of the close) and the server rolls back.
            drop(tx);
            return Err(not_committed(tracker.unavailable(DatabaseState::Closed)));
        };
        match outcome {
            Ok(value) => {
                #[cfg(feature = "redis")]
                let invalidations = tx.take_invalidations();
                let committed = tx.commit().await;
                // After `COMMIT`, whatever its answer: an error there may have committed, and an
                // invalidation too many costs one reload.
                #[cfg(feature = "redis")]
                crate::cache::invalidate_all(invalidations).await;
                match committed {
                    Ok(()) => Ok(value),
                    Err(error) => Err(FailedTransaction { error, committing: true }),
                }
            }
            Err(error) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(database = %self.inner.name, error = %rollback, "rollback failed");
                }
                Err(not_committed(error))
            }
        }
    }

    /// Completes when a [`DrainMode::Force`](crate::DrainMode::Force) drain of this database
    /// starts (at once if one has).
    ///
    /// For a `tokio::select!` of your own; [`cancellable`](Database::cancellable) is the usual way.
    /// The future owns what it needs, so it can be moved into a task.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use std::time::Duration;
    /// use dbkit_runtime::{Database, DrainMode};
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// let cancelled = db.cancelled();
    /// db.drain(DrainMode::Force, Duration::from_secs(1)).await;
    /// cancelled.await; // completes: the drain was a force one
    /// # Ok(()) }
    /// ```
    pub fn cancelled(&self) -> impl Future<Output = ()> + Send + 'static {
        let tracker = Arc::clone(&self.inner.tracker);
        async move { tracker.cancelled().await }
    }

    /// Runs `work` unless a [`DrainMode::Force`](crate::DrainMode::Force) drain of this database
    /// starts first: then `work` is dropped where it stands (and with it any session or
    /// transaction it holds, whose connection is closed, so an open transaction rolls back) and the
    /// result is [`Error::Unavailable`] with state `closed`.
    ///
    /// Use it around long work on a session you hold yourself; dbkit cannot interrupt a statement
    /// on a connection another task owns. [`transaction`](Database::transaction) already runs its
    /// closure this way.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use std::time::Duration;
    /// use dbkit_runtime::{Database, DrainMode, Error};
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// let worker = {
    ///     let db = db.clone();
    ///     tokio::spawn(async move {
    ///         db.cancellable(async {
    ///             let _session = db.session::<sqlx::Sqlite>().await?;
    ///             tokio::time::sleep(Duration::from_secs(60)).await; // long work
    ///             Ok::<_, Error>(())
    ///         })
    ///         .await
    ///     })
    /// };
    /// while db.sessions_in_flight() == 0 { tokio::task::yield_now().await; }
    /// let report = db.drain(DrainMode::Force, Duration::from_secs(5)).await;
    /// assert!(report.finished_within_timeout);
    /// assert!(matches!(worker.await.unwrap(), Err(Error::Unavailable { state: "closed", .. })));
    /// # Ok(()) }
    /// ```
    pub async fn cancellable<T, E>(
        &self,
        work: impl Future<Output = std::result::Result<T, E>>,
    ) -> std::result::Result<T, E>
    where
        E: From<Error>,
    {
        let tracker = &self.inner.tracker;
        tokio::select! {
            biased;
            () = tracker.cancelled() => Err(tracker.unavailable(DatabaseState::Closed).into()),
            result = work => result,
        }
    }

    /// Stops handing out sessions and closes the pool, waiting for connections in use to be
    /// returned, however long that takes; [`drain`](Database::drain) is the bounded way. Idempotent.
    pub async fn close(&self) {
        self.inner.tracker.set_state(DatabaseState::Closed);
        // A ClickHouse inserter writes what it holds, as on a drain (not waited for here).
        self.inner.tracker.announce_drain();
        self.inner.engine.close().await;
        if let Some(replicas) = &self.inner.replicas {
            replicas.close().await;
        }
        tracing::info!(database = %self.inner.name, "closed");
    }

    /// Each read replica as its last check found it; empty without replicas. No round trip.
    pub fn replica_info(&self) -> Vec<ReplicaInfo> {
        self.inner.replicas.as_ref().map(|set| set.info()).unwrap_or_default()
    }

    /// The read replicas, when configured.
    pub(crate) fn replicas(&self) -> Option<&Arc<ReplicaSet>> {
        self.inner.replicas.as_ref()
    }

    /// The primary's replication position now: at or after every write that has returned. Give it
    /// to [`ReadFrom::AtLeast`](crate::ReadFrom::AtLeast) for a read that must see those writes (and
    /// carry it to the next request, as text, for one that must see them too). One round trip to
    /// the primary; PostgreSQL and MariaDB only.
    pub async fn primary_position(&self) -> Result<ReplicaPosition> {
        ReplicaSet::primary_position(&self.inner.engine).await
    }

    /// A session for a generated read: on a replica when `from` and the replicas allow, else on
    /// the primary. A replica that cannot give a connection is passed over for the primary.
    #[cfg(feature = "_sql")]
    pub(crate) async fn read_session<DB: SqlDriver>(&self, from: &ReadFrom) -> Result<(Session<DB>, Option<usize>)> {
        if let Some(set) = &self.inner.replicas
            && let Some((index, engine)) = set.route(from).await
            && let Some(pool) = DB::pool(engine)
        {
            let in_flight = self.inner.tracker.enter(&self.inner.name)?;
            match pool.acquire().await {
                Ok(conn) => return Ok((Session::new(conn, in_flight), Some(index))),
                Err(_) => set.failed(index),
            }
        }
        Ok((self.session::<DB>().await?, None))
    }

    pub(crate) fn tracker(&self) -> &Arc<SessionTracker> {
        &self.inner.tracker
    }

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

/// How one run of a unit of work failed: the error, and whether it came from `COMMIT` (which may
/// have applied).
#[cfg(feature = "_transactions")]
pub(crate) struct FailedTransaction {
    pub(crate) error: Error,
    pub(crate) committing: bool,
}
