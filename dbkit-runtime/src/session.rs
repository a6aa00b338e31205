//! Sessions: a pooled connection handed out by a [`Database`](crate::Database), counted while it
//! is in use so that draining knows what is in flight.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use tokio::sync::Notify;

use crate::{Backend, Error, Result};

const OPEN: u8 = 0;
const DRAINING: u8 = 1;
const CLOSED: u8 = 2;

/// Whether a database hands out sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseState {
    /// Accepting work.
    Open,
    /// A drain has started: no new sessions; in-flight ones may finish.
    Draining,
    /// Closed: no sessions, no connections.
    Closed,
}

impl DatabaseState {
    /// `open`, `draining` or `closed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DatabaseState::Open => "open",
            DatabaseState::Draining => "draining",
            DatabaseState::Closed => "closed",
        }
    }
}

impl fmt::Display for DatabaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts the sessions in use, holds the open/draining/closed state, and carries the
/// cancellation signal a [`DrainMode::Force`](crate::DrainMode::Force) drain fires.
#[derive(Debug)]
pub(crate) struct SessionTracker {
    /// The database's name, for the errors a refused or cancelled session gets.
    database: String,
    in_flight: AtomicUsize,
    state: AtomicU8,
    /// Woken whenever the in-flight count drops to zero.
    idle: Notify,
    /// Set once, by a force drain; never cleared (a drained database is not reopened).
    cancelled: AtomicBool,
    /// Woken when `cancelled` is set.
    cancel: Notify,
}

// `in_flight` and `state` are only touched with `SeqCst`: `enter` adds to the count and then reads
// the state, a drain sets the state and then reads the count, and only a single total order of
// those four operations guarantees that at least one side sees the other.
impl SessionTracker {
    pub(crate) fn new(database: &str) -> Self {
        SessionTracker {
            database: database.to_owned(),
            in_flight: AtomicUsize::new(0),
            state: AtomicU8::new(OPEN),
            idle: Notify::new(),
            cancelled: AtomicBool::new(false),
            cancel: Notify::new(),
        }
    }

    pub(crate) fn state(&self) -> DatabaseState {
        match self.state.load(Ordering::SeqCst) {
            OPEN => DatabaseState::Open,
            DRAINING => DatabaseState::Draining,
            _ => DatabaseState::Closed,
        }
    }

    pub(crate) fn set_state(&self, state: DatabaseState) {
        let value = match state {
            DatabaseState::Open => OPEN,
            DatabaseState::Draining => DRAINING,
            DatabaseState::Closed => CLOSED,
        };
        self.state.store(value, Ordering::SeqCst);
    }

    /// Open becomes draining; draining and closed stay as they are. From here on [`enter`]
    /// refuses, and health reports draining.
    ///
    /// [`enter`]: SessionTracker::enter
    pub(crate) fn begin_drain(&self) {
        let _ = self.state.compare_exchange(OPEN, DRAINING, Ordering::SeqCst, Ordering::SeqCst);
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Counts a new session, unless the database no longer hands them out. `database` names it in
    /// the error.
    pub(crate) fn enter(self: &Arc<Self>, database: &str) -> Result<InFlight> {
        // Count first, then check: a drain that flips the state after our check still sees us in
        // the count, so it never closes the pool under a session it did not know about.
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight { tracker: Arc::clone(self) };
        match self.state() {
            DatabaseState::Open => Ok(guard),
            state => Err(Error::Unavailable { database: database.to_owned(), state: state.as_str() }),
        }
    }

    /// The error for work this database no longer does: a new session once a drain has started,
    /// or work a force drain cancelled (reported as `closed`: the database will not do it again).
    pub(crate) fn unavailable(&self, state: DatabaseState) -> Error {
        Error::Unavailable { database: self.database.clone(), state: state.as_str() }
    }

    /// Waits until no session is in flight.
    pub(crate) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Fires the cancellation signal: [`cancelled`](SessionTracker::cancelled) completes for every
    /// waiter, now and later.
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.cancel.notify_waiters();
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Completes once a force drain has fired the cancellation signal.
    pub(crate) async fn cancelled(&self) {
        loop {
            // A `Notified` is registered as soon as it is created, so a `cancel` between the
            // check and the await still wakes it.
            let notified = self.cancel.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// Held while a session is in use; its drop is what a drain waits for.
#[derive(Debug)]
pub(crate) struct InFlight {
    tracker: Arc<SessionTracker>,
}

impl InFlight {
    /// The error to give instead of committing, once a force drain has fired; `None` before.
    #[cfg(feature = "_sql")]
    fn refuse_commit(&self) -> Option<Error> {
        self.tracker.is_cancelled().then(|| self.tracker.unavailable(DatabaseState::Closed))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.tracker.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.tracker.idle.notify_waiters();
        }
    }
}

/// A sqlx database dbkit can run: SQLite, PostgreSQL or MySQL.
///
/// Implemented for `sqlx::Sqlite`, `sqlx::Postgres` and `sqlx::MySql` when their features are on;
/// sealed.
#[cfg(feature = "_sql")]
pub trait SqlDriver: sqlx::Database + sealed::Sealed {
    /// The backend this driver talks to.
    const BACKEND: Backend;

    #[doc(hidden)]
    fn pool(engine: &crate::engine::Engine) -> Option<&sqlx::Pool<Self>>;
}

#[cfg(feature = "_sql")]
mod sealed {
    pub trait Sealed {}
}

#[cfg(feature = "sqlite")]
impl sealed::Sealed for sqlx::Sqlite {}
#[cfg(feature = "sqlite")]
impl SqlDriver for sqlx::Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    fn pool(engine: &crate::engine::Engine) -> Option<&sqlx::Pool<Self>> {
        #[allow(unreachable_patterns)]
        match engine {
            crate::engine::Engine::Sqlite(p) => Some(p),
            _ => None,
        }
    }
}

#[cfg(feature = "postgres")]
impl sealed::Sealed for sqlx::Postgres {}
#[cfg(feature = "postgres")]
impl SqlDriver for sqlx::Postgres {
    const BACKEND: Backend = Backend::Postgres;
    fn pool(engine: &crate::engine::Engine) -> Option<&sqlx::Pool<Self>> {
        #[allow(unreachable_patterns)]
        match engine {
            crate::engine::Engine::Postgres(p) => Some(p),
            _ => None,
        }
    }
}

#[cfg(feature = "mysql")]
impl sealed::Sealed for sqlx::MySql {}
#[cfg(feature = "mysql")]
impl SqlDriver for sqlx::MySql {
    const BACKEND: Backend = Backend::MySql;
    fn pool(engine: &crate::engine::Engine) -> Option<&sqlx::Pool<Self>> {
        #[allow(unreachable_patterns)]
        match engine {
            crate::engine::Engine::MySql(p) => Some(p),
            _ => None,
        }
    }
}

/// A pooled connection in use, from [`Database::session`](crate::Database::session).
///
/// Dereferences to the driver's connection, so `&mut *session` is a sqlx executor. The connection
/// goes back to the pool when the session is dropped (or, once the database is draining, is
/// closed).
///
/// A session is counted as in flight until it is dropped: a [graceful drain](crate::DrainMode)
/// waits for it. dbkit cannot interrupt a statement on a session another task holds; work that
/// should stop when the database is force-drained runs inside
/// [`Database::cancellable`](crate::Database::cancellable).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use dbkit_runtime::Database;
/// let db = Database::connect("sqlite::memory:").await?;
/// let mut session = db.session::<sqlx::Sqlite>().await?;
/// let two: i64 = sqlx::query_scalar("SELECT 1 + 1").fetch_one(&mut *session).await?;
/// assert_eq!(two, 2);
/// # Ok(()) }
/// ```
#[cfg(feature = "_sql")]
pub struct Session<DB: SqlDriver> {
    conn: sqlx::pool::PoolConnection<DB>,
    // Declared after `conn`, so dropped after it: the count falls only once the connection is back.
    _in_flight: InFlight,
}

#[cfg(feature = "_sql")]
impl<DB: SqlDriver> Session<DB> {
    pub(crate) fn new(conn: sqlx::pool::PoolConnection<DB>, in_flight: InFlight) -> Self {
        Session { conn, _in_flight: in_flight }
    }
}

#[cfg(feature = "_sql")]
impl<DB: SqlDriver> Deref for Session<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.conn
    }
}

#[cfg(feature = "_sql")]
impl<DB: SqlDriver> DerefMut for Session<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }
}

#[cfg(feature = "_sql")]
impl<DB: SqlDriver> fmt::Debug for Session<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("backend", &DB::BACKEND).finish_non_exhaustive()
    }
}

/// A database transaction, from [`Database::begin`](crate::Database::begin).
///
/// [`commit`](Transaction::commit) makes its writes durable; [`rollback`](Transaction::rollback), an
/// error that drops it, or a plain drop undoes them. Either way the connection goes back to the
/// pool (or, once the database is draining, is closed). Dereferences to the driver's connection, so
/// `&mut *tx` is a sqlx executor.
///
/// Once a [`DrainMode::Force`](crate::DrainMode::Force) drain has started, `commit` refuses: it
/// rolls back and returns [`Error::Unavailable`], so nothing is committed through dbkit after a
/// force drain begins.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use dbkit_runtime::Database;
/// let db = Database::connect("sqlite::memory:").await?;
/// let mut tx = db.begin::<sqlx::Sqlite>().await?;
/// sqlx::query("CREATE TABLE t (n INTEGER)").execute(&mut *tx).await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
#[cfg(feature = "_sql")]
pub struct Transaction<DB: SqlDriver> {
    tx: sqlx::Transaction<'static, DB>,
    // Declared after `tx`, so dropped after it: the count falls only once the connection is back.
    in_flight: InFlight,
}

#[cfg(feature = "_sql")]
impl<DB: SqlDriver> Transaction<DB> {
    pub(crate) fn new(tx: sqlx::Transaction<'static, DB>, in_flight: InFlight) -> Self {
        Transaction { tx, in_flight }
    }

    /// Commits the transaction; after a force drain has started, rolls it back instead and returns
    /// [`Error::Unavailable`] (state `closed`).
    ///
    /// A commit that has already been sent when the force drain starts is not interrupted: its
    /// outcome would otherwise be unknown.
    pub async fn commit(self) -> Result<()> {
        if let Some(refused) = self.in_flight.refuse_commit() {
            // Roll back now rather than on drop, so the server releases the locks at once; a failed
            // rollback changes nothing (the server also rolls back when the connection closes).
            if let Err(error) = self.tx.rollback().await {
                tracing::debug!(%error, "rollback after a force drain failed");
            }
            return Err(refused);
        }
        Ok(self.tx.commit().await?)
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}

#[cfg(feature = "_sql")]
impl<DB: SqlDriver> Deref for Transaction<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

#[cfg(feature = "_sql")]
impl<DB: SqlDriver> DerefMut for Transaction<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

#[cfg(feature = "_sql")]
impl<DB: SqlDriver> fmt::Debug for Transaction<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction").field("backend", &DB::BACKEND).finish_non_exhaustive()
    }
}
