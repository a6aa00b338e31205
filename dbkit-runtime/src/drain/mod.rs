//! Draining: how a database stops its work before the process exits, in one of three
//! [`DrainMode`]s, and the [`DrainReport`] that says how it went.
//!
//! A pool's close alone waits for every connection in use to come back, with no limit and without
//! cancelling anything (sqlx's: sqlx #1773, #1764, which also closes the *idle* connections only
//! after that). A drain is bounded by its timeout and counts what is in flight with dbkit's own
//! session guards, so it knows about work that is still waiting for a connection too.
//!
//! Every mode starts the same way: the database's state becomes
//! [`Draining`](crate::DatabaseState::Draining) before anything else happens, so
//! [`DatabaseManager::health`](crate::DatabaseManager::health) reports it from the first moment and
//! readiness probes fail first; from then on a new session, transaction or
//! [`health_check`](crate::Database::health_check) is refused with [`Error::Unavailable`](crate::Error::Unavailable). Every
//! mode ends with the state [`Closed`](crate::DatabaseState::Closed) and the pool closed: a
//! connection that comes back later is closed, never reused.
//!
//! | mode | sessions in flight | idle connections | returns |
//! |---|---|---|---|
//! | [`Graceful`](DrainMode::Graceful) | waited for, up to the timeout | closed once nothing is in flight (or at the timeout) | when all is closed, or at the timeout |
//! | [`Immediate`](DrainMode::Immediate) | not waited for; their connections are closed when they come back | closed now¹ | once the idle connections are closed |
//! | [`Force`](DrainMode::Force) | cancelled (see below), then waited for up to the timeout | closed now | when all is closed, or at the timeout |
//!
//! ¹ The connections idle at that moment. One that a session left unclean an instant before (a
//! reply still owed), and that the pool is still resetting before pooling it again, comes back to
//! the closed pool afterwards and is closed; with no session in flight the drain waits for it,
//! otherwise it is closed when it comes back.
//!
//! # What Force guarantees
//!
//! A statement on a pooled connection cannot be aborted from outside the task that owns it, so
//! Force works through the tasks themselves. In order, it:
//!
//! 1. marks the pool closed, so every connection that comes back from now on is closed instead of
//!    pooled (and a connection whose statement was abandoned half-way is never handed out again);
//! 2. fires the database's cancellation signal. Work running inside
//!    [`Database::cancellable`](crate::Database::cancellable) or
//!    [`Database::transaction`](crate::Database::transaction) is dropped where it stands and fails
//!    with [`Error::Unavailable`](crate::Error::Unavailable) (state `closed`); so is every generated
//!    repository call, and [`create_table`](crate::Database::create_table)/`drop_table`, on every
//!    backend (a write that may have been sent fails with
//!    [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown)). Dropping it drops its connection
//!    mid-statement, which closes the socket. A transaction there is never committed: dbkit sends no `COMMIT`, and
//!    PostgreSQL, MariaDB and SQLite all roll back a transaction whose connection closes;
//! 3. makes [`Transaction::commit`](crate::Transaction::commit) refuse (it rolls back and returns
//!    [`Error::Unavailable`](crate::Error::Unavailable)) for every transaction still open, wherever it is held.
//!
//! What it cannot do: a statement that a task runs on a [`Session`](crate::Session) or
//! [`Transaction`](crate::Transaction) it holds *outside* `cancellable` is not interrupted; the
//! session stays in flight until the task drops it, and Force waits for that up to its timeout.
//! A server may also finish a statement that was already running when its client went away
//! (PostgreSQL notices at its next read or write, or with `client_connection_check_interval`); its
//! transaction still rolls back. dbkit does not call `pg_terminate_backend`/`KILL`: finding the
//! server-side id of each pooled connection costs a query per session, and the socket close
//! already gives the guarantee that matters, that nothing half-written is committed.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
//! use std::time::Duration;
//! use dbkit_runtime::{Database, DatabaseState, DrainMode, Error};
//!
//! let db = Database::connect("sqlite::memory:").await?;
//! let report = db.drain(DrainMode::Graceful, Duration::from_secs(5)).await;
//! assert!(report.finished_within_timeout);
//! assert_eq!(report.at_end.sessions_in_flight, 0);
//! assert_eq!(db.state(), DatabaseState::Closed);
//! assert!(matches!(db.session::<sqlx::Sqlite>().await, Err(Error::Unavailable { .. })));
//! # Ok(()) }
//! ```

pub(crate) mod tracker;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use self::tracker::DatabaseState;
#[cfg(feature = "_sql")]
use crate::engine::Engine;
#[cfg(feature = "_sql")]
use crate::engine::pool::SqlPool;
#[cfg(feature = "_sql")]
use crate::session::SqlDriver;
use crate::{Backend, Database};

/// How a drain treats the work in flight. See the [module docs](crate::drain) for the exact
/// guarantees of each.
///
/// ```
/// use dbkit_runtime::DrainMode;
/// assert_eq!(DrainMode::Graceful.to_string(), "graceful");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DrainMode {
    /// Refuse new sessions, wait for the ones in flight (up to the timeout), then close.
    Graceful,
    /// Refuse new sessions and close idle connections now; sessions in flight finish without being
    /// waited for, and their connections are closed when they come back.
    Immediate,
    /// Close everything now: refuse new sessions, close idle connections, cancel the work in flight
    /// (it fails, and its open transactions roll back), then wait for it to let go (up to the
    /// timeout).
    Force,
}

impl DrainMode {
    /// `graceful`, `immediate` or `force`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DrainMode::Graceful => "graceful",
            DrainMode::Immediate => "immediate",
            DrainMode::Force => "force",
        }
    }
}

/// `"graceful"`, `"immediate"` or `"force"`.
impl serde::Serialize for DrainMode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for DrainMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was in flight and open at one moment of a drain. In JSON:
/// `{"sessions_in_flight": 0, "connections_open": 1}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DrainCounts {
    /// Sessions and transactions handed out and not yet returned (including those still waiting
    /// for a connection).
    pub sessions_in_flight: usize,
    /// Connections open, in use or idle.
    pub connections_open: u32,
}

impl std::ops::Add for DrainCounts {
    type Output = DrainCounts;
    fn add(self, other: DrainCounts) -> DrainCounts {
        DrainCounts {
            sessions_in_flight: self.sessions_in_flight + other.sessions_in_flight,
            connections_open: self.connections_open + other.connections_open,
        }
    }
}

/// How draining one database went, from [`Database::drain`](crate::Database::drain).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use std::time::Duration;
/// use dbkit_runtime::{Database, DrainMode};
///
/// let db = Database::connect("sqlite::memory:").await?;
/// let report = db.drain(DrainMode::Immediate, Duration::from_secs(1)).await;
/// assert_eq!(report.mode, DrainMode::Immediate);
/// assert_eq!(report.at_end.connections_open, 0);
/// println!("{report}"); // sqlite: immediate drain, sessions in flight 0 -> 0, connections open 1 -> 0, …
/// # Ok(()) }
/// ```
///
/// It serializes as one of the `databases` of a [`DrainReport`] (see there): these fields, the
/// backend and mode as their lower-case names, and `elapsed` as `elapsed_ms`.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct DatabaseDrain {
    /// The database's name.
    pub name: String,
    /// The backend.
    pub backend: Backend,
    /// The mode it was drained in.
    pub mode: DrainMode,
    /// When the drain started (after the state became draining).
    pub at_start: DrainCounts,
    /// When the drain returned.
    pub at_end: DrainCounts,
    /// How long the drain took.
    #[serde(rename = "elapsed_ms", serialize_with = "crate::json::millis")]
    pub elapsed: Duration,
    /// Whether the drain did all its mode waits for before the timeout: for `Graceful` and `Force`,
    /// every session released and every connection closed; for `Immediate`, the idle connections
    /// closed.
    pub finished_within_timeout: bool,
}

impl fmt::Display for DatabaseDrain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} drain, ", self.name, self.mode)?;
        write_counts(f, self.at_start, self.at_end, self.elapsed, self.finished_within_timeout)
    }
}

fn write_counts(
    f: &mut fmt::Formatter<'_>,
    start: DrainCounts,
    end: DrainCounts,
    elapsed: Duration,
    ok: bool,
) -> fmt::Result {
    write!(
        f,
        "sessions in flight {} -> {}, connections open {} -> {}, {:.3}s, {}",
        start.sessions_in_flight,
        end.sessions_in_flight,
        start.connections_open,
        end.connections_open,
        elapsed.as_secs_f64(),
        if ok { "finished within the timeout" } else { "timed out" }
    )
}

/// How draining every database went, from
/// [`DatabaseManager::drain`](crate::DatabaseManager::drain): the totals, and one
/// [`DatabaseDrain`] per database.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use std::time::Duration;
/// use dbkit_runtime::{DatabaseConfig, DatabaseManager, DrainMode};
///
/// let manager = DatabaseManager::new();
/// manager.register("main", DatabaseConfig::sqlite_memory())?;
/// manager.connect_all().await?;
/// let report = manager.drain(DrainMode::Graceful, Duration::from_secs(5)).await;
/// assert!(report.finished_within_timeout);
/// assert_eq!(report.get("main").unwrap().at_end.connections_open, 0);
/// # Ok(()) }
/// ```
///
/// It implements `serde::Serialize`, for a shutdown log or an admin endpoint; durations are
/// milliseconds (to the microsecond) in a key that says so:
///
/// ```json
/// {
///   "mode": "graceful",
///   "at_start": { "sessions_in_flight": 1, "connections_open": 2 },
///   "at_end": { "sessions_in_flight": 0, "connections_open": 0 },
///   "elapsed_ms": 12.345,
///   "finished_within_timeout": true,
///   "databases": [
///     {
///       "name": "main", "backend": "postgres", "mode": "graceful",
///       "at_start": { "sessions_in_flight": 1, "connections_open": 2 },
///       "at_end": { "sessions_in_flight": 0, "connections_open": 0 },
///       "elapsed_ms": 12.3, "finished_within_timeout": true
///     }
///   ]
/// }
/// ```
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct DrainReport {
    /// The mode every database was drained in.
    pub mode: DrainMode,
    /// The sum over the databases when the drain started.
    pub at_start: DrainCounts,
    /// The sum over the databases when the drain returned.
    pub at_end: DrainCounts,
    /// How long the drain took (the databases drain at the same time).
    #[serde(rename = "elapsed_ms", serialize_with = "crate::json::millis")]
    pub elapsed: Duration,
    /// Whether every database finished within the timeout.
    pub finished_within_timeout: bool,
    /// One entry per connected database, by name.
    pub databases: Vec<DatabaseDrain>,
}

impl DrainReport {
    pub(crate) fn new(mode: DrainMode, elapsed: Duration, databases: Vec<DatabaseDrain>) -> Self {
        DrainReport {
            mode,
            at_start: databases.iter().map(|d| d.at_start).fold(DrainCounts::default(), |a, b| a + b),
            at_end: databases.iter().map(|d| d.at_end).fold(DrainCounts::default(), |a, b| a + b),
            elapsed,
            finished_within_timeout: databases.iter().all(|d| d.finished_within_timeout),
            databases,
        }
    }

    /// The entry for `name`.
    pub fn get(&self, name: &str) -> Option<&DatabaseDrain> {
        self.databases.iter().find(|d| d.name == name)
    }
}

/// One line of totals, then one line per database.
impl fmt::Display for DrainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} drain of {} database(s): ", self.mode, self.databases.len())?;
        write_counts(f, self.at_start, self.at_end, self.elapsed, self.finished_within_timeout)?;
        for database in &self.databases {
            write!(f, "\n  {database}")?;
        }
        Ok(())
    }
}

/// How long closing the idle connections may take when the drain's own deadline has already passed
/// (a graceful drain that timed out still closes them, briefly).
const IDLE_CLOSE_GRACE: Duration = Duration::from_millis(250);

impl Database {
    /// Drains this database: see [`DrainMode`] and the [`drain`](crate::drain) module for what each
    /// mode guarantees. The state becomes [`DatabaseState::Draining`] before anything else, and
    /// [`DatabaseState::Closed`] when the drain returns; the report says what was in flight and
    /// open at the start and at the end, how long it took, and whether it finished within
    /// `timeout`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use std::time::Duration;
    /// use dbkit_runtime::{Database, DrainMode};
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// let session = db.session::<sqlx::Sqlite>().await?;
    /// let worker = tokio::spawn(async move {
    ///     tokio::time::sleep(Duration::from_millis(50)).await;
    ///     drop(session); // the in-flight work finishes
    /// });
    /// let report = db.drain(DrainMode::Graceful, Duration::from_secs(5)).await;
    /// assert_eq!(report.at_start.sessions_in_flight, 1);
    /// assert_eq!(report.at_end.sessions_in_flight, 0);
    /// assert!(report.finished_within_timeout);
    /// # worker.await.unwrap();
    /// # Ok(()) }
    /// ```
    pub async fn drain(&self, mode: DrainMode, timeout: Duration) -> DatabaseDrain {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + timeout;
        let tracker = self.tracker();
        // Before the first await, so a caller that drains several databases at once can rely on all
        // of them reporting draining before any waits.
        tracker.begin_drain();
        let at_start = counts(self);
        tracing::info!(database = %self.name(), %mode, timeout_ms = timeout.as_millis() as u64,
            sessions_in_flight = at_start.sessions_in_flight, connections_open = at_start.connections_open,
            "drain started");

        if mode != DrainMode::Force {
            tracker.announce_drain();
        }
        let finished_within_timeout = match mode {
            DrainMode::Graceful => {
                let released = tokio::time::timeout_at(deadline, tracker.wait_idle()).await.is_ok();
                let mut closing = Closing::start(self);
                let idle_closed = closing.close_idle(deadline).await;
                // Past the timeout, stragglers are left to finish on their own (like `Immediate`):
                // waiting for the pool would wait for them.
                released && idle_closed && closing.wait_pool(deadline).await
            }
            DrainMode::Immediate => {
                let mut closing = Closing::start(self);
                let idle_closed = closing.close_idle(deadline).await;
                // With nothing in flight, the pool's close waits only for connections released an
                // instant ago that were being reset (footnote ¹): cheap, so wait for them.
                idle_closed && (tracker.in_flight() > 0 || closing.wait_pool(deadline).await)
            }
            DrainMode::Force => {
                // Pool first, then the signal: a connection dropped by cancelled work must find the
                // pool closed, or the pool would reset it and pool it again.
                let mut closing = Closing::start(self);
                tracker.cancel();
                tracker.announce_drain();
                let idle_closed = closing.close_idle(deadline).await;
                let released = tokio::time::timeout_at(deadline, tracker.wait_idle()).await.is_ok();
                idle_closed && released && closing.wait_pool(deadline).await
            }
        };
        tracker.set_state(DatabaseState::Closed);
        // The replicas' pools close too: their idle connections now, the rest as they come back.
        if let Some(replicas) = self.replicas() {
            replicas.start_close();
        }

        let report = DatabaseDrain {
            name: self.name().to_owned(),
            backend: self.backend(),
            mode,
            at_start,
            at_end: counts(self),
            elapsed: started.elapsed(),
            finished_within_timeout,
        };
        tracker.telemetry.drained(mode.as_str(), report.elapsed);
        if report.finished_within_timeout {
            tracing::info!(database = %report.name, %mode, elapsed_ms = report.elapsed.as_millis() as u64,
                sessions_in_flight = report.at_end.sessions_in_flight,
                connections_open = report.at_end.connections_open, "drain finished");
        } else {
            tracing::warn!(database = %report.name, %mode, elapsed_ms = report.elapsed.as_millis() as u64,
                sessions_in_flight = report.at_end.sessions_in_flight,
                connections_open = report.at_end.connections_open, "drain timed out");
        }
        report
    }
}

fn counts(db: &Database) -> DrainCounts {
    DrainCounts { sessions_in_flight: db.sessions_in_flight(), connections_open: db.connections_open() }
}

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A pool's closing, started: its idle connections taken out, the pool marked closed, and its own
/// close running in the background.
struct Closing {
    /// Closes the idle connections that were taken out of the pool.
    idle: BoxFuture,
    /// The pool's close, which completes once every connection in use has come back and closed.
    pool: tokio::task::JoinHandle<()>,
}

impl Closing {
    fn start(db: &Database) -> Closing {
        match db.engine() {
            #[cfg(feature = "sqlite")]
            Engine::Sqlite(e) => {
                // The native engine's readers and free writer close with the pool's idle connections;
                // a writer a unit of work holds, once the unit is done — as the pool closes a
                // connection when it comes back.
                let mut closing = Closing::start_pool(&e.pool);
                let (native, idle) = (e.native.clone(), closing.idle);
                closing.idle = Box::pin(async move {
                    native.close_idle();
                    idle.await;
                });
                let (native, pool) = (e.native.clone(), closing.pool);
                closing.pool = tokio::spawn(async move {
                    let _ = pool.await;
                    native.close_writer().await;
                });
                closing
            }
            #[cfg(feature = "postgres")]
            Engine::Postgres(pool) => Closing::start_pool(pool),
            #[cfg(feature = "mysql")]
            Engine::MySql(pool) => Closing::start_pool(pool),
            // ClickHouse (HTTP, stateless between requests) and Oracle have no idle connections
            // dbkit can take out; their engine's own close runs in the background.
            #[allow(unreachable_patterns)] // reachable with the clickhouse or oracle feature
            engine => {
                let engine = engine.clone();
                Closing { idle: Box::pin(async {}), pool: tokio::spawn(async move { engine.close().await }) }
            }
        }
    }

    #[cfg(feature = "_sql")]
    fn start_pool<DB: SqlDriver>(pool: &SqlPool<DB>) -> Closing {
        // Take the idle connections out while the pool is still open, to close them here, where
        // their closing can be waited for with its own deadline.
        let idle = pool.take_idle();
        // From here on `acquire` fails, and a connection that comes back is closed instead of
        // pooled; waiting for them all runs in the background.
        pool.close();
        let background = pool.clone();
        let pool = tokio::spawn(async move { background.closed().await });
        let idle: BoxFuture = Box::pin(async move {
            futures_util::future::join_all(idle.into_iter().map(|conn| conn.close())).await;
        });
        Closing { idle, pool }
    }

    /// Closes the idle connections, by `deadline` or, if that has passed, within a short grace.
    /// Whether they all closed in time.
    async fn close_idle(&mut self, deadline: tokio::time::Instant) -> bool {
        let limit = deadline.max(tokio::time::Instant::now() + IDLE_CLOSE_GRACE);
        let closed = tokio::time::timeout_at(limit, &mut self.idle).await.is_ok();
        closed && tokio::time::Instant::now() <= deadline
    }

    /// Waits, until `deadline`, for the pool's close to finish. Whether it did.
    async fn wait_pool(self, deadline: tokio::time::Instant) -> bool {
        matches!(tokio::time::timeout_at(deadline, self.pool).await, Ok(Ok(())))
    }
}
