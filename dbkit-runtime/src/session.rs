//! SQL sessions: a pooled sqlx connection handed out by a [`Database`](crate::Database)
//! ([`Session`]) or a transaction on one ([`Transaction`]), each counted as in flight while in use
//! so that draining knows what is running; and the sqlx drivers dbkit runs ([`SqlDriver`]).
//!
//! *Features `sqlite`, `postgres`, `mysql`.*

use std::fmt;
use std::ops::{Deref, DerefMut};

use sqlx_core::transaction::TransactionManager;

use crate::drain::tracker::InFlight;
use crate::engine::Engine;
use crate::engine::pool::{PoolConnection, SqlPool};
use crate::{Backend, Result};

/// A sqlx database dbkit can run: SQLite, PostgreSQL or MySQL.
///
/// Implemented for `sqlx::Sqlite`, `sqlx::Postgres` and `sqlx::MySql` when their features are on;
/// sealed.
pub trait SqlDriver: sqlx::Database + sealed::Sealed {
    /// The backend this driver talks to.
    const BACKEND: Backend;

    #[doc(hidden)]
    fn pool(engine: &Engine) -> Option<&SqlPool<Self>>;
}

mod sealed {
    pub trait Sealed {}
}

#[cfg(feature = "sqlite")]
impl sealed::Sealed for sqlx::Sqlite {}
#[cfg(feature = "sqlite")]
impl SqlDriver for sqlx::Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    fn pool(engine: &Engine) -> Option<&SqlPool<Self>> {
        #[allow(unreachable_patterns)]
        match engine {
            Engine::Sqlite(e) => Some(&e.pool),
            _ => None,
        }
    }
}

#[cfg(feature = "postgres")]
impl sealed::Sealed for sqlx::Postgres {}
#[cfg(feature = "postgres")]
impl SqlDriver for sqlx::Postgres {
    const BACKEND: Backend = Backend::Postgres;
    fn pool(engine: &Engine) -> Option<&SqlPool<Self>> {
        #[allow(unreachable_patterns)]
        match engine {
            Engine::Postgres(p) => Some(p),
            _ => None,
        }
    }
}

#[cfg(feature = "mysql")]
impl sealed::Sealed for sqlx::MySql {}
#[cfg(feature = "mysql")]
impl SqlDriver for sqlx::MySql {
    const BACKEND: Backend = Backend::MySql;
    fn pool(engine: &Engine) -> Option<&SqlPool<Self>> {
        #[allow(unreachable_patterns)]
        match engine {
            Engine::MySql(p) => Some(p),
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
pub struct Session<DB: SqlDriver> {
    conn: PoolConnection<DB>,
    // Declared after `conn`, so dropped after it: the count falls only once the connection is back.
    in_flight: InFlight,
}

impl<DB: SqlDriver> Session<DB> {
    pub(crate) fn new(conn: PoolConnection<DB>, in_flight: InFlight) -> Self {
        Session { conn, in_flight }
    }

    /// Begins a transaction on this session's connection.
    pub(crate) async fn begin(mut self) -> Result<Transaction<DB>> {
        DB::TransactionManager::begin(&mut self.conn, None).await?;
        Ok(Transaction { session: self, open: true })
    }
}

impl<DB: SqlDriver> Deref for Session<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.conn
    }
}

impl<DB: SqlDriver> DerefMut for Session<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }
}

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
/// rolls back and returns [`Error::Unavailable`](crate::Error::Unavailable), so nothing is
/// committed through dbkit after a force drain begins.
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
pub struct Transaction<DB: SqlDriver> {
    session: Session<DB>,
    /// Begun and neither committed nor rolled back: a drop queues the `ROLLBACK`, which the pool
    /// sends before the connection is used again (or closes the connection).
    open: bool,
}

impl<DB: SqlDriver> Transaction<DB> {
    /// Commits the transaction; after a force drain has started, rolls it back instead and returns
    /// [`Error::Unavailable`](crate::Error::Unavailable) (state `closed`).
    ///
    /// A commit that has already been sent when the force drain starts is not interrupted: its
    /// outcome would otherwise be unknown.
    pub async fn commit(mut self) -> Result<()> {
        if let Some(refused) = self.session.in_flight.refuse_commit() {
            // Roll back now rather than on drop, so the server releases the locks at once; a failed
            // rollback changes nothing (the server also rolls back when the connection closes).
            if let Err(error) = self.rollback_now().await {
                tracing::debug!(%error, "rollback after a force drain failed");
            }
            return Err(refused);
        }
        DB::TransactionManager::commit(&mut self.session.conn).await?;
        self.open = false;
        Ok(())
    }

    /// Rolls the transaction back.
    pub async fn rollback(mut self) -> Result<()> {
        self.rollback_now().await
    }

    async fn rollback_now(&mut self) -> Result<()> {
        DB::TransactionManager::rollback(&mut self.session.conn).await?;
        self.open = false;
        Ok(())
    }
}

impl<DB: SqlDriver> Drop for Transaction<DB> {
    fn drop(&mut self) {
        if self.open {
            DB::TransactionManager::start_rollback(&mut self.session.conn);
        }
    }
}

impl<DB: SqlDriver> Deref for Transaction<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.session
    }
}

impl<DB: SqlDriver> DerefMut for Transaction<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.session
    }
}

impl<DB: SqlDriver> fmt::Debug for Transaction<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction").field("backend", &DB::BACKEND).finish_non_exhaustive()
    }
}
